//! Cookie persistence as the snapshot holds it: the `force-persist`/`ignore-persist`
//! rules compiled, and the value of a `cookie … dynamic` server cookie.

use super::rules::Cond;
use crate::acl::{AclSet, SampleSource};
use crate::config::model::PersistRule;
use crate::config::span::Span;
use std::net::SocketAddr;

/// One compiled `force-persist` or `ignore-persist` rule.
#[derive(Debug)]
pub struct PersistRuleRt {
    /// `force-persist` (true) or `ignore-persist`.
    pub force: bool,
    /// Its condition.
    pub cond: Cond,
}

/// What the persistence rules decide for one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PersistVerdict {
    /// No rule matched.
    #[default]
    None,
    /// A `force-persist` rule matched (HAProxy's `SF_FORCE_PRST`).
    Force,
    /// An `ignore-persist` rule matched (`SF_IGNORE_PRST`).
    Ignore,
}

/// Compiles a backend's rules against its ACLs.
pub fn compile_rules(
    set: &AclSet,
    rules: &[PersistRule],
) -> Result<Vec<PersistRuleRt>, (Span, String)> {
    rules
        .iter()
        .map(|r| {
            Ok(PersistRuleRt {
                force: r.force,
                cond: Cond::compile(set, Some(&r.cond))?,
            })
        })
        .collect()
}

/// The first matching rule decides, as HAProxy evaluates them once the backend is known.
pub fn verdict(rules: &[PersistRuleRt], src: &dyn SampleSource) -> PersistVerdict {
    match rules.iter().find(|r| r.cond.matches(src)) {
        Some(r) if r.force => PersistVerdict::Force,
        Some(_) => PersistVerdict::Ignore,
        None => PersistVerdict::None,
    }
}

/// The cookie of a server without `cookie` in a backend with `cookie … dynamic`
/// (HAProxy's `srv_set_dyncookie`): XXH64 (seed 0) of the key, the address's bytes and
/// the port as four big-endian bytes, as 16 lowercase hex digits.
pub fn dynamic_cookie(key: &str, addr: SocketAddr) -> String {
    let mut buf = key.as_bytes().to_vec();
    match addr {
        SocketAddr::V4(a) => buf.extend_from_slice(&a.ip().octets()),
        SocketAddr::V6(a) => buf.extend_from_slice(&a.ip().octets()),
    }
    buf.extend_from_slice(&u32::from(addr.port()).to_be_bytes());
    format!("{:016x}", xxhash_rust::xxh64::xxh64(&buf, 0))
}
