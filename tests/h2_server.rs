//! HTTP/2 toward servers: `server … proto h2` (h2c with prior knowledge) and `server …
//! ssl alpn h2` (h2 over TLS, HTTP/1.1 when ALPN picks it), against a small Rust HTTP/2
//! server that reports what it received (tests/support/backend_h2.rs) and nginx. HTTP/1
//! clients' requests are translated (Host kept, connection-specific headers dropped,
//! chunked bodies as DATA frames, trailers both ways), concurrent requests share a
//! connection up to the server's stream limit, a GOAWAY moves the next request to a
//! new connection, and a server that is down is a 503.

mod support;
use support::backend_h2::H2Backend;
use support::nginx::Nginx;
use support::pki::Pki;
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// gatehouse with one frontend and a backend `b` of `backend` lines.
fn proxy(backend: &str) -> (Gatehouse, u16) {
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n{backend}"
    );
    (Gatehouse::start(&cfg, &[port]), port)
}

/// An h2c server (`proto h2`) behind haproxy (`haproxy`) or gatehouse, whose bind ends
/// with `bind_opts`: the server, the running proxy and its port.
fn h2_behind(haproxy: bool, bind_opts: &str) -> (H2Backend, Box<dyn std::any::Any>, u16) {
    let be = H2Backend::start(100);
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}{bind_opts}\n  default_backend b\nbackend b\n  server s1 127.0.0.1:{} proto h2\n",
        be.port()
    );
    let proxy: Box<dyn std::any::Any> = if haproxy {
        Box::new(Haproxy::start(&cfg, &[port]))
    } else {
        Box::new(Gatehouse::start(&cfg, &[port]))
    };
    (be, proxy, port)
}

/// Sends raw request bytes on a new connection and reads until the proxy closes.
fn raw(port: u16, req: &[u8]) -> String {
    String::from_utf8_lossy(&send_until_close(local(port), req)).into_owned()
}

#[test]
fn get_and_post_bodies_reach_an_h2c_server_translated() {
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!("  server s1 127.0.0.1:{} proto h2\n", be.port()));
    let mut c = HttpClient::connect(local(port)).unwrap();
    let r = c
        .get(
            "/a?x=1",
            &[
                ("Host", "app.example"),
                ("Connection", "keep-alive"),
                ("X-Test", "one"),
            ],
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "GET /a?x=1 0");
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(
        r.reason, "OK",
        "the standard reason phrase for an HTTP/1 client"
    );
    let r = c.request("POST", "/cl", &[], &[b'x'; 70_000]).unwrap();
    assert_eq!(
        r.body_str(),
        "POST /cl 70000",
        "a Content-Length body past one window"
    );
    let chunked = b"POST /chunked HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let r = c.send_raw_request(chunked, false).unwrap();
    assert_eq!(r.body_str(), "POST /chunked 11");
    let reqs = be.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    let get = &reqs[0];
    // As HAProxy 2.6: an origin-form request keeps its Host header and sends no
    // :authority; connection-specific headers are dropped.
    assert_eq!(get.authority, None);
    assert_eq!(get.header("host"), Some("app.example"));
    assert_eq!(get.header("x-test"), Some("one"));
    assert_eq!(get.header("connection"), None);
    assert_eq!(reqs[1].body.len(), 70_000);
    assert_eq!(reqs[1].header("content-length"), Some("70000"));
    assert_eq!(reqs[2].body, b"hello world");
    assert_eq!(
        reqs[2].header("transfer-encoding"),
        None,
        "never sent on h2"
    );
    assert_eq!(reqs[2].header("content-length"), None);
    assert!(
        reqs.iter().all(|r| r.conn == 1),
        "one keep-alive client's requests share one server connection: {reqs:?}"
    );
}

