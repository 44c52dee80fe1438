//! The typed configuration model: what a haproxy.cfg means, after parsing and before
//! compilation into a runtime snapshot. Every item keeps the [`Span`] it came from.

use super::span::Span;
use std::path::PathBuf;
use std::time::Duration;

mod errors;
mod h2;
mod identity;
mod misc;
mod options;
mod pgsql;
mod reply;
mod rules;
mod server;
mod stick;
mod tls;

pub use errors::*;
pub use h2::*;
pub use identity::*;
pub use misc::*;
pub use options::*;
pub use pgsql::*;
pub use reply::*;
pub use rules::*;
pub use server::*;
pub use stick::*;
pub use tls::*;
/// A whole configuration: the merged `global` section, proxies and userlists.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The merged `global` sections.
    pub global: Global,
    /// Frontends, backends and listens, in file order.
    pub proxies: Vec<Proxy>,
    /// `userlist` sections.
    pub userlists: Vec<Userlist>,
    /// `http-errors` sections.
    pub http_errors: Vec<HttpErrors>,
    /// `identity` sections (gatehouse only).
    pub identities: Vec<IdentitySection>,
    /// `credentials` sections (gatehouse only): logins the proxy holds.
    pub credentials: Vec<super::credentials::Credentials>,
}

impl Config {
    /// The proxy named `name` that can serve as a backend (backend or listen).
    pub fn backend(&self, name: &str) -> Option<&Proxy> {
        self.proxies
            .iter()
            .find(|p| p.name == name && p.kind.has_backend())
    }
}

/// The `global` section.
#[derive(Clone, Debug)]
pub struct Global {
    /// `nbthread`: worker threads (default: 1 here; HAProxy defaults to the CPU count).
    pub nbthread: Option<u32>,
    /// `spread-checks` (percent, 0..=50).
    pub spread_checks: u32,
    /// `busy-polling` (`no busy-polling` turns it off again): the worker threads poll
    /// without sleeping (src/proxy/busy_poll.rs).
    pub busy_polling: bool,
    /// `maxconn`: process-wide connection limit.
    pub maxconn: Option<u32>,
    /// `daemon`.
    pub daemon: bool,
    /// `pidfile`.
    pub pidfile: Option<PathBuf>,
    /// `log` targets.
    pub logs: Vec<LogTarget>,
    /// `log-tag`.
    pub log_tag: Option<String>,
    /// `log-send-hostname [NAME]`: `Some("")` means the system host name.
    pub log_send_hostname: Option<String>,
    /// `tune.bufsize` (default 16384).
    pub tune_bufsize: usize,
    /// `tune.maxrewrite` (default 1024).
    pub tune_maxrewrite: usize,
    /// `tune.h2.*`.
    pub tune_h2: H2Tune,
    /// `stats socket` lines.
    pub stats_sockets: Vec<StatsSocket>,
    /// `stats timeout`.
    pub stats_timeout: Option<Duration>,
    /// `grace`: after SIGUSR1, listeners keep accepting this long before the soft stop.
    pub grace: Option<Duration>,
    /// `hard-stop-after`: a soft stop ends the process after this long at most.
    pub hard_stop_after: Option<Duration>,
    /// `server-state-file`: the servers' states a new process starts from (the output
    /// of `show servers state`), for backends with `load-server-state-from-file global`.
    pub server_state_file: Option<String>,
    /// `server-state-base`: the directory relative server-state file names resolve in.
    pub server_state_base: Option<String>,
    /// `user`.
    pub user: Option<String>,
    /// `group`.
    pub group: Option<String>,
    /// `chroot`: the directory the process confines itself to after binding.
    pub chroot: Option<PathBuf>,
    /// `node`.
    pub node: Option<String>,
    /// `description`: shown on the stats page.
    pub description: Option<String>,
    /// `ca-base`: the directory relative `ca-file`/`crl-file` names resolve against.
    pub ca_base: Option<String>,
    /// `crt-base`: the directory relative `crt`/`crt-list` names resolve against.
    pub crt_base: Option<String>,
    /// `ssl-default-bind-options`, `ssl-default-bind-ciphers`, `…-ciphersuites`.
    pub ssl_bind: BindTlsDefaults,
    /// `ssl-server-verify`, `ssl-default-server-options`, `…-ciphers`, `…-ciphersuites`.
    pub ssl_server: ServerTlsDefaults,
    /// `master-worker` was given: run as a master with one worker, as `-W`.
    pub master_worker: bool,
    /// `master-worker no-exit-on-failure`: a worker that fails does not take the
    /// others (and the master) down with it.
    pub no_exit_on_failure: bool,
    /// `set-var`/`set-var-fmt` lines: `proc.` variables set when the configuration
    /// loads, in order.
    pub set_vars: Vec<GlobalVar>,
    /// `expose-experimental-directives`: HAProxy's experimental keywords and actions
    /// (`http-request normalize-uri`) are allowed.
    pub expose_experimental: bool,
    /// Where each global keyword was set (for error messages).
    pub span: Option<Span>,
    /// `setenv`, `presetenv`, `unsetenv`, `resetenv`, in order. They already took effect
    /// on the configuration's own `"${VAR}"` expansions (line by line, as in HAProxy);
    /// the runtime applies them to the process environment (e.g. for `env()` fetches).
    pub env_changes: Vec<EnvChange>,
    /// The last `default-path`: how relative file names are resolved (default
    /// `current`). Already applied to the files read while parsing (`errorfile`, …).
    pub default_path: DefaultPath,
}

