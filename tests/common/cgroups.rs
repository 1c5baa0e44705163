//! Cgroups made by a test, for processes to be moved into: `system.slice/demo.service`,
//! `system.slice/docker-<id>.scope`, a pod's layout. Each lives under a parent of its own
//! (`wiretop-test-<pid>-<n>`) at the root of a real hierarchy, so no cgroup the host uses is
//! touched, and goes away when dropped, failed test or not: its processes are moved back to
//! the hierarchy's root and every directory made is removed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Which hierarchy to make the cgroup in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hierarchy {
    /// cgroup v2, wherever it is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a
    /// hybrid host).
    Unified,
    /// systemd's own v1 hierarchy (`name=systemd`) of legacy and hybrid hosts.
    SystemdV1,
}

impl Hierarchy {
    /// Where it is mounted with its own root, if it is (from /proc/self/mountinfo).
    pub fn mount_point(self) -> Option<PathBuf> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        mountinfo.lines().find_map(|line| {
            let (mount, filesystem) = line.split_once(" - ")?;
            let mount: Vec<&str> = mount.split(' ').collect();
            let filesystem: Vec<&str> = filesystem.split(' ').collect();
            let (root, point) = (*mount.get(3)?, *mount.get(4)?);
            let (kind, options) = (*filesystem.first()?, *filesystem.get(2)?);
            let wanted = match self {
                Hierarchy::Unified => kind == "cgroup2",
                Hierarchy::SystemdV1 => {
                    kind == "cgroup" && options.split(',').any(|o| o == "name=systemd")
                }
            };
            (wanted && root == "/").then(|| PathBuf::from(point))
        })
    }
}

/// A cgroup made by the test.
pub struct TestCgroup {
    mount: PathBuf,
    /// The directories made, outermost first.
    made: Vec<PathBuf>,
    /// The path the kernel shows in /proc/<pid>/cgroup for it.
    pub path: String,
}

static MADE: AtomicU32 = AtomicU32::new(0);

impl TestCgroup {
    /// Makes `relative` (`system.slice/demo.service`) under a fresh parent in `hierarchy`.
    pub fn create(hierarchy: Hierarchy, relative: &str) -> Result<TestCgroup, String> {
        let mount = hierarchy
            .mount_point()
            .ok_or_else(|| format!("no {hierarchy:?} cgroup hierarchy is mounted"))?;
        let parent = format!(
            "wiretop-test-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        let mut cgroup = TestCgroup {
            path: format!("/{parent}/{relative}"),
            mount,
            made: Vec::new(),
        };
        let mut dir = cgroup.mount.clone();
        for component in std::iter::once(parent.as_str()).chain(relative.split('/')) {
            dir.push(component);
            std::fs::create_dir(&dir).map_err(|e| format!("making {}: {e}", dir.display()))?;
            cgroup.made.push(dir.clone());
        }
        Ok(cgroup)
    }

    fn leaf(&self) -> &Path {
        self.made
            .last()
            .map_or(self.mount.as_path(), PathBuf::as_path)
    }

    /// Moves the process `pid` in.
    pub fn add(&self, pid: u32) -> Result<(), String> {
        let procs = self.leaf().join("cgroup.procs");
        std::fs::write(&procs, pid.to_string())
            .map_err(|e| format!("moving {pid} into {}: {e}", procs.display()))
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let root_procs = self.mount.join("cgroup.procs");
        for dir in self.made.iter().rev() {
            let members = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in members.lines() {
                let _ = std::fs::write(&root_procs, pid);
            }
            // A process that was just killed may take a moment to leave.
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}
