//! Keywords whose effect no other test file shows, each seen from outside as a user
//! would: the request head limit of `tune.bufsize`/`tune.maxrewrite`, the `daemon` and
//! `pidfile` keywords, a proxy's `log-tag` with `option dontlog-normal` and
//! `option log-separate-errors`, a `bind` line's `backlog`, `v4v6` and `v6only`, and
//! `default-server` options overridden per server (`enabled`, `no-backup`, `no-ssl`,
//! `no-send-proxy`, `no-send-proxy-v2`). `docs/compat.md` names these tests.

mod support;

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n";

/// A frontend answering 200 itself, with `global` lines `global`.
fn answering(global: &str) -> Config {
    Config::new(&format!(
        "global\n{global}\n{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n  \
         http-request return status 200 content-type text/plain string ok\n"
    ))
    .listen_port("port")
}

/// The status of a GET whose head carries a header of `len` bytes.
fn status_with_header(port: u16, len: usize) -> u16 {
    let value = "a".repeat(len);
    http_get(local(port), "/", &[("x-big", value.as_str())])
        .expect("an answer")
        .status
}

#[test]
fn tune_bufsize_and_tune_maxrewrite_bound_the_request_head() {
    // The room for a request head is tune.bufsize - tune.maxrewrite (16384 - 1024).
    let default = answering("");
    let _d = Gatehouse::start_config(&default);
    assert_eq!(status_with_header(default.port("port"), 9000), 200);

    let small_buf = answering("  tune.bufsize 8192");
    let _s = Gatehouse::start_config(&small_buf);
    assert_eq!(status_with_header(small_buf.port("port"), 5000), 200);
    assert_eq!(
        status_with_header(small_buf.port("port"), 7500),
        400,
        "8192 - 1024 bytes at most"
    );

    let big_rewrite = answering("  tune.maxrewrite 8192");
    let _r = Gatehouse::start_config(&big_rewrite);
    assert_eq!(status_with_header(big_rewrite.port("port"), 7000), 200);
    assert_eq!(
        status_with_header(big_rewrite.port("port"), 9000),
        400,
        "16384 - 8192 bytes at most"
    );
}

#[test]
fn daemon_and_pidfile_in_global_detach_and_write_the_pid() {
    let port = free_port();
    let dir = TempDir::new("kw-daemon");
    let pidfile = dir.path().join("g.pid");
    let cfg = dir.write(
        "d.cfg",
        format!(
            "global\n  daemon\n  pidfile {}\n{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  \
             http-request return status 200 content-type text/plain string ok\n",
            pidfile.display()
        ),
    );
    let st = Command::new(gatehouse_bin())
        .arg("-f")
        .arg(&cfg)
        .status()
        .expect("run gatehouse");
    assert_eq!(st.code(), Some(0), "the launching process returns at once");
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n'))
    }));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .expect("a pid in the pidfile");
    assert!(wait_until(Duration::from_secs(5), || http_get(
        local(port),
        "/",
        &[]
    )
    .is_ok()));
    // SAFETY: signalling the daemon this test started, named by its pidfile.
    assert_eq!(
        unsafe { libc::kill(pid, 0) },
        0,
        "the pidfile names a live process"
    );
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_until(Duration::from_secs(5), || TcpStream::connect(
        local(port)
    )
    .is_err()));
}

/// The next syslog datagram, within a few seconds.
fn next_line(sock: &UdpSocket) -> String {
    let mut buf = [0u8; 8192];
    sock.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    let n = sock.recv(&mut buf).expect("a syslog line");
    String::from_utf8_lossy(&buf[..n]).trim_end().to_string()
}

#[test]
fn proxy_log_tag_dontlog_normal_and_log_separate_errors() {
    let ok = HttpBackend::start("ok");
    let err = HttpBackend::builder("err").status(500).start();
    let sys = UdpSocket::bind("127.0.0.1:0").unwrap();
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n  log {{syslog}} local0\n  \
         log-tag fe-tag\n  option dontlognull\n  option dontlog-normal\n  option log-separate-errors\n  \
         log-format \"%ST %b %HP\"\n  use_backend be_err if {{ path_beg /err }}\n  \
         default_backend be_ok\n\
         backend be_ok\n  server s {{ok}}\nbackend be_err\n  server s {{err}}\n"
    ))
    .listen_port("port")
    .var("ok", ok.addr())
    .var("err", err.addr())
    .var("syslog", sys.local_addr().unwrap());
    let _g = Gatehouse::start_config(&cfg);
    let port = cfg.port("port");
    assert_eq!(http_get(local(port), "/fine", &[]).unwrap().status, 200);
    assert_eq!(http_get(local(port), "/err", &[]).unwrap().status, 500);
    // Datagrams on loopback keep their order: a line for /fine would come first.
    let line = next_line(&sys);
    assert!(
        line.ends_with("500 be_err /err"),
        "dontlog-normal drops the successful request: {line}"
    );
    // local0 (16) * 8 + err (3): log-separate-errors raises the level from info (6).
    assert!(line.starts_with("<131>"), "logged at level err: {line}");
    assert!(line.contains(" fe-tag["), "the frontend's log-tag: {line}");
}

