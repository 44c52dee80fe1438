//! The stats page over HTTP (`stats uri`): which requests it takes, `stats auth`, the
//! output options HAProxy reads after the URI prefix (`;csv`, `;json`, `;typed`,
//! `;norefresh`, `;up`, `;no-maint`, `;st=CODE`, `scope=NAME`), and the admin actions
//! the page's form posts (`stats admin if …`). Answers are protocol-neutral replies
//! the proxy's codec writes.

use super::model::{Options, rows};
use crate::config::model::Reply;
use crate::runtime::proxies::StatsPage;
use crate::runtime::snapshot::Snapshot;
use base64::Engine;

/// What the page answers.
pub enum Answer {
    /// This reply.
    Reply(Reply),
    /// 401: credentials are required in this realm (`stats auth`); the proxy sends its
    /// 401 page with `WWW-Authenticate`.
    Unauthorized(String),
}

/// The request, as the proxy hands it over.
pub struct Request<'a> {
    /// The method (`GET`, `HEAD` or `POST`).
    pub method: &'a [u8],
    /// The request target as received.
    pub target: &'a [u8],
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a [u8]>,
    /// A `stats admin` condition matched.
    pub admin: bool,
    /// The request body (the admin form, for a POST).
    pub body: &'a [u8],
}

/// The path and query of a target (an absolute URI loses its scheme and authority).
fn origin_form(target: &[u8]) -> &[u8] {
    if target.starts_with(b"/") {
        return target;
    }
    let Some(i) = memchr::memmem::find(target, b"://") else {
        return target;
    };
    let rest = &target[i + 3..];
    match rest.iter().position(|c| *c == b'/') {
        Some(j) => &rest[j..],
        None => b"",
    }
}

/// True when a request with `method` and `target` is the stats page's: GET, HEAD or
/// POST to a path that starts with the URI prefix (the whole target when the prefix
/// does not start with `/`), as HAProxy's `http_stats_check_uri`.
pub fn matches(page: &StatsPage, method: &[u8], target: &[u8]) -> bool {
    if !matches!(method, b"GET" | b"HEAD" | b"POST") {
        return false;
    }
    let uri = if page.uri.starts_with('/') {
        origin_form(target)
    } else {
        target
    };
    uri.starts_with(page.uri.as_bytes())
}

/// True when `authorization` carries one of the `stats auth` pairs.
fn authorized(page: &StatsPage, authorization: Option<&[u8]>) -> bool {
    if page.auth.is_empty() {
        return true;
    }
    let Some(h) = authorization else {
        return false;
    };
    let h = h.trim_ascii();
    let Some(b64) = h
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case(b"basic "))
        .map(|_| h[6..].trim_ascii())
    else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    let Some(colon) = raw.iter().position(|c| *c == b':') else {
        return false;
    };
    let (user, pass) = (&raw[..colon], &raw[colon + 1..]);
    page.auth
        .iter()
        .any(|(u, p)| u.as_bytes() == user && p.as_bytes() == pass)
}

/// The options after the URI prefix.
#[derive(Default)]
struct Flags {
    csv: bool,
    json: bool,
    typed: bool,
    norefresh: bool,
    hide_down: bool,
    hide_maint: bool,
    status: Option<String>,
    scope: Option<String>,
}

fn flags(rest: &[u8]) -> Flags {
    let has = |pat: &[u8]| memchr::memmem::find(rest, pat).is_some();
    let mut f = Flags {
        csv: has(b";csv"),
        json: has(b";json"),
        typed: has(b";typed"),
        norefresh: has(b";norefresh"),
        hide_down: has(b";up"),
        hide_maint: has(b";no-maint"),
        ..Flags::default()
    };
    if let Some(i) = memchr::memmem::find(rest, b";st=") {
        let code = rest.get(i + 4..i + 8).unwrap_or(b"");
        f.status = Some(String::from_utf8_lossy(code).into_owned());
    }
    if let Some(i) = memchr::memmem::find(rest, b"scope=") {
        let v = &rest[i + 6..];
        let end = v
            .iter()
            .position(|c| matches!(c, b';' | b'&' | b' '))
            .unwrap_or(v.len());
        let s = String::from_utf8_lossy(&v[..end.min(15)]).into_owned();
        if !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(&c))
        {
            f.scope = Some(s);
        }
    }
    f
}

