//! The container and Kubernetes pod a cgroup path names.
//!
//! Each runtime names its containers' cgroups its own way, by cgroup driver:
//!
//! | runtime    | systemd driver                     | cgroupfs driver            |
//! |------------|------------------------------------|----------------------------|
//! | docker     | `docker-<id>.scope`                | `/docker/<id>`             |
//! | podman     | `libpod-<id>.scope`                | `libpod-<id>`              |
//! | containerd | `cri-containerd-<id>.scope`, `nerdctl-<id>.scope` | `<id>` under a pod |
//! | cri-o      | `crio-<id>.scope`                  | `crio-<id>`                |
//!
//! and, on some v1 hosts, containerd's and cri-o's own `<pod slice>:cri-containerd:<id>` form.
//! Ids are 64 hex digits. The monitor processes podman and cri-o run beside a container
//! (`libpod-conmon-<id>.scope`, `crio-conmon-<id>.scope`) are not in it and are not matched.
//! A bare 64-hex-digit component is a container whose runtime the path does not say (a
//! Kubernetes pod's cgroupfs layout, CI runners' `actions_job/<id>`), unless its parent is
//! `docker`. Where containers nest (docker in docker), the innermost counts.
//!
//! Kubernetes puts every pod under `kubepods`: `/kubepods/<qos>/pod<uid>/…` (cgroupfs) or
//! `/kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/…` (systemd, where the
//! uid's dashes become underscores). Static pods have a 32-hex-digit uid without dashes.

use crate::model::ContainerRuntime;

/// A container as its cgroup path names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerRef {
    /// 64 hex digits.
    pub id: String,
    /// None when the path does not say.
    pub runtime: Option<ContainerRuntime>,
}

/// Prefixes of a container's own cgroup, by runtime (with or without `.scope` after the id).
const PREFIXES: [(&str, ContainerRuntime); 5] = [
    ("docker-", ContainerRuntime::Docker),
    ("libpod-", ContainerRuntime::Podman),
    ("cri-containerd-", ContainerRuntime::Containerd),
    ("nerdctl-", ContainerRuntime::Containerd),
    ("crio-", ContainerRuntime::CriO),
];

/// The middle word of the `slice:prefix:id` form, by runtime.
const COLON_PREFIXES: [(&str, ContainerRuntime); 3] = [
    ("docker", ContainerRuntime::Docker),
    ("cri-containerd", ContainerRuntime::Containerd),
    ("crio", ContainerRuntime::CriO),
];

/// The innermost container the cgroup `path` names, if any.
pub fn container_of(path: &str) -> Option<ContainerRef> {
    let mut parent = "";
    let mut found = None;
    for component in path.split('/').filter(|c| !c.is_empty()) {
        if let Some(container) = container_in(component, parent) {
            found = Some(container);
        }
        parent = component;
    }
    found
}

/// The container one path component names, given the component above it.
fn container_in(component: &str, parent: &str) -> Option<ContainerRef> {
    if let Some((_, prefix, id)) = split_colon_form(component) {
        let runtime = COLON_PREFIXES
            .iter()
            .find(|(word, _)| *word == prefix)
            .map(|(_, runtime)| *runtime);
        return is_container_id(id).then(|| ContainerRef {
            id: id.to_owned(),
            runtime,
        });
    }
    let name = component.strip_suffix(".scope").unwrap_or(component);
    for (prefix, runtime) in PREFIXES {
        if let Some(id) = name.strip_prefix(prefix).filter(|id| is_container_id(id)) {
            return Some(ContainerRef {
                id: id.to_owned(),
                runtime: Some(runtime),
            });
        }
    }
    is_container_id(component).then(|| ContainerRef {
        id: component.to_owned(),
        runtime: (parent == "docker").then_some(ContainerRuntime::Docker),
    })
}

/// `kubepods-burstable-pod<uid>.slice:cri-containerd:<id>` as its three parts.
fn split_colon_form(component: &str) -> Option<(&str, &str, &str)> {
    let mut parts = component.split(':');
    let parts = (parts.next()?, parts.next()?, parts.next()?, parts.next());
    match parts {
        (slice, prefix, id, None) => Some((slice, prefix, id)),
        _ => None,
    }
}

