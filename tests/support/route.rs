//! Routing differentials: the same request through gatehouse and HAProxy, each answer
//! reduced to the name of the backend that served it (backends answer with their name).

use std::fmt::Display;
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

/// `req` through gatehouse (`gh`) and HAProxy (`hp`): `None` when both answer
/// `expected`, else a line naming the case (`what`) and both answers.
pub fn both_route(
    gh: SocketAddr,
    hp: SocketAddr,
    req: &[u8],
    expected: &str,
    what: impl Display,
) -> Option<String> {
    let got = route(gh, req);
    let reference = route(hp, req);
    (got != expected || reference != expected)
        .then(|| format!("{what}: gatehouse {got}, haproxy {reference}, expected {expected}"))
}
