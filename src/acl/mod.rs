//! The ACL engine (configuration.txt section 7): sample fetches, converters, matchers,
//! conditions; owns the `acl` keyword and the `if`/`unless` condition syntax.
//!
//! CONTRACT: conditions are parsed from words at config time
//! ([`crate::config::condition::parse_condition`], re-exported here),
//! compiled once per proxy at load ([`AclSet::compile`], [`AclSet::condition`]), and
//! evaluated per request against a [`SampleSource`] without allocating.
//!
//! Allocation: evaluating a condition allocates nothing for fetches read straight from
//! the request (`src`, `path`, `hdr()`, …) matched with any method. `base` and every
//! converter work in a per-thread scratch buffer that is reused (it only grows to the
//! largest value seen); regexes fill a per-thread matching cache on first use.

mod check;
mod compile;
mod conv;
mod fetch;
pub mod hashfn;
mod index;
mod live;
mod passthrough;
pub(crate) use passthrough::forward_sample_source;
mod matcher;
mod names;
mod net;
mod patfile;
mod predefined;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fetch;
#[cfg(test)]
mod tests_index;
#[cfg(test)]
mod tests_live;
#[cfg(test)]
mod tests_res;

pub use crate::config::condition::parse_condition;
use crate::config::model::{AclDef, AclRef, Condition};
use crate::config::span::Span;
pub use check::{check_conditions, check_references};
use compile::Criterion;
pub use conv::map::{Map, loaded as loaded_maps, paths as map_paths, update as update_map};
pub(crate) use fetch::str_to_int;
pub use fetch::{rdp_cookie_value, req_body_lookups};
pub use index::RuleIndex;
pub use live::{LiveState, ProxyStat, ServerStat, StickAt, StickData, StickKey, StickOp, WithLive};
pub use patfile::{PatFile, loaded as loaded_acl_files, paths as acl_paths, update as update_acl};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// What a fetch can see: a rule in an earlier phase may not use a later phase's fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Visibility {
    /// The connection only (`src`, `dst`, …): usable in `tcp-request connection`.
    Connection,
    /// The request line's method, kept for the whole transaction: readable by request
    /// and response rules (HAProxy accepts `method` in `http-response`).
    Transaction,
    /// The HTTP request (`path`, `hdr()`, `method`, …).
    Request,
    /// The HTTP response (`status`, `res.hdr()`, …).
    Response,
}