fn is_container_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The uid of the Kubernetes pod the cgroup `path` is in, with its dashes (as the API shows
/// it), if the path is under `kubepods`.
pub fn pod_uid_of(path: &str) -> Option<String> {
    let mut under_kubepods = false;
    for component in path.split('/').filter(|c| !c.is_empty()) {
        if !under_kubepods {
            under_kubepods = component == "kubepods"
                || component.starts_with("kubepods.")
                || component.starts_with("kubepods-");
            if !under_kubepods {
                continue;
            }
        }
        // The pod's own slice, alone or as the first part of containerd's colon form.
        let slice = component.split(':').next().unwrap_or(component);
        let uid = match slice.strip_suffix(".slice") {
            Some(name) => name
                .rsplit_once("-pod")
                .map(|(_, uid)| uid.replace('_', "-")),
            None => slice.strip_prefix("pod").map(str::to_owned),
        };
        if let Some(uid) = uid.filter(|uid| is_pod_uid(uid)) {
            return Some(uid);
        }
    }
    None
}

/// A pod uid: a UUID (8-4-4-4-12 hex digits), or a static pod's 32 hex digits.
fn is_pod_uid(text: &str) -> bool {
    let digits = text.bytes().filter(u8::is_ascii_hexdigit).count();
    let dashes = text.bytes().filter(|b| *b == b'-').count();
    digits == 32 && digits + dashes == text.len() && (dashes == 0 || dashes == 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContainerRuntime::{Containerd, CriO, Docker, Podman};

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    const UID: &str = "0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d";

    /// (cgroup path, container found, runtime, pod uid) as real hosts show them; `ID` and
    /// `OTHER` stand for container ids, `UID` for the pod's uid, `UNDERSCORED` for it as
    /// systemd writes it.
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<ContainerRuntime>,
        Option<&'static str>,
    );

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        // docker, systemd and cgroupfs drivers, v1 and v2.
        ("/system.slice/docker-ID.scope", Some("ID"), Some(Docker), None),
        ("/docker/ID", Some("ID"), Some(Docker), None),
        // docker in docker: the innermost.
        ("/docker/OTHER/docker/ID", Some("ID"), Some(Docker), None),
        ("/system.slice/docker.service", None, None, None),
        ("/system.slice/docker-compose@web.service", None, None, None),
        // podman, rootful and rootless, and its monitor (not in the container).
        ("/machine.slice/libpod-ID.scope", Some("ID"), Some(Podman), None),
        ("/machine.slice/libpod-ID.scope/container", Some("ID"), Some(Podman), None),
        ("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-ID.scope", Some("ID"), Some(Podman), None),
        ("/libpod_parent/libpod-ID", Some("ID"), Some(Podman), None),
        ("/machine.slice/libpod-conmon-ID.scope", None, None, None),
        ("/machine.slice/machine-libpod_pod_OTHER.slice/libpod-ID.scope", Some("ID"), Some(Podman), None),
        // containerd: Kubernetes with either driver, nerdctl.
        ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUNDERSCORED.slice/cri-containerd-ID.scope", Some("ID"), Some(Containerd), Some("UID")),
        ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podUNDERSCORED.slice/cri-containerd-ID.scope", Some("ID"), Some(Containerd), Some("UID")),
        ("/kubepods.slice/kubepods-podUNDERSCORED.slice/cri-containerd-ID.scope", Some("ID"), Some(Containerd), Some("UID")),
        ("/kubepods/burstable/podUID/ID", Some("ID"), None, Some("UID")),
        ("/kubepods/besteffort/podUID/ID", Some("ID"), None, Some("UID")),
        ("/kubepods/podUID/ID", Some("ID"), None, Some("UID")),
        ("/system.slice/containerd.service/kubepods-burstable-podUNDERSCORED.slice:cri-containerd:ID", Some("ID"), Some(Containerd), Some("UID")),
        ("/system.slice/nerdctl-ID.scope", Some("ID"), Some(Containerd), None),
        // cri-o, with its monitor beside the container, and crun's inner cgroup.
        ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUNDERSCORED.slice/crio-ID.scope", Some("ID"), Some(CriO), Some("UID")),
        ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUNDERSCORED.slice/crio-ID.scope/container", Some("ID"), Some(CriO), Some("UID")),
        ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUNDERSCORED.slice/crio-conmon-ID.scope", None, None, Some("UID")),
        ("/kubepods/burstable/podUID/crio-ID", Some("ID"), Some(CriO), Some("UID")),
        // docker behind Kubernetes (cri-dockerd), systemd driver.
        ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUNDERSCORED.slice/docker-ID.scope", Some("ID"), Some(Docker), Some("UID")),
        // A static pod: its uid is a hash.
        ("/kubepods/burstable/pod6b4c5c2b7a0c2d3e4f5a6b7c8d9e0f1a/ID", Some("ID"), None, Some("6b4c5c2b7a0c2d3e4f5a6b7c8d9e0f1a")),
        // The pod's own cgroup: a pod, no container.
        ("/kubepods/burstable/podUID", None, None, Some("UID")),
        // A bare id elsewhere: a container, runtime unknown.
        ("/actions_job/ID", Some("ID"), None, None),
        // Not containers, not pods.
        ("/", None, None, None),
        ("", None, None, None),
        ("/user.slice/user-1000.slice/session-2.scope", None, None, None),
        ("/process_api/f6c8c519e98aa1087530e05ba63a235b", None, None, None),
        ("/system.slice/docker-0123.scope", None, None, None),
        ("/system.slice/docker-ID0.scope", None, None, None),
        ("/podUID/ID", Some("ID"), None, None),
        ("/kubepods/burstable/podcast/x", None, None, None),
        ("/kubepods/burstable/pod0b2c0d7e-1a5e-4bd6-9a3f/x", None, None, None),
        ("/a:b:ID:d", None, None, None),
    ];

    fn expand(text: &str) -> String {
        text.replace("UNDERSCORED", &UID.replace('-', "_"))
            .replace("OTHER", OTHER)
            .replace("UID", UID)
            .replace("ID", ID)
    }

    #[test]
    fn containers_and_pods_of_real_world_paths() {
        for (path, id, runtime, pod_uid) in CASES {
            let path = expand(path);
            let found = container_of(&path);
            assert_eq!(
                found.as_ref().map(|c| c.id.clone()),
                id.map(expand),
                "container of {path}"
            );
            assert_eq!(found.and_then(|c| c.runtime), *runtime, "runtime of {path}");
            assert_eq!(pod_uid_of(&path), pod_uid.map(expand), "pod of {path}");
        }
    }
}