#[test]
fn requests_reach_the_h2_server_as_through_haproxy() {
    require_haproxy();
    let requests: [&[u8]; 4] = [
        b"GET /a?b=1 HTTP/1.1\r\nHost: app.example:80\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-One: 1\r\nTE: trailers, deflate\r\n\r\n",
        b"POST /c HTTP/1.1\r\nHost: app.example\r\nContent-Length: 3\r\nProxy-Connection: keep-alive\r\nConnection: x-drop\r\nX-Drop: 1\r\n\r\nabc",
        b"PUT /d HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-t: 1\r\n\r\n",
        b"GET http://abs.example:8080/e HTTP/1.1\r\nHost: abs.example:8080\r\nConnection: close\r\n\r\n",
    ];
    let seen = |haproxy: bool| {
        let (be, _p, port) = h2_behind(haproxy, "");
        let mut c = HttpClient::connect(local(port)).unwrap();
        for r in requests {
            let resp = c.send_raw_request(r, false).unwrap();
            assert_eq!(
                resp.status,
                200,
                "haproxy={haproxy} {}: {}",
                String::from_utf8_lossy(r),
                resp.body_str()
            );
        }
        be.requests()
            .into_iter()
            .map(|mut r| {
                r.conn = 0;
                // The `h2` crate sends `:scheme http` where HAProxy sends `https` for an
                // origin-form request (docs/compat.md).
                if r.authority.is_none() {
                    r.scheme = None;
                }
                format!("{r:?}")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(seen(false), seen(true));
}

/// A server that answers in full before the request's body came, then resets the
/// stream with NO_ERROR (RFC 9113 §8.1; nginx does so for `return`): its answer reaches
/// the client, the rest of the body is not sent, and the client's connection closes
/// after the response — as through HAProxy.
#[test]
fn an_answer_before_the_body_then_a_no_error_reset_reaches_the_client() {
    require_haproxy();
    let run = |haproxy: bool| {
        let (be, _p, port) = h2_behind(haproxy, "");
        let mut s = std::net::TcpStream::connect(local(port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        std::io::Write::write_all(
            &mut s,
            b"POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap();
        // The body comes once the server has answered and reset the stream.
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::io::Write::write_all(&mut s, b"12345").unwrap();
        let mut c = support::http1::BufConn::new(s);
        let head = c.read_head().unwrap().expect("a response");
        let h = support::http1::parse_head(&head).unwrap();
        let body = c.read_exact_body(5).unwrap();
        let first = format!("{} {}", h.second, String::from_utf8_lossy(&body));
        // The connection is closed after the response (a write may already fail).
        let mut s = c.stream;
        if std::io::Write::write_all(
            &mut s,
            b"GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .is_err()
        {
            return (first, "closed".to_owned(), Vec::new());
        }
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut s, &mut rest);
        let rest = String::from_utf8_lossy(&rest).into_owned();
        let second = rest.lines().next().unwrap_or("closed").to_owned();
        let paths: Vec<String> = be.requests().into_iter().map(|r| r.path).collect();
        (first, second, paths)
    };
    let ours = run(false);
    assert_eq!(ours, run(true), "gatehouse, then haproxy");
    assert_eq!(ours.0, "200 early");
    assert_eq!(ours.1, "closed");
}

#[test]
fn an_absolute_uri_becomes_scheme_and_authority() {
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!("  server s1 127.0.0.1:{} proto h2\n", be.port()));
    let out = raw(
        port,
        b"GET http://api.example/x HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\n\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let r = &be.requests()[0];
    assert_eq!(r.authority.as_deref(), Some("api.example"));
    assert_eq!(r.scheme.as_deref(), Some("http"));
    assert_eq!(r.path, "/x");
    assert_eq!(r.header("host"), None, "Host is carried by :authority");
}

#[test]
fn trailers_cross_both_ways() {
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!("  server s1 127.0.0.1:{} proto h2\n", be.port()));
    // Request trailers from a chunked HTTP/1 body reach the server as a HEADERS frame.
    let out = raw(
        port,
        b"POST /up HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 7\r\n\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let r = &be.requests()[0];
    assert_eq!(r.body, b"abc");
    assert_eq!(r.trailers, vec![("x-sum".to_string(), "7".to_string())]);
    assert_eq!(r.header("te"), Some("trailers"));
    // Response trailers reach the HTTP/1.1 client after the last chunk.
    let out = raw(
        port,
        b"GET /trailers HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let lower = out.to_ascii_lowercase();
    assert!(lower.contains("transfer-encoding: chunked"), "{out}");
    assert!(lower.contains("first,"), "{out}");
    assert!(out.ends_with("0\r\nx-checksum: 42\r\n\r\n"), "{out:?}");
}

#[test]
fn large_headers_pass_both_ways() {
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!("  server s1 127.0.0.1:{} proto h2\n", be.port()));
    let big = "v".repeat(8_000);
    let r = http_get(local(port), "/big-header", &[("X-Large", &big)]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-big").map(str::len), Some(10_000));
    assert_eq!(be.requests()[0].header("x-large"), Some(big.as_str()));
}

#[test]
fn concurrent_clients_share_one_connection_up_to_the_stream_limit() {
    // `http-reuse always`: every request may use any connection with a free stream.
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!(
        "  http-reuse always\n  server s1 127.0.0.1:{} proto h2\n",
        be.port()
    ));
    // The first connection exists before the crowd comes.
    assert_eq!(http_get(local(port), "/warm", &[]).unwrap().status, 200);
    let run = |n: usize| {
        let threads: Vec<_> = (0..n)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut c = HttpClient::connect(local(port)).unwrap();
                    for k in 0..4 {
                        let path = format!("/slow?c={i}&k={k}");
                        let r = c.get(&path, &[]).unwrap();
                        assert_eq!(r.status, 200);
                        assert_eq!(r.body_str(), format!("GET {path} 0"));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    };
    run(50);
    assert_eq!(be.requests().len(), 201);
    assert_eq!(
        be.connections(),
        1,
        "50 concurrent keep-alive clients on one HTTP/2 connection"
    );
    assert!(be.max_streams_seen() > 1, "streams ran concurrently");

    // A server allowing 5 streams at once never sees more, and every answer comes.
    let small = H2Backend::start(5);
    let (_g2, port2) = proxy(&format!(
        "  http-reuse always\n  server s1 127.0.0.1:{} proto h2\n",
        small.port()
    ));
    assert_eq!(http_get(local(port2), "/warm", &[]).unwrap().status, 200);
    let threads: Vec<_> = (0..30)
        .map(|i| {
            std::thread::spawn(move || {
                let r = http_get(local(port2), &format!("/slow?{i}"), &[]).unwrap();
                assert_eq!(r.status, 200);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(
        small.max_streams_seen() <= 5,
        "{}",
        small.max_streams_seen()
    );
    assert!(
        small.connections() >= 2,
        "more connections when streams run out"
    );
}

#[test]
fn http_reuse_safe_keeps_a_busy_connection_to_its_session() {
    // The default, `safe`: a session's first request opens its own connection; a later
    // one may take an idle pooled connection.
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!(
        "  default-server proto h2\n  server s1 127.0.0.1:{}\n",
        be.port()
    ));
    let mut a = HttpClient::connect(local(port)).unwrap();
    assert_eq!(a.get("/1", &[]).unwrap().status, 200);
    let mut b = HttpClient::connect(local(port)).unwrap();
    assert_eq!(b.get("/2", &[]).unwrap().status, 200);
    assert_eq!(
        be.connections(),
        2,
        "each session's first request on its own"
    );
    assert_eq!(b.get("/3", &[]).unwrap().status, 200);
    assert_eq!(a.get("/4", &[]).unwrap().status, 200);
    assert_eq!(be.connections(), 2, "later requests reuse idle connections");
}

#[test]
fn http_reuse_never_keeps_a_connection_per_client() {
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!(
        "  http-reuse never\n  server s1 127.0.0.1:{} proto h2\n",
        be.port()
    ));
    let mut a = HttpClient::connect(local(port)).unwrap();
    let mut b = HttpClient::connect(local(port)).unwrap();
    let conn =
        |c: &mut HttpClient, p: &str| c.get(p, &[]).unwrap().header("x-conn").unwrap().to_string();
    let (a1, b1) = (conn(&mut a, "/a1"), conn(&mut b, "/b1"));
    assert_ne!(a1, b1);
    assert_eq!(
        conn(&mut a, "/a2"),
        a1,
        "a client's next request on its own connection"
    );
    assert_eq!(conn(&mut b, "/b2"), b1);
    drop(a);
    let mut c = HttpClient::connect(local(port)).unwrap();
    let c1 = conn(&mut c, "/c1");
    assert!(c1 != a1 && c1 != b1, "never another client's connection");
    assert_eq!(be.connections(), 3);
}

#[test]
fn a_goaway_moves_the_next_request_to_a_new_connection() {
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!("  server s1 127.0.0.1:{} proto h2\n", be.port()));
    let mut c = HttpClient::connect(local(port)).unwrap();
    let r = c.get("/goaway", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-conn"), Some("1"));
    // The server's GOAWAY came before its answer (a GOAWAY sent after it could meet the
    // next request on its way, which the server may still serve on the old connection):
    // the pool never picks that connection again, and the client sees no error.
    for _ in 0..3 {
        let r = c.get("/after", &[]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body_str());
        assert_eq!(r.header("x-conn"), Some("2"));
    }
    assert_eq!(be.connections(), 2);
}

#[test]
fn a_connection_the_server_dropped_is_replaced_without_a_client_error() {
    let be = H2Backend::start(100);
    let (_g, port) = proxy(&format!(
        "  retries 2\n  server s1 127.0.0.1:{} proto h2\n",
        be.port()
    ));
    let mut c = HttpClient::connect(local(port)).unwrap();
    for i in 0..5 {
        // The server closes the connection (no GOAWAY) right after answering; the next
        // request either finds it closed in the pool or is replayed on a new one.
        let r = c.get("/drop", &[]).unwrap();
        assert_eq!(r.status, 200, "round {i}");
        let r = c.get("/after", &[]).unwrap();
        assert_eq!(r.status, 200, "round {i}: {}", r.body_str());
    }
    assert!(be.connections() >= 5, "{}", be.connections());
}

#[test]
fn a_server_that_is_down_is_a_503() {
    // Bound, never listening, held: no other socket can take the port meanwhile.
    let down = Refusing::start();
    let (_g, port) = proxy(&format!("  server s1 {} proto h2\n", down.addr()));
    let r = http_get(local(port), "/", &[]).unwrap();
    assert_eq!(r.status, 503);
}

#[test]
fn nginx_serves_h2c_and_h2_over_tls_with_alpn_fallback() {
    let pki = Pki::get();
    let [h2c, h2tls, h1tls] = [free_port(), free_port(), free_port()];
    let answer =
        "return 200 \"proto=$server_protocol host=$host len=$content_length ssl=$https\\n\";";
    let tls = Nginx::tls();
    let nginx = Nginx::start(
        &format!(
            "server {{\n    listen 127.0.0.1:{h2c} http2;\n    location / {{ {answer} }}\n}}\n\
             server {{\n    listen 127.0.0.1:{h2tls} ssl http2;\n    {tls}    location / {{ {answer} }}\n}}\n\
             server {{\n    listen 127.0.0.1:{h1tls} ssl;\n    {tls}    location / {{ {answer} }}\n}}\n"
        ),
        &[h2c, h2tls, h1tls],
    );
    let ca = pki.p("ca.pem");
    let tls_opts =
        format!("ssl verify required ca-file {ca} sni str(www.site.test) alpn h2,http/1.1");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  use_backend t if {{ path_beg /tls }}\n  \
         use_backend o if {{ path_beg /old }}\n  default_backend c\n\
         backend c\n  server c 127.0.0.1:{h2c} proto h2\n\
         backend t\n  server t 127.0.0.1:{h2tls} {tls_opts}\n\
         backend o\n  server o 127.0.0.1:{h1tls} {tls_opts}\n"
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    let mut c = HttpClient::connect(local(port)).unwrap();
    let r = c.get("/", &[("Host", "app.example")]).unwrap();
    assert_eq!(
        r.body_str(),
        "proto=HTTP/2.0 host=app.example len= ssl=\n",
        "{}",
        nginx.error_log()
    );
    let r = c
        .request("POST", "/", &[("Host", "app.example")], b"12345")
        .unwrap();
    assert_eq!(r.body_str(), "proto=HTTP/2.0 host=app.example len=5 ssl=\n");
    let r = c.get("/tls", &[("Host", "app.example")]).unwrap();
    assert_eq!(
        r.body_str(),
        "proto=HTTP/2.0 host=app.example len= ssl=on\n"
    );
    let r = c.get("/old", &[("Host", "app.example")]).unwrap();
    assert_eq!(
        r.body_str(),
        "proto=HTTP/1.1 host=app.example len= ssl=on\n",
        "ALPN picked http/1.1: the request goes as HTTP/1.1"
    );
}

#[test]
fn nginx_goaway_after_keepalive_requests_is_invisible_to_clients() {
    // nginx closes an HTTP/2 connection with a GOAWAY after `keepalive_requests`.
    let h2c = free_port();
    let _nginx = Nginx::start(
        &format!(
            "server {{\n    listen 127.0.0.1:{h2c} http2;\n    keepalive_requests 2;\n    \
             location / {{ return 200 \"ok $connection\\n\"; }}\n}}\n"
        ),
        &[h2c],
    );
    let (_g, port) = proxy(&format!("  server c 127.0.0.1:{h2c} proto h2\n"));
    let mut c = HttpClient::connect(local(port)).unwrap();
    let mut conns = Vec::new();
    for _ in 0..7 {
        let r = c.get("/", &[]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body_str());
        conns.push(r.body_str());
    }
    conns.dedup();
    assert!(
        conns.len() >= 4,
        "a new connection every 2 requests: {conns:?}"
    );
}

#[test]
fn proto_is_checked_as_haproxy_checks_it() {
    let check_err = |server: &str, mode: &str| {
        let dir = TempDir::new("proto");
        let cfg = dir.write(
            "t.cfg",
            format!(
                "defaults\n  mode {mode}\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nbackend b\n  server s 127.0.0.1:8080 {server}\n"
            ),
        );
        let out = std::process::Command::new(gatehouse_bin())
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{server} in mode {mode} must be refused"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(check_err("proto foo", "http").contains("unknown MUX protocol 'foo'"));
    assert!(
        check_err("proto h2", "tcp").contains("MUX protocol 'h2' is not usable for server 's'")
    );
    assert!(check_err("proto fcgi", "http").contains("not supported yet"));
}

#[test]
fn h2_client_requests_reach_the_h2_server_as_through_haproxy() {
    // An HTTP/2 client's `:scheme` and `:authority` go on as they came (HAProxy keeps the
    // absolute target it made of them), `host` is not added.
    require_haproxy();
    let seen = |haproxy: bool| {
        let (be, _p, port) = h2_behind(haproxy, " proto h2");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let (send, conn) = h2::client::handshake(tcp).await.unwrap();
            tokio::spawn(async move {
                let _ = conn.await;
            });
            let mut send = send.ready().await.unwrap();
            for uri in ["http://app.example/a?b=1", "https://app.example:8443/c"] {
                let req = http::Request::get(uri)
                    .header("x-one", "1")
                    .body(())
                    .unwrap();
                let (resp, _) = send.send_request(req, true).unwrap();
                let resp = resp.await.unwrap();
                assert_eq!(resp.status(), 200, "haproxy={haproxy} {uri}");
                send = send.ready().await.unwrap();
            }
        });
        be.requests()
            .into_iter()
            .map(|mut r| {
                r.conn = 0;
                format!("{r:?}")
            })
            .collect::<Vec<_>>()
    };
    let (g, h) = (seen(false), seen(true));
    assert!(h[0].contains("authority: Some(\"app.example\")"), "{h:?}");
    assert_eq!(g, h);
}