/// The data a condition is evaluated against; the proxy implements it over its parsed
/// request without copying.
pub trait SampleSource {
    /// Client address.
    fn src(&self) -> Option<SocketAddr>;
    /// Local address the client connected to.
    fn dst(&self) -> Option<SocketAddr>;
    /// Request method, when a request is parsed (none by default: a connection, a
    /// TCP payload, a PostgreSQL startup).
    fn method(&self) -> Option<&[u8]> {
        None
    }
    /// Request URI as received (origin-form path and query, or absolute form), when a
    /// request is parsed.
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    /// Calls `each` with every value of request header `name` (case-insensitive), in
    /// order, until it returns true; returns whether one did (none when no request is
    /// parsed).
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let _ = (name, each);
        false
    }
    /// Response status, when a response is parsed.
    fn status(&self) -> Option<u16> {
        None
    }
    /// The request's HTTP version without `HTTP/` (`1.1`, `1.0`), for `req.ver`.
    fn version(&self) -> Option<&[u8]> {
        None
    }
    /// Calls `each` with the name and value of every request header, in order, until it
    /// returns true; returns whether one did (for `hdr()` without a name).
    fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        let _ = each;
        false
    }
    /// Calls `each` with the name and value of every response header, in order, until
    /// it returns true (response rules only).
    fn res_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        let _ = each;
        false
    }
    /// `http_auth(UL)` / `http_auth_group(UL)`: when the request's `Authorization`
    /// carries valid Basic credentials for a user of userlist `userlist`, calls `each`
    /// with the user's name (`groups` false) or with each of its groups, until it
    /// returns true; returns whether one did.
    fn http_auth(&self, userlist: &str, groups: bool, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let _ = (userlist, groups, each);
        false
    }
    /// The identity that authenticated the request (`http-request authenticate`), if
    /// one did.
    fn identity(&self) -> Option<Arc<crate::identity::Identity>> {
        None
    }
    /// Records the identity that authenticated the request.
    fn set_identity(&self, id: Arc<crate::identity::Identity>) {
        let _ = id;
    }
    /// What session cookie `cookie` of identity section `section` gave when it was
    /// opened earlier in the request (`None`: it was not; `Some(None)`: not valid).
    fn opened_session(
        &self,
        section: &str,
        cookie: &str,
    ) -> Option<Option<Arc<crate::identity::Identity>>> {
        let _ = (section, cookie);
        None
    }
    /// Records which rule decided the request's fate (`allow`, `deny`, `challenge`) and,
    /// for `authenticate`, the section that did (for the audit log).
    fn decided(
        &self,
        rule: &Span,
        decision: &'static str,
        provider: Option<&Arc<crate::identity::Provider>>,
    ) {
        let _ = (rule, decision, provider);
    }
    /// The request's `unique-id` (generated from `unique-id-format` on first use), if
    /// the frontend has one.
    fn unique_id(&self) -> Option<&[u8]> {
        None
    }
    /// The request's `unique-id` if generated already (what `%ID` prints in the
    /// formats of rules), without generating it.
    fn unique_id_set(&self) -> Option<&[u8]> {
        None
    }
    /// The request's number in the process (`%rt`).
    fn request_counter(&self) -> u64 {
        0
    }
    /// Calls `each` with the value of variable `name` (`txn.x`), if set; returns what it
    /// returned.
    fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let _ = (name, each);
        false
    }
    /// The bytes the client sent that wait in the request buffer (`mode tcp` with
    /// `tcp-request inspect-delay`), for the payload fetches (`req.ssl_sni`…).
    fn req_payload(&self) -> Option<&[u8]> {
        None
    }
    /// The request body as the rules see it (`req.body`, `req.body_len`, …): the bytes
    /// held by `http-request wait-for-body` or `option http-buffer-request`.
    fn req_body(&self) -> Option<ReqBody<'_>> {
        None
    }
    /// The response body as the `http-response` rules see it (`res.body`,
    /// `res.body_len`, …): the bytes held by `http-response wait-for-body`.
    fn res_body(&self) -> Option<ReqBody<'_>> {
        None
    }
    /// The bytes the server sent that wait in the response buffer (`tcp-response
    /// inspect-delay`), for `res.len`, `res.payload`…
    fn res_payload(&self) -> Option<&[u8]> {
        None
    }
    /// Whether the payload rules inspect is final: the inspect delay ended, the
    /// buffer is full or the peer closed (`wait_end` is true only then). True outside
    /// the inspection of `mode tcp` content rules.
    fn payload_final(&self) -> bool {
        true
    }
    /// What the client connection's TLS handshake settled, when it came over TLS.
    fn tls(&self) -> Option<&crate::tls::Facts> {
        None
    }
    /// The TLVs of the PROXY v2 header the connection began with, if any.
    fn proxy_tlvs(&self) -> Option<&ProxyTlvs> {
        None
    }
    /// Sets variable `name` to `value` (`None`: unsets it), where variables are kept.
    fn set_var(&self, name: &str, value: Option<&[u8]>) {
        let _ = (name, value);
    }
    /// The proxies of the stream and their live state (`nbsrv`, `be_name`, …), where
    /// the caller has them.
    fn live(&self) -> Option<&dyn LiveState> {
        None
    }
    /// A startup parameter of a `proto pgsql` session (`user`, `database`,
    /// `application_name`, …), for the `pgsql_*` fetches.
    fn pgsql_param(&self, name: &str) -> Option<&[u8]> {
        let _ = name;
        None
    }
    /// The `credentials` section picked for a `proto pgsql` session.
    fn pgsql_credentials(&self) -> Option<&str> {
        None
    }
}

/// An HTTP request's body as the body fetches read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReqBody<'a> {
    /// The body bytes held so far, decoded (no chunked framing).
    pub data: &'a [u8],
    /// The length the message (request or response) announced (`Content-Length`; 0 without a body), `None`
    /// for a body of unknown length (chunked).
    pub declared: Option<u64>,
}

/// The TLVs a PROXY v2 header carried (`fc_pp_authority`, `fc_pp_unique_id`), by type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyTlvs(pub Vec<(u8, Box<[u8]>)>);

impl ProxyTlvs {
    /// `PP2_TYPE_ALPN`.
    pub const ALPN: u8 = 0x01;
    /// `PP2_TYPE_AUTHORITY`.
    pub const AUTHORITY: u8 = 0x02;
    /// `PP2_TYPE_CRC32C`.
    pub const CRC32C: u8 = 0x03;
    /// `PP2_TYPE_UNIQUE_ID`.
    pub const UNIQUE_ID: u8 = 0x05;
    /// `PP2_TYPE_SSL`.
    pub const SSL: u8 = 0x20;

