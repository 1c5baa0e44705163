//! Narrowing a snapshot to the processes a user asked about (`--pid`, `--port`, `--user`).

use super::{Process, Snapshot};

/// Conditions a process must all meet to be kept. An empty query keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessQuery {
    /// Keep only this pid.
    pub pid: Option<u32>,
    /// Keep processes that listen on this port or hold a connection with it at either end.
    pub port: Option<u16>,
    /// Keep processes owned by this user (name, or numeric uid).
    pub user: Option<String>,
}

impl ProcessQuery {
    /// Whether the query has no conditions.
    pub fn is_empty(&self) -> bool {
        self.pid.is_none() && self.port.is_none() && self.user.is_none()
    }

    /// Whether `process` meets every condition.
    pub fn matches(&self, process: &Process) -> bool {
        if self.pid.is_some_and(|pid| pid != process.pid) {
            return false;
        }
        if let Some(port) = self.port {
            let listens = process.listening.iter().any(|l| l.port == port);
            let connects = process
                .connections
                .iter()
                .any(|c| c.local_port == port || c.remote_port == port);
            if !listens && !connects {
                return false;
            }
        }
        if let Some(user) = &self.user {
            let by_name = process.user.as_deref() == Some(user.as_str());
            let by_uid = user.parse::<u32>().is_ok_and(|uid| uid == process.uid);
            if !by_name && !by_uid {
                return false;
            }
        }
        true
    }

    /// A copy of `snapshot` with only the matching processes. Host figures stay host-wide.
    /// Unowned sockets are kept only for a port query (they belong to no pid or user).
    pub fn apply(&self, snapshot: &Snapshot) -> Snapshot {
        if self.is_empty() {
            return snapshot.clone();
        }
        let processes = snapshot
            .processes
            .iter()
            .filter(|p| self.matches(p))
            .cloned()
            .collect();
        let unowned_sockets = match (self.port, self.pid.is_none() && self.user.is_none()) {
            (Some(port), true) => snapshot
                .unowned_sockets
                .iter()
                .filter(|s| s.local_port == port || s.remote_port == port)
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        Snapshot {
            processes,
            unowned_sockets,
            ..snapshot.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Listening, Proto};

    fn with_listener(mut p: Process, port: u16) -> Process {
        p.listening.push(Listening {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            addr: "0.0.0.0".parse().unwrap(),
            port,
            inode: 1,
            netns: None,
        });
        p
    }

    #[test]
    fn each_condition_narrows_and_all_must_hold() {
        let web = with_listener(Process::example(10, "www-data"), 8080);
        let db = with_listener(Process::example(20, "postgres"), 5432);
        let by_port = ProcessQuery {
            port: Some(8080),
            ..Default::default()
        };
        assert!(by_port.matches(&web) && !by_port.matches(&db));
        let by_user = ProcessQuery {
            user: Some("postgres".into()),
            ..Default::default()
        };
        assert!(by_user.matches(&db) && !by_user.matches(&web));
        let by_uid = ProcessQuery {
            user: Some("1000".into()),
            ..Default::default()
        };
        assert!(by_uid.matches(&db));
        let both = ProcessQuery {
            port: Some(8080),
            user: Some("postgres".into()),
            pid: None,
        };
        assert!(!both.matches(&web) && !both.matches(&db));
        let by_pid = ProcessQuery {
            pid: Some(20),
            ..Default::default()
        };
        assert!(by_pid.matches(&db) && !by_pid.matches(&web));
        assert!(ProcessQuery::default().matches(&web));
    }
}
