//! Per-request state the rules read and write beside the message: the request's
//! unique id, generated once from `unique-id-format` on first use (a `unique-id`
//! fetch, else after the switching rules) and then sent, logged and fetched unchanged;
//! the variables of scopes `sess` (kept with the connection), `txn`, `req` and `res` (`req.` and `res.` ones set by the
//! request rules are dropped when the response rules start, as HAProxy does). Nothing is allocated for a request that
//! uses neither.

use crate::acl::SampleSource;
use crate::config::span::Span;
use crate::identity::Provider;
use crate::runtime::frontend::UniqueId;
use crate::runtime::procvars::ProcVars;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// One request's transaction state; reset by [`Txn::clear`] between requests.
#[derive(Debug, Default)]
pub struct Txn {
    /// The unique id, once generated.
    uid: OnceLock<Vec<u8>>,
    /// The id is being generated: a `%[unique-id]` inside its own format is empty.
    busy: AtomicBool,
    /// The request's number in the process (`%rt`).
    pub rt: u64,
    /// The variables set, by full name (`txn.x`).
    vars: Mutex<Vec<(Box<str>, Vec<u8>)>>,
    /// The process-wide variables (`proc.x`) of the request's snapshot.
    proc: Option<Arc<ProcVars>>,
    /// The identity and the access decision (`http-request authenticate`).
    pub auth: Mutex<super::identity::AuthNote>,
    /// The request body held for the rules (`wait-for-body`).
    pub body: super::body_wait::HeldBody,
    /// The response body held for the `http-response` rules (`wait-for-body`).
    pub res_body: super::body_wait::HeldBody,
}

impl Txn {
    /// Forgets the previous request's state.
    pub fn clear(&mut self) {
        self.uid = OnceLock::new();
        self.body.clear();
        self.res_body.clear();
        *self.busy.get_mut() = false;
        if let Ok(v) = self.vars.get_mut() {
            v.retain(|(n, _)| n.starts_with("sess."));
        }
        if let Ok(a) = self.auth.get_mut()
            && (a.provider.is_some()
                || a.identity.is_some()
                || a.rule.is_some()
                || a.set_cookie.is_some()
                || !a.sessions.is_empty())
        {
            *a = Default::default();
        }
    }

    /// Uses `proc` for the `proc.` variables (the request's snapshot's store).
    pub fn set_proc(&mut self, proc: &Arc<ProcVars>) {
        if !self.proc.as_ref().is_some_and(|p| Arc::ptr_eq(p, proc)) {
            self.proc = Some(Arc::clone(proc));
        }
    }

    /// Takes the `sess.` variables out (the connection goes idle or closes).
    pub fn take_sess(&mut self) -> Vec<(Box<str>, Vec<u8>)> {
        match self.vars.get_mut() {
            Ok(v) if !v.is_empty() => {
                let (sess, rest) = std::mem::take(v)
                    .into_iter()
                    .partition(|(n, _)| n.starts_with("sess."));
                *v = rest;
                sess
            }
            _ => Vec::new(),
        }
    }

    /// Puts back the `sess.` variables of the connection (the first request of a busy
    /// period).
    pub fn put_sess(&mut self, sess: Vec<(Box<str>, Vec<u8>)>) {
        if let Ok(v) = self.vars.get_mut() {
            v.clear();
            *v = sess;
        }
    }

