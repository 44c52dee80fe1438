//! A request seen through the ACL engine's and the balancer's eyes: the neutral request
//! head and its connection, without copying anything.

use super::txn::Txn;
use crate::acl::{LiveState, SampleSource};
use crate::balance::BalanceInput;
use crate::config::span::Span;
use crate::identity::{Identity, Provider};
use crate::proxy::message::{Request, Response};
use crate::proxy::session::ConnInfo;
use crate::runtime::frontend::UniqueId;
use crate::runtime::live_fetch::StreamLive;
use crate::runtime::userlist::{Userlists, basic_credentials};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A request head with its connection.
#[derive(Clone, Copy)]
pub struct ReqView<'a> {
    /// The request head.
    pub req: Request<'a>,
    /// The client connection.
    pub conn: &'a ConnInfo,
    /// The response status, once known (for `http-response` rules).
    pub status: Option<u16>,
    /// The response head, once known.
    pub resp: Option<Response<'a>>,
    /// The configuration's userlists (for `http_auth`), where rules run.
    pub users: Option<&'a Userlists>,
    /// The transaction's state and the frontend's `unique-id-format` with its name,
    /// where rules run.
    pub txn: Option<(&'a Txn, Option<&'a UniqueId>, &'a str)>,
    /// The stream's proxies and their live state (`nbsrv`, `be_name`, …), where rules
    /// run.
    pub live: Option<StreamLive<'a>>,
}

impl SampleSource for ReqView<'_> {
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
    fn method(&self) -> Option<&[u8]> {
        Some(self.req.method_bytes())
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.req.target())
    }
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.req.values(name.as_bytes()).any(each)
    }
    fn version(&self) -> Option<&[u8]> {
        Some(if self.req.version.major == 2 {
            b"2.0"
        } else if self.req.version.at_least_11() {
            b"1.1"
        } else {
            b"1.0"
        })
    }
    fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        self.req.fields().any(|(n, v)| each(n, v))
    }
    fn status(&self) -> Option<u16> {
        self.status
    }
    fn res_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        let Some(r) = &self.resp else { return false };
        r.headers
            .iter()
            .any(|h| each(h.name.get(r.buf), h.value.get(r.buf)))
    }
    fn http_auth(&self, userlist: &str, groups: bool, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let Some(users) = self.users else {
            return false;
        };
        let Some(auth) = self.req.values(b"authorization").next() else {
            return false;
        };
        let Some((raw, colon)) = basic_credentials(auth) else {
            return false;
        };
        users.check(userlist, &raw[..colon], &raw[colon + 1..], groups, each)
    }
    fn unique_id(&self) -> Option<&[u8]> {
        let (txn, uid, fe) = self.txn?;
        txn.unique_id(uid?, self, fe, fe)
    }
    fn request_counter(&self) -> u64 {
        self.txn.map_or(0, |(t, _, _)| t.rt)
    }
    fn unique_id_set(&self) -> Option<&[u8]> {
        self.txn.and_then(|(t, _, _)| t.unique_id_get())
    }
    fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.txn.is_some_and(|(t, _, _)| t.var(name, each))
    }
    fn set_var(&self, name: &str, value: Option<&[u8]>) {
        if let Some((t, _, _)) = self.txn {
            t.set_var(name, value);
        }
    }
    fn identity(&self) -> Option<Arc<Identity>> {
        self.txn.and_then(|(t, _, _)| t.identity())
    }
    fn set_identity(&self, id: Arc<Identity>) {
        if let Some((t, _, _)) = self.txn {
            t.set_identity(id);
        }
    }
    fn opened_session(&self, section: &str, cookie: &str) -> Option<Option<Arc<Identity>>> {
        self.txn
            .and_then(|(t, _, _)| t.opened_session(section, cookie))
    }
    fn decided(&self, rule: &Span, decision: &'static str, provider: Option<&Arc<Provider>>) {
        if let Some((t, _, _)) = self.txn {
            t.decided(rule, decision, provider);
        }
    }
    fn live(&self) -> Option<&dyn LiveState> {
        self.live.as_ref().map(|l| l as &dyn LiveState)
    }
    fn req_body(&self) -> Option<crate::acl::ReqBody<'_>> {
        super::body_wait::req_body(&self.req, self.txn.map(|(t, _, _)| &t.body))
    }
    fn res_body(&self) -> Option<crate::acl::ReqBody<'_>> {
        let resp = self.resp.as_ref()?;
        super::body_wait::res_body(resp, self.txn.map(|(t, _, _)| &t.res_body))
    }
}

impl BalanceInput for ReqView<'_> {
    fn src(&self) -> Option<IpAddr> {
        self.conn.peer.map(|p| p.ip())
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.req.target())
    }
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.req.values(name.as_bytes()).next_back()
    }
}
