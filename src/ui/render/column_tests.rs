//! Render tests of the columns added for services, containers and htop's setup: SERVICE and
//! CONTAINER on by default on a host that has them, every other one shown when configured,
//! sorted, escaped.

use std::sync::Arc;

use crate::model::{Container, ContainerRuntime, DiskIo, Process, Snapshot};
use crate::ui::app::App;
use crate::ui::columns::Column;
use crate::ui::fixture::{app, app_with, processes, screen, snapshot_at};
use crate::ui::state::Sort;

const NGINX_CGROUP: &str = "/system.slice/nginx.service";

/// The fixture's processes, node in `nginx.service` (whatever its name: the unit is what the
/// cgroup says) and postgres in the docker container `payments-db`, niced and busy on disk.
fn attributed() -> Vec<Process> {
    let mut processes = processes();
    for p in &mut processes {
        match p.name.as_str() {
            "node" => {
                p.attribution.systemd_unit = Some("nginx.service".to_owned());
                p.cgroup = Some(NGINX_CGROUP.to_owned());
                p.nice = Some(-5);
                p.priority = Some(15);
                p.fd_count = Some(4242);
                p.disk = Some(DiskIo {
                    read_bytes_per_sec: Some(3.0 * 1024.0 * 1024.0),
                    write_bytes_per_sec: Some(512.0 * 1024.0),
                    read_bytes_total: 1,
                    write_bytes_total: 1,
                });
            }
            "postgres" => {
                p.attribution.container = Some(Container {
                    id: "ab".repeat(32),
                    runtime: Some(ContainerRuntime::Docker),
                    name: Some("payments-db".to_owned()),
                    image: Some("postgres:16".to_owned()),
                    unknown_reason: None,
                });
                p.nice = Some(10);
                p.priority = Some(30);
                p.netns = Some(4026532999);
            }
            _ => {}
        }
    }
    processes
}

fn showing(app: &mut App, processes: Vec<Process>) {
    let snapshot: Snapshot = snapshot_at(0, processes);
    app.on_snapshot(Arc::new(snapshot));
}

fn title_of(text: &str) -> &str {
    text.lines()
        .find(|line| line.contains("PID") && line.contains("COMMAND"))
        .unwrap_or_else(|| panic!("a title row: {text}"))
}

fn row_of<'t>(text: &'t str, name: &str) -> &'t str {
    text.lines()
        .find(|line| line.contains(name) && !line.contains("PID"))
        .unwrap_or_else(|| panic!("a row for {name}: {text}"))
}

#[test]
fn service_and_container_are_shown_by_default_only_on_a_host_that_has_them() {
    let mut plain = app();
    let text = screen(&mut plain, 200, 24);
    assert!(
        !text.contains("SERVICE") && !text.contains("CONTAINER"),
        "{text}"
    );

    let mut app = app();
    showing(&mut app, attributed());
    let text = screen(&mut app, 200, 24);
    let title = title_of(&text);
    let (service, container, command) = (
        title.find("SERVICE").expect("SERVICE"),
        title.find("CONTAINER").expect("CONTAINER"),
        title.find("COMMAND").expect("COMMAND"),
    );
    assert!(service < container && container < command, "{title}");
    assert!(row_of(&text, "/srv/app/server.js").contains("nginx.service"));
    assert!(row_of(&text, "bin/postgres").contains("payments-db"));
    insta::assert_snapshot!("columns_service_and_container", text);

    // A list the user chose is shown as chosen.
    let mut chosen = app_with(|o| o.columns = vec![Column::Pid, Column::Command]);
    showing(&mut chosen, attributed());
    assert!(!screen(&mut chosen, 200, 24).contains("SERVICE"));
}

#[test]
fn every_new_column_shows_its_figure() {
    let columns = vec![
        Column::Pid,
        Column::Service,
        Column::Container,
        Column::DiskRead,
        Column::DiskWrite,
        Column::Netns,
        Column::Cgroup,
        Column::Nice,
        Column::Priority,
        Column::Virt,
        Column::Start,
        Column::Fds,
        Column::Command,
    ];
    let mut app = app_with(|o| o.columns = columns);
    showing(&mut app, attributed());
    let text = screen(&mut app, 200, 24);
    let title = title_of(&text);
    for heading in [
        "SERVICE",
        "CONTAINER",
        "DISK R/s",
        "DISK W/s",
        "NETNS",
        "CGROUP",
        "NI",
        "PRI",
        "VIRT",
        "START",
        "FDS",
    ] {
        assert!(title.contains(heading), "{heading}: {title}");
    }
    let node = row_of(&text, "/srv/app/server.js");
    for figure in [
        "nginx.service",
        "3.0M",
        "512K",
        "4026531840",
        NGINX_CGROUP,
        " -5 ",
        " 15 ",
        "900M",
        "4242",
    ] {
        assert!(node.contains(figure), "{figure}: {node}");
    }
    // The fixture's node started 1200 minutes before the fixture's time (2024-01-01 00:00).
    assert!(node.contains("12-31 04:00"), "{node}");
    let postgres = row_of(&text, "bin/postgres");
    assert!(postgres.contains("payments-db") && postgres.contains("4026532999"));
    // Unknown is a dash, never a made-up zero: postgres has no disk figures, no unit.
    let cells: Vec<&str> = postgres.split_whitespace().collect();
    assert_eq!(&cells[1..2], ["-"], "no unit: {postgres}");
    insta::assert_snapshot!("columns_all_new", text);
}

#[test]
fn new_columns_sort_with_the_unknown_last() {
    let order = |column: Column, descending: bool| -> Vec<String> {
        let mut app = app_with(|o| o.columns = vec![Column::Pid, column, Column::Command]);
        showing(&mut app, attributed());
        app.view.sort = Sort { column, descending };
        app.lines()
            .iter()
            .filter_map(|line| match line {
                crate::ui::rows::Line::Process { process, .. } => Some(process.name.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(order(Column::Service, false)[0], "node");
    assert_eq!(order(Column::Container, false)[0], "postgres");
    assert_eq!(order(Column::Nice, false)[0], "node", "-5 first");
    assert_eq!(order(Column::Nice, true)[0], "postgres", "10 first");
    assert_eq!(order(Column::DiskRead, true)[0], "node");
    assert_eq!(order(Column::Fds, true)[0], "node");
    let by_start = order(Column::Start, false);
    assert_eq!(by_start.last().map(String::as_str), Some("systemd"));
    assert!(Column::Fds.default_descending() && !Column::Service.default_descending());
}

#[test]
fn unit_and_container_names_are_escaped_for_the_terminal() {
    let mut processes = attributed();
    for p in &mut processes {
        if p.name == "node" {
            p.attribution.systemd_unit = Some("evil\u{1b}[2J.service".to_owned());
        }
    }
    let mut app = app();
    showing(&mut app, processes);
    let text = screen(&mut app, 200, 24);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(
        row_of(&text, "/srv/app/server.js").contains("evil"),
        "{text}"
    );
}

#[test]
fn config_names_are_the_ones_the_configuration_reads() {
    for column in Column::ALL {
        let parsed: Column = serde_yaml::from_str(column.config_name()).unwrap();
        assert_eq!(parsed, column);
    }
}
