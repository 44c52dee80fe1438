//! Proxy keywords about mode, balancing, limits, logging and persistence:
//! `mode`, `balance`, `hash-type`, `maxconn`, `retries`, `http-reuse`, `log`, `log-format`,
//! `log-tag`, `cookie`, `stick-table`, `stick`.

use crate::config::keyword::{ALL, BACK, BE, FE, FRONT, LI, ProxyCtx, ProxyKeyword, kw, max_args};
use crate::config::logline;
use crate::config::model::{
    Balance, HashType, HttpReuse, Mode, RedisServer, RedisShare, StickData, StickKeyType,
    StickKind, StickRule, StickTable, StickTableDef, StoreItem,
};
use crate::config::value::{size, uint};

fn mode(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 1, 1)?;
    ctx.proxy.mode = match words.get(1).map(String::as_str) {
        Some("http") => Mode::Http,
        Some("tcp") => Mode::Tcp,
        Some("health") => return Err("'mode health' doesn't exist anymore. Please use 'http-request return' or 'tcp-request connection reject' instead.".into()),
        Some(x) => return Err(format!("unknown proxy mode '{x}'.")),
        None => return Err("'mode' expects one of 'http' or 'tcp'.".into()),
    };
    Ok(())
}

const BALANCE_ERR: &str = "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.";

fn balance(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let algo = words.get(1).ok_or(BALANCE_ERR)?;
    let args = &words[2..];
    let no_args = |b: Balance| -> Result<Balance, String> {
        match args.first() {
            Some(x) => Err(format!(
                "'balance {algo}' cannot handle unexpected argument '{x}'."
            )),
            None => Ok(b),
        }
    };
    let b = match algo.as_str() {
        "roundrobin" => no_args(Balance::RoundRobin)?,
        "static-rr" => no_args(Balance::StaticRr)?,
        "leastconn" => no_args(Balance::LeastConn)?,
        "first" => no_args(Balance::First)?,
        "source" => no_args(Balance::Source)?,
        "uri" => {
            let (mut whole, mut len, mut depth) = (false, 0, 0);
            let mut i = 0;
            while let Some(a) = args.get(i) {
                match a.as_str() {
                    "whole" => whole = true,
                    "len" | "depth" => {
                        let v = args.get(i + 1).ok_or_else(|| {
                            format!("'balance uri {a}' expects a positive integer")
                        })?;
                        let n = uint(v, a)? as usize;
                        if a == "len" {
                            len = n
                        } else {
                            depth = n
                        }
                        i += 1;
                    }
                    "path-only" => {
                        return Err(
                            "'balance uri path-only' is not supported yet by gatehouse.".into()
                        );
                    }
                    x => {
                        return Err(format!(
                            "'balance uri' only accepts parameters 'whole', 'len', 'depth' and 'path-only' (got '{x}')."
                        ));
                    }
                }
                i += 1;
            }
            Balance::Uri { whole, len, depth }
        }
        "url_param" => {
            let name = args
                .first()
                .ok_or("'balance url_param' requires an URL parameter name.")?;
            if let Some(x) = args.get(1) {
                return Err(format!(
                    "'balance url_param' option '{x}' is not supported yet by gatehouse."
                ));
            }
            Balance::UrlParam(name.clone())
        }
        "random" => no_args(Balance::Random(2))?,
        a if a.starts_with("random(") && a.ends_with(')') => {
            let n = uint(&a[7..a.len() - 1], "balance random").map_err(|_| {
                "'balance random' expects a positive integer number of draws.".to_string()
            })?;
            if n == 0 {
                return Err("'balance random' expects a positive integer number of draws.".into());
            }
            no_args(Balance::Random(n))?
        }
        a if a.starts_with("hdr(") && a.ends_with(')') => {
            let name = &a[4..a.len() - 1];
            if name.is_empty() {
                return Err("hdr requires a header name".into());
            }
            let use_domain_only = match args.first().map(String::as_str) {
                None => false,
                Some("use_domain_only") => true,
                Some(x) => {
                    return Err(format!(
                        "'balance hdr()' only accepts 'use_domain_only' (got '{x}')."
                    ));
                }
            };
            Balance::Hdr {
                name: name.to_owned(),
                use_domain_only,
            }
        }
        a if a.starts_with("rdp-cookie") || a == "hash" || a == "log-hash" || a == "sticky" => {
            return Err(format!(
                "'balance {a}' is a HAProxy algorithm that gatehouse does not support yet."
            ));
        }
        _ => return Err(BALANCE_ERR.into()),
    };
    ctx.proxy.balance = b;
    Ok(())
}

