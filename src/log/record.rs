//! The data one log line may print ([`LogRecord`]) and the session termination state
//! letters of HAProxy's section 8.5 ([`TermCause`], [`FinState`]).

use std::net::SocketAddr;
use std::time::SystemTime;

/// First letter of the termination state: the event that ended the session (8.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TermCause {
    /// `-`: normal completion.
    #[default]
    None,
    /// `L`: processed locally by the proxy (stats, redirect, deny page…).
    Local,
    /// `c`: client-side timeout.
    ClientTimeout,
    /// `C`: the client aborted.
    ClientAbort,
    /// `s`: server-side timeout.
    ServerTimeout,
    /// `S`: the server aborted or refused.
    ServerAbort,
    /// `P`: the proxy aborted (limit, deny, security check).
    Proxy,
    /// `R`: a proxy resource was exhausted.
    Resource,
    /// `I`: internal error.
    Internal,
    /// `D`: killed because the server went down.
    Down,
    /// `K`: killed by an admin.
    Killed,
    /// `U`: killed on a backup server because an active server came up.
    Up,
}

impl TermCause {
    /// The letter HAProxy prints.
    pub fn as_char(self) -> char {
        match self {
            TermCause::None => '-',
            TermCause::Local => 'L',
            TermCause::ClientTimeout => 'c',
            TermCause::ClientAbort => 'C',
            TermCause::ServerTimeout => 's',
            TermCause::ServerAbort => 'S',
            TermCause::Proxy => 'P',
            TermCause::Resource => 'R',
            TermCause::Internal => 'I',
            TermCause::Down => 'D',
            TermCause::Killed => 'K',
            TermCause::Up => 'U',
        }
    }
}

/// Second letter of the termination state: where the session was when it ended (8.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FinState {
    /// `-`: after the end of the data transfer.
    #[default]
    None,
    /// `R`: waiting for a complete request from the client.
    Request,
    /// `Q`: waiting in a queue.
    Queue,
    /// `C`: waiting for the server connection.
    Connect,
    /// `H`: waiting for the response headers.
    Headers,
    /// `D`: data phase.
    Data,
    /// `L`: sending the last data to the client.
    Last,
    /// `T`: tarpitted.
    Tarpit,
}

impl FinState {
    /// The letter HAProxy prints.
    pub fn as_char(self) -> char {
        match self {
            FinState::None => '-',
            FinState::Request => 'R',
            FinState::Queue => 'Q',
            FinState::Connect => 'C',
            FinState::Headers => 'H',
            FinState::Data => 'D',
            FinState::Last => 'L',
            FinState::Tarpit => 'T',
        }
    }
}

