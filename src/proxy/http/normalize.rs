//! `http-request normalize-uri NORMALIZER`: HAProxy 2.6's URI normalizers
//! (`src/uri_normalizer.c`), each a pure function from the request target to the new
//! one. The path normalizers work on the path without its query, `query-sort-by-name`
//! on the query, the others on path and query; an absolute-form target keeps its
//! scheme and authority. A `strict` normalizer refuses an invalid percent sequence
//! (the request gets a 400).

use crate::config::model::Normalizer;

/// The path-and-query part of `uri` and what comes before it (scheme and authority of
/// an absolute form).
fn split(uri: &[u8]) -> (&[u8], &[u8]) {
    if uri.first() == Some(&b'/') {
        return (b"", uri);
    }
    match memchr::memmem::find(uri, b"://") {
        Some(i) => {
            let auth = i + 3;
            let at = memchr::memchr2(b'/', b'?', &uri[auth..]).map_or(uri.len(), |j| auth + j);
            uri.split_at(at)
        }
        None => (b"", uri),
    }
}

/// The target `uri` after `n`: `Ok(None)` when nothing changes, `Err(())` for an
/// invalid sequence under `strict`.
pub fn normalize(n: Normalizer, uri: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    let (prefix, pq) = split(uri);
    if pq.is_empty() {
        return Ok(None);
    }
    let q = memchr::memchr(b'?', pq).unwrap_or(pq.len());
    let (path, query) = pq.split_at(q);
    let new_pq: Vec<u8> = match n {
        Normalizer::MergeSlashes => [merge_slashes(path), query.to_vec()].concat(),
        Normalizer::StripDot => [strip_dot(path), query.to_vec()].concat(),
        Normalizer::StripDotDot { full } => [strip_dotdot(path, full), query.to_vec()].concat(),
        Normalizer::QuerySort => {
            if query.is_empty() {
                return Ok(None);
            }
            [path.to_vec(), sort_query(query)].concat()
        }
        Normalizer::PercentUpper { strict } => percent_upper(pq, strict)?,
        Normalizer::PercentDecode { strict } => percent_decode(pq, strict)?,
        Normalizer::FragmentStrip => pq[..memchr::memchr(b'#', pq).unwrap_or(pq.len())].to_vec(),
        Normalizer::FragmentEncode => fragment_encode(pq),
    };
    if new_pq == pq {
        return Ok(None);
    }
    Ok(Some([prefix, &new_pq].concat()))
}

fn merge_slashes(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &c in path {
        if c == b'/' && out.last() == Some(&b'/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// Removes `.` segments (`/./` and a final `/.`).
fn strip_dot(path: &[u8]) -> Vec<u8> {
    let segments: Vec<&[u8]> = path.split(|c| *c == b'/').collect();
    let last = segments.len() - 1;
    let mut out = Vec::with_capacity(path.len());
    for (i, s) in segments.iter().enumerate() {
        if *s == b"." {
            continue;
        }
        out.extend_from_slice(s);
        if i != last {
            out.push(b'/');
        }
    }
    out
}

/// Merges `/../` with the segment before it, scanning from the end as HAProxy does;
/// unmatched ones stay at the start unless `full`.
fn strip_dotdot(path: &[u8], full: bool) -> Vec<u8> {
    let mut rev: Vec<u8> = Vec::with_capacity(path.len());
    let mut off = path.len() as isize - 1;
    let mut up = 0usize;
    let at = |o: isize, pat: &[u8]| -> bool {
        o >= 0 && path.get(o as usize..o as usize + pat.len()) == Some(pat)
    };
    if off >= 2 && at(off - 2, b"/..") {
        up += 1;
        off -= 2;
    }
    while off >= 0 {
        if off >= 3 && at(off - 3, b"/../") {
            up += 1;
            off -= 3;
            continue;
        }
        if up > 0 {
            off -= 1;
            if off >= 0 {
                up -= 1;
                while off >= 0 && path[off as usize] != b'/' {
                    off -= 1;
                }
            }
        } else {
            rev.push(path[off as usize]);
            off -= 1;
            while off >= 0 && path[off as usize] != b'/' {
                rev.push(path[off as usize]);
                off -= 1;
            }
        }
    }
    if up > 0 {
        rev.push(b'/');
        if !full {
            // Written backwards: `/..` per unmatched segment.
            for _ in 0..up {
                rev.extend_from_slice(b"../");
            }
        }
    }
    rev.reverse();
    rev
}

/// Sorts the `&`-separated parameters of `query` (with its `?`) by name, stable.
fn sort_query(query: &[u8]) -> Vec<u8> {
    let mut params: Vec<&[u8]> = query[1..].split(|c| *c == b'&').collect();
    let name = |p: &[u8]| -> Vec<u8> { p[..memchr::memchr(b'=', p).unwrap_or(p.len())].to_vec() };
    params.sort_by_key(|p| name(p));
    let mut out = vec![b'?'];
    out.extend_from_slice(&params.join(&b'&'));
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_upper(s: &[u8], strict: bool) -> Result<Vec<u8>, ()> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c == b'%' {
            if let (Some(&a), Some(&b)) = (s.get(i), s.get(i + 1))
                && hex(a).is_some()
                && hex(b).is_some()
            {
                out.extend_from_slice(&[c, a.to_ascii_uppercase(), b.to_ascii_uppercase()]);
                i += 2;
                continue;
            }
            if strict {
                return Err(());
            }
        }
        out.push(c);
    }
    Ok(out)
}

fn percent_decode(s: &[u8], strict: bool) -> Result<Vec<u8>, ()> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c == b'%' {
            if let (Some(&a), Some(&b)) = (s.get(i), s.get(i + 1))
                && let (Some(h), Some(l)) = (hex(a), hex(b))
            {
                let d = (h << 4) | l;
                if d.is_ascii_alphanumeric() || b"-._~".contains(&d) {
                    out.push(d);
                } else {
                    out.extend_from_slice(&[c, a, b]);
                }
                i += 2;
                continue;
            }
            if strict {
                return Err(());
            }
        }
        out.push(c);
    }
    Ok(out)
}

