//! Compiling `log-format` strings (HAProxy 2.6 section 8.2.6): `%var`, `%{+Q,-M}var`,
//! `%o`, `%%`, literal text and merged spaces; and the formats of HTTP actions
//! (`http-request return lf-string`, `hdr`, `set-header` values), which also take
//! `%[fetch,converter…]` sample expressions ([`FormatContext`]). Rendering lives in
//! `render.rs`.

/// `option httplog`, exactly as HAProxy 2.6 declares it.
pub const HTTPLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
/// `option httplog clf`, exactly as HAProxy 2.6 declares it.
pub const HTTPLOG_CLF: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
/// `option tcplog`, exactly as HAProxy 2.6 declares it.
pub const TCPLOG: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
/// `option httpslog` as HAProxy 2.6 declares it. It uses `%[…]` sample fetches, which
/// [`LogFormatSpec::compile`] does not support yet.
pub const HTTPSLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc";

use crate::acl::{SampleExpr, Visibility};
use std::sync::Arc;

/// Flag `Q`: quote strings.
pub(crate) const OPT_QUOTE: u8 = 1;
/// Flag `X`: hexadecimal IPs, ports, `%Ts`, `%rt`, `%pid`, `%lc`, `%ms`.
pub(crate) const OPT_HEXA: u8 = 2;
/// Flag `E`: escape `"`, `\` and `]` with a backslash.
pub(crate) const OPT_ESC: u8 = 4;
/// Flag `M` (on by default): print `-` for an empty unquoted string.
pub(crate) const OPT_MANDATORY: u8 = 8;

/// A `%` variable of the 8.2.6 table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is named after its `%` variable
pub enum Var {
    B,
    CC,
    CS,
    H,
    HM,
    HP,
    HPO,
    HQ,
    HU,
    HV,
    ID,
    ST,
    T,
    Ta,
    Tc,
    Td,
    Tl,
    Th,
    Ti,
    Tq,
    TR,
    Tr,
    Ts,
    Tt,
    Tu,
    Tw,
    U,
    Ac,
    Backend,
    Bc,
    Bi,
    Bp,
    Bq,
    Ci,
    Cp,
    Frontend,
    Fc,
    Fi,
    Fp,
    Ft,
    Lc,
    Hr,
    Hrl,
    Hs,
    Hsl,
    Ms,
    Pid,
    Request,
    Rc,
    Rt,
    Server,
    Sc,
    Si,
    Sp,
    Sq,
    Sslc,
    Sslv,
    Date,
    DateReq,
    DateReqGmt,
    DateReqLocal,
    Ts2,
    Tsc,
}

/// Variable names and what they print, as in HAProxy's table.
const VARS: &[(&str, Var)] = &[
    ("B", Var::B),
    ("CC", Var::CC),
    ("CS", Var::CS),
    ("H", Var::H),
    ("HM", Var::HM),
    ("HP", Var::HP),
    ("HPO", Var::HPO),
    ("HQ", Var::HQ),
    ("HU", Var::HU),
    ("HV", Var::HV),
    ("ID", Var::ID),
    ("ST", Var::ST),
    ("T", Var::T),
    ("Ta", Var::Ta),
    ("Tc", Var::Tc),
    ("Td", Var::Td),
    ("Tl", Var::Tl),
    ("Th", Var::Th),
    ("Ti", Var::Ti),
    ("Tq", Var::Tq),
    ("TR", Var::TR),
    ("Tr", Var::Tr),
    ("Ts", Var::Ts),
    ("Tt", Var::Tt),
    ("Tu", Var::Tu),
    ("Tw", Var::Tw),
    ("U", Var::U),
    ("ac", Var::Ac),
    ("b", Var::Backend),
    ("bc", Var::Bc),
    ("bi", Var::Bi),
    ("bp", Var::Bp),
    ("bq", Var::Bq),
    ("ci", Var::Ci),
    ("cp", Var::Cp),
    ("f", Var::Frontend),
    ("fc", Var::Fc),
    ("fi", Var::Fi),
    ("fp", Var::Fp),
    ("ft", Var::Ft),
    ("lc", Var::Lc),
    ("hr", Var::Hr),
    ("hrl", Var::Hrl),
    ("hs", Var::Hs),
    ("hsl", Var::Hsl),
    ("ms", Var::Ms),
    ("pid", Var::Pid),
    ("r", Var::Request),
    ("rc", Var::Rc),
    ("rt", Var::Rt),
    ("s", Var::Server),
    ("sc", Var::Sc),
    ("si", Var::Si),
    ("sp", Var::Sp),
    ("sq", Var::Sq),
    ("sslc", Var::Sslc),
    ("sslv", Var::Sslv),
    ("t", Var::Date),
    ("tr", Var::DateReq),
    ("trg", Var::DateReqGmt),
    ("trl", Var::DateReqLocal),
    ("ts", Var::Ts2),
    ("tsc", Var::Tsc),
];

