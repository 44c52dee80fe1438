//! Load-balancing algorithms seen from a client: where HTTP requests land
//! for `balance roundrobin` (weights), `static-rr`, `leastconn`, `first`,
//! `source`, `uri` (`whole`), `url_param`, `hdr()`, `hash-type consistent`
//! versus map-based when a server is removed, `source` with many client
//! addresses (compared with haproxy), and `backup` servers with
//! `disabled` / `weight 0` actives and `option allbackups`.
//!
//! Each test backend answers with its own name as body, so the response
//! tells which server got the request. Set `GATEHOUSE_TEST_PROXY=haproxy`
//! to run the same tests against the reference haproxy.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use support::*;

/// An http-mode frontend on `{port}` whose backend `be` holds `backend`
/// (its body lines: balance, options and servers).
fn http_config(backend: &str) -> Config {
    Config::new(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n{backend}\n",
    )
    .listen_port("port")
    .var("backend", backend)
}

/// Starts backends named `names`.
fn backends(names: &[&str]) -> Vec<HttpBackend> {
    names.iter().map(|n| HttpBackend::start(n)).collect()
}

/// `  server <name> <addr><suffix>` lines, one per backend.
fn server_lines(bes: &[HttpBackend], suffix: &str) -> String {
    bes.iter()
        .map(|b| format!("  server {} {}{suffix}\n", b.name(), b.addr()))
        .collect()
}

/// One request: path and extra headers.
type Req = (String, Vec<(String, String)>);

/// Sends every request of `reqs` over `conns` parallel keep-alive client
/// connections (reconnecting when the proxy closes one) and returns, for
/// each request in order, the name of the server that answered.
fn route_all(addr: SocketAddr, reqs: &[Req], conns: usize) -> Vec<String> {
    let mut out = vec![String::new(); reqs.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..conns)
            .map(|t| {
                scope.spawn(move || {
                    let mut got = Vec::new();
                    let mut client: Option<HttpClient> = None;
                    for i in (t..reqs.len()).step_by(conns) {
                        let (path, headers) = &reqs[i];
                        let hdrs: Vec<(&str, &str)> = headers
                            .iter()
                            .map(|(n, v)| (n.as_str(), v.as_str()))
                            .collect();
                        if client.as_mut().is_none_or(|c| c.server_closed()) {
                            client = Some(HttpClient::connect(addr).expect("connect to proxy"));
                        }
                        let c = client.as_mut().expect("client");
                        let resp = c
                            .get(path, &hdrs)
                            .unwrap_or_else(|e| panic!("GET {path} through the proxy: {e}"));
                        assert_eq!(resp.status, 200, "GET {path}: {}", resp.body_str());
                        got.push((i, resp.body_str()));
                    }
                    got
                })
            })
            .collect();
        for h in handles {
            for (i, name) in h.join().expect("client thread") {
                out[i] = name;
            }
        }
    });
    out
}

/// `n` GETs of `/` with no extra header.
fn plain(n: usize) -> Vec<Req> {
    (0..n).map(|i| (format!("/r{i}"), Vec::new())).collect()
}

fn count(names: &[String]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for n in names {
        *m.entry(n.clone()).or_insert(0) += 1;
    }
    m
}

/// Asserts `name` got `share` ± `tol` of `total` requests.
fn assert_share(counts: &HashMap<String, usize>, name: &str, total: usize, share: f64, tol: f64) {
    let got = counts.get(name).copied().unwrap_or(0) as f64 / total as f64;
    assert!(
        (got - share).abs() <= tol,
        "server {name} got {:.1}% of {total} requests, expected {:.1}% ± {:.1}% (all: {counts:?})",
        got * 100.0,
        share * 100.0,
        tol * 100.0
    );
}

#[test]
fn roundrobin_weights_3_to_1_split_requests_75_25() {
    let bes = backends(&["heavy", "light"]);
    let cfg = http_config(&format!(
        "  balance roundrobin\n  server heavy {} weight 3\n  server light {} weight 1\n",
        bes[0].addr(),
        bes[1].addr()
    ));
    let p = start_proxy(&cfg);
    let names = route_all(local(cfg.port("port")), &plain(4000), 8);
    let c = count(&names);
    assert_share(&c, "heavy", 4000, 0.75, 0.02);
    assert_share(&c, "light", 4000, 0.25, 0.02);
    drop(p);
}

