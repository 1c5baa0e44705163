//! Database and data-store clients: the MySQL and MariaDB family (`-psecret`), Redis
//! (`-a`), MongoDB (`-p`), SQL Server (`-P`), Oracle logons (`sqlplus scott/tiger@db`),
//! Cassandra, Neo4j, etcd. Same shape as [`super::tools`]; these are the programs most often
//! given a password on the command line.

use super::programs::{
    opt, program, Operands, Program, Rules, Subcommand, Value, NO_BARE_KEYS, PLAIN,
};

const MYSQL_VALUED: &str = "-h -u -P -D -S -e --host --user --port --database --socket --execute";

const MONGO_VALUED: &str = "-u -h --host --port --username --authenticationDatabase --eval -d \
    --db -c --collection -o --out";

pub(super) static DATABASES: &[Program] = &[
    // `-psecret`, and conservatively `-p secret` (which MySQL reads as a database name
    // after a prompt, but people write anyway).
    program(
        "mysql mysqldump mysqladmin mysqlimport mysqlshow mysqlcheck mysqlslap mysqlpump \
            mysqlbinlog mysqlsh mysql_upgrade mariadb mariadb-dump mariadb-admin mariadb-import \
            mariadb-show mariadb-check mariadb-slap mariadb-binlog mydumper myloader \
            pt-online-schema-change pt-table-checksum pt-query-digest pt-kill pt-archiver \
            pt-heartbeat pt-table-sync pt-mysql-summary mycli",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: MYSQL_VALUED,
            ..PLAIN
        },
    ),
    Program {
        names: "redis-cli valkey-cli keydb-cli redis-benchmark valkey-benchmark memtier_benchmark",
        rules: Rules {
            options: &[opt("-a", Value::Secret), opt("--pass", Value::Secret)],
            valued: "-h -p -u -n --user -s -r -i -c -t",
            ..PLAIN
        },
        // `redis-cli AUTH [user] password`
        subcommands: &[
            Subcommand {
                path: &["AUTH"],
                rules: Rules {
                    operands: Operands::Secret,
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["auth"],
                rules: Rules {
                    operands: Operands::Secret,
                    ..PLAIN
                },
            },
        ],
    },
    program(
        "mongo mongosh mongodump mongorestore mongoexport mongoimport mongostat mongotop \
            mongofiles",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: MONGO_VALUED,
            ..PLAIN
        },
    ),
    program(
        "sqlcmd bcp osql tsql mssql-cli",
        Rules {
            options: &[opt("-P", Value::Secret)],
            valued: "-S -U -d -Q -q -i -o -s -H -t -l -W -h -w -f -c",
            ..PLAIN
        },
    ),
    // Sybase's `isql -P password` and unixODBC's `isql DSN USER PASSWORD`.
    program(
        "isql iusql",
        Rules {
            options: &[opt("-P", Value::Secret)],
            valued: "-S -U -D -d -i -o -s -w -k -c",
            operands: Operands::SecretAt(3),
            ..PLAIN
        },
    ),
    program(
        "sqlplus sql expdp impdp exp imp rman dgmgrl sqlldr",
        Rules {
            options: &[opt("userid", Value::Logon)],
            operands: Operands::Logon,
            clusters: false,
            ..PLAIN
        },
    ),
    program(
        "etcdctl",
        Rules {
            options: &[opt("--user", Value::UserPassword(b':'))],
            ..PLAIN
        },
    ),
    program(
        "cqlsh cypher-shell cbq",
        Rules {
            options: &[opt("-p", Value::Secret)],
            valued: "-u -a -k -f -e -d -i -H --database",
            ..PLAIN
        },
    ),
    Program {
        names: "neo4j-admin",
        rules: NO_BARE_KEYS,
        subcommands: &[
            Subcommand {
                path: &["set-initial-password"],
                rules: Rules {
                    operands: Operands::SecretAt(1),
                    ..PLAIN
                },
            },
            Subcommand {
                path: &["dbms", "set-initial-password"],
                rules: Rules {
                    operands: Operands::SecretAt(1),
                    ..PLAIN
                },
            },
        ],
    },
];
