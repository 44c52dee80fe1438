//! HAProxy 2.6's `show stat` columns, in order: name, description (doc/management.txt
//! 9.1 and `stat_fields` in haproxy's src/stats.c), and the tags and type each kind of
//! object reports the field with in `show stat typed`/`json` (origin, nature, scope letters
//! and type, as HAProxy 2.6.12 prints them; empty when that kind never reports it).
//!
//! The columns after the `-` separator are those of HAProxy's stats modules (ssl, h2, h1).

/// One `show stat` column.
#[derive(Debug)]
pub struct FieldDef {
    /// The CSV name.
    pub name: &'static str,
    /// HAProxy's description (the HTML legends, `show schema json`, Prometheus help).
    pub desc: &'static str,
    /// `ONS:type` (origin, nature, scope letters and value type) for a frontend, a
    /// backend and a server; empty when HAProxy never reports it for that kind.
    pub tags: [&'static str; 3],
}

/// Column of the `-` separator between HAProxy's own fields and its modules' ones (the
/// CSV prints it; typed and JSON outputs skip it).
pub const SEPARATOR: usize = 103;

/// Every column, in HAProxy 2.6's order (the separator included).
#[rustfmt::skip]
pub static FIELDS: &[FieldDef] = &[
    FieldDef { name: "pxname", desc: "Proxy name", tags: ["KNS:str", "KNS:str", "KNS:str"] },
    FieldDef { name: "svname", desc: "Server name", tags: ["KNS:str", "KNS:str", "KNS:str"] },
    FieldDef { name: "qcur", desc: "Number of current queued connections", tags: ["", "MGP:u32", "MGP:u32"] },
    FieldDef { name: "qmax", desc: "Highest value of queued connections encountered since process started", tags: ["", "MMP:u32", "MMP:u32"] },
    FieldDef { name: "scur", desc: "Number of current sessions on the frontend, backend or server", tags: ["MGP:u32", "MGP:u32", "MGP:u32"] },
    FieldDef { name: "smax", desc: "Highest value of current sessions encountered since process started", tags: ["MMP:u32", "MMP:u32", "MMP:u32"] },
    FieldDef { name: "slim", desc: "Frontend/listener/server's maxconn, backend's fullconn", tags: ["CLP:u32", "CLP:u32", ""] },
    FieldDef { name: "stot", desc: "Total number of sessions since process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "bin", desc: "Total number of request bytes since process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "bout", desc: "Total number of response bytes since process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "dreq", desc: "Total number of denied requests since process started", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "dresp", desc: "Total number of denied responses since process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "ereq", desc: "Total number of invalid requests since process started", tags: ["MCP:u64", "", ""] },
    FieldDef { name: "econ", desc: "Total number of failed connections to server since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "eresp", desc: "Total number of invalid responses since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "wretr", desc: "Total number of server connection retries since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "wredis", desc: "Total number of server redispatches due to connection failures since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "status", desc: "Frontend/listen status: OPEN/WAITING/FULL/STOP; backend: UP/DOWN; server: last check status", tags: ["SGP:str", "SGP:str", "SGP:str"] },
    FieldDef { name: "weight", desc: "Server's effective weight, or sum of active servers' effective weights for a backend", tags: ["", "MaP:u32", "MaP:u32"] },
    FieldDef { name: "act", desc: "Total number of active UP servers with a non-zero weight", tags: ["", "MGP:u32", "SGP:u32"] },
    FieldDef { name: "bck", desc: "Total number of backup UP servers with a non-zero weight", tags: ["", "MGP:u32", "SGP:u32"] },
    FieldDef { name: "chkfail", desc: "Total number of failed individual health checks per server/backend, since the worker process started", tags: ["", "", "MCP:u64"] },
    FieldDef { name: "chkdown", desc: "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "lastchg", desc: "How long ago the last server state changed, in seconds", tags: ["", "MAP:u32", "MAP:u32"] },
    FieldDef { name: "downtime", desc: "Total time spent in DOWN state, for server or backend", tags: ["", "MCP:u32", "MCP:u32"] },
    FieldDef { name: "qlimit", desc: "Limit on the number of connections in queue, for servers only (maxqueue argument)", tags: ["", "", ""] },
    FieldDef { name: "pid", desc: "Relative worker process number (1)", tags: ["KGP:u32", "KGP:u32", "KGP:u32"] },
    FieldDef { name: "iid", desc: "Frontend or Backend numeric identifier ('id' setting)", tags: ["KGS:u32", "KGS:u32", "KGS:u32"] },
    FieldDef { name: "sid", desc: "Server numeric identifier ('id' setting)", tags: ["KGS:u32", "KGS:u32", "KGS:u32"] },
    FieldDef { name: "throttle", desc: "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)", tags: ["", "", ""] },
    FieldDef { name: "lbtot", desc: "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "tracked", desc: "Name of the other server this server tracks for its state", tags: ["", "", ""] },
    FieldDef { name: "type", desc: "Type of the object (Listener, Frontend, Backend, Server)", tags: ["CGS:u32", "CGS:u32", "CGS:u32"] },
    FieldDef { name: "rate", desc: "Total number of sessions processed by this object over the last second (sessions for listeners/frontends, requests for backends/servers)", tags: ["MRP:u32", "MGP:u32", "MRP:u32"] },
    FieldDef { name: "rate_lim", desc: "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)", tags: ["CLP:u32", "", ""] },
    FieldDef { name: "rate_max", desc: "Highest value of sessions per second observed since the worker process started", tags: ["MMP:u32", "MGP:u32", "MMP:u32"] },
    FieldDef { name: "check_status", desc: "Status report of the server's latest health check, prefixed with '*' if a check is currently in progress", tags: ["", "", "MOP:str"] },
    FieldDef { name: "check_code", desc: "HTTP/SMTP/LDAP status code reported by the latest server health check", tags: ["", "", "MOP:u32"] },
    FieldDef { name: "check_duration", desc: "Total duration of the latest server health check, in milliseconds", tags: ["", "", "MDP:u64"] },
    FieldDef { name: "hrsp_1xx", desc: "Total number of HTTP responses with status 100-199 returned by this object since the worker process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "hrsp_2xx", desc: "Total number of HTTP responses with status 200-299 returned by this object since the worker process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "hrsp_3xx", desc: "Total number of HTTP responses with status 300-399 returned by this object since the worker process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "hrsp_4xx", desc: "Total number of HTTP responses with status 400-499 returned by this object since the worker process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "hrsp_5xx", desc: "Total number of HTTP responses with status 500-599 returned by this object since the worker process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "hrsp_other", desc: "Total number of HTTP responses with status <100, >599 returned by this object since the worker process started (error -1 included)", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "hanafail", desc: "Total number of failed checks caused by an 'on-error' directive after an 'observe' condition matched", tags: ["", "", ""] },
    FieldDef { name: "req_rate", desc: "Number of HTTP requests processed over the last second on this object", tags: ["MRP:u32", "", ""] },
    FieldDef { name: "req_rate_max", desc: "Highest value of http requests observed since the worker process started", tags: ["MMP:u32", "", ""] },
    FieldDef { name: "req_tot", desc: "Total number of HTTP requests processed by this object since the worker process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "cli_abrt", desc: "Total number of requests or connections aborted by the client since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "srv_abrt", desc: "Total number of requests or connections aborted by the server since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "comp_in", desc: "Total number of bytes submitted to the HTTP compressor for this object since the worker process started", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "comp_out", desc: "Total number of bytes emitted by the HTTP compressor for this object since the worker process started", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "comp_byp", desc: "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "comp_rsp", desc: "Total number of HTTP responses that were compressed for this object since the worker process started", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "lastsess", desc: "How long ago some traffic was seen on this object on this worker process, in seconds", tags: ["", "MAP:s32", "MAP:s32"] },
    FieldDef { name: "last_chk", desc: "Short description of the latest health check report for this server (see also check_desc)", tags: ["", "", "MOP:str"] },
    FieldDef { name: "last_agt", desc: "Short description of the latest agent check report for this server (see also agent_desc)", tags: ["", "", ""] },
    FieldDef { name: "qtime", desc: "Time spent in the queue, in milliseconds, averaged over the 1024 last requests (backend/server)", tags: ["", "MaP:u32", "MaP:u32"] },
    FieldDef { name: "ctime", desc: "Time spent waiting for a connection to complete, in milliseconds, averaged over the 1024 last requests (backend/server)", tags: ["", "MaP:u32", "MaP:u32"] },
    FieldDef { name: "rtime", desc: "Time spent waiting for a server response, in milliseconds, averaged over the 1024 last requests (backend/server)", tags: ["", "MaP:u32", "MaP:u32"] },
    FieldDef { name: "ttime", desc: "Total request+response time (request+queue+connect+response+processing), in milliseconds, averaged over the 1024 last requests (backend/server)", tags: ["", "MaP:u32", "MaP:u32"] },
    FieldDef { name: "agent_status", desc: "Status report of the server's latest agent check, prefixed with '*' if a check is currently in progress", tags: ["", "", ""] },
    FieldDef { name: "agent_code", desc: "Status code reported by the latest server agent check", tags: ["", "", ""] },
    FieldDef { name: "agent_duration", desc: "Total duration of the latest server agent check, in milliseconds", tags: ["", "", ""] },
    FieldDef { name: "check_desc", desc: "Textual description of the latest health check report for this server", tags: ["", "", "MOP:str"] },
    FieldDef { name: "agent_desc", desc: "Textual description of the latest agent check report for this server", tags: ["", "", ""] },
    FieldDef { name: "check_rise", desc: "Number of successful health checks before declaring a server UP (server 'rise' setting)", tags: ["", "", "CGS:u32"] },
    FieldDef { name: "check_fall", desc: "Number of failed health checks before declaring a server DOWN (server 'fall' setting)", tags: ["", "", "CGS:u32"] },
    FieldDef { name: "check_health", desc: "Current server health check level (0..fall-1=DOWN, fall..rise-1=UP)", tags: ["", "", "CGS:u32"] },
    FieldDef { name: "agent_rise", desc: "Number of successful agent checks before declaring a server UP (server 'rise' setting)", tags: ["", "", ""] },
    FieldDef { name: "agent_fall", desc: "Number of failed agent checks before declaring a server DOWN (server 'fall' setting)", tags: ["", "", ""] },
    FieldDef { name: "agent_health", desc: "Current server agent check level (0..fall-1=DOWN, fall..rise-1=UP)", tags: ["", "", ""] },
    FieldDef { name: "addr", desc: "Server's address:port, shown only if show-legends is set, or at levels oper/admin for the CLI", tags: ["", "", "CGS:str"] },
    FieldDef { name: "cookie", desc: "Backend's cookie name or Server's cookie value, shown only if show-legends is set, or at levels oper/admin for the CLI", tags: ["", "", ""] },
    FieldDef { name: "mode", desc: "'mode' setting (tcp/http/health/cli)", tags: ["CGS:str", "CGS:str", "CGS:str"] },
    FieldDef { name: "algo", desc: "Backend's load balancing algorithm, shown only if show-legends is set, or at levels oper/admin for the CLI", tags: ["", "CGS:str", ""] },
    FieldDef { name: "conn_rate", desc: "Number of new connections accepted over the last second on the frontend for this worker process", tags: ["MRP:u32", "", ""] },
    FieldDef { name: "conn_rate_max", desc: "Highest value of connections per second observed since the worker process started", tags: ["MMP:u32", "", ""] },
    FieldDef { name: "conn_tot", desc: "Total number of new connections accepted on this frontend since the worker process started", tags: ["MCP:u64", "", ""] },
    FieldDef { name: "intercepted", desc: "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started", tags: ["MCP:u64", "", ""] },
    FieldDef { name: "dcon", desc: "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started", tags: ["MCP:u64", "", ""] },
    FieldDef { name: "dses", desc: "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started", tags: ["MCP:u64", "", ""] },
    FieldDef { name: "wrew", desc: "Total number of failed HTTP header rewrites since the worker process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "connect", desc: "Total number of outgoing connection attempts on this backend/server since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "reuse", desc: "Total number of reused connection on this backend/server since the worker process started", tags: ["", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "cache_lookups", desc: "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "cache_hits", desc: "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "srv_icur", desc: "Current number of idle connections available for reuse on this server", tags: ["", "", "MGP:u32"] },
    FieldDef { name: "src_ilim", desc: "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)", tags: ["", "", ""] },
    FieldDef { name: "qtime_max", desc: "Maximum observed time spent in the queue, in milliseconds (backend/server)", tags: ["", "MMP:u32", "MMP:u32"] },
    FieldDef { name: "ctime_max", desc: "Maximum observed time spent waiting for a connection to complete, in milliseconds (backend/server)", tags: ["", "MMP:u32", "MMP:u32"] },
    FieldDef { name: "rtime_max", desc: "Maximum observed time spent waiting for a server response, in milliseconds (backend/server)", tags: ["", "MMP:u32", "MMP:u32"] },
    FieldDef { name: "ttime_max", desc: "Maximum observed total request+response time (request+queue+connect+response+processing), in milliseconds (backend/server)", tags: ["", "MMP:u32", "MMP:u32"] },
    FieldDef { name: "eint", desc: "Total number of internal errors since process started", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "idle_conn_cur", desc: "Current number of unsafe idle connections", tags: ["", "", "MGP:u32"] },
    FieldDef { name: "safe_conn_cur", desc: "Current number of safe idle connections", tags: ["", "", "MGP:u32"] },
    FieldDef { name: "used_conn_cur", desc: "Current number of connections in use", tags: ["", "", "MGP:u32"] },
    FieldDef { name: "need_conn_est", desc: "Estimated needed number of connections", tags: ["", "", "MGP:u32"] },
    FieldDef { name: "uweight", desc: "Server's user weight, or sum of active servers' user weights for a backend", tags: ["", "MaP:u32", "MaP:u32"] },
    FieldDef { name: "agg_server_status", desc: "Backend's aggregated gauge of servers' status", tags: ["", "MGP:u32", ""] },
    FieldDef { name: "agg_server_check_status", desc: "Backend's aggregated gauge of servers' state check status", tags: ["", "MGP:u32", ""] },
    FieldDef { name: "agg_check_status", desc: "Backend's aggregated gauge of servers' state check status", tags: ["", "MGP:u32", ""] },
    FieldDef { name: "-", desc: "separator between HAProxy fields and stats modules fields", tags: ["", "", ""] },
    FieldDef { name: "ssl_sess", desc: "Total number of ssl sessions established", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "ssl_reused_sess", desc: "Total number of ssl sessions reused", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "ssl_failed_handshake", desc: "Total number of failed handshake", tags: ["MCP:u64", "MCP:u64", "MCP:u64"] },
    FieldDef { name: "h2_headers_rcvd", desc: "Total number of received HEADERS frames", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_data_rcvd", desc: "Total number of received DATA frames", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_settings_rcvd", desc: "Total number of received SETTINGS frames", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_rst_stream_rcvd", desc: "Total number of received RST_STREAM frames", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_goaway_rcvd", desc: "Total number of received GOAWAY frames", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_detected_conn_protocol_errors", desc: "Total number of connection protocol errors", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_detected_strm_protocol_errors", desc: "Total number of stream protocol errors", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_rst_stream_resp", desc: "Total number of RST_STREAM sent on detected error", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_goaway_resp", desc: "Total number of GOAWAY sent on detected error", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_open_connections", desc: "Count of currently open connections", tags: ["MGP:u64", "MGP:u64", ""] },
    FieldDef { name: "h2_backend_open_streams", desc: "Count of currently open streams", tags: ["MGP:u64", "MGP:u64", ""] },
    FieldDef { name: "h2_total_connections", desc: "Total number of connections", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h2_backend_total_streams", desc: "Total number of streams", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h1_open_connections", desc: "Count of currently open connections", tags: ["MGP:u64", "MGP:u64", ""] },
    FieldDef { name: "h1_open_streams", desc: "Count of currently open streams", tags: ["MGP:u64", "MGP:u64", ""] },
    FieldDef { name: "h1_total_connections", desc: "Total number of connections", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h1_total_streams", desc: "Total number of streams", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h1_bytes_in", desc: "Total number of bytes received", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h1_bytes_out", desc: "Total number of bytes send", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h1_spliced_bytes_in", desc: "Total number of bytes received using kernel splicing", tags: ["MCP:u64", "MCP:u64", ""] },
    FieldDef { name: "h1_spliced_bytes_out", desc: "Total number of bytes sendusing kernel splicing", tags: ["MCP:u64", "MCP:u64", ""] },
];

/// Column positions in [`FIELDS`], by name.
pub mod col {
    /// `pxname`.
    pub const PXNAME: usize = 0;
    /// `svname`.
    pub const SVNAME: usize = 1;
    /// `qcur`.
    pub const QCUR: usize = 2;
    /// `qmax`.
    pub const QMAX: usize = 3;
    /// `scur`.
    pub const SCUR: usize = 4;
    /// `smax`.
    pub const SMAX: usize = 5;
    /// `slim`.
    pub const SLIM: usize = 6;
    /// `stot`.
    pub const STOT: usize = 7;
    /// `bin`.
    pub const BIN: usize = 8;
    /// `bout`.
    pub const BOUT: usize = 9;
    /// `dreq`.
    pub const DREQ: usize = 10;
    /// `dresp`.
    pub const DRESP: usize = 11;
    /// `ereq`.
    pub const EREQ: usize = 12;
    /// `econ`.
    pub const ECON: usize = 13;
    /// `eresp`.
    pub const ERESP: usize = 14;
    /// `wretr`.
    pub const WRETR: usize = 15;
    /// `wredis`.
    pub const WREDIS: usize = 16;
    /// `status`.
    pub const STATUS: usize = 17;
    /// `weight`.
    pub const WEIGHT: usize = 18;
    /// `act`.
    pub const ACT: usize = 19;
    /// `bck`.
    pub const BCK: usize = 20;
    /// `chkfail`.
    pub const CHKFAIL: usize = 21;
    /// `chkdown`.
    pub const CHKDOWN: usize = 22;
    /// `lastchg`.
    pub const LASTCHG: usize = 23;
    /// `downtime`.
    pub const DOWNTIME: usize = 24;
    /// `qlimit`.
    pub const QLIMIT: usize = 25;
    /// `pid`.
    pub const PID: usize = 26;
    /// `iid`.
    pub const IID: usize = 27;
    /// `sid`.
    pub const SID: usize = 28;
    /// `throttle`.
    pub const THROTTLE: usize = 29;
    /// `lbtot`.
    pub const LBTOT: usize = 30;
    /// `tracked`.
    pub const TRACKED: usize = 31;
    /// `type`.
    pub const TYPE: usize = 32;
    /// `rate`.
    pub const RATE: usize = 33;
    /// `rate_lim`.
    pub const RATE_LIM: usize = 34;
    /// `rate_max`.
    pub const RATE_MAX: usize = 35;
    /// `check_status`.
    pub const CHECK_STATUS: usize = 36;
    /// `check_code`.
    pub const CHECK_CODE: usize = 37;
    /// `check_duration`.
    pub const CHECK_DURATION: usize = 38;
    /// `hrsp_1xx`.
    pub const HRSP_1XX: usize = 39;
    /// `hrsp_2xx`.
    pub const HRSP_2XX: usize = 40;
    /// `hrsp_3xx`.
    pub const HRSP_3XX: usize = 41;
    /// `hrsp_4xx`.
    pub const HRSP_4XX: usize = 42;
    /// `hrsp_5xx`.
    pub const HRSP_5XX: usize = 43;
    /// `hrsp_other`.
    pub const HRSP_OTHER: usize = 44;
    /// `hanafail`.
    pub const HANAFAIL: usize = 45;
    /// `req_rate`.
    pub const REQ_RATE: usize = 46;
    /// `req_rate_max`.
    pub const REQ_RATE_MAX: usize = 47;
    /// `req_tot`.
    pub const REQ_TOT: usize = 48;
    /// `cli_abrt`.
    pub const CLI_ABRT: usize = 49;
    /// `srv_abrt`.
    pub const SRV_ABRT: usize = 50;
    /// `comp_in`.
    pub const COMP_IN: usize = 51;
    /// `comp_out`.
    pub const COMP_OUT: usize = 52;
    /// `comp_byp`.
    pub const COMP_BYP: usize = 53;
    /// `comp_rsp`.
    pub const COMP_RSP: usize = 54;
    /// `lastsess`.
    pub const LASTSESS: usize = 55;
    /// `last_chk`.
    pub const LAST_CHK: usize = 56;
    /// `last_agt`.
    pub const LAST_AGT: usize = 57;
    /// `qtime`.
    pub const QTIME: usize = 58;
    /// `ctime`.
    pub const CTIME: usize = 59;
    /// `rtime`.
    pub const RTIME: usize = 60;
    /// `ttime`.
    pub const TTIME: usize = 61;
    /// `agent_status`.
    pub const AGENT_STATUS: usize = 62;
    /// `agent_code`.
    pub const AGENT_CODE: usize = 63;
    /// `agent_duration`.
    pub const AGENT_DURATION: usize = 64;
    /// `check_desc`.
    pub const CHECK_DESC: usize = 65;
    /// `agent_desc`.
    pub const AGENT_DESC: usize = 66;
    /// `check_rise`.
    pub const CHECK_RISE: usize = 67;
    /// `check_fall`.
    pub const CHECK_FALL: usize = 68;
    /// `check_health`.
    pub const CHECK_HEALTH: usize = 69;
    /// `agent_rise`.
    pub const AGENT_RISE: usize = 70;
    /// `agent_fall`.
    pub const AGENT_FALL: usize = 71;
    /// `agent_health`.
    pub const AGENT_HEALTH: usize = 72;
    /// `addr`.
    pub const ADDR: usize = 73;
    /// `cookie`.
    pub const COOKIE: usize = 74;
    /// `mode`.
    pub const MODE: usize = 75;
    /// `algo`.
    pub const ALGO: usize = 76;
    /// `conn_rate`.
    pub const CONN_RATE: usize = 77;
    /// `conn_rate_max`.
    pub const CONN_RATE_MAX: usize = 78;
    /// `conn_tot`.
    pub const CONN_TOT: usize = 79;
    /// `intercepted`.
    pub const INTERCEPTED: usize = 80;
    /// `dcon`.
    pub const DCON: usize = 81;
    /// `dses`.
    pub const DSES: usize = 82;
    /// `wrew`.
    pub const WREW: usize = 83;
    /// `connect`.
    pub const CONNECT: usize = 84;
    /// `reuse`.
    pub const REUSE: usize = 85;
    /// `cache_lookups`.
    pub const CACHE_LOOKUPS: usize = 86;
    /// `cache_hits`.
    pub const CACHE_HITS: usize = 87;
    /// `srv_icur`.
    pub const SRV_ICUR: usize = 88;
    /// `src_ilim`.
    pub const SRC_ILIM: usize = 89;
    /// `qtime_max`.
    pub const QTIME_MAX: usize = 90;
    /// `ctime_max`.
    pub const CTIME_MAX: usize = 91;
    /// `rtime_max`.
    pub const RTIME_MAX: usize = 92;
    /// `ttime_max`.
    pub const TTIME_MAX: usize = 93;
    /// `eint`.
    pub const EINT: usize = 94;
    /// `idle_conn_cur`.
    pub const IDLE_CONN_CUR: usize = 95;
    /// `safe_conn_cur`.
    pub const SAFE_CONN_CUR: usize = 96;
    /// `used_conn_cur`.
    pub const USED_CONN_CUR: usize = 97;
    /// `need_conn_est`.
    pub const NEED_CONN_EST: usize = 98;
    /// `uweight`.
    pub const UWEIGHT: usize = 99;
    /// `agg_server_status`.
    pub const AGG_SERVER_STATUS: usize = 100;
    /// `agg_server_check_status`.
    pub const AGG_SERVER_CHECK_STATUS: usize = 101;
    /// `agg_check_status`.
    pub const AGG_CHECK_STATUS: usize = 102;
    /// `ssl_sess`.
    pub const SSL_SESS: usize = 104;
    /// `ssl_reused_sess`.
    pub const SSL_REUSED_SESS: usize = 105;
    /// `ssl_failed_handshake`.
    pub const SSL_FAILED_HANDSHAKE: usize = 106;
    /// `h2_headers_rcvd`.
    pub const H2_HEADERS_RCVD: usize = 107;
    /// `h2_data_rcvd`.
    pub const H2_DATA_RCVD: usize = 108;
    /// `h2_settings_rcvd`.
    pub const H2_SETTINGS_RCVD: usize = 109;
    /// `h2_rst_stream_rcvd`.
    pub const H2_RST_STREAM_RCVD: usize = 110;
    /// `h2_goaway_rcvd`.
    pub const H2_GOAWAY_RCVD: usize = 111;
    /// `h2_detected_conn_protocol_errors`.
    pub const H2_DETECTED_CONN_PROTOCOL_ERRORS: usize = 112;
    /// `h2_detected_strm_protocol_errors`.
    pub const H2_DETECTED_STRM_PROTOCOL_ERRORS: usize = 113;
    /// `h2_rst_stream_resp`.
    pub const H2_RST_STREAM_RESP: usize = 114;
    /// `h2_goaway_resp`.
    pub const H2_GOAWAY_RESP: usize = 115;
    /// `h2_open_connections`.
    pub const H2_OPEN_CONNECTIONS: usize = 116;
    /// `h2_backend_open_streams`.
    pub const H2_BACKEND_OPEN_STREAMS: usize = 117;
    /// `h2_total_connections`.
    pub const H2_TOTAL_CONNECTIONS: usize = 118;
    /// `h2_backend_total_streams`.
    pub const H2_BACKEND_TOTAL_STREAMS: usize = 119;
    /// `h1_open_connections`.
    pub const H1_OPEN_CONNECTIONS: usize = 120;
    /// `h1_open_streams`.
    pub const H1_OPEN_STREAMS: usize = 121;
    /// `h1_total_connections`.
    pub const H1_TOTAL_CONNECTIONS: usize = 122;
    /// `h1_total_streams`.
    pub const H1_TOTAL_STREAMS: usize = 123;
    /// `h1_bytes_in`.
    pub const H1_BYTES_IN: usize = 124;
    /// `h1_bytes_out`.
    pub const H1_BYTES_OUT: usize = 125;
    /// `h1_spliced_bytes_in`.
    pub const H1_SPLICED_BYTES_IN: usize = 126;
    /// `h1_spliced_bytes_out`.
    pub const H1_SPLICED_BYTES_OUT: usize = 127;
}
