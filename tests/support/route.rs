//! Routing differentials: the same request through gatehouse and HAProxy, each answer
//! reduced to the name of the backend that served it (backends answer with their name).

use std::net::SocketAddr;
use std::time::Duration;

use super::client::send_raw_with;

/// A routing case: (the listener or the method, path, headers, expected answer: a
/// backend's name or a status line).
pub type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// `METHOD path` with `headers` (and `Host: t` when they have none), then
/// `Connection: close`.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        r.push_str("Host: t\r\n");
    }
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("Connection: close\r\n\r\n");
    r.into_bytes()
}

/// The backend named in the body of the answer to `req` sent to `addr`, else the
/// status line, or "(nothing)" when the connection closes without an answer.
pub fn route(addr: SocketAddr, req: &[u8]) -> String {
    let out = send_raw_with(addr, req, Duration::from_secs(3), false);
    let text = String::from_utf8_lossy(&out).into_owned();
    if !text.starts_with("HTTP/1.1 200") {
        return text.lines().next().unwrap_or("(nothing)").to_string();
    }
    text.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

/// The cases that some proxy answers otherwise than expected, one line each naming
/// the case and both answers: `send(case)` gives the addresses of gatehouse and of
/// HAProxy to send the case to, and its request.
pub fn wrong_routes(
    cases: &[Case],
    send: impl Fn(&Case) -> (SocketAddr, SocketAddr, Vec<u8>),
) -> Vec<String> {
    cases
        .iter()
        .filter_map(|case| {
            let (gh, hp, req) = send(case);
            let (first, path, headers, expected) = case;
            let got = route(gh, &req);
            let reference = route(hp, &req);
            (got != *expected || reference != *expected).then(|| {
                format!(
                    "{first} {path} {headers:?}: gatehouse {got}, haproxy {reference}, expected {expected}"
                )
            })
        })
        .collect()
}
