//! Attribution: the systemd unit, container and Kubernetes pod of each process.
//!
//! Two halves, kept apart because they cost differently:
//! - What the cgroup path says (unit, slice, container id and runtime, pod uid) is parsed when a
//!   process's details are read (`sample::linux::process`), so it is cached with them: read
//!   once per process and again only when it execs or on the periodic details refresh, never
//!   per tick. [`PathAttribution`] is that part.
//! - What only the runtimes know (a container's name and image, a pod's name and namespace) is
//!   asked on a background thread (`worker`) when a container id appears that was not asked
//!   about yet: one list call to each runtime's API, with a deadline. A tick never waits for
//!   it: [`Lookups`] sends the question and takes the answer on a later tick, and until then
//!   the names are null with the reason.

mod container_path;
mod engine_api;
mod kubelet;
mod lookups;
mod systemd_unit;
mod worker;

use std::path::PathBuf;
use std::time::Duration;

pub use container_path::{container_of, pod_uid_of, ContainerRef};
pub use lookups::Lookups;
pub use systemd_unit::{unit_of, SystemdUnit};

/// Where the runtimes' APIs and the kubelet's records are, and how long an API may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionSettings {
    /// The Docker Engine API's unix socket; None: Docker is never asked.
    pub docker_socket: Option<PathBuf>,
    /// Podman's API socket (it answers Docker's list call); None: Podman is never asked.
    pub podman_socket: Option<PathBuf>,
    /// The kubelet's log directory, whose `containers/` and `pods/` entries are named after
    /// the pods and containers they log.
    pub kubelet_log_dir: PathBuf,
    /// How long one call to an API may take in all, connecting and reading included.
    pub api_timeout: Duration,
}

impl AttributionSettings {
    /// Docker's default socket.
    pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";
    /// Rootful Podman's default socket (`podman.socket`).
    pub const DEFAULT_PODMAN_SOCKET: &str = "/run/podman/podman.sock";
    /// Where the kubelet writes container logs.
    pub const DEFAULT_KUBELET_LOG_DIR: &str = "/var/log";
    /// Long enough for a busy local daemon to list a few thousand containers, short enough
    /// that a stuck one delays only names, and only by this much.
    pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_millis(300);
}

impl Default for AttributionSettings {
    fn default() -> Self {
        AttributionSettings {
            docker_socket: Some(PathBuf::from(Self::DEFAULT_DOCKER_SOCKET)),
            podman_socket: Some(PathBuf::from(Self::DEFAULT_PODMAN_SOCKET)),
            kubelet_log_dir: PathBuf::from(Self::DEFAULT_KUBELET_LOG_DIR),
            api_timeout: Self::DEFAULT_API_TIMEOUT,
        }
    }
}

/// What a process's cgroup path says about where it belongs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathAttribution {
    pub unit: Option<SystemdUnit>,
    pub container: Option<ContainerRef>,
    /// With its dashes.
    pub pod_uid: Option<String>,
}

/// Parses `/proc/<pid>/cgroup`. The unit is read from systemd's own hierarchy (the v1
/// `name=systemd` line of legacy and hybrid hosts) and else from the unified one (`0::`); the
/// container and pod from the unified hierarchy, else systemd's, else any v1 controller's,
/// since runtimes on v1 hosts place a container in every hierarchy. The first line that names
/// one wins.
pub fn attribution_of(cgroup_file: &str) -> PathAttribution {
    let mut unified = None;
    let mut systemd = None;
    let mut controllers = Vec::new();
    for line in cgroup_file.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(names), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if id == "0" && names.is_empty() {
            unified.get_or_insert(path);
        } else if names.split(',').any(|name| name == "name=systemd") {
            systemd.get_or_insert(path);
        } else {
            controllers.push(path);
        }
    }
    let unit_paths = [systemd, unified];
    let container_paths = || {
        [unified, systemd]
            .into_iter()
            .flatten()
            .chain(controllers.iter().copied())
    };
    PathAttribution {
        unit: unit_paths.into_iter().flatten().find_map(unit_of),
        container: container_paths().find_map(container_of),
        pod_uid: container_paths().find_map(pod_uid_of),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerRuntime;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn unit_comes_from_systemds_hierarchy_then_the_unified_one() {
        // A hybrid host: both say the same.
        let hybrid = "12:memory:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n0::/system.slice/nginx.service\n";
        let unit = attribution_of(hybrid).unit.map(|u| (u.unit, u.slice));
        assert_eq!(
            unit,
            Some(("nginx.service".to_owned(), Some("system.slice".to_owned())))
        );
        // A process moved only in the v1 systemd hierarchy, or only in the unified one.
        let v1_only = "9:name=systemd:/t/system.slice/demo.service\n4:memory:/x\n0::/\n";
        assert_eq!(
            attribution_of(v1_only).unit.map(|u| u.unit).as_deref(),
            Some("demo.service")
        );
        let v2_only = "9:name=systemd:/\n0::/t/system.slice/demo.service\n";
        assert_eq!(
            attribution_of(v2_only).unit.map(|u| u.unit).as_deref(),
            Some("demo.service")
        );
        // A pure v2 host, and a v1 controller that names a unit but is not systemd's.
        assert_eq!(
            attribution_of("0::/init.scope\n")
                .unit
                .map(|u| u.unit)
                .as_deref(),
            Some("init.scope")
        );
        assert_eq!(
            attribution_of("3:cpu,cpuacct:/system.slice/x.service\n0::/\n").unit,
            None
        );
        // systemd's name among other names on a v1 line.
        assert!(attribution_of("1:name=systemd,foo:/a.service\n")
            .unit
            .is_some());
    }

    #[test]
    fn container_and_pod_come_from_any_hierarchy_that_names_them() {
        // Docker's cgroupfs driver on a v1 host: only the controllers say it.
        let v1 = format!("11:pids:/docker/{ID}\n4:memory:/docker/{ID}\n1:name=systemd:/\n0::/\n");
        let found = attribution_of(&v1);
        assert_eq!(
            found.container,
            Some(ContainerRef {
                id: ID.to_owned(),
                runtime: Some(ContainerRuntime::Docker)
            })
        );
        assert_eq!(found.unit, None);
        let pod = format!("0::/kubepods/besteffort/pod0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d/{ID}\n");
        let found = attribution_of(&pod);
        assert_eq!(
            found.pod_uid.as_deref(),
            Some("0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d")
        );
        assert_eq!(found.container.map(|c| c.runtime), Some(None));
    }

    #[test]
    fn text_that_is_not_a_cgroup_file_names_nothing() {
        for text in ["", "\n\n", "garbage", "0:/system.slice/x.service", "::::"] {
            assert_eq!(attribution_of(text), PathAttribution::default(), "{text:?}");
        }
        // A path with colons stays whole.
        let colon = format!("0::/system.slice/containerd.service/kubepods-burstable-pod0b2c0d7e_1a5e_4bd6_9a3f_2f1c4a1e9b7d.slice:cri-containerd:{ID}\n");
        let found = attribution_of(&colon);
        assert_eq!(found.container.map(|c| c.id).as_deref(), Some(ID));
        assert!(found.pod_uid.is_some());
    }
}
