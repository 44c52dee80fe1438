//! The PROXY protocol coming in from real senders: nginx's stream module
//! (`proxy_pass …; proxy_protocol on;`, Debian's `libnginx-mod-stream`) sends v1 to a
//! `bind … accept-proxy`, and the client address nginx saw drives `src` in an ACL,
//! `X-Forwarded-For` (`option forwardfor`) and the log line. nginx cannot send v2, so
//! haproxy's `server … send-proxy-v2` is the real v2 sender. `tcp-request connection
//! expect-proxy layer4` asks nginx's connections for the header and no one else's.
//! Every case runs with gatehouse and then haproxy 2.6 as the receiver, on the same
//! configuration, and both must see the same thing.
//!
//! Clients connect from 127.0.0.2 or 127.0.0.3 while nginx and haproxy connect from
//! 127.0.0.1, so the address a proxy reports says which one it took.

mod support;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use support::client::connect_from;
use support::nginx::Nginx;
use support::*;

const DEFAULTS: &str = "defaults\n  mode http\n  log global\n  \
    log-format \"LOG %ci:%cp %fi:%fp %ST\"\n  \
    timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// What one GET sent from `127.0.0.<host>` to `port` got: the client's own port and the
/// response ("" when the connection was closed without one).
fn get_from(host: u8, port: u16, path: &str) -> (u16, String) {
    get_from_addr(IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)), port, path)
}

/// What one GET sent from `src` to `port` of the same family's loopback got.
fn get_from_addr(src: IpAddr, port: u16, path: &str) -> (u16, String) {
    let to = if src.is_ipv4() {
        local(port)
    } else {
        std::net::SocketAddr::new(src, port)
    };
    let mut s = connect_from(src, to);
    let cport = s.local_addr().expect("local addr").port();
    let mut out = Vec::new();
    // A peer that refuses the connection may have reset it before the request goes:
    // that is "closed without a response" too.
    if write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .is_ok()
    {
        let _ = s.read_to_end(&mut out);
    }
    (cport, String::from_utf8_lossy(&out).into_owned())
}

/// The status code of a response, or 0 for none.
fn status(resp: &str) -> u16 {
    resp.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// nginx's stream module relaying `listen` ports (on 127.0.0.1 and ::1) to `to`, with
/// PROXY v1 when the flag says so.
fn nginx_stream(relays: &[(u16, u16, bool)]) -> Nginx {
    let mut stream = String::new();
    for &(listen, to, pp) in relays {
        let pp = if pp { "proxy_protocol on;" } else { "" };
        stream.push_str(&format!(
            "server {{ listen 127.0.0.1:{listen}; listen [::1]:{listen}; \
             proxy_pass 127.0.0.1:{to}; {pp} }}\n"
        ));
    }
    let ports: Vec<u16> = relays.iter().map(|r| r.0).collect();
    Nginx::start_with_stream("", &stream, &ports)
}

/// haproxy in tcp mode relaying `listen` (on 127.0.0.1 and ::1) to `to` with
/// `send-proxy-v2`.
fn haproxy_v2_sender(listen: u16, to: u16) -> Haproxy {
    require_haproxy();
    Haproxy::start(
        &format!(
            "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
             listen v2\n  bind 127.0.0.1:{listen}\n  bind [::1]:{listen}\n  server g 127.0.0.1:{to} send-proxy-v2\n"
        ),
        &[listen],
    )
}

/// A receiver behind both senders: the app server; gatehouse or haproxy with
/// `global` lines, then `frontend f` on a free port with `accept-proxy`, `option
/// forwardfor`, `rules` and the `X-Addrs` header; nginx (v1) and haproxy (v2) sending
/// to it.
struct Receiver {
    app: HttpBackend,
    proxy: Daemon,
    nginx: Nginx,
    _v2: Haproxy,
    /// nginx's port.
    ng: u16,
    /// The haproxy sender's port.
    hs: u16,
}

/// The app server and gatehouse or haproxy before it: `global` lines, then `frontend
/// f` on a free port (its `bind` line ending in `bind_opts`) with `rules` and the
/// `X-Addrs` header. The proxy's port last.
fn app_behind(
    haproxy: bool,
    global: &str,
    bind_opts: &str,
    rules: &str,
) -> (HttpBackend, Daemon, u16) {
    let app = HttpBackend::start("app");
    let gp = free_port();
    let cfg = format!(
        "{global}{DEFAULTS}\
         frontend f\n  bind 127.0.0.1:{gp}{bind_opts}\n{rules}  \
         http-request set-header X-Addrs %[src]:%[src_port]>%[dst]:%[dst_port]\n  \
         default_backend b\nbackend b\n  server s {}\n",
        app.addr()
    );
    let proxy = proxy_builder(haproxy, &Config::new(&cfg))
        .wait_port(gp)
        .start();
    (app, proxy, gp)
}

fn receiver(haproxy: bool, global: &str, rules: &str) -> Receiver {
    let rules = format!("  option forwardfor\n{rules}");
    let (app, proxy, gp) = app_behind(haproxy, global, " accept-proxy", &rules);
    let (ng, hs) = (free_port(), free_port());
    let nginx = nginx_stream(&[(ng, gp, true)]);
    let _v2 = haproxy_v2_sender(hs, gp);
    Receiver {
        app,
        proxy,
        nginx,
        _v2,
        ng,
        hs,
    }
}

#[test]
fn nginx_v1_and_haproxy_v2_senders_drive_src_acl_forwardfor_and_log_as_with_haproxy() {
    require_haproxy();
    for haproxy in [false, true] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let r = receiver(
            haproxy,
            "global\n  log stdout format raw local0\n",
            "  http-request deny deny_status 403 if { src 127.0.0.3 }\n",
        );
        let (app, p, nginx, ng, hs) = (&r.app, &r.proxy, &r.nginx, r.ng, r.hs);
        for (sender, host) in [(ng, 2), (ng, 3), (hs, 2), (hs, 3)] {
            let what = format!(
                "{who} behind {}, client 127.0.0.{host}",
                if sender == ng {
                    "nginx v1"
                } else {
                    "haproxy v2"
                }
            );
            let n = app.request_count();
            let (cport, resp) = get_from(host, sender, "/");
            let client = format!("127.0.0.{host}:{cport}");
            let lines = p.wait_stdout_lines(&format!("LOG {client} "), 1, DEFAULT_TIMEOUT);
            let want = if host == 2 { 200 } else { 403 };
            assert_eq!(
                lines,
                [format!("LOG {client} 127.0.0.1:{sender} {want}")],
                "{what}: the log line; nginx: {}",
                nginx.error_log()
            );
            assert_eq!(status(&resp), want, "{what}: {resp}");
            if want == 200 {
                let r = app.requests().pop().expect("a request reached the server");
                assert_eq!(
                    r.header("x-addrs"),
                    Some(format!("{client}>127.0.0.1:{sender}").as_str()),
                    "{what}"
                );
                assert_eq!(r.header("x-forwarded-for"), Some("127.0.0.2"), "{what}");
            } else {
                assert_eq!(
                    app.request_count(),
                    n,
                    "{what}: a denied request reached the server"
                );
            }
        }
    }
}

