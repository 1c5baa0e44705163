//! Table-driven tests: each row is an argv before and after scrubbing.

use super::word::{fold, Word};
use super::*;

/// The corpus: every command line of `corpus.rs` against the default scrubber.
mod corpus;

/// A description, an argv, and the argv expected back.
type Row = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn scrubber_with(words: &[&str]) -> Scrubber {
    let options = ScrubOptions {
        custom_sensitive_words: owned(words),
        ..ScrubOptions::default()
    };
    match Scrubber::new(&options) {
        Ok(scrubber) => scrubber,
        Err(e) => panic!("custom words {words:?} refused: {e}"),
    }
}

/// Runs every row and reports all the failing ones at once.
fn check(scrubber: &Scrubber, rows: &[Row]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|&(what, input, expected)| {
            let got = scrubber.scrub(&owned(input));
            (got != owned(expected))
                .then(|| format!("{what}:\n    input    {input:?}\n    expected {expected:?}\n    got      {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Rows whose argv must come back exactly as it went in.
fn check_untouched(scrubber: &Scrubber, rows: &[(&'static str, &'static [&'static str])]) {
    let rows: Vec<Row> = rows
        .iter()
        .map(|&(what, argv)| (what, argv, argv))
        .collect();
    check(scrubber, &rows);
}

#[test]
fn key_value_forms_hide_the_value_and_keep_the_key() {
    check(
        &Scrubber::default(),
        &[
            (
                "double dash and =",
                &["app", "--password=hunter2"],
                &["app", "--password=********"],
            ),
            (
                "environment style",
                &["env", "PASSWORD=hunter2"],
                &["env", "PASSWORD=********"],
            ),
            (
                "single dash and :",
                &["app", "-password:hunter2"],
                &["app", "-password:********"],
            ),
            (
                "no dash and :",
                &["app", "password:hunter2"],
                &["app", "password:********"],
            ),
            (
                "dash inside the key",
                &["app", "--db-password=x"],
                &["app", "--db-password=********"],
            ),
            (
                "- matches _ in *api_key*",
                &["app", "--api-key=x"],
                &["app", "--api-key=********"],
            ),
            (
                "*apikey*",
                &["app", "--apikey=x"],
                &["app", "--apikey=********"],
            ),
            (
                "*passwd*",
                &["app", "--passwd=x"],
                &["app", "--passwd=********"],
            ),
            (
                "*mysql_pwd*",
                &["app", "MYSQL_PWD=x"],
                &["app", "MYSQL_PWD=********"],
            ),
            (
                "*access_token*",
                &["app", "--access-token=x"],
                &["app", "--access-token=********"],
            ),
            (
                "*auth_token*, any case",
                &["app", "AUTH-TOKEN=x"],
                &["app", "AUTH-TOKEN=********"],
            ),
            (
                "*secret*",
                &["app", "--client-secret=x"],
                &["app", "--client-secret=********"],
            ),
            (
                "*credentials*",
                &["app", "--aws-credentials=x"],
                &["app", "--aws-credentials=********"],
            ),
            (
                "stripetoken, any case",
                &["app", "--stripeToken=x"],
                &["app", "--stripeToken=********"],
            ),
            (
                "java system property",
                &["java", "-Dspring.datasource.password=x", "-jar", "app.jar"],
                &[
                    "java",
                    "-Dspring.datasource.password=********",
                    "-jar",
                    "app.jar",
                ],
            ),
            (
                "value with = and :",
                &["app", "PASSWORD=a:b=c"],
                &["app", "PASSWORD=********"],
            ),
            (
                "the first : ends the key",
                &["app", "--password:x=y"],
                &["app", "--password:********"],
            ),
            (
                "key inside the value of a plain key",
                &["docker", "run", "--env=MYSQL_PWD=x", "db"],
                &["docker", "run", "--env=MYSQL_PWD=********", "db"],
            ),
            (
                "key as the value of a flag",
                &["helm", "--set", "auth.password=x"],
                &["helm", "--set", "auth.password=********"],
            ),
            (
                "space after : is kept",
                &["curl", "-H", "X-Api-Key: abc"],
                &["curl", "-H", "X-Api-Key: ********"],
            ),
            (
                "an empty value has nothing to hide",
                &["app", "--password="],
                &["app", "--password="],
            ),
        ],
    );
}

#[test]
fn sensitive_key_alone_hides_the_whole_next_argument() {
    check(
        &Scrubber::default(),
        &[
            (
                "double dash",
                &["app", "--password", "x", "--v"],
                &["app", "--password", "********", "--v"],
            ),
            (
                "single dash",
                &["app", "-password", "x"],
                &["app", "-password", "********"],
            ),
            (
                "no dash",
                &["app", "password", "x"],
                &["app", "password", "********"],
            ),
            (
                "upper case",
                &["app", "PASSWORD", "x"],
                &["app", "PASSWORD", "********"],
            ),
            (
                "underscore and case",
                &["app", "--Api_Key", "x"],
                &["app", "--Api_Key", "********"],
            ),
            (
                "value with spaces",
                &["app", "--db-password", "a b"],
                &["app", "--db-password", "********"],
            ),
            (
                "whatever the next looks like, short of a long option",
                &["app", "--password", "-x1y"],
                &["app", "--password", "********"],
            ),
            (
                "a long option next says the key was a switch",
                &["app", "--password", "--verbose"],
                &["app", "--password", "--verbose"],
            ),
            (
                "an empty next argument",
                &["app", "--password", ""],
                &["app", "--password", "********"],
            ),
            (
                "the hidden value is not itself a key",
                &["app", "--password", "password", "hunter2"],
                &["app", "--password", "********", "hunter2"],
            ),
            (
                "last argument: nothing to hide",
                &["app", "--password"],
                &["app", "--password"],
            ),
            (
                "a positional sensitive word counts too",
                &["redis-cli", "CONFIG", "SET", "requirepass", "x"],
                &["redis-cli", "CONFIG", "SET", "requirepass", "********"],
            ),
        ],
    );
}

#[test]
fn url_credentials_are_hidden_wherever_they_are() {
    check(
        &Scrubber::default(),
        &[
            (
                "user and password",
                &["app", "postgres://user:pw@host/db"],
                &["app", "postgres://user:********@host/db"],
            ),
            (
                "as a flag value",
                &["app", "--db=postgres://u:hunter3@localhost/x"],
                &["app", "--db=postgres://u:********@localhost/x"],
            ),
            (
                "token as the user",
                &["git", "clone", "https://token@github.com/o/r"],
                &["git", "clone", "https://********@github.com/o/r"],
            ),
            (
                "token with an empty password",
                &["app", "https://token:@host"],
                &["app", "https://********:@host"],
            ),
            (
                "empty user",
                &["app", "redis://:pw@host:6379"],
                &["app", "redis://:********@host:6379"],
            ),
            (
                "several URLs in one argument",
                &["app", "--mirrors=http://a:b@x,https://c:d@y/p"],
                &[
                    "app",
                    "--mirrors=http://a:********@x,https://c:********@y/p",
                ],
            ),
            (
                "IPv6 host",
                &["app", "postgres://u:p@[::1]:5432/db"],
                &["app", "postgres://u:********@[::1]:5432/db"],
            ),
            (
                "unencoded @ in the password",
                &["app", "mysql://u:p@ss@host/db"],
                &["app", "mysql://u:********@host/db"],
            ),
            (
                "scheme with +",
                &["app", "git+ssh://git:tok@host/r"],
                &["app", "git+ssh://git:********@host/r"],
            ),
            (
                "JDBC URL",
                &["app", "jdbc:postgresql://u:p@h/db"],
                &["app", "jdbc:postgresql://u:********@h/db"],
            ),
            (
                "secret query parameter",
                &["app", "--url=https://api.example.com/v1?api_key=abc&page=2"],
                &[
                    "app",
                    "--url=https://api.example.com/v1?api_key=********&page=2",
                ],
            ),
            (
                "secret fragment parameter",
                &["app", "https://example.com/cb#access_token=abc&state=x"],
                &[
                    "app",
                    "https://example.com/cb#access_token=********&state=x",
                ],
            ),
            (
                "URL inside text",
                &["app", "fetch from https://u:p@h now"],
                &["app", "fetch from https://u:********@h now"],
            ),
        ],
    );
}

#[test]
fn authorization_headers_keep_the_scheme_and_hide_the_credential() {
    check(
        &Scrubber::default(),
        &[
            (
                "bearer",
                &["curl", "Authorization: Bearer abc"],
                &["curl", "Authorization: Bearer ********"],
            ),
            (
                "no space, any case",
                &["curl", "authorization:Basic xyz"],
                &["curl", "authorization:Basic ********"],
            ),
            (
                "base64 with =",
                &["curl", "Authorization: Basic dXNlcjpwYXNz=="],
                &["curl", "Authorization: Basic ********"],
            ),
            (
                "proxy",
                &["curl", "Proxy-Authorization: Basic xyz"],
                &["curl", "Proxy-Authorization: Basic ********"],
            ),
            (
                "token scheme",
                &["curl", "Authorization: Token abc"],
                &["curl", "Authorization: Token ********"],
            ),
            (
                "digest with parameters",
                &[
                    "curl",
                    "Authorization: Digest username=\"a\", response=\"b\"",
                ],
                &["curl", "Authorization: Digest ********"],
            ),
            (
                "no scheme word",
                &["curl", "Authorization: abc"],
                &["curl", "Authorization: ********"],
            ),
            (
                "as a flag value",
                &["curl", "--header=Authorization: Bearer x"],
                &["curl", "--header=Authorization: Bearer ********"],
            ),
            (
                "after -H",
                &["curl", "-H", "Authorization: Bearer x", "https://x"],
                &["curl", "-H", "Authorization: Bearer ********", "https://x"],
            ),
            (
                "cookie",
                &["curl", "Cookie: session=abc; id=2"],
                &["curl", "Cookie: ********"],
            ),
            (
                "sensitive header name",
                &["curl", "X-Auth-Token: abc"],
                &["curl", "X-Auth-Token: ********"],
            ),
            (
                "flag then value",
                &["app", "--authorization", "Bearer abc"],
                &["app", "--authorization", "Bearer ********"],
            ),
            (
                "header name then value",
                &["app", "Authorization:", "Bearer abc"],
                &["app", "Authorization:", "Bearer ********"],
            ),
        ],
    );
}

#[test]
fn password_flags_of_known_tools_are_hidden() {
    check(
        &Scrubber::default(),
        &[
            (
                "mysql -p value",
                &["mysql", "-u", "root", "-p", "secret"],
                &["mysql", "-u", "root", "-p", "********"],
            ),
            (
                "mysql -pvalue",
                &["mysql", "-uroot", "-psecret", "db"],
                &["mysql", "-uroot", "-p********", "db"],
            ),
            (
                "by basename",
                &["/usr/bin/mysqldump", "-psecret", "db"],
                &["/usr/bin/mysqldump", "-p********", "db"],
            ),
            (
                "mariadb-dump",
                &["mariadb-dump", "-p", "secret"],
                &["mariadb-dump", "-p", "********"],
            ),
            (
                "mysqladmin",
                &["mysqladmin", "-psecret", "status"],
                &["mysqladmin", "-p********", "status"],
            ),
            (
                "mysql -P is the port",
                &["mysql", "-P3306", "-P", "3306"],
                &["mysql", "-P3306", "-P", "3306"],
            ),
            (
                "sshpass -p, then ssh's own -p stays",
                &["sshpass", "-p", "pw", "ssh", "-p", "2222", "host"],
                &["sshpass", "-p", "********", "ssh", "-p", "2222", "host"],
            ),
            (
                "sshpass -pvalue",
                &["sshpass", "-ppw", "ssh", "host"],
                &["sshpass", "-p********", "ssh", "host"],
            ),
            (
                "sshpass -P takes a prompt, not the command",
                &["sshpass", "-P", "assword", "-p", "pw", "ssh", "host"],
                &["sshpass", "-P", "assword", "-p", "********", "ssh", "host"],
            ),
            (
                "redis-cli -a",
                &["redis-cli", "-a", "secret", "ping"],
                &["redis-cli", "-a", "********", "ping"],
            ),
            (
                "redis-cli --pass",
                &["redis-cli", "--pass", "secret"],
                &["redis-cli", "--pass", "********"],
            ),
            (
                "redis-cli --pass=",
                &["redis-cli", "--pass=secret"],
                &["redis-cli", "--pass=********"],
            ),
            (
                "curl -u user:password",
                &["curl", "-u", "alice:pw", "https://x"],
                &["curl", "-u", "alice:********", "https://x"],
            ),
            (
                "curl --user=",
                &["curl", "--user=alice:pw"],
                &["curl", "--user=alice:********"],
            ),
            (
                "curl -uvalue",
                &["curl", "-ualice:pw"],
                &["curl", "-ualice:********"],
            ),
            (
                "curl token as user",
                &["curl", "-u", "sk_test_abc:"],
                &["curl", "-u", "********:"],
            ),
            (
                "curl user alone (prompts)",
                &["curl", "-u", "alice", "https://x"],
                &["curl", "-u", "alice", "https://x"],
            ),
            (
                "through sudo",
                &["sudo", "-u", "root", "mysql", "-psecret"],
                &["sudo", "-u", "root", "mysql", "-p********"],
            ),
            (
                "through env",
                &["env", "A=1", "mysql", "-p", "secret"],
                &["env", "A=1", "mysql", "-p", "********"],
            ),
        ],
    );
}

#[test]
fn look_alikes_are_left_untouched() {
    check_untouched(
        &Scrubber::default(),
        &[
            ("port with an underscore", &["app", "--debug_port=2043"]),
            ("user is not a secret", &["app", "-user=admin"]),
            ("port as the next argument", &["postgres", "--port", "5432"]),
            ("passthrough has no password", &["app", "--passthrough=yes"]),
            ("compass has no password", &["app", "--compass=north"]),
            ("-p of a program without password flags", &["ls", "-p", "x"]),
            ("psql -p is the port", &["psql", "-p", "5432", "-h", "db"]),
            (
                "pg_dump has no password flag",
                &["pg_dump", "-p", "5432", "db"],
            ),
            ("ssh -p is the port", &["ssh", "-p", "2222", "user@host"]),
            (
                "docker -p is a port mapping",
                &["docker", "run", "-p", "8080:80", "nginx"],
            ),
            ("URL without userinfo", &["curl", "http://example.com/path"]),
            ("IPv6 URL without userinfo", &["curl", "http://[::1]:8080/"]),
            ("@ in the path", &["curl", "https://example.com/a@b"]),
            ("@ in the query", &["curl", "http://example.com/?q=a@b"]),
            (
                "secret in a URL path",
                &["curl", "https://example.com/secret/page?x=1"],
            ),
            ("ssh target", &["ssh", "user@host"]),
            (
                "scp-style git remote",
                &["git", "clone", "git@github.com:org/repo.git"],
            ),
            ("a token count is no token", &["app", "--token-count=5"]),
            (
                "password-file names a file",
                &["app", "--password-file=/run/secrets/db"],
            ),
            (
                "kubectl's positional words are resource names",
                &["kubectl", "create", "secret", "generic", "name"],
            ),
            (
                "path argument naming secrets",
                &["vault", "-config", "/etc/vault/secrets/x.conf", "serve"],
            ),
            (
                "path as a value",
                &["app", "--config=/etc/secret/app.yml", "--v"],
            ),
            (
                "cookie jar is not a cookie",
                &["curl", "--cookie-jar", "/tmp/jar", "https://x"],
            ),
            (
                "curl user agent is not --user",
                &["curl", "--user-agent=agent:1", "--user-agent", "a:b"],
            ),
            (
                "plain text with spaces",
                &["app", "--name", "hello world", "--title=a b: c"],
            ),
            (
                "ordinary header",
                &["curl", "-H", "Accept: application/json"],
            ),
            ("time of day", &["at", "12:30"]),
        ],
    );
}

#[test]
fn argv0_is_scrubbed_as_a_title() {
    check(
        &Scrubber::default(),
        &[
            (
                "path with secrets",
                &["/etc/vault/secrets/x.conf", "--v"],
                &["/etc/vault/secrets/x.conf", "--v"],
            ),
            (
                "an option is no program",
                &["--password=x", "y"],
                &["--password=********", "y"],
            ),
            (
                "a bare word is the program, not a key",
                &["password", "y"],
                &["password", "y"],
            ),
            (
                "URL with credentials",
                &["postgres://u:p@h"],
                &["postgres://u:********@h"],
            ),
            (
                "rewritten process title",
                &["app --password=x"],
                &["app --password=********"],
            ),
            (
                "the title's last key owes its value to the next element",
                &["app --password", "x"],
                &["app --password", "********"],
            ),
            (
                "a program file named KEY=value",
                &["/tmp/x/PASSWORD=hunter2", "60"],
                &["/tmp/x/PASSWORD=********", "60"],
            ),
        ],
    );
}

#[test]
fn quoted_values_stay_one_element() {
    check(
        &Scrubber::default(),
        &[
            (
                "hidden value with spaces",
                &["app", "--db-password", "a b c", "--v"],
                &["app", "--db-password", "********", "--v"],
            ),
            (
                "key=value with spaces",
                &["app", "PASSWORD=a b", "--x"],
                &["app", "PASSWORD=********", "--x"],
            ),
            (
                "plain value with spaces is kept",
                &["app", "--name", "hello world", "--password", "p w"],
                &["app", "--name", "hello world", "--password", "********"],
            ),
        ],
    );
}

#[test]
fn command_lines_inside_an_argument_are_scrubbed_word_by_word() {
    check(
        &Scrubber::default(),
        &[
            (
                "sh -c with mysql",
                &["sh", "-c", "mysql -uroot -psecret db"],
                &["sh", "-c", "mysql -uroot -p******** db"],
            ),
            (
                "assignment before the command",
                &["sh", "-c", "cd /app && PGPASSWORD=x psql -h db"],
                &["sh", "-c", "cd /app && PGPASSWORD=******** psql -h db"],
            ),
            (
                "shell text starting with an assignment",
                &["sh", "-c", "PGPASSWORD=x psql -h db"],
                &["sh", "-c", "PGPASSWORD=******** psql -h db"],
            ),
            (
                "a plain assignment does not switch the tool rules off",
                &["sh", "-c", "LANG=C mysql -psecret"],
                &["sh", "-c", "LANG=C mysql -p********"],
            ),
            (
                "redirection is not a separator",
                &["sh", "-c", "mysql -psecret 2>&1 >/dev/null"],
                &["sh", "-c", "mysql -p******** 2>&1 >/dev/null"],
            ),
            (
                "a pipe starts a new command",
                &["sh", "-c", "echo x|mysql -psecret|ls -p x"],
                &["sh", "-c", "echo x|mysql -p********|ls -p x"],
            ),
            (
                "quoted header",
                &[
                    "bash",
                    "-c",
                    "curl -H 'Authorization: Bearer abc' https://x",
                ],
                &[
                    "bash",
                    "-c",
                    "curl -H 'Authorization: Bearer ********' https://x",
                ],
            ),
            (
                "header split into words",
                &["bash", "-c", "curl -H Authorization: Bearer abc"],
                &["bash", "-c", "curl -H Authorization: Bearer ********"],
            ),
            (
                "tool after &&",
                &["sh", "-c", "cd /app && exec mysql -psecret"],
                &["sh", "-c", "cd /app && exec mysql -p********"],
            ),
            (
                "quoted value of a sensitive key",
                &["sh", "-c", "run --password \"a b\" next"],
                &["sh", "-c", "run --password \"********\" next"],
            ),
            (
                "quoted key=value",
                &["sh", "-c", "run --password=\"a b\" next"],
                &["sh", "-c", "run --password=\"********\" next"],
            ),
            (
                "nested shells",
                &["bash", "-c", "sh -c 'mysql -psecret'"],
                &["bash", "-c", "sh -c 'mysql -p********'"],
            ),
            (
                "options inside a value",
                &["app", "--opts=-Dfoo=1 -Dpassword=x"],
                &["app", "--opts=-Dfoo=1 -Dpassword=********"],
            ),
            (
                "a separator resets the tool",
                &["sh", "-c", "mysql -psecret; ls -p x"],
                &["sh", "-c", "mysql -p********; ls -p x"],
            ),
        ],
    );
}

#[test]
fn custom_words_add_to_the_defaults() {
    check(
        &scrubber_with(&["*token*"]),
        &[
            (
                "wildcard word",
                &["app", "--token-count=5"],
                &["app", "--token-count=********"],
            ),
            (
                "defaults still apply",
                &["app", "--password=x"],
                &["app", "--password=********"],
            ),
            (
                "in a query",
                &["app", "https://h/?csrf_token=x"],
                &["app", "https://h/?csrf_token=********"],
            ),
        ],
    );
    check(
        &scrubber_with(&["private-token"]),
        &[
            (
                "exact word",
                &["app", "--private-token=x"],
                &["app", "--private-token=********"],
            ),
            (
                "- written as _",
                &["app", "--private_token=x"],
                &["app", "--private_token=********"],
            ),
            (
                "any case, as a header",
                &["app", "PRIVATE-TOKEN: x"],
                &["app", "PRIVATE-TOKEN: ********"],
            ),
            (
                "next argument",
                &["app", "--Private-Token", "x"],
                &["app", "--Private-Token", "********"],
            ),
            (
                "no * means the whole key",
                &["app", "--private-token-file=x"],
                &["app", "--private-token-file=x"],
            ),
        ],
    );
    check(
        &scrubber_with(&[
            "*SESSION*",
            "--vault-token",
            "*pass*word*",
            "db*",
            "*cfg*word*",
        ]),
        &[
            (
                "upper-case word",
                &["app", "--session-id=x"],
                &["app", "--session-id=********"],
            ),
            (
                "leading dashes in the word",
                &["app", "--vault-token", "x"],
                &["app", "--vault-token", "********"],
            ),
            (
                "wildcard in the middle",
                &["app", "--pass-my-word=x"],
                &["app", "--pass-my-word=********"],
            ),
            (
                "open end only",
                &["app", "--dbhost=x"],
                &["app", "--dbhost=********"],
            ),
            (
                "open end only: start anchored",
                &["app", "--mydb=x"],
                &["app", "--mydb=x"],
            ),
            (
                "a word spanning the first : of a key that ends at =",
                &["app", "cfg:word=x"],
                &["app", "cfg:word=********"],
            ),
        ],
    );
}

#[test]
fn words_match_like_globs() {
    let rows: &[(&str, &str, bool)] = &[
        ("*password*", "db_password", true),
        ("*password*", "password", true),
        ("*password*", "passwor", false),
        ("*pass*word*", "pass_my_word", true),
        ("*pass*word*", "wordpass", false),
        ("stripetoken", "stripetoken", true),
        ("stripetoken", "stripetokens", false),
        ("stripetoken", "my_stripetoken", false),
        ("a*b", "ab", true),
        ("a*b", "axxb", true),
        ("a*b", "a", false),
        ("ab*ba", "aba", false),
        ("ab*ba", "abba", true),
        ("*a", "ba", true),
        ("*a", "ab", false),
        ("a*", "ab", true),
        ("a*", "ba", false),
        ("*ab*ab*", "abab", true),
        ("*ab*ab*", "aba", false),
        ("X-Api-Key", "x_api_key", true),
        ("*ключ*", "мой_ключ", true),
    ];
    for &(word, key, expected) in rows {
        let compiled = match Word::compile(word) {
            Ok(compiled) => compiled,
            Err(e) => panic!("{word:?} refused: {e}"),
        };
        assert_eq!(
            compiled.matches(&fold(key)),
            expected,
            "{word:?} against {key:?}"
        );
    }
}

#[test]
fn bad_custom_words_are_rejected_with_a_message_naming_the_word() {
    type IsExpected = fn(&ScrubError) -> bool;
    let rows: &[(&str, IsExpected)] = &[
        ("", |e| matches!(e, ScrubError::EmptyWord { .. })),
        ("--", |e| matches!(e, ScrubError::EmptyWord { .. })),
        ("*", |e| matches!(e, ScrubError::OnlyWildcards { .. })),
        ("***", |e| matches!(e, ScrubError::OnlyWildcards { .. })),
        ("-*", |e| matches!(e, ScrubError::OnlyWildcards { .. })),
        ("my word", |e| {
            matches!(e, ScrubError::ImpossibleCharacter { found: ' ', .. })
        }),
        ("tab\t", |e| {
            matches!(e, ScrubError::ImpossibleCharacter { found: '\t', .. })
        }),
        ("a=b", |e| {
            matches!(e, ScrubError::ImpossibleCharacter { found: '=', .. })
        }),
        ("a:b", |e| {
            matches!(e, ScrubError::ImpossibleCharacter { found: ':', .. })
        }),
        ("a/b", |e| {
            matches!(e, ScrubError::ImpossibleCharacter { found: '/', .. })
        }),
    ];
    for &(word, is_expected) in rows {
        let options = ScrubOptions {
            custom_sensitive_words: vec!["fine".to_owned(), word.to_owned()],
            ..ScrubOptions::default()
        };
        match Scrubber::new(&options) {
            Ok(_) => panic!("{word:?} was accepted"),
            Err(e) => {
                assert!(is_expected(&e), "{word:?} gave {e:?}");
                let message = e.to_string();
                assert!(
                    message.contains(&format!("{word:?}")),
                    "{message:?} does not name {word:?}"
                );
            }
        }
    }
}

#[test]
fn scrub_args_false_returns_argv_unchanged() {
    let scrubber = match Scrubber::new(&ScrubOptions {
        scrub_args: false,
        ..ScrubOptions::default()
    }) {
        Ok(scrubber) => scrubber,
        Err(e) => panic!("{e}"),
    };
    check_untouched(
        &scrubber,
        &[
            ("key=value", &["app", "--password=x", "postgres://u:p@h"]),
            ("tool flag", &["mysql", "-psecret"]),
        ],
    );
}

#[test]
fn strip_proc_arguments_keeps_only_the_program() {
    for scrub_args in [true, false] {
        let scrubber = match Scrubber::new(&ScrubOptions {
            scrub_args,
            strip_proc_arguments: true,
            ..ScrubOptions::default()
        }) {
            Ok(scrubber) => scrubber,
            Err(e) => panic!("{e}"),
        };
        check(
            &scrubber,
            &[
                ("arguments dropped", &["app", "--password=x", "y"], &["app"]),
                ("program alone", &["app"], &["app"]),
                ("nothing at all", &[], &[]),
                (
                    "a title keeps its program word only",
                    &["celery worker --password=x"],
                    &["celery"],
                ),
                (
                    "leading whitespace of a title",
                    &["  app --token x", "y"],
                    &["app"],
                ),
            ],
        );
        let expected = if scrub_args {
            "/tmp/PASSWORD=********"
        } else {
            "/tmp/PASSWORD=x"
        };
        assert_eq!(
            scrubber.scrub(&owned(&["/tmp/PASSWORD=x --v", "y"])),
            owned(&[expected])
        );
    }
}

#[test]
fn default_scrubber_uses_the_default_options() {
    assert_eq!(
        ScrubOptions::default(),
        ScrubOptions {
            scrub_args: true,
            custom_sensitive_words: Vec::new(),
            strip_proc_arguments: false,
        }
    );
    let argv = owned(&["app", "--password=x", "--token-count=5"]);
    let built = match Scrubber::new(&ScrubOptions::default()) {
        Ok(scrubber) => scrubber,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(Scrubber::default().scrub(&argv), built.scrub(&argv));
}

#[test]
fn odd_input_never_panics() {
    check(
        &Scrubber::default(),
        &[
            ("empty argv", &[], &[]),
            ("empty strings", &["", "", ""], &["", "", ""]),
            (
                "non-ASCII value",
                &["app", "--PASSWORD=日本語"],
                &["app", "--PASSWORD=********"],
            ),
            (
                "non-ASCII key",
                &["app", "--ключ=значение", "İ=x"],
                &["app", "--ключ=значение", "İ=x"],
            ),
            (
                "separators alone",
                &[
                    "app", "=", "-", ":", "--", "://", "a://", "://@", "a://@", "@", "?", "#&;",
                ],
                &[
                    "app", "=", "-", ":", "--", "://", "a://", "://@", "a://@", "@", "?", "#&;",
                ],
            ),
            (
                "lone quotes and escapes",
                &["sh", "-c", "' \" \\"],
                &["sh", "-c", "' \" \\"],
            ),
            (
                "escape before non-ASCII",
                &["sh", "-c", "a \\é b"],
                &["sh", "-c", "a \\é b"],
            ),
            (
                "trailing escape",
                &["sh", "-c", "x \\"],
                &["sh", "-c", "x \\"],
            ),
        ],
    );
}

#[test]
fn huge_and_adversarial_arguments_are_scrubbed_without_panicking() {
    // Speed is a benchmark's business, not a test's: here only the outcome is checked.
    const SIZE: usize = 1 << 16;
    let scrubber = scrubber_with(&["*a*b*c*d*e*"]);
    let patterns = [
        "a",
        "A",
        "a:",
        "a=",
        "a://",
        "://",
        "x://u:p@",
        "-",
        "'",
        "\"'",
        " password",
        "?password=",
        "&a",
        "é",
        "ab",
        " a=",
        "\\",
        "<a x=",
        "<a x=\"<",
        "<password>",
        "<a key='password' ",
        "{\"a\": ",
        "password = ",
        "a:b@c ",
        "a=1,b=http://x,",
        "('password', ",
        "auth:\n ",
        "p'a'=",
        "<password><![CDATA[",
    ];
    for pattern in patterns {
        let arg = pattern.repeat(SIZE / pattern.len());
        let argv = vec!["sh".to_owned(), "-c".to_owned(), arg.clone(), arg];
        let scrubbed = scrubber.scrub(&argv);
        assert_eq!(scrubbed.len(), argv.len(), "elements kept for {pattern:?}");
    }
}

#[test]
fn fuzz_found_inputs_do_not_panic() {
    let scrubber = Scrubber::new(&ScrubOptions::default()).unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["env", "cf=/curl", "-"],
        vec![
            "env",
            "--password-file=/run/curl",
            "-u\u{1}",
            "-u\u{1}",
            "s",
            "",
        ],
    ];
    for argv in cases {
        let argv: Vec<String> = argv.into_iter().map(str::to_owned).collect();
        let out = scrubber.scrub(&argv);
        assert_eq!(out.len(), argv.len());
    }
}

#[test]
fn a_quoted_value_followed_by_more_text_is_hidden_whole() {
    // Found by fuzzing: to a program, everything after `=` is the password, quotes and all.
    check(
        &Scrubber::default(),
        &[
            (
                "quote, space, more text",
                &["app", "--password='a b' && curl"],
                &["app", "--password=********"],
            ),
            (
                "quote then carriage returns",
                &["app", "--password=  'x\r'\r\r"],
                &["app", "--password=  ********"],
            ),
            (
                "in a JSON list a space ends the entry",
                &["app", "{\"password\": \"x\" , \"port\": 1}"],
                &["app", "{\"password\": \"********\" , \"port\": 1}"],
            ),
        ],
    );
}

#[test]
fn options_after_a_wrapper_are_scrubbed_even_when_they_look_like_a_program_path() {
    let scrubber = Scrubber::new(&ScrubOptions::default()).unwrap();
    for value in ["cf=/curl", "/curl", "s/curl", "x"] {
        let argv = vec!["env".to_owned(), format!("--password={value}")];
        assert_eq!(
            scrubber.scrub(&argv)[1],
            format!("--password={MASK}"),
            "{value}"
        );
        let argv = vec!["env".to_owned(), "--password".to_owned(), value.to_owned()];
        assert_eq!(scrubber.scrub(&argv)[2], MASK, "{value}");
    }
}

#[test]
fn names_and_executables_lose_secrets_but_keep_their_shape() {
    let scrubber = Scrubber::default();
    let names: &[(&str, &str)] = &[
        ("PASSWORD=hunte", "PASSWORD=********"),
        ("FOO=bar", "FOO=********"),
        ("app --token=ab", "app --token=********"),
        ("mysql -phunter", "mysql -p********"),
        ("kworker/0:1-ev", "kworker/0:1-ev"),
        ("tmux: server", "tmux: server"),
        ("(sd-pam)", "(sd-pam)"),
    ];
    for &(name, expected) in names {
        assert_eq!(scrubber.scrub_name(name), expected, "name {name:?}");
    }
    let exes: &[(&str, &str)] = &[
        ("/tmp/x/PASSWORD=hunter2", "/tmp/x/PASSWORD=********"),
        ("/tmp/x/FOO=bar", "/tmp/x/FOO=********"),
        ("/opt/token=abc/bin/app", "/opt/token=********/bin/app"),
        ("/data/dt=2024/bin/app", "/data/dt=2024/bin/app"),
        ("/usr/bin/python3.11", "/usr/bin/python3.11"),
        ("/tmp/PASSWORD:hunter2", "/tmp/PASSWORD:********"),
        (
            "/opt/api_token:abc123/bin/app",
            "/opt/api_token:********/bin/app",
        ),
        ("/tmp/x/user:hunter2@db", "/tmp/x/user:********@db"),
        (
            "/usr/lib/systemd/systemd-journald",
            "/usr/lib/systemd/systemd-journald",
        ),
        ("/opt/app:v2/bin/app", "/opt/app:v2/bin/app"),
    ];
    for &(exe, expected) in exes {
        assert_eq!(scrubber.scrub_exe(exe), expected, "exe {exe:?}");
    }
    let off = match Scrubber::new(&ScrubOptions {
        scrub_args: false,
        ..ScrubOptions::default()
    }) {
        Ok(scrubber) => scrubber,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(off.scrub_name("PASSWORD=hunte"), "PASSWORD=hunte");
    assert_eq!(off.scrub_exe("/tmp/PASSWORD=x"), "/tmp/PASSWORD=x");
}

#[test]
fn a_password_made_of_operator_characters_is_hidden() {
    // Found by fuzzing: `--password &` in an argv kept `&`, read as code's operator.
    let scrubber = Scrubber::default();
    for value in ["&", "&&", "|", "||", "!!", "?", "*+*"] {
        let argv: Vec<String> = ["app", "--password", value]
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(scrubber.scrub(&argv)[2], MASK, "{value}");
    }
    // In code split at whitespace an operator still says there was no value.
    let code = ["perl", "-e", "print 1 if $PASSWORD == 0"].map(str::to_owned);
    assert_eq!(scrubber.scrub(&code), code.to_vec());
}

#[test]
fn a_blank_title_is_the_program_and_what_follows_its_arguments() {
    // Found by fuzzing: after an argv[0] of only whitespace, `--password=a\nb` was read as a
    // program word and split at its newline, leaving `b` shown.
    let scrubber = Scrubber::default();
    for title in ["", "\u{b}", " "] {
        let argv = [title, "--password=abc\n\n?a#i_key=#."].map(str::to_owned);
        assert_eq!(
            scrubber.scrub(&argv)[1],
            format!("--password={MASK}"),
            "{title:?}"
        );
    }
}

#[test]
fn a_bare_word_after_a_password_flag_is_its_value_even_when_an_option_is_named_so() {
    // Found by fuzzing: under sqlplus, whose `userid=` option is written key=value, a bare
    // `userid` after `--password` was taken for an option and shown.
    let scrubber = Scrubber::default();
    let argv = ["sqlplus", "--password", "userid"].map(str::to_owned);
    assert_eq!(scrubber.scrub(&argv)[2], MASK);
}
