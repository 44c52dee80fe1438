//! The typed configuration model: what a haproxy.cfg means, after parsing and before
//! compilation into a runtime snapshot. Every item keeps the [`Span`] it came from.

use super::span::Span;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A whole configuration: the merged `global` section, proxies and userlists.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The merged `global` sections.
    pub global: Global,
    /// Frontends, backends and listens, in file order.
    pub proxies: Vec<Proxy>,
    /// `userlist` sections.
    pub userlists: Vec<Userlist>,
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
    /// `stats socket` lines.
    pub stats_sockets: Vec<StatsSocket>,
    /// `stats timeout`.
    pub stats_timeout: Option<Duration>,
    /// `user`.
    pub user: Option<String>,
    /// `group`.
    pub group: Option<String>,
    /// `chroot`: the directory the process confines itself to after binding.
    pub chroot: Option<PathBuf>,
    /// `node`.
    pub node: Option<String>,
    /// `description`: shown on the stats page (not served yet).
    pub description: Option<String>,
    /// `ca-base`: the directory relative CA file names resolve against (used by the TLS
    /// keywords, which are not supported yet).
    pub ca_base: Option<String>,
    /// `crt-base`: the directory relative certificate names resolve against (used by
    /// the TLS keywords, which are not supported yet).
    pub crt_base: Option<String>,
    /// `master-worker` was given (gatehouse runs as one process either way).
    pub master_worker: bool,
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
            maxconn: None,
            daemon: false,
            pidfile: None,
            logs: Vec::new(),
            log_tag: None,
            log_send_hostname: None,
            tune_bufsize: 16384,
            tune_maxrewrite: 1024,
            stats_sockets: Vec::new(),
            stats_timeout: None,
            user: None,
            group: None,
            chroot: None,
            node: None,
            description: None,
            ca_base: None,
            crt_base: None,
            master_worker: false,
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
    /// `level user|operator|admin` (default `user`... HAProxy's default is `user`).
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
    /// `option …`.
    pub options: Options,
    /// The health check rule set chosen by `option httpchk|tcp-check|mysql-check|…`.
    pub check: CheckConfig,
    /// `acl` lines.
    pub acls: Vec<AclDef>,
    /// `use_backend` lines.
    pub use_backends: Vec<UseBackend>,
    /// `default_backend`.
    pub default_backend: Option<(String, Span)>,
    /// `http-request` rules.
    pub http_request: Vec<HttpRule>,
    /// `http-response` rules.
    pub http_response: Vec<HttpRule>,
    /// `tcp-request` rules.
    pub tcp_request: Vec<TcpRequestRule>,
    /// `errorfile CODE FILE`: the file's content is read at load time.
    pub errorfiles: Vec<ErrorFile>,
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
    /// `stats …`.
    pub stats: StatsConfig,
    /// `description`: shown on the stats page (not served yet).
    pub description: Option<String>,
    /// `cookie`.
    pub cookie: Option<CookieConfig>,
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
            options: Options::default(),
            check: CheckConfig::default(),
            acls: Vec::new(),
            use_backends: Vec::new(),
            default_backend: None,
            http_request: Vec::new(),
            http_response: Vec::new(),
            tcp_request: Vec::new(),
            errorfiles: Vec::new(),
            logs: Vec::new(),
            log_global: false,
            no_log: false,
            log_format: None,
            log_tag: None,
            stats: StatsConfig::default(),
            description: None,
            cookie: None,
            stick_table: None,
            sticks: Vec::new(),
            http_reuse: HttpReuse::Safe,
            from: None,
        }
    }
}

/// One address a `bind` line listens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindAddr {
    /// An IPv4 or IPv6 address with a port range (one port: `start == end`).
    Inet {
        /// The address (`0.0.0.0` for `*` or an empty host, `::` for `::`).
        ip: IpAddr,
        /// First port.
        port_start: u16,
        /// Last port (inclusive).
        port_end: u16,
    },
    /// `unix@PATH` or a path starting with `/`.
    Unix(PathBuf),
    /// `abns@NAME`: Linux abstract namespace socket.
    Abns(String),
    /// `fd@N`: an already listening socket inherited from the parent.
    Fd(i32),
}

