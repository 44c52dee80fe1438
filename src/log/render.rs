//! Rendering a compiled [`LogFormatSpec`] for one [`LogRecord`], byte for byte like
//! HAProxy 2.6's `sess_build_logline()` (quoting, `#XX` encoding, merged spaces).

use super::format::{LogFormatSpec, Node, OPT_ESC, OPT_HEXA, OPT_MANDATORY, OPT_QUOTE, Var};
use super::record::LogRecord;
use super::time;
use crate::acl::SampleSource;
use std::net::{IpAddr, SocketAddr};

/// Where a line is rendered: a `String` for log lines, bytes for HTTP payloads and
/// header values (which may carry non-UTF-8 sample bytes).
pub(crate) trait Out {
    fn push(&mut self, c: char);
    fn push_str(&mut self, s: &str);
    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> std::fmt::Result;
    /// Runs `f` on a `String` whose text is then appended (date helpers write strings).
    fn with_string(&mut self, f: &mut dyn FnMut(&mut String));
}

impl Out for String {
    fn push(&mut self, c: char) {
        String::push(self, c);
    }
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> std::fmt::Result {
        std::fmt::Write::write_fmt(self, args)
    }
    fn with_string(&mut self, f: &mut dyn FnMut(&mut String)) {
        f(self);
    }
}

