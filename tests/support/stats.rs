//! What the stats tests share: the `defaults` and `listen stats` sections their
//! configurations start from (as literals for `concat!`), and the reading of a stats
//! CSV (`/stats;csv`, `show stat`) by proxy, server and column name.

use super::{Response, http_get_until_close, local};

/// `defaults` of the stats tests: HTTP mode, 1 s to connect, 5 s client and server
/// timeouts. A string literal, for `concat!`.
#[allow(unused_macros)]
macro_rules! stats_defaults {
    () => {
        "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"
    };
}
pub(crate) use stats_defaults;

/// A `listen stats` section serving the stats page at `/stats` on port `{st}`. A
/// string literal, for `concat!`.
#[allow(unused_macros)]
macro_rules! stats_listen {
    () => {
        "listen stats
    bind 127.0.0.1:{st}
    stats enable
    stats uri /stats
"
    };
}
pub(crate) use stats_listen;

/// The stats page's export at `path` (`/stats;csv`, `/stats;json`) from the proxy on
/// `port`, which must answer `200`.
pub fn stats_export(port: u16, path: &str) -> Response {
    let r = http_get_until_close(local(port), path, &[]).expect("stats page");
    assert_eq!(r.status, 200);
    r
}

/// The body of `r`, a stats CSV in UTF-8, split by [`csv_rows`].
pub fn csv_of(r: &Response) -> Vec<Vec<String>> {
    csv_rows(std::str::from_utf8(&r.body).expect("utf-8"))
}

/// The lines of a stats CSV split into fields, the header first (`# pxname,…`).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// The index of column `name` in the header of `t` (`# pxname` is `pxname`).
pub fn csv_column(t: &[Vec<String>], name: &str) -> usize {
    t[0].iter()
        .position(|c| c == name || c == &format!("# {name}"))
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The value of column `name` on line `px`/`sv` of `t`.
pub fn csv_field(t: &[Vec<String>], px: &str, sv: &str, name: &str) -> String {
    let col = csv_column(t, name);
    let line = t
        .iter()
        .find(|l| l.len() > 1 && l[0] == px && l[1] == sv)
        .unwrap_or_else(|| panic!("no line {px}/{sv}"));
    line[col].clone()
}
