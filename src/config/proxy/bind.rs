//! `bind ADDR[,ADDR…] [options]`: listening addresses and their options.

use crate::config::keyword::{FE, LI, ProxyCtx, ProxyKeyword, Status};
use crate::config::model::{Bind, Verify, apply_version_option};
use crate::config::suggest::closest;
use crate::config::value::{bind_addr, uint};
use std::path::PathBuf;

/// Bind options gatehouse parses: name, number of arguments and status. The `not yet`
/// ones (PROXY protocol) are parsed into the model and refused at load, since ignoring
/// them would change the bytes on the wire. The TLS options are applied by `crate::tls`.
pub const OPTIONS: &[(&str, usize, Status)] = &[
    (
        "name",
        1,
        Status::Parsed(
            "listener names are shown by the stats page and runtime API, not served yet",
        ),
    ),
    ("ssl", 0, Status::Supported),
    ("crt", 1, Status::Supported),
    ("crt-list", 1, Status::Supported),
    ("alpn", 1, Status::Supported),
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
    ("ecdhe", 1, Status::Supported),
    ("strict-sni", 0, Status::Supported),
    ("prefer-client-ciphers", 0, Status::Supported),
    ("ca-file", 1, Status::Supported),
    ("crl-file", 1, Status::Supported),
    ("verify", 1, Status::Supported),
    ("accept-proxy", 0, Status::Supported),
    ("mode", 1, Status::Supported),
    ("user", 1, Status::Supported),
    ("group", 1, Status::Supported),
    ("maxconn", 1, Status::Supported),
    ("backlog", 1, Status::Supported),
    ("v4v6", 0, Status::Supported),
    ("v6only", 0, Status::Supported),
    ("proto", 1, Status::Supported),
];

/// Real HAProxy bind options gatehouse does not implement yet.
pub const NOT_YET: &[&str] = &[
    "accept-netscaler-cip",
    "allow-0rtt",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ca-verify-file",
    "client-sigalgs",
    "crt-ignore-err",
    "defer-accept",
    "expose-fd",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "generate-certificates",
    "gid",
    "id",
    "interface",
    "level",
    "mss",
    "namespace",
    "nice",
    "no-ca-names",
    "npn",
    "process",
    "quic-cc-algo",
    "quic-force-retry",
    "severity-output",
    "shards",
    "sigalgs",
    "tcp-ut",
    "tfo",
    "thread",
    "tls-ticket-keys",
    "transparent",
    "uid",
];

