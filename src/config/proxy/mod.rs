//! Keywords of proxy sections (`defaults`, `frontend`, `backend`, `listen`), one file per
//! family; this module only lists the tables and finds a line's keyword.

pub mod actions;
pub mod basic;
pub mod bind;
pub mod check;
pub mod errors;
pub mod monitor;
pub mod notyet;
pub mod option;
pub mod persist;
pub mod pgsql;
pub mod rules;
pub mod server;
pub mod server_state;
pub mod stats;
pub mod tcp_response;
pub mod timeout;

use super::keyword::ProxyKeyword;

/// Every proxy keyword table.
pub static TABLES: &[&[ProxyKeyword]] = &[
    basic::KEYWORDS,
    bind::KEYWORDS,
    check::KEYWORDS,
    errors::KEYWORDS,
    monitor::KEYWORDS,
    option::KEYWORDS,
    persist::KEYWORDS,
    pgsql::KEYWORDS,
    rules::KEYWORDS,
    tcp_response::KEYWORDS,
    server::KEYWORDS,
    server_state::KEYWORDS,
    stats::KEYWORDS,
    timeout::KEYWORDS,
    notyet::KEYWORDS,
];

/// Every proxy keyword, supported or not.
pub fn all() -> impl Iterator<Item = &'static ProxyKeyword> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// The keyword of a line: the longest name that matches its first words (`capture request
/// header`, then two-word families such as `option x`, `timeout x`, then single words).
/// Returns the row and how many words its name has.
pub fn find(words: &[String]) -> Option<(&'static ProxyKeyword, usize)> {
    // The longest name first: `capture request header` before a shorter keyword.
    (1..=words.len().min(3))
        .rev()
        .find_map(|n| all().find(|k| name_is(k.name, &words[..n])).map(|k| (k, n)))
}

/// Whether a keyword's (space-separated) name is exactly these words.
fn name_is(name: &str, words: &[String]) -> bool {
    let mut parts = name.split(' ');
    words.iter().all(|w| parts.next() == Some(w.as_str())) && parts.next().is_none()
}

/// Families whose keyword is two words long.
pub const FAMILIES: &[&str] = &[
    "option",
    "timeout",
    "stats",
    "capture",
    "email-alert",
    "external-check",
    "monitor",
    "persist",
    "rate-limit",
    "tcp-response",
    "http-check-disabled",
];
