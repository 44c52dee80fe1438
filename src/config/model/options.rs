//! Timeouts, HTTP connection modes, `option` flags and health-check settings.

use crate::config::span::Span;
use std::net::IpAddr;
use std::time::Duration;

/// Every `timeout` kind; `None` is "not set".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeouts {
    /// `timeout check`.
    pub check: Option<Duration>,
    /// `timeout client`.
    pub client: Option<Duration>,
    /// `timeout client-fin`.
    pub client_fin: Option<Duration>,
    /// `timeout connect`.
    pub connect: Option<Duration>,
    /// `timeout http-keep-alive`.
    pub http_keep_alive: Option<Duration>,
    /// `timeout http-request`.
    pub http_request: Option<Duration>,
    /// `timeout queue`.
    pub queue: Option<Duration>,
    /// `timeout server`.
    pub server: Option<Duration>,
    /// `timeout server-fin`.
    pub server_fin: Option<Duration>,
    /// `timeout tarpit`.
    pub tarpit: Option<Duration>,
    /// `timeout tunnel`.
    pub tunnel: Option<Duration>,
}

/// How an HTTP connection is managed (`option http-keep-alive|http-server-close|httpclose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    /// Keep-alive on both sides (HAProxy's default).
    #[default]
    KeepAlive,
    /// Keep-alive with the client, close with the server.
    ServerClose,
    /// Close both sides after each response.
    Close,
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardFor {
    /// `except NET`: source networks that get no header.
    pub except: Option<(IpAddr, u8)>,
    /// `header NAME` (default `X-Forwarded-For`).
    pub header: String,
    /// `if-none`.
    pub if_none: bool,
}

/// The `option` flags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// `option httplog [clf]`.
    pub httplog: bool,
    /// `option httplog clf`.
    pub httplog_clf: bool,
    /// `option tcplog`.
    pub tcplog: bool,
    /// `option dontlognull`.
    pub dontlognull: bool,
    /// `option dontlog-normal`.
    pub dontlog_normal: bool,
    /// `option logasap`: log once the response headers are forwarded (http) or the
    /// server connection is established (tcp).
    pub logasap: bool,
    /// `option log-separate-errors`.
    pub log_separate_errors: bool,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto [except NET] [header NAME]` (`if_none` unused).
    pub originalto: Option<ForwardFor>,
    /// `option http-keep-alive|http-server-close|httpclose`.
    pub http_conn_mode: HttpConnMode,
    /// `option redispatch`.
    pub redispatch: bool,
    /// `option persist`: a cookie naming a DOWN server still sends the request there.
    pub persist: bool,
    /// `option redispatch <interval>` (-1 without an interval: the last retry).
    pub redispatch_after: i32,
    /// `option abortonclose`.
    pub abortonclose: bool,
    /// `option allbackups`.
    pub allbackups: bool,
    /// `option log-health-checks`.
    pub log_health_checks: bool,
    /// `option http-buffer-request`.
    pub http_buffer_request: bool,
    /// `option splice-auto` and friends are accepted and have no effect.
    pub tcpka: bool,
    /// `option clitcpka`.
    pub clitcpka: bool,
    /// `option srvtcpka`.
    pub srvtcpka: bool,
    /// `option nolinger`.
    pub nolinger: bool,
    /// `option tcp-smart-accept` (`Some(true)`), `no option tcp-smart-accept`
    /// (`Some(false)`), or automatic (`None`: on in HTTP mode, as HAProxy).
    pub tcp_smart_accept: Option<bool>,
}

/// What health check protocol a backend uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum CheckKind {
    /// A TCP connect (no `option …chk`).
    #[default]
    Connect,
    /// `option httpchk [METHOD] [URI] [VERSION]`.
    Http {
        /// Method (default `OPTIONS`).
        method: String,
        /// URI (default `/`).
        uri: String,
        /// Version (default `HTTP/1.0`).
        version: String,
    },
    /// `option tcp-check`: the `tcp-check` rules.
    Tcp,
    /// `option mysql-check [user NAME [post-41|pre-41]]`.
    Mysql {
        /// The user to log in as.
        user: Option<String>,
        /// `post-41`.
        post41: bool,
    },
    /// `option pgsql-check user NAME [credentials NAME] [role primary|replica|any]
    /// [database DB]`.
    Pgsql {
        /// The user.
        user: String,
        /// gatehouse's extension (any of `credentials`, `role`, `database` given): a
        /// real login, and the role asked of the server. `None`: HAProxy's check.
        login: Option<PgsqlLogin>,
    },
    /// `option redis-check`.
    Redis,
    /// `option smtpchk [HELO|EHLO DOMAIN]`.
    Smtp {
        /// `HELO` or `EHLO`.
        verb: String,
        /// The domain.
        domain: String,
    },
    /// `option ssl-hello-chk`.
    SslHello,
    /// `option ldap-check`.
    Ldap,
}

/// What `option pgsql-check … credentials/role/database` asks of a server (gatehouse
/// only): it logs in (SCRAM-SHA-256, MD5 or cleartext with the password of a
/// `credentials` section) and, with a role, asks `SELECT pg_is_in_recovery()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgsqlLogin {
    /// `credentials NAME`: the section whose password logs in (none: no password, for
    /// `trust`).
    pub credentials: Option<String>,
    /// `role`.
    pub role: PgsqlRole,
    /// `database DB` (default `postgres`).
    pub database: Option<String>,
    /// The option's line.
    pub span: Span,
}

/// The role `option pgsql-check … role` wants a server to have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PgsqlRole {
    /// `any` (the default): a login is enough.
    #[default]
    Any,
    /// `primary`: up only where `pg_is_in_recovery()` is false.
    Primary,
    /// `replica`: up only where `pg_is_in_recovery()` is true.
    Replica,
}

impl PgsqlRole {
    /// Its keyword.
    pub fn name(self) -> &'static str {
        match self {
            PgsqlRole::Any => "any",
            PgsqlRole::Primary => "primary",
            PgsqlRole::Replica => "replica",
        }
    }
}

/// The check configuration of a backend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckConfig {
    /// Protocol.
    pub kind: CheckKind,
    /// `http-check` rules.
    pub http_rules: Vec<CheckRule>,
    /// `tcp-check` rules.
    pub tcp_rules: Vec<CheckRule>,
}

/// One `http-check` or `tcp-check` rule, kept as its verb and arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRule {
    /// The line.
    pub span: Span,
    /// `connect`, `send`, `send-binary`, `expect`, `comment`, …
    pub verb: String,
    /// The rest of the words.
    pub args: Vec<String>,
}
