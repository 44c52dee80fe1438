//! The rules one check runs, HAProxy's `tcpcheck_rule`: connect, send, expect and
//! comment steps. `tcp-check` and `http-check` lines compile to them here; the protocol
//! checks (`proto.rs`) and `option httpchk` (`http.rs`) build them too, so every check
//! is one rule set run by one engine (`run.rs`).

use crate::config::model::CheckRule;
use crate::runtime::health::CheckStatus;

/// One step of a check.
#[derive(Clone, Debug)]
pub enum Rule {
    /// Open a (new) connection; `port` replaces the check's port.
    Connect {
        /// `port N`.
        port: Option<u16>,
        /// `comment`.
        comment: Option<String>,
        /// Its transport.
        tls: ConnectTls,
        /// `linger`: close gracefully (else with a reset, as HAProxy).
        linger: bool,
    },
    /// Send these bytes.
    Send {
        /// The bytes.
        data: Vec<u8>,
        /// `comment`.
        comment: Option<String>,
    },
    /// Read and judge the answer.
    Expect(Box<Expect>),
    /// A `comment` line: no effect but naming the following steps.
    Comment,
    /// gatehouse's `pgsql-check` login (and role question) on the connection.
    Pgsql(Box<super::pgsql::PgsqlStep>),
}

/// The transport of a connect step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectTls {
    /// `default` (and the implicit first connection): the server's check transport
    /// (`check-ssl`).
    Default,
    /// Plain TCP (an explicit `connect` without `ssl`).
    Raw,
    /// `ssl [sni NAME] [alpn LIST]`.
    Ssl {
        /// `sni`.
        sni: Option<String>,
        /// `alpn`.
        alpn: Option<Vec<String>>,
    },
}

impl Rule {
    /// The default connection a rule set opens first when it does not start with a
    /// connect step (HAProxy's implicit `connect default`).
    pub fn default_connect(linger: bool) -> Rule {
        Rule::Connect {
            port: None,
            comment: None,
            tls: ConnectTls::Default,
            linger,
        }
    }
}

/// An `expect` step.
#[derive(Clone, Debug)]
pub struct Expect {
    /// `!`: fail on a match.
    pub inverse: bool,
    /// What to look for.
    pub pattern: Pattern,
    /// `min-recv`: bytes to wait for before judging (a mismatch is then final).
    pub min_recv: Option<usize>,
    /// `ok-status` (default `L7OK`).
    pub ok_status: Option<CheckStatus>,
    /// `error-status` (default `L7RSP`, `L7STS` for HTTP statuses).
    pub error_status: Option<CheckStatus>,
    /// `tout-status` (default `L7TOUT`).
    pub tout_status: Option<CheckStatus>,
    /// `on-success`: the info reported when the check passes on this step.
    pub on_success: Option<Info>,
    /// `on-error`: the info reported when this step fails.
    pub on_error: Option<Info>,
    /// `status-code res.payload(0,3)`: the first three bytes are the code.
    pub status_code: bool,
    /// `comment`.
    pub comment: Option<String>,
}

/// What an `expect` step matches.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// `string`: the bytes appear in the answer.
    String(Vec<u8>),
    /// `rstring`: the regex matches the answer.
    Regex(regex::bytes::Regex),
    /// `binary` (given in hex): the bytes appear in the answer.
    Binary(Vec<u8>),
    /// `rbinary`: the regex matches the answer written in upper-case hex.
    BinaryRegex(regex::Regex),
    /// HTTP `status`: the status is in one of the ranges.
    HttpStatus(Vec<(u32, u32)>),
    /// HTTP `rstatus`: the regex matches the status code.
    HttpStatusRegex(regex::Regex),
    /// HTTP `string`: the body contains the bytes.
    HttpBody(Vec<u8>),
    /// HTTP `rstring`: the regex matches the body.
    HttpBodyRegex(regex::bytes::Regex),
    /// A protocol's own parser.
    Custom(Custom),
}

/// The protocol answers a pattern cannot judge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Custom {
    /// The MySQL initial handshake packet (or an error packet).
    MysqlHandshake,
    /// The MySQL answer to the login packet, after the handshake.
    MysqlOk,
    /// The LDAP bind response.
    LdapBind,
    /// The agent's one-line answer (`agent-check`).
    AgentLine,
}

