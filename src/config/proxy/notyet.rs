//! Real HAProxy 2.6 proxy keywords (section 4.1's matrix) that gatehouse does not
//! implement yet: they are refused with a message saying so, never ignored.

use crate::config::keyword::{BE, DEF, FE, LI, ProxyKeyword, not_yet};

/// The not-yet-supported proxy keywords.
pub static KEYWORDS: &[ProxyKeyword] = &[
    not_yet("backlog", DEF | FE | LI),
    not_yet("bind-process", DEF | FE | LI | BE),
    not_yet("capture cookie", FE | LI),
    not_yet("clitcpka-cnt", DEF | FE | LI),
    not_yet("clitcpka-idle", DEF | FE | LI),
    not_yet("clitcpka-intvl", DEF | FE | LI),
    not_yet("compression", DEF | FE | LI | BE),
    not_yet("disabled", DEF | FE | LI | BE),
    not_yet("dispatch", LI | BE),
    not_yet("email-alert from", DEF | FE | LI | BE),
    not_yet("email-alert level", DEF | FE | LI | BE),
    not_yet("email-alert mailers", DEF | FE | LI | BE),
    not_yet("email-alert myhostname", DEF | FE | LI | BE),
    not_yet("email-alert to", DEF | FE | LI | BE),
    not_yet("enabled", DEF | FE | LI | BE),
    not_yet("errorloc", DEF | FE | LI | BE),
    not_yet("errorloc302", DEF | FE | LI | BE),
    not_yet("errorloc303", DEF | FE | LI | BE),
    not_yet("error-log-format", DEF | FE | LI),
    not_yet("filter", FE | LI | BE),
    not_yet("fullconn", DEF | LI | BE),
    not_yet("http-send-name-header", DEF | LI | BE),
    not_yet("id", FE | LI | BE),
    not_yet("log-format-sd", DEF | FE | LI),
    not_yet("max-keep-alive-queue", DEF | LI | BE),
    not_yet("external-check command", DEF | LI | BE),
    not_yet("external-check path", DEF | LI | BE),
    not_yet("rate-limit sessions", DEF | FE | LI),
    not_yet("retry-on", DEF | LI | BE),
    not_yet("server-template", LI | BE),
    not_yet("source", DEF | LI | BE),
    not_yet("srvtcpka-cnt", DEF | LI | BE),
    not_yet("srvtcpka-idle", DEF | LI | BE),
    not_yet("srvtcpka-intvl", DEF | LI | BE),
    not_yet("use-fcgi-app", LI | BE),
    not_yet("use-server", LI | BE),
];
