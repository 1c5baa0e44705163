//! What the uplink sends: a [`Batch`] of records of one kind, encoded into a request body only
//! when sent. Keeping the records (not bytes) lets a batch be split in two after a 413, and
//! encoding the same records twice gives the same bytes, so a retry resends the same data.

use std::io::Write;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use opentelemetry_proto::tonic::metrics::v1::ResourceMetrics;
use prost::Message;

/// How OTLP bodies are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

/// Whether bodies are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    None,
}

/// Where a batch's records came from, which decides what happens to it when newer data arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// The state of one snapshot (metrics, connection records): a newer snapshot supersedes it,
    /// so while unsent it may be replaced (coalesced).
    Snapshot,
    /// Lifecycle events (a process started, exited, began listening): each happened once, so
    /// they are never replaced, only dropped when the queue is full.
    Events,
}

/// The records of one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Records {
    /// OTLP metrics, one entry per Resource (process or host).
    OtlpMetrics(Vec<ResourceMetrics>),
    /// OTLP logs, one entry per Resource.
    OtlpLogs(Vec<ResourceLogs>),
    /// Prometheus remote-write 1.0: an encoded `WriteRequest` per time series, concatenated
    /// on the wire (a repeated field's entries may be written back to back).
    RemoteWrite(Vec<Vec<u8>>),
    /// Lines of newline-delimited JSON, each a complete document.
    Ndjson(Vec<String>),
}

impl Records {
    /// How many top-level records there are (resources, series, lines).
    pub fn len(&self) -> usize {
        match self {
            Records::OtlpMetrics(r) => r.len(),
            Records::OtlpLogs(r) => r.len(),
            Records::RemoteWrite(r) => r.len(),
            Records::Ndjson(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Splits into two halves of (nearly) equal record counts; None for a single record.
    pub fn split(&self) -> Option<(Records, Records)> {
        fn halves<T: Clone>(v: &[T]) -> Option<(Vec<T>, Vec<T>)> {
            (v.len() >= 2).then(|| {
                let (a, b) = v.split_at(v.len() / 2);
                (a.to_vec(), b.to_vec())
            })
        }
        Some(match self {
            Records::OtlpMetrics(r) => {
                let (a, b) = halves(r)?;
                (Records::OtlpMetrics(a), Records::OtlpMetrics(b))
            }
            Records::OtlpLogs(r) => {
                let (a, b) = halves(r)?;
                (Records::OtlpLogs(a), Records::OtlpLogs(b))
            }
            Records::RemoteWrite(r) => {
                let (a, b) = halves(r)?;
                (Records::RemoteWrite(a), Records::RemoteWrite(b))
            }
            Records::Ndjson(r) => {
                let (a, b) = halves(r)?;
                (Records::Ndjson(a), Records::Ndjson(b))
            }
        })
    }
}

/// One request's worth of records and how to send them.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub class: Class,
    /// When the snapshot behind it was taken (unix ms): fixed at collection.
    pub taken_at_ms: u64,
    pub records: Records,
}

/// A request body ready for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Appended to the endpoint URL.
    pub path: &'static str,
    pub content_type: &'static str,
    /// `Content-Encoding` header, when compressed.
    pub content_encoding: Option<&'static str>,
    pub bytes: Vec<u8>,
}

/// Why a batch could not be turned into bytes.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("compressing: {0}")]
    Compress(#[from] std::io::Error),
    #[error("snappy: {0}")]
    Snappy(#[from] snap::Error),
}

/// The protobuf encoding of a message whose only field is `repeated T field = 1` (both OTLP
/// export requests): the entries written back to back, without first copying them into the
/// request struct.
fn repeated_field_1<T: Message>(entries: &[T]) -> Vec<u8> {
    let len: usize = entries
        .iter()
        .map(|e| prost::encoding::message::encoded_len(1, e))
        .sum();
    let mut buf = Vec::with_capacity(len);
    for entry in entries {
        prost::encoding::message::encode(1, entry, &mut buf);
    }
    buf
}

impl Batch {
    /// The request body. Deterministic: the same batch always gives the same bytes.
    pub fn body(&self, encoding: Encoding, compression: Compression) -> Result<Body, BodyError> {
        let (path, content_type, raw) = match (&self.records, encoding) {
            (Records::OtlpMetrics(r), Encoding::Protobuf) => {
                ("/v1/metrics", "application/x-protobuf", repeated_field_1(r))
            }
            (Records::OtlpMetrics(r), Encoding::Json) => (
                "/v1/metrics",
                "application/json",
                serde_json::to_vec(&ExportMetricsServiceRequest {
                    resource_metrics: r.clone(),
                })?,
            ),
            (Records::OtlpLogs(r), Encoding::Protobuf) => {
                ("/v1/logs", "application/x-protobuf", repeated_field_1(r))
            }
            (Records::OtlpLogs(r), Encoding::Json) => (
                "/v1/logs",
                "application/json",
                serde_json::to_vec(&ExportLogsServiceRequest {
                    resource_logs: r.clone(),
                })?,
            ),
            (Records::RemoteWrite(series), _) => {
                // Remote write 1.0 is always snappy block format, whatever `compression` says.
                let raw = series.concat();
                let bytes = snap::raw::Encoder::new().compress_vec(&raw)?;
                return Ok(Body {
                    path: "",
                    content_type: "application/x-protobuf",
                    content_encoding: Some("snappy"),
                    bytes,
                });
            }
            (Records::Ndjson(lines), _) => {
                let mut raw = Vec::new();
                for line in lines {
                    raw.extend_from_slice(line.as_bytes());
                    raw.push(b'\n');
                }
                ("", "application/x-ndjson", raw)
            }
        };
        match compression {
            Compression::None => Ok(Body {
                path,
                content_type,
                content_encoding: None,
                bytes: raw,
            }),
            Compression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&raw)?;
                Ok(Body {
                    path,
                    content_type,
                    content_encoding: Some("gzip"),
                    bytes: gz.finish()?,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::metrics::v1::ScopeMetrics;

    #[test]
    fn protobuf_bodies_match_the_request_messages_byte_for_byte() {
        let records: Vec<ResourceMetrics> = (0..3)
            .map(|i| ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    schema_url: format!("s{i}"),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect();
        let batch = Batch {
            class: Class::Snapshot,
            taken_at_ms: 1,
            records: Records::OtlpMetrics(records.clone()),
        };
        let body = batch.body(Encoding::Protobuf, Compression::None).unwrap();
        let expected = ExportMetricsServiceRequest {
            resource_metrics: records,
        }
        .encode_to_vec();
        assert_eq!(body.bytes, expected);
        assert_eq!(body.path, "/v1/metrics");
    }
}
