//! `server NAME ADDR [options]` and `default-server [options]`.

use crate::config::keyword::{BACK, BE, LI, ProxyCtx, ProxyKeyword, Status, kw};
use crate::config::model::{
    Mode, Observe, OnError, Server, ServerOpts, ServerProto, Verify, apply_version_option,
};
use crate::config::suggest::closest;
use crate::config::value::{duration, port, server_addr, uint};
use std::path::PathBuf;

/// Server options gatehouse parses: name, number of arguments and status. The `not yet`
/// ones (TLS, PROXY protocol) are parsed into the model and refused at load, since
/// ignoring them would change the bytes on the wire.
pub const OPTIONS: &[(&str, usize, Status)] = &[
    ("check", 0, CHECKS),
    ("no-check", 0, CHECKS),
    ("inter", 1, CHECKS),
    ("fastinter", 1, CHECKS),
    ("downinter", 1, CHECKS),
    ("rise", 1, CHECKS),
    ("fall", 1, CHECKS),
    ("port", 1, CHECKS),
    ("addr", 1, CHECKS),
    ("weight", 1, Status::Supported),
    ("backup", 0, Status::Supported),
    ("no-backup", 0, Status::Supported),
    ("disabled", 0, Status::Supported),
    ("enabled", 0, Status::Supported),
    ("maxconn", 1, Status::Supported),
    ("maxqueue", 1, Status::Supported),
    ("ssl", 0, Status::Supported),
    ("no-ssl", 0, Status::Supported),
    ("verify", 1, Status::Supported),
    ("ca-file", 1, Status::Supported),
    ("crl-file", 1, Status::Supported),
    ("sni", 1, Status::Supported),
    ("alpn", 1, Status::Supported),
    ("crt", 1, Status::Supported),
    ("no-ssl-reuse", 0, Status::Supported),
    ("ssl-reuse", 0, Status::Supported),
    ("verifyhost", 1, Status::Supported),
    ("no-verifyhost", 0, Status::Supported),
    ("ssl-min-ver", 1, Status::Supported),
    ("ssl-max-ver", 1, Status::Supported),
    ("force-tlsv12", 0, Status::Supported),
    ("force-tlsv13", 0, Status::Supported),
    ("no-sslv3", 0, Status::Supported),
    ("no-tlsv10", 0, Status::Supported),
    ("no-tlsv11", 0, Status::Supported),
    ("no-tlsv12", 0, Status::Supported),
    ("no-tlsv13", 0, Status::Supported),
    ("no-tls-tickets", 0, Status::Supported),
    ("ciphers", 1, Status::Supported),
    ("ciphersuites", 1, Status::Supported),
    ("curves", 1, Status::Supported),
    ("send-proxy", 0, Status::Supported),
    ("no-send-proxy", 0, Status::Supported),
    ("send-proxy-v2", 0, Status::Supported),
    ("no-send-proxy-v2", 0, Status::Supported),
    ("send-proxy-v2-ssl", 0, Status::Supported),
    ("no-send-proxy-v2-ssl", 0, Status::Supported),
    ("send-proxy-v2-ssl-cn", 0, Status::Supported),
    ("no-send-proxy-v2-ssl-cn", 0, Status::Supported),
    ("proxy-v2-options", 1, Status::Supported),
    ("cookie", 1, Status::Supported),
    ("check-ssl", 0, CHECKS),
    ("no-check-ssl", 0, CHECKS),
    ("check-sni", 1, CHECKS),
    ("check-alpn", 1, CHECKS),
    ("agent-check", 0, CHECKS),
    ("no-agent-check", 0, CHECKS),
    ("agent-port", 1, CHECKS),
    ("agent-inter", 1, CHECKS),
    ("agent-send", 1, CHECKS),
    ("agent-addr", 1, CHECKS),
    ("observe", 1, CHECKS),
    ("error-limit", 1, CHECKS),
    ("on-error", 1, CHECKS),
    ("proto", 1, Status::Supported),
    ("check-proto", 1, CHECKS),
    ("on-marked-down", 0, CHECKS),
    ("on-marked-up", 0, CHECKS),
];

