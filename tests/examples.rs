//! The shipped examples work as documented: every `examples/*.cfg` passes
//! `gatehouse -c` (and the real `haproxy -c`: they are HAProxy configs), opens with
//! a comment saying what it shows and how to run it, and is listed in README.md;
//! `examples/quickstart.cfg`, started as the README says, answers each `curl`
//! shown in README.md with exactly the output shown there; the other examples
//! serve on loopback (on free ports) as their headers say.
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the serving tests against haproxy.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::stats::{csv_field, csv_rows};
use support::*;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_passes_the_config_check() {
    let all = examples();
    assert!(
        all.iter().any(|p| p.ends_with("quickstart.cfg")),
        "examples/quickstart.cfg is missing: {all:?}"
    );
    for p in &all {
        let (code, out, err) = check(&gatehouse_bin(), &[p]);
        assert_eq!(code, 0, "gatehouse -c -f {}:\n{out}{err}", p.display());
        let (code, out, err) = check(&require_haproxy(), &[p]);
        assert_eq!(code, 0, "haproxy -c -f {}:\n{out}{err}", p.display());
    }
}

/// `127.0.0.1:PORT` addresses in `text`, in order of first appearance.
fn loopback_ports(text: &str) -> Vec<u16> {
    let mut ports = Vec::new();
    for part in text.split("127.0.0.1:").skip(1) {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(p) = digits.parse::<u16>()
            && !ports.contains(&p)
        {
            ports.push(p);
        }
    }
    ports
}

/// Replaces every `127.0.0.1:PORT` of `text` by its mapped port.
fn remap(text: &str, map: &BTreeMap<u16, u16>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..i + 10]);
        rest = &rest[i + 10..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<u16>().ok().and_then(|p| map.get(&p)) {
            Some(new) => out.push_str(&new.to_string()),
            None => out.push_str(&digits),
        }
        rest = &rest[digits.len()..];
    }
    out.push_str(rest);
    out
}

/// The `$ curl …` commands of README.md's first console block that has
/// one, each with the output lines printed after it.
fn readme_curls() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut cmds: Vec<(String, String)> = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            if in_block && !cmds.is_empty() {
                break;
            }
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            if cmd.starts_with("curl ") {
                cmds.push((cmd.to_string(), String::new()));
            }
        } else if let Some((_, out)) = cmds.last_mut() {
            out.push_str(line);
            out.push('\n');
        }
    }
    cmds
}

#[test]
fn quickstart_answers_the_curls_shown_in_the_readme() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.cfg");
    let text = std::fs::read_to_string(&path).expect("examples/quickstart.cfg");
    let ports = loopback_ports(&text);
    assert!(!ports.is_empty(), "quickstart.cfg binds no 127.0.0.1 port");
    // Same config on free ports, so the test never collides with a real :8080.
    let map: BTreeMap<u16, u16> = ports.iter().map(|&p| (p, free_port())).collect();
    let cfg = remap(&text, &map);
    let listen: Vec<u16> = cfg
        .lines()
        .filter_map(|l| l.trim().strip_prefix("bind "))
        .flat_map(loopback_ports)
        .collect();
    let _gh = Gatehouse::start(&cfg, &listen);

    let curls = readme_curls();
    assert!(
        curls.len() >= 2,
        "README.md shows no curl session: {curls:?}"
    );
    for (cmd, expected) in curls {
        let args: Vec<String> = remap(&cmd, &map)
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect();
        let out = Command::new("curl")
            .args(["--max-time", "5"])
            .args(&args)
            .output()
            .expect("run curl (scripts/test.sh installs it)");
        assert!(out.status.success(), "{cmd}: curl failed: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "README says `{cmd}` prints this"
        );
    }
}

#[test]
fn every_example_has_a_header_and_is_listed_in_the_readme() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    for p in examples() {
        let text = std::fs::read_to_string(&p).expect("example");
        let name = p.file_name().and_then(|n| n.to_str()).expect("name");
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
        assert!(
            header.len() >= 3 && header[0].starts_with("# gatehouse "),
            "{name}: no comment header saying what it shows"
        );
        assert!(
            header
                .iter()
                .any(|l| l.contains(&format!("-f examples/{name}"))),
            "{name}: the header does not say how to run it"
        );
        assert!(
            readme.contains(&format!("examples/{name}")),
            "README.md does not mention examples/{name}"
        );
    }
}

/// An example serving on free ports.
struct Served {
    proxy: Daemon,
    /// The example's loopback ports to the ones in use.
    map: BTreeMap<u16, u16>,
}

