//! `option pgsql-check user NAME credentials NAME role primary|replica` against a real
//! PostgreSQL 15 primary and its streaming replica (`tests/support/pg_cluster.rs`,
//! SCRAM-SHA-256 required by `pg_hba.conf`), in plain `mode tcp` with `psql` as the
//! client: the checks log in with SCRAM and ask `pg_is_in_recovery()`, so the primary
//! backend sends to the primary only and the replicas backend to the replica only;
//! after a failover (primary stopped, replica promoted with `pg_ctl promote`) the
//! primary backend follows the new primary within `rise × inter` and the replicas
//! backend stops sending to it; a refused check user is DOWN with the server's reason;
//! and HAProxy's own `option pgsql-check user NAME` behaves as HAProxy 2.6's on the same
//! SCRAM-only server.

mod support;

use std::time::{Duration, Instant};
use support::log_line::{durations_n, log_message};
use support::pg_cluster::*;
use support::{Daemon, Gatehouse, Haproxy, free_port, wait_until};

/// `inter` of every check, in ms.
const INTER: u64 = 200;
/// `rise` and `fall` of every server.
const RISE_FALL: u64 = 2;

/// The configuration: a read-write door on `rw` to `pg_primary`, a read door on `ro` to
/// `pg_replicas`, both servers in both backends (`db1` the primary, `db2` the replica).
fn config(rw: u16, ro: u16, c: &PgCluster) -> String {
    let srv = |name: &str, port: u16, extra: &str| {
        format!(
            "    server {name} 127.0.0.1:{port} check inter {INTER} rise {RISE_FALL} fall {RISE_FALL}{extra}\n"
        )
    };
    let (p, r) = (c.primary.port(), c.replica.port());
    format!(
        "global\n    log stderr format raw local0\n\
         defaults\n    mode tcp\n    log global\n    timeout connect 1s\n    timeout client 30s\n\
         \x20   timeout server 30s\n    timeout check 2s\n\
         credentials checker\n    user checker\n    password \"{CHECKER_PASSWORD}\"\n\
         frontend rw\n    bind 127.0.0.1:{rw}\n    default_backend pg_primary\n\
         frontend ro\n    bind 127.0.0.1:{ro}\n    default_backend pg_replicas\n\
         backend pg_primary\n    option pgsql-check user checker credentials checker role primary database {DATABASE}\n{}{}\
         backend pg_replicas\n    balance leastconn\n    option pgsql-check user checker credentials checker role replica\n{}{}",
        srv("db1", p, ""),
        srv("db2", r, ""),
        srv("db1", p, " backup"),
        srv("db2", r, ""),
    )
}

/// The message of the first log line that contains `who`, waited for; its check
/// duration made `Nms`.
fn change(d: &Daemon, who: &str) -> String {
    let found = d.wait_stderr_line(Duration::from_secs(20), |l| l.contains(who));
    assert!(found.is_some(), "no {who:?} in:\n{}", d.stderr());
    durations_n(log_message(&found.unwrap()))
}

/// `SELECT pg_is_in_recovery(), inet_server_port()` through the proxy's `port` with
/// `psql` as `app_ro` (SCRAM end to end: the proxy is a byte pump).
fn where_am_i(port: u16) -> Result<String, String> {
    psql_tcp(
        port,
        "app_ro",
        APP_RO_PASSWORD,
        DATABASE,
        "sslmode=disable",
        "SELECT pg_is_in_recovery() || ' ' || inet_server_port()",
    )
}

/// Waits until the cluster's server logs show `n` more check connections from the
/// proxy than `before` (a definite event: checks ran).
fn checks_ran(c: &PgCluster, before: usize, n: usize) {
    let count = || {
        c.primary
            .log()
            .matches("connection authorized: user=checker")
            .count()
            + c.replica
                .log()
                .matches("connection authorized: user=checker")
                .count()
    };
    assert!(
        wait_until(Duration::from_secs(20), || count() >= before + n),
        "fewer than {n} more check logins"
    );
}

