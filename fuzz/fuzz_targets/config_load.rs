//! `config::load` on an arbitrary `--config FILE`, and on an arbitrary environment value.
//!
//! Any `Err` is fine (a bad file must be reported, with where); a panic is not.
//!
//! Input: the whole input is the file. Then, for the environment layer, the first byte picks
//! one of the known key paths (or an alias, a variable that is not a setting, or a misspelt
//! one) and the rest (lossy UTF-8) is that variable's value. A configuration that loads is also
//! rendered as `config check` does, which masks the credentials of every URL in it.
//!
//! Inputs deep in `[`, `{` and `- ` exercise the nesting check that runs before serde_yaml
//! (`config::check_depth`); seeds are in the corpus. That check is a hand-written walk that must
//! never see less nesting than libyaml: every input is also run through libyaml's own event
//! parser (`support/libyaml_depth.rs`) and a walk that passes a document libyaml nests deeper
//! than `config::MAX_DEPTH` is a crash.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wiretop::config::{
    check_depth, deepest_nesting, env_var_for, leaf_paths, load, render_check, ConfigError,
    Effective, LoadOptions, MAX_DEPTH, NON_CONFIG_VARIABLES,
};

#[path = "support/libyaml_depth.rs"]
mod libyaml_depth;
use wiretop::sample::SamplerSettings;

/// One file per fuzzing process, rewritten for every input.
fn config_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        std::env::temp_dir().join(format!("wiretop-fuzz-config-{}.yaml", std::process::id()))
    })
}

/// Every configuration key's environment variable, the `WIRETOP_API_KEY` alias, one variable
/// that is not a setting and one misspelt (an error, never a panic).
fn env_vars() -> &'static [String] {
    static VARS: OnceLock<Vec<String>> = OnceLock::new();
    VARS.get_or_init(|| {
        let mut vars: Vec<String> = leaf_paths().iter().map(|p| env_var_for(p)).collect();
        vars.push("WIRETOP_API_KEY".to_owned());
        vars.push(NON_CONFIG_VARIABLES[0].0.to_owned());
        vars.push("WIRETOP_PROCES_AGENT_INTERVAL".to_owned());
        vars
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // The walk must never see less nesting than libyaml does (up to libyaml's first
        // error): compared exactly, so that small inputs find what a deep one would exploit.
        let (libyaml, at) = libyaml_depth::deepest(text);
        let walk = deepest_nesting(text);
        assert!(
            walk >= libyaml,
            "the nesting walk sees {walk} levels where libyaml sees {libyaml} (at byte {at})"
        );
        if check_depth(text).is_ok() {
            assert!(libyaml <= MAX_DEPTH, "check_depth passed {libyaml} levels");
        }
    }
    let file = config_file();
    std::fs::write(file, data).expect("the fuzz config file can be written");
    let from_file = LoadOptions {
        explicit_file: Some(file.clone()),
        ..Default::default()
    };
    check(load(&from_file));

    let Some((&selector, value)) = data.split_first() else {
        return;
    };
    let vars = env_vars();
    let var = vars[usize::from(selector) % vars.len()].clone();
    let from_env = LoadOptions {
        env: vec![(var, String::from_utf8_lossy(value).into_owned())],
        ..Default::default()
    };
    check(load(&from_env));
});

/// A configuration that loads is one wiretop can start with: its interval is in range and its
/// sensitive words build a scrubber (the binary builds one from them at start).
fn check(result: Result<Effective, ConfigError>) {
    let effective = match result {
        Ok(effective) => effective,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let _ = render_check(&effective);
    let agent = &effective.config.process_agent;
    let interval = agent.interval.0;
    assert!(
        (Duration::from_millis(100)..=Duration::from_secs(3600)).contains(&interval),
        "loaded interval {interval:?} outside 100ms..=1h"
    );
    assert!(agent.max_per_minute.0 >= 1, "loaded max_per_minute 0");
    // The settings the binary builds at start: they fail only if the scrubber refuses a word.
    if let Err(error) = SamplerSettings::from_config(&effective.config, None) {
        panic!("loaded sensitive words the scrubber refuses: {error}");
    }
}