#[test]
fn static_rr_follows_weights_1_2_1() {
    let bes = backends(&["a", "b", "c"]);
    let cfg = http_config(&format!(
        "  balance static-rr\n  server a {} weight 1\n  server b {} weight 2\n  server c {} weight 1\n",
        bes[0].addr(),
        bes[1].addr(),
        bes[2].addr()
    ));
    let _p = start_proxy(&cfg);
    let names = route_all(local(cfg.port("port")), &plain(2000), 4);
    let c = count(&names);
    assert_share(&c, "a", 2000, 0.25, 0.02);
    assert_share(&c, "b", 2000, 0.50, 0.02);
    assert_share(&c, "c", 2000, 0.25, 0.02);
}

#[test]
fn leastconn_sends_new_requests_to_the_least_loaded_server() {
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_millis(1500))
        .start();
    let fast = HttpBackend::start("fast");
    let cfg = http_config(&format!(
        "  balance leastconn\n  server slow {}\n  server fast {}\n",
        slow.addr(),
        fast.addr()
    ));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    // Park one request on the slow server (requests landing on the fast
    // one complete at once; try until one sticks on the slow one).
    let mut parked = Vec::new();
    for _ in 0..4 {
        let t = std::thread::spawn(move || http_get(addr, "/park", &[]));
        // The request either reached the slow server or was answered by the fast one.
        wait_until(Duration::from_secs(5), || {
            slow.request_count() > 0 || t.is_finished()
        });
        parked.push(t);
        if slow.request_count() > 0 {
            break;
        }
    }
    assert_eq!(
        slow.request_count(),
        1,
        "could not park a request on the slow server"
    );
    let fast_before = fast.request_count();
    for i in 0..10 {
        // The proxy's close after `Connection: close` tells that it released the
        // request's slot on the fast server before the next request comes.
        let r = http_get_until_close(addr, &format!("/q{i}"), &[]).expect("GET");
        assert_eq!(
            r.body_str(),
            "fast",
            "request {i} went to the server that already has a request in progress"
        );
    }
    assert_eq!(fast.request_count(), fast_before + 10);
    assert_eq!(slow.request_count(), 1);
    for t in parked {
        let r = t.join().expect("parked thread").expect("parked GET");
        assert_eq!(r.status, 200);
    }
}

#[test]
fn first_fills_server_one_up_to_maxconn_before_using_server_two() {
    let one = HttpBackend::builder("one")
        .delay(Duration::from_millis(50))
        .start();
    let two = HttpBackend::builder("two")
        .delay(Duration::from_millis(50))
        .start();
    let cfg = http_config(&format!(
        "  balance first\n  server one {} maxconn 3\n  server two {} maxconn 3\n",
        one.addr(),
        two.addr()
    ));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    for i in 0..10 {
        let r = http_get(addr, &format!("/seq{i}"), &[]).expect("GET");
        assert_eq!(
            r.body_str(),
            "one",
            "sequential request {i} left server one"
        );
    }
    // Four concurrent slow requests: three fill server one, the fourth
    // spills over to server two.
    one.set_delay(Duration::from_millis(800));
    two.set_delay(Duration::from_millis(800));
    let (one0, two0) = (one.request_count(), two.request_count());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let t = std::thread::spawn(move || http_get(addr, &format!("/par{i}"), &[]));
            // One at a time: each request holds its server slot before the next comes.
            assert!(
                wait_until(Duration::from_secs(5), || one.request_count()
                    + two.request_count()
                    == one0 + two0 + i + 1),
                "request {i} did not reach a server"
            );
            t
        })
        .collect();
    let names: Vec<String> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("GET").body_str())
        .collect();
    let c = count(&names);
    assert_eq!(
        (c.get("one").copied(), c.get("two").copied()),
        (Some(3), Some(1)),
        "4 concurrent requests with maxconn 3 on server one: {c:?}"
    );
    assert_eq!(one.request_count() - one0, 3);
    assert_eq!(two.request_count() - two0, 1);
}