fn hash_type(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let mut ht = HashType {
        consistent: false,
        function: "sdbm".into(),
        avalanche: false,
    };
    match words.get(1).map(String::as_str) {
        Some("map-based") => {}
        Some("consistent") => ht.consistent = true,
        _ => return Err("'hash-type' requires 'map-based' or 'consistent'.".into()),
    }
    if let Some(f) = words.get(2) {
        match f.as_str() {
            "sdbm" | "djb2" | "wt6" | "crc32" | "none" => ht.function = f.clone(),
            x => {
                return Err(format!(
                    "'hash-type {}' : unknown hash function '{x}'.",
                    words[1]
                ));
            }
        }
    }
    match words.get(3).map(String::as_str) {
        None => {}
        Some("avalanche") => ht.avalanche = true,
        Some(x) => return Err(format!("'hash-type' : unknown hash modifier '{x}'.")),
    }
    max_args(words, 1, 3)?;
    // As HAProxy: `consistent` without a function means `sdbm avalanche`.
    if ht.consistent && words.get(2).is_none() {
        ht.avalanche = true;
    }
    ctx.proxy.hash_type = ht;
    Ok(())
}

fn maxconn(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 1, 1)?;
    let v = words
        .get(1)
        .ok_or("'maxconn' expects an integer argument.")?;
    ctx.proxy.maxconn = Some(uint(v, "maxconn")?);
    Ok(())
}

fn retries(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 1, 1)?;
    let v = words
        .get(1)
        .ok_or("'retries' expects an integer argument.")?;
    ctx.proxy.retries = uint(v, "retries")?;
    Ok(())
}

fn http_reuse(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 1, 1)?;
    ctx.proxy.http_reuse = match words.get(1).map(String::as_str) {
        Some("never") => HttpReuse::Never,
        Some("safe") => HttpReuse::Safe,
        Some("aggressive") => HttpReuse::Aggressive,
        Some("always") => HttpReuse::Always,
        _ => {
            return Err(
                "'http-reuse' expects one of 'never', 'safe', 'aggressive', 'always'.".into(),
            );
        }
    };
    Ok(())
}

fn log(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if ctx.negated {
        ctx.proxy.no_log = true;
        ctx.proxy.logs.clear();
        ctx.proxy.log_global = false;
        return Ok(());
    }
    if words.get(1).map(String::as_str) == Some("global") {
        max_args(words, 1, 1)?;
        ctx.proxy.log_global = true;
        return Ok(());
    }
    let t = logline::parse(words, ctx.span)?;
    ctx.proxy.logs.push(t);
    Ok(())
}

fn log_format(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let f = words
        .get(1)
        .ok_or("'log-format' expects a format string.")?;
    if let Some(x) = words.get(2) {
        return Err(format!(
            "'log-format' : cannot handle unexpected argument '{x}' (use quotes around the format)."
        ));
    }
    ctx.proxy.log_format = Some((f.clone(), ctx.span.clone()));
    Ok(())
}

