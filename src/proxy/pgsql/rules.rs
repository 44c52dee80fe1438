//! The `tcp-request content` rules of a PostgreSQL session, in order: `authenticate`
//! (the token must satisfy one of the named sections), `accept`, `reject`,
//! `set-credentials` (the first matching one wins); then `use_backend` /
//! `default_backend` and the backend's own `tcp-request content` rules.

use super::refuse::Refusal;
use super::source::PgSource;
use crate::acl::WithLive;
use crate::config::credentials::Credentials;
use crate::identity::Provider;
use crate::runtime::backend::Backend;
use crate::runtime::frontend::Frontend;
use crate::runtime::live_fetch::StreamLive;
use crate::runtime::rules::TcpAction;
use crate::runtime::snapshot::Snapshot;
use std::sync::Arc;

/// Every `identity` section the frontend's `authenticate` rules name, in order.
pub fn providers(fe: &Frontend) -> Vec<Arc<Provider>> {
    let mut out: Vec<Arc<Provider>> = Vec::new();
    for r in &fe.tcp_content {
        if let TcpAction::Authenticate(ps) = &r.action {
            for p in ps {
                if !out.iter().any(|q| Arc::ptr_eq(q, p)) {
                    out.push(Arc::clone(p));
                }
            }
        }
    }
    out
}

/// Runs the rules; the backend and credentials chosen, or why the session is refused.
pub fn run(
    fe: &Frontend,
    snap: &Snapshot,
    src: &PgSource<'_>,
    token: Option<&str>,
) -> Result<(Arc<Backend>, Arc<Credentials>), Option<Refusal>> {
    let live = StreamLive::new(snap, fe);
    let with = WithLive {
        inner: src,
        live: &live,
    };
    let user = src.param("user").unwrap_or("").to_owned();
    for r in &fe.tcp_content {
        if !r.cond.matches(&with) {
            continue;
        }
        match &r.action {
            TcpAction::Accept => break,
            TcpAction::Reject => return Err(Some(Refusal::NotAllowed)),
            TcpAction::ExpectProxy => {}
            TcpAction::Authenticate(ps) => {
                let Some(t) = token else {
                    return Err(Some(Refusal::InvalidToken {
                        user,
                        why: "no token".into(),
                    }));
                };
                let mut why = String::from("no identity section accepts it");
                let found = ps.iter().find_map(|p| match p.bearer(t) {
                    Ok(id) => Some(id),
                    Err(e) => {
                        why = e.to_string();
                        None
                    }
                });
                match found {
                    Some(id) => {
                        let _ = src.identity.set(id);
                    }
                    None => return Err(Some(Refusal::InvalidToken { user, why })),
                }
            }
            TcpAction::SetCredentials(c) => {
                let _ = src.credentials.set(Arc::clone(c));
            }
            TcpAction::Track(n, t, e) => {
                crate::runtime::rules::stick_action(Some((*n, t.as_str(), e)), None, &with, false)
            }
            TcpAction::Sc(a, e) => {
                crate::runtime::rules::stick_action(None, Some((a, e.as_ref())), &with, false)
            }
        }
    }
    let backend = fe
        .switch(&with)
        .or_else(|| fe.default_backend.clone())
        .ok_or(Some(Refusal::NoServer))?;
    let be_live = live.switched(&backend);
    let be_with = WithLive {
        inner: src,
        live: &be_live,
    };
    if !crate::runtime::rules::tcp_verdict(&backend.tcp_content, &be_with) {
        return Err(Some(Refusal::NotAllowed));
    }
    let creds = src
        .credentials
        .get()
        .cloned()
        .ok_or(Some(Refusal::NoCredentials))?;
    Ok((backend, creds))
}
