//! The PostgreSQL front door (`bind … proto pgsql`) on the real binary in front of a real
//! PostgreSQL 15 primary and streaming replica (SCRAM-SHA-256 required), with real
//! clients: `psql` and the `tokio-postgres` driver. The client's password is a JWT
//! signed here with a key of the JWKS file; gatehouse logs in to the server with the
//! `credentials` its rules pick.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use mint::{Signer, jwks, now};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::pg_cluster::{self, APP_RO_PASSWORD, APP_RW_PASSWORD, DATABASE, PgCluster};
use support::*;
use tokio_postgres::error::SqlState;

const CFG: &str = r#"global
  log stdout format raw local0
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 60s
identity corp
  issuer https://idp.example.com
  audience pg
  jwks-file jwks.json
  audit-log audit.log
credentials app_rw
  user app_rw
  password "{rw_password}"
credentials app_ro
  user app_ro
  password "{ro_password}"
frontend pg
  log global
  log-format "%ci %f %b/%s %ts id=%[identity_sub] user=%[pgsql_user] db=%[pgsql_database] app=%[pgsql_param(application_name)] cred=%[pgsql_credentials]"
  {option}
  bind 127.0.0.1:{rw} proto pgsql {ssl}
  bind 127.0.0.1:{ro} proto pgsql {ssl}
  tcp-request content authenticate corp
  tcp-request content reject unless { identity_groups -m str dba dev }
  tcp-request content set-credentials app_rw if { identity_groups -m str dba }
  tcp-request content set-credentials app_ro
  use_backend pg_replicas if { dst_port {ro} }
  default_backend pg_primary
backend pg_primary
  server db1 {primary}
backend pg_replicas
  server db2 {replica}
"#;

struct Setup {
    proxy: Daemon,
    cfg: Config,
    cluster: PgCluster,
    key: Signer,
}

fn config(cluster: &PgCluster, option: &str, ssl: &str, rw_password: &str) -> Config {
    Config::new(CFG)
        .listen_port("rw")
        .listen_port("ro")
        .var("primary", cluster.primary.addr())
        .var("replica", cluster.replica.addr())
        .var("option", option)
        .var("ssl", ssl)
        .var("rw_password", rw_password)
        .var("ro_password", APP_RO_PASSWORD)
}

fn start_with(option: &str, ssl: &str) -> Setup {
    let cluster = PgCluster::start();
    let key = Signer::ec("k1");
    let cfg = config(&cluster, option, ssl, APP_RW_PASSWORD);
    let proxy = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_ports(&cfg.listen_ports())
        .start();
    Setup {
        proxy,
        cfg,
        cluster,
        key,
    }
}

fn claims(sub: &str, groups: &[&str], exp_in: i64) -> Value {
    let t = now();
    json!({
        "iss": "https://idp.example.com", "aud": "pg", "sub": sub,
        "email": format!("{sub}@example.com"), "groups": groups,
        "iat": t - 10, "exp": t + exp_in,
    })
}

