//! Cookie persistence against the reference HAProxy 2.6: each scenario runs one
//! configuration under gatehouse and under haproxy, with two real HTTP servers, and
//! sends both the same requests. Compared for every request: the status, the server
//! that answered, the `set-cookie` and `cache-control` lines of the response byte for
//! byte (the `maxidle`/`maxlife` dates masked to their shape), the `Cookie` header the
//! server received, and the log line's termination state with its cookie letters
//! (`%tsc`), server and retries. Each scenario also states what the user must see, so
//! that both proxies being wrong the same way fails too.

mod support;

use std::io::{Read, Write};
use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

/// What one request gave.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    /// The status line.
    status: String,
    /// The server that answered (its body), or `-`.
    server: String,
    /// The `set-cookie` and `cache-control` lines of the response, in order.
    lines: Vec<String>,
    /// The `Cookie` headers the server received.
    seen: Vec<String>,
    /// The names of the response's headers, then those of the request the server
    /// received, in order: rewritten cookies keep their place.
    order: Vec<String>,
    /// The log line (termination state, server, retries).
    log: String,
}

/// One proxy (gatehouse or haproxy) with its servers and log receiver.
struct Setup {
    proxy: Daemon,
    cfg: Config,
    servers: Rc<Vec<HttpBackend>>,
    logs: UdpSocket,
    dir: TempDir,
    next: usize,
}

/// Starts `template` under haproxy or gatehouse; `{s1}`, `{s2}` are the servers (the
/// same for both proxies: dynamic cookies hash their addresses), `{dead}` a port nobody
/// listens on, `{sock}` a stats socket path.
fn start(haproxy: bool, template: &str, servers: &Rc<Vec<HttpBackend>>) -> Setup {
    let servers = Rc::clone(servers);
    let logs = UdpSocket::bind("127.0.0.1:0").expect("bind syslog receiver");
    let dir = TempDir::new("persist-cookie");
    let mut cfg = Config::new(template)
        .listen_port("port")
        .listen_port("port2")
        .var("syslog", logs.local_addr().expect("addr").port())
        .var("dead", free_port())
        .var("sock", dir.path().join("admin.sock").display());
    for (i, s) in servers.iter().enumerate() {
        cfg = cfg.var(&format!("s{}", i + 1), s.addr());
    }
    let proxy = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    Setup {
        proxy,
        cfg,
        servers,
        logs,
        dir,
        next: 0,
    }
}

/// The log-format of every scenario: the path identifies the request.
const LOG: &str = r#"log-format "ts=%tsc s=%b/%s rc=%rc path=%HP""#;

impl Setup {
    /// Sends `METHOD /rN` with `extra` header lines to listener `port` (`port` or
    /// `port2`) and returns what happened.
    fn send(&mut self, port: &str, method: &str, extra: &str) -> Outcome {
        self.next += 1;
        let path = format!("/r{}", self.next);
        let before: Vec<usize> = self.servers.iter().map(|s| s.request_count()).collect();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: ex.com\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let raw = send_raw_with(
            local(self.cfg.port(port)),
            req.as_bytes(),
            Duration::from_secs(10),
            false,
        );
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut head_lines = head.split("\r\n");
        let status = head_lines.next().unwrap_or("").to_string();
        let mut order: Vec<String> = head
            .split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let lines = head_lines
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                l.starts_with("set-cookie:") || l.starts_with("cache-control:")
            })
            .map(mask_dates)
            .collect();
        let mut seen = Vec::new();
        let mut server = "-".to_string();
        for (s, n) in self.servers.iter().zip(before) {
            let got = s.requests();
            if got.len() > n {
                server = body.trim().to_string();
                seen = got[n]
                    .header_all("cookie")
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                order.push("|".into());
                order.extend(got[n].headers.iter().map(|(h, _)| h.to_ascii_lowercase()));
            }
        }
        Outcome {
            status,
            server,
            lines,
            seen,
            order,
            log: self.log_line(&path),
        }
    }

    /// The log line of `path` (without `path=`), waiting for it.
    fn log_line(&self, path: &str) -> String {
        let want = format!(" path={path}");
        let mut buf = vec![0u8; 65536];
        self.logs
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(n) = self.logs.recv(&mut buf) {
                let l = String::from_utf8_lossy(&buf[..n]).into_owned();
                if let Some(i) = l.find("ts=")
                    && l.trim_end().ends_with(&want)
                {
                    return l[i..].trim_end().trim_end_matches(&want).to_string();
                }
            }
        }
        panic!("no log line for {path}");
    }

    /// Runs a command on the stats socket.
    fn admin(&self, cmd: &str) -> String {
        // The socket may come up just after the listeners.
        let path = self.dir.path().join("admin.sock");
        let mut conn = None;
        wait_until(Duration::from_secs(5), || {
            conn = UnixStream::connect(&path).ok();
            conn.is_some()
        });
        let mut s = conn.expect("admin socket");
        s.write_all(format!("{cmd}\n").as_bytes()).expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    /// Waits until `GET /up` (a `return` rule printing `srv_is_up(...)`) says `want`.
    fn wait_up(&self, want: &str) {
        let ok = wait_until(Duration::from_secs(10), || {
            let raw = send_raw_with(
                local(self.cfg.port("port")),
                b"GET /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                Duration::from_secs(3),
                false,
            );
            String::from_utf8_lossy(&raw).ends_with(want)
        });
        assert!(ok, "server state never became {want}");
    }
}

