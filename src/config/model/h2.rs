//! The HTTP/2 tunables of `global` (`tune.h2.*`), with HAProxy 2.6's defaults.

/// `tune.h2.*`: the settings each HTTP/2 connection announces and enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H2Tune {
    /// `tune.h2.header-table-size`: the HPACK dynamic table size (4096..65536, default
    /// 4096).
    pub header_table_size: u32,
    /// `tune.h2.initial-window-size`: the stream window announced (default 65535).
    pub initial_window_size: u32,
    /// `tune.h2.max-concurrent-streams`: streams per connection (default 100; 0: no
    /// limit).
    pub max_concurrent_streams: u32,
    /// `tune.h2.max-frame-size`: the largest frame accepted; `None`: the largest of
    /// 16384 and `tune.bufsize`.
    pub max_frame_size: Option<u32>,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL is announced (WebSocket over HTTP/2, RFC 8441);
    /// `h2-workaround-bogus-websocket-clients` turns it off.
    pub websocket: bool,
}

impl Default for H2Tune {
    fn default() -> Self {
        H2Tune {
            header_table_size: 4096,
            initial_window_size: 65535,
            max_concurrent_streams: 100,
            max_frame_size: None,
            websocket: true,
        }
    }
}
