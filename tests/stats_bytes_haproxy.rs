//! The byte counters (`bin`, `bout`, the log's `%U` and `%B`) and the error and
//! response counters of `show stat`, compared with HAProxy 2.6 on one configuration
//! and one mixed run of traffic: HTTP/1 (`Content-Length` and chunked bodies, trailers,
//! an interim `103`), HTTP/2 over cleartext (h2c) and over TLS, a WebSocket and a
//! CONNECT tunnel, local replies (`return`, `redirect`, `deny`, `auth`, an errorfile),
//! `http-response return`/`deny`, a server that closes, one cut mid-body, one refusing
//! connections, a bad request and a silent client. Every log line's bytes and every
//! compared column must be HAProxy's.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::pki::Pki;
use support::{Config, free_port, http_get_until_close, local, proxy_builder, wait_until};

const CFG: &str = "\
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-request 500ms
    timeout tunnel 5s
    retries 1
    log stdout format raw local0
    log-format \"%ft %b/%s %ST B=%B U=%U %tsc %{+Q}r\"
userlist ul
    user a insecure-password b
frontend fe
    bind 127.0.0.1:{fe}
    bind 127.0.0.1:{h2c} proto h2
    bind 127.0.0.1:{tls} ssl crt {crt} alpn h2,http/1.1
    http-request return status 200 content-type text/plain string hi if { path /ret }
    http-request redirect location /x if { path /redir }
    http-request deny if { path /deny }
    http-request auth realm r if { path /auth } !{ http_auth(ul) }
    use_backend nosrv if { path /nosrv }
    use_backend refused if { path /refused }
    default_backend be
backend be
    http-request return status 201 if { path /bret }
    http-response return status 202 if { res.hdr(x-do) -m str return }
    http-response deny if { res.hdr(x-do) -m str deny }
    server s1 {srv}
backend nosrv
    errorfile 503 {errorfile}
backend refused
    server s1 127.0.0.1:{closed}
listen stats
    bind 127.0.0.1:{st}
    stats enable
    stats uri /stats
";

/// The WebSocket key the client sends and the accept value the server answers.
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// One request read by the scripted server: its path and whether its body was read.
fn read_request(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        let v = v.trim();
        if n.eq_ignore_ascii_case("content-length") {
            length = v.parse().ok()?;
        } else if n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
            chunked = true;
        }
    }
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if n == 0 {
                // Trailers up to the empty line.
                loop {
                    let mut t = String::new();
                    r.read_line(&mut t).ok()?;
                    if t.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut data = vec![0; n + 2];
            r.read_exact(&mut data).ok()?;
        }
    } else {
        let mut body = vec![0; length];
        r.read_exact(&mut body).ok()?;
    }
    Some(path)
}

/// The scripted server: each path answers in its own way (see `CFG`'s traffic).
fn serve(conn: TcpStream) {
    let mut w = conn.try_clone().expect("clone");
    let mut r = BufReader::new(conn);
    while let Some(path) = read_request(&mut r) {
        let reply: &[u8] = match path.as_str() {
            "/ws" => {
                let head = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {WS_ACCEPT}\r\n\r\n"
                );
                let _ = w.write_all(head.as_bytes());
                // Echoes each read twice until the client leaves.
                let mut buf = [0; 4096];
                while let Ok(n) = r.get_mut().read(&mut buf) {
                    if n == 0 || w.write_all(&[&buf[..n], &buf[..n]].concat()).is_err() {
                        break;
                    }
                }
                return;
            }
            "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
            "/chunked-plain" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "/early" => b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "/rsp-return" => b"HTTP/1.1 200 OK\r\nX-Do: return\r\nContent-Length: 6\r\n\r\nsecret",
            "/rsp-deny" => b"HTTP/1.1 200 OK\r\nX-Do: deny\r\nContent-Length: 6\r\n\r\nsecret",
            "/partial" => {
                let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789");
                return;
            }
            "/drop" => return,
            _ => b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\nhello\n",
        };
        if w.write_all(reply).is_err() {
            return;
        }
    }
}

/// Starts the scripted server; its address.
fn start_server() -> std::net::SocketAddr {
    support::acceptor::serve_each(serve)
}

/// Runs curl with `args`; whether it succeeded does not matter (error statuses).
fn curl(args: &[&str]) {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl must be installed");
    let _ = out;
}