impl Served {
    /// Where the example's `127.0.0.1:port` is now.
    fn addr(&self, port: u16) -> SocketAddr {
        local(self.map[&port])
    }
}

/// Starts `examples/NAME` with `edit` applied to its text: the ports it binds move to
/// free ports, the other loopback ports (servers outside the example) to those that
/// `servers` gives. Gatehouse serves it, or haproxy in a reference run.
fn serve_example(name: &str, edit: impl Fn(&str) -> String, servers: &[(u16, u16)]) -> Served {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let text = edit(&std::fs::read_to_string(&path).expect("example"));
    let bound: Vec<u16> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("bind "))
        .flat_map(loopback_ports)
        .collect();
    let mut map = BTreeMap::new();
    for p in loopback_ports(&text) {
        let to = if bound.contains(&p) {
            free_port()
        } else {
            servers
                .iter()
                .find(|(from, _)| *from == p)
                .map(|(_, to)| *to)
                .unwrap_or_else(|| panic!("{name}: no server given for 127.0.0.1:{p}"))
        };
        map.insert(p, to);
    }
    let cfg = remap(&text, &map);
    let listen: Vec<u16> = bound.iter().map(|p| map[p]).collect();
    let proxy = if reference_run() {
        Haproxy::start(&cfg, &listen).0
    } else {
        Gatehouse::start(&cfg, &listen).0
    };
    Served { proxy, map }
}

/// `GET path` with `Host: host`: (status, body).
fn get(addr: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let r = http_get(addr, path, &[("Host", host)])
        .unwrap_or_else(|e| panic!("GET {path} (Host {host}): {e}"));
    (r.status, r.body_str())
}

#[test]
fn multi_app_routes_by_host_and_path() {
    let ex = serve_example("multi-app.cfg", str::to_owned, &[]);
    let door = ex.addr(8080);
    let ok = |s: &str| (200, format!("{s}\n"));
    assert_eq!(get(door, "api.example.com", "/v1/users"), ok("api"));
    // The first matching rule wins: the api host has no admin app.
    assert_eq!(get(door, "api.example.com", "/admin/"), ok("api"));
    assert_eq!(get(door, "www.example.com", "/admin/"), ok("admin"));
    // `-i`: host names match whatever their case.
    assert_eq!(get(door, "WWW.Example.COM", "/admin/users"), ok("admin"));
    // Both conditions of `use_backend admin_be if host_web path_admin` are needed.
    let web: Vec<(u16, String)> = [
        ("www.example.com", "/"),
        ("www.example.com", "/administrator"),
        ("other.example", "/admin/"),
        ("other.example", "/"),
    ]
    .iter()
    .map(|(h, p)| get(door, h, p))
    .collect();
    assert!(
        web.iter().all(|r| *r == ok("web1") || *r == ok("web2")),
        "{web:?}"
    );
    // Round robin over the two web servers.
    assert!(
        web.contains(&ok("web1")) && web.contains(&ok("web2")),
        "{web:?}"
    );
}

/// The replica a connection through the pool reached: its banner's first line.
fn replica_of(c: &mut TcpStream) -> String {
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\n") {
        match c.read(&mut b) {
            Ok(1) => got.push(b[0]),
            other => panic!("no banner through the pool: {other:?} after {got:?}"),
        }
    }
    String::from_utf8_lossy(&got).trim_end().to_owned()
}

