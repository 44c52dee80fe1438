//! Sample fetches (configuration.txt 7.3.2–7.3.6): the registry of fetch keywords
//! gatehouse implements. Each keyword is one [`FetchDef`] row — name, argument types,
//! output type, visibility, the ACL keywords derived from it, and its evaluation
//! function — kept in the file of its family (`fetch/l4.rs`, `fetch/http.rs`, …).
//! Adding a fetch is adding a row and its function to one family file; a new family is
//! one more line in [`FAMILIES`]. Evaluation reads a [`SampleSource`] without
//! allocating.

mod body;
mod cookie;
mod headers;
mod http;
mod identity;
mod internal;
mod l4;
pub(crate) mod log_end;
mod payload;
pub use payload::rdp_cookie_value;
mod pgsql;
pub(crate) mod proxies;
mod res_headers;
mod ssl;
mod stick;
mod stream;
mod txn;

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

/// How a fetch calls back with its values: stops when the callback returns true.
pub(crate) type Each<'e> = dyn FnMut(Sample<'_>) -> bool + 'e;

/// A fetch's evaluation function: calls `each` with every value, until it returns
/// true; returns whether one did. A fetch that finds nothing calls `each` zero times.
pub(crate) type EvalFn = fn(&FetchCall, &dyn SampleSource, &mut Each<'_>) -> bool;

/// A load-time check of a fetch's arguments.
pub(crate) type ArgCheck = fn(&[ArgVal]) -> Result<(), String>;

/// The ACL keywords a fetch gives (section 7.3's "ACL derivatives").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Derive {
    /// Only the fetch itself.
    No,
    /// `NAME_beg`, `NAME_dir`, `NAME_dom`, `NAME_end`, `NAME_len`, `NAME_reg`,
    /// `NAME_sub` too.
    Suffixes,
}

/// A fetch keyword gatehouse implements: one row of the registry.
pub(crate) struct FetchDef {
    /// Its name.
    pub name: &'static str,
    /// Its argument types.
    pub args: &'static [ArgType],
    /// How many arguments are mandatory.
    pub min_args: usize,
    /// Its output type.
    pub out: SmpType,
    /// The phase whose data it needs.
    pub vis: Visibility,
    /// The ACL keywords derived from it.
    pub derive: Derive,
    /// Whether it is a header fetch whose occurrence defaults to the last one outside
    /// ACLs (`hdr(host)` in a log-format string).
    pub last_occ: bool,
    /// How it reads a request.
    pub eval: EvalFn,
    /// A load-time check of its arguments (`bool(maybe)` is refused).
    pub check: Option<ArgCheck>,
    /// Whether it reads the stream's backend (HAProxy's `SMP_USE_BKEND`): a frontend's
    /// request-phase formats may not use it.
    pub backend: bool,
    /// Whether its value may still change as more payload arrives (HAProxy's
    /// `SMP_F_MAY_CHANGE`): a rule whose condition is false only because of it waits
    /// while the inspect delay runs.
    pub may_change: MayChange,
}

/// When a fetch's answer may change with more payload.
#[derive(Clone, Copy, Debug)]
pub(crate) enum MayChange {
    /// Never (most fetches).
    No,
    /// Always while the payload is partial (`req.len`, `res.len`, `wait_end`).
    Always,
    /// While it finds nothing (`req.payload`: not enough bytes yet).
    WhenMissing,
    /// When this function says so (`rdp_cookie`: the line is cut short, not absent).
    When(fn(&FetchCall, &dyn SampleSource) -> bool),
}

impl MayChange {
    /// Whether the fetch's answer can ever change with more payload.
    pub(crate) fn ever(self) -> bool {
        !matches!(self, MayChange::No)
    }
}

