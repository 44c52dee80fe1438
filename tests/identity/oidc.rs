//! The real OpenID Provider of the identity tests (`tests/oidc/provider.mjs`, panva's
//! `oidc-provider` pinned in `tests/oidc/package.json`), installed with `npm ci` when
//! missing, started on a free loopback port, stopped on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `tests/oidc`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Installs the pinned npm packages once (under a lock shared by the test threads).
pub fn ensure_installed() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return;
    }
    let d = dir();
    if !d.join("node_modules/oidc-provider/package.json").exists()
        || !d.join("node_modules/playwright-core/package.json").exists()
    {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&d)
            .status()
            .expect("npm (scripts/install-deps.sh installs it)");
        assert!(st.success(), "npm ci in tests/oidc failed");
    }
    *done = true;
}

/// A running provider.
pub struct OidcProvider {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl OidcProvider {
    /// Starts the provider on `port` with `redirect_uri` registered for the client.
    pub fn start_on(port: u16, redirect_uri: &str) -> OidcProvider {
        Self::start_with(port, redirect_uri, &[])
    }

    /// Starts the provider with extra environment (`TLS_CERT`, `TLS_KEY`: https).
    pub fn start_with(port: u16, redirect_uri: &str, env: &[(&str, &str)]) -> OidcProvider {
        ensure_installed();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir())
            .env("PORT", port.to_string())
            .env("REDIRECT_URI", redirect_uri)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (scripts/install-deps.sh installs it)");
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        let p = OidcProvider { child, port, lines };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !p
            .lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("READY"))
        {
            assert!(Instant::now() < deadline, "the OIDC provider did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        p
    }

    /// Its issuer URL.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The lines it printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// How many times its JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| *l == "JWKS")
            .count()
    }

    /// Replaces its signing keys with new ones (new `kid`s).
    pub fn rotate(&self) {
        let (status, _) = post(self.port, "/__rotate", None, "");
        assert_eq!(status, 200);
    }

    /// An access token for the API (client credentials grant, as a real client gets
    /// one): a JWT with `aud` `gatehouse-api`.
    pub fn client_token(&self) -> String {
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "gatehouse:gatehouse-secret-0123456789",
        );
        let (status, body) = post(
            self.port,
            "/token",
            Some(&format!("Basic {basic}")),
            "grant_type=client_credentials&scope=api",
        );
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs a form to 127.0.0.1:`port`; returns status and body.
pub fn post(port: u16, path: &str, auth: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// A real browser logged in to gatehouse at `origin` through the provider as `login`
/// (`tests/oidc/op_logout.mjs`): it has printed the session cookie and waits for
/// "go" on its stdin to log out at the provider, then prints its result.
pub struct BrowserSession {
    /// The browser's node process.
    pub child: Child,
    /// Its remaining output lines.
    pub lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    /// The `gh_session` cookie it was given.
    pub cookie: String,
}

/// Logs a browser in at `origin` (its `/app/page`) through the provider at `issuer`.
pub fn browser_session(origin: &str, issuer: &str, login: &str) -> BrowserSession {
    let mut child = Command::new("node")
        .arg("op_logout.mjs")
        .current_dir(dir())
        .env("START", format!("{origin}/app/page"))
        .env("ORIGIN", origin)
        .env("ISSUER", issuer)
        .env("LOGIN", login)
        .env("COOKIE", "gh_session")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let cookie = loop {
        let l = lines
            .next()
            .expect("browser output")
            .expect("browser output");
        if let Some(c) = l.strip_prefix("COOKIE ") {
            break c.to_owned();
        }
        assert!(!l.starts_with('{'), "browser: {l}");
    };
    BrowserSession {
        child,
        lines,
        cookie,
    }
}