#[test]
fn source_hash_keeps_one_client_address_on_one_server() {
    let bes = backends(&["a", "b", "c"]);
    let cfg = http_config(&format!("  balance source\n{}", server_lines(&bes, "")));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    // Separate connections (distinct source ports, same address).
    let names: Vec<String> = (0..30)
        .map(|i| {
            http_get(addr, &format!("/s{i}"), &[])
                .expect("GET")
                .body_str()
        })
        .collect();
    let c = count(&names);
    assert_eq!(
        c.len(),
        1,
        "requests from 127.0.0.1 spread over servers: {c:?}"
    );
}

/// Runs `reqs` twice and checks each request landed on the same server
/// both times; returns the servers of the first run.
fn assert_sticky(addr: SocketAddr, reqs: &[Req]) -> Vec<String> {
    let first = route_all(addr, reqs, 4);
    let second = route_all(addr, reqs, 3);
    for (i, (a, b)) in first.iter().zip(&second).enumerate() {
        assert_eq!(a, b, "request {:?} went to {a} then to {b}", reqs[i].0);
    }
    first
}

/// Asserts each of `servers` got at least `min_share` of `names`.
fn assert_spread(names: &[String], servers: &[&str], min_share: f64) {
    let c = count(names);
    for s in servers {
        let got = c.get(*s).copied().unwrap_or(0) as f64 / names.len() as f64;
        assert!(
            got >= min_share,
            "server {s} got {:.1}% of distinct keys (< {:.0}%): {c:?}",
            got * 100.0,
            min_share * 100.0
        );
    }
}

#[test]
fn uri_hash_sticks_per_path_spreads_paths_and_ignores_the_query() {
    let bes = backends(&["a", "b", "c"]);
    let cfg = http_config(&format!("  balance uri\n{}", server_lines(&bes, "")));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let paths: Vec<Req> = (0..300)
        .map(|i| (format!("/static/file{i}.js"), Vec::new()))
        .collect();
    let names = assert_sticky(addr, &paths);
    assert_spread(&names, &["a", "b", "c"], 0.15);
    // Without `whole`, only the part before '?' is hashed.
    let same_path: Vec<Req> = (0..40)
        .map(|i| (format!("/static/file7.js?v={i}"), Vec::new()))
        .collect();
    let c = count(&route_all(addr, &same_path, 4));
    assert_eq!(c.len(), 1, "query string changed the server: {c:?}");
    assert_eq!(c.get(&names[7]).copied(), Some(40));
}

#[test]
fn uri_whole_hashes_the_query_string_too() {
    let bes = backends(&["a", "b", "c"]);
    let cfg = http_config(&format!("  balance uri whole\n{}", server_lines(&bes, "")));
    let _p = start_proxy(&cfg);
    let reqs: Vec<Req> = (0..300)
        .map(|i| (format!("/search?q={i}"), Vec::new()))
        .collect();
    let names = assert_sticky(local(cfg.port("port")), &reqs);
    assert_spread(&names, &["a", "b", "c"], 0.15);
}

#[test]
fn url_param_hash_sticks_per_parameter_value() {
    let bes = backends(&["a", "b", "c"]);
    let cfg = http_config(&format!(
        "  balance url_param userid\n{}",
        server_lines(&bes, "")
    ));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let reqs: Vec<Req> = (0..300)
        .map(|i| (format!("/page{}?lang=en&userid=u{i}", i % 7), Vec::new()))
        .collect();
    let names = assert_sticky(addr, &reqs);
    assert_spread(&names, &["a", "b", "c"], 0.15);
    // Same userid on different paths: same server.
    let same: Vec<Req> = (0..30)
        .map(|i| (format!("/other{i}?userid=u5"), Vec::new()))
        .collect();
    let c = count(&route_all(addr, &same, 3));
    assert_eq!(c.len(), 1, "userid=u5 spread over servers: {c:?}");
    assert_eq!(c.get(&names[5]).copied(), Some(30));
    // Without the parameter, requests fall back to round robin.
    let c = count(&route_all(addr, &plain(30), 1));
    assert_eq!(
        c.len(),
        3,
        "requests without userid not round-robined: {c:?}"
    );
}

