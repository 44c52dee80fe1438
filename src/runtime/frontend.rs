//! A frontend at run time (or the frontend half of a `listen`): listeners' settings,
//! rules, the switching table and logging.

use crate::config::model::{Bind, ForwardFor, HttpConnMode, Mode};
use crate::log::{LogFormatSpec, Logger};
use crate::runtime::backend::Backend;
use crate::runtime::errors::ErrorPages;
use crate::runtime::live::FrontendLive;
use crate::runtime::rules::{Cond, HttpRules, TcpRuleRt};
use crate::runtime::switching::Switch;
use std::sync::Arc;
use std::time::Duration;

/// Client-side timeouts, resolved.
#[derive(Clone, Debug, Default)]
pub struct FrontendTimeouts {
    /// `timeout client`.
    pub client: Option<Duration>,
    /// `timeout client-fin`.
    pub client_fin: Option<Duration>,
    /// `timeout http-request`.
    pub http_request: Option<Duration>,
    /// `timeout http-keep-alive`.
    pub http_keep_alive: Option<Duration>,
    /// `timeout tarpit` (else `timeout connect`, as HAProxy).
    pub tarpit: Option<Duration>,
}

/// How a proxy logs its traffic.
pub struct ProxyLog {
    /// Where.
    pub logger: Logger,
    /// The line format (`None`: HAProxy's "Connect from" line).
    pub format: Option<LogFormatSpec>,
    /// `option dontlognull`.
    pub dontlognull: bool,
    /// `option dontlog-normal`.
    pub dontlog_normal: bool,
    /// `option log-separate-errors`.
    pub separate_errors: bool,
    /// `option logasap`.
    pub logasap: bool,
}

/// A frontend.
pub struct Frontend {
    /// The name.
    pub name: String,
    /// `mode`.
    pub mode: Mode,
    /// `bind` lines.
    pub binds: Vec<Bind>,
    /// The TLS configuration of each bind line (`ssl`), in the order of `binds`.
    pub bind_tls: Vec<Option<Arc<crate::tls::store::LiveBind>>>,
    /// Effective `maxconn` (0: the global one).
    pub maxconn: u32,
    /// Timeouts.
    pub timeouts: FrontendTimeouts,
    /// `tcp-request inspect-delay`: how long `mode tcp` waits for the client's first
    /// bytes when its content rules or `use_backend` conditions read them.
    pub inspect_delay: Option<Duration>,
    /// `tcp-request connection` rules.
    pub tcp_connection: Vec<TcpRuleRt>,
    /// `tcp-request content` rules.
    pub tcp_content: Vec<TcpRuleRt>,
    /// `http-request` rules.
    pub http_request: HttpRules,
    /// `http-response` rules.
    pub http_response: HttpRules,
    /// `http-after-response` rules (applied to every response, the proxy's own too).
    pub http_after_response: HttpRules,
    /// `redirect` rules, evaluated after the `http-request` rules.
    pub redirects: HttpRules,
    /// `use_backend` rules, in order.
    pub switching: Vec<Switch>,
    /// The `use_backend` rules indexed by the exact `Host` they require, when enough of
    /// them do (see [`Frontend::switch`]).
    pub switch_index: Option<crate::acl::RuleIndex>,
    /// `monitor-uri` (HTTP mode only).
    pub monitor_uri: Option<String>,
    /// `monitor fail` conditions: the monitor URI gets a 503 when one matches.
    pub monitor_fail: Vec<Cond>,
    /// `default_backend` (for a `listen`: itself).
    pub default_backend: Option<Arc<Backend>>,
    /// `option http-keep-alive|http-server-close|httpclose`.
    pub conn_mode: HttpConnMode,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto`.
    pub originalto: Option<ForwardFor>,
    /// `errorfile` overrides.
    pub errors: ErrorPages,
    /// `option http-buffer-request`.
    pub buffer_request: bool,
    /// Logging, when the proxy has log targets.
    pub log: Option<ProxyLog>,
    /// `option clitcpka` or `option tcpka`: SO_KEEPALIVE on accepted sockets.
    pub clitcpka: bool,
    /// `option nolinger`: accepted sockets are closed with a reset (SO_LINGER 0).
    pub nolinger: bool,
    /// `option tcp-smart-accept` (automatic: on in HTTP mode): the listeners' sockets
    /// have TCP_QUICKACK off, so the kernel acknowledges a request with the response
    /// rather than with an ACK of its own.
    pub smart_accept: bool,
    /// `option pgsql-insecure-auth`, `option pgsql-audit-statements` (the front door of
    /// `bind … proto pgsql`).
    pub pgsql: crate::config::model::PgsqlOptions,
    /// The live state (counters), kept by the store under this frontend's name.
    pub live: Arc<FrontendLive>,
    /// `unique-id-format` and `unique-id-header`.
    pub unique_id: Option<UniqueId>,
    /// `capture request header`: lower-cased names and lengths, in order (`%hr`).
    pub capture_req: Vec<(Vec<u8>, usize)>,
    /// `capture response header` (`%hs`).
    pub capture_res: Vec<(Vec<u8>, usize)>,
    /// The stats page this frontend serves (`stats enable`, `stats uri`…).
    pub stats: crate::runtime::proxies::SharedStatsPage,
}

/// The request id of a frontend: `unique-id-format` compiled, and `unique-id-header`.
#[derive(Debug)]
pub struct UniqueId {
    /// The id's format, rendered once per request.
    pub format: LogFormatSpec,
    /// The lower-cased header that carries it to the server, if any.
    pub header: Option<Vec<u8>>,
}