/// `unique-id-format FMT`: an empty format disables the id (as in a `defaults`
/// section overridden by a proxy).
fn unique_id_format(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let f = words
        .get(1)
        .ok_or("'unique-id-format' expects an argument.")?;
    if let Some(x) = words.get(2) {
        return Err(format!(
            "'unique-id-format' : cannot handle unexpected argument '{x}' (use quotes around the format)."
        ));
    }
    ctx.sem
        .log_format(
            f,
            crate::config::semantics::FormatContext::HttpRequest.in_proxy(ctx.proxy.kind),
        )
        .map_err(|e| format!("'unique-id-format' : {e}."))?;
    ctx.proxy.unique_id_format = (!f.is_empty()).then(|| (f.clone(), ctx.span.clone()));
    Ok(())
}

/// `unique-id-header NAME`.
fn unique_id_header(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let h = words
        .get(1)
        .ok_or("'unique-id-header' expects an argument.")?;
    max_args(words, 1, 1)?;
    ctx.proxy.unique_id_header = Some(h.clone());
    Ok(())
}

/// `capture request|response header NAME len N`.
fn capture(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let dir = words[1].as_str();
    let usage = || format!("'capture {dir}' expects 'header' <header_name> 'len' <len>.");
    let (Some(name), Some(l), Some(n)) = (words.get(3), words.get(4), words.get(5)) else {
        return Err(usage());
    };
    if l != "len" {
        return Err(usage());
    }
    if let Some(x) = words.get(6) {
        return Err(format!(
            "'capture {dir}' cannot handle unexpected argument '{x}'."
        ));
    }
    let len = uint(n, "len").map_err(|_| usage())? as usize;
    let list = if dir == "request" {
        &mut ctx.proxy.capture_req
    } else {
        &mut ctx.proxy.capture_res
    };
    list.push((name.clone(), len));
    Ok(())
}

/// `declare capture request|response len N`: a capture slot for `http-request capture
/// … id N` / `http-response capture … id N` rules (of this frontend or its backends).
fn declare_capture(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let dir = words.get(2).map(String::as_str);
    let list = match dir {
        Some("request") => &mut ctx.proxy.capture_req,
        Some("response") => &mut ctx.proxy.capture_res,
        _ => return Err("'declare capture' requires a direction ('request' or 'response')".into()),
    };
    if words.get(3).map(String::as_str) != Some("len") {
        return Err("'declare capture' requires a capture length ('len')".into());
    }
    let n = words.get(4).ok_or(
        "'declare capture': 'len' requires a numeric value that represents the length of the capture",
    )?;
    let len: i64 = n
        .parse()
        .map_err(|_| format!("'declare capture': cannot parse the length '{n}'."))?;
    if len <= 0 {
        return Err("'declare capture' : length must be > 0".into());
    }
    list.push((String::new(), len as usize));
    Ok(())
}

fn log_tag(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 1, 1)?;
    ctx.proxy.log_tag = Some(
        words
            .get(1)
            .ok_or("'log-tag' expects a tag for use in syslog.")?
            .clone(),
    );
    Ok(())
}

fn description(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    if words.len() < 2 {
        return Err("'description' expects a string argument.".into());
    }
    ctx.proxy.description = Some(words[1..].join(" "));
    Ok(())
}