fn reply(status: u16, reason: &str, content_type: &str, body: Vec<u8>) -> Reply {
    Reply {
        version: (1, 1),
        status,
        reason: reason.as_bytes().to_vec(),
        headers: vec![
            (b"cache-control".to_vec(), b"no-cache".to_vec()),
            (b"content-type".to_vec(), content_type.as_bytes().to_vec()),
            (
                b"content-length".to_vec(),
                body.len().to_string().into_bytes(),
            ),
        ],
        body,
    }
}

/// The Prometheus exporter's answer (`use-service prometheus-exporter`) to a request
/// for `target` (its `scope` and `no-maint` parameters); `None`: the parameters are
/// invalid, HAProxy answers 400.
pub fn prometheus(snap: &Snapshot, target: &[u8]) -> Option<Reply> {
    let q = super::prom::Query::parse(target)?;
    Some(reply(
        200,
        "OK",
        super::prom::CONTENT_TYPE,
        super::metrics_for(snap, &q).into_bytes(),
    ))
}

/// The stats page's answer to `req`.
pub fn answer(page: &StatsPage, snap: &Snapshot, req: &Request<'_>) -> Answer {
    if !authorized(page, req.authorization) {
        return Answer::Unauthorized(page.realm.clone());
    }
    let path = if page.uri.starts_with('/') {
        origin_form(req.target)
    } else {
        req.target
    };
    let rest = path.get(page.uri.len()..).unwrap_or(b"");
    let f = flags(rest);
    if req.method == b"POST" {
        let code = if req.admin {
            super::admin::apply(snap, req.body)
        } else {
            "DENY"
        };
        let mut location = format!("{};st={code}", page.uri);
        if f.hide_down {
            location.push_str(";up");
        }
        if f.norefresh {
            location.push_str(";norefresh");
        }
        if let Some(s) = &f.scope {
            location.push_str(";scope=");
            location.push_str(s);
        }
        let mut r = reply(303, "See Other", "text/plain", Vec::new());
        r.headers
            .push((b"location".to_vec(), location.into_bytes()));
        return Answer::Reply(r);
    }
    let opts = Options {
        legends: page.show_legends,
        scope: page.scope.clone(),
    };
    let mut all = rows(snap, &opts);
    // `scope=`: proxies whose name contains the text, case-insensitively.
    if let Some(s) = &f.scope {
        let s = s.to_ascii_lowercase();
        all.retain(|r| r.pxname().to_ascii_lowercase().contains(&s));
    }
    use super::model::SrvState;
    if f.hide_down {
        all.retain(|r| r.state.is_none_or(|s| s == SrvState::Up));
    }
    if f.hide_maint {
        all.retain(|r| r.state != Some(SrvState::Maint));
    }
    let mut out = String::new();
    if f.json {
        super::csv::write_json(&mut out, &all);
        return Answer::Reply(reply(200, "OK", "application/json", out.into_bytes()));
    }
    if f.typed {
        super::csv::write_typed(&mut out, &all);
        return Answer::Reply(reply(200, "OK", "text/plain", out.into_bytes()));
    }
    if f.csv {
        super::csv::write_csv(&mut out, &all);
        return Answer::Reply(reply(200, "OK", "text/plain", out.into_bytes()));
    }
    let view = super::html::View {
        page,
        rows: &all,
        admin: req.admin,
        status: f.status.as_deref(),
        refresh: page.refresh.filter(|_| !f.norefresh),
        scope: f.scope.as_deref(),
        hide_down: f.hide_down,
    };
    super::html::write_page(&mut out, snap, &view);
    let mut r = reply(200, "OK", "text/html", out.into_bytes());
    if let Some(secs) = view.refresh {
        r.headers
            .push((b"refresh".to_vec(), secs.to_string().into_bytes()));
    }
    Answer::Reply(r)
}
