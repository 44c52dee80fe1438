//! Conditions, ACLs, switching rules, `http-request`/`tcp-request` rules, errorfiles.

use super::Reply;
use crate::config::span::Span;

/// A condition after `if` or `unless`: an OR of ANDs of (possibly negated) ACL terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The line.
    pub span: Span,
    /// True for `unless`.
    pub unless: bool,
    /// Alternatives joined by `||` (or `or`); each is a juxtaposed AND of terms.
    pub any_of: Vec<Vec<CondTerm>>,
}

/// One term of a condition: a named ACL or an anonymous `{ … }` one, maybe negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondTerm {
    /// `!` before the term.
    pub negated: bool,
    /// The ACL referred to.
    pub acl: AclRef,
}

/// A reference from a condition to an ACL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclRef {
    /// By name (all `acl` lines of that name, OR-ed).
    Named(String),
    /// An anonymous ACL written inline between braces.
    Anonymous(AclExpr),
}

/// The criterion of an ACL as written: `FETCH[,CONV…] [FLAGS…] [VALUES…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclExpr {
    /// The line.
    pub span: Span,
    /// The words after the ACL name (for an anonymous ACL, the words between braces).
    pub words: Vec<String>,
}

/// `acl NAME CRITERION [FLAGS] [VALUES]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclDef {
    /// The ACL's name.
    pub name: String,
    /// Its criterion.
    pub expr: AclExpr,
}

/// `use_backend NAME [if|unless COND]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseBackend {
    /// The line.
    pub span: Span,
    /// The backend's name, or the log-format that names it per request.
    pub backend: String,
    /// Whether `backend` is a log-format (`use_backend be_%[req.hdr(host)]`).
    pub dynamic: bool,
    /// The condition, if any.
    pub cond: Option<Condition>,
}

/// An `http-request` or `http-response` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRule {
    /// The line.
    pub span: Span,
    /// The action.
    pub action: HttpAction,
    /// The condition, if any.
    pub cond: Option<Condition>,
}

/// The body of an `http-request return`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnBody {
    /// No body.
    None,
    /// `string S`.
    String(String),
    /// `lf-string S` (a log-format string).
    LfString(String),
    /// `file F`: read at load time.
    File(Vec<u8>),
    /// `errorfile F`: a full response read and parsed at load time (`None`: the file
    /// is empty, nothing is sent).
    ErrorFile(Option<Reply>),
    /// `default-errorfiles`: the proxy's error page for the status (the backend's or
    /// frontend's custom page, else HAProxy's).
    Default,
    /// `errorfiles NAME`: the page of that `http-errors` section for the status,
    /// resolved after parsing (into `ErrorFile`, or `None` when the section has no
    /// page for the status).
    Section(String),
}

