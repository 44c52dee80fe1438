//! Errorfiles are read at load as HAProxy 2.6 reads them: a file that is not a complete
//! HTTP response (status line, headers, blank line, a body matching its Content-Length)
//! is refused with the configuration's file:line and HAProxy's message; each case runs
//! `-c` on gatehouse and on the real haproxy and compares.

mod support;

use support::cfgcheck::{first_alert, first_alert_line};
use support::*;

/// Runs `-c` on `cfg` (in `dir`) with `bin`: exit status and stderr.
fn check(bin: &std::path::Path, dir: &TempDir, cfg: &str) -> (i32, String) {
    let path = dir.write("haproxy.cfg", cfg);
    let out = std::process::Command::new(bin)
        .args(["-c", "-f"])
        .arg(&path)
        .current_dir(dir.path())
        .output()
        .expect("run -c");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A frontend whose line 6 is `line`, with every timeout set.
fn config(line: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n  {line}\nfrontend fe\n  bind 127.0.0.1:{}\n",
        free_port()
    )
}

/// What follows `marker` in the first alert of `out`.
fn after<'a>(out: &'a str, marker: &str) -> Option<&'a str> {
    let alert = first_alert(out)?;
    alert.find(marker).map(|i| &alert[i + marker.len()..])
}

/// Bad errorfiles and what HAProxy 2.6 says about each.
const REFUSED: &[(&str, &[u8], &str)] = &[
    (
        "no blank line",
        b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n",
        "unable to parse headers (error offset: -2)",
    ),
    (
        "status line only",
        b"HTTP/1.0 503 X\r\n",
        "unable to parse headers (error offset: -2)",
    ),
    (
        "not HTTP",
        b"garbage\r\n\r\n",
        "unable to parse headers (error offset: 0)",
    ),
    (
        "header without colon",
        b"HTTP/1.0 503 X\r\nBad Header\r\n\r\n",
        "unable to parse headers (error offset: 19)",
    ),
    (
        "differing lengths",
        b"HTTP/1.0 503 X\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
        "unable to parse headers (error offset: 51)",
    ),
    (
        "non-numeric length",
        b"HTTP/1.0 503 X\r\nContent-Length: abc\r\n\r\n",
        "unable to parse headers (error offset: 32)",
    ),
    (
        "body shorter than its length",
        b"HTTP/1.0 503 X\r\nContent-Length: 100\r\n\r\nshort",
        "payload size does not match the announced content-length (5 != 100)",
    ),
    (
        "body longer than its length",
        b"HTTP/1.0 503 X\r\nContent-Length: 2\r\n\r\nlonger body",
        "payload size does not match the announced content-length (11 != 2)",
    ),
    (
        "body with a zero length",
        b"HTTP/1.0 503 X\r\nContent-Length: 0\r\n\r\nbody",
        "message payload not expected",
    ),
    (
        "body after a 204",
        b"HTTP/1.0 204 X\r\n\r\nbody",
        "message payload not expected",
    ),
    (
        "chunked",
        b"HTTP/1.0 503 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        "chunk-encoded payload not supported",
    ),
    (
        "interim status",
        b"HTTP/1.0 100 X\r\n\r\n",
        "invalid http status code for an error message (100)",
    ),
    (
        "bad version",
        b"FOO/1.0 503 X\r\n\r\n",
        "invalid http version (FOO/1.0)",
    ),
];

#[test]
fn incomplete_errorfiles_are_refused_at_their_line_like_haproxy() {
    let haproxy = require_haproxy();
    for (what, content, message) in REFUSED {
        let dir = TempDir::new("errorfile");
        dir.write("e503.http", content);
        let cfg = config("errorfile 503 e503.http");
        let (hcode, hout) = check(&haproxy, &dir, &cfg);
        let (gcode, gout) = check(&gatehouse_bin(), &dir, &cfg);
        let path = dir.path().join("haproxy.cfg");
        assert_ne!(hcode, 0, "{what}: haproxy accepted it:\n{hout}");
        assert_ne!(gcode, 0, "{what}: gatehouse accepted it:\n{gout}");
        assert_eq!(first_alert_line(&hout, &path), Some(6), "{what}:\n{hout}");
        assert_eq!(first_alert_line(&gout, &path), Some(6), "{what}:\n{gout}");
        let want = format!("'e503.http': {message}");
        assert_eq!(
            after(&hout, "errorfile : "),
            Some(want.as_str()),
            "{what}: haproxy:\n{hout}"
        );
        assert_eq!(
            after(&gout, " : 'e503.http': ").map(|m| format!("'e503.http': {m}")),
            Some(want),
            "{what}: gatehouse:\n{gout}"
        );
    }
}

#[test]
fn complete_errorfiles_are_accepted_like_haproxy() {
    let haproxy = require_haproxy();
    let accepted: &[(&str, &[u8])] = &[
        ("empty (nothing is sent)", b""),
        (
            "body without a length",
            b"HTTP/1.0 503 X\r\n\r\nbody until close",
        ),
        ("another status", b"HTTP/1.0 200 OK\r\n\r\n"),
        ("no reason", b"HTTP/1.1 503\r\n\r\n"),
        ("bare LF", b"HTTP/1.0 503 X\nContent-Type: a\n\n"),
        (
            "exact length",
            b"HTTP/1.1 503 X\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
        ),
    ];
    for (what, content) in accepted {
        let dir = TempDir::new("errorfile");
        dir.write("e503.http", content);
        let cfg = config("errorfile 503 e503.http");
        let (hcode, hout) = check(&haproxy, &dir, &cfg);
        let (gcode, gout) = check(&gatehouse_bin(), &dir, &cfg);
        assert_eq!(hcode, 0, "{what}: haproxy refused it:\n{hout}");
        assert_eq!(gcode, 0, "{what}: gatehouse refused it:\n{gout}");
    }
}

#[test]
fn a_return_errorfile_is_checked_the_same_way() {
    let haproxy = require_haproxy();
    let dir = TempDir::new("errorfile");
    dir.write(
        "short.http",
        "HTTP/1.0 503 X\r\nContent-Length: 100\r\n\r\nshort",
    );
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend fe\n  bind 127.0.0.1:{}\n  http-request return status 503 errorfile short.http\n",
        free_port()
    );
    let (hcode, hout) = check(&haproxy, &dir, &cfg);
    let (gcode, gout) = check(&gatehouse_bin(), &dir, &cfg);
    let path = dir.path().join("haproxy.cfg");
    assert_ne!(hcode, 0, "{hout}");
    assert_ne!(gcode, 0, "{gout}");
    assert_eq!(first_alert_line(&hout, &path), Some(8), "{hout}");
    assert_eq!(first_alert_line(&gout, &path), Some(8), "{gout}");
    let want = "error detected in frontend 'fe' while parsing 'http-request return' rule : \
                'short.http': payload size does not match the announced content-length (5 != 100).";
    assert!(hout.contains(want), "haproxy:\n{hout}");
    assert!(gout.contains(want), "gatehouse:\n{gout}");
}
