//! What an HTTP/2 connection announces and enforces, from `tune.h2.*` and
//! `tune.bufsize`, and the `h2` crate's server built from it.
//!
//! The known attacks and what bounds each:
//! - rapid reset (CVE-2023-44487): a stream the client resets keeps its slot until its
//!   exchange ends (HAProxy counts closing streams the same way), so at most
//!   `max-concurrent-streams` exchanges run per connection; a stream opened beyond that is
//!   refused (`REFUSED_STREAM`), and a client that keeps doing so gets a GOAWAY
//!   `ENHANCE_YOUR_CALM` ([`Limits::max_refused`]). Streams reset before they were
//!   accepted are bounded by the crate (`max_pending_accept_reset_streams`).
//! - CONTINUATION flood and HPACK bomb: the decoded header list is bounded by
//!   `tune.bufsize` (HAProxy's head must fit in a buffer): a larger one is answered 431
//!   and refused; the CONTINUATION frames of one block are bounded by the crate from
//!   that size (GOAWAY `ENHANCE_YOUR_CALM` past it).
//! - too many concurrent streams: `tune.h2.max-concurrent-streams` (SETTINGS, then
//!   `REFUSED_STREAM`).
//! - window-update abuse: a window past 2^31-1 is a `FLOW_CONTROL_ERROR` (the crate).

use crate::runtime::snapshot::GlobalRt;

/// The settings of one HTTP/2 connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Streams running at once (0: no limit).
    pub max_streams: u32,
    /// Stream window announced.
    pub initial_window: u32,
    /// Largest frame accepted.
    pub max_frame: u32,
    /// HPACK dynamic table size.
    pub header_table: u32,
    /// Largest decoded header list (name + value + 32 per field).
    pub max_header_list: u32,
    /// Extended CONNECT (WebSocket over HTTP/2) is announced.
    pub connect_protocol: bool,
}

impl Limits {
    /// The settings of the snapshot's `global` section.
    pub fn of(g: &GlobalRt) -> Limits {
        let t = g.h2;
        let buf = u32::try_from(g.bufsize).unwrap_or(u32::MAX);
        // HAProxy: the larger of 16384 and the buffer size, never more than a buffer
        // (nor less than the protocol's minimum).
        let max_frame = t
            .max_frame_size
            .unwrap_or(buf.max(16384))
            .min(buf.max(16384))
            .clamp(16384, 16_777_215);
        Limits {
            max_streams: t.max_concurrent_streams,
            initial_window: t.initial_window_size,
            max_frame,
            header_table: t.header_table_size,
            max_header_list: buf,
            connect_protocol: t.websocket,
        }
    }

    /// Streams refused past the limit before the connection is closed with
    /// `ENHANCE_YOUR_CALM`: a client that respects the limit is never refused (its
    /// resets free no slot it could count on).
    pub fn max_refused(&self) -> usize {
        (self.max_streams as usize).max(10)
    }

    /// The `h2` server with these settings.
    pub fn builder(&self) -> h2::server::Builder {
        let mut b = h2::server::Builder::new();
        b.initial_window_size(self.initial_window)
            .initial_connection_window_size(self.initial_window.max(65535))
            .max_frame_size(self.max_frame)
            .header_table_size(self.header_table)
            .max_header_list_size(self.max_header_list);
        if self.max_streams > 0 {
            b.max_concurrent_streams(self.max_streams);
        }
        if self.connect_protocol {
            // RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL, as HAProxy 2.6 sends it.
            b.enable_connect_protocol();
        }
        b
    }
}