/// A `global` `set-var proc.NAME EXPR` or `set-var-fmt proc.NAME FMT` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalVar {
    /// The variable (`proc.` scope).
    pub name: String,
    /// The sample expression, or the log-format for `set-var-fmt`.
    pub expr: String,
    /// `set-var-fmt`.
    pub fmt: bool,
    /// The line.
    pub span: Span,
}

/// One `setenv`-family line of the `global` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvChange {
    /// `setenv NAME VALUE` (`overwrite`) or `presetenv NAME VALUE` (only when unset).
    Set {
        /// The variable.
        name: String,
        /// Its new value.
        value: String,
        /// False for `presetenv`: an existing value is kept.
        overwrite: bool,
    },
    /// `unsetenv NAME…`.
    Unset(Vec<String>),
    /// `resetenv [NAME…]`: removes every variable except these.
    Reset(Vec<String>),
}

/// `default-path { current | config | parent | origin <path> }`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DefaultPath {
    /// Relative to the directory gatehouse was started in (HAProxy's default).
    #[default]
    Current,
    /// Relative to the directory of the configuration file being read.
    Config,
    /// Relative to the parent of that directory.
    Parent,
    /// Relative to this directory.
    Origin(PathBuf),
}

impl Default for Global {
    fn default() -> Self {
        Global {
            nbthread: None,
            spread_checks: 0,
            busy_polling: false,
            maxconn: None,
            daemon: false,
            pidfile: None,
            logs: Vec::new(),
            log_tag: None,
            log_send_hostname: None,
            tune_bufsize: 16384,
            tune_maxrewrite: 1024,
            tune_h2: H2Tune::default(),
            stats_sockets: Vec::new(),
            stats_timeout: None,
            grace: None,
            hard_stop_after: None,
            server_state_file: None,
            server_state_base: None,
            user: None,
            group: None,
            chroot: None,
            node: None,
            description: None,
            ca_base: None,
            crt_base: None,
            ssl_bind: BindTlsDefaults::default(),
            ssl_server: ServerTlsDefaults::default(),
            master_worker: false,
            no_exit_on_failure: false,
            expose_experimental: false,
            set_vars: Vec::new(),
            span: None,
            env_changes: Vec::new(),
            default_path: DefaultPath::Current,
        }
    }
}

