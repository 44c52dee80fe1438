//! `http-request set-timeout server`: the server timeout of one request replaced, by a
//! duration or by a sample expression giving milliseconds, in a frontend's backend
//! section or a backend's rules; a request without the rule keeps `timeout server`.
//! Each request goes to gatehouse and to HAProxy 2.6 with the same configuration.

mod support;

use std::time::{Duration, Instant};
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 3s
frontend fe
  bind 127.0.0.1:{port}
  default_backend slow
backend slow
  http-request set-timeout server 150ms if { path_beg /short }
  http-request set-timeout server req.hdr(x-ms) if { req.hdr(x-ms) -m found }
  server s {slow}
"#;

#[test]
fn set_timeout_server_cuts_a_slow_response_like_haproxy() {
    let run = |haproxy: bool| {
        // The server answers after 1.5 s: far from each timeout, for a loaded machine.
        let slow = HttpBackend::builder("slow")
            .delay(Duration::from_millis(1500))
            .start();
        let cfg = Config::new(CFG)
            .listen_port("port")
            .var("slow", slow.addr());
        let _proxy = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        let port = cfg.port("port");
        [
            ("/short", ""),
            ("/long", ""),
            ("/hdr", "X-Ms: 100\r\n"),
            ("/hdr", "X-Ms: 2900\r\n"),
        ]
        .map(|(p, e)| {
            let t = Instant::now();
            let (resp, _) = slow.exchange_through(port, p, e);
            (resp, t.elapsed())
        })
    };
    let ours = run(false);
    let theirs = run(true);
    for (i, ((o, _), (t, _))) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(o, t, "case {i}: gatehouse vs haproxy");
    }
    assert!(ours[0].0.starts_with("HTTP/1.1 504 "), "{}", ours[0].0);
    assert!(
        ours[0].1 < Duration::from_millis(1200),
        "cut at 150 ms: {:?}",
        ours[0].1
    );
    assert!(ours[1].0.starts_with("HTTP/1.1 200 "), "{}", ours[1].0);
    assert!(ours[2].0.starts_with("HTTP/1.1 504 "), "{}", ours[2].0);
    assert!(ours[3].0.starts_with("HTTP/1.1 200 "), "{}", ours[3].0);
}
