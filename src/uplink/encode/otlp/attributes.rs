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

    /// A string attribute when its value is known.
    pub(super) fn push_known(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.push(string(key, value));
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
    attribution(&mut attrs, p);
    attrs.extend(identity.iter().cloned());
    attrs.into_resource()
}

/// The process's container, pod and systemd unit, under the semantic conventions' `container.*`
/// and `k8s.*` keys (systemd has none: `wiretop.systemd.unit`). What is unknown is left out.
fn attribution(attrs: &mut Attributes, p: &Process) {
    let a = &p.attribution;
    let container = a.container.as_ref();
    let id = container
        .map(|c| c.id.as_str())
        .or(p.container_id.as_deref());
    attrs.push_known("container.id", id);
    attrs.push_known("container.name", container.and_then(|c| c.name.as_deref()));
    match container
        .and_then(|c| c.image.as_deref())
        .map(image_reference)
    {
        Some(ImageReference::Id(id)) => attrs.push(string("container.image.id", id)),
        Some(ImageReference::Named { name, tag }) => {
            attrs.push(string("container.image.name", name));
            if let Some(tag) = tag {
                attrs.push(strings("container.image.tags", &[tag.to_owned()]));
            }
        }
        None => {}
    }
    let runtime = container.and_then(|c| c.runtime).map(|r| r.name());
    attrs.push_known("container.runtime", runtime);
    let pod = a.k8s.as_ref();
    attrs.push_known("k8s.pod.uid", pod.map(|k| k.pod_uid.as_str()));
    attrs.push_known("k8s.pod.name", pod.and_then(|k| k.pod.as_deref()));
    attrs.push_known(
        "k8s.namespace.name",
        pod.and_then(|k| k.namespace.as_deref()),
    );
    attrs.push_known(
        "k8s.container.name",
        pod.and_then(|k| k.container.as_deref()),
    );
    attrs.push_known("wiretop.systemd.unit", a.systemd_unit.as_deref());
}

/// What a runtime's image field holds.
#[derive(Debug, PartialEq, Eq)]
enum ImageReference<'a> {
    /// A name (`registry:5000/app`) without its tag or digest, and its tag (`2.3`).
    Named { name: &'a str, tag: Option<&'a str> },
    /// The image's id (`sha256:…`): what Docker shows once the tag moved to another image.
    Id(&'a str),
}

fn image_reference(image: &str) -> ImageReference<'_> {
    if image.starts_with("sha256:") {
        return ImageReference::Id(image);
    }
    let without_digest = image.split_once('@').map_or(image, |(name, _)| name);
    // A colon after the last slash starts the tag; one before it is a registry's port.
    let last_part = without_digest.rfind('/').map_or(0, |slash| slash + 1);
    match without_digest[last_part..].rfind(':') {
        Some(colon) => ImageReference::Named {
            name: &without_digest[..last_part + colon],
            tag: Some(&without_digest[last_part + colon + 1..]),
        },
        None => ImageReference::Named {
            name: without_digest,
            tag: None,
        },
    }
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
