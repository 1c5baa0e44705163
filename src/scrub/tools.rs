//! Programs that take a secret in a way no sensitive key would recognise (database clients are
//! in [`super::databases`], cloud, registry and secret-store CLIs in [`super::clouds`]): a short
//! flag (`-p`,
//! `-a`, `-w`, `-P`), a `user:password` value, a positional operand (`vault login TOKEN`,
//! `rabbitmqctl add_user NAME PW`), an Oracle logon (`sqlplus scott/tiger@db`).
//!
//! These rules are keyed by program name because the same flag means harmless things elsewhere:
//! `ls -p`, `ssh -p 22` and `docker run -p 8080:80` must stay readable. Options that take a
//! harmless value are listed too, so the value is not read as more flags (`mysql -hpdb` is a
//! host, not `-p` with `db` attached).

use super::programs::{
    opt, program, Operands, Program, Rules, Subcommand, Value, NO_BARE_KEYS, PLAIN,
};

const LDAP_VALUED: &str = "-D -H -b -y -s -h -p -f -o -e -E -Y -X -U -R -l -z -T -S -a -P";

const SNMP_VALUED: &str = "-a -x -l -u -v -r -t -O -I -m -M -n -e -E -Z -y -Y -T -L -D -C";

const SAMBA_USER: &[super::programs::Opt] = &[
    opt("-U", Value::UserPassword(b'%')),
    opt("--user", Value::UserPassword(b'%')),
];

const SAMBA_VALUED: &str = "-L -I -M -p -R -s -l -d -O -n -i -W -A -c -D -T -b -m -t --port \
    --workgroup --configfile --directory --command --authentication-file --max-protocol";

