//! Cookie persistence keywords: `cookie`, `dynamic-cookie-key`, `option persist`,
//! `force-persist`, `ignore-persist` (the server's `cookie VALUE` is a server option,
//! `server.rs`). They take effect in `src/proxy/http/persist_cookie.rs`.

use crate::config::keyword::{BACK, BE, DEF, LI, ProxyCtx, ProxyKeyword, kw, max_args};
use crate::config::model::{CookieConfig, CookieMode, PersistRule};
use crate::config::value::duration_with_unit;

/// `persist rdp-cookie[(NAME)]` (default name `msts`), checked as HAProxy 2.6's
/// `cfg_parse_listen()`. It takes effect in `src/proxy/rdp_persist.rs`.
fn persist(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 1, 1)?;
    let method = words
        .get(1)
        .filter(|m| !m.is_empty())
        .ok_or("missing persist method.")?;
    let Some(rest) = method.strip_prefix("rdp-cookie") else {
        return Err("unknown persist method.".into());
    };
    let name = if rest.is_empty() {
        "msts"
    } else {
        rest.strip_prefix('(')
            .and_then(|r| r.split_once(')'))
            .map(|(n, _)| n)
            .filter(|n| !n.is_empty())
            .ok_or("persist rdp-cookie(name)' requires an rdp cookie name.")?
    };
    ctx.proxy.persist_rdp_cookie = Some(name.to_owned());
    Ok(())
}

/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve]
/// [httponly] [secure] [domain D]… [maxidle T] [maxlife T] [dynamic] [attr A]…`, checked
/// as HAProxy 2.6 does. A new `cookie` line replaces the previous one.
fn cookie(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let name = words
        .get(1)
        .filter(|n| !n.is_empty())
        .ok_or("'cookie' expects <cookie_name> as argument.")?;
    let mut c = CookieConfig {
        name: name.clone(),
        mode: CookieMode::Passive,
        indirect: false,
        nocache: false,
        postonly: false,
        preserve: false,
        httponly: false,
        secure: false,
        dynamic: false,
        domain: None,
        maxidle: 0,
        maxlife: 0,
        attrs: None,
        span: ctx.span.clone(),
    };
    let mut modes = 0;
    let mut i = 2;
    while let Some(a) = words.get(i) {
        match a.as_str() {
            "rewrite" | "insert" | "prefix" => {
                // Counted like HAProxy's flag bits: the same word twice is one mode.
                let m = match a.as_str() {
                    "rewrite" => CookieMode::Rewrite,
                    "insert" => CookieMode::Insert,
                    _ => CookieMode::Prefix,
                };
                if c.mode != m {
                    modes += 1;
                }
                c.mode = m;
            }
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" => c.postonly = true,
            "preserve" => c.preserve = true,
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "dynamic" => c.dynamic = true,
            "domain" => {
                let d = words
                    .get(i + 1)
                    .filter(|d| !d.is_empty())
                    .ok_or("'domain' expects <domain> as argument.")?;
                if !d.contains('.') {
                    ctx.warn(format!(
                        "domain '{d}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."
                    ));
                }
                if let Some(bad) = d
                    .chars()
                    .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '.' || *ch == '-'))
                {
                    return Err(format!(
                        "character '{bad}' is not permitted in domain name '{d}'."
                    ));
                }
                c.domain = Some(match c.domain.take() {
                    None => d.clone(),
                    Some(prev) => format!("{prev}; domain={d}"),
                });
                i += 1;
            }
            "maxidle" | "maxlife" => {
                let what = if a == "maxidle" {
                    "<idletime>"
                } else {
                    "<lifetime>"
                };
                let v = words
                    .get(i + 1)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("'{a}' expects {what} in seconds as argument."))?;
                let d = duration_with_unit(v, a, 1_000_000).map_err(|_| {
                    let ch = v.chars().find(|ch| !ch.is_ascii_digit()).unwrap_or(' ');
                    format!("unexpected character '{ch}' in argument to <{a}>.")
                })?;
                let secs = u32::try_from(d.as_secs())
                    .unwrap_or(u32::MAX)
                    .min(i32::MAX as u32);
                if secs == 0 && !d.is_zero() {
                    return Err(format!(
                        "timer underflow in argument <{v}> to <{a}>, minimum non-null value is 1 s."
                    ));
                }
                if a == "maxidle" {
                    c.maxidle = secs;
                } else {
                    c.maxlife = secs;
                }
                i += 1;
            }
            "attr" => {
                let v = words
                    .get(i + 1)
                    .filter(|v| !v.is_empty())
                    .ok_or("'attr' expects <value> as argument.")?;
                if let Some(b) = v.bytes().find(|b| b.is_ascii_control() || *b == b';') {
                    return Err(format!(
                        "character '%x{b:02X}' is not permitted in attribute value."
                    ));
                }
                c.attrs = Some(match c.attrs.take() {
                    None => v.clone(),
                    Some(prev) => format!("{prev}; {v}"),
                });
                i += 1;
            }
            _ => {
                return Err("'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.".into());
            }
        }
        i += 1;
    }
    if c.mode == CookieMode::Rewrite && c.indirect {
        return Err("cookie 'rewrite' and 'indirect' modes are incompatible.".into());
    }
    if modes > 1 {
        return Err("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.".into());
    }
    if c.preserve && c.mode != CookieMode::Insert && !c.indirect {
        return Err("cookie 'preserve' requires at least 'insert' or 'indirect'.".into());
    }
    ctx.proxy.cookie = Some(c);
    Ok(())
}

/// `dynamic-cookie-key KEY`: the secret dynamic cookies are computed with.
fn dynamic_cookie_key(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let key = words
        .get(1)
        .filter(|k| !k.is_empty())
        .ok_or("'dynamic-cookie-key' expects <secret_key> as argument.")?;
    ctx.proxy.dynamic_cookie_key = Some(key.clone());
    Ok(())
}

/// `option persist` (`no option persist` clears it).
fn option_persist(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 2, 0)?;
    ctx.proxy.options.persist = !ctx.negated;
    Ok(())
}

/// `force-persist if|unless COND` and `ignore-persist if|unless COND`.
fn persist_rule(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let kw = words[0].as_str();
    if !matches!(words.get(1).map(String::as_str), Some("if" | "unless")) {
        return Err(format!(
            "'{kw}' requires either 'if' or 'unless' followed by a condition."
        ));
    }
    let cond = crate::config::condition::parse_condition(&words[1..], ctx.span)
        .map_err(|e| format!("error detected while parsing a '{kw}' rule : {e}."))?;
    ctx.proxy.persist_rules.push(PersistRule {
        force: kw == "force-persist",
        cond,
        span: ctx.span.clone(),
    });
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "persist",
        DEF | LI | BE,
        persist,
        "`persist rdp-cookie[(NAME)]`: the RDP cookie names the server (`mode tcp`)",
    ),
    kw("cookie", BACK, cookie, "cookie-based persistence"),
    kw(
        "dynamic-cookie-key",
        BACK,
        dynamic_cookie_key,
        "secret of `cookie … dynamic` server cookies",
    ),
    kw(
        "option persist",
        BACK,
        option_persist,
        "keep sending a persistent client to its server when it is DOWN",
    ),
    kw(
        "force-persist",
        LI | BE,
        persist_rule,
        "send the request to its persistent server even when it is DOWN or in maintenance",
    ),
    kw(
        "ignore-persist",
        LI | BE,
        persist_rule,
        "ignore the persistence cookie of matching requests",
    ),
];