impl Setup {
    fn token(&self, sub: &str, groups: &[&str]) -> String {
        self.key.sign(&claims(sub, groups, 300))
    }
    fn port(&self, door: &str) -> u16 {
        self.cfg.port(door)
    }
    /// The lines of the primary's log that say a client connected.
    fn primary_connections(&self) -> usize {
        self.cluster
            .primary
            .log()
            .matches("connection received")
            .count()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A `tokio-postgres` session through the door on `port` with `token` as password.
async fn connect(
    port: u16,
    user: &str,
    token: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let conninfo = format!(
        "host=127.0.0.1 port={port} user={user} dbname={DATABASE} application_name=report connect_timeout=10"
    );
    let mut cfg: tokio_postgres::Config = conninfo.parse().unwrap();
    let (client, conn) = cfg.password(token).connect(tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

async fn scalar(c: &tokio_postgres::Client, sql: &str) -> String {
    let row = c.query_one(sql, &[]).await.expect(sql);
    match row.try_get::<_, String>(0) {
        Ok(s) => s,
        Err(_) => row.get::<_, bool>(0).to_string(),
    }
}

fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.code()
        .map(|c| c.code().to_owned())
        .unwrap_or_else(|| format!("no SQLSTATE: {e}"))
}

#[test]
fn tokens_pick_the_credentials_the_doors_reach_primary_and_replica_and_refusals_carry_their_sqlstate()
 {
    let s = start_with("", "");
    let rt = runtime();
    rt.block_on(async {
        // dba → app_rw on the primary; dev → app_ro; the client's user is kept in logs.
        let dba = connect(s.port("rw"), "alice", &s.token("alice", &["dba"]))
            .await
            .expect("dba logs in");
        assert_eq!(scalar(&dba, "SELECT current_user::text").await, "app_rw");
        assert_eq!(
            scalar(&dba, "SELECT current_database()::text").await,
            DATABASE
        );
        assert_eq!(scalar(&dba, "SELECT pg_is_in_recovery()").await, "false");
        dba.execute("INSERT INTO items (name) VALUES ('from-gatehouse')", &[])
            .await
            .expect("the write door writes");
        let dev = connect(s.port("rw"), "bob", &s.token("bob", &["dev"]))
            .await
            .expect("dev logs in");
        assert_eq!(scalar(&dev, "SELECT current_user::text").await, "app_ro");
        // The read door reaches the replica; a write fails there as on any replica.
        let ro = connect(s.port("ro"), "alice", &s.token("alice", &["dba"]))
            .await
            .expect("read door");
        assert_eq!(scalar(&ro, "SELECT pg_is_in_recovery()").await, "true");
        let e = ro
            .execute("INSERT INTO items (name) VALUES ('nope')", &[])
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION), "{e}");

        // Refusals: nothing reaches the server.
        let before = s.primary_connections();
        let cases: Vec<(&str, String, &str)> = vec![
            ("no group", s.token("carol", &["sales"]), "28000"),
            (
                "expired",
                s.key.sign(&claims("alice", &["dba"], -600)),
                "28P01",
            ),
            (
                "another key",
                Signer::ec("k1").sign(&claims("alice", &["dba"], 300)),
                "28P01",
            ),
            ("a plain password", APP_RW_PASSWORD.to_owned(), "28P01"),
        ];
        for (why, token, code) in cases {
            let e = connect(s.port("rw"), "alice", &token).await.err();
            let e = e.unwrap_or_else(|| panic!("{why}: logged in"));
            assert_eq!(sqlstate(&e), code, "{why}: {e}");
        }
        assert_eq!(
            s.primary_connections(),
            before,
            "refused sessions reached the server"
        );
        drop((dba, dev, ro));
    });
    // Ends the sessions (their connection tasks live in the runtime): their log lines
    // are written at their end.
    drop(rt);
    // psql: the same token as PGPASSWORD.
    let out = pg_cluster::psql_tcp(
        s.port("rw"),
        "alice",
        &s.token("alice", &["dba"]),
        DATABASE,
        "",
        "SELECT current_user",
    );
    assert_eq!(out.as_deref(), Ok("app_rw"));
    let err = pg_cluster::psql_tcp(
        s.port("rw"),
        "alice",
        "not-a-token",
        DATABASE,
        "",
        "SELECT 1",
    )
    .unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    // The log line names the identity, the client's user and database, and credentials.
    let lines = s.proxy.wait_stdout_lines("cred=app_rw", 3, DEFAULT_TIMEOUT);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("id=alice user=alice db=shop app=report")),
        "{lines:?}"
    );
    assert!(
        s.proxy
            .wait_stdout_lines("id=bob", 1, DEFAULT_TIMEOUT)
            .iter()
            .any(|l| l.contains("cred=app_ro")),
        "{}",
        s.proxy.stdout()
    );
}

