//! Hiding a value once it is known to be secret, keeping whatever part of it is not.

use super::{Pending, MASK};

/// Authorization schemes kept in front of a masked credential: they tell the reader what kind
/// of credential was there without revealing it.
const AUTH_SCHEMES: &[&str] = &[
    "basic",
    "bearer",
    "digest",
    "token",
    "negotiate",
    "ntlm",
    "aws4-hmac-sha256",
];

/// `value` hidden, keeping the whitespace before it (`X-Api-Key: ********`); `None` when the
/// value is empty, as there is nothing to hide.
pub(super) fn mask_value(value: &str) -> Option<String> {
    let (gap, secret) = split_leading_whitespace(value);
    (!secret.is_empty()).then(|| format!("{gap}{MASK}"))
}

/// An authorization value with its credential hidden and its scheme kept (`Bearer ********`),
/// and whether the credential is still to come as the next word (the value was empty or only a
/// scheme).
pub(super) fn mask_authorization(value: &str) -> (Option<String>, Pending) {
    let (gap, rest) = split_leading_whitespace(value);
    if rest.is_empty() {
        return (None, Pending::Authorization);
    }
    let scheme_end = rest
        .bytes()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let (scheme, after) = rest.split_at(scheme_end);
    if !AUTH_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return (Some(format!("{gap}{MASK}")), Pending::Nothing);
    }
    let (space, credential) = split_leading_whitespace(after);
    if credential.is_empty() {
        return (None, Pending::Mask);
    }
    (
        Some(format!("{gap}{scheme}{space}{MASK}")),
        Pending::Nothing,
    )
}

/// `user:password` with the password hidden. A user alone is left (the program will ask for the
/// password); a user with an empty password is hidden, as that is how API tokens are passed
/// (`curl -u sk_live_…:`).
pub(super) fn mask_user_password(value: &str) -> Option<String> {
    let colon = value.find(':')?;
    let (user, password) = (&value[..colon], &value[colon + 1..]);
    if !password.is_empty() {
        Some(format!("{user}:{MASK}"))
    } else if !user.is_empty() {
        Some(format!("{MASK}:"))
    } else {
        None
    }
}

fn split_leading_whitespace(text: &str) -> (&str, &str) {
    let rest = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    text.split_at(text.len() - rest.len())
}
