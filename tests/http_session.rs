//! The life of a keep-alive client session in http mode, checked against what haproxy
//! 2.6.12 does for the same config: per-request log timers, termination states of local
//! replies, the 408 page, `http-reuse` modes counted in server connections, `option
//! abortonclose`, request body streaming, a malformed chunk arriving late, `option
//! forwardfor except`, `timeout http-keep-alive` and connection-mode precedence.
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against the reference haproxy.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::*;

const DEFAULTS: &str = "global\n  log stdout format raw local0\n\
    defaults\n  mode http\n  log global\n  timeout connect 2s\n  timeout client 5s\n\
    \x20 timeout server 5s\n";

/// A proxy with `frontend fe` on `{port}` (lines `fe`) and `backend be` (lines `be`)
/// whose servers are `servers`.
fn proxy(fe: &str, be: &str, servers: &[SocketAddr]) -> (Daemon, u16) {
    let mut text = format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n{fe}  default_backend be\nbackend be\n{be}"
    );
    for (i, s) in servers.iter().enumerate() {
        text.push_str(&format!("  server s{i} {s}\n"));
    }
    let cfg = Config::new(&text).listen_port("port");
    let d = start_proxy(&cfg);
    (d, cfg.port("port"))
}

/// Log lines of the proxy (stdout) containing `needle`, waiting up to 10 s for `n`.
fn log_lines(d: &Daemon, needle: &str, n: usize) -> Vec<String> {
    d.wait_stdout_lines(needle, n, DEFAULT_TIMEOUT)
}

/// The value of `key=` in a log line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let pat = format!("{key}=");
    line.split(' ')
        .find_map(|t| t.strip_prefix(pat.as_str()))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

fn num(line: &str, key: &str) -> i64 {
    field(line, key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} not a number in {line:?}"))
}

/// Milliseconds of the day of a `dd/Mmm/yyyy:hh:mm:ss.mmm` date.
fn day_ms(date: &str) -> i64 {
    let t = &date[date.len() - 12..];
    let h: i64 = t[0..2].parse().unwrap();
    let m: i64 = t[3..5].parse().unwrap();
    let s: i64 = t[6..8].parse().unwrap();
    let ms: i64 = t[9..12].parse().unwrap();
    ((h * 60 + m) * 60 + s) * 1000 + ms
}

/// Sends a GET on `c` and reads one response.
fn get(c: &mut HttpClient, path: &str) -> Response {
    c.get(path, &[("Host", "x")])
        .expect("GET through the proxy")
}

const TIMERS: &str = "  log-format \"t=%t tr=%tr Ti=%Ti TR=%TR Tw=%Tw Tc=%Tc Tr=%Tr Ta=%Ta Tt=%Tt ts=%tsc B=%B ST=%ST %r\"\n";

/// [`TIMERS`] plus the client's port (`cp=`), to tell one client's lines from those of
/// other connections (such as the start-up probe's).
const TIMERS_CP: &str = "  log-format \"t=%t tr=%tr Ti=%Ti TR=%TR Tw=%Tw Tc=%Tc Tr=%Tr Ta=%Ta Tt=%Tt ts=%tsc B=%B ST=%ST cp=%cp %r\"\n";

