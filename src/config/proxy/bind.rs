//! `bind ADDR[,ADDR…] [options]`: listening addresses and their options.

use crate::config::keyword::{FE, LI, ProxyCtx, ProxyKeyword, Status};
use crate::config::model::Bind;
use crate::config::suggest::closest;
use crate::config::value::{bind_addr, uint};
use std::path::PathBuf;

/// Bind options gatehouse parses: name, number of arguments and status. The `not yet`
/// ones (TLS, PROXY protocol) are parsed into the model and refused at load, since
/// ignoring them would change the bytes on the wire.
pub const OPTIONS: &[(&str, usize, Status)] = &[
    (
        "name",
        1,
        Status::Parsed(
            "listener names are shown by the stats page and runtime API, not served yet",
        ),
    ),
    ("ssl", 0, Status::NotYet),
    ("crt", 1, Status::NotYet),
    ("alpn", 1, Status::NotYet),
    ("accept-proxy", 0, Status::NotYet),
    ("mode", 1, Status::Supported),
    ("user", 1, Status::Supported),
    ("group", 1, Status::Supported),
    ("maxconn", 1, Status::Supported),
    ("backlog", 1, Status::Supported),
    ("v4v6", 0, Status::Supported),
    ("v6only", 0, Status::Supported),
];

/// Real HAProxy bind options gatehouse does not implement yet.
pub const NOT_YET: &[&str] = &[
    "accept-netscaler-cip",
    "allow-0rtt",
    "ca-file",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ca-verify-file",
    "ciphers",
    "ciphersuites",
    "client-sigalgs",
    "crl-file",
    "crt-ignore-err",
    "crt-list",
    "curves",
    "defer-accept",
    "ecdhe",
    "expose-fd",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "generate-certificates",
    "gid",
    "id",
    "interface",
    "level",
    "mss",
    "namespace",
    "nice",
    "no-ca-names",
    "no-sslv3",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "npn",
    "prefer-client-ciphers",
    "process",
    "proto",
    "quic-cc-algo",
    "quic-force-retry",
    "severity-output",
    "shards",
    "sigalgs",
    "ssl-max-ver",
    "ssl-min-ver",
    "strict-sni",
    "tcp-ut",
    "tfo",
    "thread",
    "tls-ticket-keys",
    "transparent",
    "uid",
    "verify",
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
        ssl: false,
        crt: Vec::new(),
        alpn: Vec::new(),
        accept_proxy: false,
        unix_mode: None,
        unix_user: None,
        unix_group: None,
        maxconn: None,
        backlog: None,
        v4v6: false,
        v6only: false,
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
            "ssl" => bind.ssl = true,
            "crt" => bind.crt.push(PathBuf::from(v)),
            "alpn" => bind.alpn = v.split(',').map(str::to_owned).collect(),
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
            _ => unreachable!("every supported option has an arm"),
        }
        i += 1 + nargs;
    }
    Ok(bind)
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
