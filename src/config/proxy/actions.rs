//! The arguments of `http-request`/`http-response` actions beyond `allow`, `deny`,
//! `return` and `set-header`: `redirect`, `auth`,
//! `replace-header`, `replace-value`, `del-header -m`, `set-path`, `set-pathq`,
//! `set-query`, `set-uri`, `set-method`, `set-status`. Each parser gets the action's
//! words (after the action name, before `if`/`unless`) and returns the model's action.

use crate::config::model::{
    HdrMatch, HttpAction, LinePart, Normalizer, Proxy, ProxyKind, Redirect, RedirectKind,
};

/// Parses `location|prefix|scheme VALUE [code N] [drop-query] [append-slash]
/// [set-cookie NAME[=VALUE]] [clear-cookie NAME[=]]`. `response`: only `location`
/// is allowed (HAProxy 2.6).
pub fn redirect(args: &[String], response: bool) -> Result<Redirect, String> {
    let mut r = Redirect {
        kind: RedirectKind::Location,
        value: String::new(),
        code: 302,
        drop_query: false,
        append_slash: false,
        cookie: None,
    };
    let mut typed = false;
    let mut i = 0;
    let val = |i: usize| -> Result<&String, String> {
        args.get(i + 1)
            .ok_or_else(|| format!("missing argument for '{}'.", args[i]))
    };
    while i < args.len() {
        match args[i].as_str() {
            k @ ("location" | "prefix" | "scheme") => {
                r.kind = match k {
                    "location" => RedirectKind::Location,
                    "prefix" => RedirectKind::Prefix,
                    _ => RedirectKind::Scheme,
                };
                r.value = val(i)?.clone();
                typed = true;
                i += 2;
            }
            "code" => {
                let v = val(i)?;
                r.code = v
                    .parse()
                    .ok()
                    .filter(|c| matches!(c, 301 | 302 | 303 | 307 | 308))
                    .ok_or_else(|| {
                        format!(
                            "'code': unsupported HTTP code '{v}' (must be one of 301, 302, 303, 307 or 308)."
                        )
                    })?;
                i += 2;
            }
            "drop-query" => {
                r.drop_query = true;
                i += 1;
            }
            "append-slash" => {
                r.append_slash = true;
                i += 1;
            }
            "set-cookie" => {
                r.cookie = Some(format!("{}; path=/;", val(i)?));
                i += 2;
            }
            "clear-cookie" => {
                r.cookie = Some(format!("{}; path=/; Max-Age=0;", val(i)?));
                i += 2;
            }
            x => {
                return Err(format!(
                    "'redirect': expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query' or 'append-slash' (was '{x}')."
                ));
            }
        }
    }
    if !typed {
        return Err("redirection type expected ('prefix', 'location', or 'scheme').".into());
    }
    if response && r.kind != RedirectKind::Location {
        return Err("'http-response redirect' only supports the 'location' type.".into());
    }
    Ok(r)
}

/// Parses `NAME [NAME…]` of `http-request authenticate` (gatehouse only; the names
/// are `identity` sections, checked after parsing).
pub fn authenticate(args: &[String]) -> Result<HttpAction, String> {
    if args.is_empty() {
        return Err("'authenticate' expects the name of at least one 'identity' section.".into());
    }
    Ok(HttpAction::Authenticate(args.to_vec()))
}

/// Parses `[realm R]` of `http-request auth`.
pub fn auth(args: &[String]) -> Result<HttpAction, String> {
    match args {
        [] => Ok(HttpAction::Auth { realm: None }),
        [k, r] if k == "realm" => Ok(HttpAction::Auth {
            realm: Some(r.clone()),
        }),
        _ => Err("'auth' expects 'realm' for 'realm' parameter.".into()),
    }
}

/// Parses `NAME REGEX FMT` of `replace-header` (`value`: `replace-value`).
pub fn replace(args: &[String], value: bool) -> Result<HttpAction, String> {
    let [name, regex, fmt] = args else {
        let kw = if value {
            "replace-value"
        } else {
            "replace-header"
        };
        return Err(format!("'{kw}' expects exactly 3 arguments."));
    };
    regex::bytes::Regex::new(regex).map_err(|e| format!("invalid regex '{regex}' : {e}"))?;
    Ok(HttpAction::ReplaceHeader {
        name: name.clone(),
        regex: regex.clone(),
        fmt: fmt.clone(),
        value,
    })
}

/// Parses `NAME [-m str|beg|end|sub|reg]` of `del-header`.
pub fn del_header(args: &[String]) -> Result<HttpAction, String> {
    let (name, how) = match args {
        [n] => (n, HdrMatch::Str),
        [n, m, how] if m == "-m" => {
            let how = match how.as_str() {
                "str" => HdrMatch::Str,
                "beg" => HdrMatch::Beg,
                "end" => HdrMatch::End,
                "sub" => HdrMatch::Sub,
                "reg" => HdrMatch::Reg,
                x => {
                    return Err(format!("-m with unsupported matching method '{x}'."));
                }
            };
            (n, how)
        }
        [] => return Err("expects at least 1 argument.".into()),
        _ => return Err("'del-header' expects a header name [-m <meth>].".into()),
    };
    if how == HdrMatch::Reg {
        regex::bytes::Regex::new(name).map_err(|e| format!("invalid regex '{name}' : {e}"))?;
    }
    Ok(HttpAction::DelHeader(name.clone(), how))
}

