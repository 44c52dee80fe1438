//! Protocol checks (`redis-check`, `smtpchk`, `pgsql-check`, `mysql-check`,
//! `ldap-check`, `ssl-hello-chk`) against scripted servers that answer as the real
//! ones do when they refuse, and the server options that aim checks elsewhere
//! (`port`, `addr`, `no-check`, `downinter`).

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::Duration;
use support::log_line::log_message;
use support::{Gatehouse, free_port};

/// Connections accepted by each scripted server, by port.
static ACCEPTED: Mutex<BTreeMap<u16, usize>> = Mutex::new(BTreeMap::new());

fn accepted(a: SocketAddr) -> usize {
    ACCEPTED
        .lock()
        .unwrap()
        .get(&a.port())
        .copied()
        .unwrap_or(0)
}

/// Waits until each of `servers` has accepted `n` more check connections: the check
/// before each of them has ended, and a state change it caused is logged by then.
fn wait_checks(servers: &[SocketAddr], n: usize) {
    let from: Vec<usize> = servers.iter().map(|a| accepted(*a)).collect();
    let done = support::wait_until(Duration::from_secs(10), || {
        servers
            .iter()
            .zip(&from)
            .all(|(a, f)| accepted(*a) >= f + n)
    });
    assert!(
        done,
        "the servers {servers:?} were not checked {n} more times"
    );
}

/// A server writing `reply` to every connection, then reading until the peer closes.
fn scripted(reply: &'static [u8]) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            *ACCEPTED.lock().unwrap().entry(addr.port()).or_default() += 1;
            std::thread::spawn(move || {
                let _ = s.write_all(reply);
                let mut b = [0u8; 512];
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                while matches!(s.read(&mut b), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

fn message(gh: &Gatehouse, who: &str) -> String {
    let found = gh.wait_stderr_line(Duration::from_secs(10), |l| l.contains(who));
    assert!(found.is_some(), "no {who:?} in:\n{}", gh.stderr());
    let found = log_message(&found.unwrap()).to_owned();
    let re = regex::Regex::new(r"check duration: \d+ms.*").unwrap();
    re.replace(&found, "…").into_owned()
}

fn start(backends: &str) -> Gatehouse {
    let port = free_port();
    let cfg = format!(
        "global\n    spread-checks 5\ndefaults\n    mode tcp\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n    timeout check 300ms\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend redis\n{backends}"
    );
    Gatehouse::start(&cfg, &[port])
}

#[test]
fn protocol_checks_report_the_servers_refusal() {
    let redis_ok = scripted(b"+PONG\r\n");
    let redis_auth = scripted(b"-NOAUTH Authentication required.\r\n");
    let smtp = scripted(b"554 no service for you\r\n");
    let pg =
        scripted(b"E\x00\x00\x00\x50SFATAL\x00C28000\x00Mrole \"nobody\" does not exist\x00\x00");
    let pg_ok = scripted(b"R\x00\x00\x00\x08\x00\x00\x00\x00Z");
    let my = scripted(
        b"\x15\x00\x00\x00\x0a10.11.6-MariaDB\x00\x2b\x00\x00\x00\x16\x00\x00\x02\xff\x15\x04#28000Access denied",
    );
    let ldap = scripted(b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00");
    let not_tls = scripted(b"HTTP/1.0 400 Bad Request\r\n\r\n");
    let sv = |a: SocketAddr| format!("{a} check inter 100 fall 1 rise 1");
    let gh = start(&format!(
        "backend redis\n    option redis-check\n    server ok {}\n    server auth {}\n\
         backend mail\n    option smtpchk EHLO gatehouse.test\n    server s {}\n\
         backend pg\n    option pgsql-check user nobody\n    server s {}\n    server ok {}\n\
         backend my\n    option mysql-check user haproxy\n    server s {}\n\
         backend dir\n    option ldap-check\n    server s {}\n\
         backend tls\n    option ssl-hello-chk\n    server s {}\n",
        sv(redis_ok),
        sv(redis_auth),
        sv(smtp),
        sv(pg),
        sv(pg_ok),
        sv(my),
        sv(ldap),
        sv(not_tls)
    ));
    assert_eq!(
        message(&gh, "Server redis/auth is DOWN"),
        // As HAProxy 2.6 (no `min-recv` on its rule): a mismatch waits for more data,
        // and Redis keeps the connection open.
        "Server redis/auth is DOWN, reason: Layer7 timeout, …"
    );
    assert_eq!(
        message(&gh, "Server mail/s is DOWN"),
        "Server mail/s is DOWN, reason: Layer7 wrong status, code: 554, info: \"no service for you\", …"
    );
    assert_eq!(
        message(&gh, "Server pg/s is DOWN"),
        "Server pg/s is DOWN, reason: Layer7 invalid response, info: \"FATAL\", …"
    );
    assert_eq!(
        message(&gh, "Server my/s is DOWN"),
        "Server my/s is DOWN, reason: Layer7 wrong status, code: 1045, info: \"#28000Access denied\", …"
    );
    assert_eq!(
        message(&gh, "Server dir/s is DOWN"),
        "Server dir/s is DOWN, reason: Layer7 wrong status, code: 49, info: \"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9\", …"
    );
    assert_eq!(
        message(&gh, "Server tls/s is DOWN"),
        "Server tls/s is DOWN, reason: Layer6 invalid response, …"
    );
    // The servers that answer as expected stay up, check after check.
    wait_checks(&[redis_ok, pg_ok], 3);
    let err = gh.stderr();
    assert!(!err.contains("redis/ok") && !err.contains("pg/ok"), "{err}");
}

#[test]
fn port_and_addr_aim_the_check_and_no_check_turns_it_off() {
    let live = scripted(b"");
    let dead = free_port();
    let gh = start(&format!(
        "backend redis\n    default-server check inter 100 fall 1 rise 1\n\
         \x20   server by-port {live} port {dead}\n    server by-addr 127.0.0.2:{} addr 127.0.0.1 port {dead}\n\
         \x20   server unchecked 127.0.0.1:{dead} no-check\n    server fine {live}\n",
        live.port()
    ));
    assert!(message(&gh, "Server redis/by-port is DOWN").contains("Connection refused"));
    assert!(message(&gh, "Server redis/by-addr is DOWN").contains("Connection refused"));
    // A connect check never completes the handshake (its ACK is delayed, then a reset
    // ends it: tests/check_delack.rs), so the server sees no connection to count: a
    // window of three intervals instead.
    std::thread::sleep(Duration::from_millis(300));
    let err = gh.stderr();
    assert!(
        !err.contains("redis/unchecked") && !err.contains("redis/fine"),
        "{err}"
    );
}