impl Out for Vec<u8> {
    fn push(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }
    fn push_str(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> std::fmt::Result {
        std::io::Write::write_fmt(self, args).map_err(|_| std::fmt::Error)
    }
    fn with_string(&mut self, f: &mut dyn FnMut(&mut String)) {
        let mut s = String::new();
        f(&mut s);
        self.extend_from_slice(s.as_bytes());
    }
}

/// Which bytes `%r`/`%H*` encode as `#XX`: controls, 127-255, `"` and `#`.
fn url_encoded(c: u8) -> bool {
    !(32..127).contains(&c) || c == b'"' || c == b'#'
}

/// Which bytes captured headers encode as `#XX`: as URLs plus `{`, `|` and `}`.
fn hdr_encoded(c: u8) -> bool {
    url_encoded(c) || c == b'{' || c == b'|' || c == b'}'
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `s`, encoding bytes selected by `enc` as `#XX` and, with `E`, escaping
/// `"`, `\` and `]` with a backslash.
fn encode<O: Out + ?Sized>(out: &mut O, s: &[u8], enc: fn(u8) -> bool, opts: u8) {
    for &c in s {
        if enc(c) {
            out.push('#');
            out.push(HEX[(c >> 4) as usize] as char);
            out.push(HEX[(c & 15) as usize] as char);
        } else {
            if opts & OPT_ESC != 0 && matches!(c, b'"' | b'\\' | b']') {
                out.push('\\');
            }
            out.push(c as char);
        }
    }
}

/// HAProxy's `lf_text()`: optional quotes, `E` escaping, `-` for a missing value.
fn text<O: Out + ?Sized>(out: &mut O, s: Option<&str>, opts: u8) {
    let q = opts & OPT_QUOTE != 0;
    if q {
        out.push('"');
    }
    match s {
        Some(s) if !s.is_empty() => {
            if opts & OPT_ESC != 0 {
                for c in s.chars() {
                    if matches!(c, '"' | '\\' | ']') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            } else {
                out.push_str(s);
            }
        }
        _ => {
            if !q && opts & OPT_MANDATORY != 0 {
                out.push('-');
            }
        }
    }
    if q {
        out.push('"');
    }
}

/// A string that goes through the URL encoding map, quoted with `Q`.
fn encoded<O: Out + ?Sized>(out: &mut O, s: &[u8], opts: u8) {
    let q = opts & OPT_QUOTE != 0;
    if q {
        out.push('"');
    }
    encode(out, s, url_encoded, opts);
    if q {
        out.push('"');
    }
}

fn num<O: Out + ?Sized>(out: &mut O, v: impl std::fmt::Display) {
    let _ = write!(out, "{v}");
}

fn timer<O: Out + ?Sized>(out: &mut O, v: Option<i64>) {
    num(out, v.unwrap_or(-1));
}

fn ip<O: Out + ?Sized>(out: &mut O, addr: Option<IpAddr>, unix: bool, opts: u8) {
    match addr {
        Some(a) if opts & OPT_HEXA != 0 => {
            let bytes: &[u8] = match &a {
                IpAddr::V4(v4) => &v4.octets(),
                IpAddr::V6(v6) => &v6.octets(),
            };
            for &b in bytes {
                let _ = write!(out, "{b:02X}");
            }
        }
        Some(a) => {
            let q = opts & OPT_QUOTE != 0;
            if q {
                out.push('"');
            }
            let _ = write!(out, "{a}");
            if q {
                out.push('"');
            }
        }
        None if unix => text(out, Some("unix"), opts),
        None => text(out, None, opts),
    }
}

fn port<O: Out + ?Sized>(out: &mut O, p: Option<u32>, opts: u8) {
    match p {
        Some(p) if opts & OPT_HEXA != 0 => {
            let _ = write!(out, "{p:04X}");
        }
        Some(p) => num(out, p),
        None => text(out, None, opts),
    }
}

fn hexa_or_dec<O: Out + ?Sized>(out: &mut O, v: u64, opts: u8) {
    if opts & OPT_HEXA != 0 {
        let _ = write!(out, "{v:04X}");
    } else {
        num(out, v);
    }
}

/// Splits a request line into its method, URI and version (HAProxy's rules: runs of
/// spaces/tabs separate them).
struct ReqLine<'a> {
    method: &'a [u8],
    uri: &'a [u8],
    version: &'a [u8],
    has_uri: bool,
}

fn is_sp(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn split_request(line: &[u8]) -> ReqLine<'_> {
    let m_end = line.iter().position(|&c| is_sp(c)).unwrap_or(line.len());
    let mut u_start = m_end;
    while u_start < line.len() && is_sp(line[u_start]) {
        u_start += 1;
    }
    let has_uri = u_start > m_end;
    let u_end = line[u_start..]
        .iter()
        .position(|&c| is_sp(c))
        .map_or(line.len(), |p| u_start + p);
    let mut v_start = u_end;
    while v_start < line.len() && is_sp(line[v_start]) {
        v_start += 1;
    }
    ReqLine {
        method: &line[..m_end],
        uri: &line[u_start..u_end],
        version: &line[v_start..],
        has_uri,
    }
}

/// The path of a URI without the scheme and authority of an absolute form.
fn path_only(uri: &[u8]) -> &[u8] {
    let p = if uri.first() == Some(&b'/') {
        uri
    } else if let Some(pos) = memchr::memmem::find(uri, b"://") {
        let rest = &uri[pos + 3..];
        match rest.iter().position(|&c| c == b'/') {
            Some(s) => &rest[s..],
            None => &[],
        }
    } else {
        &[]
    };
    let q = p.iter().position(|&c| c == b'?').unwrap_or(p.len());
    &p[..q]
}

const BADREQ: &[u8] = b"<BADREQ>";

fn headers<O: Out + ?Sized>(out: &mut O, hdrs: &[Option<&[u8]>], opts: u8) {
    let q = opts & OPT_QUOTE != 0;
    if q {
        out.push('"');
    }
    out.push('{');
    for (i, h) in hdrs.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        if let Some(h) = h {
            encode(out, h, hdr_encoded, opts);
        }
    }
    out.push('}');
    if q {
        out.push('"');
    }
}

fn headers_list<O: Out + ?Sized>(out: &mut O, hdrs: &[Option<&[u8]>], opts: u8) {
    let q = opts & OPT_QUOTE != 0;
    for (i, h) in hdrs.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if q {
            out.push('"');
        }
        match h {
            Some(h) => encode(out, h, hdr_encoded, opts),
            None if !q => out.push('-'),
            None => {}
        }
        if q {
            out.push('"');
        }
    }
}