fn fragment_encode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 8);
    for &c in s {
        if c == b'#' {
            out.extend_from_slice(b"%23");
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(x: Normalizer, uri: &str) -> String {
        match normalize(x, uri.as_bytes()) {
            Ok(Some(v)) => String::from_utf8(v).unwrap_or_default(),
            Ok(None) => uri.to_string(),
            Err(()) => "400".to_string(),
        }
    }

    #[test]
    fn haproxys_documented_examples() {
        let dd = Normalizer::StripDotDot { full: false };
        let ddf = Normalizer::StripDotDot { full: true };
        for (x, i, o) in [
            (Normalizer::FragmentEncode, "/#foo", "/%23foo"),
            (Normalizer::FragmentStrip, "/#foo", "/"),
            (Normalizer::StripDot, "/.", "/"),
            (Normalizer::StripDot, "/./bar/", "/bar/"),
            (Normalizer::StripDot, "/a/./a", "/a/a"),
            (Normalizer::StripDot, "/.well-known/", "/.well-known/"),
            (dd, "/foo/../", "/"),
            (dd, "/foo/../bar/", "/bar/"),
            (dd, "/foo/bar/../", "/foo/"),
            (dd, "/../bar/", "/../bar/"),
            (dd, "/bar/../../", "/../"),
            (dd, "/foo//../", "/foo/"),
            (dd, "/foo/%2E%2E/", "/foo/%2E%2E/"),
            (ddf, "/../bar/", "/bar/"),
            (ddf, "/bar/../../", "/"),
            (Normalizer::MergeSlashes, "//", "/"),
            (Normalizer::MergeSlashes, "/foo//bar", "/foo/bar"),
            (
                Normalizer::PercentDecode { strict: false },
                "/%61dmin",
                "/admin",
            ),
            (
                Normalizer::PercentDecode { strict: false },
                "/foo%3Fbar=baz",
                "/foo%3Fbar=baz",
            ),
            (
                Normalizer::PercentDecode { strict: false },
                "/%%36%36",
                "/%66",
            ),
            (Normalizer::PercentDecode { strict: false }, "/%ZZ", "/%ZZ"),
            (
                Normalizer::PercentDecode { strict: true },
                "/%%36%36",
                "400",
            ),
            (Normalizer::PercentDecode { strict: true }, "/%ZZ", "400"),
            (Normalizer::PercentUpper { strict: false }, "/%6f", "/%6F"),
            (Normalizer::PercentUpper { strict: false }, "/%zz", "/%zz"),
            (Normalizer::PercentUpper { strict: true }, "/%zz", "400"),
            (Normalizer::QuerySort, "/?c=3&a=1&b=2", "/?a=1&b=2&c=3"),
            (
                Normalizer::QuerySort,
                "/?aaa=3&a=1&aa=2",
                "/?a=1&aa=2&aaa=3",
            ),
            (
                Normalizer::QuerySort,
                "/?a=3&b=4&a=1&b=5&a=2",
                "/?a=3&a=1&a=2&b=4&b=5",
            ),
            (
                Normalizer::MergeSlashes,
                "http://h//x//y?a//b",
                "http://h/x/y?a//b",
            ),
        ] {
            assert_eq!(n(x, i), o, "{x:?} {i}");
        }
    }
}