impl FetchDef {
    /// A row with no arguments, no derived keywords.
    pub(crate) const fn new(
        name: &'static str,
        out: SmpType,
        vis: Visibility,
        eval: EvalFn,
    ) -> FetchDef {
        FetchDef {
            name,
            args: &[],
            min_args: 0,
            out,
            vis,
            derive: Derive::No,
            last_occ: false,
            eval,
            check: None,
            backend: false,
            may_change: MayChange::No,
        }
    }
    /// The same row as a payload fetch whose value may change (see `may_change`).
    pub(crate) const fn may_change(mut self, when: MayChange) -> FetchDef {
        self.may_change = when;
        self
    }
    /// The same row reading the stream's backend (`be_name`).
    pub(crate) const fn backend(mut self) -> FetchDef {
        self.backend = true;
        self
    }
    /// The same row with a load-time check of its arguments.
    pub(crate) const fn check(mut self, f: ArgCheck) -> FetchDef {
        self.check = Some(f);
        self
    }
    /// The same row with arguments, `min` of them mandatory.
    pub(crate) const fn args(mut self, args: &'static [ArgType], min: usize) -> FetchDef {
        self.args = args;
        self.min_args = min;
        self
    }
    /// The same row with the derived ACL keywords `NAME_beg` … `NAME_sub`.
    pub(crate) const fn derived(mut self) -> FetchDef {
        self.derive = Derive::Suffixes;
        self
    }
    /// The same row as a header fetch (last occurrence by default outside ACLs).
    pub(crate) const fn header(mut self) -> FetchDef {
        self.last_occ = true;
        self
    }
}

/// Shorthands for family files.
pub(crate) mod row {
    pub(crate) use super::ArgType::{Int as I, Str as S};
    pub(crate) use super::SmpType;
    pub(crate) use crate::acl::Visibility;
    /// Connection visibility.
    pub(crate) const C: Visibility = Visibility::Connection;
    /// Transaction visibility.
    pub(crate) const T: Visibility = Visibility::Transaction;
    /// Request visibility.
    pub(crate) const R: Visibility = Visibility::Request;
    /// Response visibility.
    pub(crate) const P: Visibility = Visibility::Response;
}

/// The fetch families: one table per file.
static FAMILIES: &[&[FetchDef]] = &[
    internal::FETCHES,
    l4::FETCHES,
    http::FETCHES,
    headers::FETCHES,
    cookie::FETCHES,
    txn::FETCHES,
    stream::FETCHES,
    identity::FETCHES,
    pgsql::FETCHES,
    ssl::FETCHES,
    payload::FETCHES,
    body::FETCHES,
    proxies::FETCHES,
    res_headers::FETCHES,
    stick::FETCHES,
    stick::SRC_FETCHES,
    stick::OTHER_FETCHES,
];

/// Every fetch implemented, family by family.
pub(crate) fn all() -> impl Iterator<Item = &'static FetchDef> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// Looks a fetch up by name (and counts the request-body fetches looked up on this
/// thread, see [`req_body_lookups`]).
pub(crate) fn find(name: &str) -> Option<&'static FetchDef> {
    let def = all().find(|d| d.name == name);
    if def.is_some_and(|d| body::reads_request_body(d.name)) {
        REQ_BODY_LOOKUPS.with(|n| n.set(n.get() + 1));
    }
    def
}

thread_local! {
    static REQ_BODY_LOOKUPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many request-body fetches (`req.body`, …) this thread has compiled so far.
/// A configuration's compilation reads it before and after: when it has not moved, no
/// rule reads the request body, and the body bytes that came with the head need not be
/// held for the fetches.
pub fn req_body_lookups() -> u64 {
    REQ_BODY_LOOKUPS.with(|n| n.get())
}

/// The fetch an ACL keyword derived from a fetch (`path_beg`, `hdr_dom`, …) stands for,
/// with the suffix.
pub(crate) fn find_derived(name: &str) -> Option<(&'static FetchDef, &'static str)> {
    let (base, _) = name.rsplit_once('_')?;
    let suffix = &name[base.len()..];
    all()
        .find(|d| d.derive == Derive::Suffixes && d.name == base)
        .and_then(|d| SUFFIXES.iter().find(|s| **s == suffix).map(|s| (d, *s)))
}

/// The suffixes of derived ACL keywords.
pub(crate) const SUFFIXES: &[&str] = &["_beg", "_dir", "_dom", "_end", "_len", "_reg", "_sub"];

/// A parsed argument value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArgVal {
    /// A string argument.
    Str(Box<str>),
    /// An integer argument.
    Int(i64),
}

