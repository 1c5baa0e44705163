//! Who a process belongs to beyond its user: its systemd unit and slice, its container and its
//! Kubernetes pod. The sampler works these out once per process (from its cgroup path, and for
//! names and images from the container runtime's API), so every consumer reads plain fields.
//!
//! Unknown stays unknown: a field the sampler could not learn is null, and where a reader would
//! wonder why (a container without its name), `unknown_reason` says.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a process belongs. In JSON these fields sit directly on the process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attribution {
    /// The systemd unit the process runs in, from its cgroup path: `nginx.service`,
    /// `session-3.scope`, `docker-<id>.scope`; a unit of a user's own systemd as
    /// `user@1000.service/app.service`. The first unit on the path counts, components above it
    /// that name no unit (a container's or a test's parent cgroup) are passed over. Read from
    /// the cgroup v2 line of `/proc/<pid>/cgroup` or, on v1 and hybrid hosts, from systemd's own
    /// `name=systemd` hierarchy. Null when the path names no unit (no systemd, a kernel thread,
    /// a cgroup systemd does not manage).
    #[serde(default)]
    pub systemd_unit: Option<String>,
    /// The slice that holds `systemd_unit` (`system.slice`, `user-1000.slice`; for a user's
    /// unit, the slice of their `user@.service`); null when the unit is at the root or unknown.
    #[serde(default)]
    pub systemd_slice: Option<String>,
    /// The container the process runs in; null when its cgroup path names none.
    #[serde(default)]
    pub container: Option<Container>,
    /// The Kubernetes pod the process runs in; null when its cgroup path is not under
    /// `kubepods`.
    #[serde(default)]
    pub k8s: Option<KubernetesPod>,
}

/// A container, as its cgroup path names it (id, runtime) and its runtime describes it (name,
/// image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Container {
    /// The runtime's full id for it (64 hex digits for docker, podman, containerd, cri-o).
    pub id: String,
    /// The runtime that runs it: from the form of the cgroup path (`docker-<id>.scope`,
    /// `libpod-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>.scope`, `/docker/<id>`) or
    /// else from the API that listed it; null when neither says (a pod's cgroupfs path).
    pub runtime: Option<ContainerRuntime>,
    /// Its name (`web-1`), from the runtime's API; null when unknown (see `unknown_reason`).
    pub name: Option<String>,
    /// The image it was created from, as the runtime names it (`nginx:1.27`); null when
    /// unknown (see `unknown_reason`).
    pub image: Option<String>,
    /// Why `name` and `image` are null (no API socket, the API did not answer in time or
    /// answered something unreadable, a runtime whose names are not read, the lookup still
    /// under way); null when they are known.
    pub unknown_reason: Option<String>,
}

/// A container runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ContainerRuntime {
    /// Docker (also behind Kubernetes' dockershim or cri-dockerd).
    #[serde(rename = "docker")]
    Docker,
    /// Podman.
    #[serde(rename = "podman")]
    Podman,
    /// containerd (through its CRI plugin or nerdctl).
    #[serde(rename = "containerd")]
    Containerd,
    /// CRI-O.
    #[serde(rename = "cri-o")]
    CriO,
}

impl ContainerRuntime {
    /// The name as in JSON and in OpenTelemetry's `container.runtime`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
            Self::Containerd => "containerd",
            Self::CriO => "cri-o",
        }
    }
}

/// A Kubernetes pod and the process's container in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KubernetesPod {
    /// The pod's uid, from the cgroup path (`pod<uid>`, `kubepods-…-pod<uid>.slice`).
    pub pod_uid: String,
    /// The pod's name; null when unknown (see `unknown_reason`).
    pub pod: Option<String>,
    /// The pod's namespace; null when unknown (see `unknown_reason`).
    pub namespace: Option<String>,
    /// The name of the process's container in the pod spec; null when unknown (the pod's
    /// sandbox, or see `unknown_reason`).
    pub container: Option<String>,
    /// Why `pod`, `namespace` or `container` is null (the kubelet's log directory unreadable or
    /// without an entry for this pod, the lookup still under way); null when all are known.
    pub unknown_reason: Option<String>,
}

impl Container {
    /// The id's first 12 hex digits, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// What to call the container in a column or a filter: its name, else its short id.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or_else(|| self.short_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_is_called_by_its_name_else_by_its_short_id() {
        let mut container = Container {
            id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_owned(),
            runtime: Some(ContainerRuntime::Docker),
            name: None,
            image: None,
            unknown_reason: Some("being looked up".to_owned()),
        };
        assert_eq!(container.label(), "0123456789ab");
        container.name = Some("payments-1".to_owned());
        assert_eq!(container.label(), "payments-1");
        container.id = "abc".to_owned();
        assert_eq!(container.short_id(), "abc");
    }

    /// In JSON the attribution sits on the process, and a document from before it reads back.
    #[test]
    fn attribution_fields_sit_on_the_process_in_json() {
        let mut process = crate::model::Process::example(7, "root");
        process.attribution.systemd_unit = Some("nginx.service".to_owned());
        process.attribution.container = Some(Container {
            id: "ab".repeat(32),
            runtime: Some(ContainerRuntime::CriO),
            name: None,
            image: None,
            unknown_reason: Some("being looked up".to_owned()),
        });
        let json = serde_json::to_value(&process).unwrap();
        assert_eq!(json["systemd_unit"], "nginx.service");
        assert_eq!(json["systemd_slice"], serde_json::Value::Null);
        assert_eq!(json["container"]["runtime"], "cri-o");
        assert_eq!(json["container"]["name"], serde_json::Value::Null);
        assert_eq!(json["k8s"], serde_json::Value::Null);
        assert!(json.get("attribution").is_none());
        let back: crate::model::Process = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, process);

        let mut earlier = json;
        for field in ["systemd_unit", "systemd_slice", "container", "k8s"] {
            earlier.as_object_mut().unwrap().remove(field);
        }
        let earlier: crate::model::Process = serde_json::from_value(earlier).unwrap();
        assert_eq!(earlier.attribution, Attribution::default());
    }
}
