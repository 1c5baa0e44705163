//! Walking the words of one command line (an argv, a process title, or shell text inside an
//! argument), carrying what one word says about the next: the value of a key, the rules of the
//! program being run, where a wrapper's command starts.

use super::arg::Edits;
use super::code::{is_expression, is_mapping_key, opens_object, operator};
use super::key::KeyForm;
use super::mask::{
    is_long_option, is_secret_file_path, is_switch_value, mask_authorization, mask_logon,
    mask_user_password, mask_whole,
};
use super::programs::{is_known, program_named, Operands, Program, Rules, Value};
use super::shell::{glued_quotes, is_assignment, is_control_operator_word, unquote};
use super::{Kind, Pending, Scrubber, MASK};

pub(super) struct Sequence<'s> {
    scrubber: &'s Scrubber,
    /// The words come from shell text: they may be quoted, and `;`, `&&`, `|` start a new
    /// command.
    shell: bool,
    depth: usize,
    pending: Pending,
    /// The next word names the command (unless it is a `NAME=value` assignment).
    at_command: bool,
    /// The program whose arguments these are, when the scrubber knows it.
    program: Option<&'static Program>,
    /// Its rules, or those of the subcommand named so far.
    rules: Option<Rules>,
    /// The operands that matched the start of a subcommand's path (`compose` of `docker
    /// compose exec`), while a subcommand may still be named.
    subcommand: Option<&'static [&'static str]>,
    /// Operands seen under the current rules.
    operands: usize,
    /// Single-letter options seen (`-b`, `-n` of htpasswd), as bits.
    flags: u64,
    /// `--` was seen: every word after it is an operand.
    options_done: bool,
    /// SQL's `IDENTIFIED` was seen: `BY` introduces a password.
    identified: bool,
    /// SQL's `SET PASSWORD FOR` was seen: after the account, `=` introduces the password.
    password_for: bool,
    /// The words are a process title: not quoted, and a shell's `-c` is followed by the words
    /// of its command rather than one word of shell text.
    title: bool,
    /// The program that a wrapper's command operands go to (`docker run --entrypoint`).
    entrypoint: Option<&'static Program>,
    /// `--` was the last word, under a program that runs no command as far as its rules say:
    /// a known program after it is a command (`kubectl debug POD -- mysql -p…`).
    after_double_dash: bool,
}

impl<'s> Sequence<'s> {
    pub(super) fn new(scrubber: &'s Scrubber, shell: bool, depth: usize) -> Self {
        Sequence {
            scrubber,
            shell,
            depth,
            pending: Pending::Nothing,
            at_command: true,
            program: None,
            rules: None,
            subcommand: None,
            operands: 0,
            flags: 0,
            options_done: false,
            identified: false,
            password_for: false,
            title: false,
            entrypoint: None,
            after_double_dash: false,
        }
    }

