//! HTTP transport: one reqwest client configured from `uplink.*` (TLS, proxy, headers, API
//! key, timeout), sending one body per request. It never follows redirects, reads at most
//! [`MAX_RESPONSE_BYTES`] of a response, and keeps the API key and any URL credentials out of
//! every error message.

use std::time::Duration;

use prost::Message;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};

use crate::config::{mask_url, Secret, Uplink};
use crate::files::{UnsafeFile, KEY_FILE_LIMIT, PEM_FILE_LIMIT};
use crate::uplink::batch::Body;

/// More than this of a response body is never read: a hostile or broken receiver cannot make
/// the uplink hold megabytes.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Why the transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("uplink.endpoint is not set")]
    NoEndpoint,
    #[error(
        "uplink.endpoint `{0}` is not an http:// or https:// URL (nor, for protocol ndjson, \
         file:///absolute/path)"
    )]
    BadEndpoint(String),
    #[error("reading {what} {path}: {reason}")]
    File {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("uplink.headers: `{0}` is not a valid header")]
    BadHeader(String),
    #[error("uplink.proxy_url: {0}")]
    BadProxy(String),
    #[error("building the HTTP client: {0}")]
    Client(String),
    /// One of the two files of a client certificate without the other.
    #[error(
        "uplink.client_cert_file and uplink.client_key_file go together: set both for mutual \
         TLS, or neither"
    )]
    ClientIdentity,
    /// The `file://` sink cannot be written (checked once at start).
    #[error("uplink.endpoint: {0}")]
    Sink(UnsafeFile),
}

/// What a request came to, as far as delivery cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The raw Retry-After header, if any.
    pub retry_after: Option<String>,
    /// Records the receiver rejected in an OTLP partial success (0 when none or unknown).
    pub rejected: u64,
    /// The receiver's explanation of a rejection, cut to 200 characters.
    pub message: Option<String>,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub timed_out: bool,
    /// Safe to log: built without the URL's credentials or any header.
    pub message: String,
}

/// Sends bodies to one endpoint.
pub struct Transport {
    client: reqwest::Client,
    base: reqwest::Url,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the headers: they hold the API key.
        write!(f, "Transport({})", redact(&self.base))
    }
}

/// The endpoint as it may be logged: URL credentials and secret parameters masked.
pub fn redact(url: &reqwest::Url) -> String {
    mask_url(url.as_str()).into_owned()
}

/// Reads a file the configuration names: a regular file of at most `limit` bytes (so
/// `api_key_file: /dev/zero` or a FIFO is an error at start, not a hang or a heap explosion).
fn read_file(
    what: &'static str,
    path: &std::path::Path,
    limit: u64,
) -> Result<Vec<u8>, SetupError> {
    crate::files::read_capped(path, limit).map_err(|e| SetupError::File {
        what,
        path: path.display().to_string(),
        reason: e.problem.to_string(),
    })
}

/// The API key: `uplink.api_key` (which `WIRETOP_API_KEY` sets), else the first line of
/// `uplink.api_key_file`.
pub fn api_key(config: &Uplink) -> Result<Option<Secret>, SetupError> {
    if let Some(key) = &config.api_key {
        return Ok(Some(key.clone()));
    }
    let Some(path) = &config.api_key_file else {
        return Ok(None);
    };
    let text = read_file("uplink.api_key_file", path, KEY_FILE_LIMIT)?;
    let line = String::from_utf8_lossy(&text)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    Ok((!line.is_empty()).then(|| Secret::new(line)))
}

