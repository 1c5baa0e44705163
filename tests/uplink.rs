//! The uplink against a real HTTP receiver started by each test: what arrives, and how delivery
//! behaves when the receiver is down, slow, refusing or hostile. Backoffs are shortened through
//! the settings so the tests run in seconds on the real clock; the backoff arithmetic itself is
//! unit-tested with an explicit clock in `uplink::delivery`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

#[path = "common/receiver.rs"]
mod receiver;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use receiver::{Receiver, Reply, Request};
use wiretop::config::{Config, Secret};
use wiretop::model::Snapshot;
use wiretop::sample::{Sampler, SamplerSettings};
use wiretop::uplink::delivery::{Backoff, BreakerConfig, UplinkState};
use wiretop::uplink::{Uplink, UplinkStatus, WorkerSettings};

const SENTINEL_KEY: &str = "sentinel-api-key-0xC0FFEE";

fn config(endpoint: &str) -> Config {
    let mut config = Config::default();
    config.uplink.enabled = true;
    config.uplink.endpoint = Some(endpoint.to_owned());
    config.uplink.api_key = Some(Secret::new(SENTINEL_KEY.to_owned()));
    config.uplink.timeout = wiretop::config::Timeout(Duration::from_millis(800));
    config.uplink.shutdown_timeout = wiretop::config::Timeout(Duration::from_secs(2));
    config.process_agent.max_per_minute = wiretop::config::PerMinute(6000);
    config
}

/// Settings with backoffs short enough for a test.
fn fast(config: &Config) -> WorkerSettings {
    let mut settings = Uplink::settings(config).expect("uplink settings");
    settings.backoff = Backoff {
        base: Duration::from_millis(50),
        factor: 2,
        max: Duration::from_millis(400),
        auth_interval: Duration::from_millis(300),
    };
    settings.breaker = BreakerConfig {
        failure_threshold: 1000,
        cool_down: Duration::from_millis(100),
        max_cool_down: Duration::from_millis(200),
    };
    settings
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Real snapshots of this host, taken in a row.
fn snapshots(n: usize) -> Vec<Arc<Snapshot>> {
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    (0..n)
        .map(|_| Arc::new(sampler.sample().unwrap()))
        .collect()
}

fn metrics_of(request: &Request) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest::decode(&request.decoded_body()[..]).expect("protobuf metrics")
}

fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn wait_status(uplink: &Uplink, what: &str, done: impl Fn(&UplinkStatus) -> bool) -> UplinkStatus {
    for _ in 0..200 {
        let status = uplink.status();
        if done(&status) {
            return status;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}: {:?}", uplink.status());
}

/// Ships one snapshot of this host with `cfg`, waits until `done`, then shuts down.
fn ship_one(cfg: &Config, what: &str, done: impl Fn(&UplinkStatus) -> bool) -> UplinkStatus {
    let rt = runtime();
    let snaps = snapshots(1);
    rt.block_on(async {
        let uplink = Uplink::start(fast(cfg));
        uplink.submit(Arc::clone(&snaps[0]));
        wait_status(&uplink, what, done);
        uplink.shutdown(Duration::from_secs(5)).await
    })
}

fn assert_books_balance(status: &UplinkStatus) {
    let c = &status.counters;
    assert!(
        c.accounted(status.queued),
        "sent {} + dropped {} + queued {} != produced {}: {c:?}",
        c.sent,
        c.dropped_total(),
        status.queued,
        c.produced
    );
}

#[test]
fn otlp_metrics_and_logs_arrive_with_process_resources_and_the_api_key() {
    let receiver = Receiver::start(|_, _| Reply::ok());
    let mut cfg = config(&receiver.url());
    cfg.tags = vec![
        wiretop::config::Tag("env:test".into()),
        wiretop::config::Tag("service:web".into()),
    ];
    let rt = runtime();
    let snaps = snapshots(1);
    let mut snap = (*snaps[0]).clone();
    snap.host.tags = cfg.tag_strings();
    let me = std::process::id();
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        uplink.submit(Arc::new(snap));
        receiver.wait_for(2, Duration::from_secs(10));
        uplink.shutdown(Duration::from_secs(5)).await
    });
    let requests = receiver.requests();
    let metrics: Vec<&Request> = requests
        .iter()
        .filter(|r| r.path == "/v1/metrics")
        .collect();
    assert!(!metrics.is_empty() && requests.iter().any(|r| r.path == "/v1/logs"));
    let first = metrics[0];
    assert_eq!(first.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(first.header("content-encoding"), Some("gzip"));
    assert_eq!(first.header("dd-api-key"), Some(SENTINEL_KEY));
    let decoded: Vec<_> = metrics
        .iter()
        .flat_map(|r| metrics_of(r).resource_metrics)
        .collect();
    let mine = decoded
        .iter()
        .find(|rm| {
            rm.resource.as_ref().is_some_and(|r| {
                matches!(attr(&r.attributes, "process.pid"), Some(Value::IntValue(pid)) if *pid == i64::from(me))
            })
        })
        .expect("this test process has its own Resource");
    let attributes = &mine.resource.as_ref().unwrap().attributes;
    assert!(
        matches!(attr(attributes, "deployment.environment.name"), Some(Value::StringValue(v)) if v == "test")
    );
    assert!(matches!(attr(attributes, "service.name"), Some(Value::StringValue(v)) if v == "web"));
    assert!(
        attr(attributes, "process.command_line").is_some()
            && attr(attributes, "host.name").is_some()
    );
    let names: Vec<&str> = mine
        .scope_metrics
        .iter()
        .flat_map(|s| s.metrics.iter().map(|m| m.name.as_str()))
        .collect();
    for metric in [
        "process.memory.usage",
        "process.cpu.time",
        "process.thread.count",
    ] {
        assert!(names.contains(&metric), "{metric} in {names:?}");
    }
    assert_eq!(status.counters.sent, status.counters.produced);
    assert_books_balance(&status);
}

