//! HAProxy 2.6's `show info` fields, in the order HAProxy 2.6.12 prints them: name,
//! description (`info_fields` in haproxy's src/stats.c), tags and type as `show info
//! typed` prints them, and the `haproxy_process_*` metric the Prometheus exporter makes
//! of it (addons/promex/service-prometheus.c). `ZlibMemUsage` and `MaxZlibMemUsage` are
//! empty, as in HAProxy builds without zlib (Debian's).

/// One `show info` field.
#[derive(Debug)]
pub struct InfoDef {
    /// The name (`Uptime_sec`).
    pub name: &'static str,
    /// HAProxy's description (Prometheus help).
    pub desc: &'static str,
    /// Its position (`show info typed`, JSON `field.pos`).
    pub pos: u32,
    /// `ONS:type`, as `show info typed` prints them.
    pub tags: &'static str,
    /// The Prometheus metric (after `haproxy_process_`) and whether it is a counter;
    /// empty when the exporter skips the field.
    pub prom: (&'static str, bool),
}

/// Every `show info` field, in order.
#[rustfmt::skip]
pub static INFO: &[InfoDef] = &[
    InfoDef { name: "Name", pos: 0, desc: "Product name", tags: "POS:str", prom: ("", false) },
    InfoDef { name: "Version", pos: 1, desc: "Product version", tags: "POS:str", prom: ("", false) },
    InfoDef { name: "Release_date", pos: 2, desc: "Date of latest source code update", tags: "POS:str", prom: ("", false) },
    InfoDef { name: "Nbthread", pos: 3, desc: "Number of started threads (global.nbthread)", tags: "CGS:u32", prom: ("nbthread", false) },
    InfoDef { name: "Nbproc", pos: 4, desc: "Number of started worker processes (historical, always 1)", tags: "CGS:u32", prom: ("nbproc", false) },
    InfoDef { name: "Process_num", pos: 5, desc: "Relative worker process number (1)", tags: "KGP:u32", prom: ("relative_process_id", false) },
    InfoDef { name: "Pid", pos: 6, desc: "This worker process identifier for the system", tags: "SGP:u32", prom: ("", false) },
    InfoDef { name: "Uptime", pos: 7, desc: "How long ago this worker process was started (days+hours+minutes+seconds)", tags: "MDP:str", prom: ("", false) },
    InfoDef { name: "Uptime_sec", pos: 8, desc: "How long ago this worker process was started (seconds)", tags: "MDP:u32", prom: ("uptime_seconds", false) },
    InfoDef { name: "Memmax_MB", pos: 9, desc: "Worker process's hard limit on memory usage in MB (-m on command line)", tags: "CLP:u32", prom: ("", false) },
    InfoDef { name: "PoolAlloc_MB", pos: 10, desc: "Amount of memory allocated in pools (in MB)", tags: "MGP:u32", prom: ("", false) },
    InfoDef { name: "PoolUsed_MB", pos: 11, desc: "Amount of pool memory currently used (in MB)", tags: "MGP:u32", prom: ("", false) },
    InfoDef { name: "PoolFailed", pos: 12, desc: "Number of failed pool allocations since this worker was started", tags: "MCP:u32", prom: ("pool_failures_total", true) },
    InfoDef { name: "Ulimit-n", pos: 13, desc: "Hard limit on the number of per-process file descriptors", tags: "CLP:u32", prom: ("max_fds", false) },
    InfoDef { name: "Maxsock", pos: 14, desc: "Hard limit on the number of per-process sockets", tags: "CLP:u32", prom: ("max_sockets", false) },
    InfoDef { name: "Maxconn", pos: 15, desc: "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)", tags: "CLP:u32", prom: ("max_connections", false) },
    InfoDef { name: "Hard_maxconn", pos: 16, desc: "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)", tags: "CLP:u32", prom: ("hard_max_connections", false) },
    InfoDef { name: "CurrConns", pos: 17, desc: "Current number of connections on this worker process", tags: "MGP:u32", prom: ("current_connections", false) },
    InfoDef { name: "CumConns", pos: 18, desc: "Total number of connections on this worker process since started", tags: "MCP:u32", prom: ("connections_total", true) },
    InfoDef { name: "CumReq", pos: 19, desc: "Total number of requests on this worker process since started", tags: "MCP:u32", prom: ("requests_total", true) },
    InfoDef { name: "MaxSslConns", pos: 20, desc: "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited", tags: "MMP:u32", prom: ("max_ssl_connections", false) },
    InfoDef { name: "CurrSslConns", pos: 21, desc: "Current number of SSL endpoints on this worker process (front+back)", tags: "MGP:u32", prom: ("current_ssl_connections", false) },
    InfoDef { name: "CumSslConns", pos: 22, desc: "Total number of SSL endpoints on this worker process since started (front+back)", tags: "MCP:u32", prom: ("ssl_connections_total", true) },
    InfoDef { name: "Maxpipes", pos: 23, desc: "Hard limit on the number of pipes for splicing, 0=unlimited", tags: "CLP:u32", prom: ("max_pipes", false) },
    InfoDef { name: "PipesUsed", pos: 24, desc: "Current number of pipes in use in this worker process", tags: "MGP:u32", prom: ("pipes_used_total", true) },
    InfoDef { name: "PipesFree", pos: 25, desc: "Current number of allocated and available pipes in this worker process", tags: "MGP:u32", prom: ("pipes_free_total", true) },
    InfoDef { name: "ConnRate", pos: 26, desc: "Number of front connections created on this worker process over the last second", tags: "MRP:u32", prom: ("current_connection_rate", false) },
    InfoDef { name: "ConnRateLimit", pos: 27, desc: "Hard limit for ConnRate (global.maxconnrate)", tags: "CLP:u32", prom: ("limit_connection_rate", false) },
    InfoDef { name: "MaxConnRate", pos: 28, desc: "Highest ConnRate reached on this worker process since started (in connections per second)", tags: "MMP:u32", prom: ("max_connection_rate", false) },
    InfoDef { name: "SessRate", pos: 29, desc: "Number of sessions created on this worker process over the last second", tags: "MRP:u32", prom: ("current_session_rate", false) },
    InfoDef { name: "SessRateLimit", pos: 30, desc: "Hard limit for SessRate (global.maxsessrate)", tags: "CLP:u32", prom: ("limit_session_rate", false) },
    InfoDef { name: "MaxSessRate", pos: 31, desc: "Highest SessRate reached on this worker process since started (in sessions per second)", tags: "MRP:u32", prom: ("max_session_rate", false) },
    InfoDef { name: "SslRate", pos: 32, desc: "Number of SSL connections created on this worker process over the last second", tags: "MRP:u32", prom: ("current_ssl_rate", false) },
    InfoDef { name: "SslRateLimit", pos: 33, desc: "Hard limit for SslRate (global.maxsslrate)", tags: "CLP:u32", prom: ("limit_ssl_rate", false) },
    InfoDef { name: "MaxSslRate", pos: 34, desc: "Highest SslRate reached on this worker process since started (in connections per second)", tags: "MMP:u32", prom: ("max_ssl_rate", false) },
    InfoDef { name: "SslFrontendKeyRate", pos: 35, desc: "Number of SSL keys created on frontends in this worker process over the last second", tags: "MGP:u32", prom: ("current_frontend_ssl_key_rate", false) },
    InfoDef { name: "SslFrontendMaxKeyRate", pos: 36, desc: "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)", tags: "MMP:u32", prom: ("max_frontend_ssl_key_rate", false) },
    InfoDef { name: "SslFrontendSessionReuse_pct", pos: 37, desc: "Percent of frontend SSL connections which did not require a new key", tags: "MGP:u32", prom: ("frontend_ssl_reuse", false) },
    InfoDef { name: "SslBackendKeyRate", pos: 38, desc: "Number of SSL keys created on backends in this worker process over the last second", tags: "MRP:u32", prom: ("current_backend_ssl_key_rate", false) },
    InfoDef { name: "SslBackendMaxKeyRate", pos: 39, desc: "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)", tags: "MMP:u32", prom: ("max_backend_ssl_key_rate", false) },
    InfoDef { name: "SslCacheLookups", pos: 40, desc: "Total number of SSL session ID lookups in the SSL session cache on this worker since started", tags: "MCP:u32", prom: ("ssl_cache_lookups_total", true) },
    InfoDef { name: "SslCacheMisses", pos: 41, desc: "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started", tags: "MCP:u32", prom: ("ssl_cache_misses_total", true) },
    InfoDef { name: "CompressBpsIn", pos: 42, desc: "Number of bytes submitted to the HTTP compressor in this worker process over the last second", tags: "MRP:u32", prom: ("http_comp_bytes_in_total", true) },
    InfoDef { name: "CompressBpsOut", pos: 43, desc: "Number of bytes emitted by the HTTP compressor in this worker process over the last second", tags: "MRP:u32", prom: ("http_comp_bytes_out_total", true) },
    InfoDef { name: "CompressBpsRateLim", pos: 44, desc: "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled", tags: "CLP:u32", prom: ("limit_http_comp", false) },
    InfoDef { name: "ZlibMemUsage", pos: 45, desc: "Amount of memory currently used by HTTP compression on the current worker process (in bytes)", tags: "MGP:u32", prom: ("current_zlib_memory", false) },
    InfoDef { name: "MaxZlibMemUsage", pos: 46, desc: "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)", tags: "CLP:u32", prom: ("max_zlib_memory", false) },
    InfoDef { name: "Tasks", pos: 47, desc: "Total number of tasks in the current worker process (active + sleeping)", tags: "MGP:u32", prom: ("current_tasks", false) },
    InfoDef { name: "Run_queue", pos: 48, desc: "Total number of active tasks+tasklets in the current worker process", tags: "MGP:u32", prom: ("current_run_queue", false) },
    InfoDef { name: "Idle_pct", pos: 49, desc: "Percentage of last second spent waiting in the current worker thread", tags: "MaP:u32", prom: ("idle_time_percent", false) },
    InfoDef { name: "node", pos: 50, desc: "Node name (global.node)", tags: "COS:str", prom: ("", false) },
    InfoDef { name: "description", pos: 51, desc: "Node description (global.description)", tags: "CGS:str", prom: ("", false) },
    InfoDef { name: "Stopping", pos: 52, desc: "1 if the worker process is currently stopping, otherwise zero", tags: "MGP:u32", prom: ("stopping", false) },
    InfoDef { name: "Jobs", pos: 53, desc: "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)", tags: "MGP:u32", prom: ("jobs", false) },
    InfoDef { name: "Unstoppable Jobs", pos: 54, desc: "Current number of unstoppable jobs on the current worker process (master connections)", tags: "MGP:u32", prom: ("unstoppable_jobs", false) },
    InfoDef { name: "Listeners", pos: 55, desc: "Current number of active listeners on the current worker process", tags: "MGP:u32", prom: ("listeners", false) },
    InfoDef { name: "ActivePeers", pos: 56, desc: "Current number of verified active peers connections on the current worker process", tags: "MGP:u32", prom: ("active_peers", false) },
    InfoDef { name: "ConnectedPeers", pos: 57, desc: "Current number of peers having passed the connection step on the current worker process", tags: "MGP:u32", prom: ("connected_peers", false) },
    InfoDef { name: "DroppedLogs", pos: 58, desc: "Total number of dropped logs for current worker process since started", tags: "MGP:u32", prom: ("dropped_logs_total", true) },
    InfoDef { name: "BusyPolling", pos: 59, desc: "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)", tags: "MGP:u32", prom: ("busy_polling_enabled", false) },
    InfoDef { name: "FailedResolutions", pos: 60, desc: "Total number of failed DNS resolutions in current worker process since started", tags: "MGP:u32", prom: ("failed_resolutions", true) },
    InfoDef { name: "TotalBytesOut", pos: 61, desc: "Total number of bytes emitted by current worker process since started", tags: "MGP:u64", prom: ("bytes_out_total", true) },
    InfoDef { name: "TotalSplicdedBytesOut", pos: 62, desc: "Total number of bytes emitted by current worker process through a kernel pipe since started", tags: "MGP:u64", prom: ("spliced_bytes_out_total", true) },
    InfoDef { name: "BytesOutRate", pos: 63, desc: "Number of bytes emitted by current worker process over the last second", tags: "MRP:u64", prom: ("bytes_out_rate", false) },
    InfoDef { name: "DebugCommandsIssued", pos: 64, desc: "Number of debug commands issued on this process (anything > 0 is unsafe)", tags: "MGP:u32", prom: ("", false) },
    InfoDef { name: "CumRecvLogs", pos: 65, desc: "Total number of log messages received by log-forwarding listeners on this worker process since started", tags: "MCP:u32", prom: ("recv_logs_total", true) },
    InfoDef { name: "Build info", pos: 66, desc: "Build info", tags: "POS:str", prom: ("build_info", false) },
    InfoDef { name: "Memmax_bytes", pos: 67, desc: "Worker process's hard limit on memory usage in byes (-m on command line)", tags: "CLP:u32", prom: ("max_memory_bytes", false) },
    InfoDef { name: "PoolAlloc_bytes", pos: 68, desc: "Amount of memory allocated in pools (in bytes)", tags: "MGP:u64", prom: ("pool_allocated_bytes", false) },
    InfoDef { name: "PoolUsed_bytes", pos: 69, desc: "Amount of pool memory currently used (in bytes)", tags: "MGP:u64", prom: ("pool_used_bytes", false) },
    InfoDef { name: "Start_time_sec", pos: 70, desc: "Start time in seconds", tags: "MDP:u32", prom: ("start_time_seconds", false) },
    InfoDef { name: "Tainted", pos: 71, desc: "Experimental features used", tags: "SGP:str", prom: ("", false) },
];
