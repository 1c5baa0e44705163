//! The thread that asks the runtimes and the kubelet about containers, so that no tick waits
//! for them. It takes one question at a time (the containers seen, each with the runtime and
//! pod its cgroup path names) and answers it whole: one list call per runtime API involved,
//! each bounded by the API timeout, and one listing of the kubelet's log directory.
//!
//! It ends when its [`Handle`] is dropped, after the call under way (at most the timeout).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::model::ContainerRuntime;

use super::engine_api::{list_containers, ListedContainer};
use super::kubelet::{read_records, KubeletRecords, PodNames};
use super::{AttributionSettings, ContainerRef};

/// A container to find out about and the pod its path puts it in, or a pod alone (a process
/// in a pod's cgroup but in none of its containers).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub container: Option<ContainerRef>,
    pub pod_uid: Option<String>,
}

/// What was learnt about the containers of one question.
#[derive(Debug, Default)]
pub struct Answer {
    /// By container id.
    pub containers: HashMap<String, ContainerAnswer>,
    /// By pod uid: its names (`container` unset), or why they are unknown.
    pub pods: HashMap<String, Result<PodNames, String>>,
    /// Something could not be asked (an API did not answer, a directory was unreadable): a
    /// later question may do better.
    pub incomplete: bool,
}

/// What was learnt about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerAnswer {
    /// The runtime whose API listed it, when its path did not say.
    pub runtime: Option<ContainerRuntime>,
    /// Its name and image, or why they are unknown.
    pub described: Result<Described, String>,
    /// Its name in its pod's spec, or why it is unknown; None outside a pod.
    pub in_pod: Option<Result<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub name: Option<String>,
    pub image: Option<String>,
}

/// The asking side of the thread.
pub struct Handle {
    questions: mpsc::Sender<Vec<Wanted>>,
    answers: mpsc::Receiver<Answer>,
}

