//! `monitor-uri` and `monitor fail`: the frontend's own health endpoint, answered by
//! the proxy (200, or 503 when a `monitor fail` condition says so) before any
//! `http-request` rule, and never logged.

use crate::config::condition::parse_condition;
use crate::config::keyword::{FE, FRONT, LI, ProxyCtx, ProxyKeyword, kw};

fn uri(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    let u = w.get(1).ok_or("'monitor-uri' expects an URI.")?;
    ctx.proxy.monitor_uri = Some(u.clone());
    Ok(())
}

fn fail(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    if !matches!(w.get(2).map(String::as_str), Some("if" | "unless")) {
        return Err(
            "'monitor fail' requires either 'if' or 'unless' followed by a condition.".into(),
        );
    }
    let cond = parse_condition(&w[2..], ctx.span).map_err(|e| format!("'monitor fail' : {e}"))?;
    ctx.proxy.monitor_fail.push(cond);
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "monitor-uri",
        FRONT,
        uri,
        "answer this URI with 200 (or 503 on 'monitor fail') instead of forwarding it",
    ),
    kw(
        "monitor fail",
        FE | LI,
        fail,
        "answer the monitor URI with 503 when the condition matches",
    ),
];
