//! Units, containers and pods of real processes in real cgroups made by the tests, with a
//! Docker Engine API on a unix socket started by the test. They need root to make cgroups (CI
//! runs as root): without it, or without the hierarchy a test needs, they fail as root or in CI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use common::cgroups::{Hierarchy, TestCgroup};
use common::engine_api::{Behaviour, FakeEngineApi, Listed};
use common::Child;
use wiretop::model::{ContainerRuntime, Process, Snapshot};
use wiretop::sample::{AttributionSettings, Sampler, SamplerSettings};

/// The tests of this file run one at a time: each sampler sees every process of the host, so
/// another test's container appearing would be a new set of ids to this test's sampler (and a
/// second call to its Engine API).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A sleeping child moved into a cgroup made for the test. The child goes first, then the
/// cgroup (fields drop in order).
struct Member {
    child: Child,
    cgroup: TestCgroup,
}

impl Member {
    /// A cgroup `relative` in `hierarchy` with a sleeping child in it; None (the test has
    /// failed or is recorded as not run) when cgroups cannot be made here.
    fn start(test: &str, hierarchy: Hierarchy, relative: &str) -> Option<Member> {
        if !common::not_run::runs_as_root(test) {
            return None;
        }
        let cgroup = TestCgroup::create(hierarchy, relative);
        let available = cgroup.as_ref().err().cloned();
        if !common::not_run::runs_here(
            test,
            available.is_none(),
            &format!("cgroups it can make ({})", available.unwrap_or_default()),
        ) {
            return None;
        }
        let cgroup = cgroup.expect("checked above");
        let mut sleep = Command::new("sleep");
        sleep.arg("600");
        let child = Child::start(sleep);
        cgroup
            .add(child.pid())
            .expect("the child moves into the cgroup");
        Some(Member { child, cgroup })
    }

    fn pid(&self) -> u32 {
        self.child.pid()
    }
}

/// A random container id, so tests running together never share one.
fn container_id() -> String {
    (0..4)
        .map(|_| format!("{:016x}", fastrand::u64(..)))
        .collect()
}

/// Processes only, with the runtimes and the kubelet where `attribution` says.
fn sampler(attribution: AttributionSettings) -> Sampler {
    let mut sampler = Sampler::new(SamplerSettings {
        collect_connections: false,
        attribution,
        ..SamplerSettings::default()
    });
    sampler.prime().expect("the sampler primes");
    sampler
}

/// Nowhere to ask: a test states what it wants asked.
fn asking_nobody() -> AttributionSettings {
    AttributionSettings {
        docker_socket: None,
        podman_socket: None,
        kubelet_log_dir: "/nonexistent/wiretop-test/log".into(),
        ..AttributionSettings::default()
    }
}

fn process(snapshot: &Snapshot, pid: u32) -> &Process {
    common::process(snapshot, pid)
}