/// The status of the health check options.
const CHECKS: Status = Status::Supported;

/// Real HAProxy server options gatehouse does not implement yet.
pub const NOT_YET: &[&str] = &[
    "allow-0rtt",
    "check-send-proxy",
    "check-via-socks4",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "id",
    "init-addr",
    "log-proto",
    "max-reuse",
    "maxconn-per-thread",
    "minconn",
    "namespace",
    "no-check-send-proxy",
    "no-tfo",
    "non-stick",
    "npn",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "set-proxy-v2-tlv-fmt",
    "shard",
    "slowstart",
    "socks4",
    "source",
    "stick",
    "tcp-ut",
    "tfo",
    "tls-tickets",
    "track",
    "usesrc",
    "ws",
];

/// Applies the options of a `server`/`default-server` line from word `start` on; the
/// options parsed without effect yet are appended to `inert`, for the caller's warning.
fn apply_opts(
    opts: &mut ServerOpts,
    words: &[String],
    start: usize,
    who: &str,
    mode: Mode,
    inert: &mut Vec<(&'static str, Status)>,
) -> Result<(), String> {
    let mut i = start;
    while let Some(opt) = words.get(i) {
        let Some(&(known, nargs, status)) = OPTIONS.iter().find(|(n, _, _)| n == opt) else {
            if NOT_YET.contains(&opt.as_str()) {
                return Err(format!(
                    "'{who}' : keyword '{opt}' is a HAProxy keyword that gatehouse does not support yet."
                ));
            }
            let all = OPTIONS
                .iter()
                .map(|(n, _, _)| *n)
                .chain(NOT_YET.iter().copied());
            let hint = closest(opt, all)
                .map(|c| format!("; did you mean '{c}' maybe ?"))
                .unwrap_or_default();
            return Err(format!("'{who}' : unknown keyword '{opt}'{hint}"));
        };
        let v = if nargs == 1 {
            words
                .get(i + 1)
                .ok_or_else(|| format!("'{who}' : '{opt}' expects an argument."))?
                .as_str()
        } else {
            ""
        };
        if status.warning(known).is_some() && !inert.iter().any(|(n, _)| *n == known) {
            inert.push((known, status));
        }
        match opt.as_str() {
            "check" => opts.check = true,
            "no-check" => opts.check = false,
            "inter" => opts.inter = nonzero(duration(v, "inter")?, who, opt)?,
            "fastinter" => opts.fastinter = Some(nonzero(duration(v, "fastinter")?, who, opt)?),
            "downinter" => opts.downinter = Some(nonzero(duration(v, "downinter")?, who, opt)?),
            "rise" => opts.rise = positive(v, who, opt)?,
            "fall" => opts.fall = positive(v, who, opt)?,
            "port" => opts.check_port = Some(port(v, false).map_err(|e| format!("'{who}' : {e}"))?),
            "addr" => {
                if !valid_host(v) {
                    return Err(format!(
                        "'{who}' : 'addr' : invalid address: '{v}' in '{v}'."
                    ));
                }
                opts.check_addr = Some(v.to_owned());
            }
            "weight" => {
                let w = uint(v, "weight").map_err(|e| format!("'{who}' : {e}"))?;
                if w > 256 {
                    let name = who.rsplit('/').next().unwrap_or(who);
                    return Err(format!(
                        "'{who}' : weight of server {name} is not within 0 and 256 ({w}).."
                    ));
                }
                opts.weight = w;
            }
            "backup" => opts.backup = true,
            "no-backup" => opts.backup = false,
            "disabled" => opts.disabled = true,
            "enabled" => opts.disabled = false,
            "maxconn" => opts.maxconn = uint(v, "maxconn").map_err(|e| format!("'{who}' : {e}"))?,
            "maxqueue" => {
                opts.maxqueue = uint(v, "maxqueue").map_err(|e| format!("'{who}' : {e}"))?
            }
            "ssl" => opts.tls.ssl = true,
            "no-ssl" => opts.tls.ssl = false,
            "verify" => {
                opts.tls.verify = Some(Verify::parse(v, false).ok_or_else(|| {
                    format!(
                        "'{who}' : unknown verify method '{v}', only 'none' and 'required' are supported."
                    )
                })?)
            }
            "ca-file" => opts.tls.ca_file = Some(PathBuf::from(v)),
            "crl-file" => opts.tls.crl_file = Some(PathBuf::from(v)),
            "sni" => opts.tls.sni = Some(v.to_owned()),
            "alpn" => opts.tls.alpn = Some(super::bind::alpn(v).map_err(|e| format!("'{who}' : {e}"))?),
            "crt" => opts.tls.crt = Some(PathBuf::from(v)),
            "no-ssl-reuse" => opts.tls.no_reuse = true,
            "ssl-reuse" => opts.tls.no_reuse = false,
            "verifyhost" => opts.tls.verifyhost = Some(v.to_owned()),
            "no-verifyhost" => opts.tls.verifyhost = None,
            "ciphers" => opts.tls.ciphers = Some(v.to_owned()),
            "ciphersuites" => opts.tls.ciphersuites = Some(v.to_owned()),
            "curves" => opts.tls.curves = Some(v.to_owned()),
            "send-proxy" => opts.send_proxy = true,
            "no-send-proxy" => opts.send_proxy = false,
            "send-proxy-v2" => opts.send_proxy_v2 = true,
            "no-send-proxy-v2" => opts.send_proxy_v2 = false,
            "send-proxy-v2-ssl" => {
                opts.send_proxy_v2 = true;
                opts.pp_v2.ssl = true;
            }
            "send-proxy-v2-ssl-cn" => {
                opts.send_proxy_v2 = true;
                opts.pp_v2.ssl = true;
                opts.pp_v2.cert_cn = true;
            }
            "no-send-proxy-v2-ssl" => {
                opts.send_proxy_v2 = false;
                opts.pp_v2.ssl = false;
            }
            "no-send-proxy-v2-ssl-cn" => {
                opts.send_proxy_v2 = false;
                opts.pp_v2.ssl = false;
                opts.pp_v2.cert_cn = false;
            }
            "proxy-v2-options" => opts.pp_v2.apply(v)?,
            "cookie" => opts.cookie = Some(v.to_owned()),
            "check-ssl" => opts.check_ssl = Some(true),
            "no-check-ssl" => opts.check_ssl = Some(false),
            "check-sni" => opts.check_sni = Some(v.to_owned()),
            "check-alpn" => {
                let protos: Vec<String> = v.split(',').map(str::to_owned).collect();
                if protos.iter().any(|p| p.is_empty() || p.len() > 255) {
                    return Err(format!("'{who}' : '{opt}' : invalid ALPN list '{v}'."));
                }
                opts.check_alpn = Some(protos);
            }
            "agent-check" => opts.agent_check = true,
            "no-agent-check" => opts.agent_check = false,
            "agent-port" => {
                opts.agent_port = Some(port(v, false).map_err(|e| format!("'{who}' : {e}"))?)
            }
            "agent-inter" => {
                opts.agent_inter = Some(nonzero(duration(v, "agent-inter")?, who, opt)?)
            }
            "agent-send" => opts.agent_send = Some(v.to_owned()),
            "agent-addr" => {
                if !valid_host(v) {
                    return Err(format!(
                        "'{who}' : parsing agent-addr failed. Check if '{v}' is correct address."
                    ));
                }
                opts.agent_addr = Some(v.to_owned());
            }
            "observe" => {
                opts.observe = match v {
                    "none" => None,
                    "layer4" => Some(Observe::Layer4),
                    "layer7" if mode != Mode::Http => {
                        return Err(format!(
                            "'{who}' : 'layer7' can only be used in http proxies."
                        ));
                    }
                    "layer7" => Some(Observe::Layer7),
                    _ => {
                        return Err(format!(
                            "'{who}' : '{opt}' expects one of 'none', 'layer4', 'layer7' but got '{v}'"
                        ));
                    }
                }
            }
            "error-limit" => match v.parse::<i64>() {
                Ok(n) if n > 0 && n <= i64::from(u32::MAX) => opts.error_limit = n as u32,
                _ => return Err(format!("'{who}' : {opt} has to be > 0.")),
            },
            // HAProxy reads the value even when it is missing ("but got ''").
            "on-marked-down" | "on-marked-up" => {
                let v = words.get(i + 1).map_or("", String::as_str);
                let (want, flag) = if opt == "on-marked-down" {
                    ("shutdown-sessions", &mut opts.on_marked_down_shutdown)
                } else {
                    ("shutdown-backup-sessions", &mut opts.on_marked_up_shutdown_backup)
                };
                if v != want {
                    return Err(format!("'{who}' : '{opt}' expects '{want}' but got '{v}'."));
                }
                *flag = true;
                i += 1;
            }
            "on-error" => {
                opts.on_error = match v {
                    "fastinter" => OnError::FastInter,
                    "fail-check" => OnError::FailCheck,
                    "sudden-death" => OnError::SuddenDeath,
                    "mark-down" => OnError::MarkDown,
                    _ => {
                        return Err(format!(
                            "'{who}' : '{opt}' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{v}'"
                        ));
                    }
                }
            }
            "proto" | "check-proto" => {
                let proto = Some(match v {
                    "h1" => ServerProto::H1,
                    "h2" => ServerProto::H2,
                    "none" => ServerProto::None,
                    "fcgi" => {
                        return Err(format!(
                            "'{who}' : '{opt}' : MUX protocol 'fcgi' is not supported yet by gatehouse."
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "'{who}' : '{opt}' :  unknown MUX protocol '{v}'."
                        ));
                    }
                });
                if opt == "proto" {
                    opts.proto = proto;
                } else {
                    opts.check_proto = proto;
                }
            }
            _ if apply_version_option(&mut opts.tls.versions, opt, v)
                .map_err(|e| format!("'{who}' : {e}"))? => {}
            _ => unreachable!("every supported option has an arm"),
        }
        i += 1 + nargs;
    }
    Ok(())
}

/// HAProxy's check of `proto` against the proxy's mode: `h1` and `h2` are HTTP
/// multiplexers, `none` the TCP one.
pub fn check_protos(p: &crate::config::model::Proxy, diags: &mut Vec<crate::config::diag::Diag>) {
    for s in &p.servers {
        let ok = match s.opts.proto {
            None => true,
            Some(ServerProto::H1 | ServerProto::H2) => p.mode == Mode::Http,
            Some(ServerProto::None) => p.mode == Mode::Tcp,
        };
        if !ok && let Some(proto) = s.opts.proto {
            diags.push(crate::config::diag::Diag::alert(
                &s.span,
                format!(
                    "backend '{}' : MUX protocol '{}' is not usable for server '{}'.",
                    p.name,
                    proto.name(),
                    s.name
                ),
            ));
        }
    }
}

fn nonzero(d: std::time::Duration, who: &str, opt: &str) -> Result<std::time::Duration, String> {
    if d.is_zero() {
        return Err(format!("'{who}' : '{opt}' expects a positive delay."));
    }
    Ok(d)
}

fn positive(v: &str, who: &str, opt: &str) -> Result<u32, String> {
    match uint(v, opt) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{who}' : '{opt}' has to be > 0.")),
    }
}

