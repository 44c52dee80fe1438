//! Log lines compared field by field with the reference haproxy 2.6: the same
//! config runs under both proxies, the same traffic goes through, and every
//! line received on a UDP syslog socket, a unix datagram socket (`log
//! /path/sock`, like `/dev/log`) and stderr must be equal once the values that
//! legitimately differ are masked (program name, pid, dates, client ports,
//! timers, and the byte counts listed per test).

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use support::*;

/// The log receivers one proxy run writes to: `{syslog}` (UDP) and `{sock}`
/// (a unix datagram socket bound by the test).
struct Receivers {
    udp: UdpSocket,
    unix: UnixDatagram,
    _dir: TempDir,
    sock_path: String,
}

impl Receivers {
    fn bind() -> Receivers {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp receiver");
        let dir = TempDir::new("logsock");
        let path = dir.path().join("sock");
        let unix = UnixDatagram::bind(&path).expect("bind unix datagram receiver");
        Receivers {
            udp,
            unix,
            sock_path: path.to_string_lossy().into_owned(),
            _dir: dir,
        }
    }

    /// Datagrams received on both sockets until `quiet` passes without one.
    fn drain(&self, quiet: Duration) -> (Vec<String>, Vec<String>) {
        let mut udp = Vec::new();
        let mut unix = Vec::new();
        let mut buf = vec![0u8; 70_000];
        let mut last = Instant::now();
        self.udp.set_nonblocking(true).expect("nonblocking");
        self.unix.set_nonblocking(true).expect("nonblocking");
        while last.elapsed() < quiet {
            let mut got = false;
            if let Ok(n) = self.udp.recv(&mut buf) {
                udp.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                got = true;
            }
            if let Ok(n) = self.unix.recv(&mut buf) {
                unix.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                got = true;
            }
            if got {
                last = Instant::now();
            } else {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        (udp, unix)
    }
}

/// What one proxy logged for the traffic (raw datagrams/lines, newline kept).
#[derive(Debug)]
struct Captured {
    udp: Vec<String>,
    unix: Vec<String>,
    stderr: Vec<String>,
    pid: u32,
    program: &'static str,
}

/// Runs `template` under `binary` (gatehouse or haproxy), sends `traffic` to
/// `{port}`, and returns what reached the log receivers.
fn capture(haproxy: bool, cfg: &Config, traffic: &dyn Fn(u16)) -> Captured {
    let rx = Receivers::bind();
    let cfg = cfg
        .with_fresh_ports()
        .var("syslog", rx.udp.local_addr().expect("udp addr"))
        .var("sock", &rx.sock_path);
    let mut d = if haproxy {
        Haproxy::start_config(&cfg).0
    } else {
        Gatehouse::start_config(&cfg).0
    };
    // The startup probes' connections may be logged: drop those lines.
    rx.drain(Duration::from_millis(500));
    let skip = d.stderr().len();
    traffic(cfg.port("port"));
    let (udp, unix) = rx.drain(Duration::from_millis(1000));
    let pid = d.pid();
    d.stop();
    let stderr = d.stderr()[skip..]
        .split_inclusive('\n')
        .filter(|l| !l.starts_with('[')) // haproxy's own [NOTICE]/[WARNING] lines
        .map(str::to_string)
        .collect();
    Captured {
        udp,
        unix,
        stderr,
        pid,
        program: if haproxy { "haproxy" } else { "gatehouse" },
    }
}

/// Digit runs become `9`: the shape of a masked value.
fn shape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('9') {
                out.push('9');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Normalises one line: in the header (before the message, which starts at
/// `127.0.0.1`) the program name becomes `PROG`, the pid `PID` and every date
/// its shape; in the message the space-separated tokens at `masked` become
/// their shape, and the client port (`127.0.0.1:NNN` first token) too; those at
/// `hidden` (values a race decides in both proxies) become `*`.
fn normalise(line: &str, c: &Captured, masked: &[usize], hidden: &[usize]) -> String {
    let start = line
        .find("127.0.0.1")
        .unwrap_or_else(|| panic!("no client address in log line {line:?}"));
    let (header, msg) = line.split_at(start);
    let header = header
        .replace(&format!("{}[{}]", c.program, c.pid), "PROG[PID]")
        .replace(&format!(" {} {} - - ", c.program, c.pid), " PROG PID - - ");
    let mut out = shape(&header);
    let tokens: Vec<String> = msg
        .split(' ')
        .enumerate()
        .map(|(i, t)| {
            if hidden.contains(&i) {
                "*".to_string()
            } else if masked.contains(&i) || (i == 0 && t.starts_with("127.0.0.1:")) {
                shape(t)
            } else {
                t.to_string()
            }
        })
        .collect();
    out.push_str(&tokens.join(" "));
    out
}

/// Runs the config under both proxies and asserts every captured line is
/// equal once normalised; returns gatehouse's capture for further checks.
fn compare(cfg: &Config, traffic: &dyn Fn(u16), masked: &[usize]) -> Captured {
    compare_hiding(cfg, traffic, masked, &[])
}

/// [`compare`], with the tokens at `hidden` not compared at all (see [`normalise`]).
fn compare_hiding(
    cfg: &Config,
    traffic: &dyn Fn(u16),
    masked: &[usize],
    hidden: &[usize],
) -> Captured {
    let theirs = capture(true, cfg, traffic);
    let ours = capture(false, cfg, traffic);
    for (what, a, b) in [
        ("udp syslog", &ours.udp, &theirs.udp),
        ("unix socket", &ours.unix, &theirs.unix),
        ("stderr", &ours.stderr, &theirs.stderr),
    ] {
        let norm = |l: &String, c: &Captured| normalise(l, c, masked, hidden);
        let na: Vec<String> = a.iter().map(|l| norm(l, &ours)).collect();
        let nb: Vec<String> = b.iter().map(|l| norm(l, &theirs)).collect();
        assert_eq!(
            na, nb,
            "{what} lines differ from haproxy's\n  ours:    {a:#?}\n  haproxy: {b:#?}"
        );
    }
    ours
}

/// One `GET path` with `Connection: close`, read to the end.
fn get(port: u16, path: &str) {
    let mut c = TcpStream::connect(local(port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut resp = Vec::new();
    let _ = c.read_to_end(&mut resp);
    assert!(resp.starts_with(b"HTTP/1.1 200"), "response {resp:?}");
    std::thread::sleep(Duration::from_millis(100));
}

/// A connection closed without sending anything.
fn empty_conn(port: u16) {
    drop(TcpStream::connect(local(port)).expect("connect"));
    std::thread::sleep(Duration::from_millis(200));
}

/// Sends the start of a request, then closes.
fn partial_request(port: u16) {
    let mut c = TcpStream::connect(local(port)).expect("connect");
    c.write_all(b"GET /partial").expect("write");
    std::thread::sleep(Duration::from_millis(100));
    drop(c);
    std::thread::sleep(Duration::from_millis(200));
}

/// Sends `ping` through a tcp-mode proxy to an echo server, then half-closes.
fn ping(port: u16) {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"ping").expect("write");
    let mut b = [0u8; 4];
    s.read_exact(&mut b).expect("echo");
    s.shutdown(Shutdown::Write).expect("shutdown");
    let _ = s.read_to_end(&mut Vec::new());
    std::thread::sleep(Duration::from_millis(100));
}

fn http_cfg(be: &HttpBackend, global: &str, frontend: &str) -> Config {
    Config::new(&format!(
        "global\n{global}defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  \
         timeout server 5s\nfrontend fe\n  bind 127.0.0.1:{{port}}\n{frontend}  \
         default_backend be\nbackend be\n  server s1 {{server}}\n"
    ))
    .listen_port("port")
    .var("server", be.addr())
}

/// httplog tokens that legitimately differ: accept date and timers (the byte
/// count is HAProxy's too: the size of the response's HTX form).
const HTTPLOG_MASK: &[usize] = &[1, 4];

#[test]
fn rfc5424_hostname_and_stderr_short_match_haproxy() {
    let be = HttpBackend::start("s1");
    let cfg = http_cfg(
        &be,
        "  log-send-hostname myhost\n  log {syslog} len 2048 format rfc5424 local0\n",
        "  log global\n  option httplog\n  log stderr format short local2\n",
    );
    let ours = compare(&cfg, &|p| get(p, "/a?b=c"), HTTPLOG_MASK);
    assert_eq!(ours.udp.len(), 1, "{ours:?}");
    assert!(
        ours.udp[0].starts_with("<134>1 ")
            && ours.udp[0].contains(&format!(" myhost gatehouse {} - - 127.0.0.1:", ours.pid)),
        "rfc5424 header with the given host name: {:?}",
        ours.udp[0]
    );
    assert_eq!(ours.stderr.len(), 1, "{ours:?}");
    assert!(
        ours.stderr[0].starts_with("<6>127.0.0.1:"),
        "{:?}",
        ours.stderr
    );
}

#[test]
fn send_hostname_without_value_and_unix_socket_rfc3164() {
    let be = HttpBackend::start("s1");
    let cfg = http_cfg(
        &be,
        "  log-send-hostname\n  log {syslog} format rfc5424 local3 debug debug\n  \
         log {sock} format rfc3164 local7 info\n",
        "  log global\n  option httplog\n",
    );
    let ours = compare(&cfg, &|p| get(p, "/h"), HTTPLOG_MASK);
    let host = gatehouse::log::system_hostname();
    // local3 (19) * 8 + debug (7): minlevel debug raises info to debug.
    assert!(
        ours.udp[0].starts_with("<159>1 ") && ours.udp[0].contains(&format!(" {host} gatehouse ")),
        "{:?}",
        ours.udp
    );
    // local7 (23) * 8 + info (6), with the system host name after the date.
    assert_eq!(ours.unix.len(), 1, "{ours:?}");
    assert!(
        ours.unix[0].starts_with("<190>")
            && ours.unix[0].contains(&format!(" {host} gatehouse[{}]: ", ours.pid)),
        "{:?}",
        ours.unix
    );
}

#[test]
fn default_tag_log_tag_and_level_filters() {
    let be = HttpBackend::start("s1");
    // The frontend's unix target only takes notice and above: info traffic logs
    // are dropped there; `log-tag` replaces the program name.
    let cfg = http_cfg(
        &be,
        "  log {syslog} local0 info notice\n",
        "  log global\n  log {sock} local1 notice\n  option httplog\n",
    );
    let ours = compare(&cfg, &|p| get(p, "/t"), HTTPLOG_MASK);
    assert!(
        ours.unix.is_empty(),
        "notice target got info logs: {ours:?}"
    );
    assert!(
        ours.udp[0].contains(&format!(" gatehouse[{}]: 127.0.0.1:", ours.pid)),
        "default tag is the program name and pid: {:?}",
        ours.udp
    );
    let tagged = http_cfg(
        &be,
        "  log-tag edge\n  log {sock} local0\n",
        "  log global\n  option httplog\n",
    );
    let ours = compare(&tagged, &|p| get(p, "/t"), HTTPLOG_MASK);
    assert!(
        ours.unix[0].contains(&format!(" edge[{}]: ", ours.pid)),
        "{:?}",
        ours.unix
    );
}

#[test]
fn len_truncates_like_haproxy_per_target_kind() {
    let be = HttpBackend::start("s1");
    // Syslog sockets get `len` bytes then the newline; stderr `len` bytes in
    // all. Where the cut falls depends on timer widths, so sizes are compared.
    let cfg = http_cfg(
        &be,
        "  log-tag lb\n  log {syslog} len 80 local0\n  log {sock} len 100 local0\n  \
         log stderr len 90 format raw local0\n",
        "  log global\n  option httplog\n",
    );
    let sizes = |c: &Captured| -> Vec<(usize, bool)> {
        [&c.udp, &c.unix, &c.stderr]
            .iter()
            .flat_map(|v| v.iter().map(|l| (l.len(), l.ends_with('\n'))))
            .collect()
    };
    let theirs = capture(true, &cfg, &|p| get(p, "/len"));
    let ours = capture(false, &cfg, &|p| get(p, "/len"));
    assert_eq!(
        sizes(&ours),
        sizes(&theirs),
        "ours {ours:#?} haproxy {theirs:#?}"
    );
    assert_eq!(
        sizes(&ours),
        [(81, true), (101, true), (90, true)],
        "{ours:#?}"
    );
    assert!(ours.stderr[0].starts_with("127.0.0.1:"), "{ours:?}");
}

#[test]
fn httplog_clf_matches_haproxy() {
    let be = HttpBackend::start("s1");
    let cfg = http_cfg(&be, "", "  log {syslog} local0\n  option httplog clf\n");
    // CLF: date is tokens 3-4, bytes 9, client port 12, accept ms 13, timers 17-21.
    compare(
        &cfg,
        &|p| get(p, "/clf"),
        &[3, 4, 9, 12, 13, 17, 18, 19, 20, 21],
    );
}

#[test]
fn dontlognull_in_http_mode() {
    let be = HttpBackend::start("s1");
    let cfg = http_cfg(
        &be,
        "",
        "  log {syslog} local0\n  option httplog\n  option dontlognull\n",
    );
    // Nothing for the empty connection; the real request is logged.
    let ours = compare(
        &cfg,
        &|p| {
            empty_conn(p);
            get(p, "/real");
        },
        HTTPLOG_MASK,
    );
    assert_eq!(ours.udp.len(), 1, "{ours:?}");
    // A partial request cut by the client is logged even with dontlognull.
    let ours = compare(&cfg, &|p| partial_request(p), HTTPLOG_MASK);
    assert!(
        ours.udp.len() == 1 && ours.udp[0].contains(" 400 0 - - CR-- "),
        "{ours:?}"
    );
    let loud = http_cfg(&be, "", "  log {syslog} local0\n  option httplog\n");
    let ours = compare(&loud, &|p| empty_conn(p), HTTPLOG_MASK);
    assert!(ours.udp[0].contains("\"<BADREQ>\""), "{ours:?}");
}

fn tcp_cfg(echo: &TcpEcho, frontend: &str) -> Config {
    Config::new(&format!(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend ft\n  bind 127.0.0.1:{{port}}\n  log {{syslog}} local0\n  log {{sock}} local0\n\
         {frontend}  default_backend be\nbackend be\n  server s1 {{server}}\n"
    ))
    .listen_port("port")
    .var("server", echo.addr())
}

#[test]
fn tcplog_and_dontlognull_in_tcp_mode() {
    let echo = TcpEcho::start();
    // tcplog: date 1 and timers 4 masked; byte counts are exact.
    let quiet = tcp_cfg(&echo, "  option tcplog\n  option dontlognull\n");
    let ours = compare(
        &quiet,
        &|p| {
            empty_conn(p);
            ping(p);
        },
        &[1, 4],
    );
    assert_eq!(ours.udp.len(), 1, "empty connection not logged: {ours:?}");
    let loud = tcp_cfg(&echo, "  option tcplog\n");
    // Whether the server connection was up when the client left (`--`, Tc >= 0)
    // or not yet (`CC`, Tc -1) is a race in both proxies: the timers (4) and the
    // state (6) are not compared.
    let ours = compare_hiding(&loud, &|p| empty_conn(p), &[1], &[4, 6]);
    assert_eq!(ours.unix.len(), 1, "empty connection logged: {ours:?}");
}

/// An rfc3164 datagram read as a syslog daemon reads it (RFC 3164 section 4.1):
/// `<PRI>`, the timestamp `Mmm dd hh:mm:ss` (always 15 characters: days 1 to 9 are
/// padded with a space, `Feb  6`), a space, the tag `NAME[PID]: `, then the message
/// (trailing newline removed).
#[derive(Debug, PartialEq, Eq)]
struct Rfc3164<'a> {
    pri: u32,
    date: &'a str,
    tag: &'a str,
    msg: &'a str,
}

fn parse_rfc3164(line: &str) -> Rfc3164<'_> {
    let fail = |why: &str| -> ! { panic!("not an rfc3164 line ({why}): {line:?}") };
    let rest = line.strip_prefix('<').unwrap_or_else(|| fail("no <PRI>"));
    let (pri, rest) = rest.split_once('>').unwrap_or_else(|| fail("no <PRI>"));
    let pri = pri.parse().unwrap_or_else(|_| fail("PRI"));
    let date = rest.get(..15).unwrap_or_else(|| fail("short date"));
    let b = date.as_bytes();
    let shape_ok = b[..3].iter().all(u8::is_ascii_alphabetic)
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && [7, 8, 10, 11, 13, 14]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
        && b[9] == b':'
        && b[12] == b':';
    if !shape_ok {
        fail("date is not `Mmm dd hh:mm:ss`");
    }
    let rest = rest[15..]
        .strip_prefix(' ')
        .unwrap_or_else(|| fail("no space after the date"));
    let (tag, msg) = rest
        .split_once("]: ")
        .unwrap_or_else(|| fail("no `NAME[PID]: ` tag"));
    Rfc3164 {
        pri,
        date,
        tag: &line[line.len() - rest.len()..][..tag.len() + 1],
        msg: msg.strip_suffix('\n').unwrap_or(msg),
    }
}

#[test]
fn the_rfc3164_parser_reads_one_and_two_digit_days() {
    let one = parse_rfc3164("<134>Feb  6 12:14:14 gatehouse[42]: 127.0.0.1:5 a b\n");
    assert_eq!(
        one,
        Rfc3164 {
            pri: 134,
            date: "Feb  6 12:14:14",
            tag: "gatehouse[42]",
            msg: "127.0.0.1:5 a b"
        }
    );
    let two = parse_rfc3164("<134>Feb 16 12:14:14 gatehouse[42]: 127.0.0.1:5 a b\n");
    assert_eq!((two.date, two.msg), ("Feb 16 12:14:14", one.msg));
}

/// Every variable whose value both proxies compute the same way. Empty %hr/%hs print
/// nothing and their separators collapse; %{+Q}r and %{-Q}r span 3 tokens each: 49
/// space-separated tokens in all.
const ALL_VARS_FORMAT: &str = "%ci %cp %fi %fp %ft %f %b %s %si %sp %ST %TR %Tw %Tc %Tr %Ta \
     %Tt %Th %Ti %Tq %tsc %ts %ac %fc %bc %sc %rc %sq %bq %hr %hs %{+Q}r %HM %HU %HP %HQ %HV \
     %ID %pid %H %CC %CS %{+Q}HU %{-Q}r %{+E}HU %{+Q,+X}ac %{+X}ST";

/// Tokens of a message in [`ALL_VARS_FORMAT`].
const ALL_VARS_TOKENS: usize = 49;

#[test]
fn log_format_variables_match_haproxy() {
    let be = HttpBackend::start("s1");
    let cfg = http_cfg(
        &be,
        "",
        &format!("  log {{syslog}} local0\n  log-format \"{ALL_VARS_FORMAT}\"\n"),
    );
    // Timers, ports and pids are masked by position: %cp 1, %fp 3, %sp 9, timers
    // 11-19, and %pid 38.
    let masked = [1, 3, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 38];
    let ours = compare(
        &cfg,
        &|p| {
            get(p, "/x?a=b\"c");
        },
        &masked,
    );
    assert_eq!(ours.udp.len(), 1, "{ours:?}");
    let line = parse_rfc3164(&ours.udp[0]);
    assert_eq!(line.tag, format!("gatehouse[{}]", ours.pid), "{line:?}");
    assert_eq!(
        line.msg.split(' ').count(),
        ALL_VARS_TOKENS,
        "{ALL_VARS_TOKENS} tokens: {line:?}"
    );
}

#[test]
fn rfc3164_dates_on_one_and_two_digit_days() {
    // The header clock is fixed with GATEHOUSE_FAKE_NOW (test-only), in UTC: the test
    // checks a day 1-9, padded with a space, whatever today's date is.
    let be = HttpBackend::start("s1");
    // 2009-02-06 and 2009-02-16, 12:14:14 UTC.
    for (now, date) in [
        (1_233_922_454u64, "Feb  6 12:14:14"),
        (1_234_786_454, "Feb 16 12:14:14"),
    ] {
        let rx = Receivers::bind();
        let cfg = http_cfg(
            &be,
            "",
            &format!("  log {{syslog}} local0\n  log-format \"{ALL_VARS_FORMAT}\"\n"),
        )
        .var("syslog", rx.udp.local_addr().expect("udp addr"));
        let d = Gatehouse::builder(&cfg.render())
            .env("GATEHOUSE_FAKE_NOW", now.to_string())
            .env("TZ", "UTC")
            .wait_ports(&cfg.listen_ports())
            .start();
        rx.drain(Duration::from_millis(300));
        get(cfg.port("port"), "/day");
        let (udp, _) = rx.drain(Duration::from_millis(500));
        assert_eq!(udp.len(), 1, "{udp:?}");
        let line = parse_rfc3164(&udp[0]);
        assert_eq!(
            (line.pri, line.date, line.tag),
            (134, date, format!("gatehouse[{}]", d.pid()).as_str()),
            "{line:?}"
        );
        assert_eq!(line.msg.split(' ').count(), ALL_VARS_TOKENS, "{line:?}");
        assert!(line.msg.starts_with("127.0.0.1 "), "{line:?}");
    }
}

#[test]
fn default_tag_is_the_program_name_as_launched() {
    let be = HttpBackend::start("s1");
    let rx = Receivers::bind();
    let dir = TempDir::new("progname");
    let link = dir.path().join("edge-proxy");
    std::os::unix::fs::symlink(gatehouse_bin(), &link).expect("symlink");
    let cfg = http_cfg(&be, "", "  log {sock} local0\n  option httplog\n")
        .var("sock", &rx.sock_path)
        .var("syslog", "unused");
    let d = DaemonBuilder::new(&link, &cfg.render())
        .wait_ports(&cfg.listen_ports())
        .start();
    rx.drain(Duration::from_millis(300));
    get(cfg.port("port"), "/name");
    let (_, unix) = rx.drain(Duration::from_millis(500));
    assert_eq!(unix.len(), 1, "{unix:?}");
    assert!(
        unix[0].starts_with("<134>") && unix[0].contains(&format!(" edge-proxy[{}]: ", d.pid())),
        "tag is argv[0]'s base name: {unix:?}"
    );
}

/// `set-log-level` (a level, `silent`) and the capture rules (`http-request capture
/// … len`, `… id`, `declare capture`, `http-response capture … id`,
/// `http-after-response capture … id`) in the log line,
/// next to the header captures, as haproxy writes them.
#[test]
fn set_log_level_and_capture_rules_log_like_haproxy() {
    let be = HttpBackend::start("s1");
    let cfg = http_cfg(
        &be,
        "  log {syslog} local0\n",
        "  log global\n  option httplog\n  capture request header host len 3\n  \
         declare capture request len 4\n  http-request capture path len 5\n  \
         http-request capture req.hdr(host) id 1\n  declare capture response len 2\n  \
         http-response capture status id 0\n  declare capture response len 3\n  \
         http-after-response capture status id 1\n  \
         http-request set-log-level err if { path_beg /err }\n  \
         http-request set-log-level silent if { path_beg /quiet }\n",
    );
    let ours = compare(
        &cfg,
        &|p| {
            get(p, "/first/path");
            get(p, "/quiet");
            get(p, "/err");
        },
        HTTPLOG_MASK,
    );
    assert_eq!(
        ours.udp.len(),
        2,
        "the silent request is not logged: {ours:?}"
    );
    assert!(ours.udp[0].starts_with("<134>"), "{:?}", ours.udp);
    assert!(
        ours.udp[1].starts_with("<131>"),
        "set-log-level err: {:?}",
        ours.udp
    );
    assert!(
        ours.udp[0].contains(" {h|h|/firs} {20|200} "),
        "{:?}",
        ours.udp
    );
}

/// `option logasap`: the line goes out once the response headers are through (http)
/// or the server connection is up (tcp), `%Tt` and the bytes marked `+` as haproxy
/// marks them.
#[test]
fn logasap_logs_early_with_plus_marks_like_haproxy() {
    let be = HttpBackend::start("s1");
    let cfg = http_cfg(
        &be,
        "  log {syslog} local0\n",
        "  log global\n  option httplog\n  option logasap\n",
    );
    let ours = compare(&cfg, &|p| get(p, "/asap"), HTTPLOG_MASK);
    assert_eq!(ours.udp.len(), 1, "{ours:?}");
    let fields: Vec<&str> = ours.udp[0].split(' ').collect();
    let at = |s: &str| fields.iter().position(|f| f.starts_with(s));
    assert!(
        at("be/s1").is_some_and(|i| fields[i + 1].contains("/+")),
        "{ours:?}"
    );
    let echo = TcpEcho::start();
    let tcp = tcp_cfg(&echo, "  option tcplog\n  option logasap\n");
    let ours = compare(&tcp, &|p| ping(p), &[1, 4]);
    assert_eq!(ours.udp.len(), 1, "{ours:?}");
    assert!(ours.udp[0].contains(" +0 "), "bytes so far: {ours:?}");
}