#[test]
fn receiver_down_at_start_then_up_delivers_the_newest_snapshot() {
    // A port nobody listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config(&format!("http://127.0.0.1:{port}"));
    let rt = runtime();
    let snaps = snapshots(4);
    let newest = snaps.last().unwrap().host.taken_at_ms;
    let (status, receiver) = rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        for snap in &snaps {
            uplink.submit(Arc::clone(snap));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait_status(&uplink, "retries against the dead port", |s| {
            s.counters.retried >= 2
        });
        let receiver = Receiver::start_on(port, |_, _| Reply::ok());
        wait_status(&uplink, "the backlog to drain", |s| {
            s.queued == 0 && s.counters.sent >= 2
        });
        (uplink.shutdown(Duration::from_secs(5)).await, receiver)
    });
    let times: Vec<i64> = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/metrics")
        .flat_map(|r| metrics_of(r).resource_metrics)
        .flat_map(|rm| rm.scope_metrics)
        .flat_map(|s| s.metrics)
        .filter_map(|m| match m.data {
            Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(sum)) => sum
                .data_points
                .first()
                .map(|p| (p.time_unix_nano / 1_000_000) as i64),
            _ => None,
        })
        .collect();
    assert!(
        times.contains(&(newest as i64)),
        "the newest snapshot arrived"
    );
    assert!(
        status.counters.dropped_coalesced >= 1,
        "older snapshots were coalesced: {:?}",
        status.counters
    );
    assert_books_balance(&status);
}

/// Sends one snapshot to a receiver answering the first request with `first` and everything
/// after with 200; returns the final status and the requests seen.
fn one_snapshot_against(first: Reply) -> (UplinkStatus, Vec<Request>) {
    let scripted = std::sync::Mutex::new(Some(first));
    let receiver = Receiver::start(move |i, _| {
        if i == 0 {
            scripted
                .lock()
                .ok()
                .and_then(|mut s| s.take())
                .unwrap_or_else(Reply::ok)
        } else {
            Reply::ok()
        }
    });
    let cfg = config(&receiver.url());
    let status = ship_one(&cfg, "the queue to settle", |s| {
        s.queued == 0 && s.counters.produced > 0
    });
    (status, receiver.requests())
}

#[test]
fn retryable_statuses_are_retried_and_then_delivered() {
    for status in [429, 502, 503, 504] {
        let (result, requests) = one_snapshot_against(Reply::status(status));
        assert!(result.counters.retried >= 1, "{status} retried");
        assert_eq!(result.counters.dropped_total(), 0, "{status}: nothing lost");
        assert!(requests.len() >= 2, "{status}: sent again");
        assert_books_balance(&result);
    }
}

#[test]
fn permanent_statuses_drop_the_batch_without_retrying() {
    // 500 is not retryable under the OTLP/HTTP spec; a 302 is not followed.
    for status in [400, 404, 500, 302] {
        let (result, _) = one_snapshot_against(
            Reply::status(status).with_header("location", "http://127.0.0.1:1/"),
        );
        assert_eq!(result.counters.retried, 0, "{status} not retried");
        assert_eq!(
            result.counters.dropped_permanent.get(&status),
            Some(&1),
            "{status}: {:?}",
            result.counters
        );
        assert!(result
            .counters
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains(&status.to_string()));
        assert_books_balance(&result);
    }
}

#[test]
fn auth_failures_retry_slowly_and_show_auth_failed() {
    for status in [401, 403] {
        let receiver = Receiver::start(move |_, _| Reply::status(status));
        let cfg = config(&receiver.url());
        let rt = runtime();
        let snaps = snapshots(1);
        let result = rt.block_on(async {
            let uplink = Uplink::start(fast(&cfg));
            uplink.submit(Arc::clone(&snaps[0]));
            let seen = wait_status(&uplink, "auth failed", |s| {
                s.state == UplinkState::AuthFailed
            });
            assert_eq!(
                seen.counters.dropped_total(),
                0,
                "data kept while credentials are refused"
            );
            uplink.shutdown(Duration::from_secs(5)).await
        });
        assert!(result.counters.retried >= 1);
        assert_books_balance(&result);
    }
}

