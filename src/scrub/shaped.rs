//! Secrets recognisable by their shape wherever they stand: cloud and forge tokens with a
//! fixed prefix, JWTs, private key blocks, signatures in presigned URLs, `user:password@host`.
//!
//! The patterns follow what secret scanners publish (gitleaks, trufflehog): each one needs a
//! distinctive prefix or structure, so ordinary words, hashes, UUIDs and image digests never
//! match; nothing is guessed from entropy. They are compiled once (the ones with a literal
//! prefix into one regular expression, which the `regex` crate searches for those prefixes
//! first; the few others each behind a substring they must contain), and every search is
//! linear in the text whatever it holds. Each pattern
//! marks the secret part with a capture group; the recognisable prefix around it stays
//! (`ghp_********`, `-----BEGIN RSA PRIVATE KEY-----********-----END RSA PRIVATE KEY-----`).

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::MASK;

/// One shape: `(?-u:\b)` is an ASCII word boundary, which keeps the search on the fast engines
/// for text that is not ASCII.
const SHAPES: &[&str] = &[
    // AWS access key ids (and the other unique-id prefixes).
    r"(?-u:\b)(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)([A-Z0-9]{16})(?-u:\b)",
    // GitHub: classic, OAuth, user-to-server, server-to-server, refresh; fine-grained.
    r"(?-u:\b)gh[pousr]_([A-Za-z0-9]{36,255})(?-u:\b)",
    r"(?-u:\b)github_pat_([A-Za-z0-9_]{22,255})(?-u:\b)",
    // GitLab personal, pipeline trigger, deploy, runner, CI job, OAuth, feed, ... tokens.
    r"(?-u:\b)gl(?:pat|ptt|dt|rt|cbt|soat|ffct|oas|imt|agent|ft|ct)-([A-Za-z0-9_.-]{20,})",
    r"(?-u:\b)GR1348941([A-Za-z0-9_-]{20,})",
    // Slack tokens, app tokens and webhook URLs.
    r"(?-u:\b)xox[abprse]-([0-9]+-[A-Za-z0-9-]{8,})",
    r"(?-u:\b)xapp-([0-9]-[A-Za-z0-9-]{10,})",
    r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{8,})",
    // Discord webhooks.
    r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/([A-Za-z0-9_-]{30,})",
    // Oracle thin JDBC URLs carry `user/password@host`.
    r#"(?i:jdbc:oracle:[a-z0-9]+:)[A-Za-z0-9_$#."]+/([^@\s/]+)@"#,
    // Stripe secret and restricted keys, webhook secrets (publishable keys are public).
    r"(?-u:\b)(?:sk|rk)_(?:live|test)_([A-Za-z0-9]{20,})",
    r"(?-u:\b)whsec_([A-Za-z0-9+/=]{20,})",
    // JSON Web Tokens: a JSON header and payload, base64url, and a signature.
    r"(?-u:\b)(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)",
    // Google API keys, OAuth client secrets and access tokens.
    r"(?-u:\b)AIza([0-9A-Za-z_-]{35})(?-u:\b)",
    r"(?-u:\b)GOCSPX-([A-Za-z0-9_-]{28})",
    r"(?-u:\b)ya29\.([0-9A-Za-z_-]{20,})",
    // Azure storage and Service Bus connection strings.
    r#"(?i:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecret)=([^;\s"']+)"#,
    // Signatures of presigned URLs (S3, GCS, CloudFront, Azure SAS), with or without a URL.
    r"(?i:[?&;](?:x-amz-signature|x-goog-signature|signature|sig))=([^&;\s#]+)",
    // Private keys: PEM and OpenSSH blocks (the body), PGP private key blocks, age keys.
    r"(-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)([\s\S]*?)(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\z)",
    r"AGE-SECRET-KEY-1([QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})",
    // Package registries.
    r"(?-u:\b)npm_([A-Za-z0-9]{36})(?-u:\b)",
    r"pypi-AgEIcHlwaS5vcmc([A-Za-z0-9_-]{50,})",
    r"(?-u:\b)rubygems_([a-f0-9]{48})(?-u:\b)",
    r"(?-u:\b)dckr_pat_([A-Za-z0-9_-]{20,})",
    r"(?-u:\b)AKCp([A-Za-z0-9]{60,})",
    // HashiCorp Vault.
    r"(?-u:\b)hv[sbr]\.([A-Za-z0-9_-]{20,})",
    // SaaS APIs: SendGrid, OpenAI, Anthropic, Hugging Face, Shopify, DigitalOcean, Grafana,
    // New Relic, Linear, Postman, Doppler, Pulumi, Sentry, Square, Databricks, Atlassian.
    r"(?-u:\b)SG\.([A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64})",
    r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?([A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})",
    r"(?-u:\b)sk-(?:proj|svcacct|admin)-([A-Za-z0-9_-]{40,})",
    r"(?-u:\b)sk-ant-(?:api|admin|sid)[0-9]{2}-([A-Za-z0-9_-]{40,})",
    r"(?-u:\b)hf_([A-Za-z]{34})(?-u:\b)",
    r"(?-u:\b)shp(?:at|ca|pa|ss)_([a-fA-F0-9]{32})",
    r"(?-u:\b)do[opr]_v1_([a-f0-9]{64})",
    r"(?-u:\b)glc_([A-Za-z0-9+/]{32,400}={0,2})",
    r"(?-u:\b)glsa_([A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
    r"(?-u:\b)NRAK-([A-Z0-9]{27})",
    r"(?-u:\b)lin_api_([A-Za-z0-9]{40})",
    r"(?-u:\b)PMAK-([a-f0-9]{24}-[a-f0-9]{34})",
    r"(?-u:\b)dp\.(?:pt|st|sa|ct|scim|audit)\.([A-Za-z0-9]{40,44})",
    r"(?-u:\b)pul-([a-f0-9]{40})(?-u:\b)",
    r"(?-u:\b)sntry[su]_([A-Za-z0-9+/=_-]{30,})",
    r"(?-u:\b)sq0(?:atp|csp)-([0-9A-Za-z_-]{22,43})",
    r"(?-u:\b)dapi([a-f0-9]{32})(?-u:\b)",
    r"(?-u:\b)ATATT3([A-Za-z0-9_=-]{50,})",
];