pub(super) static TOOLS: &[Program] = &[
    // `-f file`, `-d fd` and `-P prompt` take values that are not the command to run.
    program(
        "sshpass",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-f -d -P",
            operands: Operands::Command {
                skip: 0,
                strict: true,
            },
            ..PLAIN
        },
    ),
    // `-u user:password`; the user stays readable, as in URLs. `-E cert:password`, cookie
    // data with `-b`, and `-HAuthorization: …` (a header attached to its flag).
    program(
        "curl",
        Rules {
            options: &[
                opt("-u", Value::UserPassword(b':')),
                opt("--user", Value::UserPassword(b':')),
                opt("-U", Value::UserPassword(b':')),
                opt("--proxy-user", Value::UserPassword(b':')),
                opt("-E", Value::UserPassword(b':')),
                opt("--cert", Value::UserPassword(b':')),
                opt("-b", Value::Cookie),
            ],
            valued: "-H --header -d --data --data-raw --data-binary --data-urlencode -F --form \
                -x --proxy -o --output -A --user-agent -e --referer -X --request -w --write-out \
                -T --upload-file -c --cookie-jar -K --config -r --range -m --max-time -y -Y -z \
                -C -Q --resolve --connect-to --cacert --key --retry --connect-timeout",
            ..PLAIN
        },
    ),
    program(
        "ab",
        Rules {
            options: &[
                opt("-A", Value::UserPassword(b':')),
                opt("-P", Value::UserPassword(b':')),
                opt("-C", Value::Cookie),
            ],
            valued: "-n -c -t -s -b -B -p -u -T -v -g -e -H -X -m",
            ..PLAIN
        },
    ),
    // HTTPie and xh: `-a user:password`.
    program(
        "http https xh xhs",
        Rules {
            options: &[opt("-a", Value::UserPassword(b':'))],
            ..PLAIN
        },
    ),
    Program {
        // `openssl enc -k password`; `-passin pass:x` is caught by the generic `pass:` key, and
        // `openssl passwd PASSWORD` hashes its operand.
        names: "openssl",
        rules: Rules {
            options: &[opt("-k", Value::Secret)],
            valued: "-kfile",
            clusters: false,
            bare_keys: false,
            ..PLAIN
        },
        subcommands: &[Subcommand {
            path: &["passwd"],
            rules: Rules {
                valued: "-salt -in",
                operands: Operands::SecretAt(1),
                clusters: false,
                bare_keys: false,
                ..PLAIN
            },
        }],
    },
    program(
        "htpasswd",
        Rules {
            valued: "-C -r",
            operands: Operands::Htpasswd,
            bare_keys: false,
            ..PLAIN
        },
    ),
    program(
        "ldapsearch ldapadd ldapmodify ldapdelete ldapmodrdn ldapwhoami ldapcompare \
            ldapexop ldapurl",
        Rules {
            options: &[opt("-w", Value::Secret)],
            valued: LDAP_VALUED,
            ..PLAIN
        },
    ),
    // `-s newpassword`, `-a oldpassword` as well as the bind password.
    program(
        "ldappasswd",
        Rules {
            options: &[
                opt("-w", Value::Secret),
                opt("-s", Value::Secret),
                opt("-a", Value::Secret),
            ],
            valued: "-D -H -y -h -p -t -T -e -E -Y -X -U -R",
            ..PLAIN
        },
    ),
    program(
        "zip unzip zipcloak zipnote",
        Rules {
            options: &[opt("-P", Value::Secret)],
            valued: "-d -x -i -b -n -t -tt",
            ..PLAIN
        },
    ),
    // Switches are single-dash words (`-mhe=on`, `-tzip`): only `-psecret` matters.
    program(
        "7z 7za 7zr 7zz",
        Rules {
            options: &[opt("-p", Value::SecretAttached)],
            clusters: false,
            ..PLAIN
        },
    ),
    // `smbclient //server/share password -U user`.
    program(
        "smbclient",
        Rules {
            options: SAMBA_USER,
            valued: SAMBA_VALUED,
            operands: Operands::SecretAt(2),
            ..PLAIN
        },
    ),
    program(
        "rpcclient smbcacls smbget smbtree smbcquotas smbspool net winexe wmic",
        Rules {
            options: SAMBA_USER,
            valued: SAMBA_VALUED,
            ..PLAIN
        },
    ),
    Program {
        names: "rabbitmqctl",
        rules: Rules {
            valued: "-n --node -t --timeout -p --vhost",
            bare_keys: false,
            ..PLAIN
        },
        subcommands: &[
            Subcommand {
                path: &["add_user"],
                rules: Rules {
                    operands: Operands::SecretAt(2),
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["change_password"],
                rules: Rules {
                    operands: Operands::SecretAt(2),
                    bare_keys: false,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["authenticate_user"],
                rules: Rules {
                    operands: Operands::SecretAt(2),
                    bare_keys: false,
                    ..PLAIN
                },
            },
        ],
    },
    program(
        "rabbitmqadmin",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-u -H -P -V -c -N -f -d -s -q",
            ..PLAIN
        },
    ),
    // `-y`/`-k` are the BMC's Kg key.
    program(
        "ipmitool",
        Rules {
            options: &[
                opt("-P", Value::Secret),
                opt("-y", Value::Secret),
                opt("-k", Value::Secret),
            ],
            valued: "-U -H -I -L -p -f -C -t -b -T -B -m -N -R -O",
            ..PLAIN
        },
    ),
    // The community string is the password of SNMP v1/v2c; `-A`/`-X` those of v3.
    program(
        "snmpwalk snmpbulkwalk snmpget snmpgetnext snmpbulkget snmpset snmptable snmptrap \
            snmpinform snmpstatus snmpdf snmpdelta",
        Rules {
            options: &[
                opt("-c", Value::Secret),
                opt("-A", Value::Secret),
                opt("-X", Value::Secret),
            ],
            valued: SNMP_VALUED,
            ..PLAIN
        },
    ),
    // `-new NEWPASSWORD` of `-storepasswd`/`-keypasswd`; `-storepass` and `-keypass` are
    // secret keys by the generic rule.
    program(
        "keytool",
        Rules {
            options: &[opt("-new", Value::Secret)],
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "lftp",
        Rules {
            options: &[opt("-u", Value::UserPassword(b','))],
            valued: "-p -e -f -c",
            ..PLAIN
        },
    ),
    program(
        "ncftp ncftpget ncftpput ncftpls",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-u -P -j -t -f",
            ..PLAIN
        },
    ),
    program(
        "mosquitto_pub mosquitto_sub mosquitto_rr",
        Rules {
            options: &[opt("-P", Value::Secret)],
            valued: "-u -h -p -t -m -i -q -k -f -L -V -W",
            ..PLAIN
        },
    ),
    // `-P old passphrase`, `-N new passphrase`.
    program(
        "ssh-keygen",
        Rules {
            options: &[opt("-P", Value::Secret), opt("-N", Value::Secret)],
            valued: "-f -t -b -C -m -O -E -I -n -V -z -Z -a -F -R -s -w -D -r",
            ..PLAIN
        },
    ),
    program(
        "rdesktop",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-u -d -g -k -a -T -s -c -n -r -x",
            ..PLAIN
        },
    ),
    // FreeRDP's Windows-style options: `/p:password`, `/pth:hash`.
    program(
        "xfreerdp wlfreerdp sdl-freerdp xfreerdp3 sdl-freerdp3",
        Rules {
            options: &[
                opt("/p", Value::Secret),
                opt("/password", Value::Secret),
                opt("/pth", Value::Secret),
            ],
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "hydra",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-l -L -P -C -s -o -t -m -M -w -W",
            ..PLAIN
        },
    ),
    // `-p` is the encrypted password of the account.
    program(
        "useradd usermod",
        Rules {
            options: &[opt("-p", Value::Secret), opt("--password", Value::Secret)],
            valued: "-c -d -e -f -g -G -k -K -s -u -b -Z -R -P -l",
            ..PLAIN
        },
    ),
    program(
        "mkpasswd",
        Rules {
            valued: "-m -S -R -P",
            operands: Operands::SecretAt(1),
            ..PLAIN
        },
    ),
    program(
        "wpa_passphrase",
        Rules {
            operands: Operands::SecretAt(2),
            ..PLAIN
        },
    ),
    // `-pass 1` is the encoding pass.
    program(
        "ffmpeg ffprobe ffplay x264 x265",
        Rules {
            valued: "-pass --pass",
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "npm npx yarn pnpm pip pip3 pipx gem go apt apt-get apt-cache dpkg dnf yum \
            apk brew composer conda gcloud systemctl journalctl service grep \
            egrep fgrep zgrep rg ag ack man which whereis apropos getent",
        NO_BARE_KEYS,
    ),
    program(
        "yt-dlp youtube-dl",
        Rules {
            options: &[
                opt("-p", Value::Secret),
                opt("--video-password", Value::Secret),
            ],
            valued: "-u -o -f -a -r -R -N --username --output --format --batch-file",
            ..PLAIN
        },
    ),
    // InfluxDB 2's CLI: `-t` is the API token everywhere, `setup -p` the admin's password.
    Program {
        names: "influx",
        rules: Rules {
            options: &[opt("-t", Value::Secret)],
            bare_keys: false,
            ..PLAIN
        },
        subcommands: &[Subcommand {
            path: &["setup"],
            rules: Rules {
                options: &[opt("-p", Value::Secret), opt("-t", Value::Secret)],
                valued: "-u -o -b -r -n --username --org --bucket --retention --name --host",
                bare_keys: false,
                ..PLAIN
            },
        }],
    },
    // Options are words: `-au USER -ap PASSWORD`, `-xu USER -xp PASSWORD`.
    program(
        "swaks",
        Rules {
            options: &[opt("-ap", Value::Secret)],
            valued: "-au -t -f -s -p -h --to --from --server --port --helo --header --body \
                --attach --auth",
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "sendemail sendEmail",
        Rules {
            options: &[opt("-xp", Value::Secret)],
            valued: "-f -t -u -m -s -xu -a -cc -bcc -o",
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "ccrypt ccencrypt ccdecrypt ccat",
        Rules {
            options: &[opt("-K", Value::Secret)],
            valued: "-k --keyfile -E --envvar -S --suffix",
            ..PLAIN
        },
    ),
    program(
        "mcrypt",
        Rules {
            options: &[opt("-k", Value::Secret)],
            valued: "-f -a -m -s -o -h --keyfile --algorithm --mode",
            ..PLAIN
        },
    ),
    program(
        "veracrypt truecrypt",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-k --keyfiles -m --mount-options --filesystem --hash --encryption --slot \
                --pim --volume-type --size",
            ..PLAIN
        },
    ),
    // `qpdf --encrypt USER_PASSWORD OWNER_PASSWORD KEY_LENGTH`.
    program(
        "qpdf",
        Rules {
            options: &[opt("--encrypt", Value::SecretPair)],
            ..PLAIN
        },
    ),
    // Switches are words with values attached (`-p<password>`, `-hp<password>`, `-m5`).
    program(
        "rar unrar",
        Rules {
            options: &[
                opt("-hp", Value::SecretAttached),
                opt("-p", Value::SecretAttached),
            ],
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "nats",
        Rules {
            options: &[opt("--user", Value::UserPassword(b':'))],
            valued: "-s --server --creds --nkey --context --tlscert --tlskey --tlsca",
            ..PLAIN
        },
    ),
    // X servers: `-auth FILE` names the authority file.
    program(
        "Xorg X Xwayland Xvfb Xephyr Xnest Xvnc Xtigervnc",
        Rules {
            valued: "-auth -seat -config -configdir -logfile -layout -listen -nolisten \
                -displayfd -rfbauth -rfbport -geometry -depth -screen",
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "medusa",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-h -H -u -U -P -C -O -e -M -m -n -t -T -g -r -d",
            ..PLAIN
        },
    ),
    program(
        "crackmapexec netexec nxc evil-winrm smbmap",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-u -a -k -f -e -d -i -H --database",
            ..PLAIN
        },
    ),
];
