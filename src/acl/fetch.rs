//! Sample fetches (configuration.txt 7.3.2–7.3.6): the table of fetch keywords
//! gatehouse implements (`src`, `dst`, `path`, `url`, `query`, `base`, `method`,
//! `req.hdr()`/`hdr()`, `req.fhdr()`, `hdr_cnt`, `hdr_ip`, `hdr_val`, `req.ver`,
//! `url_param()`/`urlp()`, `status`, …), their argument types, output type and
//! visibility, and how each reads a [`SampleSource`] without allocating.

use super::{SampleSource, Visibility};
use std::cell::RefCell;
use std::net::IpAddr;

/// One fetched (or converted) value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Sample<'a> {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A string (or binary block).
    Str(&'a [u8]),
}

/// The output type of a fetch or converter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SmpType {
    /// Boolean: default match `bool`.
    Bool,
    /// Integer: default match `int`.
    Int,
    /// Address: default match `ip`.
    Ip,
    /// String: default match `str`.
    Str,
}

/// The type of a fetch or converter argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArgType {
    /// A string.
    Str,
    /// A signed integer.
    Int,
}

impl ArgType {
    /// The name HAProxy prints for it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ArgType::Str => "string",
            ArgType::Int => "integer",
        }
    }
}

/// What a fetch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FetchKind {
    AlwaysTrue,
    AlwaysFalse,
    Src,
    SrcPort,
    Dst,
    DstPort,
    Method,
    Path,
    PathQ,
    Url,
    Query,
    Base,
    ReqVer,
    /// `req.hdr`: comma-separated values.
    Hdr,
    /// `req.fhdr`: full lines.
    FHdr,
    HdrCnt,
    FHdrCnt,
    HdrIp,
    HdrVal,
    UrlParam,
    UrlParamVal,
    Status,
    /// `http_auth(UL)`, `http_auth_group(UL)`, `var(NAME)`, `unique-id`: see `fetch_txn`.
    Txn(super::fetch_txn::TxnFetch),
}

/// A fetch keyword gatehouse implements.
pub(crate) struct FetchDef {
    /// Its name.
    pub name: &'static str,
    /// What it reads.
    pub kind: FetchKind,
    /// Its output type.
    pub out: SmpType,
    /// The phase whose data it needs.
    pub vis: Visibility,
    /// Its argument types.
    pub args: &'static [ArgType],
    /// How many arguments are mandatory.
    pub min_args: usize,
}

const C: Visibility = Visibility::Connection;
const R: Visibility = Visibility::Request;
const T: Visibility = Visibility::Transaction;
const S: &[ArgType] = &[ArgType::Str];
const SI: &[ArgType] = &[ArgType::Str, ArgType::Int];
const SS: &[ArgType] = &[ArgType::Str, ArgType::Str];

const fn f(
    name: &'static str,
    kind: FetchKind,
    out: SmpType,
    vis: Visibility,
    args: &'static [ArgType],
) -> FetchDef {
    FetchDef {
        name,
        kind,
        out,
        vis,
        args,
        min_args: 0,
    }
}

