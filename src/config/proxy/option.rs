//! `option …` flags and the health-check protocol options (`option httpchk`, `tcp-check`,
//! `mysql-check`, `pgsql-check`, `redis-check`, `smtpchk`, `ssl-hello-chk`).

use crate::config::diag::Diag;
use crate::config::keyword::{ALL, BACK, FRONT, ProxyCtx, ProxyKeyword, kw, max_args, not_yet};
use crate::config::model::{
    CheckKind, Config, ForwardFor, HttpConnMode, Options, PgsqlLogin, PgsqlRole, Proxy,
};
use crate::config::value::network;

fn flag(
    ctx: &mut ProxyCtx<'_>,
    words: &[String],
    slot: fn(&mut Options) -> &mut bool,
) -> Result<(), String> {
    if let Some(extra) = words.get(2) {
        return Err(format!(
            "'option {}' cannot handle unexpected argument '{extra}'.",
            words[1]
        ));
    }
    *slot(&mut ctx.proxy.options) = !ctx.negated;
    Ok(())
}

macro_rules! flag_kw {
    ($fname:ident, $field:ident) => {
        fn $fname(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
            flag(ctx, words, |o| &mut o.$field)
        }
    };
}

flag_kw!(tcplog, tcplog);
flag_kw!(dontlognull, dontlognull);
flag_kw!(dontlog_normal, dontlog_normal);
flag_kw!(logasap, logasap);
flag_kw!(log_separate_errors, log_separate_errors);
flag_kw!(abortonclose, abortonclose);
flag_kw!(allbackups, allbackups);
flag_kw!(log_health_checks, log_health_checks);
flag_kw!(http_buffer_request, http_buffer_request);
flag_kw!(tcpka, tcpka);
flag_kw!(clitcpka, clitcpka);
flag_kw!(srvtcpka, srvtcpka);
flag_kw!(nolinger, nolinger);

/// `[no] option tcp-smart-accept`: forced on or off; without it the frontend's mode
/// decides (on in HTTP mode), as in HAProxy.
fn tcp_smart_accept(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if let Some(extra) = words.get(2) {
        return Err(format!(
            "'option {}' cannot handle unexpected argument '{extra}'.",
            words[1]
        ));
    }
    ctx.proxy.options.tcp_smart_accept = Some(!ctx.negated);
    Ok(())
}

/// `option redispatch [<interval>]`. As HAProxy 2.6, the interval is read like C's
/// `atol` (a leading integer, 0 when there is none) and further words are ignored.
fn redispatch(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let o = &mut ctx.proxy.options;
    o.redispatch = !ctx.negated;
    o.redispatch_after = match (ctx.negated, words.get(2)) {
        (true, _) => 0,
        (false, None) => -1,
        (false, Some(w)) => atol(w),
    };
    Ok(())
}

/// C's `atol` truncated to an `int`: optional blanks and sign, then digits; 0 if none.
fn atol(w: &str) -> i32 {
    let t = w.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    (if neg { -v } else { v }) as i32
}

fn httplog(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let clf = match words.get(2).map(String::as_str) {
        None => false,
        Some("clf") => true,
        Some(x) => {
            return Err(format!(
                "'option httplog' cannot handle unexpected argument '{x}'."
            ));
        }
    };
    ctx.proxy.options.httplog = !ctx.negated;
    ctx.proxy.options.httplog_clf = clf && !ctx.negated;
    Ok(())
}

fn conn_mode(ctx: &mut ProxyCtx<'_>, words: &[String], mode: HttpConnMode) -> Result<(), String> {
    if let Some(extra) = words.get(2) {
        return Err(format!(
            "'option {}' cannot handle unexpected argument '{extra}'.",
            words[1]
        ));
    }
    ctx.proxy.options.http_conn_mode = if ctx.negated {
        HttpConnMode::KeepAlive
    } else {
        mode
    };
    Ok(())
}

fn http_keep_alive(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    conn_mode(ctx, words, HttpConnMode::KeepAlive)
}

fn http_server_close(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    conn_mode(ctx, words, HttpConnMode::ServerClose)
}

fn httpclose(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    conn_mode(ctx, words, HttpConnMode::Close)
}

