//! `stats …` keywords of proxies (the stats page).

use crate::config::keyword::{
    ALL, BE, FE, LI, NO_STATS_PAGE, ProxyCtx, ProxyKeyword, not_yet, parsed,
};

fn enable(ctx: &mut ProxyCtx<'_>, _w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.enabled = true;
    Ok(())
}

fn uri(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.uri = Some(w.get(2).ok_or("'stats uri' expects a URI prefix.")?.clone());
    Ok(())
}

fn refresh(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    let v = w.get(2).ok_or("'stats refresh' expects a delay.")?;
    let d = crate::config::value::duration_with_unit(v, "stats refresh", 1_000_000)?;
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.refresh = Some(d.as_secs());
    Ok(())
}

fn auth(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    let v = w.get(2).ok_or("'stats auth' expects <user>:<password>.")?;
    let (u, p) = v
        .split_once(':')
        .ok_or("'stats auth' expects <user>:<password>.")?;
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.auth.push((u.to_owned(), p.to_owned()));
    Ok(())
}

fn realm(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.realm = Some(w.get(2).ok_or("'stats realm' expects a realm.")?.clone());
    Ok(())
}

fn admin(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    if !matches!(w.get(2).map(String::as_str), Some("if") | Some("unless")) {
        return Err(
            "'stats admin' requires either 'if' or 'unless' followed by a condition.".into(),
        );
    }
    crate::config::condition::parse_condition(&w[2..], ctx.span)?;
    ctx.proxy.stats.admin.push(w[2..].to_vec());
    Ok(())
}

fn hide_version(ctx: &mut ProxyCtx<'_>, _w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.hide_version = true;
    Ok(())
}

fn show_legends(ctx: &mut ProxyCtx<'_>, _w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.show_legends = true;
    Ok(())
}

/// The `stats` keywords of proxies.
pub static KEYWORDS: &[ProxyKeyword] = &[
    parsed(
        "stats admin",
        FE | LI | BE,
        admin,
        NO_STATS_PAGE,
        "enable admin actions on the stats page when the condition matches",
    ),
    parsed(
        "stats auth",
        ALL,
        auth,
        NO_STATS_PAGE,
        "require HTTP basic authentication for the stats page",
    ),
    parsed(
        "stats enable",
        ALL,
        enable,
        NO_STATS_PAGE,
        "enable the stats page",
    ),
    parsed(
        "stats hide-version",
        ALL,
        hide_version,
        NO_STATS_PAGE,
        "hide the version on the stats page",
    ),
    not_yet("stats http-request", FE | LI | BE),
    parsed(
        "stats realm",
        ALL,
        realm,
        NO_STATS_PAGE,
        "authentication realm of the stats page",
    ),
    parsed(
        "stats refresh",
        ALL,
        refresh,
        NO_STATS_PAGE,
        "auto-refresh delay of the stats page",
    ),
    not_yet("stats scope", ALL),
    not_yet("stats show-desc", ALL),
    parsed(
        "stats show-legends",
        ALL,
        show_legends,
        NO_STATS_PAGE,
        "show legends on the stats page",
    ),
    not_yet("stats show-node", ALL),
    parsed(
        "stats uri",
        ALL,
        uri,
        NO_STATS_PAGE,
        "the stats page's URI prefix",
    ),
];
