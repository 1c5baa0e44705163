//! `exclude_patterns`: processes the user asked never to see, matched on the raw command line
//! (before scrubbing, so a pattern written against what `ps` shows works) and removed from a
//! snapshot together with every reference to them.

use std::collections::HashSet;

use crate::model::Process;

/// Whether the command line (or, without one, the name) matches an exclude pattern.
pub fn is_excluded(patterns: &[regex::Regex], name: &str, cmdline: &[String]) -> bool {
    if patterns.is_empty() {
        return false;
    }
    let text = if cmdline.is_empty() {
        name.to_owned()
    } else {
        cmdline.join(" ")
    };
    patterns.iter().any(|p| p.is_match(&text))
}

/// Removes excluded processes, and every reference to them, so the snapshot stays
/// self-consistent (no peer points at a process that is not in it). Returns how many went.
pub fn drop_excluded(processes: &mut Vec<Process>, excluded: &HashSet<u32>) -> u32 {
    if excluded.is_empty() {
        return 0;
    }
    let before = processes.len();
    processes.retain(|p| !excluded.contains(&p.pid));
    for p in processes.iter_mut() {
        for c in &mut p.connections {
            if c.peer_pid.is_some_and(|pid| excluded.contains(&pid)) {
                c.peer_pid = None;
                c.peer_name = None;
            }
        }
    }
    u32::try_from(before - processes.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> Vec<regex::Regex> {
        list.iter()
            .map(|p| regex::Regex::new(p).expect("test pattern"))
            .collect()
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn patterns_match_the_joined_command_line() {
        let p = patterns(&["^/usr/bin/python3 .*backup\\.py"]);
        assert!(is_excluded(
            &p,
            "python3",
            &argv(&["/usr/bin/python3", "/opt/backup.py"])
        ));
        assert!(!is_excluded(
            &p,
            "python3",
            &argv(&["/usr/bin/python3", "/opt/web.py"])
        ));
    }

    #[test]
    fn without_a_command_line_the_name_is_matched() {
        let p = patterns(&["^kworker/"]);
        assert!(is_excluded(&p, "kworker/0:1", &[]));
        assert!(!is_excluded(&p, "kthreadd", &[]));
    }

    #[test]
    fn no_patterns_exclude_nothing() {
        assert!(!is_excluded(&[], "anything", &argv(&["anything"])));
    }

    #[test]
    fn dropped_processes_take_their_peer_references_with_them() {
        use crate::model::{Connection, Role};
        let mut server = Process::example(10, "www");
        server.connections.push(Connection::example_loopback(
            80,
            5000,
            Role::Server,
            (20, "curl"),
            1,
        ));
        let mut client = Process::example(20, "me");
        client.connections.push(Connection::example_loopback(
            5000,
            80,
            Role::Client,
            (10, "nginx"),
            2,
        ));
        let mut processes = vec![server, client, Process::example(30, "me")];

        assert_eq!(drop_excluded(&mut processes, &HashSet::from([20])), 1);
        let pids: Vec<u32> = processes.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [10, 30]);
        let kept = &processes[0].connections[0];
        assert_eq!((kept.peer_pid, kept.peer_name.as_deref()), (None, None));
        assert_eq!(kept.local_port, 80, "the connection itself stays");
    }

    #[test]
    fn nothing_excluded_changes_nothing() {
        let mut processes = vec![Process::example(1, "root")];
        assert_eq!(drop_excluded(&mut processes, &HashSet::new()), 0);
        assert_eq!(processes.len(), 1);
    }
}