    /// The value of the first TLV of type `kind`.
    pub fn get(&self, kind: u8) -> Option<&[u8]> {
        self.0.iter().find(|(k, _)| *k == kind).map(|(_, v)| &**v)
    }
}

/// A sample expression (`fetch(args),conv(args)…`) as written inside `%[…]` in a
/// log-format string, compiled once at load and evaluated as a string per request.
#[derive(Debug)]
pub struct SampleExpr {
    text: Box<str>,
    expr: compile::Expr,
    /// The bare `src` fetch (see [`SampleExpr::is_src`]).
    src: bool,
}

impl SampleExpr {
    /// Where the expression starting at `text` ends (the offset of the `]` that should
    /// follow it, or of the first character that cannot continue it).
    pub fn end(text: &str) -> usize {
        compile::expr_end(text)
    }

    /// Compiles `text` (the whole expression). Errors read like HAProxy's
    /// (`unknown fetch method 'x'`, `unknown converter 'y'`).
    pub fn parse(text: &str) -> Result<SampleExpr, String> {
        let expr = compile::Expr::parse(text)?;
        Ok(SampleExpr {
            text: text.into(),
            src: expr.convs.is_empty() && expr.fetch.def.name == "src",
            expr,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the expression is the bare `src` fetch (no argument, no converter):
    /// `track-sc src` takes the client's address directly.
    pub fn is_src(&self) -> bool {
        self.src
    }

    /// The latest phase whose data the expression reads.
    pub fn visibility(&self) -> Visibility {
        self.expr.vis
    }

    /// What the expression's fetch needs that is gone when a log line is built (the
    /// request or response buffer, volatile headers), in HAProxy's words; `None` when
    /// a `log-format` may use it.
    pub fn missing_at_log_end(&self) -> Option<&'static str> {
        fetch::log_end::missing_at_log_end(self.expr.fetch.def.name)
    }

    /// Whether the expression reads the stream's backend (`be_name`), which a
    /// frontend's request rules cannot rely on.
    pub fn needs_backend(&self) -> bool {
        self.expr.fetch.def.backend
    }

    /// The fetch's name when it reads a backend's live state and leaves its backend
    /// argument out (`nbsrv`, `be_conn`): it then means the rule's own proxy, which
    /// must be a backend.
    pub fn own_backend_fetch(&self) -> Option<&'static str> {
        let f = &self.expr.fetch;
        (f.name.is_empty()
            && fetch::proxies::proxy_arg(f.def.name) == Some(fetch::proxies::ProxyArg::Backend))
        .then_some(f.def.name)
    }

    /// Calls `each` with the first value of the expression converted to a string
    /// (integers in decimal, addresses in their usual form, booleans `1`/`0`); does not
    /// call it when the sample is absent. Allocates nothing.
    pub fn eval_str(&self, src: &dyn SampleSource, each: &mut dyn FnMut(&[u8])) {
        use std::io::Write;
        self.expr.first(src, &mut |s| {
            let mut tmp = [0u8; 64];
            let mut cur = std::io::Cursor::new(&mut tmp[..]);
            let _ = match s {
                fetch::Sample::Str(b) => return each(b),
                fetch::Sample::Bool(b) => write!(cur, "{}", u8::from(b)),
                fetch::Sample::Int(n) => write!(cur, "{n}"),
                fetch::Sample::Ip(ip) => write!(cur, "{ip}"),
            };
            let n = cur.position() as usize;
            each(&tmp[..n]);
        });
    }
}

impl SampleExpr {
    /// Calls `each` with the first value of the expression as a stick-table key (an
    /// integer, an address or bytes); does not call it when the sample is absent.
    pub fn eval_key(&self, src: &dyn SampleSource, each: &mut dyn FnMut(StickKey<'_>)) {
        self.expr.first(src, &mut |s| match s {
            fetch::Sample::Str(b) => each(StickKey::Str(b)),
            fetch::Sample::Bool(b) => each(StickKey::Int(i64::from(b))),
            fetch::Sample::Int(n) => each(StickKey::Int(n)),
            fetch::Sample::Ip(ip) => each(StickKey::Ip(ip)),
        });
    }
}

impl PartialEq for SampleExpr {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for SampleExpr {}

/// One ACL: the OR of its criteria (every `acl` line with its name).
#[derive(Debug)]
struct Acl {
    criteria: Vec<Criterion>,
}

impl Acl {
    fn eval(&self, src: &dyn SampleSource) -> bool {
        self.criteria.iter().any(|c| c.eval(src))
    }
    /// The OR of its criteria in three values (`None`: not decided yet).
    fn eval_partial(&self, src: &dyn SampleSource, partial: bool) -> Option<bool> {
        let mut miss = false;
        for c in &self.criteria {
            match c.eval_partial(src, partial) {
                Some(true) => return Some(true),
                None => miss = true,
                Some(false) => {}
            }
        }
        if miss { None } else { Some(false) }
    }
    fn visibility(&self) -> Visibility {
        self.criteria
            .iter()
            .map(Criterion::visibility)
            .max()
            .unwrap_or(Visibility::Connection)
    }
    /// The phases whose data its criteria read, as a [`Visibility::bit`] set.
    fn uses(&self) -> u8 {
        self.criteria
            .iter()
            .fold(0, |m, c| m | c.visibility().bit())
    }
}

impl Visibility {
    /// This phase as one bit of a set.
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
    /// The phases whose data a rule evaluated at this stage can read: the connection's
    /// always; the request's in request rules only (HAProxy's request fetches are
    /// incompatible with `http-response` rules: "will never match").
    fn readable(self) -> u8 {
        match self {
            Visibility::Connection => Visibility::Connection.bit(),
            Visibility::Transaction => Visibility::Connection.bit() | Visibility::Transaction.bit(),
            Visibility::Request => {
                Visibility::Connection.bit()
                    | Visibility::Transaction.bit()
                    | Visibility::Request.bit()
            }
            Visibility::Response => {
                Visibility::Connection.bit()
                    | Visibility::Transaction.bit()
                    | Visibility::Response.bit()
            }
        }
    }
}

/// The compiled ACLs of one proxy.
#[derive(Debug, Default)]
pub struct AclSet {
    acls: HashMap<String, Arc<Acl>>,
}

/// A compiled condition, ready to evaluate.
#[derive(Debug)]
pub struct CompiledCondition {
    unless: bool,
    any_of: Vec<Vec<(bool, Arc<Acl>)>>,
    visibility: Visibility,
    uses: u8,
}

impl AclSet {
    /// Compiles a proxy's `acl` lines (patterns compiled once, here). Lines with the
    /// same name are OR-ed. Errors read like HAProxy's: `error detected while parsing
    /// ACL 'NAME' : …`.
    pub fn compile(acls: &[AclDef]) -> Result<AclSet, (Span, String)> {
        let mut grouped: HashMap<String, Vec<Criterion>> = HashMap::new();
        for def in acls {
            let c = Criterion::parse(&def.expr.words).map_err(|e| {
                (
                    def.expr.span.clone(),
                    format!("error detected while parsing ACL '{}' : {e}", def.name),
                )
            })?;
            grouped.entry(def.name.clone()).or_default().push(c);
        }
        let acls = grouped
            .into_iter()
            .map(|(name, criteria)| (name, Arc::new(Acl { criteria })))
            .collect();
        Ok(AclSet { acls })
    }

