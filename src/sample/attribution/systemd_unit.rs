//! The systemd unit and slice a cgroup path names.
//!
//! systemd lays its tree out as slices holding units: `/system.slice/nginx.service`,
//! `/user.slice/user-1000.slice/session-2.scope`. A user's own systemd runs in
//! `user@<uid>.service` and lays out the same tree below it, whose units are reported as
//! `user@1000.service/app.service` (what `systemctl status` calls the user unit).
//!
//! The unit is the first component on the path that names one; components above it that are
//! neither a slice nor a unit are passed over. They are cgroups systemd did not make: a parent
//! created by a test or a container manager, or `..` in a path seen from another cgroup
//! namespace. A systemd inside a container (`/docker/<id>/system.slice/nginx.service`) is so
//! reported with its own unit, and a container systemd made a scope for
//! (`/system.slice/docker-<id>.scope/…`) with the host's.

/// A unit and the slice it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemdUnit {
    /// `nginx.service`, `user@1000.service/app.service`.
    pub unit: String,
    /// `system.slice`; None for a unit at the root (`init.scope`).
    pub slice: Option<String>,
}

/// Unit types that can hold processes. Slices hold units, not processes.
const PROCESS_UNIT_SUFFIXES: [&str; 5] = [".service", ".scope", ".socket", ".mount", ".swap"];

/// The unit and slice of the cgroup `path`, or None when it names no unit.
pub fn unit_of(path: &str) -> Option<SystemdUnit> {
    let mut components = path.split('/').filter(|c| !c.is_empty());
    let mut slice = None;
    for component in components.by_ref() {
        if is_slice(component) {
            slice = Some(component);
        } else if is_unit(component) {
            let unit = match user_unit(component, &mut components) {
                Some(inner) => format!("{component}/{inner}"),
                None => component.to_owned(),
            };
            return Some(SystemdUnit {
                unit,
                slice: slice.map(str::to_owned),
            });
        }
    }
    None
}

/// Below a user's systemd (`user@1000.service`), the first unit of theirs, past its slices.
fn user_unit<'a>(manager: &str, below: &mut impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let user_manager = manager.starts_with("user@") && manager.ends_with(".service");
    if !user_manager {
        return None;
    }
    below.find(|c| is_unit(c))
}

fn is_slice(component: &str) -> bool {
    named_with(component, ".slice")
}

fn is_unit(component: &str) -> bool {
    PROCESS_UNIT_SUFFIXES
        .iter()
        .any(|suffix| named_with(component, suffix))
}

/// `component` is a name followed by `suffix`, and the name is one systemd could have made:
/// no `:` (containerd's `slice:prefix:id` cgroups end in an id, but are not units either way).
fn named_with(component: &str, suffix: &str) -> bool {
    component
        .strip_suffix(suffix)
        .is_some_and(|name| !name.is_empty() && !name.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (cgroup path, unit, slice) as real hosts show them; `ID` stands for a container id.
    #[rustfmt::skip]
    const CASES: &[(&str, Option<&str>, Option<&str>)] = &[
        ("/system.slice/nginx.service", Some("nginx.service"), Some("system.slice")),
        ("/system.slice/system-getty.slice/getty@tty1.service", Some("getty@tty1.service"), Some("system-getty.slice")),
        ("/system.slice/systemd-journald.service", Some("systemd-journald.service"), Some("system.slice")),
        ("/init.scope", Some("init.scope"), None),
        ("/user.slice/user-1000.slice/session-2.scope", Some("session-2.scope"), Some("user-1000.slice")),
        ("/user.slice/user-1000.slice/user@1000.service/app.slice/app.service", Some("user@1000.service/app.service"), Some("user-1000.slice")),
        ("/user.slice/user-1000.slice/user@1000.service/init.scope", Some("user@1000.service/init.scope"), Some("user-1000.slice")),
        ("/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-4242.scope", Some("user@1000.service/app-gnome-firefox-4242.scope"), Some("user-1000.slice")),
        ("/user.slice/user-1000.slice/user@1000.service/session.slice/pipewire.service", Some("user@1000.service/pipewire.service"), Some("user-1000.slice")),
        // A user manager seen on v1, with no unit of its own below it.
        ("/user.slice/user-1000.slice/user@1000.service", Some("user@1000.service"), Some("user-1000.slice")),
        ("/system.slice/docker-ID.scope", Some("docker-ID.scope"), Some("system.slice")),
        ("/machine.slice/libpod-ID.scope/container", Some("libpod-ID.scope"), Some("machine.slice")),
        ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b2c0d7e_1a5e_4bd6_9a3f_2f1c4a1e9b7d.slice/cri-containerd-ID.scope", Some("cri-containerd-ID.scope"), Some("kubepods-burstable-pod0b2c0d7e_1a5e_4bd6_9a3f_2f1c4a1e9b7d.slice")),
        ("/system.slice/home.mount", Some("home.mount"), Some("system.slice")),
        ("/system.slice/dbus.socket", Some("dbus.socket"), Some("system.slice")),
        // Escaped names stay as systemd wrote them.
        ("/system.slice/system-systemd\\x2dfsck.slice/systemd-fsck@dev-sda1.service", Some("systemd-fsck@dev-sda1.service"), Some("system-systemd\\x2dfsck.slice")),
        // Parents systemd did not make are passed over.
        ("/wiretop-test-42/system.slice/demo.service", Some("demo.service"), Some("system.slice")),
        ("/../../system.slice/cron.service", Some("cron.service"), Some("system.slice")),
        ("/docker/ID/system.slice/nginx.service", Some("nginx.service"), Some("system.slice")),
        ("/lxc.payload.c1/init.scope", Some("init.scope"), None),
        // containerd's v1 `slice:prefix:id` cgroup, below its own service.
        ("/system.slice/containerd.service/kubepods-burstable-pod1.slice:cri-containerd:ID", Some("containerd.service"), Some("system.slice")),
        // No unit on the path.
        ("/", None, None),
        ("", None, None),
        ("/system.slice", None, None),
        ("/user.slice/user-1000.slice", None, None),
        ("/docker/ID", None, None),
        ("/kubepods/burstable/pod0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d/ID", None, None),
        ("/process_api/f6c8c519e98aa1087530e05ba63a235b", None, None),
        ("/.service", None, None),
        ("/.scope/x.slice", None, None),
    ];

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn units_and_slices_of_real_world_paths() {
        for (path, unit, slice) in CASES {
            let path = path.replace("ID", ID);
            let found = unit_of(&path);
            assert_eq!(
                found.as_ref().map(|u| u.unit.clone()),
                unit.map(|u| u.replace("ID", ID)),
                "unit of {path}"
            );
            assert_eq!(
                found.as_ref().and_then(|u| u.slice.as_deref()),
                *slice,
                "slice of {path}"
            );
        }
    }
}