/// A `bind` line.
#[derive(Clone, Debug)]
pub struct Bind {
    /// The line.
    pub span: Span,
    /// The addresses (a bind line may list several, comma separated).
    pub addrs: Vec<BindAddr>,
    /// `name`.
    pub name: Option<String>,
    /// `ssl`.
    pub ssl: bool,
    /// `crt` (files or directories).
    pub crt: Vec<PathBuf>,
    /// `alpn` protocols.
    pub alpn: Vec<String>,
    /// `accept-proxy`.
    pub accept_proxy: bool,
    /// `mode` (unix sockets), octal.
    pub unix_mode: Option<u32>,
    /// `user` (unix sockets).
    pub unix_user: Option<String>,
    /// `group` (unix sockets).
    pub unix_group: Option<String>,
    /// `maxconn` on the bind line.
    pub maxconn: Option<u32>,
    /// `backlog`.
    pub backlog: Option<u32>,
    /// `v4v6`.
    pub v4v6: bool,
    /// `v6only`.
    pub v6only: bool,
}

/// A server's address as written: host or IP, and an optional port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerAddr {
    /// An IP or host name and port. A port of `None` means "the port the client connected
    /// to"; `offset` is set for `+N`/`-N` forms.
    Inet {
        /// Host name or IP literal.
        host: String,
        /// The port, when given.
        port: Option<u16>,
        /// `+N`/`-N`: relative to the client's destination port.
        offset: Option<i32>,
    },
    /// A unix socket path.
    Unix(PathBuf),
    /// An abstract unix socket.
    Abns(String),
}

/// `server NAME ADDR [options]`.
#[derive(Clone, Debug)]
pub struct Server {
    /// The server's name.
    pub name: String,
    /// The line.
    pub span: Span,
    /// Its address.
    pub addr: ServerAddr,
    /// Options (from `default-server`, then the line itself).
    pub opts: ServerOpts,
}

/// Server options shared by `server` and `default-server`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerOpts {
    /// `check`.
    pub check: bool,
    /// `inter` (default 2s).
    pub inter: Duration,
    /// `fastinter` (default: `inter`).
    pub fastinter: Option<Duration>,
    /// `downinter` (default: `inter`).
    pub downinter: Option<Duration>,
    /// `rise` (default 2).
    pub rise: u32,
    /// `fall` (default 3).
    pub fall: u32,
    /// `port` for checks.
    pub check_port: Option<u16>,
    /// `addr` for checks.
    pub check_addr: Option<String>,
    /// `weight` (default 1, 0..=256).
    pub weight: u32,
    /// `backup`.
    pub backup: bool,
    /// `disabled`.
    pub disabled: bool,
    /// `maxconn` (0: unlimited).
    pub maxconn: u32,
    /// `maxqueue` (0: unlimited).
    pub maxqueue: u32,
    /// `ssl`.
    pub ssl: bool,
    /// `verify none|required`.
    pub verify: Option<String>,
    /// `ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `sni` expression.
    pub sni: Option<String>,
    /// `send-proxy`.
    pub send_proxy: bool,
    /// `send-proxy-v2`.
    pub send_proxy_v2: bool,
    /// `cookie`.
    pub cookie: Option<String>,
    /// `check-ssl`.
    pub check_ssl: bool,
}

impl Default for ServerOpts {
    fn default() -> Self {
        ServerOpts {
            check: false,
            inter: Duration::from_secs(2),
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            check_port: None,
            check_addr: None,
            weight: 1,
            backup: false,
            disabled: false,
            maxconn: 0,
            maxqueue: 0,
            ssl: false,
            verify: None,
            ca_file: None,
            sni: None,
            send_proxy: false,
            send_proxy_v2: false,
            cookie: None,
            check_ssl: false,
        }
    }
}

/// `balance ALGORITHM [ARGS]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Balance {
    /// `roundrobin`: smooth weighted round robin, dynamic weights.
    RoundRobin,
    /// `static-rr`.
    StaticRr,
    /// `leastconn`.
    LeastConn,
    /// `first`.
    First,
    /// `source`.
    Source,
    /// `uri [whole] [len N] [depth N]`.
    Uri {
        /// `whole`: hash the query string too.
        whole: bool,
        /// `len N`: hash only the first N characters (0: all).
        len: usize,
        /// `depth N`: hash only the first N directories (0: all).
        depth: usize,
    },
    /// `url_param NAME`.
    UrlParam(String),
    /// `hdr(NAME) [use_domain_only]`.
    Hdr {
        /// The header's name.
        name: String,
        /// `use_domain_only`.
        use_domain_only: bool,
    },
    /// `random[(DRAWS)]` (default 2 draws).
    Random(u32),
}

