//! The environment layer's names: `WIRETOP_` + a key path, a few aliases, and the variables
//! named `WIRETOP_*` that are not configuration at all.
//!
//! An unknown `WIRETOP_*` variable is an error, as an unknown key in a file is: a misspelt
//! `WIRETOP_PROCES_AGENT_INTERVAL` would otherwise be ignored without a word. Variables that
//! wiretop, its tests, benchmarks and CI scripts read for other purposes are listed once, in
//! [`NON_CONFIG_VARIABLES`], so they pass (a test keeps that list in step with the code that
//! reads them).

use std::collections::BTreeMap;

use super::error::{suggestion, ConfigError};

/// The environment variable that sets `path`.
pub fn env_var_for(path: &str) -> String {
    format!("WIRETOP_{}", path.replace('.', "_").to_uppercase())
}

/// Shorter names for the variables people set most: (variable, key path).
pub const ENV_ALIASES: [(&str, &str); 1] = [("WIRETOP_API_KEY", "uplink.api_key")];

/// Every `WIRETOP_*` variable that is not a configuration key, with who reads it.
pub const NON_CONFIG_VARIABLES: &[(&str, &str)] = &[
    (
        "WIRETOP_LOG",
        "log filter of `wiretop ship` (tracing EnvFilter syntax)",
    ),
    (
        "WIRETOP_REMOTE_CONFIG_POLL",
        "tests: poll the remote configuration this often",
    ),
    ("WIRETOP_TEST_PANIC", "tests: panic inside the explorer"),
    (
        "WIRETOP_UPDATE_SCHEMA",
        "tests: rewrite assets/snapshot.schema.json",
    ),
    (
        "WIRETOP_CHURN_SECS",
        "tests/churn.rs: how long the churn runs",
    ),
    (
        "WIRETOP_CHURN_LENIENT",
        "tests/churn.rs: a rate shortfall only warns",
    ),
    ("WIRETOP_BENCH_PROCS", "benches: processes"),
    ("WIRETOP_BENCH_CONNS", "benches: connections"),
    ("WIRETOP_BENCH_LISTENERS", "benches/uplink.rs: listeners"),
    ("WIRETOP_BENCH_RUNS", "benches: runs"),
    (
        "WIRETOP_BENCH_SCALES",
        "benches/snapshot: the scales, processes x connections",
    ),
    ("WIRETOP_BENCH_UI_PROCS", "benches/explorer.rs: processes"),
    ("WIRETOP_BENCH_FRAMES", "benches/explorer.rs: frames"),
    (
        "WIRETOP_BENCH_KEY_SAMPLES",
        "benches/explorer.rs: keypresses",
    ),
    ("WIRETOP_BENCH_WARMUP_SECS", "benches/explorer.rs: warm-up"),
    (
        "WIRETOP_BENCH_IDLE_SECS",
        "benches/explorer.rs: idle window",
    ),
    (
        "WIRETOP_BENCH_SHOW_SCREENS",
        "benches/explorer.rs: print the screens",
    ),
    (
        "WIRETOP_BENCH_IDLE_SCALE",
        "benches/explorer: the idle window's load",
    ),
    ("WIRETOP_SOAK_SECS", ".ci/soak: duration"),
    ("WIRETOP_SOAK_WARMUP", ".ci/soak: warm-up"),
    ("WIRETOP_SOAK_EVERY", ".ci/soak: reading interval"),
    ("WIRETOP_BINARY", ".ci/soak: the binary to run"),
    ("WIRETOP_FUZZ_SECONDS", ".ci/fuzz-smoke: seconds per target"),
    (
        "WIRETOP_FUZZ_TARGET_DIR",
        ".ci/fuzz-smoke: cargo target directory",
    ),
    ("WIRETOP_FUZZ_TARGETS", ".ci/fuzz-smoke: targets to run"),
    ("WIRETOP_RECEIVERS_DIR", ".ci/receivers: cache directory"),
    (
        "WIRETOP_KEEP_PACKAGE",
        ".ci/package: leave the Debian package installed",
    ),
];

