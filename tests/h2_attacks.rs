//! The known HTTP/2 attacks against the client side, each bounded, proven with raw
//! frames written over a socket: rapid reset (CVE-2023-44487), CONTINUATION flood, HPACK
//! bomb, too many concurrent streams, window-update overflow; and the connection's own
//! life seen on the wire (SETTINGS as HAProxy announces them, the keep-alive timeout's
//! GOAWAY, a soft stop's graceful GOAWAY, malformed requests compared with haproxy).

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

const PROTOCOL_ERROR: u32 = 1;
const FLOW_CONTROL_ERROR: u32 = 3;
const REFUSED_STREAM: u32 = 7;
const ENHANCE_YOUR_CALM: u32 = 0xb;

const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;

/// One frame read from the proxy.
#[derive(Debug, Clone)]
struct Frame {
    ty: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

impl Frame {
    fn code(&self) -> u32 {
        let at = if self.ty == GOAWAY { 4 } else { 0 };
        u32::from_be_bytes(self.payload[at..at + 4].try_into().unwrap())
    }
}

/// A raw HTTP/2 client connection.
struct Raw {
    s: TcpStream,
    /// The proxy's first SETTINGS frame.
    settings: Vec<(u16, u32)>,
}

impl Raw {
    /// Connects, sends the preface and empty SETTINGS, reads the proxy's SETTINGS.
    fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = Raw {
            s,
            settings: Vec::new(),
        };
        r.write(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        r.frame(SETTINGS, 0, 0, &[]);
        let f = r.next().expect("the proxy's SETTINGS");
        assert_eq!((f.ty, f.flags), (SETTINGS, 0), "{f:?}");
        r.settings = f
            .payload
            .chunks(6)
            .map(|c| {
                (
                    u16::from_be_bytes([c[0], c[1]]),
                    u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                )
            })
            .collect();
        r.frame(SETTINGS, 1, 0, &[]);
        r
    }

    /// A setting the proxy announced, or the protocol's default.
    fn setting(&self, id: u16) -> u32 {
        let default = match id {
            1 => 4096,
            3 => u32::MAX,
            4 => 65535,
            5 => 16384,
            _ => 0,
        };
        self.settings
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map_or(default, |(_, v)| *v)
    }

    /// Writes bytes, ignoring a proxy that closed meanwhile.
    fn write(&mut self, b: &[u8]) {
        let _ = self.s.write_all(b);
    }

