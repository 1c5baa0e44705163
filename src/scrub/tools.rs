//! Programs whose own flags take a password that no sensitive word would recognise (`-p`, `-a`).
//!
//! These rules are keyed by program name because the same flag means harmless things elsewhere:
//! `ls -p` and `ssh -p 22` must stay readable.

/// How the value of a tool's flag is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value {
    /// The whole value is the secret.
    Secret,
    /// `user:password`: the user stays, the password goes (curl's `-u`).
    UserPassword,
    /// Not a secret, but a value: the argument after the flag is not an operand.
    Plain,
}

/// One flag that takes a value.
#[derive(Debug)]
pub(super) struct Flag {
    /// As written on the command line: `-p` or `--pass`.
    pub(super) name: &'static str,
    pub(super) value: Value,
}

/// A program with password flags.
#[derive(Debug)]
pub(super) struct Tool {
    /// Program names (basename of the command).
    names: &'static [&'static str],
    pub(super) flags: &'static [Flag],
    /// The program's own options end at its first operand, after which the arguments belong to
    /// another command (`sshpass -p pw ssh -p 2222 host`: the second `-p` is ssh's port).
    pub(super) options_end_at_operand: bool,
}

impl Flag {
    /// The value attached to `arg` when `arg` is this flag with its value in the same argument:
    /// `-psecret` for a short flag, `--pass=secret` for a long one.
    pub(super) fn attached<'a>(&self, arg: &'a str) -> Option<&'a str> {
        let rest = arg.strip_prefix(self.name)?;
        let value = if self.name.starts_with("--") {
            rest.strip_prefix('=')?
        } else {
            rest
        };
        (!value.is_empty()).then_some(value)
    }
}

const fn secret(name: &'static str) -> Flag {
    Flag {
        name,
        value: Value::Secret,
    }
}

const fn plain(name: &'static str) -> Flag {
    Flag {
        name,
        value: Value::Plain,
    }
}

const fn user_password(name: &'static str) -> Flag {
    Flag {
        name,
        value: Value::UserPassword,
    }
}

static TOOLS: &[Tool] = &[
    Tool {
        // MySQL and MariaDB clients: `-psecret` (and, conservatively, `-p secret`).
        names: &[
            "mysql",
            "mysqldump",
            "mysqladmin",
            "mysqlimport",
            "mysqlshow",
            "mysqlcheck",
            "mysqlslap",
            "mysqlpump",
            "mysqlbinlog",
            "mariadb",
            "mariadb-dump",
            "mariadb-admin",
            "mariadb-import",
            "mariadb-show",
            "mariadb-check",
            "mariadb-slap",
            "mariadb-binlog",
        ],
        flags: &[secret("-p")],
        options_end_at_operand: false,
    },
    Tool {
        names: &["sshpass"],
        // `-f file`, `-d fd` and `-P prompt` take values that are not the command to run.
        flags: &[secret("-p"), plain("-f"), plain("-d"), plain("-P")],
        options_end_at_operand: true,
    },
    Tool {
        names: &["redis-cli", "valkey-cli", "keydb-cli"],
        flags: &[secret("-a"), secret("--pass")],
        options_end_at_operand: false,
    },
    Tool {
        // `-u user:password`; the user stays readable, as in URLs.
        names: &["curl"],
        flags: &[
            user_password("-u"),
            user_password("--user"),
            user_password("-U"),
            user_password("--proxy-user"),
        ],
        options_end_at_operand: false,
    },
];

/// Programs that run another command given among their arguments (`sudo mysql -psecret`): the
/// first later argument naming a tool switches that tool's rules on.
const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "nohup", "nice", "ionice", "timeout", "setsid", "stdbuf", "chrt",
    "taskset", "exec", "command", "time",
];

/// The tool a command runs, by the basename of the command.
pub(super) fn tool_named(command: &str) -> Option<&'static Tool> {
    let name = basename(command);
    TOOLS.iter().find(|tool| tool.names.contains(&name))
}

/// Whether a command runs another one named among its arguments.
pub(super) fn is_wrapper(command: &str) -> bool {
    WRAPPERS.contains(&basename(command))
}

fn basename(command: &str) -> &str {
    command.rsplit('/').next().unwrap_or(command)
}
