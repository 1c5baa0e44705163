//! Resource attributes: who a metric or log record is about, named as the OpenTelemetry
//! semantic conventions (and the Collector's hostmetrics process scraper) name them, so
//! dashboards built for that scraper work on wiretop's data.

use std::time::{Duration, UNIX_EPOCH};

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::model::{Family, Host, LifecycleEvent, Process, Proto};

/// A string attribute.
pub(super) fn string(key: &str, value: impl Into<String>) -> KeyValue {
    keyed(key, any_value::Value::StringValue(value.into()))
}

/// An integer attribute.
pub(super) fn int(key: &str, value: impl Into<i64>) -> KeyValue {
    keyed(key, any_value::Value::IntValue(value.into()))
}

/// A floating-point attribute; None for NaN or an infinity, which OTLP/JSON cannot carry.
pub(super) fn double(key: &str, value: f64) -> Option<KeyValue> {
    value
        .is_finite()
        .then(|| keyed(key, any_value::Value::DoubleValue(value)))
}

/// An array-of-strings attribute.
fn strings(key: &str, values: &[String]) -> KeyValue {
    let values = values
        .iter()
        .map(|v| AnyValue {
            value: Some(any_value::Value::StringValue(v.clone())),
        })
        .collect();
    keyed(key, any_value::Value::ArrayValue(ArrayValue { values }))
}

fn keyed(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        // Profiles' string-table reference; zero (not set) outside profiles.
        key_strindex: 0,
    }
}

/// A string body for a log record.
pub(super) fn body(text: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(text.to_owned())),
    }
}

/// Attributes with unique keys, as OTLP requires. The first value of a key wins, and measured
/// facts are added before tags, so a tag like `process.pid:1` cannot disguise a process.
#[derive(Debug, Default)]
pub(super) struct Attributes(Vec<KeyValue>);

impl Attributes {
    pub(super) fn push(&mut self, kv: KeyValue) {
        // A handful of keys per resource: a linear scan beats hashing here.
        if !self.0.iter().any(|existing| existing.key == kv.key) {
            self.0.push(kv);
        }
    }

    pub(super) fn extend(&mut self, kvs: impl IntoIterator<Item = KeyValue>) {
        for kv in kvs {
            self.push(kv);
        }
    }

    pub(super) fn into_resource(self) -> Resource {
        Resource {
            attributes: self.0,
            ..Resource::default()
        }
    }
}

/// The attributes every resource of this host carries: its name, then its tags.
pub(super) fn host_identity(host: &Host) -> Vec<KeyValue> {
    let mut attrs = Attributes::default();
    attrs.push(string("host.name", host.hostname.as_str()));
    attrs.extend(host.tags.iter().filter_map(|tag| tag_attribute(tag)));
    attrs.0
}

/// A configured tag as an attribute. The `env`, `service` and `version` prefixes people know
/// from other agents map to their semantic-convention keys; any other `key:value` is kept as is,
/// and a bare word becomes a flag (`canary` -> `canary = "true"`).
pub(super) fn tag_attribute(tag: &str) -> Option<KeyValue> {
    match tag.split_once(':') {
        Some((key, value)) => {
            let key = match key {
                "env" => "deployment.environment.name",
                "service" => "service.name",
                "version" => "service.version",
                other => other,
            };
            (!key.is_empty()).then(|| string(key, value))
        }
        None => (!tag.is_empty()).then(|| string(tag, "true")),
    }
}

/// The host's own resource: identity, operating system, tags.
pub(super) fn host_resource(host: &Host, identity: &[KeyValue]) -> Resource {
    let mut attrs = Attributes::default();
    attrs.extend(identity.iter().cloned());
    attrs.push(string("os.type", "linux"));
    attrs.push(string("os.version", host.kernel.as_str()));
    attrs.into_resource()
}

/// One process's resource. Kernel threads get one too: they are processes, and leaving them
/// out would make `system.process.count` disagree with the number of process resources. They
/// simply lack the attributes they have no value for (no executable, no command line).
pub(super) fn process_resource(p: &Process, identity: &[KeyValue]) -> Resource {
    let mut attrs = Attributes::default();
    attrs.push(int("process.pid", p.pid));
    attrs.push(int("process.parent_pid", p.ppid));
    attrs.push(string("process.executable.name", p.name.as_str()));
    if let Some(exe) = &p.exe {
        attrs.push(string("process.executable.path", exe.as_str()));
    }
    command(&mut attrs, &p.cmdline);
    let owner = p.user.clone().unwrap_or_else(|| p.uid.to_string());
    attrs.push(string("process.owner", owner));
    attrs.push(int("process.user.id", p.uid));
    attrs.push(string("process.creation.time", rfc3339(p.start_time_ms)));
    if let Some(id) = &p.container_id {
        attrs.push(string("container.id", id.as_str()));
    }
    attrs.extend(identity.iter().cloned());
    attrs.into_resource()
}

/// The resource of a lifecycle event's process: the same keys as [`process_resource`] as far
/// as the event carries them, so events and metrics of one process land on one entity.
pub(super) fn event_resource(e: &LifecycleEvent, identity: &[KeyValue]) -> Resource {
    let mut attrs = Attributes::default();
    attrs.push(int("process.pid", e.pid));
    attrs.push(string("process.executable.name", e.name.as_str()));
    command(&mut attrs, &e.cmdline);
    if let Some(user) = &e.user {
        attrs.push(string("process.owner", user.as_str()));
    }
    attrs.push(string("process.creation.time", rfc3339(e.start_time_ms)));
    attrs.extend(identity.iter().cloned());
    attrs.into_resource()
}

/// Command line and arguments; left out when empty (kernel threads, zombies), where an empty
/// string would read as "ran with no command".
fn command(attrs: &mut Attributes, cmdline: &[String]) {
    if cmdline.is_empty() {
        return;
    }
    attrs.push(string("process.command_line", cmdline.join(" ")));
    attrs.push(strings("process.command_args", cmdline));
}

/// A unix time in milliseconds as RFC 3339 in UTC (`2026-01-01T00:00:00.000Z`).
pub(super) fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// `network.transport` value.
pub(super) fn transport(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
    }
}

/// `network.type` value.
pub(super) fn network_type(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    }
}
