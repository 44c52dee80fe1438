//! A reload that keeps a bind's listening socket while the bind's options changed does
//! what HAProxy 2.6 does with the socket it inherits (`tcp_bind_listener` in
//! src/proto_tcp.c, `sock_find_compatible_fd` in src/sock.c):
//! - options it can set on a bound socket are set again from the new configuration:
//!   `option tcp-smart-accept` (TCP_QUICKACK) turned on and off by reloads takes
//!   effect on the socket kept;
//! - an option a bound socket cannot change (`v6only`) makes the bind a new socket.
//!
//! gatehouse reloads in place (`SIGUSR2`); haproxy runs in master-worker mode (`-W`),
//! its new worker inheriting the sockets from the master, and `SIGUSR2` to the master.
//! Both must show the same at each step. A marker frontend answers the configuration's
//! generation, so each step waits for the reload to be in effect.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use support::delayed_ack::ack_is_delayed;
use support::*;

/// The ceiling of each wait for a reload's effect (a wait ends at the event).
const WAIT: Duration = Duration::from_secs(20);

/// The generation the marker frontend on `port` answers.
fn generation(port: u16) -> Option<String> {
    let r = http_get(local(port), "/", &[]).ok()?;
    r.header("x-gen").map(str::to_owned)
}

/// Starts gatehouse (in place) or haproxy (`-W`) on `cfg`, waiting for `ports`.
fn start(haproxy: bool, cfg: &str, ports: &[u16]) -> Daemon {
    if haproxy {
        require_haproxy();
        let p = Haproxy::builder(cfg).arg("-W").wait_ports(ports).start();
        // The master binds before its worker starts: a reload signal is for a master
        // whose worker is up.
        assert!(
            wait_until(WAIT, || p.stderr().contains("Loading success.")),
            "haproxy -W did not start: {}",
            p.stderr()
        );
        p
    } else {
        Gatehouse::builder(cfg).wait_ports(ports).start()
    }
}

/// Writes `cfg` and reloads with SIGUSR2, then waits until `marker` answers `gen`.
fn reload(p: &mut Daemon, cfg: &str, marker: u16, gen_: &str, who: &str) {
    std::fs::write(p.config_path(), cfg).expect("write the configuration");
    // Both log `Loading success.` per (re)load. A haproxy master just started may drop
    // a SIGUSR2 that comes before its loop handles it: sent again until one is taken.
    let loads = |p: &Daemon| p.stderr().matches("Loading success.").count();
    let before = loads(p);
    assert!(
        wait_until(WAIT, || {
            p.signal(libc::SIGUSR2);
            wait_until(Duration::from_secs(2), || loads(p) > before)
        }),
        "{who}: no reload to {gen_}; stderr:\n{}",
        p.stderr()
    );
    assert!(
        wait_until(WAIT, || generation(marker).as_deref() == Some(gen_)),
        "{who}: reload to {gen_} not in effect; stderr:\n{}",
        p.stderr()
    );
}

#[test]
fn a_reload_sets_tcp_smart_accept_on_the_kept_socket_as_haproxy_does() {
    for haproxy in [false, true] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let server = BlackHole::start();
        let (fe, mk) = (free_port(), free_port());
        let cfg = |gen_: &str, line: &str| {
            format!(
                "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend fe\n    bind 127.0.0.1:{fe}\n{line}    default_backend be\n\
                 frontend marker\n    bind 127.0.0.1:{mk}\n    \
                 http-request return status 200 hdr x-gen {gen_}\n\
                 backend be\n    server s1 {}\n",
                server.addr()
            )
        };
        let off = "    no option tcp-smart-accept\n";
        let mut p = start(haproxy, &cfg("g1", off), &[fe, mk]);
        assert!(!ack_is_delayed(fe), "{who}: g1, tcp-smart-accept off");
        // On by default in mode http: the kept socket must now delay its ACKs.
        reload(&mut p, &cfg("g2", ""), mk, "g2", who);
        assert!(
            wait_until(WAIT, || ack_is_delayed(fe)),
            "{who}: g2, tcp-smart-accept on after the reload"
        );
        reload(&mut p, &cfg("g3", off), mk, "g3", who);
        assert!(
            wait_until(WAIT, || !ack_is_delayed(fe)),
            "{who}: g3, tcp-smart-accept off again"
        );
    }
}

/// Whether a TCP connection to `addr` is accepted (a refusal is immediate).
fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

#[test]
fn a_reload_that_changes_v6only_binds_a_new_socket_as_haproxy_does() {
    for haproxy in [false, true] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let app = HttpBackend::start("app");
        let (fe, mk) = (free_port(), free_port());
        let cfg = |gen_: &str, opt: &str| {
            format!(
                "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend fe\n    bind :::{fe}{opt}\n    default_backend be\n\
                 frontend marker\n    bind 127.0.0.1:{mk}\n    \
                 http-request return status 200 hdr x-gen {gen_}\n\
                 backend be\n    server s1 {}\n",
                app.addr()
            )
        };
        let v4: SocketAddr = ([127, 0, 0, 1], fe).into();
        let v6: SocketAddr = (std::net::Ipv6Addr::LOCALHOST, fe).into();
        let mut p = start(haproxy, &cfg("g1", " v6only"), &[mk]);
        assert!(wait_until(WAIT, || accepts(v6)), "{who}: g1 over IPv6");
        assert!(!accepts(v4), "{who}: g1 is v6only, IPv4 is refused");
        reload(&mut p, &cfg("g2", ""), mk, "g2", who);
        assert!(
            wait_until(WAIT, || accepts(v4)),
            "{who}: g2 without v6only takes IPv4; stderr:\n{}",
            p.stderr()
        );
        assert!(accepts(v6), "{who}: g2 over IPv6");
        reload(&mut p, &cfg("g3", " v6only"), mk, "g3", who);
        assert!(
            wait_until(WAIT, || !accepts(v4)),
            "{who}: g3 is v6only again"
        );
        assert!(accepts(v6), "{who}: g3 over IPv6");
    }
}
