//! The PostgreSQL front door (`bind … proto pgsql`) through a failover, on the real
//! binary in front of a real PostgreSQL 15 primary and two streaming replicas, with the
//! role-aware `option pgsql-check`:
//!
//! - under load (`pgbench` in short rounds: tpcb-like on the write door, select-only on
//!   the read door, a token as the password) the primary is stopped and a replica
//!   promoted with `pg_ctl promote`: the write door serves again within
//!   `fall × inter` + 1 s with the same client command, the read door serves throughout
//!   (a replica stays up), and the log shows the servers' state changes;
//! - with `on-marked-down shutdown-sessions`, a session to a server its checks mark
//!   down is told `57P01` (admin_shutdown) in an `ErrorResponse` before the close, as
//!   PostgreSQL tells its own sessions; without the keyword it goes on.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use mint::{Signer, jwks, now};
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::pg_cluster::{self, APP_RW_PASSWORD, CHECKER_PASSWORD, DATABASE, PgCluster};
use support::services::service_bin;
use support::*;
use tokio_postgres::error::SqlState;

/// `inter` of every check, in ms.
const INTER: u64 = 200;
/// `rise` and `fall` of every server.
const RISE_FALL: u64 = 2;

const CFG: &str = r#"global
  log stderr format raw local0
defaults
  mode tcp
  log global
  # A connection refused by a server that just died is retried after min(timeout
  # connect, 1 s), 3 times: a short timeout keeps a client arriving then waiting less.
  timeout connect 200ms
  timeout client 30s
  timeout server 30s
  timeout check 2s
identity corp
  issuer https://idp.example.com
  audience pg
  jwks-file jwks.json
credentials app_rw
  user app_rw
  password "{rw_password}"
credentials checker
  user checker
  password "{checker_password}"
frontend pg
  bind 127.0.0.1:{rw} proto pgsql
  bind 127.0.0.1:{ro} proto pgsql
  tcp-request content authenticate corp
  tcp-request content set-credentials app_rw
  use_backend pg_replicas if { dst_port {ro} }
  default_backend pg_primary
backend pg_primary
  option pgsql-check user checker credentials checker role primary
  default-server check inter {inter} rise {rise_fall} fall {rise_fall} {primary_extra}
  server db1 {db1}
  server db2 {db2}
  server db3 {db3}
backend pg_replicas
  balance roundrobin
  option pgsql-check user checker credentials checker role replica
  default-server check inter {inter} rise {rise_fall} fall {rise_fall}
  server db1 {db1} backup
  server db2 {db2}
  server db3 {db3}
"#;

/// The configuration in front of `db1` (the primary), `db2` and `db3`.
fn config(db1: String, db2: String, db3: String, primary_extra: &str) -> Config {
    Config::new(CFG)
        .listen_port("rw")
        .listen_port("ro")
        .var("db1", db1)
        .var("db2", db2)
        .var("db3", db3)
        .var("inter", INTER)
        .var("rise_fall", RISE_FALL)
        .var("primary_extra", primary_extra)
        .var("rw_password", APP_RW_PASSWORD)
        .var("checker_password", CHECKER_PASSWORD)
}

/// A token of `alice`, signed with `key`, valid for 10 minutes.
fn token(key: &Signer) -> String {
    let t = now();
    key.sign(&json!({
        "iss": "https://idp.example.com", "aud": "pg", "sub": "alice",
        "groups": ["dba"], "iat": t - 10, "exp": t + 600,
    }))
}

/// Waits for the first log line of `d` containing `what`; returns it.
fn logged(d: &Daemon, what: &str) -> String {
    let mut found = String::new();
    let ok = wait_until(Duration::from_secs(20), || {
        match d.stderr().lines().find(|l| l.contains(what)) {
            Some(l) => {
                found = l.to_owned();
                true
            }
            None => false,
        }
    });
    assert!(ok, "no {what:?} in:\n{}", d.stderr());
    found
}

/// One `pgbench` run: when it started and ended, and how many transactions it did
/// (0 when it failed).
#[derive(Debug)]
struct Round {
    start: Instant,
    end: Instant,
    done: u64,
    output: String,
}

