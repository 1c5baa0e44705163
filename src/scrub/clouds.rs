//! Cloud, deployment, registry and secret-store CLIs: `aws`, `az`, `doctl`, `gh`, `helm`,
//! `pulumi`, `vault`, MinIO's `mc`, Bitwarden's `bw`, and the package registries' `cargo`,
//! `dotnet nuget` and `twine`. Same shape as [`super::tools`]. Their positional words name
//! resources (`vault auth list`, `gh secret set NAME`), so they take no bare keys unless a
//! subcommand says so, and their secrets come by subcommand: a token operand (`vault login
//! TOKEN`, `cargo login TOKEN`), a value option (`az keyvault secret set --value`), a short flag
//! (`az login -p`, `doctl -t`).

use super::programs::{
    opt, program, Operands, Program, Rules, Subcommand, Value, NO_BARE_KEYS, PLAIN,
};

/// `dotnet nuget add source URL -n NAME -u USER -p PASSWORD`.
const NUGET_SOURCE: Rules = Rules {
    options: &[opt("-p", Value::Secret)],
    valued: "-n --name -u --username --configfile --valid-authentication-types",
    bare_keys: false,
    ..PLAIN
};

pub(super) static CLOUDS: &[Program] = &[
    Program {
        // `vault login TOKEN` (and the old `vault auth TOKEN`); `vault token lookup hvs.…` is a
        // shaped token.
        names: "vault",
        rules: NO_BARE_KEYS,
        subcommands: &[
            Subcommand {
                path: &["login"],
                rules: Rules {
                    operands: Operands::Token,
                    clusters: false,
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["auth"],
                rules: Rules {
                    operands: Operands::Token,
                    clusters: false,
                    bare_keys: false,
                    ..PLAIN
                },
            },
            // `vault auth list|enable|disable|tune|move|help` manage methods; they are no token.
            Subcommand {
                path: &["auth", "list"],
                rules: NO_BARE_KEYS,
            },
            Subcommand {
                path: &["auth", "enable"],
                rules: NO_BARE_KEYS,
            },
            Subcommand {
                path: &["auth", "disable"],
                rules: NO_BARE_KEYS,
            },
            Subcommand {
                path: &["auth", "tune"],
                rules: NO_BARE_KEYS,
            },
            Subcommand {
                path: &["auth", "move"],
                rules: NO_BARE_KEYS,
            },
            Subcommand {
                path: &["auth", "help"],
                rules: NO_BARE_KEYS,
            },
            // `vault operator unseal KEY`: an unseal key share.
            Subcommand {
                path: &["operator", "unseal"],
                rules: Rules {
                    operands: Operands::Token,
                    clusters: false,
                    bare_keys: false,
                    ..PLAIN
                },
            },
            // `vault token create -id=TOKEN`: the new token's value.
            Subcommand {
                path: &["token", "create"],
                rules: Rules {
                    options: &[opt("-id", Value::Secret)],
                    clusters: false,
                    bare_keys: false,
                    ..PLAIN
                },
            },
        ],
    },
    Program {
        names: "gh",
        rules: NO_BARE_KEYS,
        subcommands: &[
            Subcommand {
                path: &["auth", "login"],
                rules: Rules {
                    options: &[opt("--with-token", Value::SecretUnlessOption)],
                    valued: "-h --hostname -p --git-protocol -s --scopes",
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["secret", "set"],
                rules: Rules {
                    options: &[opt("-b", Value::Secret), opt("--body", Value::Secret)],
                    bare_keys: false,
                    ..PLAIN
                },
            },
        ],
    },
    Program {
        names: "az",
        rules: NO_BARE_KEYS,
        subcommands: &[
            Subcommand {
                path: &["login"],
                rules: Rules {
                    options: &[opt("-p", Value::Secret)],
                    valued: "-u --username -t --tenant",
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["keyvault", "secret", "set"],
                rules: Rules {
                    options: &[opt("--value", Value::Secret)],
                    valued: "--vault-name --name -n --file --encoding --content-type",
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["sql", "server", "create"],
                rules: Rules {
                    options: &[opt("-p", Value::Secret)],
                    valued: "-g -n -u -l --resource-group --name --admin-user --location",
                    bare_keys: false,
                    ..PLAIN
                },
            },
        ],
    },
    Program {
        // MinIO client: `mc alias set NAME URL ACCESS_KEY SECRET_KEY`.
        names: "mc mcli",
        rules: NO_BARE_KEYS,
        subcommands: &[
            Subcommand {
                path: &["alias", "set"],
                rules: Rules {
                    operands: Operands::SecretAt(4),
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["config", "host", "add"],
                rules: Rules {
                    operands: Operands::SecretAt(4),
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["admin", "user", "add"],
                rules: Rules {
                    operands: Operands::SecretAt(3),
                    bare_keys: false,
                    ..PLAIN
                },
            },
        ],
    },
    Program {
        // Bitwarden: `bw unlock PASSWORD`, `bw login EMAIL PASSWORD`.
        names: "bw",
        rules: NO_BARE_KEYS,
        subcommands: &[
            Subcommand {
                path: &["unlock"],
                rules: Rules {
                    operands: Operands::SecretAt(1),
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["login"],
                rules: Rules {
                    operands: Operands::SecretAt(2),
                    ..PLAIN
                },
            },
        ],
    },
    // `cargo login TOKEN`.
    Program {
        names: "cargo",
        rules: NO_BARE_KEYS,
        subcommands: &[Subcommand {
            path: &["login"],
            rules: Rules {
                valued: "--registry",
                operands: Operands::Token,
                bare_keys: false,
                ..PLAIN
            },
        }],
    },
    program(
        "twine",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-u -r -c -i --username --repository --repository-url --comment \
                --sign-with --identity --config-file --cert --client-cert",
            ..PLAIN
        },
    ),
    // DigitalOcean: `-t` is the access token for every command.
    program(
        "doctl",
        Rules {
            options: &[opt("-t", Value::Secret)],
            valued: "-c --config --context -o --output",
            bare_keys: false,
            ..PLAIN
        },
    ),
    Program {
        names: "dotnet",
        rules: NO_BARE_KEYS,
        subcommands: &[
            Subcommand {
                path: &["nuget", "push"],
                rules: Rules {
                    options: &[opt("-k", Value::Secret), opt("-sk", Value::Secret)],
                    valued: "-s --source -ss --symbol-source -t --timeout",
                    clusters: false,
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["nuget", "add", "source"],
                rules: NUGET_SOURCE,
            },
            Subcommand {
                path: &["nuget", "update", "source"],
                rules: NUGET_SOURCE,
            },
        ],
    },
    Program {
        names: "pulumi",
        rules: NO_BARE_KEYS,
        subcommands: &[Subcommand {
            path: &["config", "set"],
            rules: Rules {
                options: &[
                    opt("--secret", Value::Switch),
                    opt("--plaintext", Value::Switch),
                ],
                valued: "-s --stack --path",
                ..PLAIN
            },
        }],
    },
    // `--secret-id` names a secret in AWS; `put-parameter --value` is often a SecureString.
    Program {
        names: "aws",
        rules: Rules {
            valued: "--secret-id --profile --region --output --query --endpoint-url",
            ..PLAIN
        },
        subcommands: &[Subcommand {
            path: &["ssm", "put-parameter"],
            rules: Rules {
                options: &[opt("--value", Value::Secret)],
                valued: "--name --type --description --key-id --tier --profile --region",
                ..PLAIN
            },
        }],
    },
    Program {
        names: "helm",
        rules: NO_BARE_KEYS,
        subcommands: &[Subcommand {
            path: &["registry", "login"],
            rules: Rules {
                options: &[opt("-p", Value::Secret)],
                valued: "-u --username --cert-file --key-file --ca-file",
                bare_keys: false,
                ..PLAIN
            },
        }],
    },
];