#[test]
fn hdr_hash_sticks_per_header_value() {
    let bes = backends(&["a", "b", "c"]);
    let cfg = http_config(&format!(
        "  balance hdr(X-Tenant)\n{}",
        server_lines(&bes, "")
    ));
    let _p = start_proxy(&cfg);
    let addr = local(cfg.port("port"));
    let reqs: Vec<Req> = (0..300)
        .map(|i| {
            (
                format!("/p{}", i % 5),
                vec![("X-Tenant".to_string(), format!("tenant-{i}"))],
            )
        })
        .collect();
    let names = assert_sticky(addr, &reqs);
    assert_spread(&names, &["a", "b", "c"], 0.15);
    let same: Vec<Req> = (0..30)
        .map(|i| {
            (
                format!("/x{i}"),
                vec![("x-tenant".to_string(), "tenant-9".to_string())],
            )
        })
        .collect();
    let c = count(&route_all(addr, &same, 3));
    assert_eq!(c.len(), 1, "X-Tenant: tenant-9 spread over servers: {c:?}");
    assert_eq!(c.get(&names[9]).copied(), Some(30));
}

/// Where 2,000 distinct URIs land with servers s1..s4, then with s1..s3
/// (same addresses), under `hash-type <hash_type>`; returns the two maps.
fn uri_placement_with_and_without_s4(hash_type: &str) -> (Vec<String>, Vec<String>) {
    let bes = backends(&["s1", "s2", "s3", "s4"]);
    let four = http_config(&format!(
        "  balance uri\n  hash-type {hash_type}\n{}",
        server_lines(&bes, "")
    ));
    let three = http_config(&format!(
        "  balance uri\n  hash-type {hash_type}\n{}",
        server_lines(&bes[..3], "")
    ));
    let reqs: Vec<Req> = (0..2000)
        .map(|i| (format!("/objects/{i:05}/data"), Vec::new()))
        .collect();
    let p4 = start_proxy(&four);
    let before = route_all(local(four.port("port")), &reqs, 4);
    drop(p4);
    let p3 = start_proxy(&three);
    let after = route_all(local(three.port("port")), &reqs, 4);
    drop(p3);
    (before, after)
}

#[test]
fn consistent_hashing_moves_only_the_removed_servers_keys() {
    let (before, after) = uri_placement_with_and_without_s4("consistent");
    assert_spread(&before, &["s1", "s2", "s3", "s4"], 0.12);
    let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    let kept_moved = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.as_str() != "s4" && a != b)
        .count();
    assert_eq!(
        kept_moved, 0,
        "keys of servers that stayed moved when s4 was removed"
    );
    assert!(
        moved as f64 / 2000.0 <= 0.25 + 0.08,
        "{moved} of 2000 keys moved when removing 1 of 4 servers"
    );
    assert!(after.iter().all(|s| s != "s4"));
}

#[test]
fn map_based_hashing_moves_most_keys_when_a_server_is_removed() {
    let (before, after) = uri_placement_with_and_without_s4("map-based");
    assert_spread(&before, &["s1", "s2", "s3", "s4"], 0.12);
    let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert!(
        moved as f64 / 2000.0 >= 0.5,
        "only {moved} of 2000 keys moved with map-based hashing; expected most of them"
    );
}

#[test]
fn backup_servers_get_no_traffic_while_actives_are_usable() {
    let act = backends(&["a1", "a2"]);
    let bak = backends(&["b1"]);
    let cfg = http_config(&format!(
        "  balance roundrobin\n{}{}",
        server_lines(&act, ""),
        server_lines(&bak, " backup")
    ));
    let _p = start_proxy(&cfg);
    let c = count(&route_all(local(cfg.port("port")), &plain(40), 2));
    assert_eq!(c.get("b1"), None, "backup used while actives are up: {c:?}");
    assert_eq!(c.get("a1").copied(), Some(20));
    assert_eq!(c.get("a2").copied(), Some(20));
}