    /// Scrubs a process title (argv\[0\] holding a whole command line, or a process name):
    /// its words are separated by whitespace only, since nobody quoted them.
    pub(super) fn title(&mut self, text: &str) -> Option<String> {
        self.title = true;
        let mut edits = Edits::new(text);
        // Titles are written for people, who may separate words with any space
        // (`worker:\u{3000}--token\u{3000}x`), and no program parses them.
        let mut start = None;
        let ends = text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')));
        for (i, c) in ends {
            match (c.is_whitespace(), start) {
                (true, Some(from)) => {
                    start = None;
                    if let Some(replaced) = self.step(&text[from..i]) {
                        edits.replace(from..i, &replaced);
                    }
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        self.title = false;
        // A blank title (`""`, a lone vertical tab) still stands where the program is: what
        // follows are its arguments, not a command to name (found by fuzzing: the next
        // argument was read as a program and split at its newlines).
        if text.chars().all(char::is_whitespace) {
            self.at_command = false;
        }
        edits.finish()
    }

    /// What the word after the last one must get, when it is a secret whatever comes next:
    /// the value of a password flag or a sensitive key.
    pub(super) fn owed(&self) -> Pending {
        match self.pending {
            Pending::Mask | Pending::MaskUnlessOption | Pending::Authorization => self.pending,
            Pending::Literal => Pending::Mask,
            _ => Pending::Nothing,
        }
    }

    /// Scrubs the next word: `None` leaves it unchanged.
    pub(super) fn step(&mut self, word: &str) -> Option<String> {
        let (open, inner, close) = if self.shell {
            unquote(word)
        } else {
            ("", word, "")
        };
        // `--pa''ssword=x`, `-"a"`, `redis"-cli"`, `my\sql`: quotes and escapes inside a key,
        // option or program name are read the way the shell reads them. The value keeps its
        // quotes, and so does the key where it is shown.
        if self.shell && open.is_empty() {
            if let Some((key_len, key)) = glued_quotes(inner) {
                let plain = format!("{key}{}", &inner[key_len..]);
                let replaced = self.step_unquoted(&plain, false)?;
                return Some(match replaced.strip_prefix(key.as_str()) {
                    Some(rest) => format!("{}{rest}", &inner[..key_len]),
                    None => replaced,
                });
            }
        }
        let replaced = self.step_unquoted(inner, !open.is_empty());
        replaced.map(|text| format!("{open}{text}{close}"))
    }

    fn step_unquoted(&mut self, word: &str, quoted: bool) -> Option<String> {
        // `;`, `&&`, `|` end a command whatever it was waiting for.
        if self.shell && !quoted && is_control_operator_word(word) {
            self.pending = Pending::Nothing;
            self.begin_command();
            return None;
        }
        let pending = std::mem::replace(&mut self.pending, Pending::Nothing);
        if let Some(replaced) = self.settle(pending, word, quoted) {
            return replaced;
        }
        if self.at_command {
            return self.command(word, quoted);
        }
        if std::mem::take(&mut self.after_double_dash) && is_known(word) {
            self.begin_command();
            return self.command(word, quoted);
        }
        // A command substitution starts a command of its own (`echo $(mysql -p…)`).
        if self.shell && !quoted && (word.starts_with("$(") || word.starts_with('`')) {
            self.begin_command();
            return self.command(word, quoted);
        }
        if self.password_for && word == "=" {
            // SQL: `SET PASSWORD FOR 'u'@'h' = 'pw'`.
            self.password_for = false;
            self.pending = Pending::Mask;
            return None;
        }
        if word.eq_ignore_ascii_case("identified") {
            self.identified = true;
        } else if self.identified && word.eq_ignore_ascii_case("by") {
            // SQL: `CREATE USER u IDENTIFIED BY 'pw'`.
            self.identified = false;
            self.password_for = false;
            self.pending = Pending::Mask;
            return None;
        }
        let Some(rules) = self.rules else {
            if word == "--" {
                self.after_double_dash = true;
                return None;
            }
            return self.generic(word, quoted, true);
        };
        if !self.options_done {
            if word == "--" {
                self.options_done = true;
                self.after_double_dash = !matches!(rules.operands, Operands::Command { .. });
                return None;
            }
            if let Some(replaced) = self.option(&rules, word, quoted) {
                return replaced;
            }
            if word.len() > 1 && word.starts_with('-') {
                return self.generic(word, quoted, rules.bare_keys);
            }
        }
        // An assignment after a wrapper is never the wrapped program (`env A=B mysql`).
        if matches!(rules.operands, Operands::Command { .. }) && is_assignment(word) {
            return self.generic(word, quoted, rules.bare_keys);
        }
        self.operand(&rules, word, quoted)
    }

    /// The word after one that said what it must get (the value of a key or a flag, the
    /// program of `--entrypoint`, ...): `Some` with what it becomes when that decides it,
    /// `None` when the word is read as any other.
    fn settle(&mut self, pending: Pending, word: &str, quoted: bool) -> Option<Option<String>> {
        match pending {
            Pending::Nothing => {}
            Pending::Mask => {
                // SQL's `SET PASSWORD FOR account = 'pw'`: the account comes first.
                if self.shell && word.eq_ignore_ascii_case("for") {
                    self.password_for = true;
                    return Some(None);
                }
                // Only in text split at whitespace: in an argv, `--password '&&'` is a
                // password made of operator characters (found by fuzzing), and only a lone
                // `=` (`requirepass = x` written as three arguments) still assigns.
                let operator = operator(word).filter(|_| !quoted && (self.shell || word == "="));
                if let Some(assigns) = operator {
                    // `PASSWORD = 'x'`, `"password" : "x"`, `password => 'x'`: the value is
                    // still to come. Any other operator (`$ENV{PASSWORD} ? … : …`,
                    // `$PASSWORD == ""`) says the key had no value here.
                    if assigns {
                        self.pending = Pending::Mask;
                    }
                    return Some(None);
                }
                // `{"auth": {"password": "x"}}` split at whitespace, or YAML's `credentials:`
                // and then `token: x` on the next line: the value of the key is a mapping whose
                // own keys decide.
                if self.shell && !quoted && (opens_object(word) || is_mapping_key(word)) {
                    return Some(self.generic(word, quoted, true));
                }
                // A switch (`--auth --port 1`, `--auth=true`, `keytool -storepasswd -new x`)
                // had no value to hide.
                let option_next = is_long_option(word)
                    || self.rules.is_some_and(|rules| is_option_of(&rules, word));
                if !option_next && !is_switch_value(word) && !is_secret_file_path(word) {
                    return Some(Some(self.mask(word)));
                }
            }
            Pending::Assignment => {
                if operator(word) == Some(true) {
                    self.pending = Pending::Literal;
                    return Some(None);
                }
                // `"password" :"x"`: the operator written against the value.
                let value = word
                    .strip_prefix([':', '='])
                    .map(|v| v.trim_start_matches('='));
                if let Some(value) = value.filter(|v| !v.is_empty() && !is_expression(v)) {
                    let kept = &word[..word.len() - value.len()];
                    return Some(Some(format!("{kept}{}", self.mask(value))));
                }
            }
            // A value computed by a call or read from a variable (`pw = getpass('…')`,
            // `token = $T`) is no secret written here.
            Pending::Literal if is_expression(word) => {}
            Pending::Literal => return Some(Some(self.mask(word))),
            Pending::MaskTwo => {
                if !is_long_option(word) {
                    self.pending = Pending::Mask;
                    return Some(Some(self.mask(word)));
                }
            }
            Pending::SecretCommand => {
                return Some(self.scrubber.scrub_secret_command(word, self.depth))
            }
            Pending::MaskUnlessOption => {
                if !word.starts_with('-') {
                    return Some(Some(self.mask(word)));
                }
            }
            Pending::Authorization => {
                let (masked, then) = mask_authorization(word);
                self.pending = then;
                return Some(masked);
            }
            Pending::UserPassword(separator) => return Some(mask_user_password(word, separator)),
            Pending::Logon => return Some(mask_logon(word).or_else(|| self.value(word, quoted))),
            Pending::Cookie => return Some(word.contains('=').then(|| self.mask(word))),
            Pending::Value => return Some(self.value(word, quoted)),
            Pending::TwoValues => {
                let replaced = self.value(word, quoted);
                if self.pending == Pending::Nothing {
                    self.pending = Pending::Value;
                }
                return Some(replaced);
            }
            Pending::Entrypoint => {
                self.entrypoint = program_named(word);
                return Some(None);
            }
            Pending::Shell if self.title => {
                self.begin_command();
                return Some(self.command(word, quoted));
            }
            Pending::Shell => return Some(self.scrubber.scrub_text(word, self.depth)),
        }
        None
    }

    /// Starts a new command: the next word names it.
    fn begin_command(&mut self) {
        self.at_command = true;
        self.program = None;
        self.rules = None;
        self.subcommand = None;
        self.operands = 0;
        self.flags = 0;
        self.options_done = false;
        self.identified = false;
        self.entrypoint = None;
        self.after_double_dash = false;
    }

    /// Takes `program` (if the scrubber knows it) as the one whose arguments follow.
    fn start_program(&mut self, program: Option<&'static Program>) {
        self.at_command = false;
        self.program = program;
        self.rules = program.map(|p| p.rules);
        self.subcommand = program
            .filter(|p| !p.subcommands.is_empty())
            .map(|_| &[][..]);
    }

    /// The word that names the command.
    fn command(&mut self, word: &str, quoted: bool) -> Option<String> {
        if self.shell && is_assignment(word) {
            let replaced = self.generic(word, quoted, true);
            // `out=$(mysql -p…)`: the substitution's command follows.
            if let Some((_, value)) = word.split_once('=') {
                if let Some(command) = value.strip_prefix("$(").or(value.strip_prefix('`')) {
                    if self.pending == Pending::Nothing && !command.is_empty() {
                        self.command(command, quoted);
                    }
                }
            }
            return replaced;
        }
        // Shell syntax before a command: a subshell or group (`(`, `{`), a function's
        // definition (`f()`), a pattern of `case` (`start)`).
        if self.shell && !quoted {
            let syntax = !word.is_empty() && word.bytes().all(|b| b"({!".contains(&b));
            let pattern = word.ends_with(')') && (!word.contains('(') || word.ends_with("()"));
            if syntax || pattern {
                return None;
            }
        }
        self.at_command = false;
        // Not a program's name: a command line (`watch "mysql -p…"`, `ssh host "…"`), an
        // option (`env --password=…`, found by fuzzing), or a key (`password:` in YAML split
        // into words).
        if word.bytes().any(|b| b.is_ascii_whitespace()) {
            let (replaced, then) = self.scrubber.scrub_text_then(word, self.depth);
            self.pending = then;
            return replaced;
        }
        // In a title, `sshd:` and `postgres:` name the program; `password:` is a key.
        let key_first = word.strip_suffix(':').is_some_and(|key| {
            !self.title || self.scrubber.classify(key, KeyForm::Key) != Kind::Plain
        });
        if (word.len() > 1 && word.starts_with('-')) || key_first {
            return self.generic(word, quoted, true);
        }
        let program = program_named(word);
        // Code rather than a command: `password = "x"`, `os.environ['API_TOKEN'] = 'x'`,
        // `$ENV{'DB_PASS'} = 'x'`. The key is only taken for one if an assignment follows.
        if self.shell
            && program.is_none()
            && !word.contains(['=', ':', '('])
            && self.scrubber.classify(word, KeyForm::Key) == Kind::Secret
        {
            self.start_program(None);
            self.pending = Pending::Assignment;
            return None;
        }
        // A call (`define('DB_PASSWORD',`, `os.putenv('TOKEN',`): its arguments decide.
        if self.shell && program.is_none() && word.contains('(') {
            self.start_program(None);
            return self.generic(word, quoted, true);
        }
        self.start_program(program);
        self.scrubber.scrub_program_word(word)
    }

    /// A word under a known program's rules that is no option: maybe a subcommand, maybe a
    /// secret by position, maybe the start of the wrapped command.
    fn operand(&mut self, rules: &Rules, word: &str, quoted: bool) -> Option<String> {
        if let (Some(prefix), Some(program)) = (self.subcommand, self.program) {
            let depth = prefix.len();
            let named = |path: &[&str]| {
                path.len() > depth && path[depth] == word && path[..depth] == *prefix
            };
            // A subcommand may be one itself and start longer ones (`vault auth TOKEN`,
            // `vault auth list`): its rules hold until a longer one is named.
            let exact = program
                .subcommands
                .iter()
                .find(|s| s.path.len() == depth + 1 && named(s.path));
            let longer = program
                .subcommands
                .iter()
                .find(|s| s.path.len() > depth + 1 && named(s.path));
            if let Some(sub) = exact {
                self.rules = Some(sub.rules);
                self.operands = 0;
            }
            self.subcommand = longer.map(|sub| &sub.path[..=depth]);
            if exact.is_some() || longer.is_some() {
                return None;
            }
        }
        if rules.operands == Operands::Token && word.contains('=') {
            return self.generic(word, quoted, rules.bare_keys);
        }
        self.operands += 1;
        let n = self.operands;
        let secret = match rules.operands {
            Operands::Plain => false,
            Operands::SecretAt(at) => n == at,
            Operands::Token => n == 1,
            Operands::Secret => true,
            Operands::Htpasswd => {
                self.has_flag(b'b') && n == if self.has_flag(b'n') { 2 } else { 3 }
            }
            Operands::Logon => {
                return mask_logon(word).or_else(|| self.generic(word, quoted, rules.bare_keys))
            }
            Operands::Command { skip, strict } => {
                // A number after the last operand the wrapper takes is one more of its
                // arguments (an option value this table does not know), not a program.
                let numeric = word.starts_with(|c: char| c.is_ascii_digit()) && !is_known(word);
                if strict && n == skip {
                    self.options_done = true;
                }
                if n > skip && !numeric {
                    if let Some(entrypoint) = self.entrypoint {
                        // The image's arguments go to the entrypoint, this word first.
                        self.begin_command();
                        self.start_program(Some(entrypoint));
                        return self.step_unquoted(word, quoted);
                    }
                    self.begin_command();
                    return self.command(word, quoted);
                }
                false
            }
        };
        if secret {
            return Some(self.mask(word));
        }
        self.generic(word, quoted, rules.bare_keys)
    }

    /// When `word` is an option of `rules` (or a cluster of them), what it becomes
    /// (`Some(None)`: unchanged).
    fn option(&mut self, rules: &Rules, word: &str, quoted: bool) -> Option<Option<String>> {
        // Programs whose options are single-dash words take no value attached to a short
        // option (`openssl -key` is not `-k` with `ey`), except where that is the only way.
        let attaches = |name: &str, value: Option<Value>| {
            rules.clusters
                || name.starts_with("--")
                || !name.starts_with('-')
                || value == Some(Value::SecretAttached)
                || (name.len() > 2 && word.as_bytes().get(name.len()) == Some(&b'='))
        };
        for opt in rules.options {
            if word == opt.name {
                self.expect(opt.value, word);
                return Some(None);
            }
            if !attaches(opt.name, Some(opt.value)) {
                continue;
            }
            if let Some(value) = opt.attached(word) {
                let kept = &word[..word.len() - value.len()];
                return Some(
                    self.attached(opt.value, value)
                        .map(|v| format!("{kept}{v}")),
                );
            }
        }
        for name in rules.valued.split_ascii_whitespace() {
            if word == name {
                self.pending = Pending::Value;
                return Some(None);
            }
            let attached = if name.starts_with("--") {
                word.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('='))
            } else if name.len() == 2 && attaches(name, None) {
                word.strip_prefix(name).filter(|rest| !rest.is_empty())
            } else {
                None
            };
            if let Some(value) = attached {
                let kept = &word[..word.len() - value.len()];
                return Some(self.value(value, quoted).map(|v| format!("{kept}{v}")));
            }
        }
        if rules.clusters && word.len() > 1 && word.starts_with('-') && !word.starts_with("--") {
            return self.cluster(rules, word, quoted);
        }
        None
    }

    /// Single-letter options clustered getopt style (`-lc`, `-nbB`, `-dmS name`): each letter
    /// is a switch until one that takes a value, which takes the rest of the word or the next.
    fn cluster(&mut self, rules: &Rules, word: &str, quoted: bool) -> Option<Option<String>> {
        let is_short = |name: &str, c: char| {
            name.len() == 2 && name.starts_with('-') && name[1..].starts_with(c)
        };
        for (i, c) in word[1..].char_indices() {
            let rest = &word[1 + i + c.len_utf8()..];
            let kept = &word[..word.len() - rest.len()];
            if let Some(opt) = rules.options.iter().find(|o| is_short(o.name, c)) {
                if rest.is_empty() {
                    self.expect(opt.value, word);
                    return Some(None);
                }
                return Some(self.attached(opt.value, rest).map(|v| format!("{kept}{v}")));
            }
            if rules
                .valued
                .split_ascii_whitespace()
                .any(|name| is_short(name, c))
            {
                if rest.is_empty() {
                    self.pending = Pending::Value;
                    return Some(None);
                }
                return Some(self.value(rest, quoted).map(|v| format!("{kept}{v}")));
            }
            if c.is_ascii_alphabetic() {
                self.flags |= 1 << flag_bit(c as u8);
            }
        }
        None
    }

    /// What the next word is, after an option of this kind given alone.
    fn expect(&mut self, value: Value, word: &str) {
        self.pending = match value {
            Value::Secret => Pending::Mask,
            Value::SecretAttached => Pending::Nothing,
            Value::SecretUnlessOption => Pending::MaskUnlessOption,
            Value::UserPassword(separator) => Pending::UserPassword(separator),
            Value::Logon => Pending::Logon,
            Value::Cookie => Pending::Cookie,
            Value::Shell => Pending::Shell,
            Value::Command => {
                self.begin_command();
                Pending::Nothing
            }
            Value::Entrypoint => Pending::Entrypoint,
            Value::Switch => Pending::Nothing,
            Value::TwoValues => Pending::TwoValues,
            Value::SecretPair => Pending::MaskTwo,
        };
        if let [b'-', c] = word.as_bytes() {
            if c.is_ascii_alphabetic() {
                self.flags |= 1 << flag_bit(*c);
            }
        }
    }

    /// A value written against its option (`-psecret`, `--user=a:b`, `-c"shell text"`).
    fn attached(&mut self, value: Value, text: &str) -> Option<String> {
        match value {
            Value::Switch | Value::TwoValues => None,
            Value::Secret
            | Value::SecretAttached
            | Value::SecretUnlessOption
            | Value::SecretPair => Some(self.mask(text)),
            Value::UserPassword(separator) => mask_user_password(text, separator),
            Value::Logon => mask_logon(text),
            Value::Cookie => text.contains('=').then(|| self.mask(text)),
            Value::Shell => self.scrubber.scrub_text(text, self.depth),
            Value::Command => self.value(text, false),
            Value::Entrypoint => {
                self.entrypoint = program_named(text);
                None
            }
        }
    }

    /// The value of an option that is nothing special: scrubbed on its own (`-e PASSWORD=x`),
    /// and never a key whose value is the next word.
    fn value(&mut self, word: &str, quoted: bool) -> Option<String> {
        let outcome = self
            .scrubber
            .scrub_arg(word, self.depth + usize::from(quoted), false);
        if matches!(outcome.then, Pending::Authorization) {
            self.pending = outcome.then;
        }
        outcome.replaced
    }

    /// The generic rules, for a word no program rule claimed.
    fn generic(&mut self, word: &str, quoted: bool, bare_keys: bool) -> Option<String> {
        let outcome = self
            .scrubber
            .scrub_arg(word, self.depth + usize::from(quoted), bare_keys);
        // `"$PASSWORD"` in shell text reads the variable (`[ "$PASSWORD" = "" ]`): what follows
        // is no value of it.
        self.pending = if quoted && word.starts_with('$') {
            Pending::Nothing
        } else {
            outcome.then
        };
        outcome.replaced
    }

    /// A secret word hidden whole: in shell text the quotes around it stay, in an argv the
    /// quotes are part of the secret.
    fn mask(&self, word: &str) -> String {
        if self.shell {
            mask_whole(word)
        } else {
            MASK.to_owned()
        }
    }

    fn has_flag(&self, letter: u8) -> bool {
        self.flags & (1 << flag_bit(letter)) != 0
    }
}

/// Whether `word` is exactly one of the options `rules` lists.
fn is_option_of(rules: &Rules, word: &str) -> bool {
    // A `key=value` style option (sqlplus's `userid`) written bare is no option: after
    // `--password` it is the password (found by fuzzing).
    if !word.starts_with(['-', '/']) {
        return false;
    }
    rules.options.iter().any(|o| o.name == word)
        || rules
            .valued
            .split_ascii_whitespace()
            .any(|name| name == word)
}

/// The bit of an ASCII letter in [`Sequence::flags`].
fn flag_bit(letter: u8) -> u32 {
    match letter {
        b'a'..=b'z' => u32::from(letter - b'a'),
        b'A'..=b'Z' => 26 + u32::from(letter - b'A'),
        _ => 63,
    }
}