/// Ticks (100 ms apart) until `done` holds for the process `pid`, at most 5 s; returns the
/// last snapshot and how long each tick took.
fn tick_until(
    sampler: &mut Sampler,
    pid: u32,
    done: impl Fn(&Process) -> bool,
) -> (Snapshot, Vec<Duration>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ticks = Vec::new();
    loop {
        let started = Instant::now();
        let snapshot = sampler.sample().expect("a snapshot");
        ticks.push(started.elapsed());
        if done(process(&snapshot, pid)) || Instant::now() > deadline {
            return (snapshot, ticks);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_unit(test: &str, hierarchy: Hierarchy) {
    let Some(member) = Member::start(test, hierarchy, "system.slice/demo.service") else {
        return;
    };
    let snapshot = sampler(asking_nobody()).sample().unwrap();
    let p = process(&snapshot, member.pid());
    assert_eq!(p.attribution.systemd_unit.as_deref(), Some("demo.service"));
    assert_eq!(p.attribution.systemd_slice.as_deref(), Some("system.slice"));
    assert_eq!(
        (&p.attribution.container, &p.attribution.k8s),
        (&None, &None)
    );
    // Ours is not: the test runs where it was started.
    let own = process(&snapshot, std::process::id());
    assert_ne!(
        own.attribution.systemd_unit.as_deref(),
        Some("demo.service")
    );
    assert!(member.cgroup.path.ends_with("/system.slice/demo.service"));
}

#[test]
fn a_process_in_a_service_cgroup_shows_its_unit_on_cgroup_v2() {
    let _serial = one_at_a_time();
    assert_unit(
        "a_process_in_a_service_cgroup_shows_its_unit_on_cgroup_v2",
        Hierarchy::Unified,
    );
}

#[test]
fn a_process_in_a_service_cgroup_shows_its_unit_on_the_v1_systemd_hierarchy() {
    let _serial = one_at_a_time();
    assert_unit(
        "a_process_in_a_service_cgroup_shows_its_unit_on_the_v1_systemd_hierarchy",
        Hierarchy::SystemdV1,
    );
}

#[test]
fn a_docker_container_shows_its_name_and_image_from_one_engine_api_call_per_new_container() {
    let _serial = one_at_a_time();
    const TEST: &str =
        "a_docker_container_shows_its_name_and_image_from_one_engine_api_call_per_new_container";
    let id = container_id();
    let Some(member) = Member::start(
        TEST,
        Hierarchy::Unified,
        &format!("system.slice/docker-{id}.scope"),
    ) else {
        return;
    };
    let list = Arc::new(Mutex::new(vec![
        Listed {
            id: container_id(),
            name: "someone-else".to_owned(),
            image: "redis:7".to_owned(),
        },
        Listed {
            id: id.clone(),
            name: "payments-1".to_owned(),
            image: "registry.example/payments:2.3".to_owned(),
        },
    ]));
    let api = FakeEngineApi::start(Behaviour::List(list.clone()));
    let mut sampler = sampler(AttributionSettings {
        docker_socket: Some(api.socket.clone()),
        ..asking_nobody()
    });
    let (snapshot, _) = tick_until(&mut sampler, member.pid(), |p| {
        p.attribution
            .container
            .as_ref()
            .is_some_and(|c| c.name.is_some())
    });
    let p = process(&snapshot, member.pid());
    let container = p.attribution.container.clone().expect("in a container");
    assert_eq!(container.id, id);
    assert_eq!(container.runtime, Some(ContainerRuntime::Docker));
    assert_eq!(container.name.as_deref(), Some("payments-1"));
    assert_eq!(
        container.image.as_deref(),
        Some("registry.example/payments:2.3")
    );
    assert_eq!(container.unknown_reason, None);
    assert_eq!(p.container_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        p.attribution.systemd_unit,
        Some(format!("docker-{id}.scope"))
    );
    assert_eq!(p.attribution.systemd_slice.as_deref(), Some("system.slice"));
    assert_eq!(api.requests(), ["GET /containers/json?all=1 HTTP/1.1"]);

    // Cached: more ticks ask nothing.
    for _ in 0..3 {
        sampler.sample().unwrap();
    }
    assert_eq!(api.requests().len(), 1, "{:?}", api.requests());

    // A container appears: one more call, for both.
    let second_id = container_id();
    let Some(second) = Member::start(
        TEST,
        Hierarchy::Unified,
        &format!("system.slice/docker-{second_id}.scope"),
    ) else {
        return;
    };
    list.lock().unwrap().push(Listed {
        id: second_id.clone(),
        name: "payments-2".to_owned(),
        image: "registry.example/payments:2.4".to_owned(),
    });
    let (snapshot, _) = tick_until(&mut sampler, second.pid(), |p| {
        p.attribution
            .container
            .as_ref()
            .is_some_and(|c| c.name.is_some())
    });
    let named = |pid| {
        let container = process(&snapshot, pid).attribution.container.clone();
        container.and_then(|c| c.name)
    };
    assert_eq!(named(second.pid()).as_deref(), Some("payments-2"));
    assert_eq!(named(member.pid()).as_deref(), Some("payments-1"));
    assert_eq!(api.requests().len(), 2, "{:?}", api.requests());
}

/// The API timeout of the misbehaving-API tests: long, so that a tick that waited for the
/// API would stand out from the ticks' own time even on a machine busy with other work.
const API_TIMEOUT: Duration = Duration::from_secs(2);

/// What the sampler shows when the Engine API misbehaves: ticks as quick as ever (no tick
/// waits for the API, whose calls end at the timeout anyway), and the container's name
/// unknown with the reason.
fn misbehaving_api_delays_no_tick(test: &str, behaviour: Behaviour, reason: &str) {
    let id = container_id();
    let Some(member) = Member::start(
        test,
        Hierarchy::Unified,
        &format!("system.slice/docker-{id}.scope"),
    ) else {
        return;
    };
    let api = FakeEngineApi::start(behaviour);
    let mut sampler = sampler(AttributionSettings {
        docker_socket: Some(api.socket.clone()),
        api_timeout: API_TIMEOUT,
        ..asking_nobody()
    });
    let (snapshot, ticks) = tick_until(&mut sampler, member.pid(), |p| {
        p.attribution
            .container
            .as_ref()
            .and_then(|c| c.unknown_reason.as_deref())
            .is_some_and(|why| why != "being looked up")
    });
    let container = process(&snapshot, member.pid())
        .attribution
        .container
        .clone()
        .expect("in a container");
    assert_eq!(container.name, None);
    assert_eq!(container.image, None);
    let why = container.unknown_reason.unwrap_or_default();
    assert!(
        why.contains(reason) && why.contains(&api.socket.display().to_string()),
        "{why}"
    );
    assert_eq!(api.requests().len(), 1, "{:?}", api.requests());
    // A tick that waited for the API would take the timeout or longer; these read a few
    // hundred processes and nothing else.
    let slowest = ticks.iter().max().copied().unwrap_or_default();
    assert!(
        slowest < API_TIMEOUT / 2,
        "a tick took {slowest:?} (all: {ticks:?})"
    );
}

#[test]
fn a_slow_engine_api_delays_no_tick_and_leaves_the_name_unknown_with_the_reason() {
    let _serial = one_at_a_time();
    misbehaving_api_delays_no_tick(
        "a_slow_engine_api_delays_no_tick_and_leaves_the_name_unknown_with_the_reason",
        Behaviour::Slow(API_TIMEOUT * 3),
        "no answer within 2000 ms",
    );
}

#[test]
fn an_engine_api_answering_garbage_delays_no_tick_and_leaves_the_name_unknown_with_the_reason() {
    let _serial = one_at_a_time();
    misbehaving_api_delays_no_tick(
        "an_engine_api_answering_garbage_delays_no_tick_and_leaves_the_name_unknown_with_the_reason",
        Behaviour::Garbage,
        "answered something unreadable",
    );
}

/// A pod's container in the cgroupfs layout (which does not name the runtime), with the
/// kubelet's log directory as the kubelet lays it out.
#[test]
fn a_pod_container_shows_its_pod_namespace_and_name_from_the_kubelet_log_directory() {
    let _serial = one_at_a_time();
    const TEST: &str =
        "a_pod_container_shows_its_pod_namespace_and_name_from_the_kubelet_log_directory";
    let id = container_id();
    let uid = "0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d";
    let Some(member) = Member::start(
        TEST,
        Hierarchy::Unified,
        &format!("kubepods/besteffort/pod{uid}/{id}"),
    ) else {
        return;
    };
    let logs = std::env::temp_dir().join(format!("wiretop-kubelet-{}", member.pid()));
    let pod_dir = logs.join(format!("pods/prod_checkout-7f9c_{uid}/app"));
    std::fs::create_dir_all(&pod_dir).unwrap();
    std::fs::create_dir_all(logs.join("containers")).unwrap();
    std::os::unix::fs::symlink(
        pod_dir.join("0.log"),
        logs.join(format!("containers/checkout-7f9c_prod_app-{id}.log")),
    )
    .unwrap();
    let mut sampler = sampler(AttributionSettings {
        kubelet_log_dir: logs.clone(),
        ..asking_nobody()
    });
    let (snapshot, _) = tick_until(&mut sampler, member.pid(), |p| {
        p.attribution.k8s.as_ref().is_some_and(|k| k.pod.is_some())
    });
    let _ = std::fs::remove_dir_all(&logs);
    let p = process(&snapshot, member.pid());
    let pod = p.attribution.k8s.clone().expect("in a pod");
    assert_eq!(pod.pod_uid, uid);
    assert_eq!(pod.pod.as_deref(), Some("checkout-7f9c"));
    assert_eq!(pod.namespace.as_deref(), Some("prod"));
    assert_eq!(pod.container.as_deref(), Some("app"));
    assert_eq!(pod.unknown_reason, None);
    let container = p.attribution.container.clone().expect("in a container");
    assert_eq!(
        (container.id.as_str(), container.runtime),
        (id.as_str(), None)
    );
    assert!(
        container
            .unknown_reason
            .as_deref()
            .is_some_and(|why| why.contains("process_agent.docker_socket is null")),
        "{container:?}"
    );
    assert_eq!(p.attribution.systemd_unit, None);
}
