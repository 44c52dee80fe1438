//! HTTP/2 clients through gatehouse to an HTTP/1 server, with real clients: curl
//! (`--http2-prior-knowledge` on a `proto h2` bind, `--http2` over TLS with ALPN), the
//! `h2` crate's client (request and response trailers, a soft stop's GOAWAY) and h2load
//! (many streams on few connections). Each stream runs the one exchange: rules, local
//! replies, balancing and the log line (`HTTP/2.0`, as HAProxy 2.6 logs it).

mod support;
use std::process::Command;
use std::time::Duration;
use support::pki::Pki;
use support::*;

const DEFAULTS: &str = "global\n  log stdout format raw local0\n\
    defaults\n  mode http\n  log global\n  option httplog\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// A `proto h2` frontend (h2c) on `port` in front of `be`, with a few rules.
fn h2c_config(port: u16, be: u16, extra: &str) -> String {
    format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} proto h2\n{extra}\
         http-request deny if {{ path /denied }}\n\
         http-request redirect location /moved code 302 if {{ path /old }}\n\
         http-request return status 200 content-type text/plain lf-string \"ver=%[req.ver] url=%[url] path=%[path]\" if {{ path /echo }}\n\
         default_backend b\n\
         backend b\n  server s1 127.0.0.1:{be}\n"
    )
}