/// `hash-type map-based|consistent [FUNCTION] [avalanche]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HashType {
    /// `consistent` instead of `map-based`.
    pub consistent: bool,
    /// The hash function: `sdbm` (default), `djb2`, `wt6`, `crc32`.
    pub function: String,
    /// `avalanche`.
    pub avalanche: bool,
}

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
    /// `option log-separate-errors`.
    pub log_separate_errors: bool,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `option http-keep-alive|http-server-close|httpclose`.
    pub http_conn_mode: HttpConnMode,
    /// `option redispatch`.
    pub redispatch: bool,
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
    /// `option pgsql-check user NAME`.
    Pgsql {
        /// The user.
        user: String,
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

/// A condition after `if` or `unless`: an OR of ANDs of (possibly negated) ACL terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The line.
    pub span: Span,
    /// True for `unless`.
    pub unless: bool,
    /// Alternatives joined by `||` (or `or`); each is a juxtaposed AND of terms.
    pub any_of: Vec<Vec<CondTerm>>,
}

/// One term of a condition: a named ACL or an anonymous `{ … }` one, maybe negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondTerm {
    /// `!` before the term.
    pub negated: bool,
    /// The ACL referred to.
    pub acl: AclRef,
}

/// A reference from a condition to an ACL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclRef {
    /// By name (all `acl` lines of that name, OR-ed).
    Named(String),
    /// An anonymous ACL written inline between braces.
    Anonymous(AclExpr),
}

/// The criterion of an ACL as written: `FETCH[,CONV…] [FLAGS…] [VALUES…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclExpr {
    /// The line.
    pub span: Span,
    /// The words after the ACL name (for an anonymous ACL, the words between braces).
    pub words: Vec<String>,
}

/// `acl NAME CRITERION [FLAGS] [VALUES]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclDef {
    /// The ACL's name.
    pub name: String,
    /// Its criterion.
    pub expr: AclExpr,
}

/// `use_backend NAME [if|unless COND]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseBackend {
    /// The line.
    pub span: Span,
    /// The backend's name.
    pub backend: String,
    /// The condition, if any.
    pub cond: Option<Condition>,
}

/// An `http-request` or `http-response` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRule {
    /// The line.
    pub span: Span,
    /// The action.
    pub action: HttpAction,
    /// The condition, if any.
    pub cond: Option<Condition>,
}

/// The body of an `http-request return`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnBody {
    /// No body.
    None,
    /// `string S`.
    String(String),
    /// `lf-string S` (a log-format string).
    LfString(String),
    /// `file F`: read at load time.
    File(Vec<u8>),
    /// `errorfile F`: a full response read at load time.
    ErrorFile(Vec<u8>),
}

/// The actions of `http-request` / `http-response` rules gatehouse implements.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpAction {
    /// `allow`.
    Allow,
    /// `deny [deny_status N]`.
    Deny {
        /// The status (default 403).
        status: u16,
    },
    /// `return [status N] [content-type T] [string S|lf-string S|file F|errorfile F] [hdr N V]…`.
    Return {
        /// Status (default 200).
        status: u16,
        /// `content-type`.
        content_type: Option<String>,
        /// The body.
        body: ReturnBody,
        /// `hdr NAME VALUE` pairs.
        headers: Vec<(String, String)>,
    },
    /// `set-header NAME FMT`.
    SetHeader(String, String),
    /// `add-header NAME FMT`.
    AddHeader(String, String),
    /// `del-header NAME`.
    DelHeader(String),
    /// `redirect …` (kept as words; see the redirect rules).
    Redirect(Vec<String>),
}

/// A `tcp-request` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpRequestRule {
    /// The line.
    pub span: Span,
    /// `connection`, `content`, `session` or `inspect-delay`.
    pub stage: String,
    /// The action (`accept`, `reject`, …) or, for `inspect-delay`, the delay.
    pub action: String,
    /// The action's further words.
    pub args: Vec<String>,
    /// The condition, if any.
    pub cond: Option<Condition>,
}

/// `errorfile CODE FILE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorFile {
    /// The status code it replaces.
    pub status: u16,
    /// The file's content: a full HTTP response.
    pub content: Vec<u8>,
    /// The line.
    pub span: Span,
}

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
    /// `stats admin` conditions, kept as words.
    pub admin: Vec<Vec<String>>,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats show-legends`.
    pub show_legends: bool,
}

/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve] …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    /// The cookie's name.
    pub name: String,
    /// The other words.
    pub args: Vec<String>,
    /// The line.
    pub span: Span,
}

/// `stick-table type T [len N] size S [expire E] [nopurge] [peers P] [store …]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickTable {
    /// The words after the keyword.
    pub args: Vec<String>,
    /// The line.
    pub span: Span,
}

/// `stick on|match|store-request|store-response PATTERN [table T] [if|unless COND]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickRule {
    /// `on`, `match`, `store-request`, `store-response`.
    pub kind: String,
    /// The pattern and the other words before the condition.
    pub args: Vec<String>,
    /// The condition.
    pub cond: Option<Condition>,
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
