//! `server NAME ADDR [options]` and `default-server [options]`.

use crate::config::keyword::{BACK, BE, LI, ProxyCtx, ProxyKeyword, kw};
use crate::config::model::{Server, ServerOpts};
use crate::config::suggest::closest;
use crate::config::value::{duration, port, server_addr, uint};
use std::path::PathBuf;

/// Server options gatehouse implements, with their number of arguments.
pub const SUPPORTED: &[(&str, usize)] = &[
    ("check", 0),
    ("no-check", 0),
    ("inter", 1),
    ("fastinter", 1),
    ("downinter", 1),
    ("rise", 1),
    ("fall", 1),
    ("port", 1),
    ("addr", 1),
    ("weight", 1),
    ("backup", 0),
    ("no-backup", 0),
    ("disabled", 0),
    ("enabled", 0),
    ("maxconn", 1),
    ("maxqueue", 1),
    ("ssl", 0),
    ("no-ssl", 0),
    ("verify", 1),
    ("ca-file", 1),
    ("sni", 1),
    ("send-proxy", 0),
    ("no-send-proxy", 0),
    ("send-proxy-v2", 0),
    ("no-send-proxy-v2", 0),
    ("cookie", 1),
    ("check-ssl", 0),
    ("no-check-ssl", 0),
];

/// Real HAProxy server options gatehouse does not implement yet.
pub const NOT_YET: &[&str] = &[
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "curves",
    "error-limit",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "id",
    "init-addr",
    "log-proto",
    "max-reuse",
    "maxconn-per-thread",
    "minconn",
    "namespace",
    "no-agent-check",
    "no-check-send-proxy",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tfo",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-verifyhost",
    "non-stick",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "proto",
    "proxy-v2-options",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "set-proxy-v2-tlv-fmt",
    "shard",
    "slowstart",
    "socks4",
    "source",
    "ssl-max-ver",
    "ssl-min-ver",
    "ssl-reuse",
    "stick",
    "tcp-ut",
    "tfo",
    "tls-tickets",
    "track",
    "usesrc",
    "verifyhost",
    "ws",
];

fn apply_opts(
    opts: &mut ServerOpts,
    words: &[String],
    start: usize,
    who: &str,
) -> Result<(), String> {
    let mut i = start;
    while let Some(opt) = words.get(i) {
        let Some(&(_, nargs)) = SUPPORTED.iter().find(|(n, _)| n == opt) else {
            if NOT_YET.contains(&opt.as_str()) {
                return Err(format!(
                    "'{who}' : keyword '{opt}' is a HAProxy keyword that gatehouse does not support yet."
                ));
            }
            let all = SUPPORTED
                .iter()
                .map(|(n, _)| *n)
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
            "ssl" => opts.ssl = true,
            "no-ssl" => opts.ssl = false,
            "verify" => {
                if v != "none" && v != "required" {
                    return Err(format!(
                        "'{who}' : verify accepts 'none' or 'required' (got '{v}')."
                    ));
                }
                opts.verify = Some(v.to_owned())
            }
            "ca-file" => opts.ca_file = Some(PathBuf::from(v)),
            "sni" => opts.sni = Some(v.to_owned()),
            "send-proxy" => opts.send_proxy = true,
            "no-send-proxy" => opts.send_proxy = false,
            "send-proxy-v2" => opts.send_proxy_v2 = true,
            "no-send-proxy-v2" => opts.send_proxy_v2 = false,
            "cookie" => opts.cookie = Some(v.to_owned()),
            "check-ssl" => opts.check_ssl = true,
            "no-check-ssl" => opts.check_ssl = false,
            _ => unreachable!("every supported option has an arm"),
        }
        i += 1 + nargs;
    }
    Ok(())
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
    apply_opts(&mut opts, words, 3, &who)?;
    ctx.proxy.servers.push(Server {
        name,
        span: ctx.span.clone(),
        addr,
        opts,
    });
    Ok(())
}

fn default_server(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let mut opts = ctx.proxy.default_server.clone();
    apply_opts(&mut opts, words, 1, "default-server")?;
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