/// Parses `stick-table type … size …` as HAProxy does (its messages).
fn stick_table_args(args: &[String]) -> Result<StickTableDef, String> {
    let bad = |v: &str, what: &str| {
        let c = v.chars().find(|c| !c.is_ascii_digit()).unwrap_or(' ');
        format!("stick-table: unexpected character '{c}' in argument of '{what}'.")
    };
    let mut def = StickTableDef {
        key: StickKeyType::Ip,
        key_size: 4,
        size: 0,
        expire_ms: None,
        nopurge: false,
        store: Vec::new(),
        redis: None,
    };
    let (mut typed, mut sized) = (false, false);
    let (mut prefix, mut interval): (Option<String>, Option<u32>) = (None, None);
    let mut sentinels: Option<Vec<(String, u16)>> = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let v = args.get(i + 1).map(String::as_str);
        match (a.as_str(), v) {
            ("type", Some(t)) => {
                (def.key, def.key_size) = match t {
                    "ip" => (StickKeyType::Ip, 4),
                    "ipv6" => (StickKeyType::Ipv6, 16),
                    "integer" => (StickKeyType::Integer, 4),
                    "string" => (StickKeyType::String, 32),
                    "binary" => (StickKeyType::Binary, 32),
                    _ => return Err(format!("stick-table: unknown type '{t}'.")),
                };
                typed = true;
                i += 1;
                if ["string", "binary"].contains(&t) && args.get(i + 1).is_some_and(|l| l == "len")
                {
                    let l = args.get(i + 2).map(String::as_str).unwrap_or("");
                    let n = uint(l, "len").map_err(|_| bad(l, "len"))?;
                    if n == 0 {
                        return Err(format!("stick-table: unknown type '{t}'."));
                    }
                    def.key_size = n as usize + usize::from(t == "string");
                    i += 2;
                }
            }
            ("size", Some(n)) => {
                def.size = size(n, "size")
                    .map_err(|_| bad(n, "size"))?
                    .min(u64::from(u32::MAX)) as u32;
                sized = true;
                i += 1;
            }
            ("expire", Some(d)) => {
                let t =
                    crate::config::value::duration(d, "expire").map_err(|_| bad(d, "expire"))?;
                def.expire_ms = Some(t.as_millis().min(i32::MAX as u128) as u32);
                i += 1;
            }
            ("store", Some(list)) => {
                store_list(list, &mut def)?;
                i += 1;
            }
            ("srvkey", Some(k)) => {
                if k != "name" && k != "addr" {
                    return Err(format!("stick-table : unknown server key type '{k}'."));
                }
                i += 1;
            }
            ("write-to", Some(_)) => {
                return Err("stick-table: 'write-to' is not supported yet by gatehouse.".into());
            }
            ("nopurge", _) => def.nopurge = true,
            ("peers", _) => return Err(PEERS_REFUSED.into()),
            ("redis", Some(url)) => {
                let server = RedisServer::parse(url)?;
                def.redis = Some(RedisShare {
                    server,
                    prefix: String::new(),
                    interval_ms: 0,
                    sentinels: Vec::new(),
                });
                i += 1;
            }
            ("redis-prefix", Some(p)) => {
                prefix = Some(p.to_string());
                i += 1;
            }
            ("redis-sync-interval", Some(d)) => {
                let t = crate::config::value::duration(d, "redis-sync-interval")
                    .map_err(|_| bad(d, "redis-sync-interval"))?;
                let ms = t.as_millis();
                if !(1..=60_000).contains(&ms) {
                    return Err(format!(
                        "stick-table: 'redis-sync-interval' must be between 1ms and 60s (got '{d}')."
                    ));
                }
                interval = Some(ms as u32);
                i += 1;
            }
            ("redis-sentinel", Some(list)) => {
                sentinels = Some(parse_sentinels(list)?);
                i += 1;
            }
            (
                "type"
                | "size"
                | "expire"
                | "store"
                | "srvkey"
                | "write-to"
                | "redis"
                | "redis-prefix"
                | "redis-sync-interval"
                | "redis-sentinel",
                None,
            ) => {
                return Err(format!("stick-table: missing argument after '{a}'."));
            }
            (x, _) => return Err(format!("stick-table: unknown argument '{x}'.")),
        }
        i += 1;
    }
    if !typed {
        return Err("stick-table: missing type.".into());
    }
    if !sized {
        return Err("stick-table: missing size.".into());
    }
    match def.redis.as_mut() {
        Some(r) => {
            r.prefix = prefix.unwrap_or_else(|| "gatehouse:".into());
            r.interval_ms = interval.unwrap_or(100);
            r.sentinels = sentinels.unwrap_or_default();
        }
        None if prefix.is_some() || interval.is_some() || sentinels.is_some() => {
            return Err(
                "stick-table: 'redis-prefix', 'redis-sync-interval' and 'redis-sentinel' need 'redis <url>'.".into(),
            );
        }
        None => {}
    }
    Ok(def)
}