/// An info text: fixed, or taken from the answer (`%[res.payload(N,0),…]`).
#[derive(Clone, Debug)]
pub enum Info {
    /// A fixed text.
    Text(String),
    /// The answer from byte `offset`, left-trimmed of spaces with `ltrim`, cut at the
    /// first CR or LF with `cut_crlf`.
    Payload {
        /// First byte.
        offset: usize,
        /// `ltrim(' ')`.
        ltrim: bool,
        /// `cut_crlf`.
        cut_crlf: bool,
    },
}

impl Info {
    /// The text for the answer `buf` (C-string semantics: it ends at a NUL byte, as
    /// HAProxy's status text does).
    pub fn render(&self, buf: &[u8]) -> String {
        match self {
            Info::Text(t) => t.clone(),
            Info::Payload {
                offset,
                ltrim,
                cut_crlf,
            } => {
                let mut b = buf.get(*offset..).unwrap_or_default();
                if *ltrim {
                    while let [b' ', rest @ ..] = b {
                        b = rest;
                    }
                }
                if *cut_crlf && let Some(i) = b.iter().position(|c| *c == b'\r' || *c == b'\n') {
                    b = &b[..i];
                }
                c_string(b)
            }
        }
    }
}

/// The bytes up to the first NUL, as text.
pub fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl Expect {
    /// An expect step with HAProxy's defaults.
    pub fn new(pattern: Pattern) -> Self {
        Expect {
            inverse: false,
            pattern,
            min_recv: None,
            ok_status: None,
            error_status: None,
            tout_status: None,
            on_success: None,
            on_error: None,
            status_code: false,
            comment: None,
        }
    }
}

/// Decodes a hex string (checked at parse time).
pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("'{s}' : an even number of hex digit is expected"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16)
                .map_err(|_| format!("'{s}' : an hex digit is expected"))
        })
        .collect()
}

/// Upper-case hex of `b` (what `rbinary` patterns match against).
pub fn hex_upper(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for c in b {
        s.push_str(&format!("{c:02X}"));
    }
    s
}

fn status_word(s: &str) -> Result<CheckStatus, String> {
    Ok(match s {
        "L7OK" | "L7OKC" => CheckStatus::L7Ok,
        "L6OK" => CheckStatus::L6Ok,
        "L4OK" => CheckStatus::L4Ok,
        "L7RSP" => CheckStatus::L7Rsp,
        "L7STS" => CheckStatus::L7Sts,
        "L6RSP" => CheckStatus::L6Rsp,
        "L4CON" => CheckStatus::L4Con,
        "L7TOUT" => CheckStatus::L7Timeout,
        "L6TOUT" => CheckStatus::L6Timeout,
        "L4TOUT" => CheckStatus::L4Timeout,
        x => return Err(format!("unknown check status '{x}'")),
    })
}

/// Compiles one `tcp-check` (`http == false`) or `http-check` expect rule's words.
fn expect(args: &[String], http: bool) -> Result<Expect, String> {
    let mut inverse = false;
    let mut opts: Vec<(&str, &str)> = Vec::new();
    let mut i = 0;
    let (kind, pat) = loop {
        let w = args
            .get(i)
            .ok_or("'expect' expects a matching method.")?
            .as_str();
        match w {
            "!" => {
                inverse = true;
                i += 1;
            }
            "min-recv" | "comment" | "ok-status" | "error-status" | "tout-status"
            | "on-success" | "on-error" | "status-code" => {
                let v = args
                    .get(i + 1)
                    .ok_or(format!("'{w}' expects an argument."))?;
                opts.push((w, v));
                i += 2;
            }
            _ => {
                let p = args.get(i + 1).map(String::as_str).unwrap_or_default();
                i += 2;
                break (w, p);
            }
        }
    };
    let re = |p: &str| regex::Regex::new(p).map_err(|e| format!("invalid regex '{p}' : {e}"));
    let bre =
        |p: &str| regex::bytes::Regex::new(p).map_err(|e| format!("invalid regex '{p}' : {e}"));
    let pattern = match (kind, http) {
        ("string", false) => Pattern::String(pat.as_bytes().to_vec()),
        ("rstring", false) => Pattern::Regex(bre(pat)?),
        ("binary", false) => Pattern::Binary(unhex(pat)?),
        ("rbinary", false) => Pattern::BinaryRegex(re(pat)?),
        ("status", true) => Pattern::HttpStatus(status_ranges(pat)?),
        ("rstatus", true) => Pattern::HttpStatusRegex(re(pat)?),
        ("string", true) => Pattern::HttpBody(pat.as_bytes().to_vec()),
        ("rstring", true) => Pattern::HttpBodyRegex(bre(pat)?),
        (k, _) => return Err(format!("'expect {k}' is not supported yet by gatehouse.")),
    };
    // Options may follow the pattern too.
    while let Some(w) = args.get(i) {
        let v = args
            .get(i + 1)
            .ok_or(format!("'{w}' expects an argument."))?;
        opts.push((w.as_str(), v.as_str()));
        i += 2;
    }
    let mut e = Expect::new(pattern);
    e.inverse = inverse;
    for (k, v) in opts {
        match k {
            "min-recv" => {
                e.min_recv = Some(
                    v.parse()
                        .map_err(|_| format!("'min-recv' expects an integer (got '{v}')."))?,
                )
            }
            "comment" => e.comment = Some(v.to_owned()),
            "ok-status" => e.ok_status = Some(status_word(v)?),
            "error-status" => e.error_status = Some(status_word(v)?),
            "tout-status" => e.tout_status = Some(status_word(v)?),
            "on-success" if !v.contains("%[") => e.on_success = Some(Info::Text(v.to_owned())),
            "on-error" if !v.contains("%[") => e.on_error = Some(Info::Text(v.to_owned())),
            _ => return Err(format!("'{k} {v}' is not supported yet by gatehouse.")),
        }
    }
    Ok(e)
}

