//! The layers against real files: each bad input's exact message shape, and who overrides whom.

use std::path::PathBuf;

use crate::config::{load, render_check, ConfigError, LoadOptions, Source};

/// A file in a fresh temporary directory, removed with it.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "wiretop-config-{}-{}",
            std::process::id(),
            name.replace('/', "_")
        ));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("config.yaml");
        std::fs::write(&path, text).unwrap();
        TempFile { dir, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn load_text(name: &str, text: &str) -> (Result<crate::config::Effective, ConfigError>, String) {
    let file = TempFile::new(name, text);
    let options = LoadOptions {
        explicit_file: Some(file.path.clone()),
        ..Default::default()
    };
    (load(&options), file.path.display().to_string())
}

/// Each bad input: the exact message, with file:line:column and the key path.
#[test]
fn bad_inputs_name_file_line_column_key_and_expectation() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "malformed",
            "process_agent:\n  interval: \"2s\n",
            ":3:1: process_agent.interval: malformed YAML: found unexpected end of stream",
        ),
        (
            "wrong_type",
            "process_agent:\n  enabled: yes please\n",
            ":2:12: process_agent.enabled: invalid type: string, expected a boolean",
        ),
        (
            "interval_too_short",
            "process_agent:\n  interval: 50ms\n",
            ":2:13: process_agent.interval: `50ms` is below the minimum interval of 100ms",
        ),
        (
            "negative_rate",
            "process_agent:\n  max_per_minute: -5\n",
            ":2:3: process_agent.max_per_minute: invalid value: integer, expected a whole number of messages per minute from 1 to 4294967295",
        ),
        (
            "too_many_conversations",
            "uplink:\n  max_conversations: 1000000\n",
            ":2:3: uplink.max_conversations: invalid value: integer, expected a whole number of conversations from 0 to 100000",
        ),
        (
            "bad_regex",
            "process_agent:\n  exclude_patterns: ['ok', '(unclosed']\n",
            ":2:21: process_agent.exclude_patterns[1]: `(unclosed` is not a valid regular expression: unclosed group",
        ),
        (
            "misspelt_key",
            "tags: []\nprocess_agent:\n  intervl: 2s\n",
            ":3:3: process_agent.intervl: unknown key `intervl` (did you mean `interval`?); expected one of: enabled, interval,",
        ),
        (
            "misspelt_top_level_key",
            "tag: [env:prod]\n",
            ":1:1: tag: unknown key `tag` (did you mean `tags`?); expected one of: process_agent, tags, uplink, ui",
        ),
        (
            "bad_enum_value",
            "ui:\n  sort: cpux\n",
            ":2:9: ui.sort: unknown value `cpux` (did you mean `cpu`?)",
        ),
    ];
    for (name, text, expected) in cases {
        let (result, path) = load_text(name, text);
        let message = result.expect_err(name).to_string();
        assert!(
            message.starts_with(&format!("{path}{expected}")),
            "{name}:\n  got      {message}\n  expected {path}{expected}"
        );
    }
}

#[test]
fn bad_sensitive_word_is_reported_with_its_position() {
    let (result, path) = load_text(
        "bad_word",
        "process_agent:\n  custom_sensitive_words: ['ok_*', '*']\n",
    );
    let message = result.unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "{path}:2:27: process_agent.custom_sensitive_words[1]: "
        )),
        "{message}"
    );
    assert!(message.contains("\"*\""), "names the word: {message}");
}

#[test]
fn bad_tag_is_reported_with_its_position() {
    let (result, path) = load_text("bad_tag", "tags: [env:prod, 'has space']\n");
    let message = result.unwrap_err().to_string();
    assert_eq!(
        message,
        format!("{path}:1:7: tags[1]: tag `has space` contains whitespace or control characters")
    );
}

#[test]
fn missing_optional_file_is_silent_but_missing_explicit_file_is_an_error() {
    let options = LoadOptions {
        system_file: Some("/nonexistent/wiretop/config.yaml".into()),
        user_file: Some("/nonexistent/user/config.yaml".into()),
        ..Default::default()
    };
    assert!(load(&options).is_ok());
    let options = LoadOptions {
        explicit_file: Some("/nonexistent/x.yaml".into()),
        ..Default::default()
    };
    assert_eq!(
        load(&options).unwrap_err().to_string(),
        "/nonexistent/x.yaml: cannot read the configuration file: no such file"
    );
}

