//! Helpers of the stick-table tests (`tests/stick_*.rs`): the start their
//! configurations share, requests sent on one keep-alive connection and their statuses
//! counted, and the fields of a `show table` entry line read back.

use super::{HttpClient, local};

/// The start of the stick-table tests' configurations: a stats socket (`admin.sock` in
/// the proxy's directory), `mode http` and short timeouts, in a `defaults` section
/// that the rest may go on.
pub const PREAMBLE: &str = "global
    stats socket unix@admin.sock level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
";

/// A configuration: [`PREAMBLE`], then `rest` (more `defaults` lines, then the
/// sections).
pub fn stick_config(rest: &str) -> String {
    format!("{PREAMBLE}{rest}")
}

/// Sends `n` requests for `path` with `headers` on one keep-alive connection to
/// 127.0.0.1:`port`; the statuses in order.
pub fn statuses(port: u16, path: &str, headers: &[(&str, &str)], n: usize) -> Vec<u16> {
    let mut c = HttpClient::connect(local(port)).expect("connect");
    (0..n)
        .map(|_| c.get(path, headers).expect("response").status)
        .collect()
}

/// How many of `v` are `status`.
pub fn count(v: &[u16], status: u16) -> usize {
    v.iter().filter(|s| **s == status).count()
}

/// The number after ` FIELD=` (`exp`, `use`, `http_req_cnt`, `gpc0_rate(10000)`…) in
/// the entry line of `key` in a `show table` answer.
pub fn entry_field(table: &str, key: &str, field: &str) -> Option<u64> {
    let line = table
        .lines()
        .find(|l| l.contains(&format!(" key={key} ")))?;
    line.split(&format!(" {field}="))
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