/// Every fetch implemented, with HAProxy's aliases.
pub(crate) static FETCHES: &[FetchDef] = &[
    f("always_true", FetchKind::AlwaysTrue, SmpType::Bool, C, &[]),
    f(
        "always_false",
        FetchKind::AlwaysFalse,
        SmpType::Bool,
        C,
        &[],
    ),
    f("src", FetchKind::Src, SmpType::Ip, C, &[]),
    f("fc_src", FetchKind::Src, SmpType::Ip, C, &[]),
    f("src_port", FetchKind::SrcPort, SmpType::Int, C, &[]),
    f("fc_src_port", FetchKind::SrcPort, SmpType::Int, C, &[]),
    f("dst", FetchKind::Dst, SmpType::Ip, C, &[]),
    f("fc_dst", FetchKind::Dst, SmpType::Ip, C, &[]),
    f("dst_port", FetchKind::DstPort, SmpType::Int, C, &[]),
    f("fc_dst_port", FetchKind::DstPort, SmpType::Int, C, &[]),
    f("method", FetchKind::Method, SmpType::Str, T, &[]),
    f("path", FetchKind::Path, SmpType::Str, R, &[]),
    f("pathq", FetchKind::PathQ, SmpType::Str, R, &[]),
    f("url", FetchKind::Url, SmpType::Str, R, &[]),
    f("query", FetchKind::Query, SmpType::Str, R, &[]),
    f("base", FetchKind::Base, SmpType::Str, R, &[]),
    f("req.ver", FetchKind::ReqVer, SmpType::Str, R, &[]),
    f("req_ver", FetchKind::ReqVer, SmpType::Str, R, &[]),
    f("req.hdr", FetchKind::Hdr, SmpType::Str, R, SI),
    f("hdr", FetchKind::Hdr, SmpType::Str, R, SI),
    f("req.fhdr", FetchKind::FHdr, SmpType::Str, R, SI),
    f("req.hdr_cnt", FetchKind::HdrCnt, SmpType::Int, R, S),
    f("hdr_cnt", FetchKind::HdrCnt, SmpType::Int, R, S),
    f("req.fhdr_cnt", FetchKind::FHdrCnt, SmpType::Int, R, S),
    f("req.hdr_ip", FetchKind::HdrIp, SmpType::Ip, R, SI),
    f("hdr_ip", FetchKind::HdrIp, SmpType::Ip, R, SI),
    f("req.hdr_val", FetchKind::HdrVal, SmpType::Int, R, SI),
    f("hdr_val", FetchKind::HdrVal, SmpType::Int, R, SI),
    f("url_param", FetchKind::UrlParam, SmpType::Str, R, SS),
    f("urlp", FetchKind::UrlParam, SmpType::Str, R, SS),
    f("urlp_val", FetchKind::UrlParamVal, SmpType::Int, R, SS),
    f(
        "status",
        FetchKind::Status,
        SmpType::Int,
        Visibility::Response,
        &[],
    ),
    super::fetch_txn::HTTP_AUTH,
    super::fetch_txn::HTTP_AUTH_GROUP,
];

/// Looks a fetch up by name.
pub(crate) fn find(name: &str) -> Option<&'static FetchDef> {
    FETCHES.iter().find(|d| d.name == name)
}

/// A parsed argument value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArgVal {
    /// A string argument.
    Str(Box<str>),
    /// An integer argument.
    Int(i64),
}

/// A fetch with its arguments, ready to run.
#[derive(Clone, Debug)]
pub(crate) struct FetchCall {
    /// What it reads.
    pub kind: FetchKind,
    /// First string argument (header or parameter name; empty: all).
    name: Box<str>,
    /// Occurrence (`hdr(name,occ)`): 0 iterates over all values.
    occ: i64,
    /// `url_param(name,delim)` extra delimiter.
    delim: Option<u8>,
}

