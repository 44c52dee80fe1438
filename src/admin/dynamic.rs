//! `add server B/S ADDR [options]` and `del server B/S`: servers added and removed
//! without a reload. The store records the change (`Store::add_dynamic`,
//! `Store::delete_configured`) and the serving loop recompiles the running
//! configuration with it, as a reload that reads no file; what a removed server's
//! in-flight work still uses is forgotten by the store once that work ends.

use super::session::Outcome;
use super::table::need;
use super::{Level, api::Api};
use crate::proxy::serve::Control;
use std::sync::atomic::Ordering;

/// Asks the serving loop to recompile; the alerts when that failed.
async fn rebuild(api: &Api) -> Result<(), String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    api.handle
        .requests
        .send(Control::Rebuild(tx))
        .map_err(|_| "The proxy is stopping.".to_owned())?;
    let r = rx.await.map_err(|_| "The proxy is stopping.".to_owned())?;
    api.refresh();
    r
}

/// `add server <B/S> <addr> [options]`: the new server starts in maintenance, as in
/// HAProxy (`set server B/S state ready` puts it in service).
pub async fn add(api: &Api, level: Level, args: &[String]) -> Outcome {
    if let Some(d) = need(level, Level::Admin) {
        return d;
    }
    let target = args.first().map(String::as_str).unwrap_or("");
    let (b, s) = target.split_once('/').unwrap_or((target, ""));
    if b.is_empty() || s.is_empty() {
        return Outcome::text("Require 'backend/server'.");
    }
    let Some(be) = api.backend(b) else {
        return Outcome::text("No such backend.");
    };
    if api.info().static_lb.iter().any(|n| n == b) {
        return Outcome::text(
            "Backend must use a dynamic load balancing to support dynamic servers.",
        );
    }
    let mut words = vec![s.to_owned()];
    words.extend(args.iter().skip(1).cloned());
    let server = match crate::config::proxy::server::parse_dynamic(b, &words) {
        Ok(sv) => sv,
        Err(e) => return Outcome::text(format!("{}\n", cli_message(&e, target))),
    };
    if be.servers.iter().any(|x| x.name == s) {
        return Outcome::text("Already exists a server with the same name in backend.\n");
    }
    let store = &api.handle.store;
    // Its live state exists before it is compiled, in maintenance: no request reaches
    // it before an operator puts it in service.
    let live = store.backend(b).server(s, server.opts.weight);
    live.maint.store(true, Ordering::Relaxed);
    // A configured server of that name deleted earlier stays deleted: the new one
    // takes its place.
    store.add_dynamic(b, server);
    let r = rebuild(api).await;
    drop(live);
    match r {
        Ok(()) => Outcome::text("New server registered.\n"),
        Err(e) => {
            store.remove_dynamic(b, s);
            Outcome::text(format!("{e}\n"))
        }
    }
}

/// A `server` line's error as HAProxy's CLI prints it: without the `'server B/S' :`
/// prefix of the configuration's messages, an unknown keyword without suggestions.
fn cli_message(e: &str, target: &str) -> String {
    let prefix = format!("'server {target}' : ");
    let e = e.strip_prefix(&prefix).unwrap_or(e);
    match e.split_once("; did you mean") {
        Some((head, _)) if head.starts_with("unknown keyword") => format!("{head}."),
        _ if e.starts_with("unknown keyword") => format!("{e}."),
        _ => e.to_owned(),
    }
}

/// `del server <B/S>`: only a server in maintenance with no connection and nothing
/// queued, as in HAProxy.
pub async fn del(api: &Api, level: Level, target: &str) -> Outcome {
    if let Some(d) = need(level, Level::Admin) {
        return d;
    }
    let (b, s) = target.split_once('/').unwrap_or((target, ""));
    if b.is_empty() || s.is_empty() {
        return Outcome::text("Require 'backend/server'.");
    }
    let (be, srv) = match api.find_server(target) {
        Ok(x) => x,
        Err(m) => return Outcome::text(m.trim_end()),
    };
    if !srv.maint.load(Ordering::Relaxed) {
        return Outcome::text("Only servers in maintenance mode can be deleted.");
    }
    if srv.cur_conns.load(Ordering::SeqCst) > 0 || srv.queued.load(Ordering::SeqCst) > 0 {
        return Outcome::text("Server still has connections attached to it, cannot remove it.");
    }
    srv.pool.clear();
    let store = &api.handle.store;
    let dynamic = store.remove_dynamic(b, s);
    if !dynamic {
        store.delete_configured(b, s);
    }
    drop((be, srv));
    match rebuild(api).await {
        Ok(()) => Outcome::text("Server deleted."),
        Err(e) => {
            if !dynamic {
                store.undelete(b, s);
            }
            Outcome::text(format!("{e}\n"))
        }
    }
}
