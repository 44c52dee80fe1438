//! Persistence through stick tables on the real binary: `stick on src` and `stick on
//! hdr(…)` keep a client on one server where round robin would alternate, a server
//! that goes DOWN loses its clients to another (and the entry follows them), as in
//! HAProxy 2.6 run on the same configuration.

mod support;

use support::socat::unix_cmd;
use support::stick::stick_config;
use support::*;

/// After [`PREAMBLE`](support::stick::PREAMBLE).
const CFG: &str = "    option redispatch
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
    let a = local(port);
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
        let cfg = Config::new(&stick_config(CFG))
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

/// After [`PREAMBLE`](support::stick::PREAMBLE).
const PERSIST: &str = "frontend fe
    bind 127.0.0.1:{port}
    use_backend plain if { req.hdr(x-plain) -m found }
    default_backend kept
backend kept
    balance roundrobin
    option persist
    option redispatch
    retries 1
    stick-table type ip size 1k expire 10m
    stick on src
    server k1 {s1}
    server k2 {s2}
    server dead {dead}
backend plain
    balance roundrobin
    stick-table type ip size 1k expire 10m
    stick on src
    server p1 {s1}
    server p2 {s2}
";

/// `option persist`: a client stuck to a server that goes DOWN (its checks fail, it
/// still answers) or into maintenance keeps being sent to it, where the same backend
/// without the option moves the client; a persistent server that really is gone is
/// left for another one after the retries with `option redispatch`. HAProxy 2.6 on the
/// same configuration and commands gives the same answers.
#[test]
fn option_persist_keeps_clients_on_their_down_server_until_redispatch() {
    let (b1, b2) = (HttpBackend::start("s1"), HttpBackend::start("s2"));
    // A port nothing listens on: the `dead` server refuses every connection.
    let dead_port = Refusing::start();
    let dead = dead_port.addr();
    for haproxy in [true, false] {
        if haproxy && haproxy_bin().is_none() {
            continue;
        }
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let cfg = Config::new(&stick_config(PERSIST))
            .listen_port("port")
            .var("s1", b1.addr())
            .var("s2", b2.addr())
            .var("dead", dead);
        let port = cfg.port("port");
        let d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        let sock = d.dir().join("admin.sock");
        let cmd = |c: &str| assert_eq!(unix_cmd(&sock, c), "\n", "{who}: {c}");
        // The dead server is in maintenance while the client is first balanced.
        cmd("set server kept/dead state maint");
        let first = served_by(port, &[]);
        let plain = served_by(port, &[("x-plain", "1")]);
        let k = if first == "s1" { "k1" } else { "k2" };
        let p = if plain == "s1" { "p1" } else { "p2" };
        // Its server's checks fail: `option persist` keeps the client there.
        cmd(&format!("set server kept/{k} health down"));
        cmd(&format!("set server plain/{p} health down"));
        for _ in 0..3 {
            assert_eq!(served_by(port, &[]), first, "{who}: left a DOWN server");
        }
        assert_ne!(
            served_by(port, &[("x-plain", "1")]),
            plain,
            "{who}: without option persist, a DOWN server keeps its clients"
        );
        // In maintenance too.
        cmd(&format!("set server kept/{k} state maint"));
        assert_eq!(served_by(port, &[]), first, "{who}: left a server in maint");
        cmd(&format!("set server kept/{k} state ready"));
        cmd(&format!("set server kept/{k} health up"));
        // The entry now names the dead server (down and in maintenance): the
        // connection fails, and `option redispatch` sends the request elsewhere.
        cmd("clear table kept key 127.0.0.1");
        cmd("set table kept key 127.0.0.1 data.server_id 3");
        let table = unix_cmd(&sock, "show table kept");
        assert!(table.contains("server_id=3"), "{who}: {table}");
        let other = served_by(port, &[]);
        assert!(other == "s1" || other == "s2", "{who}: {other}");
        drop(d);
    }
}
