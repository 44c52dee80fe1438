//! The `tune.h2.*` keywords toward HTTP/2 servers, as HAProxy 2.6 applies them on its
//! backend side: the SETTINGS frame a real HTTP/2 server (nghttpd, from Debian's
//! nghttp2-server) receives from gatehouse and from haproxy on the same configuration,
//! and `tune.h2.max-concurrent-streams` capping the streams of one server connection
//! below what the server allows.

mod support;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::backend_h2::H2Backend;
use support::*;

/// nghttpd serving `dir` in cleartext (h2c with prior knowledge) on `port`, its
/// verbose frame log in `log`; killed on drop.
struct Nghttpd {
    child: Child,
    log: std::path::PathBuf,
}

impl Nghttpd {
    fn start(dir: &TempDir, port: u16) -> Nghttpd {
        let log = dir.path().join("nghttpd.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("nghttpd")
            .args(["--no-tls", "-v", "-d"])
            .arg(dir.path())
            .arg(port.to_string())
            .stdout(Stdio::from(out))
            .stderr(Stdio::null())
            .spawn()
            .expect("nghttpd (nghttp2-server) must be installed");
        assert!(
            wait_until(Duration::from_secs(5), || std::net::TcpStream::connect(
                local(port)
            )
            .is_ok()),
            "nghttpd listens"
        );
        Nghttpd { child, log }
    }

    /// The settings of the first SETTINGS frame received, `NAME=value` each, as nghttpd
    /// prints them (`[SETTINGS_INITIAL_WINDOW_SIZE(0x04):131072]`).
    fn first_settings_received(&self) -> Vec<String> {
        let mut text = String::new();
        wait_until(Duration::from_secs(5), || {
            text = std::fs::read_to_string(&self.log).unwrap_or_default();
            text.contains("recv SETTINGS frame") && text.contains("recv HEADERS frame")
        });
        let block = text
            .split("recv SETTINGS frame")
            .nth(1)
            .unwrap_or_else(|| panic!("no SETTINGS received: {text}"));
        block
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with(' ') && !l.contains("] recv") && !l.contains("] send"))
            .filter_map(|l| {
                let l = l.trim().strip_prefix('[')?.strip_suffix(']')?;
                let (name, value) = l.split_once("):")?;
                let name = name.split('(').next()?;
                Some(format!("{name}={value}"))
            })
            .collect()
    }
}

impl Drop for Nghttpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn servers_receive_the_settings_of_tune_h2_as_from_haproxy() {
    let dir = TempDir::new("nghttpd");
    dir.write("index.html", "hello\n");
    let global = "global\n  tune.bufsize 32768\n  tune.h2.header-table-size 8192\n\
                  tune.h2.initial-window-size 131072\n  tune.h2.max-concurrent-streams 7\n\
                  tune.h2.max-frame-size 32768\n";
    let expected = [
        "SETTINGS_ENABLE_PUSH=0",
        "SETTINGS_HEADER_TABLE_SIZE=8192",
        "SETTINGS_INITIAL_WINDOW_SIZE=131072",
        "SETTINGS_MAX_CONCURRENT_STREAMS=7",
        "SETTINGS_MAX_FRAME_SIZE=32768",
    ];
    for haproxy in [false, true] {
        if haproxy {
            require_haproxy();
        }
        let srv = free_port();
        let ng = Nghttpd::start(&dir, srv);
        let port = free_port();
        let cfg = format!(
            "{global}defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
             frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\
             backend b\n  server s1 127.0.0.1:{srv} proto h2\n"
        );
        let _p = if haproxy {
            Haproxy::start(&cfg, &[port]).0
        } else {
            Gatehouse::start(&cfg, &[port]).0
        };
        let r = http_get(local(port), "/index.html", &[]).unwrap();
        assert_eq!((r.status, r.body_str()), (200, "hello\n".to_owned()));
        let mut got = ng.first_settings_received();
        got.sort();
        // HAProxy also announces RFC 8441 (SETTINGS_ENABLE_CONNECT_PROTOCOL) to servers,
        // which the `h2` crate's client cannot send; the tunables are the same.
        got.retain(|s| !s.starts_with("SETTINGS_ENABLE_CONNECT_PROTOCOL"));
        let name = if haproxy { "haproxy" } else { "gatehouse" };
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn tune_h2_max_concurrent_streams_caps_the_streams_of_a_server_connection() {
    // The server allows 100 streams; gatehouse opens at most 3 on one connection.
    let be = H2Backend::start(100);
    let port = free_port();
    let cfg = format!(
        "global\n  tune.h2.max-concurrent-streams 3\n\
         defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\
         backend b\n  http-reuse always\n  server s1 127.0.0.1:{} proto h2\n",
        be.port()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    assert_eq!(http_get(local(port), "/warm", &[]).unwrap().status, 200);
    let threads: Vec<_> = (0..20)
        .map(|i| {
            std::thread::spawn(move || {
                let r = http_get(local(port), &format!("/slow?{i}"), &[]).unwrap();
                assert_eq!(r.status, 200);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(be.requests().len(), 21);
    assert!(
        be.max_streams_seen() <= 3,
        "at most 3 streams on a connection: {}",
        be.max_streams_seen()
    );
    assert!(
        be.connections() >= 2,
        "more connections when the 3 streams are taken: {}",
        be.connections()
    );
}