/// Everything a log line may print, filled by the proxy for one request or connection.
///
/// Strings are borrowed from the proxy's session so building a record allocates nothing.
/// Timers are in milliseconds; `None` prints as `-1`, like HAProxy's unset timers.
#[derive(Clone, Debug)]
pub struct LogRecord<'a> {
    /// Client address (`%ci`/`%cp`); `None` for a unix socket client (`unix`).
    pub client: Option<SocketAddr>,
    /// Listener id printed as `%cp`/`%fp` for unix sockets.
    pub listener_id: u32,
    /// Address the client connected to (`%fi`/`%fp`).
    pub frontend_addr: Option<SocketAddr>,
    /// Source address of the server connection (`%bi`/`%bp`).
    pub backend_src: Option<SocketAddr>,
    /// Server address (`%si`/`%sp`).
    pub server_addr: Option<SocketAddr>,
    /// When the connection was accepted (`%t`, `%T`, `%Tl`, `%Ts`, `%ms`); in HTTP mode
    /// the moment the connection became ready for this request.
    pub accept_date: SystemTime,
    /// When the first byte of the request arrived (`%tr`, `%trg`, `%trl`).
    pub request_date: SystemTime,
    /// Frontend name (`%f`, `%ft`).
    pub frontend: &'a str,
    /// The frontend's listener uses SSL (`%ft` gets a `~` suffix).
    pub frontend_ssl: bool,
    /// Backend name (`%b`); the frontend's name when no backend was chosen.
    pub backend: &'a str,
    /// Server name (`%s`); `None` prints `<NOSRV>`.
    pub server: Option<&'a str>,
    /// `Th`: handshake time (SSL, PROXY protocol).
    pub t_handshake: Option<i64>,
    /// `Ti`: idle time before the first request byte.
    pub t_idle: Option<i64>,
    /// `TR`: time to receive the full request head after its first byte.
    pub t_request: Option<i64>,
    /// `Tw`: time spent in queues.
    pub t_queue: Option<i64>,
    /// `Tc`: time to connect to the server.
    pub t_connect: Option<i64>,
    /// `Tr`: server response time (headers).
    pub t_response: Option<i64>,
    /// `Ta`: active time of the request (first request byte to end).
    pub t_active: Option<i64>,
    /// `Tt`: total session time (accept to close).
    pub t_total: Option<i64>,
    /// `option logasap` logged before the end: `%Ta`, `%Tt` and `%B` get a `+` prefix.
    pub logasap: bool,
    /// HTTP status (`%ST`): -1 when no response was produced, 0 in TCP mode.
    pub status: i32,
    /// Bytes sent to the client (`%B`).
    pub bytes_out: u64,
    /// Bytes received from the client (`%U`).
    pub bytes_in: u64,
    /// Captured request cookie (`%CC`).
    pub req_cookie: Option<&'a str>,
    /// Captured response cookie (`%CS`).
    pub res_cookie: Option<&'a str>,
    /// First termination letter.
    pub term_cause: TermCause,
    /// Second termination letter.
    pub fin_state: FinState,
    /// Third and fourth letters (persistence cookie state), `--` without `cookie`.
    pub cookie_flags: [u8; 2],
    /// Process-wide active connections (`%ac`).
    pub actconn: u32,
    /// Frontend connections (`%fc`).
    pub feconn: u32,
    /// Backend connections (`%bc`).
    pub beconn: u32,
    /// Server connections (`%sc`).
    pub srv_conn: u32,
    /// Connection retries (`%rc`).
    pub retries: u32,
    /// A redispatch happened (`%rc` gets a `+` prefix).
    pub redispatched: bool,
    /// Position in the server queue (`%sq`).
    pub srv_queue: u32,
    /// Position in the backend queue (`%bq`).
    pub backend_queue: u32,
    /// `capture request header` values, in declaration order (`%hr`, `%hrl`); an empty
    /// slice means no capture is configured and nothing is printed.
    pub req_headers: &'a [Option<&'a [u8]>],
    /// `capture response header` values (`%hs`, `%hsl`).
    pub res_headers: &'a [Option<&'a [u8]>],
    /// The request line `METHOD URI VERSION` without CRLF (`%r`, `%HM`, …); `None`
    /// prints `<BADREQ>`.
    pub request_line: Option<&'a [u8]>,
    /// `unique-id` (`%ID`).
    pub unique_id: Option<&'a str>,
    /// Request counter of the process (`%rt`).
    pub request_counter: u64,
    /// Lines logged by the frontend so far (`%lc`).
    pub log_counter: u64,
    /// Negotiated SSL version on the client side (`%sslv`).
    pub ssl_version: Option<&'a str>,
    /// Negotiated SSL cipher on the client side (`%sslc`).
    pub ssl_cipher: Option<&'a str>,
}

impl<'a> LogRecord<'a> {
    /// A record for a connection accepted at `accept_date` on `frontend`, with every
    /// other field unset (timers `-1`, counters 0, no server, no request).
    pub fn new(accept_date: SystemTime, frontend: &'a str) -> Self {
        LogRecord {
            client: None,
            listener_id: 0,
            frontend_addr: None,
            backend_src: None,
            server_addr: None,
            accept_date,
            request_date: accept_date,
            frontend,
            frontend_ssl: false,
            backend: frontend,
            server: None,
            t_handshake: None,
            t_idle: None,
            t_request: None,
            t_queue: None,
            t_connect: None,
            t_response: None,
            t_active: None,
            t_total: None,
            logasap: false,
            status: -1,
            bytes_out: 0,
            bytes_in: 0,
            req_cookie: None,
            res_cookie: None,
            term_cause: TermCause::None,
            fin_state: FinState::None,
            cookie_flags: [b'-', b'-'],
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            req_headers: &[],
            res_headers: &[],
            request_line: None,
            unique_id: None,
            request_counter: 0,
            log_counter: 0,
            ssl_version: None,
            ssl_cipher: None,
        }
    }

    /// `Tq` = `Th + Ti + TR`, or -1 when the request was not complete.
    pub fn tq(&self) -> i64 {
        match self.t_request {
            Some(r) if r >= 0 => r + pos(self.t_handshake) + pos(self.t_idle),
            _ => -1,
        }
    }

    /// `Td` = `Tt - (Tq + Tw + Tc + Tr)`: data transfer time, -1 without a response.
    pub fn td(&self) -> i64 {
        match (self.t_response, self.t_total) {
            (Some(tr), Some(tt)) => {
                tt - (pos(Some(self.tq())) + pos(self.t_queue) + pos(self.t_connect) + tr)
            }
            _ => -1,
        }
    }

    /// `Tu` = `Tt - Ti`: total time without the idle time.
    pub fn tu(&self) -> i64 {
        match self.t_total {
            Some(tt) => tt - pos(self.t_idle),
            None => -1,
        }
    }
}

fn pos(v: Option<i64>) -> i64 {
    v.unwrap_or(0).max(0)
}