/// The actions of `http-request` / `http-response` rules gatehouse implements.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpAction {
    /// `allow`.
    Allow,
    /// `deny [deny_status N]`.
    Deny {
        /// The status (default 403).
        status: u16,
    },
    /// `return [status N] [content-type T] [string S|lf-string S|file F|errorfile F] [hdr N V]…`.
    Return {
        /// Status (default 200).
        status: u16,
        /// `content-type`.
        content_type: Option<String>,
        /// The body.
        body: ReturnBody,
        /// `hdr NAME VALUE` pairs.
        headers: Vec<(String, String)>,
    },
    /// `set-header NAME FMT`.
    SetHeader(String, String),
    /// `add-header NAME FMT`.
    AddHeader(String, String),
    /// `del-header NAME [-m str|beg|end|sub|reg]`.
    DelHeader(String, HdrMatch),
    /// `redirect location|prefix|scheme …`.
    Redirect(Redirect),
    /// `auth [realm R]`: answer 401 asking for credentials.
    Auth {
        /// The realm (default: the proxy's name).
        realm: Option<String>,
    },
    /// `authenticate NAME [NAME…]` (gatehouse only): the request must carry an identity
    /// one of these `identity` sections accepts; else 401 or a login redirect.
    Authenticate(Vec<String>),
    /// `replace-header NAME REGEX FMT` (`value`: `replace-value`, which rewrites each
    /// comma-separated value on its own).
    ReplaceHeader {
        /// The header's name.
        name: String,
        /// The regex matched against the whole value.
        regex: String,
        /// The replacement, a log-format with `\1`-style references.
        fmt: String,
        /// `replace-value`.
        value: bool,
    },
    /// `set-path`, `set-pathq`, `set-query`, `set-uri`, `set-method` FMT.
    SetLine(LinePart, String),
    /// `http-response set-status CODE [reason R]`.
    SetStatus {
        /// The new status.
        status: u16,
        /// The reason phrase (default: HAProxy's for the code).
        reason: Option<String>,
    },
    /// `set-var(SCOPE.NAME) EXPR` (a sample expression), or `set-var-fmt(SCOPE.NAME)
    /// FMT` (`fmt`: a log-format).
    SetVar {
        /// The variable, with its scope (`txn.x`).
        name: String,
        /// The expression or format.
        expr: String,
        /// `set-var-fmt`.
        fmt: bool,
    },
    /// `unset-var(SCOPE.NAME)`.
    UnsetVar(String),
    /// `http-request tarpit [deny_status N]`: held for `timeout tarpit`, then answered
    /// with this status (500 by default).
    Tarpit {
        /// The status of the answer.
        status: u16,
    },
    /// `http-request set-timeout server|tunnel TIMEOUT|EXPR`.
    SetTimeout {
        /// `tunnel` (else `server`).
        tunnel: bool,
        /// A duration, or a sample expression giving milliseconds.
        value: String,
    },
    /// `set-log-level LEVEL`: a syslog level (0 emerg … 7 debug), `None` for `silent`.
    SetLogLevel(Option<u8>),
    /// `http-request capture EXPR len N|id N`, `http-response capture EXPR id N`: the
    /// sample, as text, into a capture slot of the frontend.
    Capture {
        /// The sample expression.
        expr: String,
        /// The slot (the order of `capture … header`, `declare capture` and `capture …
        /// len` lines of its kind in the frontend).
        slot: usize,
        /// A response slot (`http-response capture`).
        response: bool,
    },
    /// `http-request normalize-uri NORMALIZER`.
    NormalizeUri(Normalizer),
    /// `http-request use-service prometheus-exporter`: the request is answered by the
    /// built-in Prometheus exporter (the only service gatehouse has).
    UsePrometheus,
    /// `track-sc0|1|2 KEY [table T]`: the request's counters go to the key's entry.
    TrackSc(super::TrackSc),
    /// `sc-inc-gpc0(N)`, `sc-inc-gpc1(N)`, `sc-inc-gpc(I,N)`, `sc-set-gpt0(N) V`.
    Sc(super::ScAction),
}

impl HttpAction {
    /// The action's keyword as written in the configuration.
    pub fn keyword(&self) -> &'static str {
        match self {
            HttpAction::Allow => "allow",
            HttpAction::Deny { .. } => "deny",
            HttpAction::Return { .. } => "return",
            HttpAction::SetHeader(..) => "set-header",
            HttpAction::AddHeader(..) => "add-header",
            HttpAction::DelHeader(..) => "del-header",
            HttpAction::Redirect(_) => "redirect",
            HttpAction::Auth { .. } => "auth",
            HttpAction::Authenticate(_) => "authenticate",
            HttpAction::ReplaceHeader { value: false, .. } => "replace-header",
            HttpAction::ReplaceHeader { value: true, .. } => "replace-value",
            HttpAction::SetLine(p, _) => p.keyword(),
            HttpAction::SetStatus { .. } => "set-status",
            HttpAction::SetVar { fmt: false, .. } => "set-var",
            HttpAction::SetVar { fmt: true, .. } => "set-var-fmt",
            HttpAction::UnsetVar(_) => "unset-var",
            HttpAction::Tarpit { .. } => "tarpit",
            HttpAction::SetTimeout { .. } => "set-timeout",
            HttpAction::SetLogLevel(_) => "set-log-level",
            HttpAction::Capture { .. } => "capture",
            HttpAction::NormalizeUri(_) => "normalize-uri",
            HttpAction::UsePrometheus => "use-service",
            HttpAction::TrackSc(t) => {
                ["track-sc0", "track-sc1", "track-sc2"][usize::from(t.slot.min(2))]
            }
            HttpAction::Sc(super::ScAction::IncGpc { .. }) => "sc-inc-gpc",
            HttpAction::Sc(super::ScAction::SetGpt0 { idx: None, .. }) => "sc-set-gpt0",
            HttpAction::Sc(super::ScAction::SetGpt0 { .. }) => "sc-set-gpt",
        }
    }
}

