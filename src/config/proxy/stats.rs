//! `stats …` keywords of proxies (the stats page, served by `src/stats/`).

use crate::config::keyword::{ALL, BE, FE, LI, ProxyCtx, ProxyKeyword, kw, not_yet};

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
    let cond = crate::config::condition::parse_condition(&w[2..], ctx.span)?;
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.admin.push(cond);
    Ok(())
}

fn hide_version(ctx: &mut ProxyCtx<'_>, _w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.hide_version = true;
    Ok(())
}

fn show_legends(ctx: &mut ProxyCtx<'_>, _w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.show_legends = true;
    Ok(())
}

fn show_node(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.show_node = Some(w.get(2).cloned().unwrap_or_default());
    Ok(())
}

fn show_desc(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.show_desc = Some(w[2..].join(" "));
    Ok(())
}

fn scope(ctx: &mut ProxyCtx<'_>, w: &[String]) -> Result<(), String> {
    let name = w
        .get(2)
        .ok_or("'stats scope' expects <proxy_id> | '.'.")?
        .clone();
    ctx.proxy.stats.enabled = true;
    ctx.proxy.stats.scope.push(name);
    Ok(())
}

/// The `stats` keywords of proxies.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "stats admin",
        FE | LI | BE,
        admin,
        "enable admin actions on the stats page when the condition matches",
    ),
    kw(
        "stats auth",
        ALL,
        auth,
        "require HTTP basic authentication for the stats page",
    ),
    kw("stats enable", ALL, enable, "enable the stats page"),
    kw(
        "stats hide-version",
        ALL,
        hide_version,
        "hide the version on the stats page",
    ),
    not_yet("stats http-request", FE | LI | BE),
    kw(
        "stats realm",
        ALL,
        realm,
        "authentication realm of the stats page",
    ),
    kw(
        "stats refresh",
        ALL,
        refresh,
        "auto-refresh delay of the stats page",
    ),
    kw(
        "stats scope",
        ALL,
        scope,
        "limit the stats page to these proxies",
    ),
    kw(
        "stats show-desc",
        ALL,
        show_desc,
        "show a description on the stats page",
    ),
    kw(
        "stats show-legends",
        ALL,
        show_legends,
        "show legends (addresses, algorithms) on the stats page",
    ),
    kw(
        "stats show-node",
        ALL,
        show_node,
        "show the node name on the stats page",
    ),
    kw("stats uri", ALL, uri, "the stats page's URI prefix"),
];
