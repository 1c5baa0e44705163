//! Configuration as users meet it: files, environment and flags given to the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::process::Command;

use common::{Child, PYTHON};
use wiretop::model::Snapshot;

/// A scratch directory with a config file in it, removed afterwards.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("wiretop-cfg-it-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, text: &str) -> String {
        let path = self.0.join("config.yaml");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs wiretop with only the given WIRETOP_ variables and no user config file.
fn wiretop(
    scratch: &Scratch,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wiretop"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("WIRETOP_")) {
        command.env_remove(key);
    }
    let out = command
        .args(args)
        .env("XDG_CONFIG_HOME", &scratch.0)
        .envs(env.iter().copied())
        .output()
        .expect("wiretop runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_file_exits_2_naming_file_line_key_and_nothing_starts() {
    let scratch = Scratch::new("bad");
    let file = scratch.file("process_agent:\n  interval: 10ms\n");
    for args in [vec!["--config", &file, "snapshot"], vec!["--config", &file]] {
        let (code, stdout, stderr) = wiretop(&scratch, &args, &[]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stdout.is_empty(), "nothing ran: {stdout}");
        assert_eq!(
            stderr.trim(),
            format!("wiretop: configuration error: {file}:2:13: process_agent.interval: `10ms` is below the minimum interval of 100ms")
        );
    }
}

#[test]
fn misspelt_key_gets_a_did_you_mean() {
    let scratch = Scratch::new("misspelt");
    let file = scratch.file("process_agent:\n  colect_connections: false\n");
    let (code, _, stderr) = wiretop(&scratch, &["--config", &file, "config", "check"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains(&format!("{file}:2:3: process_agent.colect_connections: unknown key `colect_connections` (did you mean `collect_connections`?)")), "{stderr}");
}

#[test]
fn config_check_shows_sources_and_masks_the_api_key() {
    let scratch = Scratch::new("check");
    let file = scratch.file("process_agent:\n  interval: 5s\ntags: [env:staging]\n");
    let (code, stdout, stderr) = wiretop(
        &scratch,
        &["--config", &file, "--interval", "3s", "config", "check"],
        &[
            ("WIRETOP_API_KEY", "sentinel-api-key-7731"),
            ("WIRETOP_TAGS", "env:prod,service:web"),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !stdout.contains("sentinel") && !stderr.contains("sentinel"),
        "key never printed"
    );
    let line = |key: &str| check_line(&stdout, key);
    assert!(
        line("process_agent.interval").contains("3s")
            && line("process_agent.interval").contains("flag --interval")
    );
    assert!(line("tags").contains("env:prod") && line("tags").contains("environment WIRETOP_TAGS"));
    assert!(
        line("uplink.api_key").contains("********")
            && line("uplink.api_key").contains("WIRETOP_API_KEY")
    );
    assert!(line("ui.sort").contains("# default"));
}

/// The `key: value  # source` line of `config check` output for `key`.
fn check_line(stdout: &str, key: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} in {stdout}"))
        .to_owned()
}

#[test]
fn env_and_flags_override_the_file_in_snapshots() {
    let scratch = Scratch::new("override");
    let file = scratch.file("process_agent:\n  collect_connections: false\ntags: [from:file]\n");
    let (code, stdout, stderr) = wiretop(
        &scratch,
        &[
            "--config", &file, "snapshot", "--format", "json", "--pid", "1",
        ],
        &[("WIRETOP_TAGS", "env:prod,service:web")],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let snap: Snapshot = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        snap.host.tags,
        vec!["env:prod", "service:web"],
        "environment beats the file"
    );
    assert!(
        !snap.collection.connections_collected,
        "the file's setting holds where nothing overrides it"
    );

    let (_, stdout, _) = wiretop(
        &scratch,
        &["--config", &file, "--interval", "300ms", "snapshot"],
        &[],
    );
    let snap: Snapshot = serde_json::from_str(&stdout).unwrap();
    assert_eq!(snap.host.tags, vec!["from:file"]);
}

#[test]
fn secrets_never_reach_the_json_snapshot() {
    let scratch = Scratch::new("secrets");
    let mut child = Child::python(
        "import sys, time\nprint('ready', flush=True)\ntime.sleep(3600)",
        &[
            "--password=hunter2",
            "--db",
            "postgres://u:hunter3@localhost/x",
        ],
    );
    child.line();
    let (code, stdout, _) = wiretop(&scratch, &["snapshot", "--format", "json"], &[]);
    assert_eq!(code, Some(0));
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("hunter3"),
        "no secret in the JSON"
    );
    let snap: Snapshot = serde_json::from_str(&stdout).unwrap();
    let p = snap.process(child.pid()).expect("child listed");
    assert!(
        p.cmdline.contains(&"--password=********".to_owned()),
        "{:?}",
        p.cmdline
    );
    assert!(
        p.cmdline
            .contains(&"postgres://u:********@localhost/x".to_owned()),
        "{:?}",
        p.cmdline
    );
    assert_eq!(p.cmdline[0], PYTHON, "argv[0] untouched");
}