/// A `stats socket` line.
#[derive(Clone, Debug)]
pub struct StatsSocket {
    /// Where the socket listens.
    pub addr: BindAddr,
    /// `level user|operator|admin` (default `operator`, as HAProxy).
    pub level: String,
    /// `expose-fd listeners`.
    pub expose_fd_listeners: bool,
    /// The other bind options given, checked (`mode`, `user`, `group`, `uid`, `gid`,
    /// `name`, `maxconn`, `backlog`), in order; they apply once the socket is served.
    pub options: Vec<(String, String)>,
    /// Line of the keyword.
    pub span: Span,
}

/// What kind of section declared a proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    /// `defaults`.
    Defaults,
    /// `frontend`.
    Frontend,
    /// `backend`.
    Backend,
    /// `listen`.
    Listen,
}

impl ProxyKind {
    /// The section keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            ProxyKind::Defaults => "defaults",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
    /// True when the proxy accepts connections (frontend, listen).
    pub fn has_frontend(self) -> bool {
        matches!(self, ProxyKind::Frontend | ProxyKind::Listen)
    }
    /// True when the proxy has servers (backend, listen).
    pub fn has_backend(self) -> bool {
        matches!(self, ProxyKind::Backend | ProxyKind::Listen)
    }
}

/// `mode tcp|http`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Layer 4 forwarding (HAProxy's default).
    #[default]
    Tcp,
    /// HTTP/1.1 processing.
    Http,
}

/// A frontend, backend, listen or defaults section.
#[derive(Clone, Debug)]
pub struct Proxy {
    /// The section's name (empty for an anonymous `defaults`).
    pub name: String,
    /// Which section keyword declared it.
    pub kind: ProxyKind,
    /// The line of the section keyword.
    pub span: Span,
    /// `mode`.
    pub mode: Mode,
    /// `bind` lines (frontend, listen).
    pub binds: Vec<Bind>,
    /// `server` lines (backend, listen).
    pub servers: Vec<Server>,
    /// `default-server` options, applied to the servers declared after it.
    pub default_server: ServerOpts,
    /// `balance`.
    pub balance: Balance,
    /// `hash-type`.
    pub hash_type: HashType,
    /// `timeout …`.
    pub timeouts: Timeouts,
    /// `maxconn` (frontend).
    pub maxconn: Option<u32>,
    /// `retries` (default 3).
    pub retries: u32,
    /// `load-server-state-from-file` (default `none`).
    pub load_server_state: LoadServerState,
    /// `server-state-file-name`: the local server-state file (`None`: the backend's
    /// name).
    pub server_state_file_name: Option<String>,
    /// `option …`.
    pub options: Options,
    /// The health check rule set chosen by `option httpchk|tcp-check|mysql-check|…`.
    pub check: CheckConfig,
    /// `acl` lines.
    pub acls: Vec<AclDef>,
    /// `use_backend` lines.
    pub use_backends: Vec<UseBackend>,
    /// `monitor-uri` (the last one).
    pub monitor_uri: Option<String>,
    /// `monitor fail` conditions, in order.
    pub monitor_fail: Vec<Condition>,
    /// `default_backend`.
    pub default_backend: Option<(String, Span)>,
    /// `http-request` rules.
    pub http_request: Vec<HttpRule>,
    /// `http-response` rules.
    pub http_response: Vec<HttpRule>,
    /// `http-after-response` rules.
    pub http_after_response: Vec<HttpRule>,
    /// `redirect` rules (the keyword, evaluated after the `http-request` rules): each a
    /// `redirect` action whose value is a log-format escaping the literal text.
    pub redirects: Vec<HttpRule>,
    /// `tcp-request` rules.
    pub tcp_request: Vec<TcpRequestRule>,
    /// `tcp-response` rules (`content`, and `inspect-delay` whose action is the delay).
    pub tcp_response: Vec<TcpRequestRule>,
    /// `option pgsql-insecure-auth`, `option pgsql-audit-statements` (gatehouse only).
    pub pgsql: PgsqlOptions,
    /// `errorfile`, `errorfiles` and `http-error` lines, in order (files are read at
    /// load time; sections are resolved after parsing).
    pub errorfiles: Vec<ErrorDirective>,
    /// `log` targets (`log global` copies the global ones at compile time).
    pub logs: Vec<LogTarget>,
    /// `log global` was given.
    pub log_global: bool,
    /// `no log` was given.
    pub no_log: bool,
    /// `log-format`.
    pub log_format: Option<(String, Span)>,
    /// `log-tag`.
    pub log_tag: Option<String>,
    /// `unique-id-format`: the request id's log-format.
    pub unique_id_format: Option<(String, Span)>,
    /// `unique-id-header`: the request header that carries the id to the server.
    pub unique_id_header: Option<String>,
    /// `capture request header NAME len N`, in order.
    pub capture_req: Vec<(String, usize)>,
    /// `capture response header NAME len N`, in order.
    pub capture_res: Vec<(String, usize)>,
    /// `stats …`.
    pub stats: StatsConfig,
    /// `description`: shown on the stats page.
    pub description: Option<String>,
    /// `cookie`.
    pub cookie: Option<CookieConfig>,
    /// `persist rdp-cookie[(NAME)]`: the RDP cookie naming the server (`msts`).
    pub persist_rdp_cookie: Option<String>,
    /// `dynamic-cookie-key`: the secret of `cookie … dynamic`.
    pub dynamic_cookie_key: Option<String>,
    /// `force-persist` and `ignore-persist` rules, in order.
    pub persist_rules: Vec<PersistRule>,
    /// `stick-table`.
    pub stick_table: Option<StickTable>,
    /// `stick on|match|store-request|store-response` lines.
    pub sticks: Vec<StickRule>,
    /// `http-reuse` (default `safe`).
    pub http_reuse: HttpReuse,
    /// Name of the `defaults` section this proxy inherited from (`from NAME`, or the last).
    pub from: Option<String>,
}

