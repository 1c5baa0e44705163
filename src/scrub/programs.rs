//! What the scrubber knows about particular programs' arguments: which options take a value
//! (and what kind), what their operands are, and whether they run another command. The tables
//! are in [`super::tools`], [`super::clouds`] and [`super::databases`] (programs that take
//! secrets in their own way) and [`super::wrappers`] and [`super::containers`] (programs that
//! run another command); this module holds their shape and the lookup by program name.
//!
//! Knowing which options take a value matters twice: a value is never mistaken for the
//! wrapped program or an operand (`timeout -s KILL 5 mysql -pX`), and short options are read
//! the way getopt reads them (`bash -lc 'cmd'`, `mysql -hdb -psecret`).

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

/// How an option's value is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value {
    /// The whole value is the secret (`mysql -p`, `sshpass -p`).
    Secret,
    /// A secret when attached (`7z -psecret`); given alone, the option asks for it.
    SecretAttached,
    /// A secret unless the next word is another option (`gh auth login --with-token`).
    SecretUnlessOption,
    /// `user` followed by this separator and the password, which goes (`curl -u user:pw`,
    /// `smbclient -U user%pw`, `lftp -u user,pw`).
    UserPassword(u8),
    /// An Oracle logon, `user/password@database`: the password goes.
    Logon,
    /// Cookie data (`name=value`) goes; a cookie file name stays (`curl -b`).
    Cookie,
    /// Shell text, run by a shell (`su -c`, `flock -c`, `env -S`).
    Shell,
    /// The following words are a command (`gdb --args`, `find -exec`).
    Command,
    /// The program the command operands are given to (`docker run --entrypoint mysql IMAGE
    /// -psecret`).
    Entrypoint,
    /// No value: a switch whose name would otherwise be taken for a sensitive key
    /// (`pulumi config set --secret KEY VALUE`).
    Switch,
    /// Two secrets follow (`qpdf --encrypt USER_PASSWORD OWNER_PASSWORD`).
    SecretPair,
    /// Two values with nothing special about them (`bwrap --bind SOURCE DEST`).
    TwoValues,
}

/// An option with a value that needs more than the generic rules.
#[derive(Debug)]
pub(super) struct Opt {
    /// As written: `-p`, `--password`, `/p` (Windows style) or `userid` (`key=value` style).
    pub(super) name: &'static str,
    pub(super) value: Value,
}

impl Opt {
    /// The value attached to `arg` when `arg` is this option with its value in the same word:
    /// `-psecret`, `--user=x`, `/p:secret`, `userid=x`.
    pub(super) fn attached<'a>(&self, arg: &'a str) -> Option<&'a str> {
        let rest = arg.strip_prefix(self.name)?;
        let value = if self.name.starts_with("--") || !self.name.starts_with(['-', '/']) {
            rest.strip_prefix('=')?
        } else if self.name.len() > 2 && self.name.starts_with('-') && rest.starts_with('=') {
            // Go's single-dash long options: `vault token create -id=x`.
            &rest[1..]
        } else if self.name.starts_with('/') {
            rest.strip_prefix(':')?
        } else {
            rest
        };
        (!value.is_empty()).then_some(value)
    }
}

/// What a program's operands (words that are not options or option values) are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operands {
    /// Ordinary arguments.
    Plain,
    /// The operand at this position (1 is the first) is a secret (`rabbitmqctl add_user NAME
    /// PASSWORD`).
    SecretAt(usize),
    /// Every operand is a secret (`redis-cli AUTH [user] password`).
    Secret,
    /// The first operand that is no `key=value` pair is a secret (`vault login TOKEN`, but
    /// `vault login -method=userpass username=bob password=…`).
    Token,
    /// `htpasswd -b [file] user password`: the password is the third operand, the second with
    /// `-n` (no file).
    Htpasswd,
    /// Each operand may be an Oracle logon, `user/password@database`.
    Logon,
    /// After `skip` operands (a duration, a lock file, a host, a container), the rest is a
    /// command of its own. `strict`: the program reads no options of its own after those
    /// operands, so the next word starts the command even with a dash (`docker run IMAGE -x`).
    Command { skip: usize, strict: bool },
}

/// The argument rules of a program, or of one of its subcommands.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules {
    /// Options whose value needs more than the generic rules.
    pub(super) options: &'static [Opt],
    /// Options that take a value with nothing special about it, so it is no operand; separated
    /// by spaces.
    pub(super) valued: &'static str,
    pub(super) operands: Operands,
    /// Single-dash options may be clustered, getopt style (`-lc`, `-dmS name`). False for
    /// programs whose options are single-dash words (`openssl -passin`, `keytool -storepass`).
    pub(super) clusters: bool,
    /// A bare positional word that is a secret noun hides the next word (`redis-cli AUTH pw`).
    /// False for programs whose positional words are resource names (`kubectl create secret`,
    /// `npm install jsonwebtoken`).
    pub(super) bare_keys: bool,
}

