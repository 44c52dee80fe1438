//! Traffic logs as a user sees them: `log <udp addr> local0` with
//! `option httplog` / `option tcplog` (RFC3164 syslog header, tag
//! `<program>[pid]:`, `log-tag`), `log stdout format raw`, `option
//! dontlognull` and a custom `log-format`. Line structures are compared
//! token by token with what the reference haproxy emits for the same config.
//!
//! Set `GATEHOUSE_TEST_PROXY=haproxy` to run the same tests against the
//! reference haproxy.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use support::*;

/// The syslog tag the proxy under test uses by default (its program name).
fn default_tag() -> &'static str {
    if reference_run() {
        "haproxy"
    } else {
        "gatehouse"
    }
}

/// A UDP syslog receiver on 127.0.0.1.
struct Syslog {
    sock: UdpSocket,
}

impl Syslog {
    fn bind() -> Syslog {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind udp syslog receiver");
        Syslog { sock }
    }

    fn addr(&self) -> String {
        self.sock.local_addr().expect("udp local_addr").to_string()
    }

    /// Every datagram received within `window` (one log line each).
    fn collect(&self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return out;
            }
            self.sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .expect("set_read_timeout");
            match self.sock.recv(&mut buf) {
                Ok(n) => out.push(
                    String::from_utf8_lossy(&buf[..n])
                        .trim_end_matches('\n')
                        .to_string(),
                ),
                Err(_) => return out,
            }
        }
    }

    /// Every line up to and including the first one containing `needle` (within 3 s).
    fn lines_until(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            for l in self.collect(Duration::from_millis(100)) {
                let found = l.contains(needle);
                seen.push(l);
                if found {
                    return seen;
                }
            }
        }
        panic!("no log line containing {needle:?} within 3 s; received: {seen:#?}")
    }

    /// The first line containing `needle` within 3 s (other lines skipped).
    fn line_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            for l in self.collect(Duration::from_millis(100)) {
                if l.contains(needle) {
                    return l;
                }
                seen.push(l);
            }
        }
        panic!("no log line containing {needle:?} within 3 s; received: {seen:#?}")
    }
}

/// An RFC3164 syslog line split into its parts.
#[derive(Debug)]
struct SyslogLine {
    pri: u32,
    timestamp: String,
    tag: String,
    pid: u32,
    msg: String,
}

/// Parses `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`.
fn parse_syslog(line: &str) -> SyslogLine {
    let fail = |why: &str| -> ! { panic!("not an RFC3164 syslog line ({why}): {line:?}") };
    let rest = line.strip_prefix('<').unwrap_or_else(|| fail("no <PRI>"));
    let (pri, rest) = rest.split_once('>').unwrap_or_else(|| fail("no <PRI>"));
    let pri: u32 = pri.parse().unwrap_or_else(|_| fail("PRI not a number"));
    let timestamp = rest.get(..15).unwrap_or_else(|| fail("short timestamp"));
    let ts_shape: String = timestamp
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    assert!(
        months.contains(&&timestamp[..3])
            && (ts_shape[3..] == *" 99 99:99:99" || ts_shape[3..] == *"  9 99:99:99"),
        "syslog timestamp {timestamp:?} is not `Mmm dd hh:mm:ss` in {line:?}"
    );
    let rest = rest
        .get(15..)
        .and_then(|r| r.strip_prefix(' '))
        .unwrap_or_else(|| fail("no space after timestamp"));
    let (tag, rest) = rest.split_once('[').unwrap_or_else(|| fail("no TAG[PID]"));
    let (pid, msg) = rest
        .split_once("]: ")
        .unwrap_or_else(|| fail("no TAG[PID]:"));
    SyslogLine {
        pri,
        timestamp: timestamp.to_string(),
        tag: tag.to_string(),
        pid: pid.parse().unwrap_or_else(|_| fail("PID not a number")),
        msg: msg.to_string(),
    }
}

/// The shape of a log message: digit runs become `9`, so lines from two
/// runs (different ports, dates, timers, byte counts) compare equal when
/// their structure matches. Returned token by token (space separated).
fn shape(msg: &str) -> Vec<String> {
    msg.split(' ')
        .map(|tok| {
            let mut s = String::new();
            for c in tok.chars() {
                if c.is_ascii_digit() {
                    if !s.ends_with('9') {
                        s.push('9');
                    }
                } else {
                    s.push(c);
                }
            }
            s
        })
        .collect()
}

/// Runs `cfg` (with `{syslog}` set) through haproxy, does `traffic`, and
/// returns its log line containing the needle `traffic` returns (one that
/// only the traffic's own line has, not the start-up probe's).
fn haproxy_line(cfg: &Config, traffic: impl Fn(u16) -> String) -> String {
    let sys = Syslog::bind();
    let cfg = cfg.with_fresh_ports().var("syslog", sys.addr());
    let _h = Haproxy::start_config(&cfg);
    let needle = traffic(cfg.port("port"));
    sys.line_with(&needle)
}

