//! A real PostgreSQL 15 cluster for the `proto pgsql` and `pgsql-check … role` tests: a
//! primary (`initdb`, `password_encryption = scram-sha-256`, `pg_hba.conf` requiring
//! SCRAM-SHA-256 on 127.0.0.1) with the roles `app_rw`, `app_ro`, `checker` (and
//! `replicator` for replication), and a streaming replica made with `pg_basebackup -R`.
//! Both listen on free ports of 127.0.0.1 and stop on drop (see [`super::services`],
//! whose process handling this reuses: under root they run as `nobody`).
//!
//! [`PgCluster::promote`] turns the replica into a primary (`pg_ctl promote`),
//! [`PgCluster::stop_primary`] stops the primary: together, a failover.

use super::services::{NOBODY, Service, is_root, run, service_bin};
use super::{TempDir, free_port};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The password of role `app_rw` (read-write).
pub const APP_RW_PASSWORD: &str = "rw-Secret-1";
/// The password of role `app_ro` (read-only by grants; the tests' read door).
pub const APP_RO_PASSWORD: &str = "ro-Secret-2";
/// The password of role `checker` (health checks).
pub const CHECKER_PASSWORD: &str = "check-Secret-3";
/// The password of role `replicator` (streaming replication).
const REPLICATOR_PASSWORD: &str = "repl-Secret-4";
/// The database the tests use, owned by `app_rw`, with table `items (id, name)`.
pub const DATABASE: &str = "shop";

/// What a PostgreSQL server logs when it accepts connections (read-only ones for a
/// replica).
const READY: &str = "database system is ready to accept";

/// A primary and its streaming replica.
#[derive(Debug)]
pub struct PgCluster {
    /// The primary (`pg_is_in_recovery()` false).
    pub primary: Service,
    /// The replica (`pg_is_in_recovery()` true until promoted).
    pub replica: Service,
}

/// Runs `cmd` as the user the servers run as (`nobody` under root).
fn as_server_user(cmd: &mut Command) {
    if is_root() {
        cmd.uid(NOBODY).gid(NOBODY);
    }
}

/// A temporary directory the servers' user owns.
fn server_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    if is_root() {
        std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY))
            .expect("hand the postgres directory to nobody");
    }
    dir
}

/// `postgres` on `data` listening on 127.0.0.1:`port` and a socket in `dir`.
fn server(dir: TempDir, data: &Path, port: u16, name: &'static str) -> Service {
    let mut cmd = Command::new(service_bin("postgres"));
    cmd.arg("-D")
        .arg(data)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
        .arg(dir.path())
        .env("LC_ALL", "C")
        .current_dir(dir.path());
    as_server_user(&mut cmd);
    // SIGQUIT: immediate shutdown, backends included (as a crash looks to clients).
    Service::spawn(name, dir, port, cmd, libc::SIGQUIT).wait_ready(READY)
}

