//! Logging targets, stats, persistence (cookie, stick) and userlists.

use crate::config::model::Condition;
use crate::config::span::Span;
use std::path::PathBuf;

/// Where a `log` line sends records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogDest {
    /// `stdout`.
    Stdout,
    /// `stderr`.
    Stderr,
    /// UDP syslog server.
    Udp(std::net::SocketAddr),
    /// A unix datagram socket such as `/dev/log`.
    Unix(PathBuf),
}

/// The record format of a `log` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `rfc3164` (the default).
    #[default]
    Rfc3164,
    /// `rfc5424`.
    Rfc5424,
    /// `raw`.
    Raw,
    /// `short`.
    Short,
    /// `timed`.
    Timed,
    /// `iso`.
    Iso,
    /// `local`.
    Local,
    /// `priority`.
    Priority,
}

/// A `log ADDR [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    /// The line.
    pub span: Span,
    /// Destination.
    pub dest: LogDest,
    /// Record format.
    pub format: LogFormat,
    /// Syslog facility number (0..=23).
    pub facility: u8,
    /// Maximum level sent (0 emerg … 7 debug; default 7).
    pub level: u8,
    /// Minimum level (default 0).
    pub min_level: u8,
    /// `len N` (default 1024).
    pub max_len: usize,
}

/// `stats …` keywords of a proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsConfig {
    /// `stats enable`.
    pub enabled: bool,
    /// `stats uri` (default `/haproxy?stats`).
    pub uri: Option<String>,
    /// `stats refresh` in seconds.
    pub refresh: Option<u64>,
    /// `stats auth USER:PASS` pairs.
    pub auth: Vec<(String, String)>,
    /// `stats realm`.
    pub realm: Option<String>,
    /// `stats admin` conditions (any that matches enables the admin actions).
    pub admin: Vec<crate::config::model::Condition>,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats show-legends`.
    pub show_legends: bool,
    /// `stats show-node [NAME]`: `Some("")` shows the global node name.
    pub show_node: Option<String>,
    /// `stats show-desc [TEXT]`: `Some("")` shows the global description.
    pub show_desc: Option<String>,
    /// `stats scope NAME` lines: only these proxies are shown (`.` is this proxy);
    /// empty: all.
    pub scope: Vec<String>,
}

/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve] …`:
/// cookie-based persistence, with HAProxy 2.6's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    /// The cookie's name.
    pub name: String,
    /// How the cookie is handled (no mode word: passive).
    pub mode: CookieMode,
    /// `indirect`: no cookie is sent to a client that already has a valid one; with
    /// `insert`, the cookie is also removed from requests toward the server.
    pub indirect: bool,
    /// `nocache`: `Cache-control: private` with an inserted cookie on cacheable
    /// responses.
    pub nocache: bool,
    /// `postonly`: insert only in responses to POST requests.
    pub postonly: bool,
    /// `preserve`: a cookie the server sets itself is left alone.
    pub preserve: bool,
    /// `httponly`: the inserted cookie carries `HttpOnly`.
    pub httponly: bool,
    /// `secure`: the inserted cookie carries `Secure`.
    pub secure: bool,
    /// `dynamic`: servers without `cookie` get one computed from `dynamic-cookie-key`,
    /// their address and port.
    pub dynamic: bool,
    /// `domain` values, joined as HAProxy emits them (`a; domain=b`).
    pub domain: Option<String>,
    /// `maxidle` in seconds (0: none).
    pub maxidle: u32,
    /// `maxlife` in seconds (0: none).
    pub maxlife: u32,
    /// `attr` values, joined with `; `.
    pub attrs: Option<String>,
    /// The line.
    pub span: Span,
}

/// The mode of a `cookie` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieMode {
    /// No mode word: the cookie is only read (persistence on a cookie the application
    /// sets with the server's value).
    Passive,
    /// `rewrite`: the value of the cookie the server sets is replaced by the server's.
    Rewrite,
    /// `insert`: the proxy sets the cookie itself.
    Insert,
    /// `prefix`: the server's value is prefixed to the cookie the server sets
    /// (`NAME=SRV~value`), and removed from requests.
    Prefix,
}

impl CookieConfig {
    /// HAProxy's `PR_CK_ANY`: a mode or `indirect` is set, so the log shows the cookie
    /// flags (the 3rd and 4th letters of the termination state).
    pub fn logs_flags(&self) -> bool {
        self.mode != CookieMode::Passive || self.indirect
    }
}

/// `force-persist if COND` / `ignore-persist if COND`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistRule {
    /// `force-persist` (true) or `ignore-persist`.
    pub force: bool,
    /// The condition.
    pub cond: Condition,
    /// The line.
    pub span: Span,
}

/// `http-reuse never|safe|aggressive|always`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HttpReuse {
    /// Never share server connections between requests.
    Never,
    /// Reuse idle connections for requests that are not the first of a client connection.
    #[default]
    Safe,
    /// Also reuse for first requests on connections that already proved reusable.
    Aggressive,
    /// Reuse whenever possible.
    Always,
}

/// A `userlist` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Userlist {
    /// Its name.
    pub name: String,
    /// The line.
    pub span: Span,
    /// `group NAME [users U,…]`.
    pub groups: Vec<(String, Vec<String>)>,
    /// `user NAME [password HASH|insecure-password PASS] [groups G,…]`.
    pub users: Vec<User>,
}

/// A `user` of a userlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// The password.
    pub password: Password,
    /// Its groups.
    pub groups: Vec<String>,
    /// The `user` line.
    pub span: Span,
}

/// A userlist password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// No password.
    None,
    /// `insecure-password`.
    Insecure(String),
    /// `password` (a crypt(3) hash).
    Hashed(String),
}
