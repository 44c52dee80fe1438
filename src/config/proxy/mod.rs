//! Keywords of proxy sections (`defaults`, `frontend`, `backend`, `listen`), one file per
//! family; this module only lists the tables and finds a line's keyword.

pub mod basic;
pub mod bind;
pub mod check;
pub mod notyet;
pub mod option;
pub mod rules;
pub mod server;
pub mod stats;
pub mod timeout;

use super::keyword::ProxyKeyword;

/// Every proxy keyword table.
pub static TABLES: &[&[ProxyKeyword]] = &[
    basic::KEYWORDS,
    bind::KEYWORDS,
    check::KEYWORDS,
    option::KEYWORDS,
    rules::KEYWORDS,
    server::KEYWORDS,
    stats::KEYWORDS,
    timeout::KEYWORDS,
    notyet::KEYWORDS,
];

/// Every proxy keyword, supported or not.
pub fn all() -> impl Iterator<Item = &'static ProxyKeyword> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// The keyword of a line: two-word families (`option x`, `timeout x`, `stats x`, …) first,
/// then single words. Returns the row and how many words its name has.
pub fn find(words: &[String]) -> Option<(&'static ProxyKeyword, usize)> {
    if let Some(second) = words.get(1) {
        let first = words[0].as_str();
        if let Some(k) = all().find(|k| {
            k.name.len() == first.len() + 1 + second.len()
                && k.name.starts_with(first)
                && k.name.as_bytes()[first.len()] == b' '
                && k.name.ends_with(second.as_str())
        }) {
            return Some((k, 2));
        }
    }
    all().find(|k| k.name == words[0]).map(|k| (k, 1))
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
