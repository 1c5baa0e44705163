//! Container and cluster CLIs: `docker`/`podman`/`nerdctl` (`exec`, `run`, `compose`,
//! `login`), `kubectl exec`, `crictl exec`, `lxc exec`, `singularity exec`, `ip netns exec`.
//! Like [`super::wrappers`], they run a command given among their arguments, after a
//! container, pod, image or namespace; their positional words otherwise name resources
//! (`docker secret create`, `kubectl create secret`), never keys.

use super::programs::{
    opt, runs, runs_strictly, Operands, Program, Rules, Subcommand, Value, PLAIN,
};

const DOCKER_GLOBAL: &str = "-H --host -c --context --config -l --log-level --tlscacert \
    --tlscert --tlskey --url --connection --namespace -n --secret --ssh -f --file --project-name \
    --env-file --profile --project-directory";

const DOCKER_EXEC: &str = "-e --env --env-file -u --user -w --workdir --detach-keys --index";

/// `docker run --entrypoint PROGRAM IMAGE ARGS…`: the arguments go to that program.
const DOCKER_ENTRYPOINT: &[super::programs::Opt] = &[opt("--entrypoint", Value::Entrypoint)];

const DOCKER_RUN: &str = "-a --attach -c --cpu-shares -e --env --env-file -h --hostname -l \
    --label --label-file -m --memory -p --publish -u --user -v --volume -w --workdir --add-host \
    --blkio-weight --cap-add --cap-drop --cgroup-parent --cgroupns --cidfile --cpu-period \
    --cpu-quota --cpus --cpuset-cpus --cpuset-mems --device --dns --dns-option --dns-search \
    --expose --gpus --group-add --health-cmd --health-interval --health-retries --health-timeout \
    --ip --ip6 --ipc --isolation --link --log-driver --log-opt --mac-address \
    --memory-reservation --memory-swap --mount --name --network --net --network-alias --pid \
    --platform --pull --restart --runtime --security-opt --shm-size --stop-signal --stop-timeout \
    --storage-opt --sysctl --tmpfs --ulimit --userns --uts --volumes-from --pids-limit \
    --oom-score-adj --detach-keys --secret";

const KUBECTL_GLOBAL: &str = "-n --namespace --context --kubeconfig --cluster --user -s --server \
    --as --as-group --request-timeout --certificate-authority --client-certificate --client-key \
    -v";

const KUBECTL_EXEC: &str = "-c --container -n --namespace -f --filename --pod-running-timeout";

/// Logging in to a registry: `-p`/`--password` (a sensitive key anyway) and `-u`.
const REGISTRY_LOGIN: Rules = Rules {
    options: &[opt("-p", Value::Secret), opt("--password", Value::Secret)],
    valued: "-u --username --authfile --cert-dir",
    bare_keys: false,
    ..PLAIN
};

const CONTAINER_SUBCOMMANDS: &[Subcommand] = &[
    Subcommand {
        path: &["exec"],
        rules: runs_strictly(1, DOCKER_EXEC),
    },
    Subcommand {
        path: &["container", "exec"],
        rules: runs_strictly(1, DOCKER_EXEC),
    },
    Subcommand {
        path: &["run"],
        rules: DOCKER_RUN_RULES,
    },
    Subcommand {
        path: &["container", "run"],
        rules: DOCKER_RUN_RULES,
    },
    Subcommand {
        path: &["compose", "exec"],
        rules: runs_strictly(1, DOCKER_EXEC),
    },
    Subcommand {
        path: &["compose", "run"],
        rules: DOCKER_RUN_RULES,
    },
    Subcommand {
        path: &["login"],
        rules: REGISTRY_LOGIN,
    },
];

/// Container and cluster CLIs before their subcommand: global options that take a value, and
/// positional words that name resources (`docker secret create`), never keys.
const CONTAINER_CLI: Rules = Rules {
    valued: DOCKER_GLOBAL,
    bare_keys: false,
    ..PLAIN
};

/// `docker run [options] IMAGE [command]`: strict, with `--entrypoint`.
const DOCKER_RUN_RULES: Rules = Rules {
    options: DOCKER_ENTRYPOINT,
    valued: DOCKER_RUN,
    operands: Operands::Command {
        skip: 1,
        strict: true,
    },
    ..PLAIN
};

pub(super) static CONTAINERS: &[Program] = &[
    Program {
        names: "docker podman nerdctl",
        rules: CONTAINER_CLI,
        subcommands: CONTAINER_SUBCOMMANDS,
    },
    Program {
        names: "docker-compose podman-compose",
        rules: CONTAINER_CLI,
        subcommands: &[
            Subcommand {
                path: &["exec"],
                rules: runs_strictly(1, DOCKER_EXEC),
            },
            Subcommand {
                path: &["run"],
                rules: DOCKER_RUN_RULES,
            },
        ],
    },
    Program {
        names: "buildah skopeo oras crane regctl",
        rules: CONTAINER_CLI,
        subcommands: &[
            Subcommand {
                path: &["login"],
                rules: REGISTRY_LOGIN,
            },
            Subcommand {
                path: &["auth", "login"],
                rules: REGISTRY_LOGIN,
            },
            Subcommand {
                path: &["registry", "login"],
                rules: REGISTRY_LOGIN,
            },
            Subcommand {
                path: &["run"],
                rules: runs(1, "-e --env -u --user --workingdir -v --volume"),
            },
        ],
    },
    Program {
        names: "kubectl oc kubecolor",
        rules: Rules {
            valued: KUBECTL_GLOBAL,
            bare_keys: false,
            ..PLAIN
        },
        subcommands: &[
            Subcommand {
                path: &["exec"],
                rules: runs(1, KUBECTL_EXEC),
            },
            // `kubectl run NAME … -- command…`, `kubectl debug POD … -- command…`.
            Subcommand {
                path: &["run"],
                rules: runs(
                    1,
                    "--image --port --env --labels -l --overrides --restart --serviceaccount -n \
                        --namespace --requests --limits --pod-running-timeout",
                ),
            },
            Subcommand {
                path: &["debug"],
                rules: runs(
                    1,
                    "--image -c --container --target --profile --copy-to -n --namespace --env \
                        --image-pull-policy",
                ),
            },
            // `oc login -u USER -p PASSWORD`.
            Subcommand {
                path: &["login"],
                rules: Rules {
                    options: &[opt("-p", Value::Secret)],
                    valued: "-u --username -s --server --certificate-authority",
                    bare_keys: false,
                    ..PLAIN
                },
            },
        ],
    },
    Program {
        names: "crictl",
        rules: CONTAINER_CLI,
        subcommands: &[Subcommand {
            path: &["exec"],
            rules: runs_strictly(1, "-e --env --timeout"),
        }],
    },
    Program {
        names: "lxc incus",
        rules: CONTAINER_CLI,
        subcommands: &[Subcommand {
            path: &["exec"],
            rules: runs(1, "--env --user --group --cwd --mode"),
        }],
    },
    Program {
        names: "singularity apptainer",
        rules: CONTAINER_CLI,
        subcommands: &[Subcommand {
            path: &["exec"],
            rules: runs(1, "-B --bind --env --pwd -H --home -W --workdir"),
        }],
    },
    Program {
        names: "ip",
        rules: Rules {
            valued: "-n -netns -b -batch -rc -family -f",
            ..PLAIN
        },
        subcommands: &[Subcommand {
            path: &["netns", "exec"],
            rules: runs_strictly(1, ""),
        }],
    },
];