#[test]
fn a_cancel_through_the_proxy_stops_pg_sleep_with_57014() {
    let s = start_with("", "");
    runtime().block_on(async {
        let c = connect(s.port("rw"), "alice", &s.token("alice", &["dba"]))
            .await
            .unwrap();
        let cancel = c.cancel_token();
        let sleeper = tokio::spawn(async move {
            let t0 = Instant::now();
            let r = c.simple_query("SELECT pg_sleep(30)").await;
            (r.err(), t0)
        });
        // Wait until the server runs the statement.
        let primary = &s.cluster.primary;
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        while !pg_cluster::query(
            primary,
            DATABASE,
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'",
        )
        .trim()
        .eq("1")
        {
            assert!(Instant::now() < deadline, "pg_sleep never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let asked = Instant::now();
        cancel
            .cancel_query(tokio_postgres::NoTls)
            .await
            .expect("cancel request through gatehouse");
        let (err, _) = sleeper.await.unwrap();
        let e = err.expect("the query was cancelled");
        assert_eq!(e.code(), Some(&SqlState::QUERY_CANCELED), "{e}");
        assert!(asked.elapsed() < Duration::from_secs(2), "{:?}", asked.elapsed());
    });
}

#[test]
fn connects_statements_and_disconnects_are_chained_in_the_audit_log() {
    let s = start_with("option pgsql-audit-statements max-length 20", "");
    runtime().block_on(async {
        let c = connect(s.port("rw"), "alice", &s.token("alice", &["dba"]))
            .await
            .unwrap();
        c.simple_query("SELECT 'simple protocol statement'")
            .await
            .unwrap();
        c.query("SELECT $1::int + 1", &[&41i32]).await.unwrap();
        drop(c);
        let _ = connect(s.port("rw"), "eve", &s.token("eve", &["sales"])).await;
    });
    let file = s.proxy.dir().join("audit.log");
    let text = || std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        wait_until(DEFAULT_TIMEOUT, || text()
            .contains("\"event\":\"disconnect\"")
            && text().matches("\"event\":\"connect\"").count() >= 2),
        "{}",
        text()
    );
    let lines: Vec<Value> = text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let connect = lines
        .iter()
        .find(|l| l["event"] == "connect" && l["sub"] == "alice")
        .unwrap();
    assert_eq!(connect["credentials"], "app_rw");
    assert_eq!(connect["user"], "alice");
    assert_eq!(connect["database"], DATABASE);
    assert_eq!(connect["backend"], "pg_primary");
    assert_eq!(connect["server"], "db1");
    assert_eq!(connect["decision"], "allow");
    let texts: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "statement")
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"SELECT 'simple proto"), "{texts:?}");
    assert!(texts.contains(&"SELECT $1::int + 1"), "{texts:?}");
    let denied = lines.iter().find(|l| l["sub"] == "eve").unwrap();
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["sqlstate"], "28000");
    let verify = |path: &std::path::Path| {
        std::process::Command::new(gatehouse_bin())
            .args(["audit", "verify"])
            .arg(path)
            .output()
            .unwrap()
    };
    let ok = verify(&file);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let edited = s.proxy.dir().join("edited.log");
    std::fs::write(&edited, text().replacen("app_rw", "app_ro", 1)).unwrap();
    let bad = verify(&edited);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("the line was modified"),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
}