fn forwardfor(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if ctx.negated {
        ctx.proxy.options.forwardfor = None;
        return Ok(());
    }
    let mut ff = ForwardFor {
        except: None,
        header: "X-Forwarded-For".into(),
        if_none: false,
    };
    let mut i = 2;
    while let Some(w) = words.get(i) {
        match w.as_str() {
            "except" => {
                let net = words
                    .get(i + 1)
                    .ok_or("'option forwardfor' : missing network after 'except'")?;
                ff.except = Some(network(net).map_err(|e| format!("'option forwardfor' : {e}"))?);
                i += 2;
            }
            "header" => {
                let h = words
                    .get(i + 1)
                    .ok_or("'option forwardfor' : missing header name after 'header'")?;
                ff.header = h.clone();
                i += 2;
            }
            "if-none" => {
                ff.if_none = true;
                i += 1;
            }
            x => {
                return Err(format!(
                    "'option forwardfor' only supports optional values 'except', 'header' and 'if-none' (got '{x}')."
                ));
            }
        }
    }
    ctx.proxy.options.forwardfor = Some(ff);
    Ok(())
}

fn originalto(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if ctx.negated {
        ctx.proxy.options.originalto = None;
        return Ok(());
    }
    let mut ot = ForwardFor {
        except: None,
        header: "X-Original-To".into(),
        if_none: false,
    };
    let mut i = 2;
    while let Some(w) = words.get(i) {
        let arg = words.get(i + 1);
        match w.as_str() {
            "except" => {
                let net =
                    arg.ok_or("'option originalto except' expects <address>[/mask] as argument.")?;
                ot.except = Some(network(net).map_err(|e| format!("'option originalto' : {e}"))?);
            }
            "header" => {
                ot.header = arg
                    .ok_or("'option originalto header' expects <header_name> as argument.")?
                    .clone();
            }
            _ => {
                return Err(
                    "'option originalto' only supports optional values: 'except' and 'header'."
                        .into(),
                );
            }
        }
        i += 2;
    }
    ctx.proxy.options.originalto = Some(ot);
    Ok(())
}

fn httpchk(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let args = &words[2..];
    let (method, uri, version) = match args.len() {
        0 => ("OPTIONS", "/", "HTTP/1.0"),
        1 => ("OPTIONS", args[0].as_str(), "HTTP/1.0"),
        2 => (args[0].as_str(), args[1].as_str(), "HTTP/1.0"),
        3 => (args[0].as_str(), args[1].as_str(), args[2].as_str()),
        _ => {
            return Err(format!(
                "'option httpchk' cannot handle unexpected argument '{}'.",
                args[3]
            ));
        }
    };
    ctx.proxy.check.kind = CheckKind::Http {
        method: method.into(),
        uri: uri.into(),
        version: version.into(),
    };
    Ok(())
}

fn tcp_check(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if let Some(extra) = words.get(2) {
        return Err(format!(
            "'option tcp-check' cannot handle unexpected argument '{extra}'."
        ));
    }
    ctx.proxy.check.kind = CheckKind::Tcp;
    Ok(())
}

fn mysql_check(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let mut user = None;
    let mut post41 = false;
    match words.get(2).map(String::as_str) {
        None => {}
        Some("user") => {
            user = Some(
                words
                    .get(3)
                    .ok_or("'option mysql-check user' expects a user name")?
                    .clone(),
            );
            max_args(words, 2, 3)?;
            match words.get(4).map(String::as_str) {
                // post-41 is the default (configuration.txt).
                Some("pre-41") => {}
                None | Some("post-41") => post41 = true,
                Some(x) => {
                    return Err(format!(
                        "'option mysql-check user <username>' only supports 'post-41' and 'pre-41' (got '{x}')."
                    ));
                }
            }
        }
        Some(x) => {
            return Err(format!(
                "'option mysql-check' only supports optional values: 'user' (got '{x}')."
            ));
        }
    }
    ctx.proxy.check.kind = CheckKind::Mysql { user, post41 };
    Ok(())
}