#[test]
fn first_backup_takes_all_traffic_when_actives_are_disabled() {
    let act = backends(&["a1", "a2"]);
    let bak = backends(&["b1", "b2"]);
    let cfg = http_config(&format!(
        "  balance roundrobin\n{}{}",
        server_lines(&act, " disabled"),
        server_lines(&bak, " backup")
    ));
    let _p = start_proxy(&cfg);
    let c = count(&route_all(local(cfg.port("port")), &plain(30), 2));
    assert_eq!(
        c.get("b1").copied(),
        Some(30),
        "without allbackups only the first backup serves: {c:?}"
    );
}

#[test]
fn allbackups_balances_over_every_backup_when_actives_have_weight_0() {
    let act = backends(&["a1"]);
    let bak = backends(&["b1", "b2"]);
    let cfg = http_config(&format!(
        "  balance roundrobin\n  option allbackups\n{}{}",
        server_lines(&act, " weight 0"),
        server_lines(&bak, " backup")
    ));
    let _p = start_proxy(&cfg);
    let c = count(&route_all(local(cfg.port("port")), &plain(40), 2));
    assert_eq!(c.get("a1"), None, "weight 0 server got traffic: {c:?}");
    assert_eq!(c.get("b1").copied(), Some(20), "{c:?}");
    assert_eq!(c.get("b2").copied(), Some(20), "{c:?}");
}

/// One `GET path` sent from source address `127.0.0.<host>` (loopback accepts any
/// 127/8 source); returns the answering server's name.
fn get_from(addr: SocketAddr, host: u8, path: &str) -> String {
    use socket2::{Domain, Socket, Type};
    use std::io::{Read, Write};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let src = SocketAddr::from(([127, 0, 0, host], 0));
    sock.bind(&src.into())
        .unwrap_or_else(|e| panic!("bind the client to {src}: {e}"));
    sock.connect_timeout(&addr.into(), Duration::from_secs(2))
        .expect("connect to proxy");
    let mut s: std::net::TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "GET {path} from {src}: {text}"
    );
    text.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

/// For clients 127.0.0.2 .. 127.0.0.25, the server of each of 3 requests.
fn source_routes(addr: SocketAddr) -> Vec<(u8, Vec<String>)> {
    (2..26u8)
        .map(|h| {
            let got = (0..3)
                .map(|i| get_from(addr, h, &format!("/c{h}-{i}")))
                .collect();
            (h, got)
        })
        .collect()
}

#[test]
fn source_hash_sticks_each_client_address_to_its_server_and_spreads_clients() {
    for hash_type in ["", "  hash-type consistent\n"] {
        let bes = backends(&["a", "b", "c"]);
        let cfg = http_config(&format!(
            "  balance source\n{hash_type}{}",
            server_lines(&bes, "")
        ));
        let _p = start_proxy(&cfg);
        let routes = source_routes(local(cfg.port("port")));
        for (h, got) in &routes {
            assert!(
                got.iter().all(|s| *s == got[0]),
                "{hash_type:?}: client 127.0.0.{h} moved between servers: {got:?}"
            );
        }
        let firsts: Vec<String> = routes.iter().map(|(_, g)| g[0].clone()).collect();
        let c = count(&firsts);
        assert!(
            c.len() >= 2 && c.values().all(|&n| n < routes.len() * 3 / 4),
            "{hash_type:?}: 24 client addresses spread as {c:?}"
        );
    }
}

#[test]
fn source_hash_maps_client_addresses_like_haproxy() {
    // With map-based hashing the same addresses land on the same servers through
    // gatehouse and haproxy (the consistent-hash ring's placement is not haproxy's,
    // see src/balance/table.rs).
    require_haproxy();
    let bes = backends(&["a", "b", "c", "d"]);
    let cfg = http_config(&format!(
        "  balance source\n{}",
        server_lines(&bes, " weight 2")
    ));
    let _g = Gatehouse::start_config(&cfg);
    let hcfg = cfg.with_fresh_ports();
    let _h = Haproxy::start_config(&hcfg);
    let ours = source_routes(local(cfg.port("port")));
    let theirs = source_routes(local(hcfg.port("port")));
    assert_eq!(ours, theirs, "client address → server differs from haproxy");
}
