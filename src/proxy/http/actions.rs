//! The `http-request`/`http-response` actions that build a reply or rewrite the message
//! beyond adding and removing headers: `redirect` (the `Location` as HAProxy 2.6 builds
//! it), `replace-header`/`replace-value`, `del-header -m`, the `set-*` actions of the
//! request line and `set-status`. [`super::rules::apply`] calls them in rule order.

use crate::acl::SampleSource;
use crate::config::model::{HdrMatch, LinePart, Redirect, RedirectKind, Reply};
use crate::proxy::message::Edits;
use crate::runtime::rules::reason;

/// The path-and-query part of a request target (origin form as is; the part after the
/// authority of an absolute form; `/` when it has none).
fn pathq(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    match memchr::memmem::find(uri, b"://") {
        Some(i) => {
            let auth = &uri[i + 3..];
            match memchr::memchr2(b'/', b'?', auth) {
                Some(j) => &auth[j..],
                None => b"",
            }
        }
        None => uri,
    }
}

/// The reply of a `redirect` rule whose value rendered as `value`, for the request
/// seen through `src`: HAProxy 2.6's `content-length: 0`, `location`, `cache-control:
/// no-cache` for 302/303/307, then the cookie.
pub fn redirect(r: &Redirect, value: &[u8], src: &dyn SampleSource) -> Reply {
    let mut loc = Vec::with_capacity(value.len() + 64);
    let tail = |loc: &mut Vec<u8>| {
        let uri = src.uri().unwrap_or(b"/");
        let mut p = pathq(uri);
        if r.drop_query
            && let Some(q) = memchr::memchr(b'?', p)
        {
            p = &p[..q];
        }
        loc.extend_from_slice(p);
        if r.append_slash && loc.last() != Some(&b'/') {
            loc.push(b'/');
        }
    };
    match r.kind {
        RedirectKind::Location => loc.extend_from_slice(value),
        RedirectKind::Prefix => {
            // A prefix of `/` alone means "no prefix".
            if value != b"/" {
                loc.extend_from_slice(value);
            }
            tail(&mut loc);
        }
        RedirectKind::Scheme => {
            loc.extend_from_slice(value);
            loc.extend_from_slice(b"://");
            src.req_header("host", &mut |h| {
                loc.extend_from_slice(h);
                true
            });
            tail(&mut loc);
        }
    }
    let mut headers = vec![
        (b"content-length".to_vec(), b"0".to_vec()),
        (b"location".to_vec(), loc),
    ];
    if matches!(r.code, 302 | 303 | 307) {
        headers.push((b"cache-control".to_vec(), b"no-cache".to_vec()));
    }
    if let Some(c) = &r.cookie {
        headers.push((b"set-cookie".to_vec(), c.as_bytes().to_vec()));
    }
    Reply {
        version: (1, 1),
        status: r.code,
        reason: reason(r.code).as_bytes().to_vec(),
        headers,
        body: Vec::new(),
    }
}

/// Records a rewrite of part of the request line: `value` is the rendered format.
/// `uri` is the request target as the rules see it now.
pub fn set_line(part: LinePart, value: Vec<u8>, uri: &[u8], edits: &mut Edits) {
    if part == LinePart::Method {
        edits.method = Some(value);
        return;
    }
    // The absolute form's scheme and authority are kept by the path actions.
    let pq = pathq(uri);
    let prefix = &uri[..uri.len() - pq.len()];
    let (path, query) = match memchr::memchr(b'?', pq) {
        Some(i) => (&pq[..i], Some(&pq[i..])),
        None => (pq, None),
    };
    let mut t = Vec::with_capacity(uri.len() + value.len());
    match part {
        LinePart::Uri => t = value,
        LinePart::Path => {
            t.extend_from_slice(prefix);
            t.extend_from_slice(&value);
            t.extend_from_slice(query.unwrap_or(b""));
        }
        LinePart::PathQ => {
            t.extend_from_slice(prefix);
            t.extend_from_slice(&value);
        }
        LinePart::Query => {
            t.extend_from_slice(prefix);
            t.extend_from_slice(path);
            // HAProxy: an empty value leaves a bare `?`; a leading `?` is not doubled.
            t.push(b'?');
            t.extend_from_slice(value.strip_prefix(b"?").unwrap_or(&value));
        }
        LinePart::Method => {}
    }
    edits.target = Some(t);
}