fn pgsql_check(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let user = match (words.get(2).map(String::as_str), words.get(3)) {
        (Some("user"), Some(u)) => u.clone(),
        _ => return Err("'option pgsql-check' expects 'user <username>' as argument.".into()),
    };
    // HAProxy's check when nothing follows; gatehouse's login with any of
    // `credentials`, `role`, `database`.
    let mut login = PgsqlLogin {
        credentials: None,
        role: PgsqlRole::Any,
        database: None,
        span: ctx.span.clone(),
    };
    let mut i = 4;
    while let Some(k) = words.get(i) {
        if !matches!(k.as_str(), "credentials" | "database" | "role") {
            // HAProxy's words for an argument after `user NAME`.
            return Err(format!(
                "'option pgsql-check' cannot handle unexpected argument '{k}'."
            ));
        }
        let v = words
            .get(i + 1)
            .ok_or_else(|| format!("'option pgsql-check' : '{k}' expects an argument."))?;
        match k.as_str() {
            "credentials" => login.credentials = Some(v.clone()),
            "database" => login.database = Some(v.clone()),
            "role" => {
                login.role = match v.as_str() {
                    "primary" => PgsqlRole::Primary,
                    "replica" => PgsqlRole::Replica,
                    "any" => PgsqlRole::Any,
                    x => {
                        return Err(format!(
                            "'option pgsql-check' : 'role' expects 'primary', 'replica' or 'any' (got '{x}')."
                        ));
                    }
                }
            }
            x => {
                return Err(format!(
                    "'option pgsql-check' only supports 'user', 'credentials', 'role' and 'database' (got '{x}')."
                ));
            }
        }
        i += 2;
    }
    ctx.proxy.check.kind = CheckKind::Pgsql {
        user,
        login: (words.len() > 4).then_some(login),
    };
    Ok(())
}

/// The post-parse check of `option pgsql-check … credentials NAME`: the section exists,
/// has a password, and its `user` is the check's (alerts at the option's line).
pub fn check_pgsql_credentials(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    let CheckKind::Pgsql {
        user,
        login: Some(login),
    } = &p.check.kind
    else {
        return;
    };
    let Some(name) = &login.credentials else {
        return;
    };
    let msg = match config.credentials(name) {
        None => format!(
            "{} '{}' : 'option pgsql-check' : unknown credentials '{name}'.",
            p.kind.keyword(),
            p.name
        ),
        Some(c) if c.password.is_none() => format!(
            "{} '{}' : 'option pgsql-check' : credentials '{name}' has no 'password'.",
            p.kind.keyword(),
            p.name
        ),
        Some(c) if c.user.as_deref().is_some_and(|u| u != user) => format!(
            "{} '{}' : 'option pgsql-check' : user '{user}' is not the user '{}' of credentials '{name}'.",
            p.kind.keyword(),
            p.name,
            c.user.as_deref().unwrap_or_default()
        ),
        Some(_) => return,
    };
    diags.push(Diag::alert(&login.span, msg));
}

fn redis_check(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if let Some(extra) = words.get(2) {
        return Err(format!(
            "'option redis-check' cannot handle unexpected argument '{extra}'."
        ));
    }
    ctx.proxy.check.kind = CheckKind::Redis;
    Ok(())
}

fn smtpchk(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let (verb, domain) = match (words.get(2), words.get(3)) {
        (Some(v), Some(d)) if v == "HELO" || v == "EHLO" => {
            max_args(words, 2, 2)?;
            (v.clone(), d.clone())
        }
        _ => ("HELO".to_string(), "localhost".to_string()),
    };
    ctx.proxy.check.kind = CheckKind::Smtp { verb, domain };
    Ok(())
}

fn ldap_check(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 2, 0)?;
    ctx.proxy.check.kind = CheckKind::Ldap;
    Ok(())
}

fn ssl_hello_chk(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 2, 0)?;
    ctx.proxy.check.kind = CheckKind::SslHello;
    Ok(())
}

