//! Turning a fresh server connection into an HTTP/2 pool entry: the client preface and
//! SETTINGS are sent, and a task of its own drives the connection's frames until it
//! closes (its entry then reports it unusable).
//!
//! The SETTINGS sent are those HAProxy 2.6 sends to servers (`h2c_send_settings`, shared
//! by both sides): `tune.h2.header-table-size`, `tune.h2.initial-window-size`,
//! `tune.h2.max-concurrent-streams` and `tune.h2.max-frame-size` (the larger of 16384
//! and `tune.bufsize` by default), with `ENABLE_PUSH 0`. `tune.h2.max-concurrent-streams`
//! also caps the streams opened on one connection, whatever the server allows, and is
//! the number assumed until the server's SETTINGS arrive (HAProxy's `streams_limit`).

use crate::proxy::h2::Limits;
use crate::runtime::conn::{PoolKey, ServerConn};
use crate::runtime::mux::H2Conn;
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Streams assumed allowed until the server's SETTINGS arrive with
/// `tune.h2.max-concurrent-streams 0` (no limit of ours).
const INITIAL_STREAMS: u32 = 100;

/// The receive window of the whole connection: several streams share it.
const CONNECTION_WINDOW: u32 = 4 << 20;

/// Starts HTTP/2 on `conn` (prior knowledge, or `h2` chosen by ALPN) with the settings
/// of `tune`: sends the preface, spawns the task driving the connection, and returns
/// its pool entry.
pub async fn handshake(
    conn: ServerConn,
    key: PoolKey,
    tune: &Limits,
) -> Result<Arc<H2Conn>, h2::Error> {
    let cap = (tune.max_streams > 0).then_some(tune.max_streams);
    let mut b = h2::client::Builder::new();
    b.initial_max_send_streams(cap.unwrap_or(INITIAL_STREAMS) as usize)
        .initial_window_size(tune.initial_window)
        .initial_connection_window_size(CONNECTION_WINDOW.max(tune.initial_window))
        .max_frame_size(tune.max_frame)
        .header_table_size(tune.header_table)
        .enable_push(false);
    if let Some(n) = cap {
        b.max_concurrent_streams(n);
    }
    let (send, mut connection) = b.handshake::<_, Bytes>(conn).await?;
    let ping = connection.ping_pong();
    let ended = Arc::new(AtomicBool::new(false));
    let flag = ended.clone();
    tokio::spawn(async move {
        let _ = connection.await;
        flag.store(true, Ordering::Release);
    });
    Ok(Arc::new(H2Conn::new(send, key, ended, cap).with_ping(ping)))
}