#[test]
fn role_checks_send_writes_to_the_primary_and_reads_to_the_replica_and_follow_a_failover() {
    let mut c = PgCluster::start();
    let (p, r) = (c.primary.port(), c.replica.port());
    let (rw, ro) = (free_port(), free_port());
    let gh = Gatehouse::start(&config(rw, ro, &c), &[rw, ro]);

    // Each server is DOWN in the backend whose role it does not have, with the reason.
    assert_eq!(
        change(&gh, "Server pg_primary/db2 is DOWN"),
        "Server pg_primary/db2 is DOWN, reason: Layer7 wrong status, code: 0, info: \"PostgreSQL server is a replica (pg_is_in_recovery() is true), not a primary\", check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
    );
    // The primary is the replicas' backup: it stays up there (it serves reads only
    // when no replica is up); both checks log in with SCRAM.
    checks_ran(&c, 0, 4 * RISE_FALL as usize);
    let log = gh.stderr();
    for up in ["pg_primary/db1", "pg_replicas/db1", "pg_replicas/db2"] {
        assert!(
            !log.contains(&format!("Server {up} is DOWN")),
            "{up}:\n{log}"
        );
    }
    assert!(
        c.primary
            .log()
            .contains("connection authorized: user=checker database=shop"),
        "{}",
        c.primary.log()
    );
    // psql through the doors: the write door reaches the primary, the read door the
    // replica, every time.
    for _ in 0..3 {
        assert_eq!(where_am_i(rw), Ok(format!("false {p}")));
        assert_eq!(where_am_i(ro), Ok(format!("true {r}")));
    }
    // A write through the read door fails as on any replica.
    let e = psql_tcp(
        ro,
        "app_rw",
        APP_RW_PASSWORD,
        DATABASE,
        "",
        "INSERT INTO items (name) VALUES ('x')",
    )
    .unwrap_err();
    assert!(
        e.contains("cannot execute INSERT in a read-only transaction"),
        "{e}"
    );

    // Failover: the primary stops, the replica is promoted.
    c.stop_primary();
    c.promote();
    let promoted = Instant::now();
    // The primary backend follows the new primary within rise × inter (+ one check's
    // time and an interval of slack for a loaded machine).
    let up = change(&gh, "Server pg_primary/db2 is UP");
    let took = promoted.elapsed();
    let bound = Duration::from_millis(RISE_FALL * INTER + 2000 + INTER);
    assert!(
        took <= bound,
        "UP {took:?} after the promotion (> {bound:?})"
    );
    assert!(
        up.starts_with(
            "Server pg_primary/db2 is UP, reason: Layer7 check passed, code: 0, info: \"PostgreSQL server is ok (primary)\""
        ),
        "{up}"
    );
    let down = change(&gh, "Server pg_primary/db1 is DOWN");
    assert!(
        down.contains("Layer4 connection problem, info: \"Connection refused\""),
        "{down}"
    );
    // The replicas backend stops sending to the promoted server.
    let down = change(&gh, "Server pg_replicas/db2 is DOWN");
    assert!(
        down.contains(
            "info: \"PostgreSQL server is a primary (pg_is_in_recovery() is false), not a replica\""
        ),
        "{down}"
    );
    // psql, unchanged, reaches the new primary through the write door; writes work.
    assert_eq!(where_am_i(rw), Ok(format!("false {r}")));
    assert_eq!(
        psql_tcp(
            rw,
            "app_rw",
            APP_RW_PASSWORD,
            DATABASE,
            "",
            "INSERT INTO items (name) VALUES ('after failover') RETURNING name"
        ),
        Ok("after failover".into())
    );
    // The read door has no server left (no replica up, the old primary gone).
    change(&gh, "Server pg_replicas/db1 is DOWN");
    let e = where_am_i(ro).unwrap_err();
    assert!(e.contains("server closed the connection"), "{e}");
}

#[test]
fn a_refused_check_login_is_down_with_the_servers_reason() {
    let c = PgCluster::start();
    let port = free_port();
    let p = c.primary.port();
    let cfg = format!(
        "global\n    log stderr format raw local0\n\
         defaults\n    mode tcp\n    log global\n    timeout connect 1s\n    timeout client 5s\n\
         \x20   timeout server 5s\n    timeout check 2s\n\
         credentials wrong\n    user checker\n    password not-the-password\n\
         credentials blocked\n    user blocked\n    password blocked\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend bad_password\n\
         backend bad_password\n    option pgsql-check user checker credentials wrong role primary\n\
         \x20   server db 127.0.0.1:{p} check inter {INTER} fall 1\n\
         backend rejected\n    option pgsql-check user blocked credentials blocked\n\
         \x20   server db 127.0.0.1:{p} check inter {INTER} fall 1\n\
         backend no_password\n    option pgsql-check user checker role any\n\
         \x20   server db 127.0.0.1:{p} check inter {INTER} fall 1\n"
    );
    let gh = Gatehouse::start(&cfg, &[port]);
    // The session count is left out: the start-up probe of the frontend's port may
    // still hold a session to the server when the first check fails.
    let down = change(&gh, "Server bad_password/db is DOWN");
    assert!(
        down.starts_with(
            "Server bad_password/db is DOWN, reason: Layer7 wrong status, code: 0, info: \"FATAL 28P01: password authentication failed for user \\x22checker\\x22\", check duration: Nms. 0 active and 0 backup servers left. "
        ) && down.ends_with(" sessions active, 0 requeued, 0 remaining in queue."),
        "{down}"
    );
    let rejected = change(&gh, "Server rejected/db is DOWN");
    assert!(
        rejected.contains(
            "info: \"FATAL 28000: pg_hba.conf rejects connection for host \\x22127.0.0.1\\x22, user \\x22blocked\\x22, database \\x22postgres\\x22, no encryption\""
        ),
        "{rejected}"
    );
    // No credentials: the server asks for a password the check does not have.
    let none = change(&gh, "Server no_password/db is DOWN");
    assert!(
        none.contains(
            "info: \"FATAL 28P01: password authentication failed for user \\x22checker\\x22\""
        ),
        "{none}"
    );
    assert!(
        c.primary
            .log()
            .contains("password authentication failed for user \"checker\""),
        "{}",
        c.primary.log()
    );
}