#[test]
fn retry_after_in_seconds_and_as_a_date_is_honoured() {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    for value in ["1", date.as_str(), "not-a-date"] {
        let (result, requests) =
            one_snapshot_against(Reply::status(429).with_header("retry-after", value));
        assert!(requests.len() >= 2, "{value}: retried");
        assert_eq!(result.counters.dropped_total(), 0);
    }
}

#[test]
fn payload_too_large_splits_the_batch_once() {
    let receiver = Receiver::start(|i, r| {
        if i == 0 && r.path == "/v1/metrics" {
            Reply::status(413)
        } else {
            Reply::ok()
        }
    });
    let cfg = config(&receiver.url());
    let status = ship_one(&cfg, "delivery", |s| s.queued == 0 && s.counters.sent >= 2);
    let metrics: Vec<ExportMetricsServiceRequest> = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/metrics")
        .map(metrics_of)
        .collect();
    let (refused, halves) = metrics.split_first().expect("metrics sent");
    let delivered: usize = halves.iter().map(|m| m.resource_metrics.len()).sum();
    assert_eq!(halves.len(), 2, "sent again as two halves");
    assert_eq!(
        delivered,
        refused.resource_metrics.len(),
        "the halves hold every resource"
    );
    assert_eq!(status.counters.dropped_total(), 0);
    assert_books_balance(&status);
}

#[test]
fn hanging_and_vanishing_receivers_are_retried() {
    for first in [Reply::Hang(Duration::from_secs(2)), Reply::Drop] {
        let (result, requests) = one_snapshot_against(first.clone());
        assert!(result.counters.retried >= 1, "{first:?} retried");
        assert!(requests.len() >= 2);
        assert_eq!(result.counters.dropped_total(), 0, "{first:?}");
    }
}

#[test]
fn partial_success_and_hostile_response_bodies_are_survived() {
    use opentelemetry_proto::tonic::collector::metrics::v1::{
        ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
    };
    let partial = ExportMetricsServiceResponse {
        partial_success: Some(ExportMetricsPartialSuccess {
            rejected_data_points: 3,
            error_message: "bad points".into(),
        }),
    }
    .encode_to_vec();
    let (result, _) = one_snapshot_against(
        Reply::ok()
            .with_header("content-type", "application/x-protobuf")
            .with_body(partial),
    );
    assert_eq!(result.counters.partial_rejected, 3);
    assert_eq!(
        result.counters.retried, 0,
        "a partial success is never retried"
    );
    for body in [vec![0xff; 100], vec![b'x'; 3 * 1024 * 1024]] {
        let (result, _) = one_snapshot_against(
            Reply::ok()
                .with_header("content-type", "application/x-protobuf")
                .with_body(body),
        );
        assert_eq!(result.counters.dropped_total(), 0);
        assert!(result.counters.sent >= 1);
    }
}

#[test]
fn rate_limit_coalesces_snapshots_instead_of_sending_them_all() {
    let receiver = Receiver::start(|_, _| Reply::ok());
    let mut cfg = config(&receiver.url());
    cfg.process_agent.max_per_minute = wiretop::config::PerMinute(6);
    let rt = runtime();
    let snaps = snapshots(8);
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        for snap in &snaps {
            uplink.submit(Arc::clone(snap));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        uplink.status()
    });
    // Two seconds at 6 per minute allows the initial burst of one request, no more.
    assert!(
        receiver.requests().len() <= 2,
        "{} requests",
        receiver.requests().len()
    );
    assert!(
        status.counters.dropped_coalesced >= 5,
        "{:?}",
        status.counters
    );
}

#[test]
fn shutdown_while_the_receiver_is_down_gives_up_at_the_deadline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = config(&format!("http://127.0.0.1:{port}"));
    cfg.uplink.shutdown_timeout = wiretop::config::Timeout(Duration::from_millis(500));
    let rt = runtime();
    let snaps = snapshots(1);
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        uplink.submit(Arc::clone(&snaps[0]));
        wait_status(&uplink, "a failed attempt", |s| s.counters.retried >= 1);
        // A guard against hanging, not a measurement: the deadline is 0.5 s.
        tokio::time::timeout(
            Duration::from_secs(30),
            uplink.shutdown(Duration::from_secs(2)),
        )
        .await
        .expect("shutdown returns")
    });
    assert!(
        status.counters.dropped_shutdown >= 1,
        "{:?}",
        status.counters
    );
    assert_eq!(status.queued, 0);
    assert_books_balance(&status);
}