    /// The named ACL: a declared one, else a pre-defined one (section 7.4).
    fn named(&self, name: &str) -> Result<Arc<Acl>, String> {
        if let Some(acl) = self.acls.get(name) {
            return Ok(acl.clone());
        }
        let Some(words) = predefined::find(name) else {
            return Err(format!("no such ACL : '{name}'"));
        };
        let c = Criterion::parse(&words).map_err(|e| {
            format!("pre-defined ACL '{name}' is not supported yet by gatehouse ({e})")
        })?;
        Ok(Arc::new(Acl { criteria: vec![c] }))
    }

    /// Compiles a condition referring to this set's ACLs (and anonymous ones). Errors
    /// are HAProxy's (`no such ACL : 'x'`, `unknown fetch method …`), for the caller to
    /// prefix with the rule it parses.
    pub fn condition(&self, cond: &Condition) -> Result<CompiledCondition, (Span, String)> {
        let mut any_of = Vec::with_capacity(cond.any_of.len());
        let mut visibility = Visibility::Connection;
        let mut uses = 0;
        for suite in &cond.any_of {
            let mut terms = Vec::with_capacity(suite.len());
            for term in suite {
                let acl = match &term.acl {
                    AclRef::Named(name) => self.named(name),
                    AclRef::Anonymous(expr) => {
                        Criterion::parse(&expr.words).map(|c| Arc::new(Acl { criteria: vec![c] }))
                    }
                }
                .map_err(|e| (cond.span.clone(), e))?;
                visibility = visibility.max(acl.visibility());
                uses |= acl.uses();
                terms.push((term.negated, acl));
            }
            any_of.push(terms);
        }
        Ok(CompiledCondition {
            unless: cond.unless,
            any_of,
            visibility,
            uses,
        })
    }

