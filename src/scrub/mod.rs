//! Removing secrets from command lines before they are stored, shown, printed or shipped.
//!
//! A process's arguments are world-readable in `/proc`, and people still pass passwords on the
//! command line. The sampler runs every argv, process name and executable path through a
//! [`Scrubber`] once, as it reads them, so no snapshot, screen, JSON document or upload ever
//! holds the secret. Elements are never split or joined: the scrubbed argv has as many
//! elements as the original, some with part of their text replaced by [`MASK`] (only
//! `strip_proc_arguments` shortens it, to one element).
//!
//! What is recognised:
//!
//! - **Keys with values.** A key is an argument with its leading dashes removed; it is
//!   *sensitive* when its head noun, the last of its components (split at `-`, `_`, `.`,
//!   other punctuation and camelCase), is a secret noun: `password`, `passwd`, `pwd`, `pass`,
//!   `pw`, `passphrase`, `secret`, `token`, `credential(s)`, `auth`, `bearer`, `cookie`,
//!   `psk`, or a compound such as `api key`, `access key`, `private key`, `secret id`. Letters
//!   that only look like ASCII (fullwidth `ｐａｓｓｗｏｒｄ`, a Cyrillic `а`) are read as ASCII and
//!   invisible characters (zero-width spaces, soft hyphens) are ignored. Nouns
//!   glued to the word before count too (`dbpassword`, `storepass`, `requirepass`). A key that
//!   only *contains* such a noun names something else and stays: `--token-ttl`,
//!   `--key-file`, `--password-file`, `--auth-mode`, `--passthrough`, `--no-password`. See
//!   `key.rs` for the whole rule; `custom_sensitive_words` add globs (`*` matching any run of
//!   characters, case-insensitive, `-` and `_` the same) matched against the whole key.
//!   `--password=x`, `PASSWORD=x`, `-password:x`, `password: x` keep the key and lose the
//!   value. The key ends at the first `=`, `:` (never that of a `scheme://`) or `(`; when it is
//!   not sensitive its value is examined in turn, so `--env=MYSQL_PWD=x` and
//!   `--header=Authorization: Bearer x` are caught too. Inside lists and JSON only the entry's
//!   value goes (`user=u;Password=x;Encrypt=1`, `{"password":"x","port":5432}`), and an
//!   entry named by a sensitive key loses its `value` (`{"name":"DB_PASSWORD","value":"x"}`). A value that
//!   is a switch (`true`, `false`, `yes`, `no`, `on`, `off`, `none`, `null`) or a path to a
//!   configuration file (`/root/cf.ini`) is kept.
//! - **Keys followed by their value.** An argument that is a sensitive key and nothing else
//!   (`--password`, `password`) hides the whole next argument, unless that is a long option
//!   (`--auth --port 1`: the key was a switch). A bare positional word is a key only when it
//!   is `password`, `passwd`, `passphrase`, `psk`, Redis's `AUTH`, a configuration key
//!   (`user.password`, `aws_secret_access_key`, `requirepass`), never a hyphenated name or a
//!   word under a program whose positional words name things (`kubectl create secret`,
//!   `npm install jsonwebtoken`).
//! - **Code and markup.** Shell text is also read as the code people pass to `perl -e`,
//!   `python -c` and the like: a key written as code before an assignment
//!   (`password = "x"`, `os.environ['API_TOKEN'] = 'x'`, `$ENV{'DB_PASS'} = 'x'`,
//!   `secret := "x"`) hides the literal after it, not a call or a variable
//!   (`pw = getpass('Password: ')` stays, and so does a prompt's text); after a key, `=`, `:`,
//!   `=>` and `:=` say the value is still to come and any other operator that it had none
//!   (`$ENV{PASSWORD} ? … : …`); an object opened after a key is read for its own keys
//!   (`{"auth": {"password": "x"}}`, YAML's `db:\n  token: x`), a key given as the first
//!   argument of a call hides the second (`define('DB_PASSWORD', 'x')`, `os.putenv('TOKEN',
//!   'x')`), and a quoted expansion is read, not set (`[ "$PASSWORD" = "" ]`). XML elements and attributes named by a sensitive key, and
//!   entries whose `key`, `name` or `id` is one (`<password>x</password>`,
//!   `<add key="ApiKey" value="x"/>`), lose their text, CDATA or value wherever they stand
//!   (`markup.rs`).
//! - **Headers.** `Authorization` and `Proxy-Authorization` keep their scheme word (`Bearer`,
//!   `Basic`, ...) and lose the credential, attached to curl's flag too
//!   (`-HAuthorization: …`); `Cookie` and `Set-Cookie` lose their value; any header named by a
//!   sensitive key (`X-Api-Key: abc`, `PRIVATE-TOKEN: abc`) loses its value.
//! - **URLs.** In `scheme://user:password@host` the password goes; in a web URL a userinfo
//!   without a password (`https://TOKEN@host`) goes whole; query and fragment parameters named
//!   by a sensitive key, a signature or a key (`?api_key=…`, `#access_token=…`, `&sig=…`,
//!   `X-Amz-Signature=…`) lose their value. `user:password@host` without a scheme loses the
//!   password when the host is an address, a dotted name, or a single name that ends the text
//!   or is followed by a port or a path (`app:pw@db:5432/app`, `CORP/admin:pw@dc01`; never
//!   `nginx:1.25@sha256:…`), and so does Oracle's `user/password@//host`. A URL that is an
//!   entry of a list ends with the entry (`computerName=https://web/x,password=…`), and ODBC's
//!   `PWD` is a password inside a list (`UID=sa;PWD=x`), never the environment's directory.
//!   Windows-style options (`/TargetPassword:x`) are keys like `--TargetPassword=x`.
//! - **Programs**, by the basename of the command (`tools.rs`, `clouds.rs`, `databases.rs`):
//!   password flags (`mysql -p`, `redis-cli -a`, `docker login -p`, `ldapsearch -w`, `zip -P`, `7z -p`,
//!   `openssl -k`, ...), `user:password` values (`curl -u`, `smbclient -U user%pw`,
//!   `lftp -u user,pw`), secret operands (`vault login TOKEN`, `rabbitmqctl add_user NAME PW`,
//!   `htpasswd -b FILE USER PW`), Oracle logons, with values separate, attached or clustered
//!   getopt style (`-psecret`, `-sSLu user:pw`), Go style (`vault token create -id=x`), or
//!   in pairs (`qpdf --encrypt USER OWNER`).
//! - **Password commands.** A key naming a command that prints a secret
//!   (`--password-command`, `passwordeval`, `PassCmd`) hides what `echo` or `printf` prints
//!   there (`--password-command "echo x"`); any other command is scrubbed as shell text and
//!   kept (`pass show backup`).
//! - **Wrappers** (`wrappers.rs`, `containers.rs`): `sudo`, `env`, `timeout 5`,
//!   `flock FILE`, `ssh HOST`, `docker exec C`, `kubectl exec POD --`, `xargs`, `strace`,
//!   `nsenter`, `find -exec`, `bwrap`, `machinectl shell`, `kubectl run|debug … --`,
//!   `poetry|uv|pipenv run`, `bundle exec`, ... know which of their options take a value and
//!   how many operands come before the command, so the wrapped program gets its own rules; a
//!   shell's `-c`, `su -c` and `flock -c` take shell text. Under any other program, a program
//!   the scrubber knows right after `--` is a command (`custom-runner -- redis-cli -a x`).
//! - **Shell text** (`sh -c "LANG=C mysql -psecret db"`): an argument with whitespace is split
//!   the way a shell would split it, quotes respected (a quote that never closes is a
//!   character), and its words walked like a command line: assignments before the command,
//!   `;`, `&&`, `|` and `$(` starting new commands, `(`, `{`, `f()`, `function f` and
//!   `case` patterns before a command, SQL's `IDENTIFIED BY 'pw'`, and the
//!   argument of `echo`/`printf` piped into a program that reads a password from its input
//!   (`echo pw | docker login --password-stdin`, `| chpasswd`, `| sudo -S`).
//! - **Process titles.** argv\[0\] is scrubbed as a title: programs that rewrite it
//!   (setproctitle, Perl and Ruby `$0`, node's `process.title`, PostgreSQL backends) put a whole
//!   command line there, so its whitespace-separated words (any Unicode space:
//!   `worker:\u{3000}--token x`) are walked like an argv, the first being the program. The
//!   process name (the kernel's `comm`, often set from the title) gets the same rules, cut
//!   where it may be (`PASSWORD:hunter`, `password: hunte`, `user:hunter2@db`). A program file
//!   named `NAME=value` loses the value, and so does one named `KEY:value` by a sensitive key.
//! - **Shaped secrets** (`shaped.rs`), wherever they stand: AWS access key ids, GitHub, GitLab,
//!   Slack, Stripe, npm, PyPI, Docker Hub, Vault, OpenAI, Anthropic and other tokens with a
//!   published prefix, JWTs, Google API keys, Azure connection string keys and SAS signatures,
//!   Slack and Discord webhooks, private key blocks. No entropy guessing: ordinary words,
//!   hashes, UUIDs and image digests are never taken for secrets.
//!
//! The scrubber errs towards hiding where a value is ambiguous (`mysql -p secret`, the value of
//! a sensitive key whatever it looks like). Every rule is a left-to-right pass (shell text is
//! read at most three times, when quotes do not close; shaped secrets are one regular
//! expression search, linear in the text; markup is one pass that never reads a byte twice
//! inside tags), and command lines nested in arguments are followed
//! four levels deep (`MAX_NESTING`), so the cost is linear in the length of the command line
//! whatever a process puts there.