#[test]
fn the_api_key_never_appears_in_logs_or_errors() {
    // A dropped connection first (retried within a second), then a refusal of the key (after
    // which the real, slow auth cadence applies).
    let receiver = Receiver::start(|i, _| match i {
        0 => Reply::Drop,
        _ => Reply::status(401).with_body(b"denied".to_vec()),
    });
    let scratch = std::env::temp_dir().join(format!("wiretop-ship-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(["--interval", "300ms", "ship"])
        .env("XDG_CONFIG_HOME", &scratch)
        .env("WIRETOP_LOG", "debug")
        .env("WIRETOP_UPLINK_ENABLED", "true")
        .env(
            "WIRETOP_UPLINK_ENDPOINT",
            format!("http://user:{SENTINEL_KEY}@127.0.0.1:{}/", receiver.port),
        )
        .env("WIRETOP_API_KEY", SENTINEL_KEY)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wiretop ship starts");
    /// Kills the shipper if the test fails before stopping it.
    struct Stop(Option<std::process::Child>);
    impl Drop for Stop {
        fn drop(&mut self) {
            if let Some(child) = self.0.as_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let mut guard = Stop(Some(child));
    receiver.wait_for(2, Duration::from_secs(30));
    let child = guard.0.take().expect("child");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let output = child.wait_with_output().expect("ship exits");
    let _ = std::fs::remove_dir_all(&scratch);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "clean exit on SIGTERM: {log}");
    assert!(log.contains("401"), "the refusal is logged: {log}");
    assert!(
        !log.contains(SENTINEL_KEY),
        "key leaked into the log: {log}"
    );
    assert!(log.contains("uplink stopped"));
}

/// A fresh test certificate authority: its certificate, and the issuer that signs with it.
fn certificate_authority() -> (rcgen::Certificate, rcgen::Issuer<'static, rcgen::KeyPair>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    (ca, Issuer::new(ca_params, ca_key))
}

/// A test CA and a leaf for 127.0.0.1 signed by it: (server config, CA certificate PEM).
fn test_ca() -> (Arc<rustls::ServerConfig>, String) {
    use rcgen::{CertificateParams, KeyPair};
    let (ca, issuer) = certificate_authority();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (Arc::new(config), ca.pem())
}

#[test]
fn tls_needs_the_ca_file_and_works_with_it() {
    let (server, ca_pem) = test_ca();
    let receiver = Receiver::start_tls(server, |_, _| Reply::ok());
    let url = format!("https://127.0.0.1:{}", receiver.port);
    let rt = runtime();
    let snaps = snapshots(1);

    // Without the CA the certificate is unknown: retried, with an error that says so.
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&config(&url)));
        uplink.submit(Arc::clone(&snaps[0]));
        let seen = wait_status(&uplink, "a refused certificate", |s| {
            s.counters.retried >= 1
        });
        uplink.shutdown(Duration::from_secs(5)).await;
        seen
    });
    let error = status.counters.last_error.unwrap_or_default();
    assert!(
        error.to_lowercase().contains("certificate") || error.contains("connection failed"),
        "{error}"
    );
    assert_eq!(status.counters.sent, 0);

    let dir = std::env::temp_dir().join(format!("wiretop-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let mut with_ca = config(&url);
    with_ca.uplink.ca_file = Some(ca_file);
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&with_ca));
        uplink.submit(Arc::clone(&snaps[0]));
        wait_status(&uplink, "delivery over TLS", |s| {
            s.queued == 0 && s.counters.sent >= 1
        });
        uplink.shutdown(Duration::from_secs(5)).await
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.counters.sent >= 1);
    assert!(receiver.requests().iter().any(|r| r.path == "/v1/metrics"));
}

#[test]
fn proxy_url_routes_every_request_through_the_proxy() {
    // The receiver stands in for the proxy: a proxied plain-HTTP request names its target in
    // absolute form, which is how the test can tell it went through the proxy.
    let proxy = Receiver::start(|_, _| Reply::ok());
    let mut cfg = config("http://wiretop-target.invalid:4318");
    cfg.uplink.proxy_url = Some(proxy.url());
    let status = ship_one(&cfg, "delivery through the proxy", |s| {
        s.queued == 0 && s.counters.sent >= 1
    });
    assert!(status.counters.sent >= 1);
    let requests = proxy.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.path.starts_with("http://wiretop-target.invalid:4318/v1/")),
        "{:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

