//! An index of an ordered list of rules (a frontend's `use_backend` rules) by the exact
//! `Host` each one requires: a request reads its `Host` once, and only the rules that
//! could match it (plus every rule the index cannot key) are evaluated, still in their
//! configured order, so the first matching rule is the one a linear scan finds.
//!
//! A rule is keyed when every alternative of its `if` condition starts with an ACL all
//! of whose lines are `hdr(host)` / `req.hdr(host)` (every occurrence, no converter)
//! compared with exact strings (`-m str`, the default, with or without `-i`). A linear
//! scan evaluates that first term before any other of the alternative and stops there
//! when it fails, so skipping the rule when no pattern equals the request's `Host`
//! changes nothing, side effects of later terms included. Patterns and `Host` values
//! are compared ASCII-lowercased in the index (a superset of what `-i` and exact
//! matching accept); the rule's whole condition is then evaluated as usual. A request
//! with several `Host` values (or one longer than 256 bytes) falls back to the linear
//! scan.

use super::compile::Criterion;
use super::fetch::{FetchCall, Sample};
use super::{Acl, CompiledCondition, SampleSource};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Fewer keyed rules than this: the linear scan is as cheap.
const MIN_KEYED: usize = 4;

/// The longest `Host` value looked up (longer ones: linear scan).
const MAX_HOST: usize = 256;

/// FNV-1a, for short keys hashed once per request.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Rules of an ordered list indexed by the exact `Host` they require.
#[derive(Debug)]
pub struct RuleIndex {
    /// The `hdr(host)` fetch of the first keyed rule (all keyed rules read the same).
    host: FetchCall,
    /// Lowercased host → the keyed rules that may match it, in order.
    by_host: HashMap<Box<[u8]>, Box<[u32]>, BuildHasherDefault<Fnv>>,
    /// The rules that are not keyed, in order: candidates for every request.
    always: Box<[u32]>,
    /// How many rules there are.
    len: usize,
}

impl RuleIndex {
    /// Indexes the conditions of an ordered list of rules (`None`: a rule without a
    /// condition, which always matches). `None` when too few rules can be keyed for an
    /// index to pay.
    pub fn build<'a>(
        conds: impl IntoIterator<Item = Option<&'a CompiledCondition>>,
    ) -> Option<RuleIndex> {
        let mut host: Option<FetchCall> = None;
        let mut by_host: HashMap<Box<[u8]>, Vec<u32>, BuildHasherDefault<Fnv>> = HashMap::default();
        let mut always = Vec::new();
        let mut keyed = 0;
        let mut len = 0;
        for (i, cond) in conds.into_iter().enumerate() {
            len = i + 1;
            let i = i as u32;
            let Some(hosts) = cond.and_then(keys) else {
                always.push(i);
                continue;
            };
            keyed += 1;
            if host.is_none() {
                host = Some(hosts.0.clone());
            }
            for h in hosts.1 {
                let rules = by_host.entry(h).or_default();
                if rules.last() != Some(&i) {
                    rules.push(i);
                }
            }
        }
        if keyed < MIN_KEYED {
            return None;
        }
        Some(RuleIndex {
            host: host?,
            by_host: by_host
                .into_iter()
                .map(|(k, v)| (k, v.into_boxed_slice()))
                .collect(),
            always: always.into(),
            len,
        })
    }

    /// The first rule, in order, for which `matches` (the rule's whole condition) is
    /// true, among those that can match the request's `Host`; `matches` is called for
    /// candidates only, in order. Allocates nothing.
    pub fn first(
        &self,
        src: &dyn SampleSource,
        mut matches: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        let mut buf = [0u8; MAX_HOST];
        let mut len: Option<usize> = None;
        let mut linear = false;
        self.host.for_each(src, &mut |s| {
            match s {
                Sample::Str(v) if len.is_none() && v.len() <= MAX_HOST => {
                    buf[..v.len()].copy_from_slice(v);
                    buf[..v.len()].make_ascii_lowercase();
                    len = Some(v.len());
                    return false;
                }
                _ => linear = true,
            }
            true
        });
        if linear {
            return (0..self.len).find(|&i| matches(i));
        }
        let keyed: &[u32] = len
            .and_then(|n| self.by_host.get(&buf[..n]))
            .map_or(&[], |r| r);
        // Both lists are in rule order: walk them merged.
        let (mut a, mut b) = (keyed.iter().peekable(), self.always.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x < y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => return None,
            };
            let i = *next? as usize;
            if matches(i) {
                return Some(i);
            }
        }
    }
}

/// The `hdr(host)` fetch and the lowercased hosts one of which a condition requires,
/// when it can be keyed (see the module's documentation).
fn keys(cond: &CompiledCondition) -> Option<(&FetchCall, Vec<Box<[u8]>>)> {
    if cond.unless || cond.any_of.is_empty() {
        return None;
    }
    let mut fetch: Option<&FetchCall> = None;
    let mut hosts = Vec::new();
    for suite in &cond.any_of {
        let (negated, acl) = suite.first()?;
        if *negated {
            return None;
        }
        let (f, mut h) = acl_hosts(acl)?;
        fetch.get_or_insert(f);
        hosts.append(&mut h);
    }
    Some((fetch?, hosts))
}

/// The hosts of an ACL whose every line is an exact `Host` match.
fn acl_hosts(acl: &Acl) -> Option<(&FetchCall, Vec<Box<[u8]>>)> {
    let mut fetch = None;
    let mut hosts = Vec::new();
    for c in &acl.criteria {
        let (f, h) = criterion_hosts(c)?;
        fetch.get_or_insert(f);
        hosts.extend(h);
    }
    Some((fetch?, hosts))
}

/// The lowercased patterns of `hdr(host) [-i] [-m str] PATTERN…`.
fn criterion_hosts(c: &Criterion) -> Option<(&FetchCall, Vec<Box<[u8]>>)> {
    let f = c.fetch();
    let host_fetch = matches!(f.def.name, "hdr" | "req.hdr")
        && f.name.eq_ignore_ascii_case("host")
        && f.occ == 0;
    if !host_fetch {
        return None;
    }
    let pats = c.exact_strings()?;
    Some((
        f,
        pats.map(|p| p.to_ascii_lowercase().into_boxed_slice())
            .collect(),
    ))
}