/// The accept queue length (`Send-Q` of a listening socket) `ss` shows for `port`.
fn listen_queue(port: u16) -> u32 {
    let out = Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .expect("ss (iproute2) runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .nth(2)
        .and_then(|q| q.parse().ok())
        .unwrap_or_else(|| panic!("no listening socket on {port} in: {text:?}"))
}

#[test]
fn bind_backlog_sets_the_listen_queue_length() {
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{a}} backlog 7\n  bind 127.0.0.1:{{b}}\n  \
         http-request return status 200\n"
    ))
    .listen_port("a")
    .listen_port("b");
    let _g = Gatehouse::start_config(&cfg);
    assert_eq!(listen_queue(cfg.port("a")), 7);
    assert_ne!(
        listen_queue(cfg.port("b")),
        7,
        "the other line keeps the default"
    );
}

/// Whether a connection to `addr` is accepted and answered.
fn answers(addr: SocketAddr) -> bool {
    http_get(addr, "/", &[]).is_ok_and(|r| r.status == 200)
}

#[test]
fn v6only_refuses_ipv4_and_v4v6_accepts_it() {
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind [::]:{{only6}} v6only\n  bind [::]:{{both}} v4v6\n  \
         http-request return status 200\n"
    ));
    let (only6, both) = (free_port(), free_port());
    let cfg = cfg.var("only6", only6).var("both", both);
    let _g = Gatehouse::builder(&cfg.render())
        .wait_ports(&[both])
        .start();
    let v6 = |p: u16| SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, p));
    assert!(answers(v6(only6)), "v6only still serves IPv6");
    assert!(answers(v6(both)));
    assert!(answers(local(both)), "v4v6 serves IPv4 too");
    assert!(
        TcpStream::connect(local(only6)).is_err(),
        "v6only refuses IPv4"
    );
}

/// The backend names that answer `n` requests to `path`.
fn served_by(port: u16, path: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let r = http_get(local(port), path, &[]).expect("an answer");
            r.header("x-backend").unwrap_or("none").to_string()
        })
        .collect()
}

#[test]
fn default_server_options_apply_and_enabled_no_backup_override_them() {
    let [a, b, c, d] = ["a", "b", "c", "d"].map(HttpBackend::start);
    let cfg = Config::new(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n  \
         use_backend backup_default if {{ path_beg /backup }}\n  default_backend disabled_default\n\
         backend disabled_default\n  default-server disabled\n  server a {{a}} enabled\n  server b {{b}}\n\
         backend backup_default\n  default-server backup\n  server c {{c}} no-backup\n  server d {{d}}\n"
    ))
    .listen_port("port")
    .var("a", a.addr())
    .var("b", b.addr())
    .var("c", c.addr())
    .var("d", d.addr());
    let _g = Gatehouse::start_config(&cfg);
    let port = cfg.port("port");
    assert_eq!(
        served_by(port, "/", 4),
        ["a"; 4],
        "b inherits 'disabled', a is 'enabled' again"
    );
    assert_eq!(
        served_by(port, "/backup", 4),
        ["c"; 4],
        "d inherits 'backup', c is 'no-backup'"
    );
}

#[test]
fn no_ssl_and_no_send_proxy_override_default_server() {
    let be = HttpBackend::start("plain");
    let backend = |overrides: &str| {
        format!(
            "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{port}}\n  default_backend be\n\
             backend be\n  default-server ssl verify none send-proxy send-proxy-v2\n  server s {{server}}{overrides}\n"
        )
    };
    // Inherited, the options apply: the plain server gets a PROXY header and a TLS
    // hello, no request it can read, and the client no 200.
    let inherited = Config::new(&backend(""))
        .listen_port("port")
        .var("server", be.addr());
    {
        let _g = Gatehouse::start_config(&inherited);
        let r = http_get(local(inherited.port("port")), "/tls", &[]);
        assert!(!matches!(r, Ok(ref r) if r.status == 200));
        assert!(be.requests().is_empty(), "the plain server read no request");
    }
    // Cancelled per server, the connection is plain: the server reads a plain request.
    let cfg = Config::new(&backend(" no-ssl no-send-proxy no-send-proxy-v2"))
        .listen_port("port")
        .var("server", be.addr());
    let _g = Gatehouse::start_config(&cfg);
    let r = http_get(local(cfg.port("port")), "/plain", &[]).expect("an answer");
    assert_eq!(r.status, 200);
    let head = String::from_utf8_lossy(&be.requests()[0].raw_head).to_string();
    assert!(
        head.starts_with("GET /plain HTTP/1.1\r\n"),
        "no PROXY header, no TLS: {head:?}"
    );
}