/// `pgbench -T 1` through 127.0.0.1:`port` as `alice` with `password`; `extra` adds
/// options (e.g. `-S`, select-only).
fn pgbench(port: u16, password: &str, extra: &[&str]) -> Round {
    let start = Instant::now();
    let out = Command::new(service_bin("pgbench"))
        .args(["-n", "-T", "1", "-c", "2", "-j", "1", "-h", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-U", "alice"])
        .args(extra)
        .arg(DATABASE)
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5")
        .stdin(Stdio::null())
        .output()
        .expect("run pgbench");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let done = if out.status.success() {
        output
            .lines()
            .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
            .and_then(|n| n.split('/').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    Round {
        start,
        end: Instant::now(),
        done,
        output,
    }
}

/// The rounds of one [`load`], shared with the test.
type Rounds = Arc<Mutex<Vec<Round>>>;

/// `pgbench` rounds one after the other until `stop`: pgbench does not reconnect, a
/// new round does (with the same command).
fn load(
    port: u16,
    password: String,
    extra: &'static [&'static str],
    stop: Arc<AtomicBool>,
) -> (Rounds, JoinHandle<()>) {
    let rounds = Rounds::default();
    let out = rounds.clone();
    let t = std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let r = pgbench(port, &password, extra);
            let failed = r.done == 0;
            out.lock().unwrap().push(r);
            if failed {
                // A failed round ends at once (no server): do not spin.
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    });
    (rounds, t)
}

/// Whether a round that started after `t` committed transactions.
fn served_after(rounds: &Rounds, t: Instant) -> bool {
    rounds
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.start > t && r.done > 0)
}

#[test]
fn under_pgbench_load_the_write_door_follows_a_promoted_replica_and_the_read_door_keeps_serving() {
    let mut c = PgCluster::start();
    let db3 = c.add_replica();
    // pgbench's tables, made on the primary by their owner, streamed to the replicas.
    let init = Command::new(service_bin("pgbench"))
        .args(["-i", "-q", "-s", "1", "-h", "127.0.0.1"])
        .args([
            "-p",
            &c.primary.port().to_string(),
            "-U",
            "app_rw",
            DATABASE,
        ])
        .env("PGPASSWORD", APP_RW_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    for r in [&c.replica, &db3] {
        assert!(
            wait_until(DEFAULT_TIMEOUT, || pg_cluster::query(
                r,
                DATABASE,
                "SELECT count(*) FROM pgbench_branches"
            )
            .trim()
                == "1"),
            "pgbench tables not on the replica"
        );
    }
    let key = Signer::ec("k1");
    let cfg = config(c.primary.addr(), c.replica.addr(), db3.addr(), "");
    let gh = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_ports(&cfg.listen_ports())
        .start();
    logged(&gh, "Server pg_primary/db2 is DOWN");
    logged(&gh, "Server pg_primary/db3 is DOWN");

    let stop = Arc::new(AtomicBool::new(false));
    let (writes, w) = load(cfg.port("rw"), token(&key), &[], stop.clone());
    let (reads, r) = load(cfg.port("ro"), token(&key), &["-S"], stop.clone());
    let t = Instant::now();
    assert!(
        wait_until(Duration::from_secs(20), || served_after(&writes, t)
            && served_after(&reads, t)),
        "no round worked before the failover"
    );

    // Failover: the primary stops (immediate shutdown), db2 is promoted.
    c.stop_primary();
    let stopped = Instant::now();
    c.promote();
    let promoted = Instant::now();
    // The same command writes again, to the promoted server.
    assert!(
        wait_until(Duration::from_secs(20), || served_after(&writes, stopped)),
        "no write round worked after the failover: {:#?}",
        writes.lock().unwrap()
    );
    // The read door loses db2 (now a primary) and goes on with db3.
    logged(&gh, "Server pg_replicas/db2 is DOWN");
    let later = Instant::now();
    assert!(
        wait_until(Duration::from_secs(20), || served_after(&reads, later)),
        "the read door stopped serving"
    );
    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();
    r.join().unwrap();
    let writes = writes.lock().unwrap();
    let reads = reads.lock().unwrap();

    // Timing: from the promotion to the start of the first write round that worked.
    let first = writes
        .iter()
        .find(|w| w.start > stopped && w.done > 0)
        .unwrap();
    let took = first.start.saturating_duration_since(promoted);
    let bound = Duration::from_millis(RISE_FALL * INTER + 1000);
    eprintln!("writes served again {took:?} after the promotion");
    assert!(
        took <= bound,
        "writes served again {took:?} after the promotion (> {bound:?}): {writes:#?}"
    );
    // The write rounds between the stop and the new primary failed at once (the
    // client was told there is no server, it did not hang).
    let between: Vec<&Round> = writes
        .iter()
        .filter(|w| w.start > stopped && w.start < first.start)
        .collect();
    assert!(
        between
            .iter()
            .all(|w| w.done == 0 && w.end - w.start < Duration::from_secs(3)),
        "{:#?}",
        between.iter().map(|w| &w.output).collect::<Vec<_>>()
    );
    // The read door served throughout: every round committed transactions, one ran
    // while the write door had no server, and others started after the stop.
    let failed: Vec<&Round> = reads.iter().filter(|r| r.done == 0).collect();
    assert!(failed.is_empty(), "read rounds failed: {failed:#?}");
    assert!(
        reads
            .iter()
            .any(|r| r.end > stopped && r.start < first.start),
        "{reads:#?}"
    );
    assert!(reads.iter().any(|r| r.start > stopped), "{reads:#?}");
    // The log shows the state changes.
    let down = logged(&gh, "Server pg_primary/db1 is DOWN");
    assert!(down.contains("Layer4 connection problem"), "{down}");
    let up = logged(&gh, "Server pg_primary/db2 is UP");
    assert!(up.contains("PostgreSQL server is ok (primary)"), "{up}");
    let down = logged(&gh, "Server pg_replicas/db2 is DOWN");
    assert!(
        down.contains("is a primary (pg_is_in_recovery() is false), not a replica"),
        "{down}"
    );
    logged(&gh, "Server pg_replicas/db1 is DOWN");
    // db3 stays a replica, up for reads and down for writes.
    assert!(!gh.stderr().contains("Server pg_replicas/db3 is DOWN"));
    assert!(!gh.stderr().contains("Server pg_primary/db3 is UP"));
}

/// A `tokio-postgres` session through the door on `port` as `alice` with `token`.
async fn session(port: u16, token: &str) -> tokio_postgres::Client {
    let conninfo =
        format!("host=127.0.0.1 port={port} user=alice dbname={DATABASE} connect_timeout=10");
    let mut cfg: tokio_postgres::Config = conninfo.parse().unwrap();
    let (client, conn) = cfg
        .password(token)
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

#[test]
fn a_session_to_a_server_marked_down_is_told_57p01_with_shutdown_sessions() {
    let c = PgCluster::start();
    let key = Signer::ec("k1");
    // The write door's backend has the keyword, the read door's not; both send to the
    // primary (db2 and db3 are never up: the primary, a backup, serves the reads).
    let cfg = config(
        c.primary.addr(),
        "127.0.0.1:1".into(),
        "127.0.0.1:1".into(),
        "on-marked-down shutdown-sessions",
    );
    let gh = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_ports(&cfg.listen_ports())
        .start();
    for s in [
        "pg_primary/db2",
        "pg_primary/db3",
        "pg_replicas/db2",
        "pg_replicas/db3",
    ] {
        logged(&gh, &format!("Server {s} is DOWN"));
    }
    // Two workers: the sessions run while the test thread waits on the server.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t = token(&key);
        let killed = session(cfg.port("rw"), &t).await;
        let kept = session(cfg.port("ro"), &t).await;
        let killed = tokio::spawn(async move {
            let r = killed.simple_query("SELECT pg_sleep(30)").await;
            let after = killed.simple_query("SELECT 1").await;
            (r.err(), after.is_err())
        });
        let kept = tokio::spawn(async move {
            let r = kept.simple_query("SELECT pg_sleep(4)").await;
            r.map(|_| ())
        });
        let sleeping = || {
            pg_cluster::query(
                &c.primary,
                "postgres",
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(%'",
            )
            .trim()
                == "2"
        };
        assert!(
            wait_until(Duration::from_secs(20), sleeping),
            "sessions not running"
        );
        // The check role may no longer log in: db1 fails its checks while serving.
        pg_cluster::psql(&c.primary, "postgres", "ALTER ROLE checker NOLOGIN");
        let t0 = Instant::now();
        let (err, closed) = killed.await.unwrap();
        let e = err.expect("the session was ended");
        assert_eq!(e.code(), Some(&SqlState::ADMIN_SHUTDOWN), "{e}");
        assert!(closed, "the connection still serves");
        assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
        logged(&gh, "Server pg_primary/db1 is DOWN");
        // Without the keyword, the session finishes its query.
        kept.await
            .unwrap()
            .expect("the session without the keyword goes on");
    });
    logged(&gh, "Server pg_replicas/db1 is DOWN");
}