/// `redis-sentinel HOST:PORT[,HOST:PORT…]`: the Sentinels asked, in order, where the
/// master named by the `redis` URL's host is.
fn parse_sentinels(list: &str) -> Result<Vec<(String, u16)>, String> {
    list.split(',')
        .map(|a| {
            let (h, p) = if let Some(v6) = a.strip_prefix('[') {
                v6.split_once("]:")
            } else {
                a.rsplit_once(':')
            }
            .filter(|(h, _)| !h.is_empty())
            .ok_or_else(|| format!("stick-table: 'redis-sentinel': '{a}' is not HOST:PORT."))?;
            let port =
                p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    format!("stick-table: 'redis-sentinel': invalid port in '{a}'.")
                })?;
            Ok((h.to_string(), port))
        })
        .collect()
}

/// Why `peers` (sections and the `stick-table` argument) are refused: gatehouse shares
/// tables through Redis instead (docs/persistence.md).
pub const PEERS_REFUSED: &str = "'peers' is not supported by gatehouse: stick tables are shared between instances through Redis instead, with the stick-table option 'redis redis://HOST:PORT/DB' (see docs/persistence.md).";

/// Parses the comma-separated items of `store` into `def` (commas inside
/// `gpc_rate(2,10s)` belong to the item).
fn store_list(list: &str, def: &mut StickTableDef) -> Result<(), String> {
    let mut depth = 0;
    let items = list.split(|c| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        c == ',' && depth == 0
    });
    for item in items {
        let (base, arg) = match item.split_once('(') {
            Some((b, rest)) => {
                let Some(a) = rest.strip_suffix(')') else {
                    return Err(format!(
                        "stick-table: missing closing parenthesis after store option '{b}'."
                    ));
                };
                (b, Some(a))
            }
            None => (item, None),
        };
        let Some(data) = StickData::parse(base) else {
            return Err(format!("stick-table: unknown store option '{base}'."));
        };
        let mut args = arg
            .map(|a| a.split(',').collect::<Vec<_>>())
            .unwrap_or_default();
        let mut count = 1;
        if data.is_array() {
            let Some(n) = args.first() else {
                return Err(format!(
                    "stick-table: missing argument to store option '{base}'."
                ));
            };
            count = n.trim().parse::<u32>().unwrap_or(0);
            if count == 0 || count > 100 {
                return Err(format!(
                    "stick-table: array size is out of allowed range (1-100) for store option '{base}'."
                ));
            }
            args.remove(0);
        }
        let mut period_ms = 0;
        if data.is_rate() {
            let Some(p) = args.first() else {
                return Err(format!(
                    "stick-table: missing argument to store option '{base}'."
                ));
            };
            let t = crate::config::value::duration(p, base).map_err(|_| {
                format!("stick-table: error when processing store option '{base}'.")
            })?;
            period_ms = t.as_millis().min(u32::MAX as u128) as u32;
        } else if !args.is_empty() {
            return Err(format!(
                "stick-table: unexpected argument to store option '{base}'."
            ));
        }
        if def.item(data).is_some() {
            // HAProxy warns and ignores the repeated item.
            continue;
        }
        def.store.push(StoreItem {
            data,
            count,
            period_ms,
        });
    }
    let has = |d| def.item(d).is_some();
    if has(StickData::Gpt) && has(StickData::Gpt0) {
        return Err("stick-table: simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as 'gpt' overrides 'gpt0'.".into());
    }
    if has(StickData::Gpc) && (has(StickData::Gpc0) || has(StickData::Gpc1)) {
        return Err("stick-table: simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as 'gpc' overrides 'gpc[0/1]'.".into());
    }
    if has(StickData::GpcRate) && (has(StickData::Gpc0Rate) || has(StickData::Gpc1Rate)) {
        return Err("stick-table: simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same table is not permitted as 'gpc_rate' overrides 'gpc[0/1]_rate'.".into());
    }
    Ok(())
}