    /// Calls `each` with variable `name`'s value, if set.
    pub fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        if name.starts_with("proc.") {
            return self.proc.as_ref().is_some_and(|p| p.get(name, each));
        }
        // The value is copied out before `each` runs: `each` may read another variable
        // (`var(txn.a),strcmp(txn.b)`, `jwt_verify(txn.alg,…)`) and the lock is not
        // reentrant. Short values stay on the stack.
        let mut small = [0u8; 128];
        let mut large = Vec::new();
        let len = {
            let Ok(vars) = self.vars.lock() else {
                return false;
            };
            let Some((_, v)) = vars.iter().find(|(n, _)| &**n == name) else {
                return false;
            };
            if v.len() <= small.len() {
                small[..v.len()].copy_from_slice(v);
            } else {
                large.extend_from_slice(v);
            }
            v.len()
        };
        each(if len <= small.len() {
            &small[..len]
        } else {
            &large
        })
    }

    /// Sets (or with `None` unsets) variable `name`.
    pub fn set_var(&self, name: &str, value: Option<&[u8]>) {
        if name.starts_with("proc.") {
            if let Some(p) = &self.proc {
                p.set(name, value);
            }
            return;
        }
        let Ok(mut vars) = self.vars.lock() else {
            return;
        };
        let at = vars.iter().position(|(n, _)| &**n == name);
        match (at, value) {
            (Some(i), Some(v)) => {
                vars[i].1.clear();
                vars[i].1.extend_from_slice(v);
            }
            (None, Some(v)) => vars.push((name.into(), v.to_vec())),
            (Some(i), None) => {
                vars.swap_remove(i);
            }
            (None, None) => {}
        }
    }

    /// The identity that authenticated the request, if any.
    pub fn identity(&self) -> Option<Arc<crate::identity::Identity>> {
        self.auth.lock().ok()?.identity.clone()
    }

    /// Records the identity that authenticated the request.
    pub fn set_identity(&self, id: Arc<crate::identity::Identity>) {
        if let Ok(mut a) = self.auth.lock() {
            a.identity = Some(id);
        }
    }

    /// What the session cookie `cookie` of section `section` gave when it was opened
    /// before the rules (`None`: it was not opened then).
    pub fn opened_session(
        &self,
        section: &str,
        cookie: &str,
    ) -> Option<Option<Arc<crate::identity::Identity>>> {
        let a = self.auth.lock().ok()?;
        a.sessions
            .iter()
            .find(|(s, c, _)| &**s == section && c == cookie)
            .map(|(_, _, id)| id.clone())
    }

    /// Records the rule that decided and (for `authenticate`) its section.
    pub fn decided(&self, rule: &Span, decision: &'static str, provider: Option<&Arc<Provider>>) {
        if let Ok(mut a) = self.auth.lock() {
            a.rule = Some(rule.clone());
            a.decision = Some(decision);
            if let Some(p) = provider {
                a.provider = Some(Arc::clone(p));
            }
        }
    }

    /// Drops the `req.` and `res.` variables set so far: the response is being
    /// processed (HAProxy keeps both scopes in one list, purged then).
    pub fn end_request(&mut self) {
        if let Ok(v) = self.vars.get_mut() {
            v.retain(|(n, _)| !n.starts_with("req.") && !n.starts_with("res."));
        }
    }

    /// The id, if generated already.
    pub fn unique_id_get(&self) -> Option<&[u8]> {
        self.uid.get().map(Vec::as_slice)
    }

    /// The id: generated now from `uid`'s format for the request seen through `src`
    /// (`%f`/`%b` print `frontend`/`backend`) unless it was already.
    pub fn unique_id(
        &self,
        uid: &UniqueId,
        src: &dyn SampleSource,
        frontend: &str,
        backend: &str,
    ) -> Option<&[u8]> {
        if let Some(v) = self.uid.get() {
            return Some(v);
        }
        if self.busy.swap(true, Ordering::Relaxed) {
            return None;
        }
        let mut out = Vec::new();
        uid.format
            .render_request(src, frontend, backend, -1, &mut out);
        self.busy.store(false, Ordering::Relaxed);
        Some(self.uid.get_or_init(|| out))
    }
}

/// Fills `out` with the `capture … header` values of a message's `fields`: for each
/// declared header, its last value truncated to the declared length (`None`: absent).
pub fn capture<'a>(
    specs: &[(Vec<u8>, usize)],
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    out: &mut Vec<Option<Vec<u8>>>,
) {
    out.clear();
    if specs.is_empty() {
        return;
    }
    out.resize(specs.len(), None);
    for (n, v) in fields {
        for (i, (name, len)) in specs.iter().enumerate() {
            if n.eq_ignore_ascii_case(name) {
                out[i] = Some(v[..v.len().min(*len)].to_vec());
            }
        }
    }
}