#[test]
fn tcp_pool_sends_each_connection_to_the_least_loaded_replica() {
    let replicas: Vec<TcpBanner> = (1..=3)
        .map(|i| TcpBanner::start(format!("replica{i}\n").as_bytes()))
        .collect();
    let servers: Vec<(u16, u16)> = replicas
        .iter()
        .enumerate()
        .map(|(i, r)| (5433 + i as u16, r.addr().port()))
        .collect();
    let ex = serve_example("tcp-pool.cfg", str::to_owned, &servers);
    let pool = ex.addr(5432);
    // The start-up probe went through the pool too: wait until its session is logged.
    let sessions = |d: &Daemon| {
        d.stdout()
            .lines()
            .filter(|l| l.contains(" db_read "))
            .count()
    };
    assert!(
        wait_until(Duration::from_secs(5), || sessions(&ex.proxy) >= 1),
        "{}",
        ex.proxy.stdout()
    );
    std::thread::sleep(Duration::from_millis(100));
    // Long-lived sessions: one on each replica.
    let mut conns: Vec<(TcpStream, String)> = (0..3)
        .map(|_| {
            let mut c = TcpStream::connect(pool).expect("connect to the pool");
            let r = replica_of(&mut c);
            (c, r)
        })
        .collect();
    let mut names: Vec<&str> = conns.iter().map(|(_, r)| r.as_str()).collect();
    names.sort();
    assert_eq!(names, ["replica1", "replica2", "replica3"]);
    // The second session ends: its replica is now the least loaded, and the next
    // session goes there (a rotation would pick the first session's replica).
    let (freed, name) = conns.remove(1);
    drop(freed);
    assert!(
        wait_until(Duration::from_secs(5), || ex
            .proxy
            .stdout()
            .lines()
            .any(|l| l.contains(&format!(" replicas/{name} ")))),
        "the ended session is logged: {}",
        ex.proxy.stdout()
    );
    std::thread::sleep(Duration::from_millis(100));
    let mut next = TcpStream::connect(pool).expect("connect to the pool");
    assert_eq!(replica_of(&mut next), name);
    drop(conns);
    // The bytes go through untouched, both ways.
    std::io::Write::write_all(&mut next, b"SELECT 1;\n").expect("write");
    let target = &replicas[name[7..].parse::<usize>().expect("replica number") - 1];
    assert!(
        wait_until(Duration::from_secs(5), || target
            .received()
            .ends_with(b"SELECT 1;\n")),
        "{name} got {:?}",
        target.received()
    );
}

/// The backup example with `disabled` added to the server lines named in `names`.
fn disable(names: &'static [&'static str]) -> impl Fn(&str) -> String {
    move |text: &str| {
        text.lines()
            .map(|l| {
                let server = l.trim_start().strip_prefix("server ");
                match server.and_then(|s| s.split_whitespace().next()) {
                    Some(n) if names.contains(&n) => format!("{l} disabled\n"),
                    _ => format!("{l}\n"),
                }
            })
            .collect()
    }
}

#[test]
fn backup_server_answers_only_when_every_server_is_out() {
    let apps = |ex: &Served| -> Vec<(u16, String)> {
        (0..4).map(|_| get(ex.addr(8080), "h", "/")).collect()
    };
    let app = |n: u8| (200, format!("hello from app{n}\n"));
    // As shipped: both app servers in turn, never the backup.
    let ex = serve_example("backup-server.cfg", str::to_owned, &[]);
    let got = apps(&ex);
    assert_eq!(got, [app(1), app(2), app(1), app(2)]);
    drop(ex);
    // One server left: it takes everything; the backup still gets nothing.
    let ex = serve_example("backup-server.cfg", disable(&["app1"]), &[]);
    assert_eq!(apps(&ex), [app(2), app(2), app(2), app(2)]);
    drop(ex);
    // None left: the backup's page.
    let ex = serve_example("backup-server.cfg", disable(&["app1", "app2"]), &[]);
    let soon = (503, "back soon\n".to_owned());
    assert_eq!(apps(&ex), [soon.clone(), soon.clone(), soon.clone(), soon]);
}

#[test]
fn stats_example_serves_the_page_its_csv_and_the_metrics() {
    let ex = serve_example("stats.cfg", str::to_owned, &[]);
    // Some traffic through the front door first.
    for _ in 0..4 {
        let (status, body) = get(ex.addr(8080), "h", "/");
        assert_eq!(status, 200);
        assert!(body.starts_with("hello from app"), "{body}");
    }
    let st = ex.addr(8404);
    let r = http_get(st, "/stats", &[]).expect("page");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("refresh"), Some("10"));
    assert!(
        r.body_str().contains("<option value=\"maint\">"),
        "admin from localhost"
    );
    // A request is counted as its response head is produced: the CSV read right
    // after the fourth response has it.
    let csv = http_get(st, "/stats;csv", &[]).expect("CSV").body_str();
    let t = csv_rows(&csv);
    assert_eq!(csv_field(&t, "app", "BACKEND", "hrsp_2xx"), "4");
    assert_eq!(
        csv_field(&t, "app", "app1", "addr"),
        ex.addr(8081).to_string()
    );
    let metrics = http_get(st, "/metrics", &[]).expect("metrics").body_str();
    for l in [
        "haproxy_server_status{proxy=\"app\",server=\"app1\",state=\"UP\"} 1",
        "haproxy_backend_http_responses_total{proxy=\"app\",code=\"2xx\"} 4",
    ] {
        assert!(metrics.lines().any(|m| m == l), "missing {l}");
    }
}
