//! Credentials inside the URLs of the configuration (`uplink.endpoint`, `proxy_url`,
//! `remote_config_url`), hidden wherever such a URL is shown: `config check`, logs, errors.
//!
//! Hidden: the password of a userinfo (`https://user:********@host`), a userinfo that is a lone
//! token (`https://********@host`), and the value of every query or fragment parameter whose
//! name looks secret ([`is_secret_name`]: `?token=`, `api_key=`, `sig=`, `X-Amz-Signature=`,
//! `password=`, ...). The scan is on the text, not on a parsed URL, so a value that does not even
//! parse (and is about to be reported as such) is masked too, and nothing is re-encoded.
//!
//! This is not the command-line scrubber (`crate::scrub`): that one looks for secrets anywhere
//! in arbitrary arguments using the configured sensitive words. Here the text is known to be one
//! URL from our own configuration, and any credential in it is hidden, whatever the words.

use std::borrow::Cow;
use std::ops::Range;

use crate::scrub::MASK;

/// Parts of parameter and header names that mark their values as secret (compared without
/// case, `-`, `_` or `.`): `access_token`, `X-Amz-Signature`, `X-Api-Key`, `Authorization`,
/// `client_secret`, `passwd`, `sessionid`, `Cookie`...
const SECRET_NAME_PARTS: [&str; 12] = [
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "sig",
    "auth",
    "credential",
    "session",
    "cookie",
    "jwt",
    "bearer",
];

/// Whether a query parameter or header called `name` carries a secret.
pub fn is_secret_name(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    folded == "pw" || SECRET_NAME_PARTS.iter().any(|part| folded.contains(part))
}

/// `url` with its credentials replaced by `********`; unchanged when it has none.
pub fn mask_url(url: &str) -> Cow<'_, str> {
    let ranges = secret_ranges(url);
    if ranges.is_empty() {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    let mut copied = 0;
    for range in ranges {
        out.push_str(&url[copied..range.start]);
        out.push_str(MASK);
        copied = range.end;
    }
    out.push_str(&url[copied..]);
    Cow::Owned(out)
}

/// Whether `url` carries any credential (a userinfo, a secret parameter).
pub fn url_has_credentials(url: &str) -> bool {
    !secret_ranges(url).is_empty()
}

/// The byte ranges to hide, in order, not overlapping. Every delimiter is ASCII, so every range
/// starts and ends on a character boundary.
fn secret_ranges(url: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    // Without a well-formed `scheme://`, the authority starts after the last `/` before the
    // userinfo's `@`: a proxy given as `user:pw@proxy:3128`, and the mistyped URLs an error
    // message is about to show (`http//u:pw@h`, `https;//u:pw@h`, `http:/u:pw@h`).
    let authority = match url.find("://") {
        Some(colon) if is_scheme(&url[..colon]) => colon + 3,
        _ => url
            .find('@')
            .and_then(|at| url[..at].rfind('/'))
            .map_or(0, |slash| slash + 1),
    };
    let authority_end = url[authority..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| authority + end);
    // The last `@`: a password holding an unencoded `@` is hidden whole.
    if let Some(at) = url[authority..authority_end].rfind('@') {
        let userinfo = authority..authority + at;
        match url[userinfo.clone()].find(':') {
            None if !userinfo.is_empty() => ranges.push(userinfo),
            Some(colon) if userinfo.start + colon + 1 < userinfo.end => {
                ranges.push(userinfo.start + colon + 1..userinfo.end);
            }
            // `user:@host`: the user part may be the token.
            Some(colon) if colon > 0 => ranges.push(userinfo.start..userinfo.start + colon),
            _ => {}
        }
    }
    // Parameters: after `?` and `#`, and `;` parameters of the path (`/x;password=…`).
    if let Some(offset) = url[authority_end..].find(['?', '#', ';']) {
        let mut start = authority_end + offset + 1;
        while start <= url.len() {
            let end = url[start..]
                .find(['&', ';', '#', '?'])
                .map_or(url.len(), |end| start + end);
            if let Some(eq) = url[start..end].find('=') {
                let value = start + eq + 1..end;
                if !value.is_empty() && is_secret_name(&percent_decoded(&url[start..start + eq])) {
                    ranges.push(value);
                }
            }
            start = end + 1;
        }
    }
    ranges
}