fn stick_table(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let def = stick_table_args(&words[1..])?;
    ctx.proxy.stick_table = Some(StickTable {
        def,
        args: words[1..].to_vec(),
        span: ctx.span.clone(),
    });
    Ok(())
}

fn stick(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let kind = words
        .get(1)
        .ok_or("'stick' expects 'on', 'match', 'store-request' or 'store-response'.")?;
    let k = match kind.as_str() {
        "on" => StickKind::On,
        "match" => StickKind::Match,
        "store-request" => StickKind::StoreRequest,
        "store-response" => StickKind::StoreResponse,
        _ => return Err(format!("'stick' : unknown keyword '{kind}'.")),
    };
    let cut = words
        .iter()
        .position(|w| w == "if" || w == "unless")
        .unwrap_or(words.len());
    let cond = if cut < words.len() {
        Some(
            crate::config::condition::parse_condition(&words[cut..], ctx.span)
                .map_err(|e| format!("'stick {kind}' : {e}"))?,
        )
    } else {
        None
    };
    if cut <= 2 {
        return Err(format!("'stick {kind}' expects a pattern."));
    }
    let table = match words[3..cut].first().map(String::as_str) {
        None => None,
        Some("table") => Some(
            words
                .get(4)
                .filter(|_| cut > 4)
                .ok_or_else(|| format!("'stick {kind}' : missing table name."))?
                .clone(),
        ),
        Some(x) => {
            return Err(format!(
                "'stick {kind}' : unknown argument '{x}' (expects 'table', 'if' or 'unless')."
            ));
        }
    };
    if cut > 5 {
        return Err(format!(
            "'stick {kind}' : unexpected argument '{}'.",
            words[5]
        ));
    }
    ctx.proxy.sticks.push(StickRule {
        kind: k,
        pattern: words[2].clone(),
        table,
        cond,
        span: ctx.span.clone(),
    });
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw("mode", ALL, mode, "tcp or http"),
    kw("balance", BACK, balance, "the load-balancing algorithm"),
    kw(
        "hash-type",
        BACK,
        hash_type,
        "map-based or consistent hashing, hash function",
    ),
    kw(
        "maxconn",
        FRONT,
        maxconn,
        "maximum concurrent connections of a frontend",
    ),
    kw(
        "retries",
        BACK,
        retries,
        "connection retries after a failure",
    ),
    kw(
        "http-reuse",
        BACK,
        http_reuse,
        "server connection sharing policy",
    ),
    kw("log", ALL, log, "where to send logs"),
    kw("log-format", FRONT, log_format, "custom log line format"),
    kw("log-tag", ALL, log_tag, "syslog tag of this proxy's logs"),
    kw(
        "capture request header",
        FE | LI,
        capture,
        "log a request header (%hr)",
    ),
    kw(
        "capture response header",
        FE | LI,
        capture,
        "log a response header (%hs)",
    ),
    kw(
        "declare capture",
        FE | LI,
        declare_capture,
        "a capture slot for http-request/http-response capture rules",
    ),
    kw(
        "unique-id-format",
        FRONT,
        unique_id_format,
        "log-format of the request id (%ID, unique-id)",
    ),
    kw(
        "unique-id-header",
        FRONT,
        unique_id_header,
        "request header carrying the request id",
    ),
    kw(
        "description",
        FE | LI | BE,
        description,
        "shown on the stats page with `stats show-desc`",
    ),
    kw(
        "stick-table",
        FE | LI | BE,
        stick_table,
        "declare a stick table",
    ),
    kw("stick", LI | BE, stick, "stickiness rules"),
];