/// Sends `bytes` on a new connection and reads until the proxy closes, or until the
/// answer holds `until`'s mark (then sends its bytes and reads `want` more bytes).
fn raw(port: u16, bytes: &[u8], until: Option<(&[u8], &[u8], usize)>) -> Vec<u8> {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = [0; 4096];
    let mut sent = None;
    loop {
        if let Some((mark, then, want)) = until {
            if sent.is_none()
                && let Some(at) = out.windows(mark.len()).position(|w| w == mark)
            {
                s.write_all(then).unwrap();
                sent = Some(at + mark.len());
            }
            if sent.is_some_and(|at| out.len() >= at + want) {
                return out;
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

const COLUMNS: [&str; 20] = [
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "lbtot",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "intercepted",
];

/// What one proxy logged (status, bytes, flags, request of each line) and counted.
fn run(haproxy: bool, cfg: &Config) -> (Vec<String>, Vec<String>) {
    let cfg = cfg.with_fresh_ports();
    // Only the stats port is waited on: the frontend sees no probe connection.
    let p = proxy_builder(haproxy, &cfg)
        .wait_ports(&[cfg.port("st")])
        .start();
    let who = if haproxy { "haproxy" } else { "gatehouse" };
    let (fe, h2c, tls) = (cfg.port("fe"), cfg.port("h2c"), cfg.port("tls"));
    let h1 = |path: &str| format!("http://127.0.0.1:{fe}{path}");
    for path in [
        "/get",
        "/chunked",
        "/chunked-plain",
        "/early",
        "/ret",
        "/redir",
        "/deny",
        "/auth",
        "/bret",
        "/rsp-return",
        "/rsp-deny",
        "/nosrv",
        "/refused",
        "/drop",
        "/partial",
    ] {
        curl(&[&h1(path)]);
    }
    curl(&["-d", "hello", &h1("/post")]);
    curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "-d",
        "hello",
        &h1("/post"),
    ]);
    // A chunked body with a trailer.
    raw(
        fe,
        b"POST /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: abc\r\n\r\n",
        None,
    );
    let h2 = |path: &str| format!("http://127.0.0.1:{h2c}{path}");
    for path in [
        "/get",
        "/chunked",
        "/early",
        "/ret",
        "/deny",
        "/nosrv",
        "/rsp-deny",
    ] {
        curl(&["--http2-prior-knowledge", &h2(path)]);
    }
    curl(&[
        "--http2-prior-knowledge",
        "-H",
        "X-A: b",
        "-d",
        "hello",
        &h2("/post"),
    ]);
    let tls_url = |path: &str| format!("https://127.0.0.1:{tls}{path}");
    curl(&["-k", "--http2", &tls_url("/get")]);
    curl(&["-k", "--http2", "-d", "hello", &tls_url("/post")]);
    curl(&["-k", "--http1.1", &tls_url("/chunked")]);
    // A WebSocket: 4 bytes up, the server echoes 8.
    let ws = format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let got = raw(fe, ws.as_bytes(), Some((b"\r\n\r\n", b"abcd", 8)));
    assert!(got.starts_with(b"HTTP/1.1 101"), "{who}: {got:?}");
    // A CONNECT tunnel to the server, carrying a request of its own.
    let connect = "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n";
    let got = raw(
        fe,
        connect.as_bytes(),
        Some((b"hello\n", b"GET /get HTTP/1.1\r\nHost: x\r\n\r\n", 70)),
    );
    assert!(got.starts_with(b"HTTP/1.1 200"), "{who}: {got:?}");
    // A bad request, then a client silent past `timeout http-request`.
    raw(fe, b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", None);
    let r = raw(fe, b"GET / HTTP/1.1\r\nHost: x\r\n", None);
    assert!(r.starts_with(b"HTTP/1.1 408"), "{who}: {r:?}");
    // Every exchange logged: a definite event before reading the counters.
    let want = 33;
    let lines = || {
        p.stdout()
            .lines()
            .filter(|l| l.starts_with("fe"))
            .map(|l| {
                // The absolute targets of HTTP/2 requests name the port: left out.
                let l = l.replace(&format!(":{h2c}/"), ":H2C/");
                l.replace(&format!(":{tls}/"), ":TLS/")
            })
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || lines().len() >= want),
        "{who}: {} log lines: {}",
        lines().len(),
        p.stdout()
    );
    let r = http_get_until_close(local(cfg.port("st")), "/stats;csv", &[]).expect("stats");
    let t: Vec<Vec<String>> = String::from_utf8(r.body)
        .expect("utf-8")
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let mut counters = Vec::new();
    for line in &t[1..] {
        if line.len() < 2 || line[0] == "stats" {
            continue;
        }
        for c in COLUMNS {
            let i = t[0]
                .iter()
                .position(|h| h == c || h == &format!("# {c}"))
                .unwrap_or_else(|| panic!("no column {c}"));
            counters.push(format!("{}/{} {c}={}", line[0], line[1], line[i]));
        }
    }
    let mut logged = lines();
    logged.sort();
    (logged, counters)
}

#[test]
fn bytes_and_error_counters_are_haproxys_over_a_mixed_run() {
    support::require_haproxy();
    let srv = start_server();
    let dir = std::env::temp_dir().join(format!("gatehouse-bytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let errorfile = dir.join("503.http");
    std::fs::write(
        &errorfile,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nCache-Control: no-cache\r\n\r\n<html>custom 503</html>\n",
    )
    .unwrap();
    let cfg = Config::new(CFG)
        .listen_port("fe")
        .listen_port("h2c")
        .listen_port("tls")
        .listen_port("st")
        .var("srv", srv)
        .var("closed", free_port())
        .var("crt", Pki::get().p("site.pem"))
        .var("errorfile", errorfile.display());
    let (hl, hc) = run(true, &cfg);
    let (gl, gc) = run(false, &cfg);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(gl, hl, "log lines (status, %B, %U, flags)");
    assert_eq!(gc, hc, "show stat");
    // What HAProxy counts, spelled out for a few lines: a chunked body's end counts one
    // byte (its empty trailer block), an HTTP/2 request its decoded head, a tunnel its
    // bytes as they are after the head, an interim response its head.
    let has = |s: &str| hl.iter().any(|l| l.contains(s));
    for want in [
        "200 B=75 U=89 ---- \"GET /chunked HTTP/1.1\"",
        "200 B=77 U=76 ---- \"POST /c HTTP/1.1\"",
        "200 B=64 U=95 ---- \"GET /chunked-plain HTTP/1.1\"",
        "200 B=102 U=87 ---- \"GET /early HTTP/1.1\"",
        "101 B=140 U=141 ---- \"GET /ws HTTP/1.1\"",
        "202 B=",
    ] {
        assert!(has(want), "{want} not in {hl:#?}");
    }
}