/// The configuration variables present in `env`: (key path, value, variable), the aliases last
/// so they win. An error for the first (in name order) `WIRETOP_*` variable that is neither a
/// key's, an alias nor in [`NON_CONFIG_VARIABLES`], with the closest known name.
pub(super) fn settings_from<'a>(
    env: &BTreeMap<&'a str, &'a str>,
    paths: impl Iterator<Item = &'a String>,
) -> Result<Vec<(String, String, String)>, ConfigError> {
    let mut known: BTreeMap<String, String> = paths
        .map(|path| (env_var_for(path), path.clone()))
        .collect();
    for (var, path) in ENV_ALIASES {
        known.insert(var.to_owned(), path.to_owned());
    }
    if let Some(unknown) = env.keys().find(|var| {
        var.starts_with("WIRETOP_")
            && !known.contains_key(**var)
            && !NON_CONFIG_VARIABLES.iter().any(|(name, _)| name == *var)
    }) {
        let names: Vec<&str> = known
            .keys()
            .map(String::as_str)
            .chain(NON_CONFIG_VARIABLES.iter().map(|(name, _)| *name))
            .collect();
        return Err(ConfigError::UnknownVariable {
            var: (*unknown).to_owned(),
            suggestion: suggestion(unknown, &names),
        });
    }
    let aliases = |var: &str| ENV_ALIASES.iter().any(|(alias, _)| *alias == var);
    let mut settings: Vec<(String, String, String)> = known
        .iter()
        .filter_map(|(var, path)| {
            env.get(var.as_str())
                .map(|value| (path.clone(), (*value).to_owned(), var.clone()))
        })
        .collect();
    settings.sort_by_key(|(_, _, var)| aliases(var));
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Vec<String> {
        ["process_agent.interval", "uplink.api_key", "tags"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn known_variables_become_settings_and_aliases_come_last() {
        let env = BTreeMap::from([
            ("WIRETOP_API_KEY", "alias"),
            ("WIRETOP_UPLINK_API_KEY", "long"),
            ("WIRETOP_TAGS", "a,b"),
            ("WIRETOP_LOG", "debug"),
            ("PATH", "/bin"),
        ]);
        let settings = settings_from(&env, paths().iter()).unwrap();
        let vars: Vec<&str> = settings.iter().map(|(_, _, v)| v.as_str()).collect();
        assert_eq!(
            vars,
            ["WIRETOP_TAGS", "WIRETOP_UPLINK_API_KEY", "WIRETOP_API_KEY"]
        );
        assert_eq!(settings[2].0, "uplink.api_key");
    }

    #[test]
    fn a_misspelt_variable_is_an_error_with_the_closest_name() {
        for (typo, meant) in [
            (
                "WIRETOP_PROCES_AGENT_INTERVAL",
                "WIRETOP_PROCESS_AGENT_INTERVAL",
            ),
            ("WIRETOP_TAG", "WIRETOP_TAGS"),
            ("WIRETOP_LOGS", "WIRETOP_LOG"),
            ("WIRETOP_APIKEY", "WIRETOP_API_KEY"),
        ] {
            let env = BTreeMap::from([(typo, "5s")]);
            let error = settings_from(&env, paths().iter()).unwrap_err();
            assert_eq!(
                error,
                ConfigError::UnknownVariable {
                    var: typo.to_owned(),
                    suggestion: format!(" (did you mean `{meant}`?)"),
                }
            );
        }
        let env = BTreeMap::from([("WIRETOP_ZZZZZZZZZZZZZZZZZZZZZZZZZ", "1")]);
        assert!(matches!(
            settings_from(&env, paths().iter()),
            Err(ConfigError::UnknownVariable { suggestion, .. }) if suggestion.is_empty()
        ));
    }
}
