//! The PostgreSQL sessions' lines in the identity section's chained audit log
//! (docs/pgsql.md): `connect` (identity, client, requested user and database,
//! credentials picked, backend/server, decision), `statement` (with `option
//! pgsql-audit-statements`) and `disconnect` (duration, bytes each way, how it ended).

use crate::identity::Provider;
use crate::identity::audit::AuditLog;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The audit log of one session, and the fields every one of its lines repeats.
#[derive(Clone)]
pub struct SessionAudit {
    log: Arc<AuditLog>,
    /// The session's id.
    pub id: String,
}

/// The audit log a session writes to: its identity's section's, else the first
/// audited section its frontend's `authenticate` rules name.
pub fn log_for(
    identity: Option<&crate::identity::Identity>,
    named: &[Arc<Provider>],
) -> Option<SessionAudit> {
    let p = identity
        .and_then(|i| named.iter().find(|p| p.name == i.provider))
        .filter(|p| p.audit.is_some())
        .or_else(|| named.iter().find(|p| p.audit.is_some()))?;
    let id = format!(
        "{:x}",
        u128::from_be_bytes(crate::identity::session::random::<16>())
    );
    Some(SessionAudit {
        log: Arc::clone(p.audit.as_ref()?),
        id,
    })
}

impl SessionAudit {
    /// Writes one line: `event`, the session id, then `fields`.
    pub fn line(&self, event: &str, fields: Vec<(&str, Value)>) {
        let mut m = Map::new();
        m.insert("event".into(), event.into());
        m.insert("id".into(), self.id.as_str().into());
        m.insert("protocol".into(), "pgsql".into());
        for (k, v) in fields {
            m.insert(k.into(), v);
        }
        self.log.event(&m);
    }
}

/// The identity's fields of a `connect` line.
pub fn identity_fields(id: Option<&crate::identity::Identity>) -> Vec<(&'static str, Value)> {
    let Some(i) = id else {
        return vec![("identity", Value::Null), ("sub", Value::Null)];
    };
    let mut groups = Vec::new();
    i.groups(&mut |g| {
        groups.push(Value::from(String::from_utf8_lossy(g).into_owned()));
        false
    });
    vec![
        ("identity", Value::from(&*i.provider)),
        ("sub", i.sub().map_or(Value::Null, Value::from)),
        ("email", i.email().map_or(Value::Null, Value::from)),
        ("groups", Value::Array(groups)),
    ]
}
