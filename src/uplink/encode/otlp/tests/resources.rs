use super::*;

#[test]
fn process_resource_carries_every_process_attribute() {
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snapshot());
    let resources = metric_resources(&batches);
    let nginx = resources
        .iter()
        .map(|r| resource_attrs(&r.resource))
        .find(|a| attr(a, "process.pid") == Some(&Any::IntValue(10)))
        .expect("nginx resource");
    assert_eq!(attr(nginx, "process.parent_pid"), Some(&Any::IntValue(1)));
    assert_eq!(
        text(nginx, "process.executable.name").as_deref(),
        Some("nginx")
    );
    assert_eq!(
        text(nginx, "process.executable.path").as_deref(),
        Some("/usr/sbin/nginx")
    );
    assert_eq!(
        text(nginx, "process.command_line").as_deref(),
        Some("nginx -g daemon off;")
    );
    let Some(Any::ArrayValue(args)) = attr(nginx, "process.command_args") else {
        panic!("command_args is not an array");
    };
    let args: Vec<_> = args.values.iter().filter_map(|v| v.value.clone()).collect();
    assert_eq!(
        args,
        ["nginx", "-g", "daemon off;"].map(|s| Any::StringValue(s.to_owned()))
    );
    assert_eq!(text(nginx, "process.owner").as_deref(), Some("www"));
    assert_eq!(
        text(nginx, "process.creation.time").as_deref(),
        Some("2025-12-31T23:00:00.000Z")
    );
    assert_eq!(text(nginx, "host.name").as_deref(), Some("web-1"));

    let nameless = resources
        .iter()
        .map(|r| resource_attrs(&r.resource))
        .find(|a| attr(a, "process.pid") == Some(&Any::IntValue(11)))
        .expect("pid 11 resource");
    assert_eq!(text(nameless, "process.owner").as_deref(), Some("1234"));
    assert_eq!(text(nameless, "process.executable.path"), None);
}

#[test]
fn kernel_threads_are_resources_without_a_command_line() {
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snapshot());
    let kthread = metric_resources(&batches)
        .into_iter()
        .map(|r| resource_attrs(&r.resource))
        .find(|a| attr(a, "process.pid") == Some(&Any::IntValue(2)))
        .expect("kernel thread resource");
    assert_eq!(text(kthread, "process.command_line"), None);
    assert!(attr(kthread, "process.command_args").is_none());
}

#[test]
fn tags_map_to_semantic_convention_keys_without_overriding_facts() {
    let tags = [
        "env:prod",
        "service:web",
        "version:1.2",
        "team:core",
        "canary",
    ];
    let mut snap = snapshot();
    snap.host.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    // Tags cannot disguise a process resource as another process or host.
    snap.host.tags.push("process.pid:1".to_owned());
    snap.host.tags.push("host.name:spoofed".to_owned());
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snap);
    for resource in metric_resources(&batches) {
        let a = resource_attrs(&resource.resource);
        assert_eq!(
            text(a, "deployment.environment.name").as_deref(),
            Some("prod")
        );
        assert_eq!(text(a, "service.name").as_deref(), Some("web"));
        assert_eq!(text(a, "service.version").as_deref(), Some("1.2"));
        assert_eq!(text(a, "team").as_deref(), Some("core"));
        assert_eq!(text(a, "canary").as_deref(), Some("true"));
        assert_eq!(text(a, "host.name").as_deref(), Some("web-1"));
        if attr(a, "process.executable.name").is_some() {
            let pid = attr(a, "process.pid");
            assert!(
                matches!(pid, Some(Any::IntValue(p)) if *p != 1),
                "tag overrode the pid"
            );
        }
        let mut keys: Vec<_> = a.iter().map(|kv| kv.key.as_str()).collect();
        let all = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), all, "duplicate attribute keys");
    }
}

#[test]
fn host_resource_carries_os_attributes_and_system_metrics() {
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snapshot());
    let host = metric_resources(&batches)[0];
    let a = resource_attrs(&host.resource);
    assert_eq!(text(a, "host.name").as_deref(), Some("web-1"));
    assert_eq!(text(a, "os.type").as_deref(), Some("linux"));
    assert_eq!(text(a, "os.version").as_deref(), Some("6.1.0-test"));
    assert_eq!(
        text(a, "deployment.environment.name").as_deref(),
        Some("prod")
    );
    assert!(attr(a, "process.pid").is_none());

    let metrics = metrics_of(&batches, None);
    let cpu = metric(&metrics, "system.cpu.utilization");
    assert_eq!(as_f64(point(cpu, "cpu.mode", "user")), 0.2);
    assert_eq!(as_f64(point(cpu, "cpu.mode", "steal")), 0.01);
    let memory = metric(&metrics, "system.memory.usage");
    assert_eq!(
        as_f64(point(memory, "system.memory.state", "used")),
        3_000.0
    );
    assert_eq!(
        as_f64(point(memory, "system.memory.state", "free")),
        5_000.0
    );
    assert_eq!(
        as_f64(&points(metric(&metrics, "system.memory.limit"))[0]),
        8_000.0
    );
    for (name, value) in [
        ("system.cpu.load_average.1m", 0.5),
        ("system.cpu.load_average.5m", 0.25),
        ("system.cpu.load_average.15m", 0.125),
        ("system.process.count", 3.0),
        ("wiretop.system.thread.count", 6.0),
        ("system.uptime", 86_400.0),
    ] {
        assert_eq!(as_f64(&points(metric(&metrics, name))[0]), value, "{name}");
    }
    let connections = metric(&metrics, "system.network.connection.count");
    assert_eq!(
        as_f64(point(connections, "network.connection.state", "listen")),
        1.0
    );
    assert_eq!(
        as_f64(point(
            connections,
            "network.connection.state",
            "established"
        )),
        1.0
    );
}