/// curl's output (`-w` included) with `args`; panics when curl fails.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl must be installed");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_h2c_requests_reach_an_h1_server_translated_as_haproxy_does() {
    let be = HttpBackend::start("app");
    let port = free_port();
    let g = Gatehouse::start(&h2c_config(port, be.port(), ""), &[port]);
    let base = format!("http://127.0.0.1:{port}");
    let out = curl(&[
        "--http2-prior-knowledge",
        "-H",
        "cookie: a=1",
        "-H",
        "cookie: b=2",
        "-w",
        " %{http_version} %{response_code}",
        &format!("{base}/p?q=1"),
    ]);
    assert_eq!(out, "app 2 200");
    let req = &be.wait_requests(1)[0];
    // Origin form and HTTP/1.1 toward the server; Host from :authority; the cookie
    // crumbs joined into one header, after the others.
    assert_eq!(
        (req.method.as_str(), req.uri.as_str(), req.version.as_str()),
        ("GET", "/p?q=1", "HTTP/1.1")
    );
    assert_eq!(
        req.header("host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert_eq!(req.header_all("cookie"), ["a=1; b=2"]);
    assert_eq!(req.headers.last().map(|h| h.0.as_str()), Some("cookie"));
    // The log line shows the absolute URI and HTTP/2.0, as HAProxy's.
    let lines = g.wait_stdout_lines("HTTP/2.0\"", 1, Duration::from_secs(5));
    assert!(
        lines[0].contains(&format!("\"GET http://127.0.0.1:{port}/p?q=1 HTTP/2.0\"")),
        "{lines:?}"
    );
    assert!(lines[0].contains(" f b/s1 "), "{lines:?}");
    // The fetches see HTTP/2 as HAProxy's do.
    let out = curl(&["--http2-prior-knowledge", &format!("{base}/echo?x")]);
    assert_eq!(
        out,
        format!("ver=2.0 url=http://127.0.0.1:{port}/echo?x path=/echo")
    );
}

#[test]
fn rules_answer_over_h2_deny_redirect_and_errors() {
    let be = HttpBackend::start("app");
    let port = free_port();
    let dead = free_port();
    let cfg = h2c_config(port, be.port(), "  use_backend gone if { path /gone }\n")
        + &format!("backend gone\n  server s 127.0.0.1:{dead}\n");
    let _g = Gatehouse::start(&cfg, &[port]);
    let base = format!("http://127.0.0.1:{port}");
    let w = [
        "--http2-prior-knowledge",
        "-w",
        "|%{http_version} %{response_code} %{redirect_url}",
    ];
    let denied = curl(&[&w[..], &[&format!("{base}/denied")]].concat());
    assert!(denied.ends_with("|2 403 "), "{denied}");
    assert!(denied.contains("403 Forbidden"), "{denied}");
    let moved = curl(&[&w[..], &[&format!("{base}/old")]].concat());
    assert!(moved.ends_with(&format!("|2 302 {base}/moved")), "{moved}");
    // A server that refuses the connection: HAProxy's 503 page, over h2.
    let gone = curl(&[&w[..], &[&format!("{base}/gone")]].concat());
    assert!(gone.ends_with("|2 503 "), "{gone}");
    assert!(gone.contains("503 Service Unavailable"), "{gone}");
    assert_eq!(be.request_count(), 0);
}

#[test]
fn post_bodies_with_and_without_a_length_and_large_headers() {
    let be = HttpBackend::builder("app").echo_body().start();
    let port = free_port();
    let _g = Gatehouse::start(&h2c_config(port, be.port(), ""), &[port]);
    let url = format!("http://127.0.0.1:{port}/up");
    let body: String = (0..200_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let dir = TempDir::new("h2-post");
    let file = dir.write("body", &body);
    let at = format!("@{}", file.display());
    // With a length: content-length reaches the server.
    let out = curl(&["--http2-prior-knowledge", "--data-binary", &at, &url]);
    assert_eq!(out, body);
    // Without one (curl streams it): chunked toward the HTTP/1 server.
    let out = curl(&[
        "--http2-prior-knowledge",
        "-H",
        "transfer-encoding: chunked",
        "--data-binary",
        &at,
        &url,
    ]);
    assert_eq!(out, body);
    let reqs = be.wait_requests(2);
    assert_eq!(reqs[0].header("content-length"), Some("200000"));
    assert_eq!(reqs[0].header("transfer-encoding"), None);
    assert_eq!(reqs[1].header("content-length"), None);
    assert_eq!(reqs[1].header("transfer-encoding"), Some("chunked"));
    assert_eq!(reqs[1].body.len(), 200_000);
    // A 10 kB header passes; a header list larger than tune.bufsize is refused with
    // 431 before any server sees it.
    let big = "v".repeat(10_000);
    let out = curl(&[
        "--http2-prior-knowledge",
        "-H",
        &format!("x-big: {big}"),
        "-w",
        "|%{response_code}",
        &url,
    ]);
    assert!(out.ends_with("|200"), "{out}");
    assert_eq!(be.wait_requests(3)[2].header("x-big"), Some(big.as_str()));
    let huge = "v".repeat(20_000);
    let out = curl(&[
        "--http2-prior-knowledge",
        "-H",
        &format!("x-big: {huge}"),
        "-w",
        "|%{response_code}",
        &url,
    ]);
    assert!(out.ends_with("|431"), "{out}");
    assert_eq!(be.request_count(), 3);
}

#[test]
fn h2_over_tls_is_chosen_by_alpn_and_http1_still_works_on_the_same_bind() {
    let pki = Pki::get();
    let be = HttpBackend::start("app");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt {} alpn h2,http/1.1\n  default_backend b\n\
         backend b\n  server s1 127.0.0.1:{}\n",
        pki.p("site.pem"),
        be.port()
    );
    let g = Gatehouse::start(&cfg, &[port]);
    let resolve = format!("www.site.test:{port}:127.0.0.1");
    let url = format!("https://www.site.test:{port}/tls");
    let ca = pki.p("ca.pem");
    let common = ["--cacert", ca.as_str(), "--resolve", resolve.as_str()];
    let out = curl(&[&common[..], &["--http2", "-w", " %{http_version}", &url]].concat());
    assert_eq!(out, "app 2");
    let out = curl(&[&common[..], &["--http1.1", "-w", " %{http_version}", &url]].concat());
    assert_eq!(out, "app 1.1");
    let lines = g.wait_stdout_lines("/tls HTTP/", 2, Duration::from_secs(5));
    assert!(
        lines[0].contains(&format!(
            "\"GET https://www.site.test:{port}/tls HTTP/2.0\""
        )),
        "{lines:?}"
    );
    assert!(lines[1].contains("\"GET /tls HTTP/1.1\""), "{lines:?}");
}

#[test]
fn h2load_smoke_many_streams_on_few_connections_all_2xx() {
    let be = HttpBackend::start("app");
    let port = free_port();
    let _g = Gatehouse::start(&h2c_config(port, be.port(), ""), &[port]);
    let out = Command::new("h2load")
        .args(["-n", "2000", "-c", "4", "-m", "10"])
        .arg(format!("http://127.0.0.1:{port}/load"))
        .output()
        .expect("h2load (nghttp2-client) must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout"),
        "{text}"
    );
    assert!(
        text.contains("status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx"),
        "{text}"
    );
    // Streams of one connection share the server connections (http-reuse safe).
    assert!(
        be.connections() < 200,
        "{} server connections",
        be.connections()
    );
    // At the stream limit (100, HAProxy's default): a stream the client opens once
    // another ended is never refused.
    let out = Command::new("h2load")
        .args(["-n", "2000", "-c", "2", "-m", "100"])
        .arg(format!("http://127.0.0.1:{port}/full"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2000 succeeded, 0 failed"), "{text}");
}

/// A one-request HTTP/1 server: records what it read up to the end of a chunked body
/// (trailers included), answers with a chunked body and a trailer.
fn chunked_origin() -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(5).any(|w| w == b"\r\n0\r\n") || !got.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n\
              5\r\nworld\r\n0\r\nx-sum: abc\r\n\r\n",
        )
        .unwrap();
        String::from_utf8_lossy(&got).into_owned()
    });
    (port, t)
}