thread_local! {
    /// Scratch space for fetches that build a value (`base`), reused across requests.
    static FETCH_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl FetchCall {
    /// Builds a call from a definition and its parsed arguments.
    pub(crate) fn new(def: &FetchDef, args: &[ArgVal]) -> FetchCall {
        let mut name: Box<str> = "".into();
        let mut occ = 0;
        let mut delim = None;
        for (i, a) in args.iter().enumerate() {
            match (i, a) {
                (0, ArgVal::Str(s)) => name = s.clone(),
                (1, ArgVal::Int(n)) => occ = *n,
                (1, ArgVal::Str(s)) => delim = s.bytes().next(),
                _ => {}
            }
        }
        FetchCall {
            kind: def.kind,
            name,
            occ,
            delim,
        }
    }

    /// Makes header fetches without an occurrence return the last one, as HAProxy does
    /// outside ACLs (sample expressions in log-format strings).
    pub(crate) fn default_last(&mut self) {
        let hdr = matches!(
            self.kind,
            FetchKind::Hdr
                | FetchKind::FHdr
                | FetchKind::HdrIp
                | FetchKind::HdrVal
                | FetchKind::Txn(_)
        );
        if hdr && self.occ == 0 {
            self.occ = -1;
        }
    }

    /// Calls `each` with every value the fetch returns, until it returns true; returns
    /// whether one did. A fetch that finds nothing calls `each` zero times.
    pub(crate) fn for_each(
        &self,
        src: &dyn SampleSource,
        each: &mut dyn FnMut(Sample<'_>) -> bool,
    ) -> bool {
        match self.kind {
            FetchKind::AlwaysTrue => each(Sample::Bool(true)),
            FetchKind::AlwaysFalse => each(Sample::Bool(false)),
            FetchKind::Src => src.src().is_some_and(|a| each(Sample::Ip(a.ip()))),
            FetchKind::SrcPort => src
                .src()
                .is_some_and(|a| each(Sample::Int(a.port().into()))),
            FetchKind::Dst => src.dst().is_some_and(|a| each(Sample::Ip(a.ip()))),
            FetchKind::DstPort => src
                .dst()
                .is_some_and(|a| each(Sample::Int(a.port().into()))),
            FetchKind::Method => src.method().is_some_and(|m| each(Sample::Str(m))),
            FetchKind::Url => src.uri().is_some_and(|u| each(Sample::Str(u))),
            FetchKind::Path => src
                .uri()
                .and_then(path_of)
                .is_some_and(|p| each(Sample::Str(p))),
            FetchKind::PathQ => src
                .uri()
                .and_then(pathq_of)
                .is_some_and(|p| each(Sample::Str(p))),
            FetchKind::Query => src
                .uri()
                .and_then(|u| memchr::memchr(b'?', u).map(|i| &u[i + 1..]))
                .is_some_and(|q| each(Sample::Str(q))),
            FetchKind::Base => self.base(src, each),
            FetchKind::ReqVer => src.version().is_some_and(|v| each(Sample::Str(v))),
            FetchKind::Hdr => self.headers(src, true, &mut |v| each(Sample::Str(v))),
            FetchKind::FHdr => self.headers(src, false, &mut |v| each(Sample::Str(v))),
            FetchKind::HdrIp => {
                self.headers(src, true, &mut |v| match super::net::parse_header_ip(v) {
                    Some(ip) => each(Sample::Ip(ip)),
                    None => false,
                })
            }
            FetchKind::HdrVal => self.headers(src, true, &mut |v| match str_to_int(v) {
                Some(n) => each(Sample::Int(n)),
                None => false,
            }),
            FetchKind::HdrCnt | FetchKind::FHdrCnt => {
                let mut n = 0i64;
                let split = self.kind == FetchKind::HdrCnt;
                self.raw_values(src, split, &mut |_| {
                    n += 1;
                    false
                });
                each(Sample::Int(n))
            }
            FetchKind::UrlParam => self.url_params(src, &mut |v| each(Sample::Str(v))),
            FetchKind::UrlParamVal => self.url_params(src, &mut |v| match str_to_int(v) {
                Some(n) => each(Sample::Int(n)),
                None => false,
            }),
            FetchKind::Status => src.status().is_some_and(|s| each(Sample::Int(s.into()))),
            FetchKind::Txn(t) => t.for_each(&self.name, self.occ, src, each),
        }
    }

    /// Every value of the named header (all headers when the name is empty), split at
    /// commas when `split`, in order, until `each` returns true.
    fn raw_values(
        &self,
        src: &dyn SampleSource,
        split: bool,
        each: &mut dyn FnMut(&[u8]) -> bool,
    ) -> bool {
        let mut line = |v: &[u8]| -> bool {
            if split {
                split_values(v, &mut *each)
            } else {
                each(trim(v))
            }
        };
        if self.name.is_empty() {
            src.req_headers(&mut |_, v| line(v))
        } else {
            src.req_header(&self.name, &mut line)
        }
    }

    /// The values selected by the occurrence argument: all of them (0), the n-th from
    /// the first (n > 0) or from the last (n < 0).
    fn headers(
        &self,
        src: &dyn SampleSource,
        split: bool,
        each: &mut dyn FnMut(&[u8]) -> bool,
    ) -> bool {
        if self.occ == 0 {
            return self.raw_values(src, split, each);
        }
        let want = if self.occ > 0 {
            self.occ
        } else {
            let mut total = 0i64;
            self.raw_values(src, split, &mut |_| {
                total += 1;
                false
            });
            total + self.occ + 1
        };
        if want <= 0 {
            return false;
        }
        let mut i = 0i64;
        let mut found = false;
        self.raw_values(src, split, &mut |v| {
            i += 1;
            if i == want {
                found = each(v);
                return true;
            }
            false
        });
        found
    }

    /// `base`: the first Host header followed by the path, built in a reused buffer.
    fn base(&self, src: &dyn SampleSource, each: &mut dyn FnMut(Sample<'_>) -> bool) -> bool {
        let Some(path) = src.uri().and_then(path_of) else {
            return false;
        };
        let mut host: Option<bool> = None;
        let mut result = false;
        FETCH_SCRATCH.with(|cell| {
            let mut local = Vec::new();
            let mut guard = cell.try_borrow_mut().ok();
            let buf: &mut Vec<u8> = match guard.as_deref_mut() {
                Some(b) => b,
                None => &mut local,
            };
            src.req_header("host", &mut |h| {
                let h = trim(h);
                if h.is_empty() {
                    host = Some(false);
                } else {
                    buf.clear();
                    buf.extend_from_slice(h);
                    buf.extend_from_slice(path);
                    host = Some(true);
                }
                true
            });
            result = match host {
                Some(true) => each(Sample::Str(buf)),
                _ => each(Sample::Str(path)),
            };
        });
        result
    }

    /// The values of the URL parameters named like the first argument (any parameter
    /// when it is empty).
    fn url_params(&self, src: &dyn SampleSource, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let Some(uri) = src.uri() else { return false };
        let delim = self.delim;
        let start = uri.iter().position(|&c| c == b'?' || Some(c) == delim);
        let Some(start) = start else { return false };
        let name = self.name.as_bytes();
        uri[start + 1..]
            .split(|&c| c == b'&' || c == b';' || Some(c) == delim)
            .any(|param| {
                let Some(eq) = memchr::memchr(b'=', param) else {
                    return false;
                };
                (name.is_empty() || &param[..eq] == name) && each(&param[eq + 1..])
            })
    }
}

/// The path part of a request URI: from the first slash (after the authority in the
/// absolute form) to before the `?`. `None` for `*` or an authority without a path.
pub(crate) fn path_of(uri: &[u8]) -> Option<&[u8]> {
    let pq = pathq_of(uri)?;
    let end = memchr::memchr(b'?', pq).unwrap_or(pq.len());
    Some(&pq[..end])
}

/// The path and query of a request URI (see [`path_of`]).
fn pathq_of(uri: &[u8]) -> Option<&[u8]> {
    if uri.first() == Some(&b'/') {
        return Some(uri);
    }
    let scheme_end = memchr::memmem::find(uri, b"://")?;
    let auth = &uri[scheme_end + 3..];
    let slash = memchr::memchr(b'/', auth)?;
    Some(&auth[slash..])
}

/// Trims spaces and tabs around a header value.
pub(crate) fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|c| *c != b' ' && *c != b'\t')
        .map_or(start, |e| e + 1);
    &v[start..end]
}

/// Splits a header value at commas outside double quotes (HAProxy's rule for `hdr()`),
/// trimming each part; stops when `each` returns true.
fn split_values(v: &[u8], each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let (mut quoted, mut escaped, mut start) = (false, false, 0);
    for (i, &c) in v.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted {
            match c {
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            if each(trim(&v[start..i])) {
                return true;
            }
            start = i + 1;
        }
    }
    each(trim(&v[start..]))
}

/// HAProxy's string-to-integer cast: optional sign then leading digits; `None` for an
/// empty string, 0 when no digit leads.
pub(crate) fn str_to_int(v: &[u8]) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let (neg, digits) = match v[0] {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    let mut n: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    Some(if neg { -n } else { n })
}
