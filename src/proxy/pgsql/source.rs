//! What the rules, the balancer and the log line read of a PostgreSQL session: the
//! connection, the client's startup parameters (`pgsql_*` fetches), the identity its
//! token proved (`identity_*`) and the credentials picked (`pgsql_credentials`).

use crate::acl::SampleSource;
use crate::balance::BalanceInput;
use crate::config::credentials::Credentials;
use crate::identity::Identity;
use crate::proxy::session::ConnInfo;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// A session's sample source.
pub struct PgSource<'a> {
    /// The client connection.
    pub conn: &'a ConnInfo,
    /// The startup parameters, in the client's order.
    pub params: &'a [(String, String)],
    /// The identity the token proved (the first `authenticate` that accepted it).
    pub identity: OnceLock<Arc<Identity>>,
    /// The credentials the first matching `set-credentials` picked.
    pub credentials: OnceLock<Arc<Credentials>>,
}

impl<'a> PgSource<'a> {
    /// A source before the rules ran.
    pub fn new(conn: &'a ConnInfo, params: &'a [(String, String)]) -> Self {
        PgSource {
            conn,
            params,
            identity: OnceLock::new(),
            credentials: OnceLock::new(),
        }
    }

    /// A startup parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The database asked for (the user's name when none, as PostgreSQL).
    pub fn database(&self) -> Option<&str> {
        self.param("database").or_else(|| self.param("user"))
    }
}

impl SampleSource for PgSource<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.conn.peer
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.conn.local
    }
    fn tls(&self) -> Option<&crate::tls::Facts> {
        self.conn.tls.as_deref()
    }
    fn proxy_tlvs(&self) -> Option<&crate::acl::ProxyTlvs> {
        self.conn.pp.as_deref()
    }
    fn identity(&self) -> Option<Arc<Identity>> {
        self.identity.get().cloned()
    }
    fn set_identity(&self, id: Arc<Identity>) {
        let _ = self.identity.set(id);
    }
    fn pgsql_param(&self, name: &str) -> Option<&[u8]> {
        self.param(name).map(str::as_bytes)
    }
    fn pgsql_credentials(&self) -> Option<&str> {
        self.credentials.get().map(|c| c.name.as_str())
    }
}

impl BalanceInput for PgSource<'_> {
    fn src(&self) -> Option<std::net::IpAddr> {
        self.conn.peer.map(|p| p.ip())
    }
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    fn header(&self, _name: &str) -> Option<&[u8]> {
        None
    }
}