impl Handle {
    /// Starts the thread.
    pub fn start(settings: AttributionSettings) -> std::io::Result<Handle> {
        let (questions, asked) = mpsc::channel::<Vec<Wanted>>();
        let (answered, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name("wiretop-containers".to_owned())
            .spawn(move || {
                for question in asked {
                    if answered.send(answer(&settings, &question)).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Handle { questions, answers })
    }

    /// Sends a question; false when the thread is gone.
    pub fn ask(&self, wanted: Vec<Wanted>) -> bool {
        self.questions.send(wanted).is_ok()
    }

    /// An answer, if one has come; never waits.
    pub fn answer(&self) -> Option<Answer> {
        self.answers.try_recv().ok()
    }
}

/// One runtime API's list: by container id, or why it could not be had.
type Listing = Result<HashMap<String, ListedContainer>, String>;

/// Answers a question: the blocking part, on the worker thread.
pub fn answer(settings: &AttributionSettings, wanted: &[Wanted]) -> Answer {
    let asks = |runtime: Option<ContainerRuntime>| {
        wanted
            .iter()
            .filter_map(|w| w.container.as_ref())
            .any(|c| c.runtime == runtime)
    };
    // A container whose path does not name its runtime may well be Docker's (cri-dockerd's
    // cgroupfs layout, CI runners): Docker is asked about it too.
    let docker = (asks(Some(ContainerRuntime::Docker)) || asks(None)).then(|| {
        listing(
            settings.docker_socket.as_deref(),
            "docker_socket",
            "Docker Engine API",
            settings,
        )
    });
    let podman = asks(Some(ContainerRuntime::Podman)).then(|| {
        listing(
            settings.podman_socket.as_deref(),
            "podman_socket",
            "Podman API",
            settings,
        )
    });
    let kubelet = wanted
        .iter()
        .any(|w| w.pod_uid.is_some())
        .then(|| read_records(&settings.kubelet_log_dir));
    // Worth asking again: a call that failed, not an API the configuration says not to ask.
    let failed = |listing: &Option<Listing>, socket: &Option<PathBuf>| {
        socket.is_some() && listing.as_ref().is_some_and(Result::is_err)
    };
    let mut answer = Answer {
        incomplete: failed(&docker, &settings.docker_socket)
            || failed(&podman, &settings.podman_socket)
            || kubelet.as_ref().is_some_and(Result::is_err),
        ..Answer::default()
    };
    for w in wanted {
        let Some(container) = &w.container else {
            if let Some(uid) = &w.pod_uid {
                let found = find_in_pod("", uid, None, kubelet.as_ref());
                answer.pods.entry(uid.clone()).or_insert(found.pod);
            }
            continue;
        };
        let (runtime, described, labels) = describe(container, docker.as_ref(), podman.as_ref());
        let in_pod = w.pod_uid.as_ref().map(|uid| {
            let found = find_in_pod(&container.id, uid, labels.as_ref(), kubelet.as_ref());
            let pod = answer
                .pods
                .entry(uid.clone())
                .or_insert_with(|| found.pod.clone());
            if let (Err(_), Ok(names)) = (&pod, &found.pod) {
                *pod = Ok(names.clone());
            }
            found.container
        });
        answer.containers.insert(
            container.id.clone(),
            ContainerAnswer {
                runtime,
                described,
                in_pod,
            },
        );
    }
    answer
}

/// The list of the API at `socket` (the configuration key `key`), by id.
fn listing(socket: Option<&Path>, key: &str, api: &str, settings: &AttributionSettings) -> Listing {
    let Some(socket) = socket else {
        return Err(format!(
            "process_agent.{key} is null: the {api} is not asked"
        ));
    };
    match list_containers(socket, settings.api_timeout) {
        Ok(list) => Ok(list.into_iter().map(|c| (c.id.clone(), c)).collect()),
        Err(e) => Err(format!("the {api} at {}: {e}", socket.display())),
    }
}

/// A container's runtime (when its path did not say), name and image, and the pod labels its
/// runtime keeps.
fn describe<'a>(
    container: &ContainerRef,
    docker: Option<&'a Listing>,
    podman: Option<&'a Listing>,
) -> (
    Option<ContainerRuntime>,
    Result<Described, String>,
    Option<PodNames>,
) {
    let from = |listing: Option<&'a Listing>, api: &str| match listing {
        Some(Ok(list)) => match list.get(&container.id) {
            Some(listed) => Ok(listed),
            None => Err(format!("not in the {api}'s list of containers")),
        },
        Some(Err(reason)) => Err(reason.clone()),
        None => Err(format!("the {api} was not asked")),
    };
    let listed = match container.runtime {
        Some(ContainerRuntime::Docker) => from(docker, "Docker Engine API"),
        Some(ContainerRuntime::Podman) => from(podman, "Podman API"),
        Some(ContainerRuntime::Containerd) => {
            Err("containerd's names and images are not read (its API is gRPC only)".to_owned())
        }
        Some(ContainerRuntime::CriO) => {
            Err("CRI-O's names and images are not read (its API is gRPC only)".to_owned())
        }
        None => from(docker, "Docker Engine API").map_err(|why| {
            format!("the cgroup path does not say which runtime runs it, and {why}")
        }),
    };
    match listed {
        Ok(listed) => (
            container
                .runtime
                .is_none()
                .then_some(ContainerRuntime::Docker),
            Ok(Described {
                name: listed.name.clone(),
                image: listed.image.clone(),
            }),
            listed.k8s.clone(),
        ),
        Err(why) => (None, Err(why), None),
    }
}

/// What is known of a container's pod: the pod's names, and the container's name in it.
struct InPod {
    pod: Result<PodNames, String>,
    container: Result<String, String>,
}

/// From the runtime's labels, else the kubelet's log directory (by container id, then by pod
/// uid for the pod's names).
fn find_in_pod(
    id: &str,
    uid: &str,
    labels: Option<&PodNames>,
    kubelet: Option<&Result<KubeletRecords, String>>,
) -> InPod {
    let records = match kubelet {
        Some(Ok(records)) => Ok(records),
        Some(Err(why)) => Err(why.clone()),
        None => Err("the kubelet's log directory was not read".to_owned()),
    };
    let by_container = labels
        .filter(|names| names.pod.is_some())
        .or_else(|| records.as_ref().ok()?.by_container.get(id));
    let by_pod = records.as_ref().ok().and_then(|r| r.by_pod_uid.get(uid));
    let pod_names = by_pod.or(by_container).map(|names| PodNames {
        container: None,
        ..names.clone()
    });
    let no_entry = |what: &str| match &records {
        Ok(_) => format!("the kubelet's log directory has no entry for this {what}"),
        Err(why) => why.clone(),
    };
    InPod {
        pod: pod_names.ok_or_else(|| no_entry("pod")),
        container: by_container
            .and_then(|names| names.container.clone())
            .ok_or_else(|| no_entry("container (a pod's sandbox has none)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn wanted(runtime: Option<ContainerRuntime>, pod_uid: Option<&str>) -> Wanted {
        Wanted {
            container: Some(ContainerRef {
                id: ID.to_owned(),
                runtime,
            }),
            pod_uid: pod_uid.map(str::to_owned),
        }
    }

    fn nowhere() -> AttributionSettings {
        AttributionSettings {
            docker_socket: Some("/nonexistent/wiretop/docker.sock".into()),
            podman_socket: None,
            kubelet_log_dir: "/nonexistent/wiretop/log".into(),
            ..AttributionSettings::default()
        }
    }

    #[test]
    fn every_container_gets_a_reason_when_nothing_can_be_asked() {
        let settings = nowhere();
        let question = [
            wanted(Some(ContainerRuntime::Docker), None),
            Wanted {
                container: Some(ContainerRef {
                    id: ID.replace('0', "1"),
                    runtime: Some(ContainerRuntime::Podman),
                }),
                pod_uid: None,
            },
            Wanted {
                container: Some(ContainerRef {
                    id: ID.replace('0', "2"),
                    runtime: Some(ContainerRuntime::Containerd),
                }),
                pod_uid: Some("0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d".to_owned()),
            },
        ];
        let answer = answer(&settings, &question);
        assert!(answer.incomplete);
        let reason = |id: &str| answer.containers[id].described.clone().unwrap_err();
        assert!(
            reason(ID).contains("/nonexistent/wiretop/docker.sock: no socket there"),
            "{}",
            reason(ID)
        );
        assert!(reason(&ID.replace('0', "1")).contains("process_agent.podman_socket is null"));
        assert!(reason(&ID.replace('0', "2")).contains("containerd"));
        let pod = &answer.pods["0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d"];
        assert!(pod
            .as_ref()
            .is_err_and(|why| why.contains("/nonexistent/wiretop/log/containers")));
    }

    /// An API the configuration says not to ask is not worth asking again; one that failed is.
    #[test]
    fn only_failed_calls_make_an_answer_incomplete() {
        let not_asked = AttributionSettings {
            docker_socket: None,
            ..nowhere()
        };
        let question = [wanted(Some(ContainerRuntime::Docker), None)];
        assert!(!answer(&not_asked, &question).incomplete);
        assert!(answer(&nowhere(), &question).incomplete);
    }
}