mod arg;
mod clouds;
mod code;
mod containers;
mod databases;
mod key;
mod markup;
mod mask;
mod programs;
mod sequence;
mod shaped;
mod shell;
mod tools;
mod url;
mod word;
mod wrappers;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use key::KeyForm;
use sequence::Sequence;
use shell::shell_words;
use word::{fold, Word};

/// What replaces a secret.
pub const MASK: &str = "********";

/// How command lines are scrubbed (the `process_agent` settings of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubOptions {
    /// Hide secrets in arguments. When false, arguments are kept as they are.
    pub scrub_args: bool,
    /// Sensitive words added to the built-in rule (see the module documentation): globs
    /// matched against a whole key, `*` matching any run of characters.
    pub custom_sensitive_words: Vec<String>,
    /// Keep only the program word (the first word of argv\[0\]) and drop every argument,
    /// whatever `scrub_args` says.
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
    /// The custom sensitive words.
    words: Vec<Word>,
    scrub_args: bool,
    strip_proc_arguments: bool,
}

impl Default for Scrubber {
    /// The scrubber for [`ScrubOptions::default`].
    fn default() -> Self {
        // No custom words, so nothing can be refused; should that ever change, keeping only the
        // program word is the failure that leaks nothing.
        Scrubber::new(&ScrubOptions::default()).unwrap_or(Scrubber {
            words: Vec::new(),
            scrub_args: true,
            strip_proc_arguments: true,
        })
    }
}

