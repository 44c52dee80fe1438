//! The HTML stats page in a real browser: headless Chromium driven by chromedriver
//! (Debian's `chromium` and `chromium-driver`) loads gatehouse's page, every proxy and
//! server is on it with its status and HAProxy's colour for it (UP, DOWN, MAINT,
//! backup, not checked), a screenshot is saved as a test artifact
//! (`target/test-artifacts/stats-page.png`), and the admin form, used as an operator
//! does (tick a server, choose "Set state to MAINT", Apply), puts the server in
//! maintenance.

mod support;

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::stats::stats_defaults;
use support::{Config, Gatehouse, HttpBackend, TempDir, free_port, http_request, local};
use support::{http_get_until_close, wait_until};

const CFG: &str = concat!(
    stats_defaults!(),
    "\
frontend fe
    bind 127.0.0.1:{fe}
    default_backend app
backend app
    option httpchk GET /
    server node1 {node1} check inter 200ms
    server node2 127.0.0.1:1 check inter 200ms rise 1 fall 1
    server node3 {node1} disabled
    server spare {node1} backup
listen stats
    bind 127.0.0.1:{st}
    stats enable
    stats uri /stats
    stats admin if TRUE
"
);

/// chromedriver, stopped on drop.
struct Driver {
    child: Child,
    port: u16,
    session: String,
}

impl Driver {
    fn start(profile: &std::path::Path) -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver)");
        let mut d = Driver {
            child,
            port,
            session: String::new(),
        };
        assert!(
            wait_until(support::DEFAULT_TIMEOUT, || std::net::TcpStream::connect(
                local(port)
            )
            .is_ok()),
            "chromedriver did not listen"
        );
        let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1600,1000",
                     format!("--user-data-dir={}", profile.display())],
        }}}});
        let v = d.call("POST", "/session", Some(caps));
        d.session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        d
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r = http_request(
            local(self.port),
            method,
            path,
            &[
                ("content-type", "application/json"),
                ("connection", "close"),
            ],
            body.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("chromedriver {method} {path}: {e}"));
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("chromedriver {path}: {e}: {}", r.body_str()))
    }

    fn session(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = self.call(method, &format!("/session/{}{path}", self.session), body);
        assert!(
            v["value"].get("error").is_none(),
            "chromedriver {path}: {v}"
        );
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.session("POST", "/url", Some(json!({ "url": url })));
    }

    fn script(&self, js: &str) -> Value {
        self.session(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http_request(
                local(self.port),
                "DELETE",
                &format!("/session/{}", self.session),
                &[("connection", "close")],
                b"",
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Each line of the page's tables: its anchor (`app/node1`), row class, status cell
/// text and background colour, as the browser rendered them.
const ROWS_JS: &str = r#"
return Array.from(document.querySelectorAll('table.tbl tr')).filter(
  tr => tr.querySelector('a.lfsb')).map(tr => {
    const a = tr.querySelector('a[name]');
    const cells = Array.from(tr.children);
    const status = cells.find(td => /(UP|DOWN|MAINT|OPEN|no check)/.test(td.textContent)
        && td.classList.contains('ac') && !td.querySelector('a'));
    return [a.getAttribute('name'), tr.className,
            status ? status.textContent.trim() : '',
            getComputedStyle(tr).backgroundColor];
});
"#;

fn artifact() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir.join("stats-page.png")
}

#[test]
fn stats_page_in_headless_chromium_shows_every_server_and_its_admin_form_works() {
    let node1 = HttpBackend::start("node1");
    let cfg = Config::new(CFG)
        .listen_port("fe")
        .listen_port("st")
        .var("node1", node1.addr());
    let _g = Gatehouse::start_config(&cfg);
    let st = cfg.port("st");
    let url = format!("http://127.0.0.1:{st}/stats");
    // Wait for the checks to take node2 down.
    assert!(wait_until(support::DEFAULT_TIMEOUT, || {
        http_get_until_close(local(st), "/stats;csv", &[]).is_ok_and(|r| {
            r.body_str()
                .lines()
                .any(|l| l.starts_with("app,node2,") && l.contains(",DOWN,"))
        })
    }));

    let profile = TempDir::new("chromium");
    let d = Driver::start(profile.path());
    d.go(&url);
    let rows = d.script(ROWS_JS);
    let rows = rows.as_array().expect("rows");
    let find = |name: &str| -> Vec<String> {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} not on the page: {rows:?}"))
            .as_array()
            .expect("row")
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_owned())
            .collect()
    };
    // Every proxy and server, with its status and HAProxy's colour.
    let expect = [
        ("fe/Frontend", "frontend", "OPEN", "rgb(232, 232, 208)"),
        ("app/node1", "active_up", "UP", "rgb(192, 255, 192)"),
        ("app/node2", "active_down", "DOWN", "rgb(255, 144, 144)"),
        ("app/node3", "maintain", "MAINT", "rgb(192, 120, 32)"),
        (
            "app/spare",
            "backup_no_check",
            "no check",
            "rgb(224, 224, 224)",
        ),
        ("app/Backend", "backend", "UP", "rgb(232, 232, 208)"),
        ("stats/Frontend", "frontend", "OPEN", "rgb(232, 232, 208)"),
        ("stats/Backend", "backend", "UP", "rgb(232, 232, 208)"),
    ];
    for (name, class, status, colour) in expect {
        let r = find(name);
        assert_eq!(r[1], class, "{name}");
        assert!(r[2].ends_with(status), "{name}: status {:?}", r[2]);
        assert_eq!(r[3], colour, "{name}");
    }
    assert_eq!(rows.len(), expect.len(), "{rows:?}");

    // The screenshot, kept as a test artifact.
    let png = d.session("GET", "/screenshot", None);
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        png.as_str().expect("base64 PNG"),
    )
    .expect("PNG");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(artifact(), &png).expect("write screenshot");

    // The admin form, as an operator uses it.
    d.script(
        r#"document.querySelector("input[name=s][value=node1]").checked = true;
           const form = document.querySelector("input[name=s][value=node1]").form;
           form.querySelector("select[name=action]").value = "maint";
           form.querySelector("input[type=submit]").click();
           return true;"#,
    );
    let mut after = Vec::new();
    let changed = wait_until(Duration::from_secs(10), || {
        let v = d
            .script(r#"return [location.pathname, document.body ? document.body.innerText : ''];"#);
        after = vec![
            v[0].as_str().unwrap_or("").to_owned(),
            v[1].as_str().unwrap_or("").to_owned(),
        ];
        after[0] == "/stats;st=DONE"
    });
    assert!(
        changed,
        "the form did not land on the result page: {after:?}"
    );
    assert!(after[1].contains("Action processed successfully."));
    let rows = d.script(ROWS_JS);
    let node1 = rows
        .as_array()
        .and_then(|a| a.iter().find(|r| r[0] == "app/node1"))
        .cloned()
        .expect("node1");
    assert_eq!(node1[1], "maintain");
    assert!(node1[2].as_str().unwrap_or("").ends_with("MAINT"));
}