/// `[A-Za-z][A-Za-z0-9+.-]*`
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// A parameter name with `%XX` escapes decoded (`X%2DAmz%2DSignature` is still a signature).
fn percent_decoded(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_secret_parameters_are_masked() {
        let cases = [
            (
                "https://bob:hunter2@otlp.example.com:4318/v1",
                "https://bob:********@otlp.example.com:4318/v1",
            ),
            (
                "https://ghp_abc123@example.com/x",
                "https://********@example.com/x",
            ),
            ("https://tok:@example.com", "https://********:@example.com"),
            (
                "http://u:p@ss@proxy:3128",
                "http://u:********@proxy:3128",
            ),
            ("user:pw@proxy.internal:3128", "user:********@proxy.internal:3128"),
            (
                "https://intake.example.com/v1?region=eu&token=s3cr3t&api_key=k1#access_token=t2",
                "https://intake.example.com/v1?region=eu&token=********&api_key=********#access_token=********",
            ),
            (
                "https://bucket.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abcdef&X-Amz-Security-Token=zz",
                "https://bucket.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=********&X-Amz-Signature=********&X-Amz-Security-Token=********",
            ),
            (
                "https://acct.blob.core.windows.net/c?sv=2022&se=2030&sig=Zm9v%3D",
                "https://acct.blob.core.windows.net/c?sv=2022&se=2030&sig=********",
            ),
            (
                "http://h/config?password=a;pwd=b&PassWord=c&client_secret=d&pw=e",
                "http://h/config?password=********;pwd=********&PassWord=********&client_secret=********&pw=********",
            ),
            (
                "https://h/?X%2DAmz%2DSignature=abc",
                "https://h/?X%2DAmz%2DSignature=********",
            ),
            // Not even a valid URL (a bad port): still masked before it is reported.
            ("https://u:hunter2@host:99999999/x", "https://u:********@host:99999999/x"),
            // Mistyped schemes, about to be reported as not URLs at all.
            ("http//u:hunter2@h", "http//u:********@h"),
            ("https;//u:hunter2@h/x", "https;//u:********@h/x"),
            ("https//:u:hunter2@h", "https//:********@h"),
            ("ht!tp://u:hunter2@h", "ht!tp://u:********@h"),
            ("http:/u:hunter2@h", "http:/u:********@h"),
            ("//u:hunter2@host/x", "//u:********@host/x"),
            // Path parameters.
            ("http://h/x;password=hunter2", "http://h/x;password=********"),
            ("http://h/x;v=1;token=t?a=b", "http://h/x;v=1;token=********?a=b"),
        ];
        for (url, shown) in cases {
            assert_eq!(mask_url(url), shown, "{url}");
            assert!(url_has_credentials(url), "{url}");
        }
    }

    #[test]
    fn urls_without_credentials_are_unchanged() {
        for url in [
            "https://otlp.example.com:4318",
            "http://127.0.0.1:9090/api/v1/write?region=eu&tenant=a",
            "file:///var/log/wiretop/snapshots.ndjson",
            "http://[::1]:8080/a@b",
            "https://h/?token=",
            "proxy.internal:3128",
            "",
        ] {
            assert_eq!(mask_url(url), url);
            assert!(!url_has_credentials(url), "{url}");
        }
    }

    #[test]
    fn secret_names_cover_headers_and_parameters_but_not_ordinary_ones() {
        for name in [
            "Authorization",
            "Proxy-Authorization",
            "X-Api-Key",
            "DD-API-KEY",
            "PRIVATE-TOKEN",
            "Cookie",
            "sig",
            "pw",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "X-Scope-OrgID",
            "region",
            "tenant",
            "sv",
            "Content-Type",
            "v",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