    /// The latest phase whose data the named ACL reads (`None` if it is not declared).
    pub fn acl_visibility(&self, name: &str) -> Option<Visibility> {
        self.acls.get(name).map(|a| a.visibility())
    }
}

impl CompiledCondition {
    /// Evaluates the condition: true when one alternative has all its terms true
    /// (inverted for `unless`). An ACL whose sample is missing does not match.
    pub fn eval(&self, src: &dyn SampleSource) -> bool {
        let hit = self
            .any_of
            .iter()
            .any(|suite| suite.iter().all(|(neg, acl)| acl.eval(src) != *neg));
        hit != self.unless
    }
    /// Evaluates the condition while the payload it inspects may still grow
    /// (`partial`), as HAProxy's `acl_exec_cond()` does: `None` when the answer may
    /// change with more data (a false term of a payload fetch), which a `tcp-request
    /// content` or `tcp-response content` rule waits out until its inspect delay ends.
    /// Not partial: [`CompiledCondition::eval`].
    pub fn eval_partial(&self, src: &dyn SampleSource, partial: bool) -> Option<bool> {
        if !partial {
            return Some(self.eval(src));
        }
        // OR of AND suites; a miss survives negation.
        let mut miss = false;
        let mut hit = false;
        for suite in &self.any_of {
            let mut all = Some(true);
            for (neg, acl) in suite {
                match acl.eval_partial(src, true).map(|r| r != *neg) {
                    Some(false) => {
                        all = Some(false);
                        break;
                    }
                    None => all = None,
                    Some(true) => {}
                }
            }
            match all {
                Some(true) => {
                    hit = true;
                    break;
                }
                None => miss = true,
                Some(false) => {}
            }
        }
        if !hit && miss {
            return None;
        }
        Some(hit != self.unless)
    }

    /// The first payload fetch (`req.len`, `res.payload`…, not `wait_end`) the
    /// condition reads, if any.
    pub fn payload_fetch(&self) -> Option<&'static str> {
        self.any_of
            .iter()
            .flatten()
            .flat_map(|(_, acl)| acl.criteria.iter())
            .map(|c| c.fetch_def())
            .find(|d| d.may_change.ever() && d.name != "wait_end")
            .map(|d| d.name)
    }

    /// The latest phase whose data this condition reads. HAProxy only warns when a rule
    /// uses a later phase's fetch ("will never match"); the caller decides.
    pub fn visibility(&self) -> Visibility {
        self.visibility
    }
    /// Whether every fetch of the condition can be read by a rule evaluated at `stage`:
    /// connection fetches everywhere, request fetches at the request stage only,
    /// response fetches at the response stage only.
    pub fn available_at(&self, stage: Visibility) -> bool {
        self.uses & !stage.readable() == 0
    }
}

/// What the ACL engine offers, for `docs/compat.md`: (kind — `fetch`, `converter` or
/// `match` —, name, implemented). HAProxy 2.6 keywords that are not implemented are
/// refused at load with "not supported yet".
pub fn catalogue() -> Vec<(&'static str, String, bool)> {
    let mut out = Vec::new();
    for d in fetch::all() {
        out.push(("fetch", d.name.to_string(), true));
        if d.derive == fetch::Derive::Suffixes {
            for s in fetch::SUFFIXES {
                out.push(("fetch", format!("{}{s}", d.name), true));
            }
        }
    }
    for n in names::HAPROXY_FETCHES {
        if !out.iter().any(|(_, m, _)| m == n) {
            out.push(("fetch", n.to_string(), false));
        }
    }
    let convs: Vec<&'static str> = conv::all().map(|d| d.name).collect();
    for n in &convs {
        out.push(("converter", n.to_string(), true));
    }
    for n in names::HAPROXY_CONVERTERS {
        if !convs.contains(n) {
            out.push(("converter", n.to_string(), false));
        }
    }
    for m in [
        "found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg", "beg", "end", "dir", "dom",
    ] {
        out.push(("match", m.to_string(), true));
    }
    out
}