/// Names the HTTP/1 codec writes itself (connection management, routing): a rewrite
/// never moves them, so a rewrite after them falls back to sending the rewritten
/// header last.
const CODEC_OWNED: &[&[u8]] = &[
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"upgrade",
    b"host",
];

/// `replace-header`/`replace-value`: each value of header `name` that `re` matches is
/// replaced by `fmt` with `\N` references expanded (the whole value for
/// `replace-header`, each comma-separated item for `replace-value`), in place as
/// HAProxy does. `original` is the message's headers as parsed, in order; headers the
/// rules added are rewritten in the edits themselves. The edits only remove by name
/// and append, so the original headers from the first rewritten one on are removed
/// and appended again in their order, the rewritten values in their places, before
/// anything the rules added.
pub fn replace(
    name: &str,
    re: &regex::bytes::Regex,
    fmt: &[u8],
    per_value: bool,
    original: &[(Vec<u8>, Vec<u8>)],
    edits: &mut Edits,
) {
    let rewrite = |v: &[u8]| -> Option<Vec<u8>> {
        let mut changed = false;
        let out = if per_value {
            // Each item is rewritten in place; separators and spaces are kept.
            let items: Vec<Vec<u8>> = v
                .split(|&c| c == b',')
                .map(|raw| {
                    let t = raw.trim_ascii();
                    let lead = raw.len() - raw.trim_ascii_start().len();
                    let mut item = raw[..lead].to_vec();
                    match re.captures(t) {
                        Some(caps) => {
                            changed = true;
                            item.extend(expand(&caps, fmt));
                        }
                        None => item.extend_from_slice(t),
                    }
                    item.extend_from_slice(&raw[lead + t.len()..]);
                    item
                })
                .collect();
            items.join(&b","[..])
        } else {
            let caps = re.captures(v)?;
            changed = true;
            expand(&caps, fmt)
        };
        changed.then_some(out)
    };
    let mut each = |v: &[u8]| rewrite(v).map(Some);
    rewrite_in_place(name.as_bytes(), original, edits, &mut each);
}

/// What a rewrite does to one header value: `None` keeps it, `Some(None)` removes it,
/// `Some(Some(v))` replaces it with `v`.
pub type Rewrite = Option<Option<Vec<u8>>>;