#[test]
fn a_reload_rotating_the_password_keeps_sessions_and_logs_new_ones_in() {
    let mut s = start_with("", "");
    runtime().block_on(async {
        let old = connect(s.port("rw"), "alice", &s.token("alice", &["dba"]))
            .await
            .unwrap();
        pg_cluster::psql(
            &s.cluster.primary,
            "postgres",
            "ALTER ROLE app_rw PASSWORD 'rotated-Secret-9'",
        );
        let cfg = config(&s.cluster, "", "", "rotated-Secret-9")
            .var("rw", s.port("rw"))
            .var("ro", s.port("ro"));
        std::fs::write(s.proxy.config_path(), cfg.render()).unwrap();
        s.proxy.signal(libc::SIGUSR2);
        // The new credentials are in use once a new session logs in.
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        let fresh = loop {
            match connect(s.port("rw"), "alice", &s.token("alice", &["dba"])).await {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "no login after reload: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        assert_eq!(scalar(&fresh, "SELECT current_user::text").await, "app_rw");
        assert_eq!(scalar(&old, "SELECT current_user::text").await, "app_rw");
    });
}

#[test]
fn tls_on_the_client_side_with_sslmode_require_and_verify_full() {
    let pki = pki::Pki::get();
    let s = start_with("", &format!("ssl crt {}", pki.p("site.pem")));
    let token = s.token("alice", &["dba"]);
    let out = pg_cluster::psql_tcp(
        s.port("rw"),
        "alice",
        &token,
        DATABASE,
        "sslmode=require",
        "SELECT current_user || ' ' || (SELECT count(*) FROM items)::text",
    );
    assert!(
        out.as_deref().is_ok_and(|o| o.starts_with("app_rw ")),
        "{out:?}"
    );
    let full = format!(
        "sslmode=verify-full sslrootcert={} host=site.test hostaddr=127.0.0.1",
        pki.p("ca.pem")
    );
    let out = pg_cluster::psql_tcp(s.port("ro"), "alice", &token, DATABASE, &full, "SELECT 1");
    assert_eq!(out.as_deref(), Ok("1"));
    // verify-full checks the name: the certificate is not for another host.
    let other = full.replace("host=site.test", "host=other.test");
    let err = pg_cluster::psql_tcp(s.port("ro"), "alice", &token, DATABASE, &other, "SELECT 1")
        .unwrap_err();
    assert!(err.contains("does not match host name"), "{err}");
    // A loopback client that insists on cleartext may still log in (the token travels
    // in the clear only on loopback: see config_checks_warn_about_cleartext…).
    let err = pg_cluster::psql_tcp(
        s.port("rw"),
        "alice",
        &token,
        DATABASE,
        "sslmode=disable",
        "SELECT 1",
    );
    assert_eq!(err.as_deref(), Ok("1"));
}

#[test]
fn config_checks_warn_about_cleartext_and_refuse_bad_rules() {
    let dir = TempDir::new("pgsql-cfg");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let base = "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
                identity corp\n  issuer https://idp.example.com\n  audience pg\n  jwks-file /dev/null\n\
                credentials app\n  user app\n  password x\nbackend db\n  server s 127.0.0.1:5432\n";
    let ok = write(
        "ok.cfg",
        &format!(
            "{base}frontend pg\n  bind 127.0.0.1:6432 proto pgsql\n  tcp-request content authenticate corp\n  tcp-request content set-credentials app\n  default_backend db\n"
        ),
    );
    let (code, out, err) = check(&gatehouse_bin(), &[&ok]);
    let all = format!("{out}{err}");
    assert_eq!(code, 0, "{all}");
    assert!(
        all.contains("[WARNING]") && all.contains("proto pgsql' without 'ssl'"),
        "{all}"
    );
    let bad = write(
        "bad.cfg",
        &format!(
            "{base}frontend pg\n  bind 127.0.0.1:6432\n  tcp-request content set-credentials nope\n  default_backend db\n"
        ),
    );
    let (code, out, err) = check(&gatehouse_bin(), &[&bad]);
    let all = format!("{out}{err}");
    assert_ne!(code, 0);
    assert!(all.contains("bad.cfg:"), "{all}");
    assert!(all.contains("needs a 'bind … proto pgsql'"), "{all}");
    let mixed = write(
        "mixed.cfg",
        &format!(
            "{base}frontend pg\n  bind 127.0.0.1:6432 proto pgsql ssl crt /nonexistent.pem\n  bind 127.0.0.1:6433\n  default_backend db\n"
        ),
    );
    let (code, out, err) = check(&gatehouse_bin(), &[&mixed]);
    assert_ne!(code, 0);
    assert!(
        format!("{out}{err}").contains("mixes 'bind … proto pgsql'"),
        "{out}{err}"
    );
    let h2 = write(
        "h2.cfg",
        &format!("{base}frontend pg\n  bind 127.0.0.1:6432 proto h2\n  default_backend db\n"),
    );
    let (code, out, err) = check(&gatehouse_bin(), &[&h2]);
    assert_ne!(code, 0);
    // As HAProxy: HTTP/2 is not usable on a `mode tcp` bind.
    assert!(
        format!("{out}{err}").contains("MUX protocol 'h2' is not usable"),
        "{out}{err}"
    );
}

#[test]
fn during_a_soft_stop_new_sessions_are_told_57p01() {
    // No database needed: the refusal comes before any server is chosen.
    let cfg = Config::new(
        "global\n  grace 20s\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend pg\n  bind 127.0.0.1:{port} proto pgsql\n  default_backend db\n\
         backend db\n  server s 127.0.0.1:1\n",
    )
    .listen_port("port");
    let mut g = Gatehouse::builder(&cfg.render())
        .wait_ports(&cfg.listen_ports())
        .start();
    g.signal(libc::SIGUSR1);
    let rt = runtime();
    // The signal is handled asynchronously: sessions that come first still go on (and
    // are refused for want of credentials, 28000).
    let told = wait_until(Duration::from_secs(10), || {
        rt.block_on(async {
            let e = connect(cfg.port("port"), "alice", "t").await.unwrap_err();
            sqlstate(&e) == "57P01"
        })
    });
    assert!(told, "no session was told the proxy is shutting down");
    g.signal(libc::SIGTERM);
}

#[test]
fn toward_the_server_tls_starts_with_an_sslrequest_and_is_verified() {
    let pki = pki::Pki::get();
    let cluster = PgCluster::start();
    // The primary gets the test CA's certificate for site.test, and app_rw may only
    // log in over TLS.
    let data = cluster.primary.dir().join("data");
    for (src, dst) in [("site.crt", "server.crt"), ("site.key", "server.key")] {
        let to = data.join(dst);
        std::fs::copy(pki.path(src), &to).unwrap();
        std::os::unix::fs::chown(&to, Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
    let hba = data.join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!(
            "hostssl all app_rw 127.0.0.1/32 scram-sha-256\nhostnossl all app_rw 127.0.0.1/32 reject\n{old}"
        ),
    )
    .unwrap();
    pg_cluster::psql(&cluster.primary, "postgres", "ALTER SYSTEM SET ssl = on");
    pg_cluster::psql(&cluster.primary, "postgres", "SELECT pg_reload_conf()");
    let key = Signer::ec("k1");
    let cfg = config(&cluster, "", "", APP_RW_PASSWORD).var(
        "primary",
        format!(
            "{} ssl verify required ca-file {} sni str(site.test)",
            cluster.primary.addr(),
            pki.p("ca.pem")
        ),
    );
    let _proxy = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_ports(&cfg.listen_ports())
        .start();
    // The same server under a name its certificate does not carry: the handshake fails,
    // a connection failure as in HAProxy, and the client is told so (08006).
    let wrong = config(&cluster, "", "", APP_RW_PASSWORD).var(
        "primary",
        format!(
            "{} ssl verify required ca-file {} sni str(other.test)",
            cluster.primary.addr(),
            pki.p("ca.pem")
        ),
    );
    let _wrong_proxy = Gatehouse::builder(&wrong.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_ports(&wrong.listen_ports())
        .start();
    let token = key.sign(&claims("alice", &["dba"], 300));
    let rw = cfg.port("rw");
    // The reload of pg_hba.conf and ssl is asynchronous: wait for TLS to be served.
    let mut last = Err(String::new());
    let ok = wait_until(DEFAULT_TIMEOUT, || {
        last = pg_cluster::psql_tcp(
            rw,
            "alice",
            &token,
            DATABASE,
            "",
            "SELECT current_user || ' ' || ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        );
        last.as_deref() == Ok("app_rw true")
    });
    assert!(ok, "{last:?}");
    let err = pg_cluster::psql_tcp(wrong.port("rw"), "alice", &token, DATABASE, "", "SELECT 1")
        .unwrap_err();
    assert!(
        err.contains("FATAL:  no server available for this connection"),
        "{err}"
    );
}