#[test]
fn unreadable_optional_file_is_an_error() {
    // A directory where the file should be cannot be read, whoever we are.
    let dir = std::env::temp_dir().join(format!("wiretop-config-dir-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("config.yaml")).unwrap();
    let options = LoadOptions {
        system_file: Some(dir.join("config.yaml")),
        ..Default::default()
    };
    let message = load(&options).unwrap_err().to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        message.contains("cannot read the configuration file"),
        "{message}"
    );
}

#[test]
fn layers_override_in_order_and_remember_their_source() {
    let system = TempFile::new(
        "system",
        "process_agent:\n  interval: 5s\n  scrub_args: false\ntags: [env:staging]\n",
    );
    let user = TempFile::new("user", "process_agent:\n  interval: 4s\n");
    let explicit = TempFile::new(
        "explicit",
        "process_agent:\n  interval: 3s\n  collect_connections: false\n",
    );
    let options = LoadOptions {
        system_file: Some(system.path.clone()),
        user_file: Some(user.path.clone()),
        explicit_file: Some(explicit.path.clone()),
        env: vec![
            ("WIRETOP_PROCESS_AGENT_INTERVAL".into(), "700ms".into()),
            ("WIRETOP_TAGS".into(), "env:prod, service:web".into()),
            ("WIRETOP_API_KEY".into(), "sentinel-key".into()),
        ],
        flags: vec![(
            "process_agent.collect_connections".into(),
            "true".into(),
            "--connections".into(),
        )],
    };
    let effective = load(&options).unwrap();
    let c = &effective.config;
    assert_eq!(
        c.process_agent.interval.0,
        std::time::Duration::from_millis(700),
        "env beats files"
    );
    assert!(c.process_agent.collect_connections, "flag beats the file");
    assert!(
        !c.process_agent.scrub_args,
        "the system file still counts where nothing overrides it"
    );
    assert_eq!(c.tag_strings(), vec!["env:prod", "service:web"]);
    assert_eq!(
        c.uplink.api_key.as_ref().map(|k| k.expose()),
        Some("sentinel-key")
    );
    let source = |key: &str| effective.leaves[key].1.clone();
    assert_eq!(
        source("process_agent.interval"),
        Source::Env("WIRETOP_PROCESS_AGENT_INTERVAL".into())
    );
    assert_eq!(
        source("process_agent.scrub_args"),
        Source::File(system.path.clone())
    );
    assert_eq!(
        source("process_agent.collect_connections"),
        Source::Flag("--connections".into())
    );
    assert_eq!(source("ui.theme"), Source::Default);
}

#[test]
fn bad_environment_value_names_the_variable() {
    let options = LoadOptions {
        env: vec![("WIRETOP_PROCESS_AGENT_MAX_PER_MINUTE".into(), "-1".into())],
        ..Default::default()
    };
    let message = load(&options).unwrap_err().to_string();
    assert!(
        message.starts_with("environment variable WIRETOP_PROCESS_AGENT_MAX_PER_MINUTE: process_agent.max_per_minute: invalid value"),
        "{message}"
    );
}

#[test]
fn check_output_masks_the_api_key_and_names_sources() {
    let file = TempFile::new("secret", "uplink:\n  api_key: sentinel-file-key\n");
    let options = LoadOptions {
        explicit_file: Some(file.path.clone()),
        env: vec![("WIRETOP_PROCESS_AGENT_INTERVAL".into(), "5s".into())],
        ..Default::default()
    };
    let text = render_check(&load(&options).unwrap());
    assert!(!text.contains("sentinel"), "{text}");
    let key_line = text
        .lines()
        .find(|l| l.starts_with("uplink.api_key:"))
        .unwrap();
    assert!(key_line.contains("********") && key_line.contains(&file.path.display().to_string()));
    let interval = text
        .lines()
        .find(|l| l.starts_with("process_agent.interval:"))
        .unwrap();
    assert!(
        interval.contains("5s") && interval.contains("environment WIRETOP_PROCESS_AGENT_INTERVAL")
    );
    assert!(text
        .lines()
        .any(|l| l.starts_with("ui.theme:") && l.contains("# default")));
}

#[test]
fn empty_file_is_an_empty_layer() {
    let (result, _) = load_text("empty", "\n# nothing here\n");
    assert_eq!(result.unwrap().config, crate::config::Config::default());
}

#[test]
fn nesting_past_the_limit_names_where_it_was_passed() {
    let text = format!(
        "process_agent:\n  interval: 2s\ntags: {}{}\n",
        "[".repeat(70),
        "]".repeat(70)
    );
    let (result, path) = load_text("deep", &text);
    assert_eq!(
        result.unwrap_err().to_string(),
        format!("{path}:3:70: nested more than 64 levels deep, the limit (wiretop's own keys go 4 deep)")
    );
    // Brackets in quotes and comments are text, however many.
    let many = "[".repeat(500);
    let (result, _) = load_text(
        "deep_text",
        &format!("# {many}\nprocess_agent:\n  exclude_patterns: ['{many}x]']\n"),
    );
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("not a valid regular expression"),
        "{message}"
    );
}

#[test]
fn a_file_over_the_size_limit_or_not_utf8_is_refused_saying_why() {
    let big = format!(
        "# {}\n",
        "x".repeat(crate::files::CONFIG_FILE_LIMIT as usize)
    );
    let (result, path) = load_text("big", &big);
    assert_eq!(
        result.unwrap_err().to_string(),
        format!(
            "{path}: cannot read the configuration file: it is {} bytes, over the limit of 1 MiB",
            big.len()
        )
    );
    let file = TempFile::new("latin1", "");
    std::fs::write(&file.path, b"tags: [caf\xe9]\n").unwrap();
    let options = LoadOptions {
        explicit_file: Some(file.path.clone()),
        ..Default::default()
    };
    assert_eq!(
        load(&options).unwrap_err().to_string(),
        format!(
            "{}: cannot read the configuration file: it is not UTF-8 text (an invalid byte at line 1, column 11)",
            file.path.display()
        )
    );
}

#[test]
fn lists_that_are_compiled_hold_at_most_a_thousand_entries() {
    let entries = |n: usize| {
        (0..n)
            .map(|i| format!("    - 'p{i}'\n"))
            .collect::<String>()
    };
    for key in ["exclude_patterns", "custom_sensitive_words"] {
        let (result, _) = load_text(key, &format!("process_agent:\n  {key}:\n{}", entries(1000)));
        assert!(result.is_ok(), "{key}: 1000 entries are fine");
        let (result, path) =
            load_text(key, &format!("process_agent:\n  {key}:\n{}", entries(1001)));
        let message = result.unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "{path}:3:5: process_agent.{key}: more than 1000 entries (the limit)"
            )),
            "{message}"
        );
    }
}
