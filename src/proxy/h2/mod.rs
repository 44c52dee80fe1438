//! HTTP/2 on the client side (`bind … proto h2`, `bind … ssl alpn h2`): the `h2` crate
//! does the framing, HPACK and flow control; this module maps each stream onto the
//! exchange through [`H2Client`], the stream's [`ClientCodec`](crate::proxy::codec)
//! implementation, so that HTTP/2 requests run the same rules, balancing, retries,
//! counters and log line as HTTP/1 ones and reach the same (HTTP/1) servers.
//! Keywords: `proto h2` (bind), `tune.h2.header-table-size`,
//! `tune.h2.initial-window-size`, `tune.h2.max-concurrent-streams`,
//! `tune.h2.max-frame-size`, `h2-workaround-bogus-websocket-clients`. Extended CONNECT
//! (WebSocket over HTTP/2, RFC 8441) and CONNECT streams become tunnels to the server.
//!
//! Files: `conn.rs` the connection (streams as tasks, timeouts, GOAWAY), `limits.rs`
//! the settings and the attacks they bound, `client_codec.rs` the stream codec,
//! `data_stream.rs` a tunnelled stream as a byte stream (both sides),
//! `request.rs` the request head as HAProxy translates it, `response.rs` heads and
//! trailers back.

mod client_codec;
mod conn;
mod data_stream;
mod limits;
mod request;
mod response;

pub use client_codec::{H2Client, StreamIo};
pub use conn::serve;
pub use data_stream::DataStream;
pub use limits::Limits;

/// The ALPN name of HTTP/2 over TLS.
pub const ALPN: &[u8] = b"h2";
