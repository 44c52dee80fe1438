//! Turning a fresh server connection into an HTTP/2 pool entry: the client preface and
//! SETTINGS are sent, and a task of its own drives the connection's frames until it
//! closes (its entry then reports it unusable).

use crate::runtime::conn::{PoolKey, ServerConn};
use crate::runtime::mux::H2Conn;
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Streams assumed allowed until the server's SETTINGS arrive (HAProxy assumes 100).
const INITIAL_STREAMS: usize = 100;

/// The receive window of the whole connection: several streams share it.
const CONNECTION_WINDOW: u32 = 4 << 20;

/// Starts HTTP/2 on `conn` (prior knowledge, or `h2` chosen by ALPN): sends the
/// preface, spawns the task driving the connection, and returns its pool entry.
pub async fn handshake(conn: ServerConn, key: PoolKey) -> Result<Arc<H2Conn>, h2::Error> {
    let (send, connection) = h2::client::Builder::new()
        .initial_max_send_streams(INITIAL_STREAMS)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .enable_push(false)
        .handshake::<_, Bytes>(conn)
        .await?;
    let ended = Arc::new(AtomicBool::new(false));
    let flag = ended.clone();
    tokio::spawn(async move {
        let _ = connection.await;
        flag.store(true, Ordering::Release);
    });
    Ok(Arc::new(H2Conn::new(send, key, ended)))
}