impl PgCluster {
    /// Starts the primary, creates the roles and the database, then makes and starts
    /// the replica and waits until it streams.
    pub fn start() -> PgCluster {
        let dir = server_dir("pg-primary");
        let data = dir.path().join("data");
        let mut init = Command::new(service_bin("initdb"));
        init.arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=reject",
                "-N",
            ])
            .env("LC_ALL", "C")
            .current_dir(dir.path());
        as_server_user(&mut init);
        run(init, "initdb");
        let conf = "\n# gatehouse tests\n\
            listen_addresses = '127.0.0.1'\n\
            password_encryption = 'scram-sha-256'\n\
            wal_level = replica\n\
            max_wal_senders = 5\n\
            hot_standby = on\n\
            fsync = off\n\
            synchronous_commit = off\n\
            full_page_writes = off\n\
            max_connections = 60\n\
            shared_buffers = 16MB\n\
            log_connections = on\n";
        append(&data.join("postgresql.conf"), conf);
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             local replication all trust\n\
             host all blocked 127.0.0.1/32 reject\n\
             host replication replicator 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        let primary = server(dir, &data, free_port(), "postgres primary");
        psql(
            &primary,
            "postgres",
            &format!(
                "CREATE ROLE app_rw LOGIN PASSWORD '{APP_RW_PASSWORD}';\n\
                 CREATE ROLE app_ro LOGIN PASSWORD '{APP_RO_PASSWORD}';\n\
                 CREATE ROLE checker LOGIN PASSWORD '{CHECKER_PASSWORD}';\n\
                 CREATE ROLE blocked LOGIN PASSWORD 'blocked';\n\
                 CREATE ROLE replicator REPLICATION LOGIN PASSWORD '{REPLICATOR_PASSWORD}';\n"
            ),
        );
        psql(
            &primary,
            "postgres",
            &format!("CREATE DATABASE {DATABASE} OWNER app_rw"),
        );
        psql(
            &primary,
            DATABASE,
            "SET ROLE app_rw;\n\
             CREATE TABLE items (id serial PRIMARY KEY, name text);\n\
             INSERT INTO items (name) VALUES ('one'), ('two');\n\
             GRANT SELECT ON items TO app_ro;\n",
        );
        let replica = Self::replica_of(&primary);
        let c = PgCluster { primary, replica };
        c.wait_streaming(1);
        c
    }

    /// Another streaming replica of the primary (`pg_basebackup -R`), started; returns
    /// once the primary streams to it. It keeps following the primary it was made from
    /// (a promoted replica is not its upstream).
    pub fn add_replica(&self) -> Service {
        let before = query(
            &self.primary,
            "postgres",
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
        );
        let n = before.trim().parse::<usize>().unwrap_or(0) + 1;
        let r = Self::replica_of(&self.primary);
        self.wait_streaming(n);
        r
    }

    /// `pg_basebackup -R` of `primary`, started.
    fn replica_of(primary: &Service) -> Service {
        let dir = server_dir("pg-replica");
        let data = dir.path().join("data");
        let mut bb = Command::new(service_bin("pg_basebackup"));
        bb.args(["-h", "127.0.0.1", "-p", &primary.port().to_string()])
            .args(["-U", "replicator", "-D"])
            .arg(&data)
            .args(["-R", "-X", "stream", "-c", "fast"])
            .env("PGPASSWORD", REPLICATOR_PASSWORD)
            .current_dir(dir.path());
        as_server_user(&mut bb);
        run(bb, "pg_basebackup");
        server(dir, &data, free_port(), "postgres replica")
    }

    /// Waits until the primary streams to `n` replicas.
    fn wait_streaming(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let streaming = query(
                &self.primary,
                "postgres",
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            );
            if streaming.trim() == n.to_string() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{n} replica(s) not streaming within 30 s:\n{}",
                self.replica.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `pg_ctl promote -w` on the replica: it becomes a primary
    /// (`pg_is_in_recovery()` false) when this returns.
    pub fn promote(&self) {
        let mut cmd = Command::new(service_bin("pg_ctl"));
        cmd.arg("promote")
            .arg("-D")
            .arg(self.replica.dir().join("data"))
            .args(["-w", "-t", "30"])
            .current_dir(self.replica.dir());
        as_server_user(&mut cmd);
        run(cmd, "pg_ctl promote");
        let deadline = Instant::now() + Duration::from_secs(30);
        while query(&self.replica, "postgres", "SELECT pg_is_in_recovery()").trim() != "f" {
            assert!(Instant::now() < deadline, "replica still in recovery");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Turns TLS on on the primary (`ssl = on`, then a configuration reload) with the
    /// certificate `crt` and key `key` (PEM files, copied into its data directory).
    pub fn primary_tls(&self, crt: &Path, key: &Path) {
        let data = self.primary.dir().join("data");
        for (from, to) in [(crt, "server.crt"), (key, "server.key")] {
            let dst = data.join(to);
            std::fs::copy(from, &dst).expect("copy TLS file");
            std::fs::set_permissions(&dst, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("chmod TLS file");
            if is_root() {
                std::os::unix::fs::chown(&dst, Some(NOBODY), Some(NOBODY)).expect("chown TLS file");
            }
        }
        psql(&self.primary, "postgres", "ALTER SYSTEM SET ssl = on");
        psql(&self.primary, "postgres", "SELECT pg_reload_conf()");
        let deadline = Instant::now() + Duration::from_secs(10);
        while query(&self.primary, "postgres", "SHOW ssl").trim() != "on" {
            assert!(
                Instant::now() < deadline,
                "ssl not on:\n{}",
                self.primary.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the primary (immediate shutdown: its sessions end at once, as in a crash)
    /// and waits until it has exited.
    pub fn stop_primary(&mut self) {
        self.primary.stop();
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.write_all(text.as_bytes())
        .expect("append to postgresql.conf");
}

/// `psql` as superuser `postgres` over `node`'s unix socket on database `db`, running
/// `sql` (one `-c`: one transaction, stopping at the first error); panics with psql's
/// output if it fails.
pub fn psql(node: &Service, db: &str, sql: &str) {
    let mut cmd = Command::new(service_bin("psql"));
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(node.dir())
        .args([
            "-p",
            &node.port().to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ]);
    run(cmd, "psql");
}

/// The unaligned, tuples-only output of `sql` run as superuser over `node`'s unix
/// socket on `db` ("" if psql fails, e.g. while the server starts or stops).
pub fn query(node: &Service, db: &str, sql: &str) -> String {
    let out = Command::new(service_bin("psql"))
        .args(["-X", "-At", "-h"])
        .arg(node.dir())
        .args([
            "-p",
            &node.port().to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ])
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => String::new(),
    }
}

/// Runs `psql` as a client over TCP to 127.0.0.1:`port` with `user` and `password` on
/// `db`, running `sql` (tuples only, unaligned); its stdout, or its stderr as the error.
/// `extra` holds more `psql` connection settings, e.g. `sslmode=require`.
pub fn psql_tcp(
    port: u16,
    user: &str,
    password: &str,
    db: &str,
    extra: &str,
    sql: &str,
) -> Result<String, String> {
    let conninfo =
        format!("host=127.0.0.1 port={port} user={user} dbname={db} connect_timeout=10 {extra}");
    let out = Command::new(service_bin("psql"))
        .args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &conninfo,
            "-c",
            sql,
        ])
        .env("PGPASSWORD", password)
        .env_remove("PGSSLMODE")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
