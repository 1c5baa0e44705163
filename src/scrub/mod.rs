//! Removing secrets from command lines before they are stored, shown, printed or shipped.
//!
//! A process's arguments are world-readable in `/proc`, and people still pass passwords on the
//! command line. The sampler runs every argv through a [`Scrubber`] once, as it reads it, so no
//! snapshot, screen, JSON document or upload ever holds the secret. Elements are never split or
//! joined: the scrubbed argv has the same elements, some with part of their text replaced by
//! [`MASK`].
//!
//! What is recognised (argv\[0\], the program, is never changed):
//!
//! - **Keys with values.** A key is an argument with its leading dashes removed; it is
//!   *sensitive* when one of the sensitive words matches it (case-insensitively, with `-` and
//!   `_` the same character, `*` matching any run of characters). `--password=x`,
//!   `PASSWORD=x` and `-password:x` keep the key and lose the value. The key ends at the first
//!   `=` or `:` (whichever comes first), never at the `:` of a `scheme://`. When a key is not
//!   sensitive its value is examined in turn, so `--env=MYSQL_PWD=x` and
//!   `--header=Authorization: Bearer x` are caught too.
//! - **Keys followed by their value.** An argument that is a sensitive key and nothing else
//!   (`--password`, `password`) hides the whole next argument, whatever it is.
//! - **Headers.** `Authorization` and `Proxy-Authorization` keep their scheme word (`Bearer`,
//!   `Basic`, ...) and lose the credential; `Cookie` and `Set-Cookie` lose their value; any
//!   header named by a sensitive word (`X-Api-Key: abc`) is a sensitive key like any other.
//! - **URLs.** In `scheme://user:password@host` the password goes; a userinfo without a password
//!   (`https://TOKEN@host`) goes whole; query and fragment parameters named by a sensitive word
//!   (`?api_key=…`, `#access_token=…`) lose their value.
//! - **Tools with password flags**, by the program's basename: the MySQL/MariaDB clients' `-p`,
//!   `sshpass -p`, `redis-cli -a`/`--pass` and `curl -u user:password`, with the value separate
//!   or attached (`-psecret`). Wrappers such as `sudo` pass the rules on to the program they run.
//! - **Command lines inside an argument** (`sh -c "mysql -psecret db"`): an argument with
//!   whitespace that is not a key's value is split the way a shell would split it, quotes
//!   respected, and each word gets the rules above.
//!
//! The scrubber errs towards hiding: `--password-file=/run/secrets/db` loses its value, and a
//! positional `secret` (as in `kubectl create secret generic`) hides the argument after it.
//! Every rule is a single left-to-right pass, so the cost is linear in the length of the
//! command line whatever a process puts there.

mod mask;
mod shell;
mod tools;
mod url;
mod word;

#[cfg(test)]
mod tests;

use mask::{mask_authorization, mask_user_password, mask_value};
use shell::{is_assignment, shell_words, unquote};
use tools::{Tool, Value};
use word::{fold, Word};

/// What replaces a secret.
pub const MASK: &str = "********";

/// Datadog-compatible defaults; `*` is a wildcard.
pub const DEFAULT_SENSITIVE_WORDS: [&str; 10] = [
    "*password*",
    "*passwd*",
    "*mysql_pwd*",
    "*access_token*",
    "*auth_token*",
    "*api_key*",
    "*apikey*",
    "*secret*",
    "*credentials*",
    "stripetoken",
];

/// How command lines are scrubbed (the `process_agent` settings of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubOptions {
    /// Hide secrets in arguments. When false, arguments are kept as they are.
    pub scrub_args: bool,
    /// Sensitive words added to [`DEFAULT_SENSITIVE_WORDS`], with the same syntax.
    pub custom_sensitive_words: Vec<String>,
    /// Keep only the program (argv\[0\]) and drop every argument, whatever `scrub_args` says.
    pub strip_proc_arguments: bool,
}

impl Default for ScrubOptions {
    fn default() -> Self {
        ScrubOptions {
            scrub_args: true,
            custom_sensitive_words: Vec::new(),
            strip_proc_arguments: false,
        }
    }
}