/// Shapes without a literal prefix, each searched only when its text holds what the shape
/// must contain, so the common case stays on the literal search of [`SHAPES`].
const GUARDED: &[(&str, &str)] = &[
    // Microsoft Entra ID (Azure AD) client secrets.
    (
        "Q~",
        r"(?-u:\b)[A-Za-z0-9_~.]{3}\dQ~([A-Za-z0-9_~.-]{31,34})",
    ),
    // Terraform Cloud / Enterprise API tokens.
    (
        ".atlasv1.",
        r"(?-u:\b)[a-z0-9]{14}\.atlasv1\.([a-z0-9_=-]{60,})",
    ),
    // Mailchimp API keys.
    ("-us", r"(?-u:\b)([0-9a-f]{32})-us[0-9]{1,2}(?-u:\b)"),
    // Telegram bot tokens.
    (
        ":AA",
        r"(?:(?-u:\b)|bot)[0-9]{8,10}:(AA[0-9A-Za-z_-]{33})(?-u:\b)",
    ),
    // `user:password@host` without a scheme (`curl -x user:pw@proxy:3128`, impacket's
    // `DOMAIN/user:pw@10.0.0.1`, a DSN `app:pw@db:5432/app`): the host is an IP address, a
    // dotted name, or a single name (`db`, `dc01`) that ends the text or is followed by a port
    // or a path, never by more name (see [`ends_host`]), so image digests
    // (`nginx:1.25@sha256:…`) stay.
    (
        "@",
        r#"(?:^|[\s=,;'"(])([A-Za-z0-9._%+\\/-]+):([^\s:@/'"]+)@(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}|(?P<name>[A-Za-z][A-Za-z0-9-]*)(?::[0-9]{1,5})?)(?-u:\b)"#,
    ),
    // Oracle Easy Connect logons, `user/password@//host:1521/service`.
    (
        "@//",
        r#"(?:^|[\s=,;'"(])[A-Za-z0-9_$#."]+/([^\s/@'"]+)@//"#,
    ),
];

