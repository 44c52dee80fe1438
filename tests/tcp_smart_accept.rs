//! `option tcp-smart-accept` (HAProxy 2.6, on by default in HTTP mode): the listening
//! socket has TCP_QUICKACK off, so the kernel does not acknowledge a request's segment on
//! its own but lets the response carry the ACK (40 ms at the latest). Seen from the
//! client: right after it sends a request, its segment is still unacknowledged
//! (`tcpi_unacked` 1) with the option, acknowledged at once (0) without it. Each
//! configuration runs through gatehouse and through haproxy, which must agree.

mod support;

use support::{BlackHole, Config, proxy_builder};

/// Whether most requests sent to a proxy running `option_line` in `mode` waited for
/// their ACK (the request's segment unacknowledged 2 ms after it was sent).
fn ack_is_delayed(haproxy: bool, mode: &str, option_line: &str) -> bool {
    let server = BlackHole::start();
    let cfg = Config::new(&format!(
        "defaults\n    mode {mode}\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{{fe}}\n{option_line}    default_backend be\n\
         backend be\n    server s1 {{srv}}\n"
    ))
    .listen_port("fe")
    .var("srv", server.addr());
    let _p = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    support::delayed_ack::ack_is_delayed(cfg.port("fe"))
}

#[test]
fn http_frontends_let_the_response_acknowledge_the_request_as_haproxy_does() {
    let cases = [
        ("http", "", true),
        ("http", "    no option tcp-smart-accept\n", false),
        ("tcp", "", false),
        ("tcp", "    option tcp-smart-accept\n", true),
    ];
    for (mode, line, want) in cases {
        let ours = ack_is_delayed(false, mode, line);
        assert_eq!(
            ours, want,
            "gatehouse, mode {mode} {line:?}: ACK delayed {ours}"
        );
        let theirs = ack_is_delayed(true, mode, line);
        assert_eq!(
            theirs, want,
            "haproxy, mode {mode} {line:?}: ACK delayed {theirs}"
        );
    }
}
