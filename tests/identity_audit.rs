//! The audit log of an `identity` section on the real binary: one JSON line per access
//! decision with the issue's fields, chained by SHA-256; `gatehouse audit verify`
//! accepts the log as written and names the first tampered, removed or reordered
//! line; a log that cannot be written is reported, and with `audit-required` requests
//! are refused (503) rather than served unaudited.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use mint::{Signer, jwks, now};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity corp
  issuer https://idp.example.com
  audience gatehouse-api
  jwks-file jwks.json
  audit-log {audit}
{required}
frontend public
  bind 127.0.0.1:{port}
  http-request authenticate corp if !{ path_beg /public/ }
  acl admins identity_groups -m str admins
  http-request deny deny_status 403 if { path_beg /admin/ } !admins
  http-request use-service prometheus-exporter if { path /public/metrics }
  default_backend app
backend app
  server web {app}
"#;

fn start(audit: &str, required: bool, key: &Signer, app: &HttpBackend) -> (Daemon, u16) {
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("audit", audit)
        .var("required", if required { "  audit-required" } else { "" })
        .var("app", app.addr());
    let d = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[key]))
        .wait_ports(&cfg.listen_ports())
        .start();
    (d, cfg.port("port"))
}

fn token(key: &Signer, sub: &str, groups: &[&str]) -> String {
    key.sign(&json!({
        "iss": "https://idp.example.com", "aud": "gatehouse-api", "sub": sub,
        "email": format!("{sub}@example.com"), "groups": groups, "exp": now() + 300,
    }))
}

fn get(port: u16, path: &str, token: Option<&str>) -> u16 {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a), ("Host", "app.example")])
        .unwrap_or_else(|| vec![("Host", "app.example")]);
    http_get(SocketAddr::from(([127, 0, 0, 1], port)), path, &headers)
        .unwrap()
        .status
}

