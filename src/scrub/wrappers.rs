//! Programs that run another command given among their arguments (`sudo`, `timeout 5`,
//! `flock FILE`, `ssh HOST`, `xargs`, `find -exec`; container CLIs are in
//! [`super::containers`]), and shells, whose `-c` takes shell text. The wrapped command gets the rules of its own program, so
//! `timeout 60 mysql -psecret` is scrubbed like `mysql -psecret`.
//!
//! Each entry lists the options that take a value, so the value is never taken for the
//! wrapped program, and how many operands come before the command (a duration, a lock file, a
//! host). A wrapper whose command is one string of shell text (`su -c "…"`,
//! `flock -c "…"`, `watch "…"`, `ssh host "…"`) passes it to the shell-text rules: a command
//! word with whitespace in it is always read as a command line.

use super::programs::{
    opt, program, runs, runs_strictly, runs_with, Operands, Program, Rules, Subcommand, Value,
    NO_BARE_KEYS, PLAIN,
};

const SHELL_C: &[super::programs::Opt] = &[opt("-c", Value::Shell)];

const SUDO_VALUED: &str = "-u -g -C -D -h -p -r -t -U -T -R --user --group --close-from --chdir \
    --host --prompt --role --type --other-user --command-timeout --chroot";

pub(super) static WRAPPERS: &[Program] = &[
    program(
        "sh bash dash zsh ksh mksh ash fish tcsh csh",
        Rules {
            options: SHELL_C,
            valued: "-o -O --rcfile --init-file",
            ..PLAIN
        },
    ),
    program("sudo", runs(0, SUDO_VALUED)),
    program("doas", runs(0, "-u -C")),
    program("pkexec", runs(0, "--user")),
    program(
        "env",
        runs_with(
            0,
            &[opt("-S", Value::Shell), opt("--split-string", Value::Shell)],
            "-u --unset -C --chdir",
        ),
    ),
    // The shell's `read -p PROMPT NAME`: the prompt names what is asked for, not its value.
    program(
        "read",
        Rules {
            valued: "-p -d -t -n -N -u -a -i",
            bare_keys: false,
            ..PLAIN
        },
    ),
    // `function NAME { command…; }` and `case WORD in PATTERN) command…;; esac`.
    program("function", runs_strictly(1, "")),
    program("case", runs_strictly(2, "")),
    // Shell keywords and builtins that precede a command.
    program(
        "nohup setsid unbuffer catchsegv command builtin noglob nocorrect if then else \
            elif do while until ! { eatmydata chronic nocache run-one ifne fghack pgrphack \
            with-contenv authbind firejail entr valgrind pfexec nq torify tsocks eval",
        runs(0, ""),
    ),
    program("exec", runs(0, "-a")),
    program("time", runs(0, "-f -o --format --output")),
    program("nice", runs(0, "-n --adjustment")),
    program("ionice", runs(0, "-c -n -p -P -u --class --classdata")),
    program("timeout", runs_strictly(1, "-s -k --signal --kill-after")),
    program("stdbuf", runs(0, "-i -o -e")),
    // `chrt [options] PRIORITY command`.
    program("chrt", runs_strictly(1, "-T -P -D")),
    // `taskset MASK command`, `taskset -c LIST command`.
    program("taskset", runs_strictly(1, "")),
    program("chroot", runs_strictly(1, "--userspec --groups")),
    // `flock FILE command…` or `flock FILE -c "shell text"`.
    program(
        "flock lckdo",
        runs_with(
            1,
            &[opt("-c", Value::Shell), opt("--command", Value::Shell)],
            "-w --wait --timeout -E --conflict-exit-code",
        ),
    ),
    program(
        "xargs",
        runs(
            0,
            "-a -d -E -I -L -n -P -s --arg-file --delimiter --max-args --max-procs --max-chars \
                --max-lines --process-slot-var",
        ),
    ),
    program(
        "parallel sem",
        runs(
            0,
            "-j -S -I -a -d -C -N -n -L --jobs --sshlogin --joblog --delay --timeout --tmpdir \
                --results --arg-file --colsep --delimiter --memfree --load --retries --halt --id",
        ),
    ),
    // `su [user] -c "shell text"`: the operands are the user and the shell's arguments.
    program(
        "su",
        Rules {
            options: &[
                opt("-c", Value::Shell),
                opt("--command", Value::Shell),
                opt("--session-command", Value::Shell),
            ],
            valued: "-s --shell -g --group -G --supp-group -w",
            ..PLAIN
        },
    ),
    // `runuser -u USER command…` or `runuser -l USER -c "shell text"`.
    program(
        "runuser",
        runs_with(
            0,
            &[
                opt("-c", Value::Shell),
                opt("--command", Value::Shell),
                opt("--session-command", Value::Shell),
            ],
            "-u --user -s --shell -g --group -G --supp-group -w",
        ),
    ),
    program(
        "strace",
        runs(
            0,
            "-e -o -p -s -u -E -P -S -a -b -I -O -X --output --signal --trace --attach --user \
                --env --string-limit",
        ),
    ),
    program("ltrace", runs(0, "-e -o -p -s -u -n -a -A -D -F -l -x -w")),
    program("nsenter", runs(0, "-t --target -S --setuid -G --setgid")),
    program(
        "unshare",
        runs(
            0,
            "-S --setuid -G --setgid -R --root -w --wd --map-user --map-group",
        ),
    ),
    program(
        "setpriv",
        runs(
            0,
            "--reuid --regid --groups --ruid --euid --rgid --egid --inh-caps --ambient-caps \
                --bounding-set --securebits --pdeathsig --selinux-label --apparmor-profile",
        ),
    ),
    program(
        "systemd-run",
        runs(
            0,
            "-p --property -E --setenv -u --unit --uid --gid --nice --slice --description -M \
                --machine -H --host --working-directory --on-active --on-boot --on-startup \
                --on-unit-active --on-unit-inactive --on-calendar --timer-property \
                --path-property --socket-property --service-type",
        ),
    ),
    program(
        "systemd-cat",
        runs(0, "-t -p --identifier --priority --stderr-priority"),
    ),
    // `watch` joins its operands and runs them with `sh -c`.
    program("watch", runs(0, "-n --interval -q --equexit")),
    // The remote command is joined and run by the remote shell.
    program(
        "ssh rsh autossh",
        runs(
            1,
            "-b -c -D -E -e -F -I -i -J -L -l -m -O -o -p -Q -R -S -W -w -B -M",
        ),
    ),
    program(
        "fakeroot fakeroot-sysv fakeroot-tcp",
        runs(0, "-l -s -i -b --lib --faked"),
    ),
    program(
        "proot",
        runs(
            0,
            "-r -b -m -w -q -k --rootfs --bind --mount --cwd --qemu --kernel-release",
        ),
    ),
    program("ssh-agent", runs(0, "-a -E -t -P")),
    program(
        "lxc-attach",
        runs(
            0,
            "-n --name -P --lxcpath -f --rcfile -s --namespaces -v --set-var --keep-var -u --uid \
                -g --gid -L --pty-log",
        ),
    ),
    program(
        "systemd-nspawn",
        runs(
            0,
            "-D --directory -i --image -M --machine -u --user --bind --bind-ro --tmpfs \
                --overlay --overlay-ro -E --setenv --network-bridge --network-zone -p --port \
                --capability --drop-capability --private-users --chdir --hostname -S --slice \
                --property --register --kill-signal --link-journal --resolv-conf --timezone \
                --console --network-interface --network-macvlan --network-ipvlan --uuid \
                --settings --rlimit --cpu-affinity --personality",
        ),
    ),
    // `start-stop-daemon --start --exec PROGRAM -- ARGS`: the arguments go to that program.
    program(
        "start-stop-daemon",
        Rules {
            options: &[
                opt("--exec", Value::Entrypoint),
                opt("-x", Value::Entrypoint),
                opt("--startas", Value::Entrypoint),
                opt("-a", Value::Entrypoint),
            ],
            valued: "-n --name -p --pidfile -c --chuid -u --user -d --chdir -s --signal -R \
                --retry -r --chroot -N --nicelevel -P --procsched -I --iosched -k --umask \
                --output -O --notify-timeout -g --group",
            operands: Operands::Command {
                skip: 0,
                strict: false,
            },
            ..PLAIN
        },
    ),
    program(
        "mosh",
        runs(1, "--ssh --port -p --predict --family --server --client"),
    ),
    // `find … -exec COMMAND {} ;`
    program(
        "find",
        Rules {
            options: &[
                opt("-exec", Value::Command),
                opt("-execdir", Value::Command),
                opt("-ok", Value::Command),
                opt("-okdir", Value::Command),
            ],
            clusters: false,
            ..PLAIN
        },
    ),
    program("busybox toybox", runs(0, "")),
    program(
        "bwrap",
        Rules {
            options: BWRAP_PAIRS,
            valued: "--dev --proc --tmpfs --dir --remount-ro --chdir --unsetenv --uid --gid \
                --hostname --lock-file --sync-fd --info-fd --seccomp --args --userns --cap-add \
                --cap-drop --perms --size --exec-label --file-label --mqueue --overlay-src \
                --tmp-overlay --ro-overlay --json-status-fd --block-fd --userns-block-fd \
                --pidns --argv0",
            operands: Operands::Command {
                skip: 0,
                strict: true,
            },
            ..PLAIN
        },
    ),
    // `machinectl shell [USER@]MACHINE command…`.
    Program {
        names: "machinectl",
        rules: PLAIN,
        subcommands: &[Subcommand {
            path: &["shell"],
            rules: runs_strictly(1, "--uid -E --setenv"),
        }],
    },
    // Project runners: `poetry run`, `uv run`, `pipenv run`, `bundle exec`, `toolbox run`.
    // Their other positional words name packages, never keys.
    Program {
        names: "poetry pipenv",
        rules: NO_BARE_KEYS,
        subcommands: &[Subcommand {
            path: &["run"],
            rules: runs(0, ""),
        }],
    },
    Program {
        names: "uv",
        rules: NO_BARE_KEYS,
        subcommands: &[Subcommand {
            path: &["run"],
            rules: runs(
                0,
                "--with -p --python --package --env-file --directory --project --extra \
                    --group --index --from",
            ),
        }],
    },
    Program {
        names: "bundle",
        rules: NO_BARE_KEYS,
        subcommands: &[Subcommand {
            path: &["exec"],
            rules: runs(0, ""),
        }],
    },
    Program {
        names: "toolbox",
        rules: NO_BARE_KEYS,
        subcommands: &[Subcommand {
            path: &["run"],
            rules: runs(0, "-c --container -d --distro -r --release"),
        }],
    },
    // `gosu USER command`, `envdir DIR command`, `faketime TIME command`.
    program(
        "gosu su-exec setuidgid s6-setuidgid envdir s6-envdir faketime envuidgid",
        runs_strictly(1, ""),
    ),
    program("sg", runs_with(1, SHELL_C, "")),
    program(
        "chpst",
        runs(0, "-u -U -e -/ -n -l -L -m -d -o -p -f -c -r"),
    ),
    program("softlimit", runs(0, "-m -d -s -l -a -o -p -f -c -r -t")),
    program("tini tini-static", runs(0, "-p -e")),
    program("dumb-init", runs(0, "-r --rewrite")),
    program("daemonize", runs(0, "-a -c -e -o -p -l -u -E")),
    program("cpulimit", runs(0, "-l -p -e --limit --pid --exe")),
    program("cgexec", runs(0, "-g")),
    program(
        "numactl",
        runs(
            0,
            "-m -N -C -p -i --membind --cpunodebind --physcpubind --preferred --interleave",
        ),
    ),
    program("prlimit", runs(0, "-p --pid")),
    program("trickle", runs(0, "-u -d -w -t -l -n")),
    program("proxychains proxychains4", runs(0, "-f")),
    program(
        "torsocks",
        runs_with(0, &[opt("-p", Value::Secret)], "-u -a -P"),
    ),
    program(
        "xvfb-run",
        runs(0, "-n -s -e -f -p --server-num --server-args"),
    ),
    program("dbus-run-session dbus-launch", runs(0, "--config-file")),
    // `script -c "shell text" file`.
    program(
        "script",
        Rules {
            options: &[opt("-c", Value::Shell), opt("--command", Value::Shell)],
            valued: "-E -I -O -T -B --log-in --log-out --log-io",
            ..PLAIN
        },
    ),
    program("screen", runs(0, "-S -c -e -h -p -T -Logfile")),
    program(
        "gdb",
        Rules {
            options: &[opt("--args", Value::Command)],
            valued: "-ex -p -x -ix -iex -cd -d -s -e -se -c",
            clusters: false,
            ..PLAIN
        },
    ),
    Program {
        names: "perf",
        rules: PLAIN,
        subcommands: &[
            Subcommand {
                path: &["record"],
                rules: runs(0, "-e -o -p -t -F -c -C --call-graph -u -m"),
            },
            Subcommand {
                path: &["stat"],
                rules: runs(0, "-e -o -p -t -r -C -I -x"),
            },
            Subcommand {
                path: &["trace"],
                rules: runs(0, "-e -o -p -t -C --duration"),
            },
        ],
    },
    Program {
        names: "tmux",
        rules: Rules {
            valued: "-L -S -f -c -T",
            ..PLAIN
        },
        subcommands: &[
            Subcommand {
                path: &["new-session"],
                rules: runs(0, TMUX_VALUED),
            },
            Subcommand {
                path: &["new"],
                rules: runs(0, TMUX_VALUED),
            },
            Subcommand {
                path: &["new-window"],
                rules: runs(0, TMUX_VALUED),
            },
            Subcommand {
                path: &["neww"],
                rules: runs(0, TMUX_VALUED),
            },
            Subcommand {
                path: &["split-window"],
                rules: runs(0, TMUX_VALUED),
            },
            Subcommand {
                path: &["splitw"],
                rules: runs(0, TMUX_VALUED),
            },
            Subcommand {
                path: &["respawn-pane"],
                rules: runs(0, TMUX_VALUED),
            },
            Subcommand {
                path: &["run-shell"],
                rules: runs(0, TMUX_VALUED),
            },
        ],
    },
];

/// bwrap's options that take two values (a source and a destination, a variable and its
/// value).
const BWRAP_PAIRS: &[super::programs::Opt] = &[
    opt("--bind", Value::TwoValues),
    opt("--bind-try", Value::TwoValues),
    opt("--dev-bind", Value::TwoValues),
    opt("--dev-bind-try", Value::TwoValues),
    opt("--ro-bind", Value::TwoValues),
    opt("--ro-bind-try", Value::TwoValues),
    opt("--symlink", Value::TwoValues),
    opt("--setenv", Value::TwoValues),
    opt("--file", Value::TwoValues),
    opt("--bind-data", Value::TwoValues),
    opt("--ro-bind-data", Value::TwoValues),
    opt("--chmod", Value::TwoValues),
];

const TMUX_VALUED: &str = "-s -n -t -c -x -y -e -F -f -l -p";
