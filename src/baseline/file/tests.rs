use super::*;
use crate::baseline::Wildcard;
use crate::model::{Connection, Listening, Process, Proto, Role, Snapshot};

const FILE: &str = "/etc/wiretop/baseline.yaml";

fn read(text: &str) -> Result<Baseline, String> {
    parse(Path::new(FILE), text).map_err(|e| e.to_string())
}

#[test]
fn a_saved_baseline_reads_back_as_it_was() {
    let mut web = Process::example(10, "www-data");
    web.exe = Some("/usr/sbin/nginx".to_owned());
    web.listening = vec![Listening {
        proto: Proto::Tcp,
        family: crate::model::Family::Ipv6,
        addr: "::".parse().unwrap(),
        port: 443,
        inode: 1,
        netns: None,
    }];
    web.connections = vec![Connection::example_loopback(
        40000,
        5432,
        Role::Client,
        (20, "postgres"),
        2,
    )];
    // A name no one would choose, but a process may: it must survive the file.
    let mut odd = Process::example(20, "o'brien: \"x\"\n# y");
    odd.exe = Some("/tmp/a b: c #d\u{85}\u{2028}".to_owned());
    let unreadable = Process::example(30, "root");
    let baseline = Baseline::from_snapshot(&Snapshot::example(vec![web, odd, unreadable]));

    let text = render(&baseline, "web-1\n# injected");
    assert_eq!(read(&text), Ok(baseline.clone()), "{text}");
    assert!(text.starts_with("# wiretop baseline"), "{text}");
    assert!(
        text.contains("# Saved by `wiretop baseline save` on \"web-1\\n# injected\" at 2026-"),
        "the host name stays inside its comment: {text}"
    );
    assert!(
        text.contains("  - { exe: /usr/sbin/nginx, proto: tcp, port: 443, address: \"::\" }"),
        "{text}"
    );
    assert!(
        text.contains("  - { exe: /usr/sbin/nginx, port: 5432, address: \"127.0.0.1\" }"),
        "{text}"
    );
    assert!(text.contains("  - { exe: proc30, user: root }"), "{text}");
}

#[test]
fn an_operator_may_write_entries_in_any_style_and_leave_fields_out() {
    let baseline = read(
        "version: 1\n\
         executables:\n\
         - exe: /usr/bin/curl\n\
         - { exe: /usr/sbin/sshd, user: '*' }\n\
         - { exe: /srv/app, user: 1000 }\n\
         outbound:\n\
         - exe: /usr/bin/curl\n  \
           port: 443\n  \
           address: 0.0.0.0/0\n",
    )
    .unwrap();
    assert_eq!(baseline.saved_at_ms, None);
    let users: Vec<&Wildcard<String>> = baseline.executables.iter().map(|e| &e.user).collect();
    assert_eq!(
        users,
        [
            &Wildcard::Any,
            &Wildcard::Any,
            &Wildcard::Only("1000".to_owned())
        ]
    );
    assert_eq!(baseline.outbound[0].port, Wildcard::Only(443));
    assert!(baseline.listening.is_empty());
}

/// Each mistake is reported where it is, naming the key and what was expected.
#[test]
fn a_malformed_baseline_says_file_line_and_column() {
    let cases = [
        (
            "version: 1\nexecutables:\n  - { exe: /bin/x, usr: root }\n",
            ":3:20: executables[0].usr: unknown key `usr` (did you mean `user`?)",
        ),
        (
            "version: 1\nlistening:\n  - { exe: /bin/x, proto: tcp, port: http }\n",
            ":3:38: listening[0].port: invalid value: string, expected a port number (1-65535), or `*`",
        ),
        (
            "version: 1\noutbound:\n  - { exe: /bin/x, port: 443, address: 10.0.0.0/33 }\n",
            ":3:40: outbound[0].address: invalid value: string, expected an IP address or a CIDR block",
        ),
        (
            "version: 1\nexecutables: { exe: /bin/x }\n",
            ":2:14: executables: invalid type: map, expected a sequence",
        ),
        (
            "version: 1\nexecutables:\n  - { exe: /bin/x, user: root\n",
            ":4:1: executables: malformed YAML: did not find expected ',' or '}'",
        ),
        ("executables: []\n", ": (top level): missing field `version`"),
        (
            "version: 2\nexecutables: []\n",
            ":1:10: version: this baseline is version 2, from a newer wiretop; this one reads version 1",
        ),
        // The version is judged before any key a newer layout may have added.
        (
            "sections_from_the_future: []\nversion: 3\n",
            ":2:10: version: this baseline is version 3, from a newer wiretop",
        ),
        (
            "version: 0\n",
            ":1:10: version: there is no baseline version 0",
        ),
        (
            "version: 1\nsaved_at: yesterday\n",
            ":2:11: saved_at: expected a time such as 2026-01-01T00:00:00.000Z",
        ),
        (
            "version: 1\nexecutables: &e []\nlistening: *e\n",
            ":3:12: YAML aliases (*name) are not accepted",
        ),
        ("\n  \n", ":1:1: (top level): the file is empty"),
    ];
    for (text, expected) in cases {
        let error = read(text).unwrap_err();
        assert!(
            error.starts_with(FILE) && error.contains(expected),
            "{text:?}\n  gave {error}\n  wanted {FILE}{expected}"
        );
    }
}

#[test]
fn the_reasons_for_refusing_a_file_are_told_apart() {
    let dir = crate::files::tests::Scratch::new("baseline-refusals");
    let missing = load(&dir.path("missing.yaml")).unwrap_err();
    assert!(missing.is_refusal());
    assert!(
        missing
            .to_string()
            .ends_with("missing.yaml: cannot read the baseline: no such file"),
        "{missing}"
    );
    let binary = dir.path("binary.yaml");
    std::fs::write(&binary, b"version: 1\n\xff\n").unwrap();
    let error = load(&binary).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "cannot read the baseline: it is not UTF-8 text (an invalid byte at line 2, column 1)"
        ),
        "{error}"
    );
    let unwritable = save(
        &Baseline::default(),
        Path::new("/nonexistent/wiretop/baseline.yaml"),
        "web-1",
    )
    .unwrap_err();
    assert!(!unwritable.is_refusal(), "a missing directory may be made");
}
