//! Settings that put what the uplink sends at risk, found once at start: `ship` logs them, the
//! explorer shows their headline in its header (it owns the terminal, so nothing may print).
//!
//! - `insecure_skip_verify`: the backend's certificate is not checked.
//! - Credentials over plain `http://` to a host that is not loopback: the API key, a header
//!   whose name looks secret (`Authorization`, `X-Api-Key`, ...), or the URL's own userinfo or
//!   secret parameters, for the endpoint and (when polled) the remote configuration URL, which
//!   gets the same headers; and a proxy URL with a password, which travels to the proxy in
//!   clear.

use crate::config::{is_secret_name, mask_url, url_has_credentials, Config, Protocol};

/// One risk: a few words for a header, and the whole story for a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityWarning {
    pub headline: String,
    pub message: String,
}

/// Every risk in `config`'s uplink settings (empty when it is not enabled).
pub fn security_warnings(config: &Config) -> Vec<SecurityWarning> {
    let up = &config.uplink;
    let mut warnings = Vec::new();
    if up.insecure_skip_verify {
        warnings.push(SecurityWarning {
            headline: "certificate not verified".to_owned(),
            message: "uplink.insecure_skip_verify is on: the backend's certificate is NOT \
                      checked, anyone on the path can read and change what wiretop sends"
                .to_owned(),
        });
    }
    let mut shared = Vec::new();
    if up.api_key.is_some() || up.api_key_file.is_some() {
        shared.push(format!("the API key ({})", up.api_key_header));
    }
    shared.extend(
        up.headers
            .keys()
            .filter(|name| is_secret_name(name))
            .map(|name| format!("the {name} header")),
    );
    let file_sink = up.protocol == Protocol::Ndjson
        && up
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("file://"));
    let mut targets = Vec::new();
    if !file_sink {
        targets.extend(up.endpoint.as_deref().map(|url| ("uplink.endpoint", url)));
    }
    if config.process_agent.remote_config.enabled {
        targets.extend(
            up.remote_config_url
                .as_deref()
                .map(|url| ("uplink.remote_config_url", url)),
        );
    }
    for (key, url) in targets {
        let mut sent = shared.clone();
        if url_has_credentials(url) {
            sent.push("the credentials in the URL".to_owned());
        }
        if !sent.is_empty() && in_clear_to_another_host(url) {
            warnings.push(plain_http(key, url, &sent));
        }
    }
    if let Some(proxy) = up.proxy_url.as_deref() {
        let http = !proxy.contains("://") || proxy.starts_with("http://");
        if http && url_has_credentials(proxy) && in_clear_to_another_host(proxy) {
            warnings.push(plain_http(
                "uplink.proxy_url",
                proxy,
                &["the proxy password".to_owned()],
            ));
        }
    }
    warnings
}

fn plain_http(key: &str, url: &str, sent: &[String]) -> SecurityWarning {
    SecurityWarning {
        headline: "credentials sent over plain http".to_owned(),
        message: format!(
            "{key} {} is plain http:// to a host that is not this machine, so these travel \
             unencrypted, readable by anyone on the path: {}; use https://",
            mask_url(url),
            sent.join(", ")
        ),
    }
}

/// Whether `url` is `http://` (or has no scheme, as a proxy may) to a host other than
/// loopback. Unparsable URLs are reported elsewhere, not here.
fn in_clear_to_another_host(url: &str) -> bool {
    let with_scheme = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let Ok(parsed) = reqwest::Url::parse(&with_scheme) else {
        return false;
    };
    if parsed.scheme() != "http" {
        return false;
    }
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => !ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            !(ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
        }
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn with_endpoint(endpoint: &str) -> Config {
        let mut config = Config::default();
        config.uplink.enabled = true;
        config.uplink.endpoint = Some(endpoint.to_owned());
        config
    }

    #[test]
    fn credentials_over_plain_http_to_another_host_are_warned_about() {
        let mut keyed = with_endpoint("http://collector.example.com:4318");
        keyed.uplink.api_key = Some(Secret::new("k".to_owned()));
        let mut header = with_endpoint("http://10.1.2.3:4318");
        header
            .uplink
            .headers
            .insert("Authorization".to_owned(), "Bearer x".to_owned());
        let userinfo = with_endpoint("http://bob:hunter2@[2001:db8::1]:4318/");
        for config in [keyed, header, userinfo] {
            let warnings = security_warnings(&config);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert_eq!(warnings[0].headline, "credentials sent over plain http");
            assert!(!warnings[0].message.contains("hunter2"), "{warnings:?}");
        }
    }

    #[test]
    fn https_loopback_and_credential_free_requests_are_not_warned_about() {
        let mut configs = Vec::new();
        for endpoint in [
            "https://collector.example.com:4318",
            "http://127.0.0.1:4318",
            "http://localhost:4318",
            "http://[::1]:4318",
        ] {
            let mut config = with_endpoint(endpoint);
            config.uplink.api_key_file = Some("/etc/wiretop/api_key".into());
            configs.push(config);
        }
        let mut no_secret = with_endpoint("http://collector.example.com:4318");
        no_secret
            .uplink
            .headers
            .insert("X-Scope-OrgID".to_owned(), "tenant1".to_owned());
        configs.push(no_secret);
        for config in configs {
            assert_eq!(security_warnings(&config), Vec::new(), "{config:?}");
        }
    }

    #[test]
    fn the_remote_configuration_url_and_the_proxy_are_checked_too() {
        let mut config = with_endpoint("https://collector.example.com");
        config.uplink.api_key = Some(Secret::new("k".to_owned()));
        config.uplink.remote_config_url = Some("http://config.example.com/wiretop".to_owned());
        assert!(
            security_warnings(&config).is_empty(),
            "not polled: no warning"
        );
        config.process_agent.remote_config.enabled = true;
        config.uplink.proxy_url = Some("user:pw@proxy.internal:3128".to_owned());
        config.uplink.insecure_skip_verify = true;
        let warnings = security_warnings(&config);
        let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(warnings.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("uplink.insecure_skip_verify"));
        assert!(messages[1].starts_with("uplink.remote_config_url http://config.example.com"));
        assert!(messages[2].starts_with("uplink.proxy_url user:********@proxy.internal:3128"));
    }
}
