//! Logging: `log` targets (stdout/stderr, UDP syslog, unix sockets), syslog headers
//! (rfc3164, rfc5424, raw, …) and the `log-format` engine behind `option httplog`/`tcplog`.
//!
//! CONTRACT (implemented by the log helper): see `LogRecord`, `LogFormatSpec`, `Logger`.