fn verify(file: &std::path::Path) -> (i32, String) {
    let out = Command::new(gatehouse_bin())
        .args(["audit", "verify"])
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn each_decision_is_one_chained_json_line_that_verify_accepts_and_tampering_breaks() {
    let key = Signer::ec("k1");
    let app = HttpBackend::start("app");
    let (g, port) = start("audit.log", false, &key, &app);
    let file = g.dir().join("audit.log");
    assert_eq!(
        get(port, "/app/x?q=1", Some(&token(&key, "alice", &["staff"]))),
        200
    );
    assert_eq!(
        get(port, "/admin/y", Some(&token(&key, "bob", &["staff"]))),
        403
    );
    assert_eq!(get(port, "/app/z", None), 401);
    assert_eq!(
        get(port, "/admin/w", Some(&token(&key, "root", &["admins"]))),
        200
    );
    assert_eq!(get(port, "/public/p", None), 200);
    assert!(wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&file)
            .map(|t| t.lines().count() == 5)
            .unwrap_or(false)
    }));
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cfg = g.config_path().display().to_string();
    let expect = [
        ("alice", "allow", 14, 200, "/app/x"),
        ("bob", "deny", 16, 403, "/admin/y"),
        ("", "challenge", 14, 401, "/app/z"),
        ("root", "allow", 14, 200, "/admin/w"),
        ("", "allow", 0, 200, "/public/p"),
    ];
    // Lines come in the order exchanges end (a response reaches the client before
    // its log line is written): matched by path.
    for (sub, decision, line, status, path) in expect {
        let l = lines.iter().find(|l| l["path"] == path).expect(path);
        assert_eq!(l["decision"], decision, "{l}");
        assert_eq!(l["status"], status, "{l}");
        assert_eq!(l["path"], path, "{l}");
        assert_eq!(l["method"], "GET");
        assert_eq!(l["host"], "app.example");
        assert_eq!(l["frontend"], "public");
        assert!(l["client"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(!l["id"].as_str().unwrap().is_empty());
        assert!(l["time"].as_str().unwrap().ends_with('Z'));
        if line > 0 {
            assert_eq!(l["rule"], format!("{cfg}:{line}"), "{l}");
        }
        if sub.is_empty() {
            assert!(l["sub"].is_null(), "{l}");
        } else {
            assert_eq!(l["sub"], sub);
            assert_eq!(l["email"], format!("{sub}@example.com"));
            assert_eq!(l["identity"], "corp");
        }
        if status == 200 {
            assert_eq!(l["backend"], "app");
            assert_eq!(l["server"], "web");
        }
    }
    let root = lines.iter().find(|l| l["sub"] == "root").unwrap();
    assert_eq!(root["groups"], json!(["admins"]));
    assert_eq!(verify(&file).0, 0, "an intact log verifies");

    let orig: Vec<&str> = text.lines().collect();
    let dir = g.dir();
    let write = |name: &str, ls: Vec<String>| {
        let p = dir.join(name);
        std::fs::write(&p, ls.join("\n") + "\n").unwrap();
        p
    };
    let owned = || orig.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut tampered = owned();
    tampered[1] = tampered[1].replace("\"GET\"", "\"PUT\"");
    let (code, out) = verify(&write("t1", tampered));
    assert_ne!(code, 0);
    assert!(out.contains(":2:"), "{out}");
    let mut removed = owned();
    removed.remove(2);
    let (code, out) = verify(&write("t2", removed));
    assert_ne!(code, 0);
    assert!(out.contains(":3:"), "{out}");
    let mut reordered = owned();
    reordered.swap(3, 4);
    let (code, out) = verify(&write("t3", reordered));
    assert_ne!(code, 0);
    assert!(out.contains(":4:"), "{out}");
}

#[test]
fn a_restart_continues_the_chain() {
    let key = Signer::rsa("k1");
    let app = HttpBackend::start("app");
    let dir = std::env::temp_dir().join(format!("gh-audit-{}-{}", std::process::id(), now()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.log");
    for round in 1..=2 {
        let (g, port) = start(file.to_str().unwrap(), false, &key, &app);
        assert_eq!(get(port, "/app", Some(&token(&key, "ann", &[]))), 200);
        assert!(
            wait_until(Duration::from_secs(10), || std::fs::read_to_string(&file)
                .map(|t| t.lines().count() == round)
                .unwrap_or(false)),
            "{:?}\n{}",
            std::fs::read_to_string(&file),
            g.stderr()
        );
    }
    assert_eq!(verify(&file).0, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_audit_log_is_reported_and_audit_required_refuses_with_503() {
    let key = Signer::rsa("k1");
    let app = HttpBackend::start("app");
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    let (g, port) = start("/dev/full", false, &key, &app);
    let t = token(&key, "ann", &[]);
    assert_eq!(get(port, "/app", Some(&t)), 200);
    assert!(wait_until(Duration::from_secs(10), || g
        .stderr()
        .contains("audit log write failed")));
    assert_eq!(
        get(port, "/app", Some(&t)),
        200,
        "served: the log is not required"
    );
    // The failures are counted where Prometheus scrapes.
    let failures = || {
        let r = http_get(
            SocketAddr::from(([127, 0, 0, 1], port)),
            "/public/metrics",
            &[],
        )
        .unwrap();
        let body = r.body_str();
        body.lines()
            .find_map(|l| {
                l.strip_prefix("gatehouse_identity_audit_write_failures_total{identity=\"corp\"} ")
            })
            .and_then(|v| v.parse::<u64>().ok())
    };
    assert!(
        wait_until(Duration::from_secs(10), || failures()
            .is_some_and(|n| n >= 2)),
        "{:?}",
        failures()
    );

    let (g, port) = start("/dev/full", true, &key, &app);
    // The first write fails; from then on requests that need identity are refused.
    let _ = get(port, "/app", Some(&t));
    assert!(wait_until(Duration::from_secs(10), || g
        .stderr()
        .contains("audit log write failed")));
    let before = app.request_count();
    assert_eq!(get(port, "/app", Some(&t)), 503);
    assert_eq!(get(port, "/app", None), 503);
    assert_eq!(app.request_count(), before);
    // Each refusal is counted; routes without identity are served.
    let r = http_get(
        SocketAddr::from(([127, 0, 0, 1], port)),
        "/public/metrics",
        &[],
    )
    .unwrap();
    let body = r.body_str();
    let refused = body
        .lines()
        .find_map(|l| l.strip_prefix("gatehouse_identity_audit_refusals_total{identity=\"corp\"} "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(refused.is_some_and(|n| n >= 2), "{body}");
    assert!(body.contains("# TYPE gatehouse_identity_audit_refusals_total counter"));
}
