//! What the configuration language leaves to the layers that compile it. HAProxy checks
//! conditions, log-formats and errorfiles while it parses; gatehouse keeps their syntax
//! here and asks a [`Semantics`] for the rest, so that `config` depends on no other
//! module: the loader at the top of the crate (`crate::load`) passes the real checks
//! (the ACL engine, the log-format compiler, the HTTP/1 codec), and a parse without
//! them ([`SyntaxOnly`]) still yields the model.

use super::diag::Diag;
use super::model::{Config, Global, Proxy, ProxyKind, Reply};

/// Where a log-format string is used, which decides what it may contain: log lines
/// (`log-format`) print `-` for empty values and merge spaces; the formats of HTTP
/// actions (`http-request return lf-string`, `hdr`, `set-header` values) keep spaces,
/// print nothing for empty values, and may contain `%[…]` sample expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatContext {
    /// A log line (`log-format`, `option httplog`, …).
    Log,
    /// An `http-request` action: response fetches are refused.
    HttpRequest,
    /// An `http-response` action.
    HttpResponse,
    /// An `http-request` action or `unique-id-format` of a proxy without backend
    /// capability (a `frontend`): response and backend fetches (`be_name`) are refused,
    /// and so are backend fetches whose backend argument is left out (`nbsrv`).
    FrontendRequest,
    /// An `http-response` or `http-after-response` action of a proxy without backend
    /// capability: backend fetches whose backend argument is left out are refused.
    FrontendResponse,
}

impl FormatContext {
    /// This context in a proxy of `kind`: a `frontend` has no backend capability
    /// (`defaults`, `listen` and `backend` sections have it, as in HAProxy).
    pub fn in_proxy(self, kind: ProxyKind) -> FormatContext {
        match (self, kind) {
            (FormatContext::HttpRequest, ProxyKind::Frontend) => FormatContext::FrontendRequest,
            (FormatContext::HttpResponse, ProxyKind::Frontend) => FormatContext::FrontendResponse,
            (c, _) => c,
        }
    }

    /// Whether it is an `http-request` action's.
    pub fn is_request(self) -> bool {
        matches!(
            self,
            FormatContext::HttpRequest | FormatContext::FrontendRequest
        )
    }

    /// Whether it is an `http-response` or `http-after-response` action's.
    pub fn is_response(self) -> bool {
        matches!(
            self,
            FormatContext::HttpResponse | FormatContext::FrontendResponse
        )
    }
}

/// The checks that need compiled code, called while the configuration is parsed.
pub trait Semantics: Sync {
    /// Compiles `text` as a log-format for `ctx`; the error is HAProxy's wording
    /// (`no such format variable 'x'…`, `failed to parse sample expression <…> : …`).
    fn log_format(&self, text: &str, ctx: FormatContext) -> Result<(), String>;

    /// Compiles the ACLs and every condition of `proxy`, pushing each error (HAProxy's
    /// wording, at the condition's line) to `diags`.
    fn conditions(&self, proxy: &Proxy, diags: &mut Vec<Diag>);

    /// Checks the frontends, backends and servers that the sample fetches of `proxy`'s
    /// conditions name (`nbsrv(app)`, `srv_is_up(app/s1)`), pushing each error to
    /// `diags`. No check by default.
    fn references(&self, _config: &Config, _proxy: &Proxy, _diags: &mut Vec<Diag>) {}

    /// Reads an errorfile's content (an HTTP/1 response: status line, headers, blank
    /// line, body) into a reply; `Ok(None)` for an empty file (nothing is sent). The
    /// error is HAProxy's wording (`unable to parse headers (error offset: N)`, …).
    fn errorfile(&self, content: &[u8]) -> Result<Option<Reply>, String>;

    /// Compiles the health-check rules of `proxy` (`tcp-check`, `http-check`, the
    /// `option …-check` rule sets), pushing each error at its line to `diags`: what
    /// `gatehouse -c` refuses is what the start refuses. No check by default.
    fn health_checks(&self, _global: &Global, _proxy: &Proxy, _diags: &mut Vec<Diag>) {}

    /// Loads the certificates and compiles the TLS settings of `proxy`'s bind and server
    /// lines with the `global` defaults, pushing each error at its line: HAProxy's `-c`
    /// reads the certificates too. No check by default.
    fn tls(&self, _global: &super::model::Global, _proxy: &Proxy, _diags: &mut Vec<Diag>) {}
}

/// No checks: every format, condition and errorfile is taken as written (an errorfile
/// becomes an empty reply). For tools that want the model without the crate's engines.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyntaxOnly;

impl Semantics for SyntaxOnly {
    fn log_format(&self, _text: &str, _ctx: FormatContext) -> Result<(), String> {
        Ok(())
    }
    fn conditions(&self, _proxy: &Proxy, _diags: &mut Vec<Diag>) {}
    fn errorfile(&self, _content: &[u8]) -> Result<Option<Reply>, String> {
        Ok(None)
    }
}
