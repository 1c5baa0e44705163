//! Manual pages and shell completions, generated from the clap definitions the arguments are
//! parsed with, so they cannot drift from what wiretop accepts. Both print to standard output:
//! the Debian package (`.ci/package`) collects them there, and a user can do the same.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{roman, Roff};
use clap_mangen::Man;

use crate::cli::Cli;

/// The completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "wiretop", out);
}

/// The manual page of `wiretop` (no `subcommand`), or of `wiretop SUBCOMMAND…`.
pub fn man_page(subcommand: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut name = "wiretop".to_owned();
    for word in subcommand {
        let Some(child) = command.find_subcommand(word).cloned() else {
            let known: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
            anyhow::bail!(
                "`{name}` has no subcommand `{word}` (it has: {})",
                known.join(", ")
            );
        };
        name = format!("{name}-{word}");
        command = child.display_name(name.clone());
    }
    let is_main = subcommand.is_empty();
    let man = Man::new(command)
        .title(name.to_uppercase())
        .source(format!("wiretop {}", env!("CARGO_PKG_VERSION")))
        .manual("wiretop manual");
    man.render(out)?;
    if is_main {
        main_page_sections().to_writer(out)?;
    }
    Ok(())
}

/// What the main page says beyond the options: where the configuration is read from, the
/// environment, exit statuses, the other pages.
fn main_page_sections() -> Roff {
    let mut roff = Roff::default();
    let section = |roff: &mut Roff, title: &str, paragraphs: &[&str]| {
        roff.control("SH", [title]);
        for paragraph in paragraphs {
            roff.control("PP", []);
            roff.text([roman(*paragraph)]);
        }
    };
    section(
        &mut roff,
        "FILES",
        &[
            "/etc/wiretop/config.yaml, then $XDG_CONFIG_HOME/wiretop/config.yaml (or \
             ~/.config/wiretop/config.yaml), then --config FILE: each overrides the one before. \
             /usr/share/doc/wiretop/config.example.yaml documents every key with its default.",
            "/lib/systemd/system/wiretop.service runs `wiretop ship` as a service.",
        ],
    );
    section(
        &mut roff,
        "ENVIRONMENT",
        &["WIRETOP_ followed by a key path in capitals sets that key \
             (WIRETOP_PROCESS_AGENT_INTERVAL=5s, WIRETOP_TAGS=env:prod,service:web); an unknown \
             WIRETOP_ variable is an error. WIRETOP_API_KEY sets the uplink's API key. \
             WIRETOP_LOG sets the log level of `wiretop ship` and `wiretop record` (info by \
             default). TZ sets the zone of a local time given to `snapshot --at`. NO_COLOR turns \
             the explorer's colours off."],
    );
    section(
        &mut roff,
        "EXIT STATUS",
        &[
            "0 on success; 2 when the configuration, a baseline, a recording (not one, or from a \
             newer wiretop) or the arguments cannot be used; \
             1 on any other error; 128+N when stopped by signal N (130 for Ctrl-C, 143 for \
             SIGTERM).",
        ],
    );
    section(
        &mut roff,
        "SEE ALSO",
        &[
            "wiretop-snapshot(1), wiretop-baseline(1), wiretop-ship(1), wiretop-record(1), \
             wiretop-schema(1), \
             wiretop-config(1), wiretop-completions(1), wiretop-man(1), htop(1), ss(8)",
        ],
    );
    roff
}

/// `wiretop completions SHELL` and `wiretop man [SUBCOMMAND…]`, which need no configuration.
pub fn run_completions(shell: Shell) -> io::Result<()> {
    let mut out = io::stdout().lock();
    completions(shell, &mut out);
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(subcommand: &[&str]) -> String {
        let words: Vec<String> = subcommand.iter().map(|w| (*w).to_owned()).collect();
        let mut out = Vec::new();
        if let Err(e) = man_page(&words, &mut out) {
            panic!("{subcommand:?}: {e}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn the_main_page_names_every_subcommand_option_and_file() {
        let text = page(&[]);
        assert!(text.starts_with(".ie"), "roff: {}", &text[..40]);
        assert!(text.contains(".TH WIRETOP 1"), "{text}");
        for expected in [
            "snapshot",
            "ship",
            "schema",
            "config",
            "\\-\\-interval",
            "\\-\\-no\\-color",
            "FILES",
            "/etc/wiretop/config.yaml",
            "ENVIRONMENT",
            "EXIT STATUS",
        ] {
            assert!(text.contains(expected), "{expected} in:\n{text}");
        }
    }

    #[test]
    fn each_subcommand_has_its_page() {
        let text = page(&["snapshot"]);
        assert!(text.contains(".TH WIRETOP-SNAPSHOT 1"), "{text}");
        assert!(
            text.contains("\\-\\-pretty") && text.contains("\\-\\-port"),
            "{text}"
        );
        assert!(page(&["config", "check"]).contains(".TH WIRETOP-CONFIG-CHECK 1"));
        assert!(page(&["baseline", "save"]).contains(".TH WIRETOP-BASELINE-SAVE 1"));
        let mut out = Vec::new();
        let error = man_page(&["snapshto".to_owned()], &mut out).err();
        assert!(error.is_some_and(|e| e.to_string().contains("has no subcommand `snapshto`")));
    }

    #[test]
    fn completions_cover_subcommands_and_options() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            completions(shell, &mut out);
            let text = String::from_utf8_lossy(&out);
            for word in ["snapshot", "ship", "interval", "format", "no-connections"] {
                assert!(text.contains(word), "{shell:?} completes {word}");
            }
        }
    }
}