/// Runs `wiretop ship` against `receiver` with remote configuration polled every 200 ms, for
/// about `seconds`, and returns its log.
fn ship_with_remote_config(receiver: &Receiver, seconds: u64) -> String {
    let scratch = std::env::temp_dir().join(format!(
        "wiretop-remote-{}-{}",
        std::process::id(),
        receiver.port
    ));
    std::fs::create_dir_all(&scratch).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(["--interval", "300ms", "ship"])
        .env("XDG_CONFIG_HOME", &scratch)
        .env("WIRETOP_UPLINK_ENABLED", "true")
        .env("WIRETOP_UPLINK_ENDPOINT", receiver.url())
        .env(
            "WIRETOP_UPLINK_REMOTE_CONFIG_URL",
            format!("{}/config", receiver.url()),
        )
        .env("WIRETOP_PROCESS_AGENT_REMOTE_CONFIG_ENABLED", "true")
        .env("WIRETOP_REMOTE_CONFIG_POLL", "200ms")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wiretop ship starts");
    std::thread::sleep(Duration::from_secs(seconds));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let output = child.wait_with_output().expect("ship exits");
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn resource_has_attribute(request: &Request, key: &str, value: &str) -> bool {
    metrics_of(request).resource_metrics.iter().any(|rm| {
        rm.resource.as_ref().is_some_and(
            |r| matches!(attr(&r.attributes, key), Some(Value::StringValue(v)) if v == value),
        )
    })
}

#[test]
fn remote_configuration_is_applied_with_etags_and_reported() {
    let receiver = Receiver::start(|_, r| {
        if r.path != "/config" {
            return Reply::ok();
        }
        if r.header("if-none-match") == Some("\"v1\"") {
            return Reply::status(304);
        }
        Reply::ok()
            .with_header("etag", "\"v1\"")
            .with_header("content-type", "application/json")
            .with_body(br#"{"version": "v1", "settings": {"tags": ["team:remote"], "max_per_minute": 600}}"#.to_vec())
    });
    let log = ship_with_remote_config(&receiver, 3);
    assert!(
        log.contains("applied remote configuration") && log.contains("v1"),
        "{log}"
    );
    let requests = receiver.requests();
    let polls: Vec<&Request> = requests.iter().filter(|r| r.path == "/config").collect();
    assert!(polls.len() >= 2, "polled again");
    assert!(
        polls
            .iter()
            .skip(1)
            .all(|r| r.header("if-none-match") == Some("\"v1\"")),
        "ETag sent back"
    );
    assert_eq!(
        log.matches("applied remote configuration").count(),
        1,
        "a 304 changes nothing: {log}"
    );
    assert!(
        requests
            .iter()
            .filter(|r| r.path == "/v1/metrics")
            .any(|r| resource_has_attribute(r, "team", "remote")),
        "the remote tag reached the shipped snapshots"
    );
}

#[test]
fn forbidden_remote_settings_reject_the_whole_document() {
    let receiver = Receiver::start(|_, r| {
        if r.path == "/config" {
            Reply::ok().with_body(
                br#"{"version": "evil", "settings": {"tags": ["team:evil"], "endpoint": "http://attacker"}}"#.to_vec(),
            )
        } else {
            Reply::ok()
        }
    });
    let log = ship_with_remote_config(&receiver, 2);
    assert!(
        log.contains("`endpoint` may never be set remotely"),
        "{log}"
    );
    assert!(!log.contains("applied remote configuration"));
    assert!(
        !receiver
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/metrics")
            .any(|r| resource_has_attribute(r, "team", "evil")),
        "nothing from the refused document was used"
    );
}

#[test]
fn insecure_skip_verify_accepts_an_unknown_certificate() {
    let (server, _) = test_ca();
    let receiver = Receiver::start_tls(server, |_, _| Reply::ok());
    let mut cfg = config(&format!("https://127.0.0.1:{}", receiver.port));
    cfg.uplink.insecure_skip_verify = true;
    let status = ship_one(&cfg, "delivery without verification", |s| {
        s.queued == 0 && s.counters.sent >= 1
    });
    assert!(status.counters.sent >= 1);
}

#[test]
fn api_key_file_is_read_and_sent() {
    let receiver = Receiver::start(|_, _| Reply::ok());
    let dir = std::env::temp_dir().join(format!("wiretop-keyfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("api_key");
    std::fs::write(&key_file, "from-the-file\n").unwrap();
    let mut cfg = config(&receiver.url());
    cfg.uplink.api_key = None;
    cfg.uplink.api_key_file = Some(key_file);
    cfg.uplink.api_key_header = "x-honeycomb-team".to_owned();
    let rt = runtime();
    let snaps = snapshots(1);
    rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        uplink.submit(Arc::clone(&snaps[0]));
        receiver.wait_for(1, Duration::from_secs(10));
        uplink.shutdown(Duration::from_secs(5)).await
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        receiver.requests()[0].header("x-honeycomb-team"),
        Some("from-the-file")
    );
}

#[test]
fn client_certificate_is_presented_for_mutual_tls() {
    use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, KeyPair};
    let (ca, issuer) = certificate_authority();
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["wiretop-client".to_owned()]).unwrap();
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    let receiver = Receiver::start_tls(Arc::new(server), |_, _| Reply::ok());

    let dir = std::env::temp_dir().join(format!("wiretop-mtls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    let mut cfg = config(&format!("https://127.0.0.1:{}", receiver.port));
    cfg.uplink.ca_file = Some(write("ca.pem", ca.pem()));
    cfg.uplink.client_cert_file = Some(write("client.pem", client_cert.pem()));
    cfg.uplink.client_key_file = Some(write("client.key", client_key.serialize_pem()));
    let status = ship_one(&cfg, "delivery with a client certificate", |s| {
        s.queued == 0 && s.counters.sent >= 1
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.counters.sent >= 1, "{:?}", status.counters);
    assert!(!receiver.requests().is_empty());
}

#[test]
fn lifecycle_events_and_the_size_cap_shape_what_is_sent() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    let receiver = Receiver::start(|_, _| Reply::ok());
    let mut cfg = config(&receiver.url());
    cfg.uplink.max_batch_records = 10;
    let rt = runtime();
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    let mut child = common::Child::python(
        "print('ready', flush=True)\nimport time; time.sleep(3600)",
        &[],
    );
    child.line();
    let pid = child.pid();
    let before = Arc::new(sampler.sample().unwrap());
    drop(child); // killed and reaped: gone from the next snapshot
    let after = Arc::new(sampler.sample().unwrap());
    let processes = after.processes.len();
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        uplink.submit(before);
        uplink.submit(after);
        wait_status(&uplink, "delivery", |s| {
            s.queued == 0 && s.counters.sent >= 2
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        uplink.shutdown(Duration::from_secs(5)).await
    });
    let requests = receiver.requests();
    let metric_requests: Vec<ExportMetricsServiceRequest> = requests
        .iter()
        .filter(|r| r.path == "/v1/metrics")
        .map(metrics_of)
        .collect();
    assert!(
        metric_requests
            .iter()
            .all(|m| m.resource_metrics.len() <= 10),
        "at most 10 resources a request"
    );
    assert!(
        metric_requests.len() * 10 >= processes,
        "every process sent, across requests"
    );
    let exited = requests
        .iter()
        .filter(|r| r.path == "/v1/logs")
        .filter_map(|r| ExportLogsServiceRequest::decode(&r.decoded_body()[..]).ok())
        .flat_map(|l| l.resource_logs)
        .flat_map(|rl| rl.scope_logs)
        .flat_map(|sl| sl.log_records)
        .any(|record| {
            matches!(attr(&record.attributes, "event.name"), Some(Value::StringValue(n)) if n == "process.exited")
                && matches!(attr(&record.attributes, "process.pid"), Some(Value::IntValue(p)) if *p == i64::from(pid))
        });
    assert!(exited, "the child's exit was shipped as a log event");
    assert_books_balance(&status);
}

/// `wiretop ship` with `env` (and no other WIRETOP_ variable) for about a second, stopped with
/// SIGTERM; returns its log.
fn ship_briefly(env: &[(&str, &str)]) -> String {
    let scratch = std::env::temp_dir().join(format!("wiretop-brief-{}", std::process::id()));
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wiretop"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("WIRETOP_")) {
        command.env_remove(key);
    }
    let child = command
        .args(["--interval", "300ms", "ship"])
        .env("XDG_CONFIG_HOME", &scratch)
        .env("WIRETOP_UPLINK_ENABLED", "true")
        .env("WIRETOP_UPLINK_SHUTDOWN_TIMEOUT", "300ms")
        .envs(env.iter().copied())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wiretop ship starts");
    std::thread::sleep(Duration::from_secs(1));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let output = child.wait_with_output().expect("ship exits");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "clean exit on SIGTERM: {log}");
    log
}

#[test]
fn credentials_over_plain_http_to_another_host_are_warned_about_at_start() {
    // .invalid never resolves: nothing leaves the machine, but the host is not loopback.
    let log = ship_briefly(&[
        (
            "WIRETOP_UPLINK_ENDPOINT",
            "http://wiretop-collector.invalid:4318",
        ),
        ("WIRETOP_API_KEY", SENTINEL_KEY),
    ]);
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("plain http://"))
        .unwrap_or_else(|| panic!("no warning: {log}"));
    assert!(
        warning.contains("uplink.endpoint http://wiretop-collector.invalid:4318 is plain http:// to a host that is not this machine, so these travel unencrypted, readable by anyone on the path: the API key (dd-api-key); use https://"),
        "{warning}"
    );
    assert!(!log.contains(SENTINEL_KEY), "{log}");

    let log = ship_briefly(&[(
        "WIRETOP_UPLINK_ENDPOINT",
        &format!("http://user:{SENTINEL_KEY}@wiretop-collector.invalid:4318"),
    )]);
    assert!(
        log.contains(
            "uplink.endpoint http://user:********@wiretop-collector.invalid:4318 is plain http://"
        ) && log.contains("the credentials in the URL"),
        "{log}"
    );
    assert!(!log.contains(SENTINEL_KEY), "{log}");
}