/// Rules that say nothing beyond the generic ones; tables start from these.
pub(super) const PLAIN: Rules = Rules {
    options: &[],
    valued: "",
    operands: Operands::Plain,
    clusters: true,
    bare_keys: true,
};

/// Package managers, cloud and cluster CLIs, service managers: their positional words name
/// packages, resources and units (`npm install jsonwebtoken`, `kubectl create secret`), never
/// keys.
pub(super) const NO_BARE_KEYS: Rules = Rules {
    bare_keys: false,
    ..PLAIN
};

/// A subcommand with rules of its own (`docker login`, `kubectl exec`, `ip netns exec`).
#[derive(Debug)]
pub(super) struct Subcommand {
    pub(super) path: &'static [&'static str],
    pub(super) rules: Rules,
}

/// A program the scrubber knows, by the basename of its command.
#[derive(Debug)]
pub(super) struct Program {
    /// Its names, separated by spaces.
    pub(super) names: &'static str,
    pub(super) rules: Rules,
    pub(super) subcommands: &'static [Subcommand],
}

/// Runs the command among its operands, after `skip` of them.
pub(super) const fn runs(skip: usize, valued: &'static str) -> Rules {
    Rules {
        valued,
        operands: Operands::Command {
            skip,
            strict: false,
        },
        ..PLAIN
    }
}

/// Runs the command after `skip` operands, and reads no options of its own after them
/// (`docker exec C -it`, `timeout 5 -x`).
pub(super) const fn runs_strictly(skip: usize, valued: &'static str) -> Rules {
    Rules {
        valued,
        operands: Operands::Command { skip, strict: true },
        ..PLAIN
    }
}

/// Runs the command among its operands, with options that take shell text.
pub(super) const fn runs_with(skip: usize, options: &'static [Opt], valued: &'static str) -> Rules {
    Rules {
        options,
        valued,
        operands: Operands::Command {
            skip,
            strict: false,
        },
        ..PLAIN
    }
}

/// A program without subcommands.
pub(super) const fn program(names: &'static str, rules: Rules) -> Program {
    Program {
        names,
        rules,
        subcommands: &[],
    }
}

pub(super) const fn opt(name: &'static str, value: Value) -> Opt {
    Opt { name, value }
}

static BY_NAME: LazyLock<FxHashMap<&'static str, &'static Program>> = LazyLock::new(|| {
    super::tools::TOOLS
        .iter()
        .chain(super::clouds::CLOUDS)
        .chain(super::databases::DATABASES)
        .chain(super::wrappers::WRAPPERS)
        .chain(super::containers::CONTAINERS)
        .flat_map(|program| {
            program
                .names
                .split_ascii_whitespace()
                .map(move |name| (name, program))
        })
        .collect()
});

/// The program a command word runs, by its basename, ignoring what shell syntax may stick to
/// its front (`$(mysql`, `(cd`, `` `mysql ``).
pub(super) fn program_named(command: &str) -> Option<&'static Program> {
    let name = basename(command);
    let trimmed = name.trim_start_matches(['(', '$', '`', '{', '!']);
    let name = if trimmed.is_empty() { name } else { trimmed };
    BY_NAME.get(name).copied()
}

/// Whether `command` names a program the scrubber knows.
pub(super) fn is_known(command: &str) -> bool {
    program_named(command).is_some()
}

pub(super) fn basename(command: &str) -> &str {
    command.rsplit('/').next().unwrap_or(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_name_is_in_one_table_entry_only() {
        let mut seen = std::collections::HashSet::new();
        for program in super::super::tools::TOOLS
            .iter()
            .chain(super::super::clouds::CLOUDS)
            .chain(super::super::databases::DATABASES)
            .chain(super::super::wrappers::WRAPPERS)
            .chain(super::super::containers::CONTAINERS)
        {
            for name in program.names.split_ascii_whitespace() {
                assert!(seen.insert(name), "{name} is listed twice");
            }
        }
    }

    #[test]
    fn attached_values_by_option_style() {
        let rows: &[(&str, &str, Option<&str>)] = &[
            ("-p", "-psecret", Some("secret")),
            ("-p", "-p", None),
            ("--user", "--user=a:b", Some("a:b")),
            ("--user", "--username=a", None),
            ("/p", "/p:secret", Some("secret")),
            ("userid", "userid=scott/tiger", Some("scott/tiger")),
        ];
        for &(name, arg, expected) in rows {
            assert_eq!(opt(name, Value::Secret).attached(arg), expected, "{arg}");
        }
    }
}
