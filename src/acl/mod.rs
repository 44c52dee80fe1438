//! The ACL engine: sample fetches, converters, matchers, conditions.
//!
//! CONTRACT (implemented by the ACL helper): conditions are parsed from words at config
//! time ([`parse_condition`]), compiled once per proxy at load ([`AclSet::compile`],
//! [`AclSet::condition`]), and evaluated per request against a [`SampleSource`] without
//! allocating.

use crate::config::model::{AclDef, Condition};
use crate::config::span::Span;
use std::net::SocketAddr;

/// What a fetch can see: a rule in an earlier phase may not use a later phase's fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Visibility {
    /// The connection only (`src`, `dst`, …): usable in `tcp-request connection`.
    Connection,
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
    /// Request method, when a request is parsed.
    fn method(&self) -> Option<&[u8]>;
    /// Request URI as received (origin-form path and query, or absolute form).
    fn uri(&self) -> Option<&[u8]>;
    /// Calls `each` with every value of request header `name` (case-insensitive), in
    /// order, until it returns true; returns whether one did.
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool;
    /// Response status, when a response is parsed.
    fn status(&self) -> Option<u16> {
        None
    }
}

/// Parses the words of a condition (`if`/`unless` and what follows) into a [`Condition`].
pub fn parse_condition(words: &[String], span: &Span) -> Result<Condition, String> {
    let _ = (words, span);
    Err("conditions are not implemented yet".into())
}

/// The compiled ACLs of one proxy.
pub struct AclSet {}

/// A compiled condition, ready to evaluate.
pub struct CompiledCondition {}

impl AclSet {
    /// Compiles a proxy's `acl` lines (patterns compiled once, here).
    pub fn compile(acls: &[AclDef]) -> Result<AclSet, (Span, String)> {
        let _ = acls;
        Ok(AclSet {})
    }
    /// Compiles a condition referring to this set's ACLs (and anonymous ones).
    pub fn condition(&self, cond: &Condition) -> Result<CompiledCondition, (Span, String)> {
        let _ = cond;
        Ok(CompiledCondition {})
    }
}

impl CompiledCondition {
    /// Evaluates the condition.
    pub fn eval(&self, src: &dyn SampleSource) -> bool {
        let _ = src;
        true
    }
    /// The latest phase whose data this condition reads.
    pub fn visibility(&self) -> Visibility {
        Visibility::Connection
    }
}