#[test]
fn plain_http_to_loopback_or_without_credentials_is_not_warned_about() {
    let receiver = Receiver::start(|_, _| Reply::ok());
    let log = ship_briefly(&[
        ("WIRETOP_UPLINK_ENDPOINT", &receiver.url()),
        ("WIRETOP_API_KEY", SENTINEL_KEY),
    ]);
    assert!(!log.contains("plain http"), "{log}");
    assert!(!receiver.requests().is_empty(), "it did ship: {log}");
    let log = ship_briefly(&[(
        "WIRETOP_UPLINK_ENDPOINT",
        "http://wiretop-collector.invalid:4318",
    )]);
    assert!(!log.contains("plain http"), "{log}");
}

/// A remote-configuration server that answers with an endless body: wiretop reads no more than
/// its cap (1 MiB) of it, refuses the document, and stays small; nothing a server sends can
/// grow it.
#[test]
fn an_endless_remote_document_is_cut_off_at_the_cap() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
    let port = listener.local_addr().expect("its port").port();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&sent);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let counter = std::sync::Arc::clone(&counter);
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let is_config = String::from_utf8_lossy(&request).starts_with("GET /config");
                if !is_config {
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                    return;
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
                );
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
                // Until wiretop hangs up, or 600 MB.
                for _ in 0..(600 * 1024 / 64) {
                    if stream.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                    counter.fetch_add(64 * 1024, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    let scratch = std::env::temp_dir().join(format!("wiretop-endless-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(["--interval", "300ms", "ship"])
        .env("XDG_CONFIG_HOME", &scratch)
        .env("WIRETOP_UPLINK_ENABLED", "true")
        .env(
            "WIRETOP_UPLINK_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env(
            "WIRETOP_UPLINK_REMOTE_CONFIG_URL",
            format!("http://127.0.0.1:{port}/config"),
        )
        .env("WIRETOP_PROCESS_AGENT_REMOTE_CONFIG_ENABLED", "true")
        .env("WIRETOP_REMOTE_CONFIG_POLL", "200ms")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wiretop ship starts");
    std::thread::sleep(Duration::from_secs(3));
    let peak_kib = common::system::status_field(child.id(), "VmHWM:").expect("ship's VmHWM");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    let mut log = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut log);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(log.contains("document larger than 1024 KiB"), "{log}");
    let sent_mib = sent.load(std::sync::atomic::Ordering::Relaxed) / (1024 * 1024);
    // What the sockets buffer between the server and wiretop comes on top of the cap.
    assert!(
        sent_mib < 100,
        "{sent_mib} MiB were sent before wiretop hung up: it kept reading"
    );
    assert!(peak_kib < 100 * 1024, "ship peaked at {peak_kib} KiB");
}

/// Bytes the per-connection tests move over loopback.
const TRANSFER_BYTES: u64 = 1 << 20;

/// Snapshots of this host until the transfer's server end has every byte acknowledged and both
/// ends have rates (a second sighting): the one where that is so.
fn settled_snapshot(transfer: &common::LoopbackTransfer) -> Arc<Snapshot> {
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    for _ in 0..50 {
        let snapshot = sampler.sample().unwrap();
        let end = |pid: u32, remote_port: u16| {
            let process = snapshot.process(pid)?;
            let c = process
                .connections
                .iter()
                .find(|c| c.remote_port == remote_port)?;
            Some(c.traffic)
        };
        let server = end(transfer.server.pid(), transfer.client_port);
        let client = end(transfer.client.pid(), transfer.port);
        if let (Some(server), Some(client)) = (server, client) {
            if server.bytes_sent == Some(transfer.volume)
                && server.send_bytes_per_sec.is_some()
                && client.recv_bytes_per_sec.is_some()
            {
                return Arc::new(snapshot);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the transfer's ends never showed every byte acknowledged with rates");
}

/// Every series of the remote-write requests received, as label maps with their value.
fn remote_write_series(requests: &[Request]) -> Vec<(BTreeMap<String, String>, f64)> {
    use wiretop::uplink::encode::remote_write::WriteRequest;
    requests
        .iter()
        .flat_map(|r| {
            assert_eq!(r.header("content-encoding"), Some("snappy"));
            let raw = snap::raw::Decoder::new()
                .decompress_vec(&r.body)
                .expect("snappy body");
            WriteRequest::decode(raw.as_slice())
                .expect("a WriteRequest")
                .timeseries
        })
        .map(|s| {
            let labels = s.labels.into_iter().map(|l| (l.name, l.value)).collect();
            (labels, s.samples[0].value)
        })
        .collect()
}

#[test]
fn a_loopback_transfer_arrives_as_per_connection_series_to_the_byte() {
    let transfer = common::LoopbackTransfer::run(TRANSFER_BYTES);
    let snapshot = settled_snapshot(&transfer);
    let receiver = Receiver::start(|_, _| Reply::ok());
    let mut cfg = config(&format!("{}/api/v1/write", receiver.url()));
    cfg.uplink.protocol = wiretop::config::Protocol::RemoteWrite;
    let rt = runtime();
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        uplink.submit(snapshot);
        wait_status(&uplink, "delivery", |s| {
            s.queued == 0 && s.counters.sent >= 1
        });
        uplink.shutdown(Duration::from_secs(5)).await
    });
    assert_books_balance(&status);
    let series = remote_write_series(&receiver.requests());
    let (server, client) = (transfer.server.pid(), transfer.client.pid());
    let port = transfer.port.to_string();

    // One value per (name, pid, direction) among the per-connection series, with its labels.
    let one = |name: &str, pid: u32, direction: Option<&str>| {
        let found: Vec<&(BTreeMap<String, String>, f64)> = series
            .iter()
            .filter(|(l, _)| {
                l["__name__"] == name
                    && l.get("pid") == Some(&pid.to_string())
                    && l.get("direction").map(String::as_str) == direction
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{name} of pid {pid} {direction:?}: {found:?}"
        );
        found[0].clone()
    };
    let bytes = "wiretop_connection_bytes_total";
    // The server: its port and the client's address name the conversation, not the client's
    // ephemeral port.
    let (labels, sent) = one(bytes, server, Some("transmit"));
    assert_eq!(sent, TRANSFER_BYTES as f64, "{labels:?}");
    assert_eq!(labels["role"], "server");
    assert_eq!(labels["local_port"], port);
    assert_eq!(labels["remote_address"], "127.0.0.1");
    assert!(!labels.contains_key("remote_port"), "{labels:?}");
    assert!(!labels.contains_key("command_line"), "{labels:?}");
    assert_eq!(one(bytes, server, Some("receive")).1, 0.0);
    // The client: the service it talks to.
    let (labels, received) = one(bytes, client, Some("receive"));
    assert_eq!(received, TRANSFER_BYTES as f64, "{labels:?}");
    assert_eq!(labels["role"], "client");
    assert_eq!(labels["remote_port"], port);
    assert_eq!(labels["remote_address"], "127.0.0.1");
    assert!(!labels.contains_key("local_port"), "{labels:?}");
    assert_eq!(one(bytes, client, Some("transmit")).1, 0.0);
    // Idle since: measured rates of 0, a loopback rtt well under a second, no retransmits.
    let rate = "wiretop_connection_bytes_per_second";
    assert_eq!(one(rate, client, Some("receive")).1, 0.0);
    let rtt = one("wiretop_connection_rtt_seconds", client, None).1;
    assert!(rtt > 0.0 && rtt < 1.0, "rtt {rtt} s");
    assert_eq!(
        one("wiretop_connection_retransmits_total", server, None).1,
        0.0
    );
    let dropped = series
        .iter()
        .filter(|(l, _)| l["__name__"] == "wiretop_connection_conversations_dropped")
        .count();
    assert_eq!(
        dropped, 1,
        "one count of conversations left out per snapshot"
    );
}

#[test]
fn a_loopback_transfer_shows_in_the_connection_logs_with_every_figure() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    let transfer = common::LoopbackTransfer::run(TRANSFER_BYTES);
    let snapshot = settled_snapshot(&transfer);
    let receiver = Receiver::start(|_, _| Reply::ok());
    let cfg = config(&receiver.url());
    let rt = runtime();
    let status = rt.block_on(async {
        let uplink = Uplink::start(fast(&cfg));
        uplink.submit(snapshot);
        wait_status(&uplink, "delivery", |s| {
            s.queued == 0 && s.counters.sent >= 2
        });
        uplink.shutdown(Duration::from_secs(5)).await
    });
    assert_books_balance(&status);
    let server = i64::from(transfer.server.pid());
    let client_port = i64::from(transfer.client_port);
    let record = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/logs")
        .filter_map(|r| ExportLogsServiceRequest::decode(&r.decoded_body()[..]).ok())
        .flat_map(|l| l.resource_logs)
        .flat_map(|rl| rl.scope_logs)
        .flat_map(|sl| sl.log_records)
        .find(|record| {
            let a = &record.attributes;
            matches!(attr(a, "process.pid"), Some(Value::IntValue(p)) if *p == server)
                && matches!(attr(a, "network.peer.port"), Some(Value::IntValue(p)) if *p == client_port)
        })
        .expect("the server's end of the transfer has a connection record");
    let a = &record.attributes;
    let int = |key: &str| match attr(a, key) {
        Some(Value::IntValue(v)) => *v,
        other => panic!("{key}: {other:?}"),
    };
    let double = |key: &str| match attr(a, key) {
        Some(Value::DoubleValue(v)) => *v,
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(int("wiretop.connection.bytes_sent"), TRANSFER_BYTES as i64);
    assert_eq!(int("wiretop.connection.bytes_received"), 0);
    assert_eq!(int("wiretop.connection.retransmits"), 0);
    assert_eq!(int("wiretop.connection.retransmits_last_interval"), 0);
    // All sent, all read: both queues empty.
    assert_eq!(int("wiretop.connection.send_queue_bytes"), 0);
    assert_eq!(int("wiretop.connection.recv_queue_bytes"), 0);
    // Idle since the transfer, a moment ago.
    let idle = int("wiretop.connection.idle_ms");
    assert!((0..60_000).contains(&idle), "idle {idle} ms");
    assert!(double("wiretop.connection.send_bytes_per_sec") >= 0.0);
    assert_eq!(double("wiretop.connection.recv_bytes_per_sec"), 0.0);
    assert!(double("wiretop.connection.rtt_ms") > 0.0);
    assert!(double("wiretop.connection.rttvar_ms") >= 0.0);
    assert!(attr(a, "wiretop.connection.traffic_unavailable").is_none());
}