/// One warning per line for its options without effect yet, grouped by reason.
fn warn_inert(ctx: &mut ProxyCtx<'_>, who: &str, inert: &[(&'static str, Status)]) {
    let mut reasons: Vec<Status> = Vec::new();
    for (_, st) in inert {
        if !reasons.contains(st) {
            reasons.push(*st);
        }
    }
    for st in reasons {
        let names: Vec<String> = inert
            .iter()
            .filter(|(_, s)| *s == st)
            .map(|(n, _)| format!("'{n}'"))
            .collect();
        let why = match st {
            Status::Parsed(why) => why,
            _ => continue,
        };
        let (verb, effect) = if names.len() == 1 {
            ("is", "has")
        } else {
            ("are", "have")
        };
        ctx.warn(format!(
            "'{who}' : {} {verb} parsed but {effect} no effect yet in gatehouse: {why}.",
            names.join(", ")
        ));
    }
}

fn server(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if words.len() < 3 {
        return Err("'server' expects <name> and <addr>[:<port>] as arguments.".into());
    }
    let name = words[1].clone();
    let who = format!("server {}/{}", ctx.proxy.name, name);
    let addr = server_addr(&words[2]).map_err(|e| format!("'{who}' : {e}"))?;
    if let Some(prev) = ctx.proxy.servers.iter().find(|s| s.name == name) {
        return Err(format!(
            "{} '{}', another server named '{name}' was already defined at line {}, please use distinct names.",
            ctx.proxy.kind.keyword(),
            ctx.proxy.name,
            prev.span.line
        ));
    }
    let mut opts = ctx.proxy.default_server.clone();
    let mut inert = Vec::new();
    apply_opts(&mut opts, words, 3, &who, ctx.proxy.mode, &mut inert)?;
    if opts.agent_check && opts.agent_port.is_none() {
        return Err(format!(
            "'{who}' : server {name} does not have agent port. Agent check has been disabled."
        ));
    }
    warn_inert(ctx, &who, &inert);
    ctx.proxy.servers.push(Server {
        name,
        span: ctx.span.clone(),
        addr,
        opts,
    });
    Ok(())
}

