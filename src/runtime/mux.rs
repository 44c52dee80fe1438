//! HTTP/2 server connections as pool entries: one connection carries several requests at
//! once (one stream each) up to the server's `SETTINGS_MAX_CONCURRENT_STREAMS`, so an
//! entry stays in its server's pool while in use and requests pick one with a free
//! stream. A connection that received a GOAWAY or closed is never picked again.

use super::conn::PoolKey;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// One HTTP/2 connection to a server: the handle that opens streams on it (its frames
/// are driven by a task of its own), the key a request must match to use it, and its
/// stream counts.
#[derive(Debug)]
pub struct H2Conn {
    send: h2::client::SendRequest<Bytes>,
    key: PoolKey,
    /// Streams open on it now.
    streams: AtomicU32,
    /// Requests it carried to their end.
    served: AtomicU64,
    /// Set by its driving task when the connection ended.
    ended: Arc<AtomicBool>,
    /// Most streams at once whatever the server allows (`tune.h2.max-concurrent-streams`).
    cap: Option<u32>,
    /// The connection's PING handle, used once to learn that the server's SETTINGS
    /// were read (see [`H2Conn::await_settings`]).
    ping: tokio::sync::Mutex<Option<h2::PingPong>>,
    /// The server's first SETTINGS are known to have been read.
    settings_read: AtomicBool,
}

/// Which open connections a request may share (`http-reuse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    /// Only a connection with no stream in flight (`safe`: a connection running streams
    /// is reserved to the session that runs them).
    Idle,
    /// Any with a free stream that already carried more than one request (`aggressive`,
    /// a session's first request).
    Proven,
    /// Any with a free stream (`aggressive` after the first request, `always`).
    Any,
}

impl H2Conn {
    /// An entry for a connection whose handshake was sent: `ended` is set by the task
    /// that drives it once it closes; `cap` bounds its streams below the server's limit.
    pub fn new(
        send: h2::client::SendRequest<Bytes>,
        key: PoolKey,
        ended: Arc<AtomicBool>,
        cap: Option<u32>,
    ) -> Self {
        H2Conn {
            send,
            key,
            streams: AtomicU32::new(0),
            served: AtomicU64::new(0),
            ended,
            cap,
            ping: tokio::sync::Mutex::new(None),
            settings_read: AtomicBool::new(false),
        }
    }

    /// Gives it the connection's PING handle ([`H2Conn::await_settings`] needs it).
    pub fn with_ping(mut self, ping: Option<h2::PingPong>) -> Self {
        self.ping = tokio::sync::Mutex::new(ping);
        self
    }

    /// Whether the server announced `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441).
    pub fn extended_connect(&self) -> bool {
        self.send.is_extended_connect_protocol_enabled()
    }

    /// Returns once the server's first SETTINGS frame was read. HAProxy sends no stream
    /// before it; `h2` does, so a request that depends on the server's settings (an
    /// extended CONNECT) waits for them: a PING is sent and its answer awaited, which a
    /// server can only send after its SETTINGS (the first frame of its preface).
    pub async fn await_settings(&self) {
        if self.settings_read.load(Ordering::Acquire) {
            return;
        }
        let mut ping = self.ping.lock().await;
        if self.settings_read.load(Ordering::Acquire) {
            return;
        }
        if let Some(p) = ping.as_mut() {
            let _ = p.ping(h2::Ping::opaque()).await;
        }
        self.settings_read.store(true, Ordering::Release);
    }

    /// The key of the pool it belongs to.
    pub fn key(&self) -> &PoolKey {
        &self.key
    }

    /// Whether it can open a new stream: not closed, no GOAWAY received, no connection
    /// error (the `h2` crate refuses new streams then).
    pub fn usable(&self) -> bool {
        if self.ended.load(Ordering::Acquire) {
            return false;
        }
        let mut probe = self.send.clone();
        let mut cx = Context::from_waker(Waker::noop());
        !matches!(probe.poll_ready(&mut cx), Poll::Ready(Err(_)))
    }

    /// The most streams it may run at once: the server's `SETTINGS_MAX_CONCURRENT_STREAMS`
    /// (`tune.h2.max-concurrent-streams` until its SETTINGS arrive, as HAProxy assumes),
    /// never more than `tune.h2.max-concurrent-streams`.
    pub fn max_streams(&self) -> u32 {
        let server = self.send.current_max_send_streams().min(u32::MAX as usize) as u32;
        self.cap.map_or(server, |c| c.min(server))
    }

    /// Reserves a stream when one is free and `share` allows: the handle to open it.
    pub fn try_open(&self, share: Share) -> Option<h2::client::SendRequest<Bytes>> {
        if share == Share::Proven && self.served.load(Ordering::Relaxed) < 2 {
            return None;
        }
        let max = self.max_streams().max(1);
        let limit = if share == Share::Idle { 1 } else { max };
        let mut cur = self.streams.load(Ordering::Acquire);
        loop {
            if cur >= limit {
                return None;
            }
            match self.streams.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
        if !self.usable() {
            self.streams.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(self.send.clone())
    }

    /// Reserves a stream on a connection just made (no limit checked).
    pub fn open_first(&self) -> h2::client::SendRequest<Bytes> {
        self.streams.fetch_add(1, Ordering::AcqRel);
        self.send.clone()
    }

    /// A stream reserved by [`H2Conn::try_open`] or [`H2Conn::open_first`] ended;
    /// `served`: its request got its whole response.
    pub fn close_stream(&self, served: bool) {
        if served {
            self.served.fetch_add(1, Ordering::Relaxed);
        }
        self.streams.fetch_sub(1, Ordering::AcqRel);
    }

    /// Streams open on it now.
    pub fn streams(&self) -> u32 {
        self.streams.load(Ordering::Acquire)
    }
}

/// The HTTP/2 connections of one server.
#[derive(Debug, Default)]
pub struct MuxPool {
    conns: Mutex<Vec<Arc<H2Conn>>>,
}

/// Most HTTP/2 connections kept per server.
const MAX_PER_SERVER: usize = 1024;

impl MuxPool {
    /// A connection matching `key` with a stream free per `share`, the stream reserved;
    /// connections that can no longer open streams are dropped from the pool.
    pub fn take(
        &self,
        key: &PoolKey,
        share: Share,
    ) -> Option<(Arc<H2Conn>, h2::client::SendRequest<Bytes>)> {
        let mut v = self.conns.lock().ok()?;
        v.retain(|c| c.usable());
        v.iter().rev().find_map(|c| {
            if c.key != *key {
                return None;
            }
            c.try_open(share).map(|s| (c.clone(), s))
        })
    }

    /// Lists a connection for sharing (once).
    pub fn put(&self, conn: &Arc<H2Conn>) {
        if let Ok(mut v) = self.conns.lock()
            && v.len() < MAX_PER_SERVER
            && !v.iter().any(|c| Arc::ptr_eq(c, conn))
        {
            v.push(conn.clone());
        }
    }

    /// Connections listed now (for tests and statistics).
    pub fn len(&self) -> usize {
        self.conns.lock().map(|v| v.len()).unwrap_or(0)
    }

    /// Whether none is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every connection (each closes once its streams ended).
    pub fn clear(&self) {
        if let Ok(mut v) = self.conns.lock() {
            v.clear();
        }
    }
}
