//! Polling the backend for remote settings (`process_agent.remote_config.enabled`): a JSON
//! document fetched from `uplink.remote_config_url` with ETag/If-None-Match, at most once a
//! minute, jittered. What the document may hold, and its validation, are
//! `config::remote`'s.

use std::time::Duration;

use crate::config::remote::{parse_document, RemoteSettings};

/// Never more often than this, whatever the configuration says.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// A remote document larger than this is refused, and no more of it is read.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// What one poll came to.
#[derive(Debug)]
pub enum Poll {
    /// 304, or the same ETag: nothing to do.
    Unchanged,
    /// A new, valid document.
    Changed(RemoteSettings),
}

/// Polls one URL, remembering the ETag of the last document it accepted.
pub struct Poller {
    client: reqwest::Client,
    url: reqwest::Url,
    etag: Option<String>,
}

impl Poller {
    /// `client` should be the uplink's own (same TLS, proxy and headers).
    pub fn new(client: reqwest::Client, url: reqwest::Url) -> Poller {
        Poller {
            client,
            url,
            etag: None,
        }
    }

    /// One GET. A rejected document leaves the ETag alone, so it is fetched (and refused,
    /// and logged) again until it is fixed.
    pub async fn poll(&mut self) -> Result<Poll, String> {
        let mut request = self.client.get(self.url.clone());
        if let Some(etag) = &self.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Poll::Unchanged);
        }
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Read a chunk at a time and stop past the cap: a hostile or broken server (or anyone
        // on a plain-http path) must not grow wiretop by sending an endless body.
        let too_big = || format!("document larger than {} KiB", MAX_DOCUMENT_BYTES / 1024);
        if response
            .content_length()
            .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(too_big());
        }
        let mut response = response;
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| e.without_url().to_string())?
        {
            if bytes.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        let settings = parse_document(&bytes)?;
        if etag.is_some() && etag == self.etag {
            return Ok(Poll::Unchanged);
        }
        self.etag = etag;
        Ok(Poll::Changed(settings))
    }
}

/// The wait before the next poll: `every` plus up to 10% jitter, so a fleet does not poll in
/// step. Callers pass at least [`MIN_POLL_INTERVAL`] outside tests.
pub fn next_poll_in(every: Duration, rng: &mut fastrand::Rng) -> Duration {
    let jitter = every.as_millis() as u64 / 10;
    every + Duration::from_millis(rng.u64(0..=jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_are_jittered_by_up_to_a_tenth() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..100 {
            let wait = next_poll_in(MIN_POLL_INTERVAL, &mut rng);
            assert!(wait >= MIN_POLL_INTERVAL && wait <= Duration::from_secs(66));
        }
    }
}