impl LogFormatSpec {
    /// Appends the line for `rec` to `out` (no trailing newline). Allocates nothing
    /// beyond `out`'s growth, so callers should reuse `out`.
    pub fn render(&self, rec: &LogRecord<'_>, out: &mut String) {
        self.render_with(rec, None, out)
    }

    /// [`Self::render`] with the source the `%[…]` samples read (`-` when absent, as
    /// HAProxy prints an empty sample in a log line).
    pub fn render_with(
        &self,
        rec: &LogRecord<'_>,
        src: Option<&dyn SampleSource>,
        out: &mut String,
    ) {
        let mut last_space = true;
        for node in &self.nodes {
            match node {
                Node::Sep => {
                    if !last_space {
                        out.push(' ');
                        last_space = true;
                    }
                }
                Node::Text(t) => {
                    out.push_str(t);
                    last_space = false;
                }
                Node::Var(v, opts) => {
                    if render_var(*v, *opts, rec, out) {
                        last_space = false;
                    }
                }
                Node::Sample(expr, opts) => {
                    let q = opts & super::format::OPT_QUOTE != 0;
                    if q {
                        out.push('"');
                    }
                    let mut any = false;
                    if let Some(src) = src {
                        expr.eval_str(src, &mut |v| {
                            any = true;
                            out.push_str(&String::from_utf8_lossy(v));
                        });
                    }
                    if !any && !q {
                        out.push('-');
                    }
                    if q {
                        out.push('"');
                    }
                    last_space = false;
                }
            }
        }
    }

    /// Appends the rendering of a format compiled for an HTTP action to `out`: `rec`
    /// gives the `%` variables as they stand at this point of the request, `src` the
    /// `%[…]` samples. Samples are copied as HAProxy's `lf_encode_chunk()` does: bytes
    /// forbidden in header values become `%XX`, `+E` escapes `"`, `\` and `]`, no
    /// quotes, nothing for an absent sample.
    pub fn render_http(&self, rec: &LogRecord<'_>, src: &dyn SampleSource, out: &mut Vec<u8>) {
        for node in &self.nodes {
            match node {
                Node::Sep => out.push(b' '),
                Node::Text(t) => out.extend_from_slice(t.as_bytes()),
                Node::Var(v, opts) => {
                    render_var(*v, *opts, rec, out);
                }
                Node::Sample(expr, opts) => {
                    expr.eval_str(src, &mut |v| http_encode(out, v, *opts));
                }
            }
        }
    }
}

