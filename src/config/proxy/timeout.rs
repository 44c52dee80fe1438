//! `timeout <kind> <value>`: every timeout kind of HAProxy 2.6.

use crate::config::keyword::{ALL, BACK, FRONT, ProxyCtx, ProxyKeyword, kw};
use crate::config::model::Timeouts;
use crate::config::value::duration;
use std::time::Duration;

fn set(
    ctx: &mut ProxyCtx<'_>,
    words: &[String],
    slot: fn(&mut Timeouts) -> &mut Option<Duration>,
) -> Result<(), String> {
    let name = format!("timeout {}", words[1]);
    let v = words
        .get(2)
        .ok_or_else(|| format!("'{name}' expects an integer value (in milliseconds)"))?;
    let d = duration(v, &name)?;
    if let Some(extra) = words.get(3) {
        return Err(format!(
            "'{name}' cannot handle unexpected argument '{extra}'."
        ));
    }
    *slot(&mut ctx.proxy.timeouts) = Some(d);
    Ok(())
}

macro_rules! timeout_kw {
    ($fname:ident, $field:ident) => {
        fn $fname(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
            set(ctx, words, |t| &mut t.$field)
        }
    };
}

timeout_kw!(check, check);
timeout_kw!(client, client);
timeout_kw!(client_fin, client_fin);
timeout_kw!(connect, connect);
timeout_kw!(http_keep_alive, http_keep_alive);
timeout_kw!(http_request, http_request);
timeout_kw!(queue, queue);
timeout_kw!(server, server);
timeout_kw!(server_fin, server_fin);
timeout_kw!(tarpit, tarpit);
timeout_kw!(tunnel, tunnel);

/// The `timeout` keywords.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "timeout check",
        BACK,
        check,
        "extra time a health check may take to answer once connected",
    ),
    kw(
        "timeout client",
        FRONT,
        client,
        "inactivity on the client side",
    ),
    kw(
        "timeout client-fin",
        FRONT,
        client_fin,
        "inactivity on the client side once it half-closed",
    ),
    kw(
        "timeout connect",
        BACK,
        connect,
        "time to establish a connection to a server",
    ),
    kw(
        "timeout http-keep-alive",
        ALL,
        http_keep_alive,
        "wait for the next request on a kept-alive connection",
    ),
    kw(
        "timeout http-request",
        ALL,
        http_request,
        "time to receive a complete request head",
    ),
    kw(
        "timeout queue",
        BACK,
        queue,
        "time a request may wait in a queue",
    ),
    kw(
        "timeout server",
        BACK,
        server,
        "inactivity on the server side",
    ),
    kw(
        "timeout server-fin",
        BACK,
        server_fin,
        "inactivity on the server side once it half-closed",
    ),
    kw(
        "timeout tarpit",
        ALL,
        tarpit,
        "how long tarpitted requests are held (default: timeout connect)",
    ),
    kw(
        "timeout tunnel",
        BACK,
        tunnel,
        "inactivity of a tunnel (WebSocket, CONNECT, tcp)",
    ),
];