/// A server added at runtime (`add server B/S ADDR [options]`, `words` from the name
/// on): the options of a `server` line, without `default-server` (as HAProxy); an
/// option without effect yet in gatehouse is refused, since nothing would warn.
pub fn parse_dynamic(backend: &str, mode: Mode, words: &[String]) -> Result<Server, String> {
    if words.len() < 2 {
        return Err("'server' expects <name> and <addr>[:<port>] as arguments.".into());
    }
    let name = words[0].clone();
    let who = format!("server {backend}/{name}");
    let addr = server_addr(&words[1]).map_err(|e| format!("'{who}' : {e}"))?;
    let mut line = vec!["server".to_owned()];
    line.extend(words.iter().cloned());
    let mut opts = ServerOpts::default();
    let mut inert = Vec::new();
    apply_opts(&mut opts, &line, 3, &who, mode, &mut inert)?;
    for w in &line[3..] {
        if let Some((n, _, Status::NotYet)) = OPTIONS.iter().find(|(n, _, _)| n == w) {
            return Err(format!(
                "'{who}' : keyword '{n}' is a HAProxy keyword that gatehouse does not support yet."
            ));
        }
    }
    if let Some((n, _)) = inert.first() {
        return Err(format!(
            "'{who}' : '{n}' has no effect yet in gatehouse and cannot be used on a dynamic server."
        ));
    }
    Ok(Server {
        name,
        span: crate::config::span::Span::new("runtime API", 0),
        addr,
        opts,
    })
}

fn default_server(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let mut opts = ctx.proxy.default_server.clone();
    let mut inert = Vec::new();
    apply_opts(
        &mut opts,
        words,
        1,
        "default-server",
        ctx.proxy.mode,
        &mut inert,
    )?;
    warn_inert(ctx, "default-server", &inert);
    ctx.proxy.default_server = opts;
    Ok(())
}

/// The `server` and `default-server` keywords.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw("server", LI | BE, server, "declare a server"),
    kw(
        "default-server",
        BACK,
        default_server,
        "default options of the servers declared after it",
    ),
];

/// An IP literal or a syntactically valid host name (HAProxy resolves it at load;
/// gatehouse checks its form only).
fn valid_host(h: &str) -> bool {
    h.parse::<std::net::IpAddr>().is_ok()
        || (!h.is_empty()
            && h.len() <= 253
            && h.strip_suffix('.').unwrap_or(h).split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }))
}