    fn encode(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(9 + payload.len());
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        f.extend_from_slice(&[ty, flags]);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn frame(&mut self, ty: u8, flags: u8, stream: u32, payload: &[u8]) {
        self.write(&Self::encode(ty, flags, stream, payload));
    }

    /// The next frame; `None` at the end of the connection.
    fn next(&mut self) -> Option<Frame> {
        let mut h = [0u8; 9];
        self.s.read_exact(&mut h).ok()?;
        let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
        let mut payload = vec![0; len];
        self.s.read_exact(&mut payload).ok()?;
        Some(Frame {
            ty: h[3],
            flags: h[4],
            stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
            payload,
        })
    }

    /// Reads frames until one matches `want` (answering PINGs and SETTINGS); `None`
    /// when the connection ended first.
    fn until(&mut self, want: impl Fn(&Frame) -> bool) -> Option<Frame> {
        loop {
            let f = self.next()?;
            if want(&f) {
                return Some(f);
            }
            match (f.ty, f.flags & 1) {
                (SETTINGS, 0) => self.frame(SETTINGS, 1, 0, &[]),
                (6, 0) => self.frame(6, 1, 0, &f.payload.clone()),
                _ => {}
            }
        }
    }

    /// Reads until the proxy closes; the frames seen.
    fn drain_to_close(&mut self) -> Vec<Frame> {
        let mut seen = Vec::new();
        while let Some(f) = self.until(|_| true) {
            seen.push(f);
        }
        seen
    }
}

/// A GET's header block: `:method GET`, `:scheme http`, `:path`, `:authority` (static
/// table entries and literals without indexing).
fn get(path: &str) -> Vec<u8> {
    let mut b = vec![0x82, 0x86, 0x04, path.len() as u8];
    b.extend_from_slice(path.as_bytes());
    b.extend_from_slice(&[0x01, 9]);
    b.extend_from_slice(b"localhost");
    b
}

/// The `:status` of a response header block as the `h2` crate and haproxy encode it
/// (first field: an indexed status or a literal with the `:status` name).
fn status(block: &[u8]) -> u16 {
    let statics = [
        (8, 200),
        (9, 204),
        (10, 206),
        (11, 304),
        (12, 400),
        (13, 404),
        (14, 500),
    ];
    if block[0] & 0x80 != 0 {
        let i = block[0] & 0x7f;
        return statics.iter().find(|(n, _)| *n == i).unwrap().1;
    }
    // Literal with the name of static entry 8 (incremental, without or never indexed).
    let (len, huffman) = ((block[1] & 0x7f) as usize, block[1] & 0x80 != 0);
    let v = &block[2..2 + len];
    if !huffman {
        return std::str::from_utf8(v).unwrap().parse().unwrap();
    }
    // Huffman codes of the digits: 0-2 on 5 bits (0..2), 3-9 on 6 bits (0x19..0x1f).
    let mut bits: u64 = 0;
    let mut n = 0;
    let mut out = 0u16;
    for &b in v {
        bits = bits << 8 | b as u64;
        n += 8;
        while n >= 5 {
            let five = (bits >> (n - 5)) & 0x1f;
            if five <= 2 {
                out = out * 10 + five as u16;
                n -= 5;
            } else if n >= 6 && (0x19..=0x1f).contains(&((bits >> (n - 6)) & 0x3f)) {
                out = out * 10 + ((bits >> (n - 6)) & 0x3f) as u16 - 0x19 + 3;
                n -= 6;
            } else {
                break;
            }
        }
        if out >= 100 {
            break;
        }
    }
    out
}

const DEFAULTS: &str = "global\n  log stdout format raw local0\n\
    defaults\n  mode http\n  log global\n  option httplog\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

fn config(port: u16, be: u16, global: &str, frontend: &str) -> String {
    let d = DEFAULTS.replacen("global\n", &format!("global\n{global}"), 1);
    format!(
        "{d}frontend f\n  bind 127.0.0.1:{port} proto h2\n{frontend}  default_backend b\n\
         backend b\n  server s1 127.0.0.1:{be}\n"
    )
}

#[test]
fn rapid_reset_is_bounded_by_the_stream_limit_then_enhance_your_calm() {
    let be = HttpBackend::builder("app")
        .delay(Duration::from_millis(500))
        .start();
    let port = free_port();
    let g = Gatehouse::start(
        &config(port, be.port(), "  tune.h2.max-concurrent-streams 10\n", ""),
        &[port],
    );
    let mut c = Raw::connect(port);
    let mut burst = Vec::new();
    for i in 0..1000u32 {
        let id = 2 * i + 1;
        burst.extend(Raw::encode(
            HEADERS,
            END_STREAM | END_HEADERS,
            id,
            &get("/r"),
        ));
        burst.extend(Raw::encode(RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    c.write(&burst);
    let away = c.until(|f| f.ty == GOAWAY).expect("a GOAWAY");
    assert_eq!(away.code(), ENHANCE_YOUR_CALM, "{away:?}");
    c.drain_to_close();
    // Every exchange that began has ended (and logged): at most the stream limit ran.
    let started = be.request_count();
    g.wait_stdout_lines("HTTP/2.0\"", started, Duration::from_secs(10));
    assert!(
        be.request_count() <= 10,
        "{} requests reached the server",
        be.request_count()
    );
}

#[test]
fn continuation_flood_is_cut_with_enhance_your_calm() {
    let be = HttpBackend::start("app");
    let port = free_port();
    let _g = Gatehouse::start(&config(port, be.port(), "", ""), &[port]);
    let mut c = Raw::connect(port);
    let block = get("/flood");
    let mut burst = Raw::encode(HEADERS, END_STREAM, 1, &block[..2]);
    for _ in 0..10_000 {
        burst.extend(Raw::encode(CONTINUATION, 0, 1, &[]));
    }
    c.write(&burst);
    let away = c.until(|f| f.ty == GOAWAY).expect("a GOAWAY");
    assert_eq!(away.code(), ENHANCE_YOUR_CALM, "{away:?}");
    c.drain_to_close();
    assert_eq!(be.request_count(), 0);
}

#[test]
fn hpack_bomb_closes_the_connection_before_any_server_sees_it() {
    let be = HttpBackend::start("app");
    let (p1, p2) = (free_port(), free_port());
    let _g = Gatehouse::start(&config(p1, be.port(), "", ""), &[p1]);
    let _h = Haproxy::start(&config(p2, be.port(), "", ""), &[p2]);
    // One 4000-byte header added to the dynamic table, then referenced 1000 times: a
    // 5 kB block that decodes to 4 MB.
    let mut block = get("/bomb");
    block.extend_from_slice(&[0x40, 6]);
    block.extend_from_slice(b"x-bomb");
    block.extend_from_slice(&[0x7f, 0xa1, 0x1e]);
    block.extend(std::iter::repeat_n(b'a', 4000));
    block.extend(std::iter::repeat_n(0xbe, 1000));
    // gatehouse: GOAWAY ENHANCE_YOUR_CALM (the h2 crate's header list bound); haproxy
    // 2.6: GOAWAY COMPRESSION_ERROR. Both close before decoding further.
    for (port, code) in [(p1, ENHANCE_YOUR_CALM), (p2, 9)] {
        let mut c = Raw::connect(port);
        c.frame(HEADERS, END_STREAM | END_HEADERS, 1, &block);
        let away = c.until(|f| f.ty == GOAWAY).expect("a GOAWAY");
        assert_eq!(away.code(), code, "{away:?}");
        c.drain_to_close();
    }
    assert_eq!(be.request_count(), 0);
}

#[test]
fn streams_past_max_concurrent_streams_are_refused() {
    let be = HttpBackend::builder("app")
        .delay(Duration::from_millis(800))
        .start();
    let port = free_port();
    let _g = Gatehouse::start(
        &config(port, be.port(), "  tune.h2.max-concurrent-streams 3\n", ""),
        &[port],
    );
    let mut c = Raw::connect(port);
    assert_eq!(c.setting(3), 3);
    for id in [1, 3, 5] {
        c.frame(HEADERS, END_STREAM | END_HEADERS, id, &get("/slow"));
    }
    be.wait_requests(3);
    c.frame(HEADERS, END_STREAM | END_HEADERS, 7, &get("/fourth"));
    let rst = c
        .until(|f| f.stream == 7 || f.ty == GOAWAY)
        .expect("an answer to stream 7");
    assert_eq!(
        (rst.ty, rst.code()),
        (RST_STREAM, REFUSED_STREAM),
        "{rst:?}"
    );
    // The three in flight complete.
    let mut done = Vec::new();
    while done.len() < 3 {
        let h = c
            .until(|f| f.ty == HEADERS || f.ty == GOAWAY)
            .expect("a response");
        assert_eq!((h.ty, status(&h.payload)), (HEADERS, 200), "{h:?}");
        done.push(h.stream);
    }
    done.sort();
    assert_eq!(done, [1, 3, 5]);
    assert_eq!(be.request_count(), 3);
}

#[test]
fn window_update_overflow_is_a_flow_control_error() {
    let be = HttpBackend::builder("app")
        .delay(Duration::from_millis(300))
        .start();
    let port = free_port();
    let _g = Gatehouse::start(&config(port, be.port(), "", ""), &[port]);
    // On a stream: that stream is reset, the connection goes on.
    let mut c = Raw::connect(port);
    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, &get("/w"));
    be.wait_requests(1);
    c.frame(WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes());
    let rst = c.until(|f| f.stream == 1).expect("an answer on stream 1");
    assert_eq!(
        (rst.ty, rst.code()),
        (RST_STREAM, FLOW_CONTROL_ERROR),
        "{rst:?}"
    );
    c.frame(HEADERS, END_STREAM | END_HEADERS, 3, &get("/w2"));
    let h = c
        .until(|f| f.stream == 3 && f.ty == HEADERS)
        .expect("stream 3");
    assert_eq!(status(&h.payload), 200);
    // On the connection: GOAWAY.
    let mut c = Raw::connect(port);
    c.frame(WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes());
    let away = c.until(|f| f.ty == GOAWAY).expect("a GOAWAY");
    assert_eq!(away.code(), FLOW_CONTROL_ERROR, "{away:?}");
    // A zero increment is a protocol error.
    let mut c = Raw::connect(port);
    c.frame(WINDOW_UPDATE, 0, 0, &0u32.to_be_bytes());
    let away = c.until(|f| f.ty == GOAWAY).expect("a GOAWAY");
    assert_eq!(away.code(), PROTOCOL_ERROR, "{away:?}");
}

#[test]
fn settings_are_announced_as_haproxy_does() {
    let be = HttpBackend::start("app");
    for global in [
        "",
        "  tune.h2.max-concurrent-streams 50\n  tune.h2.initial-window-size 131072\n  tune.h2.header-table-size 8192\n",
        "  tune.bufsize 65536\n  tune.h2.max-frame-size 20000\n",
        "  tune.bufsize 32768\n",
        "  tune.h2.max-frame-size 32768\n",
    ] {
        let (p1, p2) = (free_port(), free_port());
        let _g = Gatehouse::start(&config(p1, be.port(), global, ""), &[p1]);
        let _h = Haproxy::start(&config(p2, be.port(), global, ""), &[p2]);
        let (ours, theirs) = (Raw::connect(p1), Raw::connect(p2));
        for id in [1, 3, 4, 5] {
            assert_eq!(
                ours.setting(id),
                theirs.setting(id),
                "setting {id} with {global:?}"
            );
        }
    }
}

#[test]
fn an_idle_connection_gets_goaway_after_http_keep_alive() {
    let be = HttpBackend::start("app");
    let port = free_port();
    let _g = Gatehouse::start(
        &config(port, be.port(), "", "  timeout http-keep-alive 300ms\n"),
        &[port],
    );
    let mut c = Raw::connect(port);
    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, &get("/ka"));
    c.until(|f| f.stream == 1 && f.flags & END_STREAM != 0)
        .expect("the response");
    let idle = Instant::now();
    let away = c.until(|f| f.ty == GOAWAY).expect("a GOAWAY");
    assert_eq!(
        (away.code(), &away.payload[..4]),
        (0, &1u32.to_be_bytes()[..])
    );
    c.drain_to_close();
    // The keep-alive timeout, not `timeout client` (5 s).
    assert!(
        idle.elapsed() < Duration::from_secs(4),
        "{:?}",
        idle.elapsed()
    );
}

#[test]
fn a_soft_stop_sends_goaway_and_the_stream_in_flight_completes() {
    let be = HttpBackend::builder("app")
        .delay(Duration::from_millis(500))
        .start();
    let port = free_port();
    let mut g = Gatehouse::start(&config(port, be.port(), "", ""), &[port]);
    let mut c = Raw::connect(port);
    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, &get("/inflight"));
    be.wait_requests(1);
    g.signal(libc::SIGUSR1);
    let away = c.until(|f| f.ty == GOAWAY).expect("a GOAWAY");
    assert_eq!(away.code(), 0, "{away:?}");
    let rest = c.drain_to_close();
    let head = rest
        .iter()
        .find(|f| f.stream == 1 && f.ty == HEADERS)
        .unwrap_or_else(|| panic!("no response after GOAWAY: {rest:?}"));
    assert_eq!(status(&head.payload), 200);
    assert!(
        rest.iter()
            .any(|f| f.stream == 1 && f.flags & END_STREAM != 0)
    );
    assert!(g.wait_exit(Duration::from_secs(10)).is_some());
}

/// What a proxy does first with a request on stream 1: `HEADERS <status>`,
/// `RST_STREAM <code>` or `GOAWAY <code>`.
fn reaction(port: u16, block: &[u8]) -> String {
    let mut c = Raw::connect(port);
    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, block);
    match c.until(|f| f.stream == 1 || f.ty == GOAWAY) {
        Some(f) if f.ty == HEADERS => format!("HEADERS {}", status(&f.payload)),
        Some(f) if f.ty == RST_STREAM => format!("RST_STREAM {}", f.code()),
        Some(f) => format!("GOAWAY {}", f.code()),
        None => "closed".into(),
    }
}

#[test]
fn malformed_requests_are_refused_as_haproxy_does() {
    let be = HttpBackend::start("app");
    let (p1, p2) = (free_port(), free_port());
    let _g = Gatehouse::start(&config(p1, be.port(), "", ""), &[p1]);
    let _h = Haproxy::start(&config(p2, be.port(), "", ""), &[p2]);
    let mut no_path = vec![0x82, 0x86, 0x01, 9];
    no_path.extend_from_slice(b"localhost");
    let mut upper = get("/u");
    upper.extend_from_slice(&[0x00, 1, b'X', 1, b'y']);
    let mut conn_hdr = get("/c");
    conn_hdr.extend_from_slice(&[0x00, 10]);
    conn_hdr.extend_from_slice(b"connection");
    conn_hdr.extend_from_slice(&[5]);
    conn_hdr.extend_from_slice(b"close");
    for (what, block) in [("no :path", no_path), ("connection header", conn_hdr)] {
        let (ours, theirs) = (reaction(p1, &block), reaction(p2, &block));
        assert_eq!(ours, theirs, "{what}");
    }
    // An uppercase header name: a PROTOCOL_ERROR for both, but the h2 crate's HPACK
    // decoder makes it the connection's where haproxy resets the stream only.
    assert_eq!(reaction(p1, &upper), "GOAWAY 1");
    assert_eq!(reaction(p2, &upper), "RST_STREAM 1");
    assert_eq!(be.request_count(), 0);
}

#[test]
fn a_stream_reset_while_queued_is_abandoned_with_abortonclose() {
    let be = HttpBackend::builder("app")
        .delay(Duration::from_millis(800))
        .start();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} proto h2\n  default_backend b\n\
         backend b\n  option abortonclose\n  timeout queue 5s\n  server s1 127.0.0.1:{} maxconn 1\n",
        be.port()
    );
    let g = Gatehouse::start(&cfg, &[port]);
    let mut c = Raw::connect(port);
    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, &get("/first"));
    be.wait_requests(1);
    c.frame(HEADERS, END_STREAM | END_HEADERS, 3, &get("/queued"));
    c.frame(RST_STREAM, 0, 3, &8u32.to_be_bytes());
    // The queued exchange ends as a client abort in the queue (HAProxy's CQ).
    let lines = g.wait_stdout_lines(" CQ-- ", 1, Duration::from_secs(5));
    assert!(
        lines.iter().any(|l| l.contains("/queued HTTP/2.0")),
        "{lines:?}"
    );
    let h = c
        .until(|f| f.stream == 1 && f.ty == HEADERS)
        .expect("stream 1");
    assert_eq!(status(&h.payload), 200);
    g.wait_stdout_lines("/first HTTP/2.0", 1, Duration::from_secs(5));
    assert_eq!(be.request_count(), 1);
}