/// A normalizer of `http-request normalize-uri`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalizer {
    /// `path-merge-slashes`.
    MergeSlashes,
    /// `path-strip-dot`.
    StripDot,
    /// `path-strip-dotdot [full]`.
    StripDotDot {
        /// `full`: leading `/../` removed too.
        full: bool,
    },
    /// `query-sort-by-name`.
    QuerySort,
    /// `percent-to-uppercase [strict]`.
    PercentUpper {
        /// `strict`: an invalid sequence is a 400.
        strict: bool,
    },
    /// `percent-decode-unreserved [strict]`.
    PercentDecode {
        /// `strict`: an invalid sequence is a 400.
        strict: bool,
    },
    /// `fragment-strip`.
    FragmentStrip,
    /// `fragment-encode`.
    FragmentEncode,
}

/// How `del-header -m` compares header names (case-insensitive but `reg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HdrMatch {
    /// `-m str` (the default): the whole name.
    #[default]
    Str,
    /// `-m beg`: a prefix.
    Beg,
    /// `-m end`: a suffix.
    End,
    /// `-m sub`: a substring.
    Sub,
    /// `-m reg`: a regex.
    Reg,
}

/// The part of the request line a `set-*` action rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinePart {
    /// `set-path`: the path, query kept.
    Path,
    /// `set-pathq`: path and query.
    PathQ,
    /// `set-query`: the query (without `?`).
    Query,
    /// `set-uri`: the whole target.
    Uri,
    /// `set-method`.
    Method,
}

impl LinePart {
    /// The action's keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            LinePart::Path => "set-path",
            LinePart::PathQ => "set-pathq",
            LinePart::Query => "set-query",
            LinePart::Uri => "set-uri",
            LinePart::Method => "set-method",
        }
    }
}

/// What a redirect's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectKind {
    /// `location L`: the whole `Location`.
    Location,
    /// `prefix P`: `P` then the request's path (and query).
    Prefix,
    /// `scheme S`: `S://` then the Host and the path.
    Scheme,
}

/// A `redirect` rule (`http-request redirect`, `http-response redirect`, the `redirect`
/// keyword).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// Its type.
    pub kind: RedirectKind,
    /// The location, prefix or scheme: a log-format.
    pub value: String,
    /// The status (301, 302 default, 303, 307, 308).
    pub code: u16,
    /// `drop-query`.
    pub drop_query: bool,
    /// `append-slash`.
    pub append_slash: bool,
    /// The `set-cookie` value sent (from `set-cookie` or `clear-cookie`).
    pub cookie: Option<String>,
}

/// A `tcp-request` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpRequestRule {
    /// The line.
    pub span: Span,
    /// `connection`, `content`, `session` or `inspect-delay`.
    pub stage: String,
    /// The action (`accept`, `reject`, …) or, for `inspect-delay`, the delay.
    pub action: String,
    /// The action's further words.
    pub args: Vec<String>,
    /// The condition, if any.
    pub cond: Option<Condition>,
    /// `track-sc*`: what to track.
    pub track: Option<super::TrackSc>,
    /// `sc-inc-gpc*`, `sc-set-gpt0`.
    pub sc: Option<super::ScAction>,
}

/// `errorfile CODE FILE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorFile {
    /// The status code it replaces.
    pub status: u16,
    /// The file's response, parsed at load (`None`: the file is empty, nothing is sent).
    pub reply: Option<Reply>,
    /// The line.
    pub span: Span,
}
