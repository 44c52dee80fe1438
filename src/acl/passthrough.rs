//! Forwarding [`SampleSource`](super::SampleSource) methods to a wrapped source: the
//! views that change one part of what the rules see (a reply's status and headers, the
//! live state) and pass the rest through.

/// Implements each named [`SampleSource`](crate::acl::SampleSource) method by
/// calling it on `self.inner` (in an `impl SampleSource for …` block);
/// `request_side` names the methods that read the request and its transaction.
macro_rules! forward_sample_source {
    // What a request's rules read of it and its transaction.
    (request_side) => {
        $crate::acl::forward_sample_source!(
            src, dst, method, uri, req_header, version, req_headers, http_auth, unique_id,
            unique_id_set, request_counter, var, set_var
        );
    };
    ($($m:ident),* $(,)?) => {
        $($crate::acl::forward_sample_source!(@ $m);)*
    };
    (@ src) => { fn src(&self) -> Option<std::net::SocketAddr> { self.inner.src() } };
    (@ dst) => { fn dst(&self) -> Option<std::net::SocketAddr> { self.inner.dst() } };
    (@ method) => { fn method(&self) -> Option<&[u8]> { self.inner.method() } };
    (@ uri) => { fn uri(&self) -> Option<&[u8]> { self.inner.uri() } };
    (@ req_header) => { fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool { self.inner.req_header(name, each) } };
    (@ status) => { fn status(&self) -> Option<u16> { self.inner.status() } };
    (@ version) => { fn version(&self) -> Option<&[u8]> { self.inner.version() } };
    (@ req_headers) => { fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool { self.inner.req_headers(each) } };
    (@ res_headers) => { fn res_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool { self.inner.res_headers(each) } };
    (@ http_auth) => { fn http_auth(&self, userlist: &str, groups: bool, each: &mut dyn FnMut(&[u8]) -> bool) -> bool { self.inner.http_auth(userlist, groups, each) } };
    (@ unique_id) => { fn unique_id(&self) -> Option<&[u8]> { self.inner.unique_id() } };
    (@ unique_id_set) => { fn unique_id_set(&self) -> Option<&[u8]> { self.inner.unique_id_set() } };
    (@ request_counter) => { fn request_counter(&self) -> u64 { self.inner.request_counter() } };
    (@ var) => { fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool { self.inner.var(name, each) } };
    (@ set_var) => { fn set_var(&self, name: &str, value: Option<&[u8]>) { self.inner.set_var(name, value) } };
    (@ req_payload) => { fn req_payload(&self) -> Option<&[u8]> { self.inner.req_payload() } };
    (@ req_body) => { fn req_body(&self) -> Option<$crate::acl::ReqBody<'_>> { self.inner.req_body() } };
    (@ res_body) => { fn res_body(&self) -> Option<$crate::acl::ReqBody<'_>> { self.inner.res_body() } };
    (@ res_payload) => { fn res_payload(&self) -> Option<&[u8]> { self.inner.res_payload() } };
    (@ payload_final) => { fn payload_final(&self) -> bool { self.inner.payload_final() } };
    (@ tls) => { fn tls(&self) -> Option<&$crate::tls::Facts> { self.inner.tls() } };
    (@ proxy_tlvs) => { fn proxy_tlvs(&self) -> Option<&$crate::acl::ProxyTlvs> { self.inner.proxy_tlvs() } };
    (@ identity) => { fn identity(&self) -> Option<std::sync::Arc<$crate::identity::Identity>> { self.inner.identity() } };
    (@ set_identity) => { fn set_identity(&self, id: std::sync::Arc<$crate::identity::Identity>) { self.inner.set_identity(id) } };
    (@ opened_session) => { fn opened_session(&self, section: &str, cookie: &str) -> Option<Option<std::sync::Arc<$crate::identity::Identity>>> { self.inner.opened_session(section, cookie) } };
    (@ decided) => { fn decided(&self, rule: &$crate::config::span::Span, decision: &'static str, provider: Option<&std::sync::Arc<$crate::identity::Provider>>) { self.inner.decided(rule, decision, provider) } };
    (@ pgsql_param) => { fn pgsql_param(&self, name: &str) -> Option<&[u8]> { self.inner.pgsql_param(name) } };
    (@ pgsql_credentials) => { fn pgsql_credentials(&self) -> Option<&str> { self.inner.pgsql_credentials() } };
}
pub(crate) use forward_sample_source;