/// Rewrites the values of header `n` in place: `rewrite` says for each value (the
/// message's own headers in order, then those the rules added) whether it stays
/// (`None`), is removed (`Some(None)`) or becomes another (`Some(Some(v))`). The edits
/// only remove by name and append, so the original headers from the first rewritten
/// one on are removed and appended again in their order, the rewritten values in their
/// places, before anything the rules added.
pub fn rewrite_in_place(
    n: &[u8],
    original: &[(Vec<u8>, Vec<u8>)],
    edits: &mut Edits,
    rewrite: &mut dyn FnMut(&[u8]) -> Rewrite,
) {
    let visible: Vec<(usize, &[u8], &[u8])> = original
        .iter()
        .enumerate()
        .filter(|(_, (hn, _))| !edits.removed(hn))
        .map(|(i, (hn, hv))| (i, hn.as_slice(), hv.as_slice()))
        .collect();
    let rewritten: Vec<(usize, Option<Vec<u8>>)> = visible
        .iter()
        .filter(|(_, hn, _)| hn.eq_ignore_ascii_case(n))
        .filter_map(|(i, _, hv)| rewrite(hv).map(|v| (*i, v)))
        .collect();
    let mut k = 0;
    while k < edits.add.len() {
        if edits.add[k].0.eq_ignore_ascii_case(n) {
            match rewrite(&edits.add[k].1) {
                Some(Some(v)) => edits.add[k].1 = v,
                Some(None) => {
                    edits.add.remove(k);
                    continue;
                }
                None => {}
            }
        }
        k += 1;
    }
    let Some(&(mut from, _)) = rewritten.first() else {
        return;
    };
    // The value of original header `i` once rewritten (`None`: removed).
    let value = |i: usize, hv: &[u8]| -> Option<Vec<u8>> {
        match rewritten.iter().find(|(j, _)| *j == i) {
            Some((_, v)) => v.clone(),
            None => Some(hv.to_vec()),
        }
    };
    // The names from `from` on, and `from` moved back to the first header of any of
    // them: removing a name removes all its headers. `Connection` (unless rewritten)
    // stays where it is: the codec takes its `close`/`keep-alive` tokens out and
    // writes its own.
    let stays = |hn: &[u8]| {
        hn.eq_ignore_ascii_case(b"connection") && !n.eq_ignore_ascii_case(b"connection")
    };
    let mut names: Vec<Vec<u8>>;
    loop {
        names = Vec::new();
        for (i, hn, _) in &visible {
            let l = hn.to_ascii_lowercase();
            if *i >= from && !names.contains(&l) && !stays(hn) {
                names.push(l);
            }
        }
        let first = visible
            .iter()
            .find(|(_, hn, _)| names.iter().any(|x| x.eq_ignore_ascii_case(hn)))
            .map_or(from, |(i, _, _)| *i);
        if first >= from {
            break;
        }
        from = first;
    }
    let lname = n.to_ascii_lowercase();
    if names.iter().any(|x| CODEC_OWNED.contains(&x.as_slice())) {
        // The rewritten header's values go last.
        let values: Vec<(Vec<u8>, Vec<u8>)> = visible
            .iter()
            .filter(|(_, hn, _)| hn.eq_ignore_ascii_case(n))
            .filter_map(|(i, _, hv)| value(*i, hv).map(|v| (lname.clone(), v)))
            .collect();
        edits.remove.push(lname);
        edits.add.extend(values);
        return;
    }
    let again: Vec<(Vec<u8>, Vec<u8>)> = visible
        .iter()
        .filter(|(i, hn, _)| *i >= from && !stays(hn))
        .filter_map(|(i, hn, hv)| value(*i, hv).map(|v| (hn.to_ascii_lowercase(), v)))
        .collect();
    edits.remove.extend(names);
    edits.add.splice(0..0, again);
}

/// `fmt` with `\0`…`\9` replaced by the captures.
fn expand(caps: &regex::bytes::Captures<'_>, fmt: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fmt.len() + 32);
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] == b'\\'
            && let Some(d) = fmt.get(i + 1).filter(|d| d.is_ascii_digit())
        {
            if let Some(m) = caps.get(usize::from(d - b'0')) {
                out.extend_from_slice(m.as_bytes());
            }
            i += 2;
            continue;
        }
        out.push(fmt[i]);
        i += 1;
    }
    out
}

/// Whether header `name` matches `del-header PATTERN -m how` (case-insensitive but
/// `reg`).
pub fn name_matches(
    name: &[u8],
    pat: &str,
    how: HdrMatch,
    re: Option<&regex::bytes::Regex>,
) -> bool {
    let n = name.to_ascii_lowercase();
    let p = pat.as_bytes().to_ascii_lowercase();
    match how {
        HdrMatch::Str => n == p,
        HdrMatch::Beg => n.starts_with(&p),
        HdrMatch::End => n.ends_with(&p),
        HdrMatch::Sub => memchr::memmem::find(&n, &p).is_some(),
        HdrMatch::Reg => re.is_some_and(|r| r.is_match(name)),
    }
}

/// `set-status CODE [reason R]`.
pub fn set_status(status: u16, why: Option<&str>, edits: &mut Edits) {
    let r = why.unwrap_or_else(|| crate::runtime::rules::http_reason(status));
    edits.status = Some((status, r.as_bytes().to_vec()));
}