/// A custom sensitive word that cannot be used. Each names the word as configured, so the user
/// can find it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrubError {
    /// Nothing left to match once leading dashes are removed (`""`, `--`).
    #[error("sensitive word {word:?} is empty, so it would never match")]
    EmptyWord {
        /// The word as configured.
        word: String,
    },
    /// Only `*`: it would hide the value of every argument.
    #[error("sensitive word {word:?} is only wildcards and would match every argument")]
    OnlyWildcards {
        /// The word as configured.
        word: String,
    },
    /// Has a character that never occurs in a key: whitespace, a control character, `=` or `:`
    /// (they end a key) or `/` (an argument with one is a path, not a key).
    #[error("sensitive word {word:?} contains {found:?}, which never occurs in an argument key")]
    ImpossibleCharacter {
        /// The word as configured.
        word: String,
        /// The first offending character.
        found: char,
    },
}

/// Removes secrets from command lines; built once from [`ScrubOptions`], then shared.
#[derive(Debug, Clone)]
pub struct Scrubber {
    /// The default words followed by the custom ones.
    words: Vec<Word>,
    scrub_args: bool,
    strip_proc_arguments: bool,
}

impl Default for Scrubber {
    /// The scrubber for [`ScrubOptions::default`].
    fn default() -> Self {
        // The default words are valid; should that ever change, keeping only the program name
        // is the failure that leaks nothing.
        Scrubber::new(&ScrubOptions::default()).unwrap_or(Scrubber {
            words: Vec::new(),
            scrub_args: true,
            strip_proc_arguments: true,
        })
    }
}

/// How deep command lines may nest inside arguments (`sh -c "bash -c '…'"`) before only URLs
/// are looked for: bounds both the work and the stack for adversarial arguments.
const MAX_NESTING: usize = 4;