impl Proxy {
    /// A proxy with HAProxy's defaults.
    pub fn new(name: impl Into<String>, kind: ProxyKind, span: Span) -> Self {
        Proxy {
            name: name.into(),
            kind,
            span,
            mode: Mode::Tcp,
            binds: Vec::new(),
            servers: Vec::new(),
            default_server: ServerOpts::default(),
            balance: Balance::RoundRobin,
            hash_type: HashType::default(),
            timeouts: Timeouts::default(),
            maxconn: None,
            retries: 3,
            load_server_state: LoadServerState::None,
            server_state_file_name: None,
            options: Options::default(),
            check: CheckConfig::default(),
            acls: Vec::new(),
            use_backends: Vec::new(),
            monitor_uri: None,
            monitor_fail: Vec::new(),
            default_backend: None,
            http_request: Vec::new(),
            http_response: Vec::new(),
            http_after_response: Vec::new(),
            redirects: Vec::new(),
            tcp_request: Vec::new(),
            tcp_response: Vec::new(),
            pgsql: PgsqlOptions::default(),
            errorfiles: Vec::new(),
            logs: Vec::new(),
            log_global: false,
            no_log: false,
            log_format: None,
            log_tag: None,
            unique_id_format: None,
            unique_id_header: None,
            capture_req: Vec::new(),
            capture_res: Vec::new(),
            stats: StatsConfig::default(),
            description: None,
            cookie: None,
            persist_rdp_cookie: None,
            dynamic_cookie_key: None,
            persist_rules: Vec::new(),
            stick_table: None,
            sticks: Vec::new(),
            http_reuse: HttpReuse::Safe,
            from: None,
        }
    }
}

/// `load-server-state-from-file`: where a backend's servers' states come from when the
/// process starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoadServerState {
    /// `none`: the configuration's states.
    #[default]
    None,
    /// `global`: the global `server-state-file`.
    Global,
    /// `local`: the backend's own file (`server-state-file-name`, else its name) under
    /// `server-state-base`.
    Local,
}