#[test]
fn expect_proxy_layer4_takes_nginx_header_and_leaves_direct_clients_as_haproxy_does() {
    require_haproxy();
    for haproxy in [false, true] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let rules = "  tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }\n";
        let (app, _p, gp) = app_behind(haproxy, "", "", rules);
        let (pp, plain) = (free_port(), free_port());
        // nginx connects from 127.0.0.1: with the header on one port, without on the other.
        let nginx = nginx_stream(&[(pp, gp, true), (plain, gp, false)]);
        let cases = [
            (2, pp, Some(pp), "through nginx with the header"),
            (2, gp, Some(gp), "direct from 127.0.0.2: not asked for one"),
            (2, plain, None, "through nginx without the header"),
            (1, gp, None, "direct from 127.0.0.1 without the header"),
        ];
        for (host, port, dst, what) in cases {
            let n = app.request_count();
            let (cport, resp) = get_from(host, port, "/");
            match dst {
                Some(dst) => {
                    assert_eq!(status(&resp), 200, "{who}, {what}: {resp}");
                    let r = app.requests().pop().expect("a request reached the server");
                    assert_eq!(
                        r.header("x-addrs"),
                        Some(format!("127.0.0.{host}:{cport}>127.0.0.1:{dst}").as_str()),
                        "{who}, {what}; nginx: {}",
                        nginx.error_log()
                    );
                }
                None => {
                    assert_eq!(resp, "", "{who}, {what}: closed without a response");
                    assert_eq!(app.request_count(), n, "{who}, {what}");
                }
            }
        }
    }
}

#[test]
fn an_ipv6_client_through_nginx_and_haproxy_senders_is_src_as_with_haproxy() {
    require_haproxy();
    for haproxy in [false, true] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let r = receiver(haproxy, "", "");
        let (app, nginx, ng, hs) = (&r.app, &r.nginx, r.ng, r.hs);
        // nginx sends `PROXY TCP6 ::1 ::1 …`, haproxy a v2 header of the AF_INET6 family.
        for sender in [ng, hs] {
            let (cport, resp) = get_from_addr(std::net::Ipv6Addr::LOCALHOST.into(), sender, "/");
            assert_eq!(status(&resp), 200, "{who} via {sender}: {resp}");
            let r = app.requests().pop().expect("a request reached the server");
            assert_eq!(
                r.header("x-addrs"),
                Some(format!("::1:{cport}>::1:{sender}").as_str()),
                "{who} via {sender}; nginx: {}",
                nginx.error_log()
            );
            assert_eq!(
                r.header("x-forwarded-for"),
                Some("::1"),
                "{who} via {sender}"
            );
        }
    }
}