#[test]
fn batches_respect_the_cap_and_hold_every_resource_exactly_once() {
    let mut snap = snapshot();
    snap.processes = (100..107).map(|pid| Process::example(pid, "app")).collect();
    let batches = OtlpEncoder::new(Temporality::Cumulative, 3).encode_snapshot(&snap);
    let sizes: Vec<usize> = batches.iter().map(|b| b.records.len()).collect();
    assert_eq!(
        sizes,
        vec![3, 3, 2],
        "7 processes + host, no sockets: no logs"
    );
    assert!(batches
        .iter()
        .all(|b| b.class == Class::Snapshot && b.taken_at_ms == TAKEN_AT_MS));
    let mut pids: Vec<Option<i64>> = metric_resources(&batches)
        .iter()
        .map(|r| match attr(resource_attrs(&r.resource), "process.pid") {
            Some(Any::IntValue(pid)) => Some(*pid),
            _ => None,
        })
        .collect();
    pids.sort_unstable();
    let expected: Vec<Option<i64>> = std::iter::once(None).chain((100..107).map(Some)).collect();
    assert_eq!(pids, expected);
}

const CONTAINER_ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The attributes of the resource of the only process of a snapshot.
fn resource_of(p: Process) -> Vec<KeyValue> {
    let batches =
        OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&Snapshot::example(vec![p]));
    metric_resources(&batches)
        .into_iter()
        .map(|r| resource_attrs(&r.resource).to_vec())
        .find(|a| attr(a, "process.pid") == Some(&Any::IntValue(20)))
        .expect("the process's resource")
}

#[test]
fn containers_pods_and_units_are_resource_attributes_under_their_conventional_keys() {
    let mut p = Process::example(20, "www");
    p.container_id = Some(CONTAINER_ID.to_owned());
    p.attribution = Attribution {
        systemd_unit: Some(format!("cri-containerd-{CONTAINER_ID}.scope")),
        systemd_slice: Some("kubepods-besteffort-pod1.slice".to_owned()),
        container: Some(Container {
            id: CONTAINER_ID.to_owned(),
            runtime: Some(ContainerRuntime::CriO),
            name: Some("payments".to_owned()),
            image: Some("registry:5000/team/payments:2.3".to_owned()),
            unknown_reason: None,
        }),
        k8s: Some(KubernetesPod {
            pod_uid: "0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d".to_owned(),
            pod: Some("checkout-7f9c".to_owned()),
            namespace: Some("prod".to_owned()),
            container: Some("app".to_owned()),
            unknown_reason: None,
        }),
    };
    let attrs = resource_of(p);
    for (key, value) in [
        ("container.id", CONTAINER_ID),
        ("container.name", "payments"),
        ("container.image.name", "registry:5000/team/payments"),
        ("container.runtime", "cri-o"),
        ("k8s.pod.uid", "0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d"),
        ("k8s.pod.name", "checkout-7f9c"),
        ("k8s.namespace.name", "prod"),
        ("k8s.container.name", "app"),
    ] {
        assert_eq!(text(&attrs, key).as_deref(), Some(value), "{key}");
    }
    assert_eq!(
        text(&attrs, "wiretop.systemd.unit"),
        Some(format!("cri-containerd-{CONTAINER_ID}.scope"))
    );
    let Some(Any::ArrayValue(tags)) = attr(&attrs, "container.image.tags") else {
        panic!("container.image.tags is not an array");
    };
    assert_eq!(tags.values.len(), 1);
    assert_eq!(
        tags.values[0].value,
        Some(Any::StringValue("2.3".to_owned()))
    );
}

#[test]
fn unknown_names_are_left_out_and_image_references_split_as_the_conventions_say() {
    let container = |image: Option<&str>| {
        let mut p = Process::example(20, "www");
        p.attribution.systemd_unit = Some("nginx.service".to_owned());
        p.attribution.container = Some(Container {
            id: CONTAINER_ID.to_owned(),
            runtime: None,
            name: None,
            image: image.map(str::to_owned),
            unknown_reason: Some("being looked up".to_owned()),
        });
        resource_of(p)
    };
    let unknown = container(None);
    assert_eq!(
        text(&unknown, "container.id").as_deref(),
        Some(CONTAINER_ID)
    );
    assert_eq!(
        text(&unknown, "wiretop.systemd.unit").as_deref(),
        Some("nginx.service")
    );
    for key in [
        "container.name",
        "container.image.name",
        "container.image.tags",
        "container.runtime",
        "k8s.pod.uid",
        "k8s.pod.name",
    ] {
        assert!(
            attr(&unknown, key).is_none(),
            "{key} of an unknown container"
        );
    }
    for (image, name, id) in [
        ("nginx", Some("nginx"), None),
        ("ghcr.io/o/app:v1@sha256:9b1c", Some("ghcr.io/o/app"), None),
        ("ghcr.io/o/app@sha256:9b1c", Some("ghcr.io/o/app"), None),
        ("sha256:9b1c", None, Some("sha256:9b1c")),
    ] {
        let attrs = container(Some(image));
        assert_eq!(
            text(&attrs, "container.image.name").as_deref(),
            name,
            "{image}"
        );
        assert_eq!(text(&attrs, "container.image.id").as_deref(), id, "{image}");
    }
    // A process outside any container and unit: none of these keys.
    let plain = resource_of(Process::example(20, "www"));
    assert!(plain.iter().all(|kv| !kv.key.starts_with("container.")
        && !kv.key.starts_with("k8s.")
        && !kv.key.starts_with("wiretop.")));
}