/// How deep command lines may nest inside arguments (`sh -c "bash -c '…'"`) before only URLs
/// and shaped secrets are looked for: bounds both the work and the stack for adversarial
/// arguments.
const MAX_NESTING: usize = 4;

impl Scrubber {
    /// A scrubber for `options`, or the first custom word that cannot be used.
    pub fn new(options: &ScrubOptions) -> Result<Scrubber, ScrubError> {
        let words = options
            .custom_sensitive_words
            .iter()
            .map(|word| Word::compile(word))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scrubber {
            words,
            scrub_args: options.scrub_args,
            strip_proc_arguments: options.strip_proc_arguments,
        })
    }

    /// `argv` with its secrets replaced by [`MASK`], as many elements as it had. argv\[0\] is
    /// a process title when it holds whitespace: its first word is the program and the rest
    /// are scrubbed like arguments. With `strip_proc_arguments`, the program word alone.
    pub fn scrub(&self, argv: &[String]) -> Vec<String> {
        let Some(first) = argv.first() else {
            return Vec::new();
        };
        if self.strip_proc_arguments {
            let word = first
                .split(|c: char| c.is_ascii_whitespace())
                .find(|w| !w.is_empty())
                .unwrap_or_default();
            let shown = if self.scrub_args {
                self.scrub_program_word(word)
            } else {
                None
            };
            return vec![shown.unwrap_or_else(|| word.to_owned())];
        }
        if !self.scrub_args {
            return argv.to_vec();
        }
        let mut sequence = Sequence::new(self, false, 0);
        let mut scrubbed = Vec::with_capacity(argv.len());
        for (i, arg) in argv.iter().enumerate() {
            let shaped = self.mask_embedded(arg);
            let text = shaped.as_deref().unwrap_or(arg);
            let replaced = if i == 0 {
                sequence.title(text)
            } else {
                sequence.step(text)
            };
            scrubbed.push(replaced.or(shaped).unwrap_or_else(|| arg.clone()));
        }
        scrubbed
    }

    /// `text` with the secrets hidden that are found wherever they stand, before it is read as
    /// words: shaped secrets and markup (`<password>x</password>`).
    fn mask_embedded(&self, text: &str) -> Option<String> {
        let shaped = shaped::mask_shaped(text);
        let is_secret = |name: &str| self.classify(name, KeyForm::Key) != Kind::Plain;
        markup::mask_markup(shaped.as_deref().unwrap_or(text), &is_secret).or(shaped)
    }

    /// The process name (the kernel's `comm`) with its secrets hidden. Programs that rewrite
    /// their title often set the name from it too (`app --token=x` cut to 15 bytes), and a
    /// program file may be named `PASSWORD=x`: the name gets the rules of argv\[0\].
    pub fn scrub_name<'a>(&self, name: &'a str) -> Cow<'a, str> {
        if !self.scrub_args && !self.strip_proc_arguments {
            return Cow::Borrowed(name);
        }
        let shaped = self.mask_embedded(name);
        let text = shaped.as_deref().unwrap_or(name);
        match Sequence::new(self, false, 0).title(text).or(shaped) {
            Some(scrubbed) => Cow::Owned(scrubbed),
            None => Cow::Borrowed(name),
        }
    }

    /// The executable's path with its secrets hidden: a directory or file named `KEY=value`
    /// with a sensitive key, or holding a shaped secret.
    pub fn scrub_exe<'a>(&self, exe: &'a str) -> Cow<'a, str> {
        if !self.scrub_args && !self.strip_proc_arguments {
            return Cow::Borrowed(exe);
        }
        match self.scrub_program_word(exe) {
            Some(scrubbed) => Cow::Owned(scrubbed),
            None => Cow::Borrowed(exe),
        }
    }

    /// A program word (`/usr/bin/mysql`, `./PASSWORD=x`): a file name of the form `NAME=value`
    /// loses its value whatever the name (no program is called that, but a copy made to leak
    /// through `comm` would be), `NAME:value` and a directory only when the name is a sensitive
    /// key, and shaped secrets and URL credentials go.
    fn scrub_program_word(&self, word: &str) -> Option<String> {
        let mut shaped = shaped::mask_shaped(word);
        if word.contains("://") {
            let text = shaped.as_deref().unwrap_or(word);
            shaped = self.scrub_urls(text).or(shaped);
        }
        let text = shaped.as_deref().unwrap_or(word);
        if !text.contains(['=', ':']) {
            return shaped;
        }
        let mut edits = arg::Edits::new(text);
        let mut at = 0;
        let file_name_at = text.rfind('/').map_or(0, |slash| slash + 1);
        for component in text.split('/') {
            let value_at = component.find('=').map(|equals| equals + 1);
            let file_name = at == file_name_at;
            // `PASSWORD:x` as well as `PASSWORD=x`: a name cut from a title, or a file named so.
            let keyed = value_at.is_some() || component.contains(':');
            match value_at {
                Some(value_at)
                    if file_name
                        && value_at < component.len()
                        && shell::is_name(&component[..value_at - 1]) =>
                {
                    edits.replace(at + value_at..at + component.len(), MASK);
                }
                _ if keyed => {
                    if let Some(scrubbed) = self.scrub_arg(component, 0, false).replaced {
                        edits.replace(at..at + component.len(), &scrubbed);
                    }
                }
                _ => {}
            }
            at += component.len() + 1;
        }
        edits.finish().or(shaped)
    }

    /// What kind of key `key` is (leading dashes and surrounding quotes allowed).
    fn classify(&self, key: &str, form: KeyForm) -> Kind {
        let folded;
        let key = if key.is_ascii() {
            key
        } else {
            folded = key::fold_lookalikes(key);
            folded.as_str()
        };
        let key = key.trim_start_matches('-').trim_matches(['"', '\'']);
        // Windows-style options (`/TargetPassword:x`, `/p:x`) start with one slash.
        let key = match key.strip_prefix('/') {
            Some(option) if form == KeyForm::Key && !option.contains('/') => option,
            _ => key,
        };
        // A path is not a key: `/etc/vault/secrets/x.conf` names a file, it does not introduce a
        // secret, and `https://host/secret?x=1` is no key either.
        if key.is_empty() || key.contains('/') || key.bytes().any(|b| b.is_ascii_whitespace()) {
            return Kind::Plain;
        }
        match key::classify(key, form) {
            Kind::Plain if !self.words.is_empty() => {
                let folded = fold(key);
                if self.words.iter().any(|word| word.matches(&folded)) {
                    Kind::Secret
                } else {
                    Kind::Plain
                }
            }
            kind => kind,
        }
    }

    /// Whether a URL query or fragment parameter holds a secret: a sensitive key, or a
    /// signature or key as presigned and API URLs carry them (`sig`, `X-Amz-Signature`,
    /// `key=AIza…`).
    fn is_secret_parameter(&self, name: &str) -> bool {
        if self.classify(name, KeyForm::Key) != Kind::Plain {
            return true;
        }
        let last = name
            .rsplit(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or(name);
        ["sig", "signature", "key"]
            .iter()
            .any(|word| last.eq_ignore_ascii_case(word) || name.eq_ignore_ascii_case(word))
    }

    /// Text that is a command line (shell text), scrubbed word by word; past the nesting
    /// bound only URLs are looked at.
    fn scrub_text(&self, text: &str, depth: usize) -> Option<String> {
        if depth < MAX_NESTING {
            self.scrub_words(text, depth + 1)
        } else {
            self.scrub_urls(text)
        }
    }

    /// A command that prints a secret (the value of `--password-command`): the arguments of
    /// `echo` or `printf` are the secret itself; any other command is scrubbed as shell text.
    fn scrub_secret_command(&self, text: &str, depth: usize) -> Option<String> {
        let words = shell_words(text);
        let mut edits = arg::Edits::new(text);
        let mut printing: Option<&str> = None;
        for range in words {
            let Some(word) = text.get(range.clone()) else {
                continue;
            };
            if shell::is_control_operator_word(word) {
                printing = None;
                continue;
            }
            match printing {
                None => {
                    let program = programs::basename(shell::unquote(word).1);
                    printing = Some(program).filter(|p| matches!(*p, "echo" | "printf"));
                    if printing.is_none() {
                        return self.scrub_text(text, depth);
                    }
                }
                Some("echo") if word.starts_with('-') => {}
                Some(_) => edits.replace(range, &mask::mask_whole(word)),
            }
        }
        edits.finish()
    }

    /// Scrubs a command line written inside one argument, word by word.
    fn scrub_words(&self, text: &str, depth: usize) -> Option<String> {
        self.scrub_words_then(text, depth).0
    }

    /// [`Self::scrub_text`], and what the word after the text must get: a command line that
    /// ends with a password flag (`ssh host "redis-cli -a" PW`, joined by the remote shell)
    /// hides the next argument.
    fn scrub_text_then(&self, text: &str, depth: usize) -> (Option<String>, Pending) {
        if depth < MAX_NESTING {
            self.scrub_words_then(text, depth + 1)
        } else {
            (self.scrub_urls(text), Pending::Nothing)
        }
    }

    fn scrub_words_then(&self, text: &str, depth: usize) -> (Option<String>, Pending) {
        let mut sequence = Sequence::new(self, true, depth);
        let mut edits = arg::Edits::new(text);
        let words = shell_words(text);
        let piped = shell::piped_secrets(text, &words);
        for (i, range) in words.into_iter().enumerate() {
            let Some(word) = text.get(range.clone()) else {
                continue;
            };
            let replacement = if piped.contains(&i) {
                Some(mask::mask_whole(word))
            } else {
                sequence.step(word)
            };
            if let Some(replacement) = replacement {
                edits.replace(range, &replacement);
            }
        }
        // Text that ends with a space ends with a prompt (`read -p "Enter token: "`), not
        // with a key whose value is the next argument.
        let owed = if text.ends_with(|c: char| c.is_ascii_whitespace()) {
            Pending::Nothing
        } else {
            sequence.owed()
        };
        (edits.finish(), owed)
    }
}

