//! `bind` and `server` lines, balancing algorithms.

use crate::config::span::Span;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    /// The TLS settings (`ssl`, `crt`, `alpn`, `verify`, …).
    pub tls: super::BindTls,
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
    /// `proto h2`: the connections speak HTTP/2 from their first byte (h2c with prior
    /// knowledge, or h2 over TLS whatever ALPN says).
    pub h2: bool,
    /// `proto pgsql` (gatehouse only): the PostgreSQL front door speaks on this bind.
    pub pgsql: bool,
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
    /// The TLS settings (`ssl`, `verify`, `ca-file`, `sni`, …).
    pub tls: super::ServerTls,
    /// `send-proxy`.
    pub send_proxy: bool,
    /// `send-proxy-v2` (also set by `send-proxy-v2-ssl`, `send-proxy-v2-ssl-cn`).
    pub send_proxy_v2: bool,
    /// The TLVs of a PROXY v2 header (`proxy-v2-options`, `send-proxy-v2-ssl[-cn]`).
    pub pp_v2: PpV2Options,
    /// `cookie`.
    pub cookie: Option<String>,
    /// `check-ssl` (`Some(true)`) or `no-check-ssl` (`Some(false)`); unset, checks
    /// run over TLS when the server has `ssl` and no check `port` or `addr`.
    pub check_ssl: Option<bool>,
    /// `check-sni`.
    pub check_sni: Option<String>,
    /// `check-alpn` (the protocols, in order).
    pub check_alpn: Option<Vec<String>>,
    /// `agent-check` (`no-agent-check` clears it).
    pub agent_check: bool,
    /// `agent-port`.
    pub agent_port: Option<u16>,
    /// `agent-inter` (default: `inter`).
    pub agent_inter: Option<Duration>,
    /// `agent-send`: sent verbatim to the agent on connection.
    pub agent_send: Option<String>,
    /// `agent-addr`.
    pub agent_addr: Option<String>,
    /// `observe layer4|layer7` (`observe none`: `None`).
    pub observe: Option<Observe>,
    /// `error-limit` (default 10).
    pub error_limit: u32,
    /// `on-error` (default `fail-check`).
    pub on_error: OnError,
    /// `proto NAME`: the protocol forced on the server's connections (else HTTP/1, or
    /// what ALPN negotiates over TLS).
    pub proto: Option<ServerProto>,
    /// `check-proto NAME`: the protocol of HTTP checks (else `proto`, else what ALPN
    /// picks).
    pub check_proto: Option<ServerProto>,
    /// `on-marked-down shutdown-sessions`: marked down by its checks, the server's
    /// connections are closed.
    pub on_marked_down_shutdown: bool,
    /// `on-marked-up shutdown-backup-sessions`: marked up by its checks, the
    /// connections of the backend's backup servers are closed.
    pub on_marked_up_shutdown_backup: bool,
}

/// `proto NAME` on a server: HAProxy's multiplexer names gatehouse knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerProto {
    /// `h1`: HTTP/1.1 whatever ALPN says.
    H1,
    /// `h2`: HTTP/2 (h2c with prior knowledge, or h2 over TLS whatever ALPN says).
    H2,
    /// `none`: the raw pass-through of `mode tcp`.
    None,
}

impl ServerProto {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            ServerProto::H1 => "h1",
            ServerProto::H2 => "h2",
            ServerProto::None => "none",
        }
    }
}

/// `observe`: what live traffic passive checks watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observe {
    /// `layer4`: connection attempts.
    Layer4,
    /// `layer7`: connection attempts and HTTP responses (HTTP proxies only).
    Layer7,
}

/// `on-error`: what `error-limit` consecutive errors on live traffic do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// `fastinter`: the next check runs after `fastinter`.
    FastInter,
    /// `fail-check`: counts as a failed check (and `fastinter`).
    #[default]
    FailCheck,
    /// `sudden-death`: leaves the server one failed check from down (and `fastinter`).
    SuddenDeath,
    /// `mark-down`: marks the server down at once (and `fastinter`).
    MarkDown,
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
            tls: super::ServerTls::default(),
            send_proxy: false,
            send_proxy_v2: false,
            pp_v2: PpV2Options::default(),
            cookie: None,
            check_ssl: None,
            check_sni: None,
            check_alpn: None,
            agent_check: false,
            agent_port: None,
            agent_inter: None,
            agent_send: None,
            agent_addr: None,
            observe: None,
            error_limit: 10,
            on_error: OnError::FailCheck,
            proto: None,
            check_proto: None,
            on_marked_down_shutdown: false,
            on_marked_up_shutdown_backup: false,
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
    /// `rdp-cookie[(NAME)]`: hash the RDP cookie NAME (default `mstshash`).
    RdpCookie(String),
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

/// The TLVs a server's PROXY v2 header carries (HAProxy's `proxy-v2-options`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PpV2Options {
    /// `ssl`: the `PP2_TYPE_SSL` TLV (whether the client came over TLS, its version,
    /// whether it sent a verified certificate).
    pub ssl: bool,
    /// `cert-cn`: the client certificate's common name in the SSL TLV.
    pub cert_cn: bool,
    /// `ssl-cipher`: the cipher's name in the SSL TLV.
    pub ssl_cipher: bool,
    /// `authority`: the client's SNI (`PP2_TYPE_AUTHORITY`).
    pub authority: bool,
    /// `unique-id`: the stream's `unique-id` (`PP2_TYPE_UNIQUE_ID`).
    pub unique_id: bool,
    /// `crc32c`: the header's checksum (`PP2_TYPE_CRC32C`).
    pub crc32c: bool,
}

impl PpV2Options {
    /// Applies a `proxy-v2-options` list (`ssl,cert-cn,…`).
    pub fn apply(&mut self, list: &str) -> Result<(), String> {
        for o in list.split(',') {
            match o {
                "ssl" => self.ssl = true,
                "cert-cn" => self.cert_cn = true,
                "ssl-cipher" => self.ssl_cipher = true,
                "authority" => self.authority = true,
                "unique-id" => self.unique_id = true,
                "crc32c" => self.crc32c = true,
                "cert-sig" | "cert-key" => {
                    return Err(format!(
                        "'proxy-v2-options' : option '{o}' is a HAProxy option that gatehouse does not support yet"
                    ));
                }
                _ => return Err(format!("'proxy-v2-options' : '{o}' : unknown option")),
            }
        }
        Ok(())
    }
}
