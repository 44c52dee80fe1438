//! Differential test: one `mode http` config run by the real haproxy 2.6
//! and by gatehouse side by side (different ports, separate backends),
//! the same requests sent to both — normal GET, POST with a body, HEAD,
//! chunked uploads, odd headers, routing, `http-request` rules, errors —
//! and for each one the client's response (status line, headers, body)
//! and what the server received (method, URI, version, header names
//! lowercased with values, body) must be identical.

mod support;

use support::*;

const CFG: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
frontend fe
  bind 127.0.0.1:{port}
  option forwardfor
  acl host_api hdr(host) -i api.example.com
  http-request deny if { path_beg /forbidden }
  http-request return status 200 content-type text/plain string \"ok\" if { path /health }
  http-request set-header X-Proxy gatehouse-test
  http-request del-header X-Secret
  http-request add-header X-Path fixed-value if { path_beg /fmt }
  use_backend api if host_api
  use_backend static if { path_end .png }
  default_backend web
backend api
  server s {api}
backend static
  server s {static}
backend web
  server s {web}
";

/// The requests sent to both proxies; each asks for `Connection: close`
/// unless it is itself about connection handling, so reading until the
/// proxy closes delimits the exchange.
fn requests() -> Vec<(&'static str, Vec<u8>)> {
    let big_header = format!("X-Long: {}\r\n", "v".repeat(4000));
    vec![
        ("plain GET", b"GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n".to_vec()),
        ("query string", b"GET /search?q=a%20b&x=1 HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec()),
        (
            "POST body",
            b"POST /form HTTP/1.1\r\nHost: w\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\nConnection: close\r\n\r\na=1&b=2&c=3".to_vec(),
        ),
        ("HEAD", b"HEAD /page HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec()),
        (
            "chunked PUT",
            b"PUT /up HTTP/1.1\r\nHost: w\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n".to_vec(),
        ),
        (
            "odd headers",
            format!(
                "GET /odd HTTP/1.1\r\nHost: w\r\nX-MiXeD-CaSe: Value With Spaces  \r\nX-Dup: 1\r\nX-Dup: 2\r\nX-Empty:\r\nX-Tab:\tv\t\r\n{big_header}Connection: close\r\n\r\n"
            )
            .into_bytes(),
        ),
        ("host routing", b"GET /v1 HTTP/1.1\r\nHost: API.example.com\r\nConnection: close\r\n\r\n".to_vec()),
        ("path_end routing", b"GET /img/a.png?v=3 HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec()),
        ("deny", b"GET /forbidden HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec()),
        ("return", b"GET /health HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec()),
        (
            "header rules",
            b"GET /rules HTTP/1.1\r\nHost: w\r\nX-Secret: s3cr3t\r\nX-Proxy: client-value\r\nX-Forwarded-For: 192.0.2.1\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        ("malformed", b"GET / HTTP/1.1\r\nHost: w\r\nBroken header\r\n\r\n".to_vec()),
        ("HTTP/1.0", b"GET /old HTTP/1.0\r\nHost: w\r\n\r\n".to_vec()),
        ("OPTIONS *", b"OPTIONS * HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec()),
        ("absolute URI", b"GET http://www.example.com/abs?x=1 HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n".to_vec()),
        (
            "hop-by-hop",
            b"GET /hop HTTP/1.1\r\nHost: w\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\n\r\n".to_vec(),
        ),
        ("conditional add-header", b"GET /fmt/a?b=c HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec()),
        ("no Host", b"GET /nohost HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec()),
        ("DELETE", b"DELETE /items/7 HTTP/1.1\r\nHost: w\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()),
    ]
}

/// One side of the comparison: a proxy and its own three backends.
struct Side {
    _proxy: Daemon,
    port: u16,
    backends: Vec<HttpBackend>,
}

impl Side {
    fn start(reference: bool) -> Side {
        let backends: Vec<HttpBackend> = ["api", "static", "web"]
            .iter()
            .map(|n| HttpBackend::start(n))
            .collect();
        let mut cfg = Config::new(CFG).listen_port("port");
        for b in &backends {
            cfg = cfg.var(b.name(), b.addr());
        }
        let proxy =
            if reference || std::env::var("GATEHOUSE_TEST_PROXY").is_ok_and(|v| v == "haproxy") {
                Haproxy::start_config(&cfg).0
            } else {
                Gatehouse::start_config(&cfg).0
            };
        Side {
            _proxy: proxy,
            port: cfg.port("port"),
            backends,
        }
    }

    /// Sends `raw` and returns (normalised response, descriptions of the
    /// requests the servers received because of it).
    fn exchange(&self, raw: &[u8]) -> (String, Vec<String>) {
        let before: Vec<usize> = self.backends.iter().map(|b| b.request_count()).collect();
        // Every request ends in a close: the whole response is read, and a server
        // records a request before answering it.
        let out = send_until_close(local(self.port), raw);
        for b in &self.backends {
            b.sync();
        }
        let seen = self
            .backends
            .iter()
            .zip(before)
            .flat_map(|(b, n)| {
                b.requests()
                    .into_iter()
                    .skip(n)
                    .map(|r| describe_request(b.name(), &r))
                    .collect::<Vec<_>>()
            })
            .collect();
        (normalise_response(&out), seen)
    }
}

/// A header value, long ones abbreviated to their length and ends.
fn show(v: &str) -> String {
    if v.len() <= 60 {
        v.to_string()
    } else {
        format!(
            "{}...({} bytes)...{}",
            &v[..20],
            v.len(),
            &v[v.len() - 20..]
        )
    }
}

fn describe_request(backend: &str, r: &RecordedRequest) -> String {
    let mut s = format!("[{backend}] {} {} {}\n", r.method, r.uri, r.version);
    for (n, v) in &r.headers {
        s.push_str(&format!("  {}: {}\n", n.to_ascii_lowercase(), show(v)));
    }
    s.push_str(&format!("  body {:?}\n", String::from_utf8_lossy(&r.body)));
    s
}

/// Response head with header names lowercased, then the raw body.
fn normalise_response(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let mut out = format!("{}\n", lines.next().unwrap_or(""));
    for l in lines {
        match l.split_once(':') {
            Some((n, v)) => out.push_str(&format!(
                "  {}: {}\n",
                n.to_ascii_lowercase(),
                show(v.trim())
            )),
            None => out.push_str(&format!("  ?? {l}\n")),
        }
    }
    out.push_str(&format!("  body {body:?}\n"));
    out
}

#[test]
fn gatehouse_and_haproxy_answer_and_forward_identically() {
    let reference = Side::start(true);
    let subject = Side::start(false);
    let mut diffs = Vec::new();
    for (name, raw) in requests() {
        let (rresp, rreqs) = reference.exchange(&raw);
        let (sresp, sreqs) = subject.exchange(&raw);
        if rresp != sresp {
            diffs.push(format!(
                "{name}: response differs\n--- haproxy\n{rresp}--- gatehouse\n{sresp}"
            ));
        }
        if rreqs != sreqs {
            diffs.push(format!(
                "{name}: server received differs\n--- haproxy\n{}--- gatehouse\n{}",
                rreqs.concat(),
                sreqs.concat()
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s):\n\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
