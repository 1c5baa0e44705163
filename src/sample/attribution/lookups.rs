//! The tick's side of the runtime lookups: what the runtimes and the kubelet said about each
//! container, kept between ticks, and the decision when to ask again.
//!
//! A question goes to the worker when a container id or pod uid appears that was not asked
//! about yet (so once per change of the set of containers, however many ticks see it), or
//! when [`RETRY_AFTER`] has passed since an answer that could not ask everything (a daemon not
//! answering in time, a socket that is not there yet). Only one question is out at a time:
//! containers that appear meanwhile go with the next. Sending and collecting never wait, so a
//! tick costs the same whether a daemon answers in a millisecond or not at all.

use std::time::{Duration, Instant};

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{Attribution, Container, KubernetesPod};

use super::kubelet::PodNames;
use super::worker::{Answer, ContainerAnswer, Handle, Wanted};
use super::{AttributionSettings, ContainerRef, PathAttribution};

/// How long after an incomplete answer the same containers are asked about again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// What is known about the containers seen, and the worker that finds out more.
pub struct Lookups {
    settings: AttributionSettings,
    /// Started at the first container seen: a host without containers has no such thread.
    worker: Option<Result<Handle, String>>,
    containers: FxHashMap<String, ContainerAnswer>,
    pods: FxHashMap<String, Result<PodNames, String>>,
    /// Container ids and pod uids asked about, answered or not.
    asked_containers: FxHashSet<String>,
    asked_pods: FxHashSet<String>,
    waiting: bool,
    /// When to ask again after an incomplete answer.
    retry_at: Option<Instant>,
}

impl Lookups {
    pub fn new(settings: AttributionSettings) -> Self {
        Lookups {
            settings,
            worker: None,
            containers: FxHashMap::default(),
            pods: FxHashMap::default(),
            asked_containers: FxHashSet::default(),
            asked_pods: FxHashSet::default(),
            waiting: false,
            retry_at: None,
        }
    }