impl Transport {
    /// Builds the client. `endpoint` is the URL requests go to (a body's path is appended).
    pub fn new(config: &Uplink, endpoint: &str) -> Result<Transport, SetupError> {
        let base = reqwest::Url::parse(endpoint)
            .map_err(|_| SetupError::BadEndpoint(mask_url(endpoint).into_owned()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SetupError::BadEndpoint(redact(&base)));
        }
        let mut headers = HeaderMap::new();
        let agent = concat!("wiretop/", env!("CARGO_PKG_VERSION"));
        headers.insert(USER_AGENT, HeaderValue::from_static(agent));
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SetupError::BadHeader(name.clone()))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| SetupError::BadHeader(name.to_string()))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        if let Some(key) = api_key(config)? {
            let name = HeaderName::from_bytes(config.api_key_header.as_bytes())
                .map_err(|_| SetupError::BadHeader(config.api_key_header.clone()))?;
            let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
                SetupError::BadHeader(format!(
                    "{name} (the API key has characters a header cannot carry)"
                ))
            })?;
            // Marked sensitive so reqwest and hyper never print it.
            value.set_sensitive(true);
            headers.insert(name, value);
        }

        // reqwest leaves the choice of cryptography to us: ring, as everywhere else in the
        // tree (aws-lc would add a C build of its own). Installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout.0)
            .connect_timeout(config.timeout.0.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_rustls();
        if let Some(path) = &config.ca_file {
            let pem = read_file("uplink.ca_file", path, PEM_FILE_LIMIT)?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| SetupError::File {
                    what: "uplink.ca_file",
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(SetupError::File {
                    what: "uplink.ca_file",
                    path: path.display().to_string(),
                    reason: "it holds no PEM certificate".to_owned(),
                });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if config.client_cert_file.is_some() != config.client_key_file.is_some() {
            return Err(SetupError::ClientIdentity);
        }
        if let (Some(cert), Some(key)) = (&config.client_cert_file, &config.client_key_file) {
            let mut pem = read_file("uplink.client_cert_file", cert, PEM_FILE_LIMIT)?;
            pem.extend_from_slice(b"\n");
            pem.extend(read_file("uplink.client_key_file", key, PEM_FILE_LIMIT)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| SetupError::File {
                what: "uplink.client_cert_file",
                path: cert.display().to_string(),
                reason: e.to_string(),
            })?;
            builder = builder.identity(identity);
        }
        if config.insecure_skip_verify {
            // Warned about once at start (uplink::warnings), not here: this runs for the remote
            // configuration's client too.
            builder = builder.danger_accept_invalid_certs(true);
        }
        if let Some(proxy) = &config.proxy_url {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|e| SetupError::BadProxy(e.without_url().to_string()))?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| SetupError::Client(e.without_url().to_string()))?;
        Ok(Transport { client, base })
    }

    /// The configured client (TLS, proxy, headers), for other requests to the same backend.
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// The endpoint, safe to log.
    pub fn endpoint(&self) -> String {
        redact(&self.base)
    }

    /// The URL a body with `path` goes to, safe to log.
    pub fn endpoint_for(&self, path: &str) -> String {
        redact(&self.url_for(path))
    }

    fn url_for(&self, path: &str) -> reqwest::Url {
        if path.is_empty() {
            return self.base.clone();
        }
        let mut url = self.base.clone();
        let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }

    /// Sends one body.
    pub async fn send(&self, body: &Body) -> Result<Response, TransportError> {
        let mut request = self
            .client
            .post(self.url_for(body.path))
            .header(CONTENT_TYPE, body.content_type)
            .body(body.bytes.clone());
        if let Some(encoding) = body.content_encoding {
            request = request.header(CONTENT_ENCODING, encoding);
        }
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES.saturating_sub(bytes.len());
                    bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if bytes.len() >= MAX_RESPONSE_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                // The status is what matters; a body cut short is only less detail.
                Err(_) => break,
            }
        }
        let (rejected, message) = if (200..300).contains(&status) {
            partial_success(body.path, &bytes, json)
        } else {
            (0, text_excerpt(&bytes))
        };
        Ok(Response {
            status,
            retry_after,
            rejected,
            message,
        })
    }
}