#[test]
fn trailers_cross_both_ways_between_an_h2_client_and_an_h1_server() {
    let (be, origin) = chunked_origin();
    let port = free_port();
    let _g = Gatehouse::start(&h2c_config(port, be, ""), &[port]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (body, trailers) = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (mut client, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(conn);
        let req = http::Request::post(format!("http://127.0.0.1:{port}/t"))
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (resp, mut send) = client.send_request(req, false).unwrap();
        send.send_data(bytes::Bytes::from_static(b"hello"), false)
            .unwrap();
        let mut t = http::HeaderMap::new();
        t.insert("x-req-sum", "123".parse().unwrap());
        send.send_trailers(t).unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut recv = resp.into_body();
        let mut body = Vec::new();
        while let Some(d) = recv.data().await {
            let d = d.unwrap();
            let _ = recv.flow_control().release_capacity(d.len());
            body.extend_from_slice(&d);
        }
        (body, recv.trailers().await.unwrap())
    });
    assert_eq!(body, b"world");
    let trailers = trailers.expect("response trailers");
    assert_eq!(trailers.get("x-sum").unwrap(), "abc");
    let seen = origin.join().unwrap();
    assert!(seen.starts_with("POST /t HTTP/1.1\r\n"), "{seen}");
    assert!(seen.contains("transfer-encoding: chunked\r\n"), "{seen}");
    assert!(
        seen.ends_with("\r\n5\r\nhello\r\n0\r\nx-req-sum: 123\r\n\r\n"),
        "{seen}"
    );
}

#[test]
fn proto_is_checked_as_haproxy_checks_it() {
    let dir = TempDir::new("h2-proto");
    let check = |name: &str, text: &str| {
        let path = dir.write(name, text);
        let out = Command::new(gatehouse_bin())
            .args(["-c", "-f"])
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let http = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:1 proto h1\n  http-request return status 200\n"
    );
    assert!(check("h1.cfg", &http).0);
    let (ok, err) = check("h3.cfg", &http.replace("proto h1", "proto h3"));
    assert!(
        !ok && err.contains("h3.cfg:11") && err.contains("unknown MUX protocol 'h3'"),
        "{err}"
    );
    let tcp = "defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
               frontend f\n  bind 127.0.0.1:1 proto h2\n  default_backend b\n\
               backend b\n  server s 127.0.0.1:2\n";
    let (ok, err) = check("tcp.cfg", tcp);
    assert!(
        !ok && err.contains("tcp.cfg:7") && err.contains("MUX protocol 'h2' is not usable"),
        "{err}"
    );
}

#[test]
fn one_curl_connection_carries_several_streams_over_tls() {
    // (curl 7.88 cannot reuse an h2c prior-knowledge connection, with haproxy alike:
    // over TLS it does.)
    let pki = Pki::get();
    let be = HttpBackend::start("app");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt {} alpn h2,http/1.1\n  default_backend b\n\
         backend b\n  server s1 127.0.0.1:{}\n",
        pki.p("site.pem"),
        be.port()
    );
    let g = Gatehouse::start(&cfg, &[port]);
    let resolve = format!("www.site.test:{port}:127.0.0.1");
    let ca = pki.p("ca.pem");
    let urls: Vec<String> = (0..5)
        .map(|i| format!("https://www.site.test:{port}/s{i}"))
        .collect();
    let mut args = vec![
        "--http2",
        "--cacert",
        ca.as_str(),
        "--resolve",
        resolve.as_str(),
        "-w",
        "[%{num_connects} %{http_version} %{response_code}]",
    ];
    args.extend(urls.iter().map(String::as_str));
    let out = curl(&args);
    // One connection made for the first URL, reused (0) for the next four.
    assert_eq!(
        out,
        "app[1 2 200]app[0 2 200]app[0 2 200]app[0 2 200]app[0 2 200]"
    );
    assert_eq!(be.wait_requests(5).len(), 5);
    let lines = g.wait_stdout_lines("HTTP/2.0\"", 5, Duration::from_secs(5));
    let peers: std::collections::HashSet<&str> =
        lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(peers.len(), 1, "{lines:?}");
}