/// `status 200`, `status 200-399,500`: the ranges.
fn status_ranges(list: &str) -> Result<Vec<(u32, u32)>, String> {
    list.split(',')
        .map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            match (a.parse(), b.parse()) {
                (Ok(a), Ok(b)) => Ok((a, b)),
                _ => Err(format!("invalid status range '{r}'.")),
            }
        })
        .collect()
}

fn trailing_comment(args: &[String]) -> Option<String> {
    args.iter()
        .position(|w| w == "comment")
        .and_then(|i| args.get(i + 1).cloned())
}

fn connect(args: &[String]) -> Result<Rule, String> {
    let mut port = None;
    let (mut default, mut ssl, mut linger) = (false, false, false);
    let (mut sni, mut alpn) = (None, None);
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let v = args.get(i + 1).map(String::as_str).unwrap_or_default();
        match w.as_str() {
            "port" => {
                port = Some(v.parse().map_err(|_| format!("invalid port '{v}'."))?);
                i += 2;
            }
            "comment" => i += 2,
            "sni" => {
                sni = Some(v.to_owned());
                i += 2;
            }
            "alpn" => {
                alpn = Some(v.split(',').map(str::to_owned).collect());
                i += 2;
            }
            "default" => {
                default = true;
                i += 1;
            }
            "ssl" => {
                ssl = true;
                i += 1;
            }
            "linger" => {
                linger = true;
                i += 1;
            }
            x => return Err(format!("'connect {x}' is not supported yet by gatehouse.")),
        }
    }
    let tls = if ssl {
        ConnectTls::Ssl { sni, alpn }
    } else if default {
        ConnectTls::Default
    } else {
        ConnectTls::Raw
    };
    Ok(Rule::Connect {
        port,
        comment: trailing_comment(args),
        tls,
        linger,
    })
}

/// Compiles the `tcp-check` lines of a backend.
pub fn tcp_rules(lines: &[CheckRule]) -> Result<Vec<Rule>, (crate::config::span::Span, String)> {
    let mut out = Vec::new();
    for l in lines {
        let at = |e: String| (l.span.clone(), format!("'tcp-check {}' : {e}", l.verb));
        let r = match l.verb.as_str() {
            "comment" => Rule::Comment,
            "connect" => connect(&l.args).map_err(at)?,
            "send" => Rule::Send {
                data: l
                    .args
                    .first()
                    .map(String::as_str)
                    .unwrap_or_default()
                    .as_bytes()
                    .to_vec(),
                comment: trailing_comment(&l.args),
            },
            "send-binary" => Rule::Send {
                data: unhex(l.args.first().map(String::as_str).unwrap_or_default()).map_err(at)?,
                comment: trailing_comment(&l.args),
            },
            "expect" => Rule::Expect(Box::new(expect(&l.args, false).map_err(at)?)),
            v => return Err(at(format!("'{v}' is not supported yet by gatehouse."))),
        };
        out.push(r);
    }
    Ok(out)
}

/// Compiles one `http-check expect` line.
pub fn http_expect(args: &[String]) -> Result<Expect, String> {
    expect(args, true)
}

/// Compiles one `http-check connect` line.
pub fn http_connect(args: &[String]) -> Result<Rule, String> {
    connect(args)
}
