//! The runtime API: HAProxy 2.6's `stats socket` (management.txt section 9.3), spoken
//! byte for byte as HAProxy speaks it so that `echo "show servers state" | socat stdio
//! /run/gatehouse/admin.sock` and existing scripts work.
//!
//! - `listen.rs`: the sockets of every `stats socket` line (several at once, unix or
//!   TCP, `mode`, `level`), kept across reloads.
//! - `session.rs`: one connection — one command unless `prompt`, `;`-separated
//!   commands, `<<` payloads ended by an empty line, the reply followed by an empty
//!   line, then the connection closed.
//! - `words.rs`: a command line split into words with HAProxy's backslash escapes.
//! - `table.rs`: the command table (words, usage line, handler), which also writes
//!   `help` and the "Unknown command" suggestions.
//! - `certs.rs`: `set|commit|abort|show ssl cert` over `crate::tls::store`.
//! - `crt_list.rs`: `add|del|show ssl crt-list`, also over `crate::tls::store`.
//! - `ocsp.rs`: `show|set ssl ocsp-response`.
//! - `cafiles.rs`: `new|set|commit|abort|show|del ssl ca-file|crl-file`, the same way.
//! - `servers.rs`, `dynamic.rs`, `show.rs`, `maps.rs`: the commands, calling the
//!   live-state store's mutation functions (the stats page's admin actions call the
//!   same ones).
//!
//! Levels (`level user|operator|admin`, default `operator`) are checked by each
//! command as HAProxy does ("Permission denied"); `user` can change nothing.

mod api;
mod cafiles;
mod certs;
mod crt_list;
mod dynamic;
mod listen;
mod maps;
mod ocsp;
mod servers;
mod session;
mod show;
mod table;
mod tables;
pub mod words;

pub use listen::start;

/// What a socket's clients may do (`level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Read non-sensitive information; change nothing.
    User,
    /// Read everything; non-sensitive changes (clear max counters).
    Operator,
    /// Everything.
    Admin,
}

impl Level {
    /// The level a `stats socket` line names (`operator` when unknown).
    pub fn parse(s: &str) -> Level {
        match s {
            "user" => Level::User,
            "admin" => Level::Admin,
            _ => Level::Operator,
        }
    }

    /// The level's name, as `show cli level` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}