impl Var {
    /// Looks a variable up by its exact (case-sensitive) name.
    pub fn by_name(name: &str) -> Option<Var> {
        VARS.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }

    /// True for the variables HAProxy marks "HTTP mode only".
    pub fn http_only(self) -> bool {
        matches!(
            self,
            Var::CC
                | Var::CS
                | Var::HM
                | Var::HP
                | Var::HPO
                | Var::HQ
                | Var::HU
                | Var::HV
                | Var::Ta
                | Var::Ti
                | Var::Tq
                | Var::TR
                | Var::Tr
                | Var::Request
                | Var::DateReq
                | Var::DateReqGmt
                | Var::DateReqLocal
        )
    }
}

pub use crate::config::semantics::FormatContext;

/// One compiled element of a format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// Literal text.
    Text(String),
    /// One or more spaces: prints one space unless the previous output was a space.
    Sep,
    /// A variable with its flags.
    Var(Var, u8),
    /// A sample expression `%[…]` with its flags (HTTP actions only).
    Sample(Arc<SampleExpr>, u8),
}

/// A `log-format` string compiled once at configuration time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFormatSpec {
    pub(crate) nodes: Vec<Node>,
}

impl LogFormatSpec {
    /// Whether the format has `%[…]` sample expressions (in a log line, rendered only
    /// where the session gives a sample source: `mode tcp`).
    pub fn has_samples(&self) -> bool {
        self.nodes.iter().any(|n| matches!(n, Node::Sample(..)))
    }
}

impl LogFormatSpec {
    /// Compiles `fmt` (the argument of `log-format`, after the configuration lexer
    /// removed quotes and backslash escapes). Errors read like HAProxy's
    /// "failed to parse log-format : …" details.
    pub fn compile(fmt: &str) -> Result<LogFormatSpec, String> {
        Self::compile_in(fmt, FormatContext::Log)
    }