#[test]
fn strip_proc_arguments_keeps_only_the_program() {
    let scratch = Scratch::new("strip");
    let file = scratch.file("process_agent:\n  strip_proc_arguments: true\n");
    let mut child = Child::python(
        "import time\nprint('ready', flush=True)\ntime.sleep(3600)",
        &["--visible-flag"],
    );
    child.line();
    let pid = child.pid().to_string();
    let (_, stdout, _) = wiretop(
        &scratch,
        &["--config", &file, "snapshot", "--pid", &pid],
        &[],
    );
    let snap: Snapshot = serde_json::from_str(&stdout).unwrap();
    assert_eq!(snap.processes[0].cmdline, vec![PYTHON.to_owned()]);
}

#[test]
fn excluded_processes_are_left_out_and_counted() {
    let scratch = Scratch::new("exclude");
    let file = scratch.file("process_agent:\n  exclude_patterns: ['wiretop-exclude-me-[0-9]+']\n");
    let mut child = Child::python(
        "import time\nprint('ready', flush=True)\ntime.sleep(3600)",
        &["wiretop-exclude-me-42"],
    );
    child.line();
    let (code, stdout, stderr) = wiretop(&scratch, &["--config", &file, "snapshot"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let snap: Snapshot = serde_json::from_str(&stdout).unwrap();
    assert!(snap.process(child.pid()).is_none(), "excluded");
    assert!(snap.collection.excluded_processes >= 1);
}

#[test]
fn disabled_collection_is_explained_not_silent() {
    let scratch = Scratch::new("disabled");
    let (code, _, stderr) = wiretop(
        &scratch,
        &["snapshot"],
        &[("WIRETOP_PROCESS_AGENT_ENABLED", "false")],
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(
            "process_agent.enabled: false, from environment WIRETOP_PROCESS_AGENT_ENABLED"
        ),
        "{stderr}"
    );
}

#[test]
fn config_check_masks_credentials_and_secret_parameters_of_every_url() {
    let scratch = Scratch::new("urls");
    let file = scratch.file(
        "uplink:\n\
         \x20 endpoint: https://otlp-user:sentinel-pw-1@otlp.example.com:4318/v1?region=eu&token=sentinel-tok-2\n\
         \x20 proxy_url: http://proxy-user:sentinel-pw-3@proxy.internal:3128\n\
         \x20 headers: {Authorization: Bearer sentinel-hdr-4, X-Scope-OrgID: tenant-1}\n",
    );
    let (code, stdout, stderr) = wiretop(
        &scratch,
        &["--config", &file, "config", "check"],
        &[(
            "WIRETOP_UPLINK_REMOTE_CONFIG_URL",
            "https://sentinel-tok-5@config.example.com/wiretop?X-Amz-Signature=sentinel-sig-6&sig=sentinel-sig-7&api_key=sentinel-key-8&password=sentinel-pw-9&v=2",
        )],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !stdout.contains("sentinel") && !stderr.contains("sentinel"),
        "a secret was printed:\n{stdout}"
    );
    let line = |key: &str| check_line(&stdout, key);
    assert!(line("uplink.endpoint")
        .contains("https://otlp-user:********@otlp.example.com:4318/v1?region=eu&token=********"));
    assert!(line("uplink.proxy_url").contains("http://proxy-user:********@proxy.internal:3128"));
    let remote = line("uplink.remote_config_url");
    assert!(remote.contains(
        "https://********@config.example.com/wiretop?X-Amz-Signature=********&sig=********&api_key=********&password=********&v=2"
    ), "{remote}");
    assert!(remote.contains("# environment WIRETOP_UPLINK_REMOTE_CONFIG_URL"));
    assert!(line("uplink.headers.Authorization").contains("********"));
}

#[test]
fn a_misspelt_environment_variable_stops_wiretop_with_a_did_you_mean() {
    let scratch = Scratch::new("env-typo");
    let (code, stdout, stderr) = wiretop(
        &scratch,
        &["config", "check"],
        &[("WIRETOP_PROCES_AGENT_INTERVAL", "5s")],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("wiretop: configuration error: environment variable WIRETOP_PROCES_AGENT_INTERVAL: not a wiretop setting (did you mean `WIRETOP_PROCESS_AGENT_INTERVAL`?)"),
        "{stderr}"
    );
    // Variables wiretop reads for other purposes are no settings and no errors either.
    let (code, _, stderr) = wiretop(
        &scratch,
        &["config", "check"],
        &[("WIRETOP_LOG", "debug"), ("WIRETOP_CHURN_SECS", "60")],
    );
    assert_eq!(code, Some(0), "{stderr}");
}

/// Every WIRETOP_ variable the code, tests, benchmarks and CI scripts read is either a setting
/// or listed in config::NON_CONFIG_VARIABLES, so none of them stops wiretop as a typo.
#[test]
fn every_wiretop_variable_read_anywhere_is_known() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", ".ci", "fuzz/fuzz_targets"] {
        collect_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found the sources: {files:?}");
    let settings: Vec<String> = wiretop::config::leaf_paths()
        .iter()
        .map(|p| wiretop::config::env_var_for(p))
        .collect();
    let readers = [
        "var(\"",
        "var_os(\"",
        "try_from_env(\"",
        "env_number(\"",
        "env_flag(\"",
        "${",
        "$",
    ];
    let mut read = std::collections::BTreeSet::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for reader in readers {
            for (at, _) in text.match_indices(&format!("{reader}WIRETOP_")) {
                let name: String = text[at + reader.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                read.insert((name, file.display().to_string()));
            }
        }
    }
    let names: std::collections::BTreeSet<&String> = read.iter().map(|(name, _)| name).collect();
    assert!(
        names.len() >= 20 && names.contains(&"WIRETOP_LOG".to_owned()),
        "found the readers: {names:?}"
    );
    for (name, file) in read {
        let known = settings.contains(&name)
            || wiretop::config::ENV_ALIASES
                .iter()
                .any(|(alias, _)| *alias == name)
            || wiretop::config::NON_CONFIG_VARIABLES
                .iter()
                .any(|(known, _)| *known == name);
        assert!(
            known,
            "{file} reads {name}: add it to config::NON_CONFIG_VARIABLES"
        );
    }
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The limits leave room for real configurations: a file just under 1 MiB with 1,000 patterns,
/// 1,000 sensitive words, comments full of brackets and quotes, and thousands of tags loads.
/// The time it takes is printed (`-- --nocapture`), not asserted.
#[test]
fn a_configuration_just_under_the_size_limit_with_every_list_full_loads() {
    let scratch = Scratch::new("legit-1mib");
    let mut text = String::from("process_agent:\n  exclude_patterns:\n");
    for i in 0..wiretop::config::MAX_LIST_ENTRIES {
        text.push_str(&format!(
            "    - '^/opt/app-{i}/bin/[a-z]+ --flag=x'   # pattern {i} [not a list] {{nor a map}}\n"
        ));
    }
    text.push_str("  custom_sensitive_words:\n");
    for i in 0..wiretop::config::MAX_LIST_ENTRIES {
        text.push_str(&format!("    - 'x_secret_{i}_*'\n"));
    }
    text.push_str("uplink:\n  headers: {X-Scope-OrgID: tenant-1}\ntags:\n");
    let mut i = 0;
    while text.len() < (1 << 20) - 100 {
        text.push_str(&format!("  - team:t{i}   # tag {i} 'quoted' [bracket]\n"));
        i += 1;
    }
    let file = scratch.file(&text);
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = wiretop(&scratch, &["--config", &file, "config", "check"], &[]);
    println!(
        "{} bytes, {i} tags: config check took {:?}",
        text.len(),
        started.elapsed()
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("team:t{}", i - 1)));
}

#[test]
fn max_conversations_is_checked_and_shown_with_its_source() {
    let scratch = Scratch::new("conversations");
    let var = "WIRETOP_UPLINK_MAX_CONVERSATIONS";
    let (code, stdout, stderr) = wiretop(&scratch, &["config", "check"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // `key:   value   # source`, aligned in columns.
    let value = |line: &str| line.split_whitespace().nth(1).map(str::to_owned);
    let line = check_line(&stdout, "uplink.max_conversations");
    assert_eq!(value(&line).as_deref(), Some("1000"), "{line}");
    assert!(line.contains("# default"), "{line}");
    // 0 turns the per-connection series off: a valid choice, not a mistake.
    let (code, stdout, stderr) = wiretop(&scratch, &["config", "check"], &[(var, "0")]);
    assert_eq!(code, Some(0), "{stderr}");
    let line = check_line(&stdout, "uplink.max_conversations");
    assert_eq!(value(&line).as_deref(), Some("0"), "{line}");
    assert!(line.contains(&format!("environment {var}")), "{line}");
    for bad in ["100001", "-1", "many"] {
        let (code, stdout, stderr) = wiretop(&scratch, &["config", "check"], &[(var, bad)]);
        assert_eq!(code, Some(2), "{bad}: {stdout}");
        assert!(
            stderr.contains(&format!(
                "environment variable {var}: uplink.max_conversations: "
            )) && stderr.contains("expected a whole number of conversations"),
            "{bad}: {stderr}"
        );
    }
}