/// A fetch with its arguments, ready to run.
#[derive(Clone)]
pub(crate) struct FetchCall {
    /// Its definition.
    pub def: &'static FetchDef,
    /// First string argument (header, cookie, parameter or proxy name; empty: all).
    pub name: Box<str>,
    /// Occurrence (`hdr(name,occ)`): 0 iterates over all values.
    pub occ: i64,
    /// `url_param(name,delim)` extra delimiter.
    pub delim: Option<u8>,
    /// A second string argument as given (`var(name,default)`).
    pub arg2: Option<Box<str>>,
    /// Every argument as parsed (`int(42)`, `date(3600,ms)`).
    pub args: Box<[ArgVal]>,
}

impl std::fmt::Debug for FetchCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({},{})", self.def.name, self.name, self.occ)
    }
}

thread_local! {
    /// Scratch space for fetches that build a value (`base`), reused across requests.
    static FETCH_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the per-thread fetch scratch buffer (a fresh one if it is in use).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    FETCH_SCRATCH.with(|cell| {
        let mut local = Vec::new();
        let mut guard = cell.try_borrow_mut().ok();
        let buf: &mut Vec<u8> = match guard.as_deref_mut() {
            Some(b) => b,
            None => &mut local,
        };
        buf.clear();
        f(buf)
    })
}

impl FetchCall {
    /// Builds a call from a definition and its parsed arguments.
    pub(crate) fn new(def: &'static FetchDef, args: &[ArgVal]) -> FetchCall {
        let mut name: Box<str> = "".into();
        let mut occ = 0;
        let mut delim = None;
        let mut arg2 = None;
        for (i, a) in args.iter().enumerate() {
            match (i, a) {
                (0, ArgVal::Str(s)) => name = s.clone(),
                (1, ArgVal::Int(n)) => occ = *n,
                (1, ArgVal::Str(s)) => {
                    delim = s.bytes().next();
                    arg2 = Some(s.clone());
                }
                (2, ArgVal::Str(s)) => arg2 = Some(s.clone()),
                _ => {}
            }
        }
        FetchCall {
            def,
            name,
            occ,
            delim,
            arg2,
            args: args.into(),
        }
    }

    /// The integer argument at `i`, if given as one.
    pub(crate) fn int_arg(&self, i: usize) -> Option<i64> {
        match self.args.get(i) {
            Some(ArgVal::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// Makes header fetches without an occurrence return the last one, as HAProxy does
    /// outside ACLs (sample expressions in log-format strings).
    pub(crate) fn default_last(&mut self) {
        if self.def.last_occ && self.occ == 0 {
            self.occ = -1;
        }
    }

    /// Calls `each` with every value the fetch returns, until it returns true; returns
    /// whether one did. A fetch that finds nothing calls `each` zero times.
    pub(crate) fn for_each(&self, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
        (self.def.eval)(self, src, each)
    }
}

/// A callback receiving raw values, stopping when it returns true.
pub(crate) type Values<'a> = &'a mut dyn FnMut(&[u8]) -> bool;

/// Calls `each` with the occurrence `occ` of the values `all` gives: all of them (0),
/// the n-th from the first (n > 0) or from the last (n < 0).
pub(crate) fn occurrence(
    occ: i64,
    all: &dyn Fn(Values<'_>) -> bool,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    if occ == 0 {
        return all(each);
    }
    let want = if occ > 0 {
        occ
    } else {
        let mut total = 0i64;
        all(&mut |_| {
            total += 1;
            false
        });
        total + occ + 1
    };
    if want <= 0 {
        return false;
    }
    let mut i = 0i64;
    let mut found = false;
    all(&mut |v| {
        i += 1;
        if i == want {
            found = each(v);
            return true;
        }
        false
    });
    found
}

/// The path part of a request URI: from the first slash (after the authority in the
/// absolute form) to before the `?`. `None` for `*` or an authority without a path.
pub(crate) fn path_of(uri: &[u8]) -> Option<&[u8]> {
    let pq = pathq_of(uri)?;
    // Short paths (most) are scanned by a plain loop, cheaper than memchr's set-up.
    let end = if pq.len() < 32 {
        pq.iter().position(|&c| c == b'?')
    } else {
        memchr::memchr(b'?', pq)
    };
    Some(&pq[..end.unwrap_or(pq.len())])
}

/// The path and query of a request URI (see [`path_of`]).
pub(crate) fn pathq_of(uri: &[u8]) -> Option<&[u8]> {
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