/// What kind of key a key is for scrubbing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    /// Its value is hidden whole.
    Secret,
    /// Its value is a credential that may start with a scheme word, which is kept.
    Authorization,
    /// Its value is a command that prints the secret (`--password-command`, `passwordeval`):
    /// what `echo` or `printf` prints there is hidden.
    SecretCommand,
}

impl Kind {
    /// What the next word gets when this key stands alone.
    fn pending(self) -> Pending {
        match self {
            Kind::Plain => Pending::Nothing,
            Kind::Secret => Pending::Mask,
            Kind::Authorization => Pending::Authorization,
            Kind::SecretCommand => Pending::SecretCommand,
        }
    }
}

/// What the next word gets because of this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    /// Hidden whole: it is the value of a sensitive key or password flag (unless it is a long
    /// option or a switch value, which says the key had no value).
    Mask,
    /// The word before was a key written as code (`password`, `os.environ['TOKEN']`): if this
    /// one assigns (`=`, `:=`), the value after it is hidden.
    Assignment,
    /// Hidden whole unless it computes its value (`password = "x"`, not
    /// `pw = getpass("Password: ")`).
    Literal,
    /// Hidden whole, and so is the word after it, unless it is a long option (`qpdf --encrypt
    /// USER OWNER`).
    MaskTwo,
    /// A command that prints a secret (`--password-command "echo x"`).
    SecretCommand,
    /// Hidden whole unless it is an option (`gh auth login --with-token`).
    MaskUnlessOption,
    /// It is an authorization value: the scheme stays, the credential goes.
    Authorization,
    /// `user:password` (with this separator): the password goes.
    UserPassword(u8),
    /// An Oracle logon: the password goes.
    Logon,
    /// Cookie data goes, a cookie file stays.
    Cookie,
    /// The value of a program's option: scrubbed on its own, and not an operand.
    Value,
    /// Two such values (`bwrap --bind SOURCE DEST`).
    TwoValues,
    /// Shell text (`su -c`, `flock -c`).
    Shell,
    /// The program a wrapper's command operands go to (`docker run --entrypoint`).
    Entrypoint,
}

/// The result of scrubbing one argument.
#[derive(Debug)]
struct Outcome {
    /// The new text, or `None` for unchanged.
    replaced: Option<String>,
    then: Pending,
}

impl Outcome {
    fn replaced(replaced: Option<String>) -> Self {
        Outcome {
            replaced,
            then: Pending::Nothing,
        }
    }
}