/// Parses the format of `set-path`, `set-pathq`, `set-query`, `set-uri`, `set-method`.
pub fn set_line(act: &str, args: &[String]) -> Option<Result<HttpAction, String>> {
    let part = match act {
        "set-path" => LinePart::Path,
        "set-pathq" => LinePart::PathQ,
        "set-query" => LinePart::Query,
        "set-uri" => LinePart::Uri,
        "set-method" => LinePart::Method,
        _ => return None,
    };
    Some(match args {
        [fmt] => Ok(HttpAction::SetLine(part, fmt.clone())),
        _ => Err(format!("'{act}' expects exactly 1 argument <format>.")),
    })
}

/// Parses `CODE [reason R]` of `http-response set-status`.
pub fn set_status(args: &[String]) -> Result<HttpAction, String> {
    let code = args
        .first()
        .ok_or("expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>.")?;
    let status = code
        .parse()
        .ok()
        .filter(|c| (100..=999).contains(c))
        .ok_or("expects an integer status code between 100 and 999.")?;
    let reason = match &args[1..] {
        [] => None,
        [k, r] if k == "reason" => Some(r.clone()),
        _ => return Err("'set-status' expects 'reason' <string> after the code.".into()),
    };
    Ok(HttpAction::SetStatus { status, reason })
}

/// Checks a variable name `SCOPE.NAME` as HAProxy 2.6 does; the `check` scope is
/// refused as not supported yet.
pub fn var_name(name: &str) -> Result<String, String> {
    let scope = name.split_once('.').map(|(s, _)| s);
    match scope {
        Some(s @ ("txn" | "req" | "res" | "sess" | "proc")) if name.len() > s.len() + 1 => {
            Ok(name.to_string())
        }
        Some(s @ "check") => Err(format!(
            "variables of scope '{s}' are not supported yet by gatehouse (supported: proc, sess, txn, req, res)."
        )),
        _ => Err(format!(
            "invalid variable name '{name}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."
        )),
    }
}

/// Parses `set-var(NAME) EXPR`, `set-var-fmt(NAME) FMT` and `unset-var(NAME)`; `None`
/// for another action.
pub fn var(act: &str, args: &[String]) -> Option<Result<HttpAction, String>> {
    let (base, rest) = act.split_once('(')?;
    if !matches!(base, "set-var" | "set-var-fmt" | "unset-var") {
        return None;
    }
    let Some(name) = rest.strip_suffix(')') else {
        return Some(Err(format!(
            "incomplete argument after action '{act}'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'."
        )));
    };
    Some(var_name(name).and_then(|name| match (base, args) {
        ("unset-var", []) => Ok(HttpAction::UnsetVar(name)),
        ("unset-var", _) => Err("'unset-var' : expects no argument.".into()),
        (_, [expr]) => Ok(HttpAction::SetVar {
            name,
            expr: expr.clone(),
            fmt: base == "set-var-fmt",
        }),
        ("set-var", []) => Err("missing fetch method.".into()),
        _ => Err(format!("'{base}' expects exactly 1 argument.")),
    }))
}

/// Parses `[deny_status N]` of `http-request tarpit` (the other options of `deny` are
/// refused as not supported yet).
pub fn tarpit(args: &[String]) -> Result<HttpAction, String> {
    match args {
        [] => Ok(HttpAction::Tarpit { status: 500 }),
        [k, v] if k == "deny_status" || k == "status" => {
            let status = v
                .parse()
                .ok()
                .filter(|c| (200..=599).contains(c))
                .ok_or_else(|| format!("'tarpit' : status code '{v}' is not supported."))?;
            Ok(HttpAction::Tarpit { status })
        }
        _ => Err(
            "'tarpit' with a reply (content-type, string, file, hdr…) is not supported yet by gatehouse (supported: deny_status N)."
                .into(),
        ),
    }
}

/// Parses `server|tunnel TIMEOUT|EXPR` of `http-request set-timeout` (HAProxy 2.6:
/// only where the proxy has a backend side).
pub fn set_timeout(args: &[String], proxy: &Proxy) -> Result<HttpAction, String> {
    let [kind, value] = args else {
        return Err("'set-timeout' expects exactly 2 arguments.".into());
    };
    let tunnel = match kind.as_str() {
        "server" => false,
        "tunnel" => true,
        x => {
            return Err(format!(
                "'set-timeout' : '{x}' is not a valid timeout name, expects 'server' or 'tunnel'."
            ));
        }
    };
    if !(proxy.kind.has_backend() || proxy.kind == ProxyKind::Defaults) {
        return Err(format!(
            "'set-timeout' : proxy '{}' has no backend capability.",
            proxy.name
        ));
    }
    Ok(HttpAction::SetTimeout {
        tunnel,
        value: value.clone(),
    })
}