/// Whether the text after a single host name (`db` in `app:pw@db`) lets it be a host: the end
/// of the text, a path, a query or the end of a word. A `:` there would start no port (that
/// was taken with the host), so `nginx:1.25@sha256:…` is a digest, not a logon.
fn ends_host(after: Option<u8>) -> bool {
    after.is_none_or(|b| b"/?#,;)'\"".contains(&b) || b.is_ascii_whitespace())
}

/// URI schemes written without `//`, whose `scheme:user@host` is no `user:password@host`.
const OPAQUE_SCHEMES: &[&str] = &[
    "mailto", "sip", "sips", "xmpp", "im", "pres", "tel", "news", "urn", "acct", "geo",
];

/// The compiled shapes: one regular expression for [`SHAPES`], one per guarded shape.
struct Compiled {
    prefixed: Regex,
    guarded: Vec<(&'static str, Regex)>,
}

static COMPILED: LazyLock<Result<Compiled, regex::Error>> = LazyLock::new(|| {
    Ok(Compiled {
        prefixed: Regex::new(&format!("(?:{})", SHAPES.join(")|(?:")))?,
        guarded: GUARDED
            .iter()
            .map(|&(guard, shape)| Ok((guard, Regex::new(shape)?)))
            .collect::<Result<_, regex::Error>>()?,
    })
});

/// `text` with every shaped secret replaced by [`MASK`], or `None` when it holds none.
pub(super) fn mask_shaped(text: &str) -> Option<String> {
    let compiled = match &*COMPILED {
        Ok(compiled) => compiled,
        // The patterns are constants that a unit test compiles; were they ever refused, hiding
        // the text is the way to be wrong that leaks nothing.
        Err(_) => return Some(MASK.to_owned()),
    };
    let mut masks: Vec<Range<usize>> = Vec::new();
    // The fast search first: almost every argument holds no shaped secret at all.
    if compiled.prefixed.is_match(text) {
        collect(&compiled.prefixed, text, &mut masks);
    }
    for (guard, regex) in &compiled.guarded {
        if text.contains(guard) {
            collect(regex, text, &mut masks);
        }
    }
    if masks.is_empty() {
        return None;
    }
    masks.sort_by_key(|m| m.start);
    // Overlapping finds (a token inside a URL's userinfo) merge into one.
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(masks.len());
    for mask in masks {
        match merged.last_mut() {
            Some(last) if mask.start <= last.end => last.end = last.end.max(mask.end),
            _ => merged.push(mask),
        }
    }
    super::url::apply_masks(text, &merged)
}

/// The secret parts of every match of `regex` in `text`.
fn collect(regex: &Regex, text: &str, masks: &mut Vec<Range<usize>>) {
    for captures in regex.captures_iter(text) {
        if let Some(name) = captures.name("name") {
            if !ends_host(
                text.as_bytes()
                    .get(captures.get(0).map_or(name.end(), |m| m.end()))
                    .copied(),
            ) {
                continue;
            }
        }
        let groups: Vec<_> = captures
            .iter()
            .skip(1)
            .flatten()
            .filter(|group| captures.name("name") != Some(*group))
            .collect();
        let secret = match groups.as_slice() {
            // `user:password@host`: the user comes first and stays.
            [user, password] if user.end() + 1 == password.start() => {
                if OPAQUE_SCHEMES
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(user.as_str()))
                {
                    continue;
                }
                password.range()
            }
            // A private key block: its first line stays, the body goes.
            [_begin, body] => body.range(),
            [secret] => secret.range(),
            _ => continue,
        };
        if !secret.is_empty() {
            masks.push(secret);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_compiles() {
        for shape in SHAPES.iter().chain(GUARDED.iter().map(|(_, shape)| shape)) {
            assert!(Regex::new(shape).is_ok(), "{shape}");
        }
        assert!(COMPILED.is_ok());
    }
}
