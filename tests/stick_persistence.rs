//! Persistence through stick tables on the real binary: `stick on src` and `stick on
//! hdr(…)` keep a client on one server where round robin would alternate, a server
//! that goes DOWN loses its clients to another (and the entry follows them), as in
//! HAProxy 2.6 run on the same configuration.

mod support;

use std::net::SocketAddr;
use support::socat::unix_cmd;
use support::*;

const CFG: &str = "global
    stats socket unix@admin.sock level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    option redispatch
frontend fe
    bind 127.0.0.1:{port}
    use_backend by_user if { req.hdr(x-user) -m found }
    default_backend by_src
backend by_src
    balance roundrobin
    stick-table type ip size 1k expire 10m
    stick on src
    server s1 {s1}
    server s2 {s2}
backend by_user
    balance roundrobin
    stick-table type string len 32 size 1k expire 10m
    stick on req.hdr(x-user)
    server u1 {s1}
    server u2 {s2}
";

fn served_by(port: u16, headers: &[(&str, &str)]) -> String {
    let a = SocketAddr::from(([127, 0, 0, 1], port));
    // A new connection each time: persistence, not the connection, keeps the server.
    let mut c = HttpClient::connect(a).unwrap();
    let r = c.get("/", headers).unwrap();
    assert_eq!(r.status, 200);
    r.body_str()
}

#[test]
fn stick_on_src_and_on_a_header_keep_clients_and_move_them_off_a_down_server() {
    let (b1, b2) = (HttpBackend::start("s1"), HttpBackend::start("s2"));
    for haproxy in [true, false] {
        if haproxy && haproxy_bin().is_none() {
            continue;
        }
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let cfg = Config::new(CFG)
            .listen_port("port")
            .var("s1", b1.addr())
            .var("s2", b2.addr());
        let port = cfg.port("port");
        let d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        let sock = d.dir().join("admin.sock");
        // By source: every request goes where the first one went.
        let first = served_by(port, &[]);
        for _ in 0..6 {
            assert_eq!(
                served_by(port, &[]),
                first,
                "{who}: source persistence broken"
            );
        }
        let table = unix_cmd(&sock, "show table by_src");
        let id = if first == "s1" { 1 } else { 2 };
        assert!(
            table.contains("key=127.0.0.1 use=0 exp=")
                && table.contains(&format!(" server_id={id} server_key={first}\n")),
            "{who}: {table}"
        );
        // Its server goes DOWN: the client moves, and stays on the new one after the
        // old one is back.
        let srv = if first == "s1" {
            "by_src/s1"
        } else {
            "by_src/s2"
        };
        assert_eq!(
            unix_cmd(&sock, &format!("set server {srv} health down")),
            "\n"
        );
        let moved = served_by(port, &[]);
        assert_ne!(moved, first, "{who}: still sent to a DOWN server");
        assert_eq!(
            unix_cmd(&sock, &format!("set server {srv} health up")),
            "\n"
        );
        for _ in 0..4 {
            assert_eq!(
                served_by(port, &[]),
                moved,
                "{who}: did not stay after moving"
            );
        }
        let table = unix_cmd(&sock, "show table by_src");
        assert!(
            table.contains(&format!("server_key={moved}\n")),
            "{who}: {table}"
        );
        // By header: each user keeps a server; two users are spread by round robin.
        let alice = served_by(port, &[("X-User", "alice")]);
        let bob = served_by(port, &[("X-User", "bob")]);
        assert_ne!(
            alice, bob,
            "{who}: round robin should spread the first requests"
        );
        for _ in 0..4 {
            assert_eq!(served_by(port, &[("X-User", "alice")]), alice, "{who}");
            assert_eq!(served_by(port, &[("X-User", "bob")]), bob, "{who}");
        }
        let users = unix_cmd(&sock, "show table by_user");
        assert!(
            users.starts_with("# table: by_user, type: string, size:1024, used:2\n"),
            "{who}: {users}"
        );
        drop(d);
    }
}