impl Scrubber {
    /// A scrubber for `options`, or the first custom word that cannot be used.
    pub fn new(options: &ScrubOptions) -> Result<Scrubber, ScrubError> {
        let words = DEFAULT_SENSITIVE_WORDS
            .iter()
            .copied()
            .chain(options.custom_sensitive_words.iter().map(String::as_str))
            .map(Word::compile)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scrubber {
            words,
            scrub_args: options.scrub_args,
            strip_proc_arguments: options.strip_proc_arguments,
        })
    }

    /// `argv` with its secrets replaced by [`MASK`]: as many elements, argv\[0\] unchanged.
    /// With `strip_proc_arguments`, argv\[0\] alone.
    pub fn scrub(&self, argv: &[String]) -> Vec<String> {
        let Some((program, args)) = argv.split_first() else {
            return Vec::new();
        };
        if self.strip_proc_arguments {
            return vec![program.clone()];
        }
        if !self.scrub_args {
            return argv.to_vec();
        }
        let mut sequence = Sequence::new(self, false, 0);
        sequence.start_command(program);
        let mut scrubbed = Vec::with_capacity(argv.len());
        scrubbed.push(program.clone());
        for arg in args {
            scrubbed.push(sequence.step(arg).unwrap_or_else(|| arg.clone()));
        }
        scrubbed
    }

    /// What kind of key `key` is (leading dashes allowed).
    fn classify(&self, key: &str) -> Kind {
        let key = key.trim_start_matches('-');
        // A path is not a key: `/etc/vault/secrets/x.conf` names a file, it does not introduce a
        // secret, and `https://host/secret?x=1` is no key either.
        if key.is_empty() || key.contains('/') || key.bytes().any(|b| b.is_ascii_whitespace()) {
            return Kind::Plain;
        }
        let folded = fold(key);
        match &*folded {
            "authorization" | "proxy_authorization" => Kind::Authorization,
            "cookie" | "set_cookie" => Kind::Secret,
            folded if self.words.iter().any(|word| word.matches(folded)) => Kind::Secret,
            _ => Kind::Plain,
        }
    }

    /// Scrubs one argument on its own, and says what the argument after it must get.
    fn scrub_arg(&self, arg: &str, depth: usize) -> Outcome {
        // Where the text still to examine starts: after the keys already found not sensitive.
        let mut start = 0;
        loop {
            let Some(rest) = arg.get(start..) else {
                return Outcome::unchanged();
            };
            let prefixed = |replaced: Option<String>| Outcome {
                replaced: replaced.map(|tail| format!("{}{tail}", &arg[..start])),
                then: Pending::Nothing,
            };
            match split(rest) {
                Split::Key { end, separator } => {
                    let value = &rest[end + 1..];
                    let (masked, then) = match self.classify(&rest[..end]) {
                        Kind::Plain => {
                            if start == 0 && separator == b':' {
                                if let Some(masked) = self.mask_after_first_equals(arg) {
                                    return Outcome {
                                        replaced: Some(masked),
                                        then: Pending::Nothing,
                                    };
                                }
                            }
                            start += end + 1;
                            continue;
                        }
                        Kind::Secret => match mask_value(value) {
                            Some(masked) => (Some(masked), Pending::Nothing),
                            None => (None, Pending::Mask),
                        },
                        Kind::Authorization => mask_authorization(value),
                    };
                    // `Authorization:` alone, as split out of `sh -c "curl -H 'Authorization:
                    // Bearer x'"`, is a header whose value is the next word. An empty value
                    // after `=` is just empty (`--password=`).
                    let owes_next = start == 0 && separator == b':';
                    let mut outcome =
                        prefixed(masked.map(|masked| format!("{}{masked}", &rest[..end + 1])));
                    if owes_next {
                        outcome.then = then;
                    }
                    return outcome;
                }
                Split::Bare if start == 0 => {
                    let then = match self.classify(rest) {
                        Kind::Plain => Pending::Nothing,
                        Kind::Secret => Pending::Mask,
                        Kind::Authorization => Pending::Authorization,
                    };
                    return Outcome {
                        replaced: None,
                        then,
                    };
                }
                Split::Bare => return Outcome::unchanged(),
                Split::Words if depth < MAX_NESTING => {
                    return prefixed(self.scrub_words(rest, depth + 1));
                }
                Split::Url | Split::Words => {
                    return prefixed(url::scrub_urls(rest, &|name| {
                        self.classify(name) != Kind::Plain
                    }));
                }
            }
        }
    }

    /// `arg` with its value hidden when everything before its first `=` is a sensitive key.
    ///
    /// Keys normally end at the first `=` or `:`, whichever comes first, and the value of a
    /// plain key is then examined in turn, which catches `db:password=x`. This covers the rest
    /// of the classic rule (the key ends at the first `=`), for a wildcard word that spans the
    /// `:` (`*pass*word*` against `pass:word=x`).
    fn mask_after_first_equals(&self, arg: &str) -> Option<String> {
        let equals = arg.find('=')?;
        if self.classify(&arg[..equals]) != Kind::Secret {
            return None;
        }
        let masked = mask_value(&arg[equals + 1..])?;
        Some(format!("{}{masked}", &arg[..=equals]))
    }

    /// Scrubs a command line written inside one argument, word by word.
    fn scrub_words(&self, text: &str, depth: usize) -> Option<String> {
        let mut sequence = Sequence::new(self, true, depth);
        let mut out: Option<String> = None;
        let mut copied = 0;
        for range in shell_words(text) {
            let Some(word) = text.get(range.clone()) else {
                continue;
            };
            if let Some(replacement) = sequence.step(word) {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(text.get(copied..range.start).unwrap_or_default());
                out.push_str(&replacement);
                copied = range.end;
            }
        }
        let mut out = out?;
        out.push_str(text.get(copied..).unwrap_or_default());
        Some(out)
    }
}

/// What a key is for scrubbing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    /// Its value is hidden whole.
    Secret,
    /// Its value is a credential that may start with a scheme word, which is kept.
    Authorization,
}

/// What the next argument gets because of this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    /// Hidden whole: it is the value of a sensitive key or password flag.
    Mask,
    /// It is an authorization value: the scheme stays, the credential goes.
    Authorization,
    /// `user:password`: the password goes.
    UserPassword,
    /// Left alone, and not taken for an operand: the value of a tool's harmless flag.
    Skip,
}

/// The result of scrubbing one argument.
#[derive(Debug)]
struct Outcome {
    /// The new text, or `None` for unchanged.
    replaced: Option<String>,
    then: Pending,
}

impl Outcome {
    fn unchanged() -> Self {
        Outcome {
            replaced: None,
            then: Pending::Nothing,
        }
    }
}

/// Walks the arguments of one command (an argv, or the words of a command line inside an
/// argument), carrying what one argument says about the next.
struct Sequence<'s> {
    scrubber: &'s Scrubber,
    /// The words come from shell text: they may be quoted, and `;`, `&&`, `|` start a new
    /// command.
    shell: bool,
    depth: usize,
    /// The next word names the command (unless it is a `NAME=value` assignment).
    at_command: bool,
    /// The command runs another one named among its arguments (`sudo`).
    wrapper: bool,
    /// The password flags in force.
    tool: Option<&'static Tool>,
    pending: Pending,
}