    /// Compiles `fmt` for `ctx`. Errors read like HAProxy's: `no such format variable
    /// 'x'…`, `failed to parse sample expression <…> : unknown fetch method 'y'`.
    pub fn compile_in(fmt: &str, ctx: FormatContext) -> Result<LogFormatSpec, String> {
        let http = ctx != FormatContext::Log;
        let b = fmt.as_bytes();
        let mut nodes = Vec::new();
        let mut text = String::new();
        let mut defopts = if http { 0 } else { OPT_MANDATORY };
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    i += 1;
                    let Some(&c) = b.get(i) else {
                        return Err("truncated line after '%'".into());
                    };
                    if c == b'%' {
                        text.push('%');
                        i += 1;
                        continue;
                    }
                    let mut args: Option<&str> = None;
                    if c == b'{' {
                        let Some(len) = fmt[i + 1..].find('}') else {
                            return Err(format!("missing '}}' after '%{{' near '%{}'", &fmt[i..]));
                        };
                        let a = &fmt[i + 1..i + 1 + len];
                        args = Some(a);
                        i += len + 2;
                        match b.get(i) {
                            Some(c) if c.is_ascii_alphanumeric() || *c == b'[' => {}
                            _ => {
                                return Err(format!(
                                    "parse argument modifier without variable name near '%{{{a}}}'"
                                ));
                            }
                        }
                    }
                    let c = b[i];
                    if c == b'[' {
                        let start = i + 1;
                        let rest = &fmt[start..];
                        let end = start + SampleExpr::end(rest);
                        let expr = SampleExpr::parse(&fmt[start..end]).map_err(|e| {
                            format!("failed to parse sample expression <{rest}> : {e}")
                        })?;
                        let vis = expr.visibility();
                        let name = expr.text().split(['(', ',']).next().unwrap_or("");
                        if ctx.is_response()
                            && matches!(name, "hdr" | "hdr_cnt" | "hdr_ip" | "hdr_val")
                        {
                            // In a response, HAProxy's `hdr()` reads the response.
                            return Err(format!(
                                "sample fetch <{rest}> : '{name}' on response headers is not supported yet by gatehouse"
                            ));
                        }
                        let missing = match vis {
                            // A log line is built at the end of the stream (HAProxy's
                            // `SMP_VAL_FE_LOG_END`).
                            _ if ctx == FormatContext::Log => expr.missing_at_log_end(),
                            Visibility::Response if ctx.is_request() => Some("HTTP response"),
                            Visibility::Request if ctx.is_response() => {
                                Some("HTTP request headers")
                            }
                            // A frontend's request rules run before any backend is
                            // chosen (HAProxy's `SMP_USE_BKEND` check).
                            _ if ctx == FormatContext::FrontendRequest && expr.needs_backend() => {
                                Some("backend")
                            }
                            _ => None,
                        };
                        if let (
                            FormatContext::FrontendRequest | FormatContext::FrontendResponse,
                            Some(kw),
                        ) = (ctx, expr.own_backend_fetch())
                        {
                            return Err(format!(
                                "sample fetch <{rest}> : arg 1 of sample fetch keyword '{kw}' left out means this proxy, which has not backend capability"
                            ));
                        }
                        if let Some(m) = missing {
                            return Err(format!(
                                "sample fetch <{rest}> may not be reliably used here because it needs '{m}' which is not available here"
                            ));
                        }
                        match b.get(end) {
                            Some(b']') => {}
                            Some(&c) if c.is_ascii_graphic() || c == b' ' => {
                                return Err(format!(
                                    "expected ']' after '{}', but found '{}'",
                                    &fmt[start..end],
                                    c as char
                                ));
                            }
                            _ => {
                                return Err(format!("missing ']' after '{}'", &fmt[start..end]));
                            }
                        }
                        let opts = args.map_or(defopts, |a| apply_flags(defopts, a));
                        if !text.is_empty() {
                            nodes.push(Node::Text(std::mem::take(&mut text)));
                        }
                        nodes.push(Node::Sample(Arc::new(expr), opts));
                        i = end + 1;
                        continue;
                    }
                    if c.is_ascii_alphabetic() || (args.is_some() && c.is_ascii_digit()) {
                        let start = i;
                        while i < b.len() && b[i].is_ascii_alphanumeric() {
                            i += 1;
                        }
                        let name = &fmt[start..i];
                        let mut opts = defopts;
                        if let Some(a) = args {
                            opts = apply_flags(opts, a);
                        }
                        if !text.is_empty() {
                            nodes.push(Node::Text(std::mem::take(&mut text)));
                        }
                        if name == "o" {
                            defopts = opts;
                            continue;
                        }
                        let Some(var) = Var::by_name(name) else {
                            return Err(format!(
                                "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"
                            ));
                        };
                        nodes.push(Node::Var(var, opts));
                        continue;
                    }
                    if c.is_ascii_digit() || c == b' ' || c == b'\t' {
                        return Err(format!(
                            "unexpected variable name near '{}' at position {} line : '{}'. Maybe you want to write a single '%', use the syntax '%%'",
                            c as char, i, fmt
                        ));
                    }
                    // HAProxy silently drops a '%' followed by another character.
                }
                b' ' if http => {
                    text.push(' ');
                    i += 1;
                }
                b' ' => {
                    if !text.is_empty() {
                        nodes.push(Node::Text(std::mem::take(&mut text)));
                    }
                    if nodes.last() != Some(&Node::Sep) {
                        nodes.push(Node::Sep);
                    }
                    i += 1;
                }
                _ => {
                    // Copy the whole run of plain characters (keeps UTF-8 intact).
                    let start = i;
                    while i < b.len() && b[i] != b'%' && b[i] != b' ' {
                        i += 1;
                    }
                    text.push_str(&fmt[start..i]);
                }
            }
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(LogFormatSpec { nodes })
    }

    /// True when a `%[…]` sample reads request data (in `mode tcp`: the payload).
    pub fn reads_request(&self) -> bool {
        self.nodes.iter().any(|n| {
            matches!(n, Node::Sample(e, _) if e.visibility() >= crate::acl::Visibility::Request)
        })
    }

    /// True when the format prints nothing but literal text.
    pub fn is_literal(&self) -> bool {
        self.nodes.iter().all(|n| matches!(n, Node::Text(_)))
    }

    /// The literal text of a format without variables (`None` otherwise).
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for n in &self.nodes {
            match n {
                Node::Text(t) => s.push_str(t),
                _ => return None,
            }
        }
        Some(s)
    }

    /// True when rendering needs the request line (`%r`, `%HM`, `%HU`, …).
    pub(crate) fn uses_request_line(&self) -> bool {
        self.nodes.iter().any(|n| {
            matches!(
                n,
                Node::Var(
                    Var::Request | Var::HM | Var::HU | Var::HP | Var::HPO | Var::HQ | Var::HV,
                    _
                )
            )
        })
    }

    /// True when the format uses a variable HAProxy restricts to HTTP mode (it warns
    /// and ignores them on a TCP frontend).
    pub fn uses_http_vars(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n, Node::Var(v, _) if v.http_only()))
    }
}

