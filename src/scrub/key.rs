//! The built-in rule for which argument keys name a secret.
//!
//! A key (`--db-password`, `GITHUB_TOKEN`, `keyStorePassword`, `X-Api-Key`) is read as an
//! English compound: it is split into components at `-`, `_`, `.`, any other punctuation and
//! camelCase boundaries, and what it names is its *last* component, the head noun. The key
//! names a secret when its head is a secret noun (`password`, `token`, `secret`, `pass`, `pw`,
//! `credential`, `auth`, ...), or when its last two components are a secret compound (`api
//! key`, `access key`, `private key`, `secret id`, `token value`). A key that merely *contains*
//! such a noun names something else: `--token-ttl` is a duration, `--key-file` and
//! `--password-file` are paths, `--auth-mode` is a mode, `--passthrough` is not made of `pass`
//! at all. Nouns glued to a word before them still count (`dbpassword`, `storepass`, `bindpw`),
//! except for ordinary words that happen to end that way (`bypass`, `compass`).
//!
//! Matching is on a handful of short components per key, so it costs nothing against the rest
//! of the scrubbing, and allocates only for keys that contain a candidate noun at all.

use super::Kind;

/// Head nouns that name a secret.
const SECRET_NOUNS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "pw",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "credential",
    "credentials",
    "cred",
    "creds",
    "apikey",
    "auth",
    "bearer",
    "cookie",
    "psk",
    "otp",
];

/// The nouns that make a key of a bare positional word on their own (`mysqladmin password X`,
/// `nmcli … psk X`, SQL's `PASSWORD 'x'`). The others are too often subcommands and resource
/// names (`influx auth create`, `kubectl create token`, `step ca token`).
const BARE_NOUNS: &[&str] = &["password", "passwd", "passphrase", "psk"];

/// Nouns that still name a secret when glued to the word before them (`dbpassword`,
/// `storepass`, `requirepass`, `githubtoken`, `masterauth`, `setcookie`).
const GLUED_NOUNS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "credential",
    "credentials",
    "pwd",
    "pass",
    "pw",
    "auth",
    "cookie",
];

/// Words that end in a glued noun but are not made of it.
const NOT_GLUED: &[&str] = &[
    "bypass",
    "compass",
    "encompass",
    "overpass",
    "underpass",
    "trespass",
    "surpass",
    "impass",
    "multipass",
    "askpass",
    "getpass",
    "oldpwd",
    "noauth",
    "unauth",
];

/// Glued keys that name a secret even as a bare word, without dashes or a value: the
/// configuration directives people type as positional arguments (`CONFIG SET requirepass x`).
const GLUED_BARE: &[&str] = &[
    "requirepass",
    "masterauth",
    "masterpass",
    "storepass",
    "keypass",
    "bindpw",
    "rootpw",
    "apikey",
    "authtoken",
    "apitoken",
];

/// Words that make `key` a secret compound when they come right before it (`api key`, `access
/// key`, `SharedAccessKey`), glued or not (`apikey`, `secretkey`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "account",
    "master",
    "encryption",
    "signing",
    "shared",
    "app",
    "application",
    "consumer",
    "subscription",
    "storage",
    "session",
    "auth",
    "hmac",
    "jwt",
    "license",
    "webhook",
    "sas",
    "service",
    "admin",
    "write",
    "sdk",
    "certificate",
];

/// Last components that name the value of the secret noun before them (`--secret-string`,
/// `--password-value`, `secret_id` as Vault's AppRole uses it, `-dev-root-token-id`).
const VALUE_WORDS: &[&str] = &[
    "value",
    "string",
    "text",
    "data",
    "b64",
    "base64",
    "hex",
    "raw",
    "plain",
    "plaintext",
    "literal",
    "content",
];

/// Words before `token` that make it a piece of text rather than a credential (language
/// models' special tokens, pagination tokens).
const NOT_CREDENTIAL_TOKENS: &[&str] = &[
    "eos",
    "bos",
    "pad",
    "unk",
    "sep",
    "mask",
    "cls",
    "special",
    "max",
    "min",
    "num",
    "page",
    "next",
    "continuation",
    "cancellation",
    "resume",
    "start",
    "end",
    "stop",
];

/// First components that turn a secret noun into a switch about it (`--no-password`,
/// `--skip-auth`, `--ask-pass`, `--allow-empty-password`).
const NEGATIONS: &[&str] = &[
    "no", "non", "disable", "without", "skip", "ignore", "allow", "ask", "prompt", "generate",
    "require", "print", "show",
];

/// Keys that end in a secret noun and name something else: MySQL's authentication plugins,
/// OpenVPN's credentials file.
const NOT_SECRET_KEYS: &[&str] = &[
    "mysql_native_password",
    "caching_sha2_password",
    "sha256_password",
    "mysql_clear_password",
    "mysql_old_password",
    "auth_user_pass",
];

/// Substrings (lower case) that every secret key contains: a key without any is plain without
/// being split.
const CANDIDATES: &[&str] = &[
    "pass", "pw", "secret", "token", "cred", "key", "auth", "bearer", "cookie", "psk", "otp",
];

