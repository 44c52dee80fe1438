//! `http-response wait-for-body` and the response body fetches (`res.body`,
//! `res.body_len`, `res.body_size`), compared with HAProxy 2.6 on one configuration:
//! the rules after the wait see the body (headers set from it, a `deny` on its
//! content), `at-least` ends the wait early, a server slower than the wait's time gets
//! a 504, a server that closes mid-body ends the wait with what came. The answers the
//! client gets and the log lines (status, `%B`, `%U`, flags) must be HAProxy's.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{Config, local, proxy_builder, wait_until};

const CFG: &str = "\
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    log stdout format raw local0
    log-format \"%ft %b/%s %ST B=%B U=%U %tsc %{+Q}r\"
frontend fe
    bind 127.0.0.1:{fe}
    use_backend early if { path_beg /al/ }
    default_backend be
backend be
    http-response wait-for-body time 500ms
    http-response set-header X-Len %[res.body_len]
    http-response set-header X-Size %[res.body_size]
    http-response set-header X-Body %[res.body]
    http-response deny if { res.body -m sub secret }
    server s1 {srv}
backend early
    http-response wait-for-body time 3s at-least 4
    http-response set-header X-Len %[res.body_len]
    server s1 {srv}
";

/// Reads one request head; its path.
fn read_head(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 || h.trim_end().is_empty() {
            return Some(path);
        }
    }
}

/// The scripted server (requests carry no body).
fn serve(conn: TcpStream) {
    let mut w = conn.try_clone().expect("clone");
    let mut r = BufReader::new(conn);
    while let Some(path) = read_head(&mut r) {
        let path = path.trim_start_matches("/al");
        let reply: &[u8] = match path {
            "/secret" => b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\nthe secret is 42",
            "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
            "/slow" => {
                // Ten bytes, then the rest long after the waits' times.
                let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789");
                std::thread::sleep(Duration::from_secs(4));
                let _ = w.write_all(b"abcdefghij");
                continue;
            }
            "/partial" => {
                let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789");
                return;
            }
            "/eof" => {
                let _ = w.write_all(b"HTTP/1.1 200 OK\r\n\r\nuntil close body");
                return;
            }
            _ => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
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

/// A GET of `path` on its own connection: the answer's status line, its headers named
/// `x-*` (lowercase) and its body, as far as the proxy sent them before closing.
fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let mut kept = vec![lines.next().unwrap_or("").to_owned()];
    kept.extend(
        lines
            .map(str::to_ascii_lowercase)
            .filter(|l| l.starts_with("x-")),
    );
    kept.push(body.to_owned());
    kept.join("|")
}

const PATHS: [&str; 7] = [
    "/get", "/secret", "/chunked", "/slow", "/partial", "/eof", "/al/slow",
];

/// What one proxy answered for each path, and its log lines.
fn run(haproxy: bool, cfg: &Config) -> (Vec<String>, Vec<String>) {
    let cfg = cfg.with_fresh_ports();
    let p = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    let fe = cfg.port("fe");
    let answers: Vec<String> = PATHS.iter().map(|path| get(fe, path)).collect();
    let lines = || {
        p.stdout()
            .lines()
            .filter(|l| l.starts_with("fe ") && !l.contains("<BADREQ>"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || lines().len() >= PATHS.len()),
        "{}",
        p.stdout()
    );
    let mut logged = lines();
    logged.sort();
    (answers, logged)
}

#[test]
fn response_bodies_are_waited_for_as_in_haproxy() {
    support::require_haproxy();
    let srv = start_server();
    let cfg = Config::new(CFG).listen_port("fe").var("srv", srv);
    let (ha, hl) = run(true, &cfg);
    let (ga, gl) = run(false, &cfg);
    assert_eq!(ga, ha, "answers");
    assert_eq!(gl, hl, "log lines");
    // What HAProxy does, spelled out.
    let want = [
        // The rules after the wait see the body.
        "HTTP/1.1 200 OK|x-len: 5|x-size: 5|x-body: hello|hello",
        "HTTP/1.1 502 Bad Gateway|",
        // A chunked body's size is what was held.
        "HTTP/1.1 200 OK|x-len: 8|x-size: 8|x-body: helloabc|",
        // The wait's time ran out: 504.
        "HTTP/1.1 504 Gateway Time-out|",
        // The server closed: the wait ends with what came.
        "HTTP/1.1 200 OK|x-len: 10|x-size: 20|x-body: 0123456789|0123456789",
        "HTTP/1.1 200 OK|x-len: 16|x-size: 16|x-body: until close body|until close body",
        // `at-least 4`: the rules go on with the ten bytes that came.
        "HTTP/1.1 200 OK|x-len: 10|0123456789abcdefghij",
    ];
    for (i, w) in want.iter().enumerate() {
        assert!(
            ha[i].starts_with(w),
            "{}: {:?} is not {w:?}",
            PATHS[i],
            ha[i]
        );
    }
}