impl<'s> Sequence<'s> {
    fn new(scrubber: &'s Scrubber, shell: bool, depth: usize) -> Self {
        Sequence {
            scrubber,
            shell,
            depth,
            at_command: true,
            wrapper: false,
            tool: None,
            pending: Pending::Nothing,
        }
    }

    /// Takes `command` as the program the following arguments are given to.
    fn start_command(&mut self, command: &str) {
        self.at_command = false;
        self.tool = tools::tool_named(command);
        self.wrapper = self.tool.is_none() && tools::is_wrapper(command);
    }

    /// Scrubs the next word: `None` leaves it unchanged.
    fn step(&mut self, word: &str) -> Option<String> {
        let (open, inner, close) = if self.shell {
            unquote(word)
        } else {
            ("", word, "")
        };
        let replaced = self.step_unquoted(inner, !open.is_empty());
        replaced.map(|text| format!("{open}{text}{close}"))
    }

    fn step_unquoted(&mut self, word: &str, quoted: bool) -> Option<String> {
        match std::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Nothing => {}
            Pending::Mask => return Some(MASK.to_owned()),
            Pending::Authorization => {
                let (masked, then) = mask_authorization(word);
                self.pending = then;
                return masked;
            }
            Pending::UserPassword => return mask_user_password(word),
            Pending::Skip => return None,
        }
        if self.shell && !quoted && matches!(word, ";" | ";;" | "&&" | "||" | "|" | "&") {
            self.at_command = true;
            self.tool = None;
            self.wrapper = false;
            return None;
        }
        if self.at_command && !is_assignment(word) {
            self.start_command(word);
        } else if let Some(tool) = self.tool {
            if let Some(replaced) = self.tool_flag(tool, word) {
                return replaced;
            }
            if tool.options_end_at_operand && !word.starts_with('-') {
                self.tool = None;
            }
        } else if self.wrapper && !word.starts_with('-') && !word.contains('=') {
            // An option or assignment is never the wrapped program: `env --password=/x/curl`
            // must not make `--password=...` the program (and so untouched). Found by fuzzing.
            if let Some(tool) = tools::tool_named(word) {
                self.tool = Some(tool);
                self.wrapper = false;
                return None;
            }
        }
        let outcome = self
            .scrubber
            .scrub_arg(word, self.depth + usize::from(quoted));
        self.pending = outcome.then;
        outcome.replaced
    }

    /// When `word` is one of the tool's flags, what it becomes (`Some(None)`: unchanged, and
    /// the flag's value is the next word).
    fn tool_flag(&mut self, tool: &Tool, word: &str) -> Option<Option<String>> {
        for flag in tool.flags {
            if word == flag.name {
                self.pending = match flag.value {
                    Value::Secret => Pending::Mask,
                    Value::UserPassword => Pending::UserPassword,
                    Value::Plain => Pending::Skip,
                };
                return Some(None);
            }
            if let Some(value) = flag.attached(word) {
                let masked = match flag.value {
                    Value::Secret => Some(MASK.to_owned()),
                    Value::UserPassword => mask_user_password(value),
                    Value::Plain => None,
                };
                let kept = &word[..word.len() - value.len()];
                return Some(masked.map(|masked| format!("{kept}{masked}")));
            }
        }
        None
    }
}

/// Where an argument's key ends, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// `key=value` or `key:value`: the separator is at `end`.
    Key { end: usize, separator: u8 },
    /// Whitespace comes before any separator: text made of words, not a key.
    Words,
    /// The first `:` starts `://`: a URL, not a key.
    Url,
    /// No separator and no whitespace: the whole argument may be a key on its own.
    Bare,
}

fn split(text: &str) -> Split {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'=' => {
                return Split::Key {
                    end: i,
                    separator: b,
                }
            }
            b':' if bytes[i + 1..].starts_with(b"//") => {
                return if bytes[i..].iter().any(u8::is_ascii_whitespace) {
                    Split::Words
                } else {
                    Split::Url
                };
            }
            b':' => {
                return Split::Key {
                    end: i,
                    separator: b,
                }
            }
            b if b.is_ascii_whitespace() => return Split::Words,
            _ => {}
        }
    }
    Split::Bare
}