/// Parses the options of a bind line; shared with `stats socket`. The options parsed
/// without effect yet are appended to `inert`, for the caller's warning.
pub fn parse_bind(
    words: &[String],
    span: &crate::config::span::Span,
    section: &str,
    inert: &mut Vec<(&'static str, Status)>,
) -> Result<Bind, String> {
    let spec = words.get(1).ok_or_else(|| {
        format!(
            "'{}' expects {{<path>|[addr1]:port1[-end1]}}{{,[addr]:port[-end]}}... as arguments.",
            words[0]
        )
    })?;
    let mut bind = Bind {
        span: span.clone(),
        addrs: Vec::new(),
        name: None,
        tls: Default::default(),
        accept_proxy: false,
        unix_mode: None,
        unix_user: None,
        unix_group: None,
        maxconn: None,
        backlog: None,
        v4v6: false,
        v6only: false,
        h2: false,
        pgsql: false,
    };
    for part in spec.split(',') {
        bind.addrs
            .push(bind_addr(part).map_err(|e| format!("'{}' : {e}", words[0]))?);
    }
    let mut i = 2;
    while let Some(opt) = words.get(i) {
        let Some(&(known, nargs, status)) = OPTIONS.iter().find(|(n, _, _)| n == opt) else {
            if NOT_YET.contains(&opt.as_str()) {
                return Err(format!(
                    "'{} {spec}' in section '{section}': keyword '{opt}' is a HAProxy keyword that gatehouse does not support yet.",
                    words[0]
                ));
            }
            let all = OPTIONS
                .iter()
                .map(|(n, _, _)| *n)
                .chain(NOT_YET.iter().copied());
            let hint = closest(opt, all)
                .map(|c| format!("; did you mean '{c}' maybe ?"))
                .unwrap_or_else(|| ".".into());
            return Err(format!(
                "'{} {spec}' in section '{section}': unknown keyword '{opt}'{hint}",
                words[0]
            ));
        };
        let val =
            if nargs == 1 {
                Some(words.get(i + 1).ok_or_else(|| {
                    format!("'{} {spec}' : missing argument for '{opt}'", words[0])
                })?)
            } else {
                None
            };
        let v = val.map(String::as_str).unwrap_or("");
        if status.warning(known).is_some() {
            inert.push((known, status));
        }
        match opt.as_str() {
            "name" => bind.name = Some(v.to_owned()),
            "ssl" => bind.tls.ssl = true,
            "crt" => bind.tls.crt.push(PathBuf::from(v)),
            "crt-list" => bind.tls.crt_list.push(PathBuf::from(v)),
            "alpn" => bind.tls.alpn = Some(alpn(v)?),
            "ciphers" => bind.tls.ciphers = Some(v.to_owned()),
            "ciphersuites" => bind.tls.ciphersuites = Some(v.to_owned()),
            "curves" => bind.tls.curves = Some(v.to_owned()),
            "ecdhe" => bind.tls.ecdhe = Some(v.to_owned()),
            "strict-sni" => bind.tls.strict_sni = true,
            "prefer-client-ciphers" => bind.tls.prefer_client_ciphers = true,
            "ca-file" => bind.tls.ca_file = Some(PathBuf::from(v)),
            "crl-file" => bind.tls.crl_file = Some(PathBuf::from(v)),
            "verify" => {
                bind.tls.verify = Some(Verify::parse(v, true).ok_or_else(|| {
                    format!(
                        "'{} {spec}' : '{opt}' : unknown verify method '{v}', only 'none', 'optional', and 'required' are supported",
                        words[0]
                    )
                })?)
            }
            "accept-proxy" => bind.accept_proxy = true,
            "mode" => {
                bind.unix_mode = Some(
                    u32::from_str_radix(v, 8)
                        .map_err(|_| format!("'{opt}' : invalid mode '{v}' (octal expected)"))?,
                )
            }
            "user" => {
                crate::config::global::user_id(v)
                    .ok_or_else(|| format!("'{opt}' : unknown user name '{v}'"))?;
                bind.unix_user = Some(v.to_owned())
            }
            "group" => {
                crate::config::global::group_id(v)
                    .ok_or_else(|| format!("'{opt}' : unknown group name '{v}'"))?;
                bind.unix_group = Some(v.to_owned())
            }
            "maxconn" => bind.maxconn = Some(uint(v, "maxconn")?),
            "backlog" => bind.backlog = Some(uint(v, "backlog")?),
            "v4v6" => bind.v4v6 = true,
            "v6only" => bind.v6only = true,
            "proto" => match v {
                "pgsql" => bind.pgsql = true,
                _ => bind.h2 = proto(v)?,
            },
            _ if apply_version_option(&mut bind.tls.versions, opt, v)
                .map_err(|e| format!("'{} {spec}' : {e}", words[0]))? => {}
            _ => unreachable!("every supported option has an arm"),
        }
        i += 1 + nargs;
    }
    Ok(bind)
}

/// A `proto` argument, HAProxy's multiplexer names: `h2` (true) or `h1` (false); `fcgi`
/// is a server-side multiplexer.
fn proto(v: &str) -> Result<bool, String> {
    match v {
        "h2" => Ok(true),
        "h1" => Ok(false),
        "fcgi" => Err(format!(
            "'proto' : MUX protocol '{v}' is not usable on a bind line"
        )),
        _ => Err(format!("'proto' :  unknown MUX protocol '{v}'")),
    }
}

/// An `alpn` argument: comma-separated protocol names, none empty.
pub fn alpn(v: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = v.split(',').map(str::to_owned).collect();
    if names.iter().any(|n| n.is_empty() || n.len() > 255) {
        return Err(format!("'alpn' : invalid protocol list '{v}'."));
    }
    Ok(names)
}

fn bind(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let section = ctx.proxy.kind.keyword();
    let mut inert = Vec::new();
    let b = parse_bind(words, ctx.span, section, &mut inert)?;
    for (name, status) in inert {
        if let Some(msg) = status.warning(name) {
            ctx.warn(format!("'{} {}' : {msg}", words[0], words[1]));
        }
    }
    ctx.proxy.binds.push(b);
    Ok(())
}

/// The `bind` keyword.
pub static KEYWORDS: &[ProxyKeyword] = &[ProxyKeyword {
    name: "bind",
    scope: FE | LI,
    status: Status::Supported,
    parse: Some(bind),
    help: "listen on addresses",
}];