/// How a key was written, which decides how much evidence it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyForm {
    /// `--key`, `KEY=value`, `key: value`: written as a key.
    Key,
    /// A bare word among positional arguments (`password`, `requirepass`, `user.password`): it
    /// is a key only when made of a secret noun on its own and not hyphenated, since package,
    /// branch and service names are bare words too (`jsonwebtoken`, `fix-auth`, `next-auth`).
    Bare,
}

/// What kind of key `key` is by the built-in rule (dashes and surrounding quotes already
/// removed by the caller).
pub(super) fn classify(key: &str, form: KeyForm) -> Kind {
    // The environment's working directories, not passwords.
    if key == "PWD" || key == "OLDPWD" {
        return Kind::Plain;
    }
    // Redis's `AUTH password` command.
    if form == KeyForm::Bare && key == "AUTH" {
        return Kind::Secret;
    }
    // A hyphenated bare word is a name (`fix-auth`), unless it is a property path
    // (`wifi-sec.psk`, `802-1x.password`).
    if form == KeyForm::Bare && key.contains('-') && !key.contains(['.', '_']) {
        return Kind::Plain;
    }
    if !CANDIDATES
        .iter()
        .any(|needle| contains_ignore_ascii_case(key, needle))
    {
        return Kind::Plain;
    }
    let mut parts = components(key);
    // Trailing numbers do not change what a key names (`PASSWORD_2`, `token1`).
    while parts
        .last()
        .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        parts.pop();
    }
    if let Some(last) = parts.last_mut() {
        let kept = last.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        last.truncate(kept);
    }
    let Some(last) = parts.last().map(String::as_str) else {
        return Kind::Plain;
    };
    if last == "authorization" {
        return Kind::Authorization;
    }
    if names_secret_command(&parts, form) {
        return Kind::SecretCommand;
    }
    if NOT_SECRET_KEYS.contains(&parts.join("_").as_str())
        || (parts.len() > 1 && NEGATIONS.contains(&parts[0].as_str()))
    {
        return Kind::Plain;
    }
    let before = parts.len().checked_sub(2).map(|i| parts[i].as_str());
    let secret = names_secret(last, before, form)
        // A noun written in two parts: `pass-phrase`, `pass_word`, `api-key`.
        || before.is_some_and(|b| SECRET_NOUNS.contains(&format!("{b}{last}").as_str()))
        || before.is_some_and(|noun| {
            (VALUE_WORDS.contains(&last) && names_secret(noun, None, form))
                || (last == "id" && matches!(noun, "secret" | "token"))
                // Inline key material (`--client-key-data`, `tls-key-b64`).
                || (noun == "key" && matches!(last, "data" | "b64" | "base64"))
        });
    if secret {
        Kind::Secret
    } else {
        Kind::Plain
    }
}

/// Words that make a key name a command rather than a value (`--password-command`,
/// `passwordeval`, `PassCmd`).
const COMMAND_WORDS: &[&str] = &["command", "cmd", "eval"];

/// Whether the key whose components are `parts` names a command that prints a secret: a
/// command word after a secret noun, or glued to one.
fn names_secret_command(parts: &[String], form: KeyForm) -> bool {
    let Some(last) = parts.last().map(String::as_str) else {
        return false;
    };
    let before = parts.len().checked_sub(2).map(|i| parts[i].as_str());
    if COMMAND_WORDS.contains(&last) {
        return before.is_some_and(|noun| names_secret(noun, None, KeyForm::Key));
    }
    form == KeyForm::Key
        && COMMAND_WORDS.iter().any(|word| {
            last.strip_suffix(word)
                .is_some_and(|noun| SECRET_NOUNS.contains(&noun))
        })
}

/// Whether `head`, the last component of a key (with `before` the one ahead of it), names a
/// secret.
fn names_secret(head: &str, before: Option<&str>, form: KeyForm) -> bool {
    if head == "token" && before.is_some_and(|b| NOT_CREDENTIAL_TOKENS.contains(&b)) {
        return false;
    }
    let bare = form == KeyForm::Bare && before.is_none();
    if bare {
        return BARE_NOUNS.contains(&head) || GLUED_BARE.contains(&head);
    }
    if SECRET_NOUNS.contains(&head) {
        return true;
    }
    if head == "key" {
        return before.is_some_and(|b| KEY_QUALIFIERS.contains(&b));
    }
    if let Some(qualifier) = head.strip_suffix("key") {
        return KEY_QUALIFIERS.contains(&qualifier);
    }
    match form {
        KeyForm::Bare => GLUED_BARE.contains(&head),
        KeyForm::Key => {
            !NOT_GLUED.contains(&head)
                && GLUED_NOUNS
                    .iter()
                    .any(|noun| head.len() > noun.len() && head.ends_with(noun))
        }
    }
}