fn assert_same_shape(ours: &str, reference: &str) {
    let (a, b) = (shape(ours), shape(reference));
    assert_eq!(
        a, b,
        "log line structure differs from haproxy's\n  ours:    {ours}\n  haproxy: {reference}"
    );
}

fn http_get_ok(port: u16, path: &str) {
    let r = http_get(local(port), path, &[]).expect("GET through the proxy");
    assert_eq!(r.status, 200, "GET {path}");
}

fn httplog_config(backend: &HttpBackend) -> Config {
    Config::new(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  log {syslog} local0\n  option httplog\n\
         \x20 default_backend be\n\
         backend be\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("server", backend.addr())
}

#[test]
fn httplog_over_udp_syslog_has_haproxys_fields() {
    let be = HttpBackend::start("s1");
    let sys = Syslog::bind();
    let cfg = httplog_config(&be).var("syslog", sys.addr());
    let p = start_proxy(&cfg);
    let mut c = TcpStream::connect(local(cfg.port("port"))).expect("connect");
    let client_port = c.local_addr().expect("local_addr").port();
    c.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut resp = Vec::new();
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set_read_timeout");
    let _ = c.read_to_end(&mut resp);
    assert!(resp.starts_with(b"HTTP/1.1 200"), "response: {resp:?}");
    let line = sys.line_with("GET /hello");
    let s = parse_syslog(&line);
    assert_eq!(s.pri, 134, "local0.info is <134>: {line}");
    assert_eq!(
        s.tag,
        default_tag(),
        "default tag is the program name: {line}"
    );
    assert_eq!(s.pid, p.pid(), "tag carries the proxy's pid: {line}");
    let f: Vec<&str> = s.msg.splitn(13, ' ').collect();
    assert_eq!(f.len(), 13, "httplog has 13 fields: {:?}", s.msg);
    assert_eq!(f[0], format!("127.0.0.1:{client_port}"), "client address");
    assert!(
        f[1].starts_with('[') && f[1].ends_with(']') && f[1].len() == 26,
        "accept date [dd/Mmm/yyyy:hh:mm:ss.mmm]: {}",
        f[1]
    );
    assert_eq!(f[2], "fe");
    assert_eq!(f[3], "be/s1");
    let timers: Vec<i64> = f[4]
        .split('/')
        .map(|t| t.parse().expect("timer is a number"))
        .collect();
    assert_eq!(timers.len(), 5, "TR/Tw/Tc/Tr/Ta: {}", f[4]);
    assert!(timers.iter().all(|t| *t >= 0), "no timer is -1: {}", f[4]);
    assert!(timers[4] >= timers[3], "Ta >= Tr: {}", f[4]);
    assert_eq!(f[5], "200");
    // HAProxy counts the response as it came from the server (its own
    // accounting, not the client's byte count), so only check it is sane.
    let bytes: usize = f[6].parse().expect("bytes read is a number");
    assert!(
        bytes > b"s1".len() && bytes <= resp.len() + 64,
        "bytes {bytes} for a {}-byte response",
        resp.len()
    );
    assert_eq!((f[7], f[8]), ("-", "-"), "no captured cookies");
    assert_eq!(f[9], "----", "termination state of a clean request");
    assert_eq!(
        f[10].split('/').count(),
        5,
        "actconn/feconn/beconn/srv_conn/retries"
    );
    assert!(f[10].ends_with("/0"), "no retries: {}", f[10]);
    assert_eq!(f[11], "0/0", "srv_queue/backend_queue: {}", s.msg);
    assert_eq!(f[12], "\"GET /hello HTTP/1.1\"", "request line quoted last");

    let reference = haproxy_line(&httplog_config(&be), |port| {
        let mut c = TcpStream::connect(local(port)).expect("connect");
        c.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        let _ = c.read_to_end(&mut Vec::new());
        "GET /hello".to_string()
    });
    assert_same_shape(&s.msg, &parse_syslog(&reference).msg);
}

fn tcplog_config(echo: &TcpEcho) -> Config {
    Config::new(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend ft\n  bind 127.0.0.1:{port}\n  log {syslog} local0\n  option tcplog\n\
         \x20 default_backend be\n\
         backend be\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("server", echo.addr())
}

/// Sends `ping`, reads the echo, half-closes and waits for EOF; returns a needle that
/// only this connection's tcplog line has (its client address, then the date).
fn ping_echo(port: u16) -> String {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    let needle = format!(" {} [", s.local_addr().expect("local_addr"));
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set_read_timeout");
    s.write_all(b"ping").expect("write");
    let mut b = [0u8; 4];
    s.read_exact(&mut b).expect("echo");
    s.shutdown(Shutdown::Write).expect("shutdown");
    let _ = s.read_to_end(&mut Vec::new());
    needle
}

#[test]
fn tcplog_line_has_haproxys_fields() {
    let echo = TcpEcho::start();
    let sys = Syslog::bind();
    let cfg = tcplog_config(&echo).var("syslog", sys.addr());
    let p = start_proxy(&cfg);
    // The start-up probe's connection is logged too: take this client's line.
    let needle = ping_echo(cfg.port("port"));
    let line = sys.line_with(&needle);
    let s = parse_syslog(&line);
    assert_eq!(
        (s.pri, s.tag.as_str(), s.pid),
        (134, default_tag(), p.pid())
    );
    let f: Vec<&str> = s.msg.split(' ').collect();
    assert_eq!(f.len(), 9, "tcplog has 9 fields: {:?}", s.msg);
    assert!(f[0].starts_with("127.0.0.1:"), "client address: {}", f[0]);
    assert_eq!((f[2], f[3]), ("ft", "be/s1"));
    assert_eq!(f[4].split('/').count(), 3, "Tw/Tc/Tt: {}", f[4]);
    assert_eq!(f[5], "4", "bytes sent to the client: {}", s.msg);
    assert_eq!(
        f[6], "--",
        "termination state of a clean session: {}",
        s.msg
    );
    assert_eq!(f[8], "0/0", "queues: {}", s.msg);

    let reference = haproxy_line(&tcplog_config(&echo), ping_echo);
    assert_same_shape(&s.msg, &parse_syslog(&reference).msg);
}

#[test]
fn log_stdout_format_raw_writes_bare_lines_to_stdout() {
    let be = HttpBackend::start("s1");
    let cfg = Config::new(
        "global\n  log stdout format raw local0\n\
         defaults\n  mode http\n  log global\n  option httplog\n  option dontlognull\n\
         \x20 timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("server", be.addr());
    let p = start_proxy(&cfg);
    http_get_ok(cfg.port("port"), "/to-stdout");
    assert!(
        wait_until(Duration::from_secs(3), || p
            .stdout()
            .contains("GET /to-stdout")),
        "no log line on stdout; stdout: {:?} stderr: {:?}",
        p.stdout(),
        p.stderr()
    );
    let out = p.stdout();
    let line = out
        .lines()
        .find(|l| l.contains("GET /to-stdout"))
        .expect("line");
    assert!(
        line.starts_with("127.0.0.1:"),
        "raw format has no syslog header: {line:?}"
    );
    assert!(
        line.contains(" fe be/s1 ") && line.ends_with("\"GET /to-stdout HTTP/1.1\""),
        "httplog fields: {line:?}"
    );
}

#[test]
fn dontlognull_skips_empty_connections_only() {
    let be = HttpBackend::start("s1");
    let sys = Syslog::bind();
    let cfg = Config::new(
        "defaults\n  mode http\n  log {syslog} local0\n  option httplog\n\
         \x20 timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend quiet\n  bind 127.0.0.1:{quiet}\n  option dontlognull\n  default_backend be\n\
         frontend loud\n  bind 127.0.0.1:{loud}\n  default_backend be\n\
         backend be\n  server s1 {server}\n",
    )
    .listen_port("quiet")
    .listen_port("loud")
    .var("server", be.addr())
    .var("syslog", sys.addr());
    let _p = start_proxy(&cfg);
    // A connection closed without sending anything: nothing logged. The proxy's close
    // ends its session; a line for it would have been sent by then.
    let mut empty = TcpStream::connect(local(cfg.port("quiet"))).expect("connect");
    empty.shutdown(Shutdown::Write).expect("shutdown");
    read_to_close(&mut empty, DEFAULT_TIMEOUT).expect("the proxy closes an empty connection");
    http_get_ok(cfg.port("quiet"), "/real");
    let lines = sys.lines_until("GET /real");
    let quiet: Vec<&String> = lines.iter().filter(|l| l.contains(" quiet ")).collect();
    assert_eq!(
        quiet.len(),
        1,
        "with dontlognull only the real request is logged: {lines:#?}"
    );
    assert!(quiet[0].contains("\"GET /real HTTP/1.1\""), "{}", quiet[0]);
    // Without dontlognull the same empty connection is logged as a bad request (the
    // start-up probe's connection too: take this client's line).
    let empty = TcpStream::connect(local(cfg.port("loud"))).expect("connect");
    let needle = format!(" {} [", empty.local_addr().expect("local_addr"));
    drop(empty);
    let line = sys.line_with(&needle);
    assert!(
        line.contains("\"<BADREQ>\""),
        "empty connection without dontlognull: {line}"
    );
}

#[test]
fn custom_log_format_and_log_tag() {
    let be = HttpBackend::start("s1");
    let sys = Syslog::bind();
    let cfg = Config::new(
        "global\n  log-tag edge-lb\n\
         defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  log {syslog} local0\n  option dontlognull\n\
         \x20 log-format \"%ci %ST %b\"\n  default_backend be_app\n\
         backend be_app\n  server s1 {server}\n",
    )
    .listen_port("port")
    .var("server", be.addr())
    .var("syslog", sys.addr());
    let p = start_proxy(&cfg);
    http_get_ok(cfg.port("port"), "/fmt");
    let line = sys.line_with(" be_app");
    let s = parse_syslog(&line);
    assert_eq!(
        s.tag, "edge-lb",
        "log-tag overrides the program name: {line}"
    );
    assert_eq!(s.pid, p.pid());
    assert_eq!(s.msg, "127.0.0.1 200 be_app");
    assert!(!s.timestamp.is_empty());
}
