use super::*;

fn all_batches() -> Vec<Batch> {
    let snap = snapshot();
    let mut encoder = OtlpEncoder::new(Temporality::Delta, 2);
    let mut batches = encoder.encode_snapshot(&snap);
    batches.extend(encoder.encode_events(&snap.host, &[event(LifecycleKind::Started, 7)]));
    batches
}

#[test]
fn batches_survive_a_protobuf_round_trip() {
    for batch in all_batches() {
        let body = batch.body(Encoding::Protobuf, Compression::None).unwrap();
        match &batch.records {
            Records::OtlpMetrics(r) => {
                let decoded = ExportMetricsServiceRequest::decode(body.bytes.as_slice()).unwrap();
                assert_eq!(&decoded.resource_metrics, r);
                let direct = ExportMetricsServiceRequest {
                    resource_metrics: r.clone(),
                };
                assert_eq!(direct.encode_to_vec(), body.bytes);
            }
            Records::OtlpLogs(r) => {
                let decoded = ExportLogsServiceRequest::decode(body.bytes.as_slice()).unwrap();
                assert_eq!(&decoded.resource_logs, r);
            }
            other => panic!("unexpected records {other:?}"),
        }
    }
}

#[test]
fn batches_survive_a_json_round_trip() {
    let mut seen = BTreeMap::new();
    for batch in all_batches() {
        let body = batch.body(Encoding::Json, Compression::None).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body.bytes).unwrap();
        match &batch.records {
            Records::OtlpMetrics(r) => {
                let decoded: ExportMetricsServiceRequest =
                    serde_json::from_slice(&body.bytes).unwrap();
                assert_eq!(&decoded.resource_metrics, r);
                let names = json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
                    .as_array()
                    .map_or(0, Vec::len);
                *seen.entry("metrics").or_insert(0) += names;
            }
            Records::OtlpLogs(r) => {
                let decoded: ExportLogsServiceRequest =
                    serde_json::from_slice(&body.bytes).unwrap();
                assert_eq!(&decoded.resource_logs, r);
                assert!(json["resourceLogs"][0]["scopeLogs"][0]["logRecords"].is_array());
                *seen.entry("logs").or_insert(0) += 1;
            }
            other => panic!("unexpected records {other:?}"),
        }
    }
    assert!(seen.get("metrics").is_some_and(|n| *n > 0));
    assert!(seen.get("logs").is_some_and(|n| *n > 0));
}