fn transport_error(e: reqwest::Error) -> TransportError {
    let timed_out = e.is_timeout();
    let kind = if timed_out {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // without_url: the URL may carry credentials; headers are never part of the message.
    let detail = e.without_url().to_string();
    TransportError {
        timed_out,
        message: format!("{kind}: {detail}"),
    }
}

fn text_excerpt(bytes: &[u8]) -> Option<String> {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    (!text.trim().is_empty()).then_some(text)
}

/// Reads an OTLP export response for a partial success: how many records were rejected and
/// why. Anything unreadable counts as full success (the receiver said 2xx).
fn partial_success(path: &str, bytes: &[u8], json: bool) -> (u64, Option<String>) {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
    if bytes.is_empty() {
        return (0, None);
    }
    let cut = |m: String| {
        (!m.is_empty()).then(|| m.chars().filter(|c| !c.is_control()).take(200).collect())
    };
    match path {
        "/v1/metrics" => {
            let response = if json {
                serde_json::from_slice::<ExportMetricsServiceResponse>(bytes).ok()
            } else {
                ExportMetricsServiceResponse::decode(bytes).ok()
            };
            response
                .and_then(|r| r.partial_success)
                .map(|p| {
                    (
                        u64::try_from(p.rejected_data_points).unwrap_or(0),
                        cut(p.error_message),
                    )
                })
                .unwrap_or((0, None))
        }
        "/v1/logs" => {
            let response = if json {
                serde_json::from_slice::<ExportLogsServiceResponse>(bytes).ok()
            } else {
                ExportLogsServiceResponse::decode(bytes).ok()
            };
            response
                .and_then(|r| r.partial_success)
                .map(|p| {
                    (
                        u64::try_from(p.rejected_log_records).unwrap_or(0),
                        cut(p.error_message),
                    )
                })
                .unwrap_or((0, None))
        }
        _ => (0, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_certificates_or_half_a_client_identity_is_refused() {
        let dir = std::env::temp_dir().join(format!("wiretop-transport-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("not-a-bundle.pem");
        std::fs::write(&text, "just some text\n").unwrap();
        let mut config = Uplink {
            ca_file: Some(text.clone()),
            ..Uplink::default()
        };
        let error = Transport::new(&config, "https://example.com").err();
        assert!(
            matches!(&error, Some(SetupError::File { reason, .. }) if reason == "it holds no PEM certificate"),
            "{error:?}"
        );
        config.ca_file = None;
        config.client_cert_file = Some(text.clone());
        let error = Transport::new(&config, "https://example.com").err();
        assert!(
            matches!(error, Some(SetupError::ClientIdentity)),
            "{error:?}"
        );
        config.client_cert_file = None;
        config.client_key_file = Some(text);
        let error = Transport::new(&config, "https://example.com").err();
        assert!(
            matches!(error, Some(SetupError::ClientIdentity)),
            "{error:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn redacted_endpoint_hides_credentials() {
        let url =
            reqwest::Url::parse("https://user:hunter2@otlp.example.com:4318/base?token=x").unwrap();
        let shown = redact(&url);
        assert_eq!(
            shown,
            "https://user:********@otlp.example.com:4318/base?token=********"
        );
    }

    #[test]
    fn body_paths_are_appended_to_the_base_path() {
        let config = Uplink::default();
        let t = Transport::new(&config, "http://127.0.0.1:4318/otlp/").unwrap();
        assert_eq!(
            t.url_for("/v1/metrics").as_str(),
            "http://127.0.0.1:4318/otlp/v1/metrics"
        );
        assert_eq!(t.url_for("").as_str(), "http://127.0.0.1:4318/otlp/");
    }

    #[test]
    fn debug_output_never_shows_the_api_key() {
        let config = Uplink {
            api_key: Some(Secret::new("sentinel-debug-key".into())),
            ..Uplink::default()
        };
        let t = Transport::new(&config, "http://127.0.0.1:1").unwrap();
        assert!(!format!("{t:?}").contains("sentinel"));
    }
}