#[test]
fn haproxys_pgsql_check_is_unchanged_on_a_scram_only_server() {
    support::require_haproxy();
    let c = PgCluster::start();
    let (a, b) = (free_port(), free_port());
    let cfg = |port: u16| {
        format!(
            "global\n    log stderr format raw local0\n\
             defaults\n    mode tcp\n    log global\n    timeout connect 1s\n    timeout client 5s\n\
             \x20   timeout server 5s\n    timeout check 1s\n\
             frontend fe\n    bind 127.0.0.1:{port}\n    default_backend pg\n\
             backend pg\n    option pgsql-check user checker\n\
             \x20   server db1 127.0.0.1:{} check inter {INTER} fall 1\n\
             \x20   server db2 127.0.0.1:{} check inter {INTER} fall 1\n",
            c.primary.port(),
            c.replica.port()
        )
    };
    let gh = Gatehouse::start(&cfg(a), &[a]);
    let hp = Haproxy::start(&cfg(b), &[b]);
    // The server answers the startup message with AuthenticationSASL: both proxies see
    // an authentication request and keep both servers up, role or not.
    let received = |c: &PgCluster| {
        c.primary.log().matches("connection received").count()
            + c.replica.log().matches("connection received").count()
    };
    let before = received(&c);
    assert!(
        wait_until(Duration::from_secs(20), || received(&c) >= before + 12),
        "the checks did not run"
    );
    for log in [gh.stderr(), hp.stderr()] {
        assert!(!log.contains("is DOWN"), "{log}");
    }
    // Both pass traffic to both servers (round robin).
    let mut ports = std::collections::BTreeSet::new();
    for _ in 0..4 {
        ports.insert(
            psql_tcp(
                a,
                "app_ro",
                APP_RO_PASSWORD,
                DATABASE,
                "",
                "SELECT inet_server_port()",
            )
            .unwrap(),
        );
    }
    assert_eq!(ports.len(), 2, "{ports:?}");
}

#[test]
fn a_role_check_asks_for_tls_first_when_the_server_line_has_ssl() {
    let pki = support::pki::Pki::get();
    let c = PgCluster::start();
    c.primary_tls(&pki.path("site.crt"), &pki.path("site.key"));
    let port = free_port();
    let p = c.primary.port();
    let ca = pki.p("ca.pem");
    let cfg = format!(
        "global\n    log stderr format raw local0\n\
         defaults\n    mode tcp\n    log global\n    timeout connect 1s\n    timeout client 5s\n\
         \x20   timeout server 5s\n    timeout check 2s\n\
         credentials checker\n    user checker\n    password \"{CHECKER_PASSWORD}\"\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend good\n\
         backend good\n    option pgsql-check user checker credentials checker role primary\n\
         \x20   option log-health-checks\n\
         \x20   server db 127.0.0.1:{p} check inter {INTER} fall 2 rise 1 ssl verify required ca-file {ca} verifyhost site.test\n\
         backend wrong_name\n    option pgsql-check user checker credentials checker role primary\n\
         \x20   server db 127.0.0.1:{p} check inter {INTER} fall 1 rise 1 ssl verify required ca-file {ca} verifyhost other.test\n"
    );
    let gh = Gatehouse::start(&cfg, &[port]);
    let down = change(&gh, "Server wrong_name/db is DOWN");
    assert!(
        down.contains("Layer6 invalid response, info: \"Server presented an SSL certificate different from the expected one\""),
        "{down}"
    );
    // The good server's checks log in over TLS (SSLRequest, then the handshake).
    assert!(
        wait_until(Duration::from_secs(20), || c.primary.log().lines().any(
            |l| l.contains("connection authorized: user=checker database=postgres SSL enabled")
        )),
        "{}",
        c.primary.log()
    );
    let ok = change(&gh, "Health check for server good/db succeeded");
    assert!(
        ok.contains(
            "reason: Layer7 check passed, code: 0, info: \"PostgreSQL server is ok (primary)\""
        ),
        "{ok}"
    );
    assert!(
        !gh.stderr().contains("Server good/db is DOWN"),
        "{}",
        gh.stderr()
    );
}