/// Applies `+F`/`-F` flags (comma separated); unknown flags are ignored like HAProxy.
fn apply_flags(mut opts: u8, args: &str) -> u8 {
    for a in args.split(',') {
        let (add, name) = match a.as_bytes().first() {
            Some(b'+') => (true, &a[1..]),
            Some(b'-') => (false, &a[1..]),
            _ => continue,
        };
        let bit = match name {
            "Q" => OPT_QUOTE,
            "X" => OPT_HEXA,
            "E" => OPT_ESC,
            "M" => OPT_MANDATORY,
            _ => continue,
        };
        if add {
            opts |= bit;
        } else {
            opts &= !bit;
        }
    }
    opts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(fmt: &str) -> Result<LogFormatSpec, String> {
        LogFormatSpec::compile_in(fmt, FormatContext::HttpRequest)
    }

    #[test]
    fn http_formats_keep_spaces_and_parse_samples() {
        let f = http("a  %[path,lower] %{+Q}[src]%ci").expect("compiles");
        assert!(!f.is_literal());
        assert!(matches!(&f.nodes[0], Node::Text(t) if t == "a  "));
        assert!(matches!(&f.nodes[1], Node::Sample(e, 0) if e.text() == "path,lower"));
        assert!(matches!(&f.nodes[3], Node::Sample(e, OPT_QUOTE) if e.text() == "src"));
        assert!(matches!(&f.nodes[4], Node::Var(Var::Ci, 0)));
        assert_eq!(
            http("x  y%%").expect("literal").literal().as_deref(),
            Some("x  y%")
        );
    }

    #[test]
    fn log_lines_take_samples_and_check_their_fetches() {
        assert!(LogFormatSpec::compile("%[src]").is_ok_and(|s| s.has_samples()));
        assert!(LogFormatSpec::compile("%ci").is_ok_and(|s| !s.has_samples()));
        let e = LogFormatSpec::compile("%[nope]").expect_err("unknown fetch");
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn http_format_errors_read_like_haproxy() {
        let e = |f: &str| http(f).expect_err(f);
        assert_eq!(
            e("x=%[nope]"),
            "failed to parse sample expression <nope]> : unknown fetch method 'nope'"
        );
        assert_eq!(e("%[path"), "missing ']' after 'path'");
        assert_eq!(e("%[path x]"), "expected ']' after 'path', but found ' '");
        assert_eq!(
            e("%[hdr(a),nope(1)]"),
            "failed to parse sample expression <hdr(a),nope(1)]> : unknown converter 'nope'"
        );
        assert!(e("%[status]").contains("needs 'HTTP response'"));
        let r = LogFormatSpec::compile_in("%[status] %[src]", FormatContext::HttpResponse);
        assert!(r.is_ok(), "{r:?}");
        let r = LogFormatSpec::compile_in("%[path]", FormatContext::HttpResponse);
        assert!(r.expect_err("refused").contains("'HTTP request headers'"));
    }
}