/// The `option` keywords.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "option abortonclose",
        BACK,
        abortonclose,
        "abort a queued or connecting request when the client closes",
    ),
    not_yet("option accept-invalid-http-request", FRONT),
    not_yet("option accept-invalid-http-response", BACK),
    kw(
        "option allbackups",
        BACK,
        allbackups,
        "use all backup servers at once when all active servers are down",
    ),
    not_yet("option checkcache", BACK),
    kw(
        "option clitcpka",
        FRONT,
        clitcpka,
        "TCP keep-alive on the client side",
    ),
    not_yet("option contstats", FRONT),
    not_yet("option disable-h2-upgrade", FRONT),
    kw(
        "option dontlog-normal",
        FRONT,
        dontlog_normal,
        "log only errors and anomalies",
    ),
    kw(
        "option dontlognull",
        FRONT,
        dontlognull,
        "do not log connections that carried no data",
    ),
    kw(
        "option forwardfor",
        ALL,
        forwardfor,
        "add X-Forwarded-For with the client's address",
    ),
    not_yet("option h1-case-adjust-bogus-client", FRONT),
    not_yet("option h1-case-adjust-bogus-server", BACK),
    kw(
        "option http-buffer-request",
        ALL,
        http_buffer_request,
        "wait for the request body before balancing",
    ),
    not_yet("option http-ignore-probes", FRONT),
    kw(
        "option http-keep-alive",
        ALL,
        http_keep_alive,
        "keep-alive on both sides (default)",
    ),
    not_yet("option http-no-delay", ALL),
    not_yet("option http-pretend-keepalive", BACK),
    not_yet("option http-restrict-req-hdr-names", ALL),
    kw(
        "option http-server-close",
        ALL,
        http_server_close,
        "close the server connection after each response",
    ),
    not_yet("option http-use-proxy-header", FRONT),
    kw("option httpchk", BACK, httpchk, "HTTP health checks"),
    kw(
        "option httpclose",
        ALL,
        httpclose,
        "close both connections after each response",
    ),
    kw(
        "option httplog",
        FRONT,
        httplog,
        "HAProxy's HTTP log format",
    ),
    not_yet("option httpslog", FRONT),
    not_yet("option independent-streams", ALL),
    kw(
        "option ldap-check",
        BACK,
        ldap_check,
        "LDAPv3 health checks",
    ),
    not_yet("option external-check", BACK),
    kw(
        "option log-health-checks",
        BACK,
        log_health_checks,
        "log health check status changes in detail",
    ),
    kw(
        "option log-separate-errors",
        FRONT,
        log_separate_errors,
        "log errors at a higher level",
    ),
    kw(
        "option logasap",
        FRONT,
        logasap,
        "log as soon as the response headers (http) or the connection (tcp) are through",
    ),
    kw(
        "option mysql-check",
        BACK,
        mysql_check,
        "MySQL health checks",
    ),
    kw(
        "option nolinger",
        ALL,
        nolinger,
        "reset connections on close instead of lingering",
    ),
    kw(
        "option originalto",
        ALL,
        originalto,
        "add X-Original-To with the address the client connected to",
    ),
    kw(
        "option pgsql-check",
        BACK,
        pgsql_check,
        "PostgreSQL health checks",
    ),
    not_yet("option prefer-last-server", BACK),
    kw(
        "option redispatch",
        BACK,
        redispatch,
        "retry on another server after a failed connection",
    ),
    kw(
        "option redis-check",
        BACK,
        redis_check,
        "Redis health checks",
    ),
    kw("option smtpchk", BACK, smtpchk, "SMTP health checks"),
    not_yet("option socket-stats", FRONT),
    not_yet("option splice-auto", ALL),
    not_yet("option splice-request", ALL),
    not_yet("option splice-response", ALL),
    not_yet("option spop-check", BACK),
    kw(
        "option srvtcpka",
        BACK,
        srvtcpka,
        "TCP keep-alive on the server side",
    ),
    kw(
        "option ssl-hello-chk",
        BACK,
        ssl_hello_chk,
        "SSLv3 client hello health checks",
    ),
    kw(
        "option tcp-check",
        BACK,
        tcp_check,
        "health checks made of tcp-check rules",
    ),
    kw(
        "option tcp-smart-accept",
        FRONT,
        tcp_smart_accept,
        "no separate ACK of a request (TCP_QUICKACK off on the listener)",
    ),
    not_yet("option tcp-smart-connect", BACK),
    kw("option tcpka", ALL, tcpka, "TCP keep-alive on both sides"),
    kw("option tcplog", ALL, tcplog, "HAProxy's TCP log format"),
    not_yet("option transparent", BACK),
    not_yet("option idle-close-on-response", FRONT),
];

#[cfg(test)]
mod redispatch_tests {
    use super::atol;

    #[test]
    fn redispatch_interval_is_read_like_atol() {
        assert_eq!(atol("3"), 3);
        assert_eq!(atol("-2"), -2);
        assert_eq!(atol("+4x"), 4);
        assert_eq!(atol(" 7"), 7);
        assert_eq!(atol("abc"), 0);
        assert_eq!(atol(""), 0);
    }
}