thread_local! {
    /// The request line rebuilt for `%r`/`%H*` in HTTP actions, reused across requests.
    static REQ_LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl LogFormatSpec {
    /// Renders a format compiled for an HTTP action while a request is processed, as
    /// HAProxy does at that point: timers not reached yet print `-1` (`%Th %Ti %Ta %Tt`
    /// print 0), no server (`%s` is `<NOSRV>`), `%ST` is `status` (the `return` status,
    /// -1 for header actions), `%b` is `backend` (the frontend's name in frontend
    /// rules). Allocates nothing beyond `out`'s growth, except for date variables.
    pub fn render_request(
        &self,
        src: &dyn SampleSource,
        frontend: &str,
        backend: &str,
        status: i32,
        out: &mut Vec<u8>,
    ) {
        let now = std::time::SystemTime::now();
        let mut rec = LogRecord::new(now, frontend);
        rec.backend = backend;
        rec.client = src.src();
        rec.frontend_addr = src.dst();
        rec.status = status;
        rec.request_counter = src.request_counter();
        rec.unique_id = src
            .unique_id_set()
            .and_then(|v| std::str::from_utf8(v).ok());
        rec.t_handshake = Some(0);
        rec.t_idle = Some(0);
        rec.t_active = Some(0);
        rec.t_total = Some(0);
        if !self.uses_request_line() {
            return self.render_http(&rec, src, out);
        }
        REQ_LINE.with(|cell| {
            let mut local = Vec::new();
            let mut guard = cell.try_borrow_mut().ok();
            let line: &mut Vec<u8> = match guard.as_deref_mut() {
                Some(b) => b,
                None => &mut local,
            };
            line.clear();
            if let (Some(m), Some(u)) = (src.method(), src.uri()) {
                line.extend_from_slice(m);
                line.push(b' ');
                line.extend_from_slice(u);
                line.extend_from_slice(b" HTTP/");
                line.extend_from_slice(src.version().unwrap_or(b"1.1"));
                let mut rec = rec.clone();
                rec.request_line = Some(line);
                return self.render_http(&rec, src, out);
            }
            self.render_http(&rec, src, out);
        });
    }
}

/// Bytes HAProxy's `http_encode_map` encodes: controls but HTAB, and DEL.
fn http_encoded(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

fn http_encode(out: &mut Vec<u8>, s: &[u8], opts: u8) {
    for &c in s {
        if http_encoded(c) {
            out.extend_from_slice(&[b'%', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        } else {
            if opts & OPT_ESC != 0 && matches!(c, b'"' | b'\\' | b']') {
                out.push(b'\\');
            }
            out.push(c);
        }
    }
}

/// Renders one variable; returns false when it printed nothing on purpose (header
/// captures without `capture` statements), so the next separator is not doubled.
fn render_var<O: Out + ?Sized>(v: Var, opts: u8, rec: &LogRecord<'_>, out: &mut O) -> bool {
    let plus = |out: &mut O| {
        if rec.logasap {
            out.push('+');
        }
    };
    let req = || rec.request_line.map(split_request);
    match v {
        Var::B => {
            plus(out);
            num(out, rec.bytes_out);
        }
        Var::U => num(out, rec.bytes_in),
        Var::CC => text(out, rec.req_cookie, opts),
        Var::CS => text(out, rec.res_cookie, opts),
        Var::H => text(out, Some(super::system_hostname()), opts),
        Var::ID => text(out, rec.unique_id, opts),
        Var::Frontend => text(out, Some(rec.frontend), opts),
        Var::Backend => text(out, Some(rec.backend), opts),
        Var::Server => text(out, Some(rec.server.unwrap_or("<NOSRV>")), opts),
        Var::Sslc => text(out, rec.ssl_cipher, opts),
        Var::Sslv => text(out, rec.ssl_version, opts),
        Var::Ft => {
            let q = opts & OPT_QUOTE != 0;
            if q {
                out.push('"');
            }
            out.push_str(rec.frontend);
            if rec.frontend_ssl {
                out.push('~');
            }
            if q {
                out.push('"');
            }
        }
        Var::ST => num(out, rec.status),
        Var::Th => timer(out, rec.t_handshake),
        Var::Ti => timer(out, rec.t_idle),
        Var::TR => timer(out, rec.t_request),
        Var::Tw => timer(out, rec.t_queue),
        Var::Tc => timer(out, rec.t_connect),
        Var::Tr => timer(out, rec.t_response),
        Var::Ta => {
            plus(out);
            timer(out, rec.t_active);
        }
        Var::Tt => {
            plus(out);
            timer(out, rec.t_total);
        }
        Var::Tq => num(out, rec.tq()),
        Var::Td => num(out, rec.td()),
        Var::Tu => num(out, rec.tu()),
        Var::Ac => num(out, rec.actconn),
        Var::Fc => num(out, rec.feconn),
        Var::Bc => num(out, rec.beconn),
        Var::Sc => num(out, rec.srv_conn),
        Var::Sq => num(out, rec.srv_queue),
        Var::Bq => num(out, rec.backend_queue),
        Var::Rc => {
            if rec.redispatched {
                out.push('+');
            }
            num(out, rec.retries);
        }
        Var::Rt => hexa_or_dec(out, rec.request_counter, opts),
        Var::Lc => hexa_or_dec(out, rec.log_counter, opts),
        Var::Pid => hexa_or_dec(out, u64::from(std::process::id()), opts),
        Var::Ci => ip(out, rec.client.map(|a| a.ip()), true, opts),
        Var::Cp => port(out, client_port(rec.client, rec.listener_id), opts),
        Var::Fi => ip(out, rec.frontend_addr.map(|a| a.ip()), false, opts),
        Var::Fp => port(out, rec.frontend_addr.map(|a| u32::from(a.port())), opts),
        Var::Bi => ip(out, rec.backend_src.map(|a| a.ip()), false, opts),
        Var::Bp => port(out, rec.backend_src.map(|a| u32::from(a.port())), opts),
        Var::Si => ip(out, rec.server_addr.map(|a| a.ip()), false, opts),
        Var::Sp => port(out, rec.server_addr.map(|a| u32::from(a.port())), opts),
        Var::Ts => {
            let secs = time::split(rec.accept_date).0.max(0) as u64;
            hexa_or_dec(out, secs, opts);
        }
        Var::Ms => {
            let ms = time::split(rec.accept_date).1 / 1000;
            if opts & OPT_HEXA != 0 {
                let _ = write!(out, "{ms:02X}");
            } else {
                let _ = write!(out, "{ms:03}");
            }
        }
        Var::Date | Var::DateReq => {
            let t = if v == Var::Date {
                rec.accept_date
            } else {
                rec.request_date
            };
            let (secs, us) = time::split(t);
            out.with_string(&mut |s| time::write_date_ms(s, &time::local(secs), us));
        }
        Var::T | Var::Tl | Var::DateReqGmt | Var::DateReqLocal => {
            let t = if matches!(v, Var::T | Var::Tl) {
                rec.accept_date
            } else {
                rec.request_date
            };
            let secs = time::split(t).0;
            let tm = if matches!(v, Var::T | Var::DateReqGmt) {
                time::gmt(secs)
            } else {
                time::local(secs)
            };
            out.with_string(&mut |s| time::write_date_tz(s, &tm));
        }
        Var::Ts2 | Var::Tsc => {
            out.push(rec.term_cause.as_char());
            out.push(rec.fin_state.as_char());
            if v == Var::Tsc {
                out.push(rec.cookie_flags[0] as char);
                out.push(rec.cookie_flags[1] as char);
            }
        }
        Var::Hr | Var::Hs | Var::Hrl | Var::Hsl => {
            let hdrs = if matches!(v, Var::Hr | Var::Hrl) {
                rec.req_headers
            } else {
                rec.res_headers
            };
            if hdrs.is_empty() {
                return false;
            }
            if matches!(v, Var::Hr | Var::Hs) {
                headers(out, hdrs, opts);
            } else {
                headers_list(out, hdrs, opts);
            }
        }
        Var::Request => encoded(out, rec.request_line.unwrap_or(BADREQ), opts),
        Var::HM => {
            let m = match (req(), rec.request_line) {
                (Some(r), Some(l)) if r.method.len() < l.len() => r.method,
                _ => BADREQ,
            };
            encoded(out, m, opts);
        }
        Var::HU | Var::HP | Var::HPO => {
            let s = match req() {
                Some(r) if r.has_uri => match v {
                    Var::HU => r.uri,
                    Var::HP => {
                        let q = r.uri.iter().position(|&c| c == b'?').unwrap_or(r.uri.len());
                        &r.uri[..q]
                    }
                    _ => path_only(r.uri),
                },
                _ => BADREQ,
            };
            encoded(out, s, opts);
        }
        Var::HQ => {
            let s = match rec.request_line {
                None => BADREQ,
                Some(l) => {
                    let q = l.iter().position(|&c| c == b'?').unwrap_or(l.len());
                    let end = l[q..]
                        .iter()
                        .position(|&c| is_sp(c))
                        .map_or(l.len(), |e| q + e);
                    &l[q..end]
                }
            };
            encoded(out, s, opts);
        }
        Var::HV => {
            let s = match req() {
                Some(r) if r.has_uri && r.version.is_empty() => b"HTTP/0.9".as_slice(),
                Some(r) if r.has_uri => r.version,
                _ => BADREQ,
            };
            encoded(out, s, opts);
        }
    }
    true
}

fn client_port(client: Option<SocketAddr>, listener_id: u32) -> Option<u32> {
    Some(client.map_or(listener_id, |a| u32::from(a.port())))
}

/// The line HAProxy 2.6 logs at accept time when a frontend has neither `option
/// httplog`/`tcplog` nor `log-format` (section 8.2.1):
/// `Connect from 10.0.1.2:33312 to 10.0.3.31:8012 (www/HTTP)`.
pub fn render_connect_line(rec: &LogRecord<'_>, http: bool, out: &mut String) {
    out.push_str("Connect from ");
    addr_port(out, rec.client, rec.listener_id);
    out.push_str(" to ");
    addr_port(out, rec.frontend_addr, rec.listener_id);
    let _ = write!(
        out,
        " ({}/{})",
        rec.frontend,
        if http { "HTTP" } else { "TCP" }
    );
}

fn addr_port(out: &mut String, a: Option<SocketAddr>, listener_id: u32) {
    match a {
        Some(a) => {
            let _ = write!(out, "{}:{}", a.ip(), a.port());
        }
        None => {
            let _ = write!(out, "unix:{listener_id}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::FormatContext;

    struct Req;

    impl SampleSource for Req {
        fn src(&self) -> Option<SocketAddr> {
            Some("10.0.0.1:4000".parse().expect("addr"))
        }
        fn dst(&self) -> Option<SocketAddr> {
            Some("10.0.0.2:80".parse().expect("addr"))
        }
        fn method(&self) -> Option<&[u8]> {
            Some(b"GET")
        }
        fn uri(&self) -> Option<&[u8]> {
            Some(b"/a/b?x=1")
        }
        fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
            match name {
                "x" => each(b"q\"\\]\x01\x7f\t\xe9") || each(b"last"),
                _ => false,
            }
        }
    }

    fn render(fmt: &str) -> Vec<u8> {
        let spec = LogFormatSpec::compile_in(fmt, FormatContext::HttpRequest).expect(fmt);
        let mut out = Vec::new();
        spec.render_request(&Req, "fe", "be", 201, &mut out);
        out
    }

    #[test]
    fn samples_are_encoded_like_haproxy_http_actions() {
        // The last occurrence of a header, controls and DEL as %XX, tab and
        // non-ASCII bytes kept, `+E` escaping, no quotes, nothing when absent.
        assert_eq!(render("%[req.hdr(x,1)]"), b"q\"\\]%01%7F\t\xe9");
        assert_eq!(
            render("%{+E,+Q}[req.hdr(x,1)]"),
            b"q\\\"\\\\\\]%01%7F\t\xe9"
        );
        assert_eq!(render("%[req.hdr(x)]|%[req.hdr(y)]|"), b"last||");
        assert_eq!(render("%[src]:%[src_port,add(1)]"), b"10.0.0.1:4001");
    }

    #[test]
    fn variables_at_request_time() {
        assert_eq!(
            render("%ci:%cp %fi:%fp %f %b %s %ST %Tq %Ta %r %HM %HP %HQ %CC|%{+Q}CC"),
            b"10.0.0.1:4000 10.0.0.2:80 fe be <NOSRV> 201 -1 0 GET /a/b?x=1 HTTP/1.1 GET /a/b ?x=1 |\"\""
        );
    }
}