/// `|XXXXX` date fields (5 base64 characters) become `|DATE`: both proxies write the
/// current 4-second stamp, which may differ by one between the two runs.
fn mask_dates(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('|') {
        out.push_str(&rest[..=i]);
        let tail = &rest[i + 1..];
        let n = tail
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
            .count();
        if n == 5 {
            out.push_str("DATE");
            rest = &tail[5..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// The 5-character base64 date HAProxy writes for `secs` (`s30tob64(secs >> 2)`).
fn date(secs: u64) -> String {
    const TAB: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut v = (secs >> 2) as u32;
    let mut s = String::new();
    for _ in 0..5 {
        s.push(TAB[((v >> 24) & 0x3f) as usize] as char);
        v <<= 6;
    }
    s
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Two plain servers named s1 and s2.
fn two_servers() -> Vec<HttpBackend> {
    vec![HttpBackend::start("s1"), HttpBackend::start("s2")]
}

/// Runs `requests` (listener, method, extra headers) through both proxies and returns
/// gatehouse's outcomes after checking they equal haproxy's; `between` runs on each
/// setup before the requests (admin commands, waiting for health).
fn compare(
    template: &str,
    servers: &dyn Fn() -> Vec<HttpBackend>,
    between: &dyn Fn(&Setup),
    requests: &[(&str, &str, &str)],
) -> Vec<Outcome> {
    require_haproxy();
    let servers = Rc::new(servers());
    let mut results = Vec::new();
    for haproxy in [true, false] {
        let mut s = start(haproxy, template, &servers);
        between(&s);
        let got: Vec<Outcome> = requests
            .iter()
            .map(|(port, method, extra)| s.send(port, method, extra))
            .collect();
        s.proxy.stop();
        results.push(got);
    }
    let ours = results.pop().expect("gatehouse run");
    let theirs = results.pop().expect("haproxy run");
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(
            o,
            t,
            "request {} ({:?}) differs from haproxy",
            i + 1,
            requests[i]
        );
    }
    ours
}

const INSERT: &str = r#"global
  stats socket {sock} level admin
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
listen app
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  LOG
  cookie SRV insert indirect nocache httponly secure domain .ex.com domain .ex.org attr SameSite=Lax
  force-persist if { hdr(x-force) 1 }
  ignore-persist if { hdr(x-ignore) 1 }
  server s1 {s1} cookie a1
  server s2 {s2} cookie b2
listen other
  bind 127.0.0.1:{port2}
  log 127.0.0.1:{syslog} local0
  LOG
  cookie SRV insert postonly
  server s1 {s1} cookie a1
  server s2 {s2} cookie b2
"#;

/// A cacheable answer (a validator) from s1, an uncacheable one from s2.
fn cacheable_s1() -> Vec<HttpBackend> {
    vec![
        HttpBackend::builder("s1")
            .header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
            .start(),
        HttpBackend::start("s2"),
    ]
}

#[test]
fn insert_mode_sets_the_cookie_and_hides_it_from_servers_like_haproxy() {
    let cfg = INSERT.replace("LOG", LOG);
    let ours = compare(
        &cfg,
        &cacheable_s1,
        &|_| {},
        &[
            ("port", "GET", ""),
            ("port", "GET", "Cookie: a=1; SRV=b2; c=2\r\n"),
            ("port", "GET", "Cookie: SRV=a1\r\n"),
            ("port", "GET", "Cookie: SRV=zz;x=1\r\n"),
            ("port", "GET", "Cookie: SRV=b2\r\nX-Ignore: 1\r\n"),
            ("port", "POST", ""),
            ("port2", "GET", ""),
            ("port2", "POST", ""),
        ],
    );
    // A new client gets the cookie of the server that answered, with every attribute
    // in HAProxy's order, and `Cache-control: private` on a cacheable answer.
    assert_eq!(ours[0].server, "s1");
    assert_eq!(
        ours[0].lines,
        [
            "set-cookie: SRV=a1; path=/; domain=.ex.com; domain=.ex.org; HttpOnly; Secure; SameSite=Lax",
            "cache-control: private"
        ]
    );
    assert_eq!(ours[0].log, "ts=--NI s=app/s1 rc=0");
    // A returning client sticks to its server, which never sees the cookie.
    assert_eq!(ours[1].server, "s2");
    assert_eq!(ours[1].seen, ["a=1; c=2"]);
    assert!(ours[1].lines.is_empty(), "{:?}", ours[1].lines);
    assert_eq!(ours[1].log, "ts=--VN s=app/s2 rc=0");
    assert_eq!(ours[2].seen, Vec::<String>::new());
    // An unknown value is balanced and replaced.
    assert_eq!(ours[3].log.get(..7), Some("ts=--II"));
    assert_eq!(ours[3].seen, ["x=1"]);
    // ignore-persist: balanced, no cookie set.
    assert_eq!(ours[4].log.get(..7), Some("ts=--UN"));
    assert!(ours[4].lines.is_empty());
    // Not cacheable (POST): no Cache-control.
    assert_eq!(ours[5].lines.len(), 1, "{:?}", ours[5].lines);
    // postonly: only the POST gets a cookie.
    assert!(ours[6].lines.is_empty());
    assert_eq!(ours[7].lines.len(), 1);
}

const MODES: &str = r#"defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
listen prefix
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  LOG
  cookie JSESSIONID prefix indirect nocache
  server s1 {s1} cookie a1
  server s2 {s2} cookie b2
listen rewrite
  bind 127.0.0.1:{port2}
  log 127.0.0.1:{syslog} local0
  LOG
  cookie JSESSIONID rewrite
  server s1 {s1} cookie a1
  server s2 {s2} cookie b2
"#;

/// Both servers set their own session cookie.
fn session_servers() -> Vec<HttpBackend> {
    ["s1", "s2"]
        .iter()
        .map(|n| {
            HttpBackend::builder(n)
                .header("Set-Cookie", "JSESSIONID=abc; Path=/app")
                .start()
        })
        .collect()
}

#[test]
fn prefix_and_rewrite_modes_change_the_servers_cookie_like_haproxy() {
    let cfg = MODES.replace("LOG", LOG);
    let ours = compare(
        &cfg,
        &session_servers,
        &|_| {},
        &[
            ("port", "GET", ""),
            ("port", "GET", "Cookie: k=v; JSESSIONID=b2~xyz\r\n"),
            ("port", "GET", "Cookie: JSESSIONID = b2~xyz ; k=v\r\n"),
            ("port2", "GET", ""),
            ("port2", "GET", "Cookie: JSESSIONID=b2\r\n"),
        ],
    );
    // prefix: the server's value gets the server's cookie in front…
    assert_eq!(ours[0].server, "s1");
    assert_eq!(ours[0].lines, ["set-cookie: JSESSIONID=a1~abc; Path=/app"]);
    assert_eq!(ours[0].log, "ts=--NR s=prefix/s1 rc=0");
    // …which is taken off again on the way back; with `indirect`, the server's new
    // cookie is dropped for a client that already has one.
    assert_eq!(ours[1].server, "s2");
    assert_eq!(ours[1].seen, ["k=v; JSESSIONID=xyz"]);
    assert_eq!(ours[1].log, "ts=--VD s=prefix/s2 rc=0");
    assert!(ours[1].lines.is_empty(), "{:?}", ours[1].lines);
    // Spaces around `=` go, as HAProxy strips them.
    assert_eq!(ours[2].seen, ["JSESSIONID=xyz ; k=v"]);
    // rewrite: the value becomes the server's cookie, and the cookie stays in requests.
    assert_eq!(ours[3].lines, ["set-cookie: JSESSIONID=a1; Path=/app"]);
    assert_eq!(ours[4].server, "s2");
    assert_eq!(ours[4].seen, ["JSESSIONID=b2"]);
    assert_eq!(ours[4].log, "ts=--VR s=rewrite/s2 rc=0");
}

const DATES: &str = r#"defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
listen app
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  LOG
  cookie SRV insert maxidle 30m maxlife 2h
  server s1 {s1} cookie a1
  server s2 {s2} cookie b2
listen dyn
  bind 127.0.0.1:{port2}
  log 127.0.0.1:{syslog} local0
  LOG
  cookie SRV insert dynamic
  dynamic-cookie-key s3cr3t
  server s1 {s1}
  server s2 {s2} cookie fixed
"#;

#[test]
fn maxidle_maxlife_dates_and_dynamic_cookies_are_haproxys() {
    let cfg = DATES.replace("LOG", LOG);
    let t = now();
    let fresh = format!("Cookie: SRV=b2|{}|{}\r\n", date(t - 60), date(t - 600));
    let idle = format!("Cookie: SRV=b2|{}|{}\r\n", date(t - 3600), date(t - 3600));
    let old = format!("Cookie: SRV=b2|{}|{}\r\n", date(t - 60), date(t - 3 * 3600));
    let ours = compare(
        &cfg,
        &two_servers,
        &|_| {},
        &[
            ("port", "GET", ""),
            ("port", "GET", &fresh),
            ("port", "GET", &idle),
            ("port", "GET", &old),
            ("port2", "GET", ""),
            ("port2", "GET", ""),
        ],
    );
    assert_eq!(ours[0].lines, ["set-cookie: SRV=a1|DATE|DATE; path=/"]);
    // Seen a minute ago: kept, its last-seen date refreshed.
    assert_eq!(ours[1].server, "s2");
    assert_eq!(ours[1].log, "ts=--VU s=app/s2 rc=0");
    assert_eq!(ours[1].lines, ["set-cookie: SRV=b2|DATE|DATE; path=/"]);
    // Idle for an hour (maxidle 30m): expired; older than maxlife: old.
    assert_eq!(ours[2].log.get(..7), Some("ts=--EI"));
    assert_eq!(ours[3].log.get(..7), Some("ts=--OI"));
    // dynamic: a 16-hex-digit value from the key, the address and the port; an
    // explicit cookie wins.
    let v = ours[4].lines[0].trim_start_matches("set-cookie: SRV=");
    assert_eq!(v.find(';'), Some(16), "{v}");
    assert_eq!(ours[5].lines, ["set-cookie: SRV=fixed; path=/"]);
}

const DOWN: &str = r#"defaults
  mode http
  retries 1
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend up
  bind 127.0.0.1:{port}
  http-request return status 200 content-type text/plain lf-string "%[srv_is_up(plain/s2)]%[srv_is_up(persist/s2)]%[srv_is_up(rescue/s2)]"
backend plain
  cookie SRV insert indirect
  server s1 {s1} cookie a1
  server s2 127.0.0.1:{dead} cookie b2 check inter 100ms fall 1
backend persist
  cookie SRV insert indirect
  option persist
  server s1 {s1} cookie a1
  server s2 127.0.0.1:{dead} cookie b2 check inter 100ms fall 1
backend rescue
  cookie SRV insert indirect
  option persist
  option redispatch
  server s1 {s1} cookie a1
  server s2 127.0.0.1:{dead} cookie b2 check inter 100ms fall 1
frontend fe
  bind 127.0.0.1:{port2}
  log 127.0.0.1:{syslog} local0
  LOG
  use_backend persist if { hdr(x-be) persist }
  use_backend rescue if { hdr(x-be) rescue }
  default_backend plain
"#;

#[test]
fn a_down_server_loses_its_clients_unless_option_persist_and_redispatch_rescues_them() {
    let cfg = DOWN.replace("LOG", LOG);
    let ours = compare(
        &cfg,
        &two_servers,
        &|s| s.wait_up("000"),
        &[
            ("port2", "GET", "Cookie: SRV=b2\r\n"),
            ("port2", "GET", "Cookie: SRV=b2\r\nX-Be: persist\r\n"),
            ("port2", "GET", "Cookie: SRV=b2\r\nX-Be: rescue\r\n"),
        ],
    );
    // Without option persist the DOWN server's clients are balanced and re-cookied.
    assert_eq!(ours[0].server, "s1");
    assert_eq!(ours[0].lines, ["set-cookie: SRV=a1; path=/"]);
    assert_eq!(ours[0].log, "ts=--DI s=plain/s1 rc=0");
    // option persist alone: the request insists on the dead server: 503 after retries.
    assert!(
        ours[1].status.starts_with("HTTP/1.1 503"),
        "{}",
        ours[1].status
    );
    assert_eq!(ours[1].log, "ts=SCDN s=persist/s2 rc=1");
    // with option redispatch: the retry goes to a live server, which sets its cookie.
    assert_eq!(ours[2].server, "s1");
    assert_eq!(ours[2].lines, ["set-cookie: SRV=a1; path=/"]);
    assert_eq!(ours[2].log, "ts=--DI s=rescue/s1 rc=+1");
}

#[test]
fn drain_keeps_persistent_clients_maint_drops_them_and_force_persist_overrides() {
    let cfg = INSERT.replace("LOG", LOG);
    require_haproxy();
    let servers = Rc::new(two_servers());
    let mut runs = Vec::new();
    for haproxy in [true, false] {
        let mut s = start(haproxy, &cfg, &servers);
        let mut got = Vec::new();
        s.admin("set server app/s2 state drain");
        got.push(s.send("port", "GET", "Cookie: SRV=b2\r\n"));
        got.push(s.send("port", "GET", ""));
        got.push(s.send("port", "GET", ""));
        s.admin("set server app/s2 state maint");
        got.push(s.send("port", "GET", "Cookie: SRV=b2\r\n"));
        got.push(s.send("port", "GET", "Cookie: SRV=b2\r\nX-Force: 1\r\n"));
        s.proxy.stop();
        runs.push(got);
    }
    let ours = runs.pop().expect("gatehouse");
    let theirs = runs.pop().expect("haproxy");
    assert_eq!(ours, theirs);
    // Drain: the persistent client stays on s2, new clients only reach s1.
    assert_eq!(ours[0].server, "s2");
    assert_eq!(ours[0].log, "ts=--VN s=app/s2 rc=0");
    assert_eq!(ours[1].server, "s1");
    assert_eq!(ours[2].server, "s1");
    // Maintenance: the persistent client is moved to s1 and re-cookied…
    assert_eq!(ours[3].server, "s1");
    assert_eq!(ours[3].log, "ts=--DI s=app/s1 rc=0");
    // …unless force-persist sends it to s2 anyway.
    assert_eq!(ours[4].server, "s2");
    assert_eq!(ours[4].log, "ts=--DN s=app/s2 rc=0");
}

#[test]
fn cookie_options_are_checked_like_haproxy() {
    for (line, msg) in [
        (
            "cookie SRV rewrite insert",
            "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.",
        ),
        (
            "cookie SRV rewrite indirect",
            "cookie 'rewrite' and 'indirect' modes are incompatible.",
        ),
        (
            "cookie SRV preserve",
            "cookie 'preserve' requires at least 'insert' or 'indirect'.",
        ),
        (
            "force-persist",
            "requires either 'if' or 'unless' followed by a condition.",
        ),
    ] {
        let cfg = format!(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nbackend b\n  {line}\n  server s 127.0.0.1:80\n"
        );
        let dir = TempDir::new("cookie-check");
        let path = dir.path().join("h.cfg");
        std::fs::write(&path, &cfg).expect("write cfg");
        for bin in [gatehouse_bin(), require_haproxy()] {
            let (code, out, err) = check(&bin, &[&path]);
            let all = format!("{out}{err}");
            assert_ne!(code, 0, "{line}: {bin:?} accepted it");
            assert!(all.contains(msg), "{line}: {bin:?} said {all}");
        }
    }
}