    /// Takes in any answer that has come and asks about the containers in `seen` (this tick's
    /// processes) when there is something new to ask. New settings start afresh.
    pub fn observe<'a>(
        &mut self,
        settings: &AttributionSettings,
        seen: impl Iterator<Item = &'a PathAttribution> + Clone,
    ) {
        if *settings != self.settings {
            *self = Lookups::new(settings.clone());
        }
        self.collect_answers();
        if self.waiting {
            return;
        }
        let retry_due = self.retry_at.is_some_and(|at| Instant::now() >= at);
        let something_new = seen.clone().any(|p| {
            p.container
                .as_ref()
                .is_some_and(|c| !self.asked_containers.contains(&c.id))
                || p.pod_uid
                    .as_ref()
                    .is_some_and(|uid| !self.asked_pods.contains(uid))
        });
        if something_new || retry_due {
            self.ask(seen);
        }
    }

    fn collect_answers(&mut self) {
        let Some(Ok(worker)) = &self.worker else {
            return;
        };
        while let Some(answer) = worker.answer() {
            let Answer {
                containers,
                pods,
                incomplete,
            } = answer;
            self.containers.extend(containers);
            self.pods.extend(pods);
            self.waiting = false;
            self.retry_at = incomplete.then(|| Instant::now() + RETRY_AFTER);
        }
    }

    /// Asks about every container seen now (one list call answers for all of them anyway),
    /// and forgets those no longer seen.
    fn ask<'a>(&mut self, seen: impl Iterator<Item = &'a PathAttribution>) {
        let mut wanted = Vec::new();
        let mut containers = FxHashSet::default();
        let mut pods = FxHashSet::default();
        for p in seen {
            let new_pod = p
                .pod_uid
                .as_ref()
                .is_some_and(|uid| pods.insert(uid.clone()));
            let new_container = p
                .container
                .as_ref()
                .is_some_and(|c| containers.insert(c.id.clone()));
            if new_container {
                wanted.push(Wanted {
                    container: p.container.clone(),
                    pod_uid: p.pod_uid.clone(),
                });
            } else if new_pod && p.container.is_none() {
                wanted.push(Wanted {
                    container: None,
                    pod_uid: p.pod_uid.clone(),
                });
            }
        }
        self.containers.retain(|id, _| containers.contains(id));
        self.pods.retain(|uid, _| pods.contains(uid));
        self.asked_containers = containers;
        self.asked_pods = pods;
        self.retry_at = None;
        if wanted.is_empty() {
            return;
        }
        let settings = &self.settings;
        let worker = self.worker.get_or_insert_with(|| {
            Handle::start(settings.clone())
                .map_err(|e| format!("the thread that asks container runtimes did not start: {e}"))
        });
        if let Ok(handle) = worker {
            self.waiting = handle.ask(wanted);
            if !self.waiting {
                self.worker = Some(Err(
                    "the thread that asks container runtimes ended".to_owned()
                ));
            }
        }
    }

    /// The snapshot's view of one process's attribution.
    pub fn attribution(&self, path: &PathAttribution) -> Attribution {
        Attribution {
            systemd_unit: path.unit.as_ref().map(|u| u.unit.clone()),
            systemd_slice: path.unit.as_ref().and_then(|u| u.slice.clone()),
            container: path.container.as_ref().map(|c| self.container(c)),
            k8s: path
                .pod_uid
                .as_ref()
                .map(|uid| self.pod(uid, path.container.as_ref())),
        }
    }

    fn container(&self, container: &ContainerRef) -> Container {
        let mut shown = Container {
            id: container.id.clone(),
            runtime: container.runtime,
            name: None,
            image: None,
            unknown_reason: None,
        };
        match self.containers.get(&container.id) {
            Some(answer) => {
                shown.runtime = shown.runtime.or(answer.runtime);
                match &answer.described {
                    Ok(described) => {
                        shown.name.clone_from(&described.name);
                        shown.image.clone_from(&described.image);
                        if described.name.is_none() {
                            shown.unknown_reason =
                                Some("the runtime lists it without a name".to_owned());
                        }
                    }
                    Err(why) => shown.unknown_reason = Some(why.clone()),
                }
            }
            None => shown.unknown_reason = Some(self.pending_reason()),
        }
        shown
    }

    fn pod(&self, uid: &str, container: Option<&ContainerRef>) -> KubernetesPod {
        let mut shown = KubernetesPod {
            pod_uid: uid.to_owned(),
            pod: None,
            namespace: None,
            container: None,
            unknown_reason: None,
        };
        let mut reasons = Vec::new();
        match self.pods.get(uid) {
            Some(Ok(names)) => {
                shown.pod.clone_from(&names.pod);
                shown.namespace.clone_from(&names.namespace);
            }
            Some(Err(why)) => reasons.push(why.clone()),
            None => reasons.push(self.pending_reason()),
        }
        if let Some(container) = container {
            match self.containers.get(&container.id).map(|a| &a.in_pod) {
                Some(Some(Ok(name))) => shown.container = Some(name.clone()),
                Some(Some(Err(why))) => reasons.push(why.clone()),
                Some(None) | None => reasons.push(self.pending_reason()),
            }
        } else {
            reasons.push("the process is in the pod but in none of its containers".to_owned());
        }
        reasons.dedup();
        shown.unknown_reason = (!reasons.is_empty()).then(|| reasons.join("; "));
        shown
    }

    /// Why nothing is known yet.
    fn pending_reason(&self) -> String {
        match &self.worker {
            Some(Err(why)) => why.clone(),
            _ => "being looked up".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerRuntime;
    use crate::sample::attribution::attribution_of;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// Nothing to ask: no container, no thread, and the unit straight from the path.
    #[test]
    fn a_host_without_containers_starts_no_thread() {
        let settings = AttributionSettings::default();
        let mut lookups = Lookups::new(settings.clone());
        let paths = [attribution_of("0::/system.slice/nginx.service\n")];
        lookups.observe(&settings, paths.iter());
        assert!(lookups.worker.is_none());
        let shown = lookups.attribution(&paths[0]);
        assert_eq!(shown.systemd_unit.as_deref(), Some("nginx.service"));
        assert_eq!(shown.systemd_slice.as_deref(), Some("system.slice"));
        assert_eq!((shown.container, shown.k8s), (None, None));
    }

    #[test]
    fn a_container_is_asked_about_once_and_shown_with_the_reason_meanwhile() {
        let settings = AttributionSettings {
            docker_socket: Some("/nonexistent/wiretop/docker.sock".into()),
            ..AttributionSettings::default()
        };
        let mut lookups = Lookups::new(settings.clone());
        let paths = [attribution_of(&format!(
            "0::/system.slice/docker-{ID}.scope\n"
        ))];
        lookups.observe(&settings, paths.iter());
        assert!(lookups.waiting);
        let pending = lookups.attribution(&paths[0]).container.unwrap();
        assert_eq!(pending.runtime, Some(ContainerRuntime::Docker));
        assert_eq!(pending.unknown_reason.as_deref(), Some("being looked up"));
        // The answer (a missing socket answers at once) comes in on a later tick.
        let deadline = Instant::now() + Duration::from_secs(5);
        while lookups.waiting && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            lookups.observe(&settings, paths.iter());
        }
        let shown = lookups.attribution(&paths[0]).container.unwrap();
        assert!(
            shown
                .unknown_reason
                .as_deref()
                .is_some_and(|why| why.contains("no socket there")),
            "{shown:?}"
        );
        // Seen again: not asked again until the retry is due.
        lookups.observe(&settings, paths.iter());
        assert!(!lookups.waiting);
        lookups.retry_at = Some(Instant::now());
        lookups.observe(&settings, paths.iter());
        assert!(lookups.waiting);
    }
}