/// Parses `time T [at-least N]` of `http-request wait-for-body` and `http-response
/// wait-for-body` (HAProxy's wording).
pub fn wait_for_body(args: &[String]) -> Result<HttpAction, String> {
    const USAGE: &str = "'wait-for-body' : expects time <time> [ at-least <bytes> ].";
    if args.first().map(String::as_str) != Some("time") {
        return Err(USAGE.into());
    }
    let (mut time, mut at_least) = (None, 0);
    let mut i = 0;
    while i < args.len() {
        let Some(v) = args.get(i + 1) else {
            return Err(format!(
                "'wait-for-body' : missing argument for '{}'.",
                args[i]
            ));
        };
        match args[i].as_str() {
            "time" => time = Some(crate::config::value::duration(v, "time")?),
            "at-least" => at_least = crate::config::value::size(v, "at-least")?,
            _ => return Err(USAGE.into()),
        }
        i += 2;
    }
    Ok(HttpAction::WaitForBody {
        time: time.unwrap_or_default(),
        at_least,
    })
}

/// The syslog levels by name, in order (`emerg` is 0).
pub const LOG_LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Parses `LEVEL` of `set-log-level` (`silent` disables the log line).
pub fn set_log_level(args: &[String]) -> Result<HttpAction, String> {
    let [level] = args else {
        return Err("expects exactly 1 argument (log level name or 'silent').".into());
    };
    if level == "silent" {
        return Ok(HttpAction::SetLogLevel(None));
    }
    LOG_LEVELS
        .iter()
        .position(|l| l == level)
        .map(|i| HttpAction::SetLogLevel(Some(i as u8)))
        .ok_or_else(|| "expects exactly 1 argument (log level name or 'silent').".to_string())
}

/// Parses `EXPR len N|id N` of `http-request capture` (`response`: `http-response
/// capture EXPR id N`). `len` declares a new request slot in `proxy` (a frontend's);
/// `id` names one declared in the frontend (checked after parsing).
pub fn capture(args: &[String], proxy: &mut Proxy, response: bool) -> Result<HttpAction, String> {
    let usage = if response {
        "'capture' : expects <expression> id <idx>"
    } else {
        "'capture' : expects <expression> [ 'len' <length> | id <idx> ]"
    };
    let [expr, how, n] = args else {
        return Err(usage.into());
    };
    let slot = match how.as_str() {
        "len" if !response => {
            if !(proxy.kind.has_frontend() || proxy.kind == ProxyKind::Defaults) {
                return Err(format!(
                    "'capture' : proxy '{}' has no frontend capability",
                    proxy.name
                ));
            }
            let len: usize = n
                .parse()
                .ok()
                .filter(|l| *l > 0)
                .ok_or("'capture' : length must be > 0")?;
            proxy.capture_req.push((String::new(), len));
            proxy.capture_req.len() - 1
        }
        "id" => n
            .parse()
            .map_err(|_| format!("'capture' : cannot parse id '{n}'"))?,
        x if response => return Err(format!("'capture' : expects 'id', found '{x}'")),
        x => return Err(format!("'capture' : expects 'len' or 'id', found '{x}'")),
    };
    Ok(HttpAction::Capture {
        expr: expr.clone(),
        slot,
        response,
    })
}

/// Parses `NORMALIZER [full|strict]` of `http-request normalize-uri` (HAProxy 2.6's
/// names and messages).
pub fn normalize_uri(args: &[String]) -> Result<HttpAction, String> {
    let Some(name) = args.first() else {
        return Err("'normalize-uri' : missing argument <normalizer>".into());
    };
    let opt = args.get(1).map(String::as_str);
    let flag = |word: &str| -> Result<bool, String> {
        match opt {
            None => Ok(false),
            Some(o) if o == word => Ok(true),
            Some(o) => Err(format!(
                "'normalize-uri' : unknown argument '{o}' for '{name}' normalizer"
            )),
        }
    };
    let n = match name.as_str() {
        "path-merge-slashes" => Normalizer::MergeSlashes,
        "path-strip-dot" => Normalizer::StripDot,
        "path-strip-dotdot" => Normalizer::StripDotDot {
            full: flag("full")?,
        },
        "query-sort-by-name" => Normalizer::QuerySort,
        "percent-to-uppercase" => Normalizer::PercentUpper {
            strict: flag("strict")?,
        },
        "percent-decode-unreserved" => Normalizer::PercentDecode {
            strict: flag("strict")?,
        },
        "fragment-strip" => Normalizer::FragmentStrip,
        "fragment-encode" => Normalizer::FragmentEncode,
        x => return Err(format!("'normalize-uri' : unknown normalizer '{x}'")),
    };
    let takes_opt = matches!(
        n,
        Normalizer::StripDotDot { .. }
            | Normalizer::PercentUpper { .. }
            | Normalizer::PercentDecode { .. }
    );
    if args.len() > 1 + usize::from(takes_opt) {
        return Err(format!(
            "'normalize-uri' : unexpected argument '{}'",
            args[1 + usize::from(takes_opt)]
        ));
    }
    Ok(HttpAction::NormalizeUri(n))
}