/// `key` with the characters that only look like ASCII written as ASCII: fullwidth forms
/// (`ｐａｓｓｗｏｒｄ`), Cyrillic and Greek letters shaped like Latin ones (`pаssword` with a
/// Cyrillic `а`), and without invisible characters (zero-width spaces and joiners, soft
/// hyphens), so a key written to be read as `password` is one.
pub(super) fn fold_lookalikes(key: &str) -> String {
    key.chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{ad}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
            )
        })
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            'а' | 'ɑ' | 'α' => 'a',
            'с' | 'ϲ' => 'c',
            'ԁ' => 'd',
            'е' | 'ε' => 'e',
            'һ' => 'h',
            'і' | 'ι' => 'i',
            'ј' => 'j',
            'к' | 'κ' => 'k',
            'о' | 'ο' => 'o',
            'р' | 'ρ' => 'p',
            'ѕ' => 's',
            'т' | 'τ' => 't',
            'υ' => 'u',
            'ѡ' | 'ω' => 'w',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            'А' | 'Α' => 'A',
            'В' | 'Β' => 'B',
            'С' => 'C',
            'Е' | 'Ε' => 'E',
            'Н' | 'Η' => 'H',
            'І' | 'Ι' => 'I',
            'К' | 'Κ' => 'K',
            'М' | 'Μ' => 'M',
            'О' | 'Ο' => 'O',
            'Р' | 'Ρ' => 'P',
            'Ѕ' => 'S',
            'Т' | 'Τ' => 'T',
            'Х' | 'Χ' => 'X',
            'У' | 'Υ' => 'Y',
            _ => c,
        })
        .collect()
}

/// The lower-case components of a key: split at every character that is not a letter or
/// digit, and at camelCase boundaries (`keyStorePassword`, `AWSSecretKey`, `HAuthorization`).
fn components(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for run in key.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = run.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, here) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            let boundary = here.is_uppercase()
                && (prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_lower));
            if boundary {
                parts.push(lower(&chars[start..i]));
                start = i;
            }
        }
        if start < chars.len() {
            parts.push(lower(&chars[start..]));
        }
    }
    parts
}

fn lower(chars: &[char]) -> String {
    chars.iter().flat_map(|c| c.to_lowercase()).collect()
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_lower_case_components() {
        let rows: &[(&str, &[&str])] = &[
            ("db-password", &["db", "password"]),
            ("keyStorePassword", &["key", "store", "password"]),
            ("AWSSecretKey", &["aws", "secret", "key"]),
            ("X-Api-Key", &["x", "api", "key"]),
            ("HAuthorization", &["h", "authorization"]),
            ("oauth2Token", &["oauth2", "token"]),
            (
                "spring.datasource.password",
                &["spring", "datasource", "password"],
            ),
            ("{\"api_key\"", &["api", "key"]),
        ];
        for &(key, expected) in rows {
            assert_eq!(components(key), expected, "{key}");
        }
    }

    #[test]
    fn the_head_noun_decides() {
        let rows: &[(&str, KeyForm, Kind)] = &[
            ("password", KeyForm::Key, Kind::Secret),
            ("GITHUB_TOKEN", KeyForm::Key, Kind::Secret),
            ("token-ttl", KeyForm::Key, Kind::Plain),
            ("key-file", KeyForm::Key, Kind::Plain),
            ("password-file", KeyForm::Key, Kind::Plain),
            ("passthrough", KeyForm::Key, Kind::Plain),
            ("auth-mode", KeyForm::Key, Kind::Plain),
            ("private-key", KeyForm::Key, Kind::Secret),
            ("public-key", KeyForm::Key, Kind::Plain),
            ("storepass", KeyForm::Key, Kind::Secret),
            ("bypass", KeyForm::Key, Kind::Plain),
            ("jsonwebtoken", KeyForm::Bare, Kind::Plain),
            ("token", KeyForm::Bare, Kind::Plain),
            ("auth", KeyForm::Bare, Kind::Plain),
            ("AUTH", KeyForm::Bare, Kind::Secret),
            ("user.token", KeyForm::Bare, Kind::Secret),
            ("wifi-sec.psk", KeyForm::Bare, Kind::Secret),
            ("fix-auth", KeyForm::Bare, Kind::Plain),
            ("client-key-data", KeyForm::Key, Kind::Secret),
            ("jsonwebtoken", KeyForm::Key, Kind::Secret),
            ("requirepass", KeyForm::Bare, Kind::Secret),
            ("no-password", KeyForm::Key, Kind::Plain),
            ("secret-string", KeyForm::Key, Kind::Secret),
            ("secret_id", KeyForm::Key, Kind::Secret),
            ("access_key_id", KeyForm::Key, Kind::Plain),
            ("eos-token", KeyForm::Key, Kind::Plain),
            ("PASSWORD_2", KeyForm::Key, Kind::Secret),
            ("Proxy-Authorization", KeyForm::Key, Kind::Authorization),
            ("PWD", KeyForm::Key, Kind::Plain),
            ("mysql_native_password", KeyForm::Bare, Kind::Plain),
        ];
        for &(key, form, kind) in rows {
            assert_eq!(classify(key, form), kind, "{key} as {form:?}");
        }
    }
}