#[test]
fn keepalive_requests_have_their_own_timers() {
    let be = HttpBackend::builder("s1")
        .delay(Duration::from_millis(40))
        .start();
    let (d, port) = proxy(TIMERS, "", &[be.addr()]);
    let mut c = HttpClient::connect(local(port)).unwrap();
    // The idle and head times (Ti, TR) are what this test measures: the sleeps are
    // the behaviour under test. Each is compared with the time the client really
    // spent (a sleep may last longer on a loaded machine), in milliseconds.
    let ms = |from: Instant, to: Instant| (to - from).as_millis() as i64;
    let connected = Instant::now();
    // The first idle time starts when the proxy accepts (late on a busy machine): the
    // kernel's accept queue is empty once it has.
    assert!(
        wait_until(DEFAULT_TIMEOUT, || procnet::accept_queue(port) == 0),
        "the proxy never accepted"
    );
    let accepted = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    let sent_a = Instant::now();
    assert_eq!(get(&mut c, "/a").status, 200);
    let got_a = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    let sent_b = Instant::now();
    assert_eq!(get(&mut c, "/b").status, 200);
    let got_b = Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    let sent_c = Instant::now();
    c.stream().write_all(b"GET /c HTTP/1.1\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let head_c = ms(sent_c, Instant::now());
    c.stream().write_all(b"Host: x\r\n\r\n").unwrap();
    assert_eq!(c.read_response(false).unwrap().status, 200);
    let got_c = Instant::now();
    let l = log_lines(&d, "ST=200", 3);
    assert_eq!(l.len(), 3, "{l:#?}");
    let (a, b, c3) = (&l[0], &l[1], &l[2]);
    // Each idle time: at least from when the proxy surely started counting, at most
    // from when it could have.
    let (idle_b, idle_c) = (ms(got_a, sent_b), ms(got_b, sent_c));
    for (line, (lo, hi), active) in [
        (
            a,
            (ms(accepted, sent_a), ms(connected, sent_a)),
            ms(sent_a, got_a),
        ),
        (b, (idle_b, idle_b), ms(sent_b, got_b)),
        (c3, (idle_c, idle_c), ms(sent_c, got_c)),
    ] {
        let (ti, ta, tt) = (num(line, "Ti"), num(line, "Ta"), num(line, "Tt"));
        assert!(
            (lo - 20..hi + 150).contains(&ti),
            "Ti should be the idle time before the request ({lo}..{hi} ms): {line}"
        );
        assert!(
            ta < active + 100,
            "Ta counts from the request's first byte (~{active} ms): {line}"
        );
        assert!((tt - (ti + ta)).abs() <= 2, "Tt = Ti + Ta: {line}");
        let gap = day_ms(field(line, "tr")) - day_ms(field(line, "t"));
        assert!((gap - ti).abs() <= 2, "%tr - %t = Ti: {line}");
    }
    assert!(
        (head_c - 20..head_c + 150).contains(&num(c3, "TR")),
        "TR: the head took ~{head_c} ms: {c3}"
    );
    // The second request's clock starts where the first one ended.
    let end_a = day_ms(field(a, "t")) + num(a, "Tt");
    assert!((day_ms(field(b, "t")) - end_a).abs() <= 2, "{a}\n{b}");
}

#[test]
fn return_logs_lr_and_deny_logs_pr() {
    let fe = format!(
        "{TIMERS}  http-request return status 200 content-type text/plain string hi if {{ path /ret }}\n\
         \x20 http-request deny if {{ path /deny }}\n"
    );
    let be = HttpBackend::start("s1");
    let (d, port) = proxy(&fe, "", &[be.addr()]);
    let mut c = HttpClient::connect(local(port)).unwrap();
    assert_eq!(get(&mut c, "/ret").status, 200);
    assert_eq!(get(&mut c, "/deny").status, 403);
    let l = log_lines(&d, "GET /ret", 1);
    assert_eq!(field(&l[0], "ts"), "LR--", "{l:?}");
    let l = log_lines(&d, "GET /deny", 1);
    assert_eq!(field(&l[0], "ts"), "PR--", "{l:?}");
    assert_eq!(be.request_count(), 0);
}

#[test]
fn request_timeout_sends_haproxys_own_408_page_not_the_errorfile() {
    let be = HttpBackend::start("s1");
    let text = format!(
        "{DEFAULTS}  timeout http-request 300ms\n  errorfile 408 {{dir}}/e408.http\n\
         frontend fe\n  bind 127.0.0.1:{{port}}\n{TIMERS}  default_backend be\n\
         backend be\n  server s1 {}\n",
        be.addr()
    );
    let dir = tempfile_dir();
    std::fs::write(
        format!("{dir}/e408.http"),
        "HTTP/1.1 408 Custom\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\nmine!\n",
    )
    .unwrap();
    let cfg = Config::new(&text).listen_port("port").var("dir", &dir);
    let d = start_proxy(&cfg);
    let mut s = TcpStream::connect(local(cfg.port("port"))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let got = String::from_utf8_lossy(&got);
    assert!(
        got.starts_with("HTTP/1.1 408 Request Time-out\r\n") && got.contains("Connection: close"),
        "{got}"
    );
    assert!(!got.contains("mine!"), "errorfile 408 is not used: {got}");
    let l = log_lines(&d, "ST=408", 1);
    assert_eq!(field(&l[0], "ts"), "cR--", "{l:?}");
    assert_eq!(field(&l[0], "B"), "0", "{l:?}");
}

/// A fresh directory for errorfiles.
fn tempfile_dir() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("gh-http-session-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

/// Server connections opened for the client sequence `seq` (each letter a keep-alive
/// client sending one request, in order).
fn server_conns(mode: &str, seq: &str) -> usize {
    let be = HttpBackend::start("s1");
    let (d, port) = proxy(TIMERS, &format!("  http-reuse {mode}\n"), &[be.addr()]);
    let mut clients: Vec<(char, HttpClient)> = Vec::new();
    for (i, k) in seq.chars().enumerate() {
        if !clients.iter().any(|(n, _)| *n == k) {
            clients.push((k, HttpClient::connect(local(port)).unwrap()));
        }
        let c = &mut clients.iter_mut().find(|(n, _)| *n == k).unwrap().1;
        let path = format!("/{i}");
        assert_eq!(get(c, &path).status, 200);
        // The request's log line comes once the proxy has kept or pooled the server
        // connection: the next request finds it there.
        let done = log_lines(&d, &format!("GET {path} "), 1);
        assert_eq!(done.len(), 1, "no log line for request {i}: {}", d.stdout());
    }
    be.connections()
}

#[test]
fn http_reuse_never_keeps_one_connection_per_client() {
    assert_eq!(server_conns("never", "AAA"), 1);
    assert_eq!(server_conns("never", "ABAB"), 2);
    assert_eq!(server_conns("never", "AABB"), 2);
}

#[test]
fn http_reuse_never_keeps_a_connection_per_server_for_its_client() {
    let (b1, b2) = (HttpBackend::start("s1"), HttpBackend::start("s2"));
    let (_d, port) = proxy("", "  http-reuse never\n", &[b1.addr(), b2.addr()]);
    let mut c = HttpClient::connect(local(port)).unwrap();
    for _ in 0..6 {
        assert_eq!(get(&mut c, "/").status, 200);
    }
    assert_eq!((b1.request_count(), b2.request_count()), (3, 3));
    assert_eq!((b1.connections(), b2.connections()), (1, 1));
}

#[test]
fn http_reuse_safe_never_shares_for_a_first_request() {
    assert_eq!(server_conns("safe", "AAA"), 1);
    assert_eq!(server_conns("safe", "ABAB"), 2);
    assert_eq!(server_conns("safe", "AABB"), 2);
}

#[test]
fn http_reuse_aggressive_shares_proven_connections_only() {
    assert_eq!(server_conns("aggressive", "AAA"), 1);
    assert_eq!(server_conns("aggressive", "ABAB"), 2);
    assert_eq!(server_conns("aggressive", "AABB"), 1);
}

#[test]
fn http_reuse_always_shares_any_idle_connection() {
    assert_eq!(server_conns("always", "AAA"), 1);
    assert_eq!(server_conns("always", "ABAB"), 1);
    assert_eq!(server_conns("always", "AABB"), 1);
}

/// Client A's request holds the only slot of a `maxconn 1` server for 800 ms; client B's
/// request waits in the queue and B closes. Returns what the server received and B's
/// termination state.
fn queued_client_closes(abortonclose: bool) -> (usize, String) {
    let be = HttpBackend::builder("s1")
        .delay(Duration::from_millis(800))
        .start();
    let opt = if abortonclose {
        "  option abortonclose\n"
    } else {
        ""
    };
    let text = format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n{TIMERS}  default_backend be\n\
         backend be\n{opt}  timeout queue 5s\n  server s1 {} maxconn 1\n",
        be.addr()
    );
    let cfg = Config::new(&text).listen_port("port");
    let d = start_proxy(&cfg);
    let port = cfg.port("port");
    let a = std::thread::spawn(move || http_get(local(port), "/a", &[]).unwrap().status);
    // A holds the server's only slot once its request reached the server.
    assert!(
        wait_until(Duration::from_secs(5), || be.request_count() == 1),
        "request /a did not reach the server"
    );
    let mut b = TcpStream::connect(local(port)).unwrap();
    b.write_all(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // Nothing outside the proxy tells that it read and queued /b (no stats yet):
    // leave it time to, so that B's close comes while /b waits in the queue.
    std::thread::sleep(Duration::from_millis(200));
    b.shutdown(Shutdown::Write).unwrap();
    drop(b);
    assert_eq!(a.join().unwrap(), 200);
    // /b's log line is written when its exchange ended (aborted in the queue, or
    // served after /a).
    let l = log_lines(&d, "GET /b", 1);
    let ts = l
        .first()
        .map(|l| field(l, "ts").to_string())
        .unwrap_or_default();
    (be.request_count(), ts)
}

#[test]
fn abortonclose_aborts_a_queued_request() {
    // gatehouse follows the manual (a closed client aborts a request still queued or
    // connecting). haproxy 2.6.12 was observed not to notice such a close once the
    // request is complete (it served the request / waited for the connect timeout), so
    // the reference run skips this test.
    if reference_run() {
        return;
    }
    assert_eq!(queued_client_closes(true), (1, "CQ--".to_string()));
    let (n, _) = queued_client_closes(false);
    assert_eq!(n, 2, "without abortonclose the request is still served");
}

/// A server whose accept queue is full: connections to it hang in SYN_SENT.
fn unreachable_server() -> (socket2::Socket, Vec<TcpStream>, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    s.listen(0).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    let mut fill = Vec::new();
    for _ in 0..2 {
        let c = socket2::Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        if c.connect_timeout(&addr.into(), Duration::from_millis(200))
            .is_ok()
        {
            fill.push(TcpStream::from(c));
        }
    }
    (s, fill, addr)
}

#[test]
fn abortonclose_aborts_while_connecting() {
    // gatehouse follows the manual (a closed client aborts a request still queued or
    // connecting). haproxy 2.6.12 was observed not to notice such a close once the
    // request is complete (it served the request / waited for the connect timeout), so
    // the reference run skips this test.
    if reference_run() {
        return;
    }
    let (_srv, _fill, addr) = unreachable_server();
    // A connect timeout far beyond the waits below: the close, not the timeout, ends
    // the request however loaded the machine is.
    let text = format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n{TIMERS}  default_backend be\n\
         backend be\n  option abortonclose\n  timeout connect 60s\n  server s1 {addr}\n"
    );
    let cfg = Config::new(&text).listen_port("port");
    let d = start_proxy(&cfg);
    let mut c = TcpStream::connect(local(cfg.port("port"))).unwrap();
    c.write_all(b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // The proxy is connecting: its connection to the server hangs in SYN_SENT.
    assert!(
        wait_until(Duration::from_secs(20), || support::procnet::tcp_sockets()
            .iter()
            .any(
                |r| r.state == support::procnet::SYN_SENT && r.remote.port() == addr.port()
            )),
        "the proxy did not try to connect to the server"
    );
    c.shutdown(Shutdown::Write).unwrap();
    drop(c);
    let t0 = Instant::now();
    let l = d.wait_stdout_lines("GET /c", 1, Duration::from_secs(20));
    // Aborted by the client's close (`CC`), well before the connect timeout.
    assert_eq!(field(&l[0], "ts"), "CC--", "{l:?}");
    assert!(t0.elapsed() < Duration::from_secs(20), "{l:?}");
    assert!(num(&l[0], "Tt") < 30_000, "{l:?}");
}

/// A raw backend that records how many bytes it received, answering 200 once it saw
/// `total` bytes.
fn recording_backend(total: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut buf = vec![0u8; 65536];
        let mut n = 0;
        while n < total {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(k) => {
                    n += k;
                    g.store(n, Ordering::SeqCst);
                }
            }
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        // Keep the connection until the proxy is done with it.
        let _ = s.set_read_timeout(Some(DEFAULT_TIMEOUT));
        let _ = s.read_to_end(&mut Vec::new());
    });
    (addr, got)
}

/// Sends `head` and `first`, waits until the server got `first`'s bytes (the proxy
/// streams), then sends `rest` and expects 200.
fn body_streams(head: &str, first: &[u8], rest: &[u8], server_total: usize) {
    let (addr, got) = recording_backend(server_total);
    let (_d, port) = proxy("", "", &[addr]);
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(first).unwrap();
    let want = head.len() / 2 + first.len();
    assert!(
        wait_until(Duration::from_secs(3), || got.load(Ordering::SeqCst)
            >= want),
        "the server did not get the first part of the body before the rest was sent \
         (got {} bytes)",
        got.load(Ordering::SeqCst)
    );
    c.write_all(rest).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut r = [0u8; 12];
    c.read_exact(&mut r).unwrap();
    assert_eq!(&r, b"HTTP/1.1 200");
}

#[test]
fn content_length_body_is_streamed_not_buffered() {
    let first = vec![b'a'; 200_000];
    let rest = vec![b'b'; 4_800_000];
    let head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n";
    body_streams(head, &first, &rest, 5_000_000);
}

#[test]
fn chunked_body_is_streamed_not_buffered() {
    let mut first = b"30d40\r\n".to_vec();
    first.extend(vec![b'a'; 200_000]);
    first.extend_from_slice(b"\r\n");
    let mut rest = b"30d40\r\n".to_vec();
    rest.extend(vec![b'b'; 200_000]);
    rest.extend_from_slice(b"\r\n0\r\n\r\n");
    let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    body_streams(head, &first, &rest, 400_000);
}

/// A proxy whose `errorfile 400` says "mine!", in front of a backend that counts the
/// bytes it receives.
fn proxy_with_errorfile_400() -> (Daemon, Config, Arc<AtomicUsize>) {
    let (addr, got) = recording_backend(usize::MAX);
    let dir = tempfile_dir();
    std::fs::write(
        format!("{dir}/e400.http"),
        "HTTP/1.1 400 Custom\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\nmine!\n",
    )
    .unwrap();
    let text = format!(
        "{DEFAULTS}  errorfile 400 {{dir}}/e400.http\nfrontend fe\n  bind 127.0.0.1:{{port}}\n\
         {TIMERS_CP}  default_backend be\nbackend be\n  server s1 {addr}\n"
    );
    let cfg = Config::new(&text).listen_port("port").var("dir", &dir);
    let d = start_proxy(&cfg);
    (d, cfg, got)
}

#[test]
fn malformed_chunk_after_the_first_packet_gets_the_400_errorfile() {
    let (d, cfg, got) = proxy_with_errorfile_400();
    let mut c = TcpStream::connect(local(cfg.port("port"))).unwrap();
    c.write_all(
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    )
    .unwrap();
    // The bad chunk comes after the proxy forwarded the first packet.
    wait_until(Duration::from_secs(3), || got.load(Ordering::SeqCst) > 0);
    let _ = c.write_all(b"zz\r\nabc\r\n0\r\n\r\n");
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 400 Custom\r\n"), "{out}");
    assert!(
        got.load(Ordering::SeqCst) > 0,
        "the first chunk was forwarded"
    );
    let l = log_lines(&d, "POST /up", 1);
    assert_eq!(field(&l[0], "ts"), "PH--", "{l:?}");
    assert_eq!(field(&l[0], "ST"), "400", "{l:?}");
    assert!(l[0].contains("POST /up HTTP/1.1"), "{l:?}");
}

#[test]
fn forwardfor_except_only_skips_clients_in_the_network() {
    for (net, expected) in [("10.0.0.0/8", Some("127.0.0.1")), ("127.0.0.0/8", None)] {
        let be = HttpBackend::start("s1");
        let (_d, port) = proxy(
            &format!("  option forwardfor except {net}\n"),
            "",
            &[be.addr()],
        );
        assert_eq!(http_get(local(port), "/", &[]).unwrap().status, 200);
        let r = be.wait_requests(1);
        assert_eq!(r[0].header("x-forwarded-for"), expected, "except {net}");
    }
}

#[test]
fn keep_alive_timeout_closes_an_idle_connection_silently() {
    let be = HttpBackend::builder("s1")
        .delay(Duration::from_millis(700))
        .start();
    let fe = format!("{TIMERS_CP}  timeout http-keep-alive 300ms\n  timeout http-request 5s\n");
    let (d, port) = proxy(&fe, "", &[be.addr()]);
    let mut c = HttpClient::connect(local(port)).unwrap();
    // This client's lines only (the start-up probe's connection may log one too).
    let cp = format!("cp={} ", c.stream().local_addr().unwrap().port());
    let before = 0;
    // Busy for 700 ms: not cut by the keep-alive timeout.
    assert_eq!(get(&mut c, "/slow").status, 200);
    let t0 = Instant::now();
    let mut s = c.stream().try_clone().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let idle = t0.elapsed();
    assert!(rest.is_empty(), "closed without a response: {rest:?}");
    assert!(
        idle >= Duration::from_millis(250) && idle < Duration::from_millis(1500),
        "closed after the keep-alive timeout: {idle:?}"
    );
    // The proxy writes a session's log lines before it closes the connection: after
    // the close, a line for the idle close would be there already.
    let lines = log_lines(&d, &cp, before + 1);
    assert_eq!(
        lines.len(),
        before + 1,
        "no log line for the idle close: {lines:#?}"
    );
}

/// Two requests on one client connection through `fe`/`be` options: the server
/// connections used and whether the client connection stayed open.
fn conn_modes(fe: &str, be_opts: &str) -> (usize, bool) {
    let be = HttpBackend::start("s1");
    let (_d, port) = proxy(fe, be_opts, &[be.addr()]);
    let mut c = HttpClient::connect(local(port)).unwrap();
    assert_eq!(get(&mut c, "/").status, 200);
    let kept = c
        .stream()
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .is_ok()
        && c.read_response(false).is_ok_and(|r| r.status == 200);
    // Every server connection made for the two requests is counted now.
    be.sync();
    (be.connections(), kept)
}

#[test]
fn connection_mode_precedence_between_frontend_and_backend() {
    let ka = "  option http-keep-alive\n";
    let sc = "  option http-server-close\n";
    let hc = "  option httpclose\n";
    let cases = [
        (ka, ""),
        (sc, ka),
        (ka, sc),
        (ka, hc),
        (hc, ka),
        ("", hc),
        (hc, ""),
    ];
    let got: Vec<(usize, bool)> = cases.iter().map(|(f, b)| conn_modes(f, b)).collect();
    assert_eq!(
        got,
        vec![
            (1, true),
            (2, true),
            (2, true),
            (2, true),
            (1, false),
            (2, true),
            (1, false)
        ]
    );
}

#[test]
fn malformed_chunk_in_the_first_packet_is_a_bad_request() {
    let (d, cfg, got) = proxy_with_errorfile_400();
    let mut s = TcpStream::connect(local(cfg.port("port"))).unwrap();
    // This client's lines only (the start-up probe's connection logs a <BADREQ> too).
    let cp = format!("cp={} ", s.local_addr().unwrap().port());
    let before = 0;
    s.write_all(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        .unwrap();
    let out = read_to_close(&mut s, DEFAULT_TIMEOUT).unwrap();
    let out = String::from_utf8_lossy(&out);
    // HAProxy's HTTP/1 parser rejects it with its raw page: no errorfile, not counted.
    assert!(out.starts_with("HTTP/1.1 400 Bad request\r\n"), "{out}");
    let l = log_lines(&d, &cp, before + 1);
    let l: Vec<&String> = l.iter().filter(|l| l.contains("<BADREQ>")).collect();
    let l = l.last().expect("a log line");
    assert_eq!(field(l, "ts"), "PR--", "{l}");
    assert_eq!(field(l, "B"), "0", "{l}");
    assert_eq!(field(l, "TR"), "-1", "{l}");
    assert_eq!(got.load(Ordering::SeqCst), 0, "nothing reached the server");
}
