//! The byte-level walks of cookie persistence, ported from HAProxy 2.6's
//! `http_ana.c` so that the bytes match: cookie value ends, removing a cookie with
//! its separator, spaces around `=`, the base64 dates of `maxidle`/`maxlife`, and
//! whether a response is cacheable for `nocache`. Used by `persist_cookie.rs`.

use crate::proxy::message::{Edits, Method};

/// A space or a tab (HAProxy's `HTTP_IS_SPHT`).
pub(super) fn sp(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// `p + d` for the signed moves of the pointer walk.
pub(super) fn mv(p: usize, d: isize) -> usize {
    p.wrapping_add_signed(d)
}

/// The end of a cookie value from `s`: the first `,` or `;` outside quotes
/// (`http_find_cookie_value_end`).
pub(super) fn value_end(h: &[u8], mut s: usize, e: usize) -> usize {
    let (mut quoted, mut qdpair) = (false, false);
    while s < e {
        let c = h[s];
        if qdpair {
            qdpair = false;
        } else if quoted {
            if c == b'\\' {
                qdpair = true;
            } else if c == b'"' {
                quoted = false;
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' || c == b';' {
            return s;
        }
        s += 1;
    }
    s
}

/// Removes the cookie(s) from `*from` to `next` of `h[..end]` with the separator
/// around them (`http_del_hdr_value`); returns how far the rest moved (≤ 0).
pub(super) fn del_value(h: &mut [u8], end: usize, from: &mut usize, next: usize) -> isize {
    let mut prev = *from;
    let mut next = next;
    if prev == 0 {
        if next < end {
            next += 1;
        }
        while next < end && sp(h[next]) {
            next += 1;
        }
    } else {
        while prev > 0 && sp(h[prev - 1]) {
            prev -= 1;
        }
        *from = prev;
        if next < end {
            h[prev] = h[next];
            prev += 1;
            next += 1;
            if prev + 1 < next {
                h[prev] = b' ';
                prev += 1;
            }
            while next < end && sp(h[next]) {
                next += 1;
            }
        }
    }
    h.copy_within(next..end, prev);
    prev as isize - next as isize
}

/// Drops the spaces around the `=` of one cookie in place; returns how far what
/// follows moved (≤ 0) and moves `equal` and `val_beg` with it.
pub(super) fn strip_equal(
    h: &mut [u8],
    end: usize,
    att_end: usize,
    equal: &mut usize,
    val_beg: &mut usize,
) -> isize {
    let mut moved: isize = 0;
    if att_end != *equal {
        h.copy_within(*equal..end, att_end);
        moved = att_end as isize - *equal as isize;
        *equal = mv(*equal, moved);
        *val_beg = mv(*val_beg, moved);
    }
    if *val_beg > *equal + 1 {
        h.copy_within(*val_beg..mv(end, moved), *equal + 1);
        let after = (*equal + 1) as isize - *val_beg as isize;
        *val_beg = mv(*val_beg, after);
        moved += after;
    }
    moved
}

/// The 30-bit value of 5 base64 characters (`b64tos30`); `None` for another byte.
pub(super) fn b64tos30(s: &[u8]) -> Option<u32> {
    s[..5].iter().try_fold(0u32, |out, &c| {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some((out << 6) | u32::from(v))
    })
}

/// 5 base64 characters for a 30-bit value (`s30tob64`).
pub(super) fn s30tob64(v: u32, out: &mut String) {
    const TAB: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut v = v;
    for _ in 0..5 {
        out.push(TAB[((v >> 24) & 0x3f) as usize] as char);
        v <<= 6;
    }
}

/// `now - then` as HAProxy computes it on 32-bit unsigned dates, read signed.
pub(super) fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// Whether a response may be cached, as HAProxy 2.6.12 decides it for `nocache`: a
/// safe method, a status cacheable by default, no `Pragma: no-cache`, `Cache-Control`
/// (`public` allows; `private`, `no-cache`, `no-store`, `max-age=0`, `s-maxage=0`
/// forbid), and freshness (`max-age`, `s-maxage`, `Expires`) or a validator (`ETag`,
/// `Last-Modified`).
pub(super) fn cacheable<'a: 'b, 'b>(
    method: Method,
    status: u16,
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    edits: &'b Edits,
) -> bool {
    let mut ok = matches!(
        method,
        Method::Get | Method::Head | Method::Options | Method::Trace
    ) && matches!(
        status,
        200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501
    );
    if status < 200 {
        return false;
    }
    let visible: Vec<(&'b [u8], &'b [u8])> = fields
        .map(|(n, v)| (n as &'b [u8], v as &'b [u8]))
        .filter(|(n, _)| !edits.removed(n))
        .chain(edits.add.iter().map(|(n, v)| (n.as_slice(), v.as_slice())))
        .collect();
    let has = |name: &[u8]| visible.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if let Some((_, p)) = visible
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(b"pragma"))
        && p.trim_ascii().eq_ignore_ascii_case(b"no-cache")
    {
        return false;
    }
    let mut fresh = false;
    let items = visible
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"cache-control"))
        .flat_map(|(_, v)| v.split(|&c| c == b','))
        .map(<[u8]>::trim_ascii);
    for item in items {
        let starts = |p: &[u8]| item.len() >= p.len() && item[..p.len()].eq_ignore_ascii_case(p);
        if item.eq_ignore_ascii_case(b"public") {
            ok = true;
        } else if [
            &b"private"[..],
            b"no-cache",
            b"no-store",
            b"max-age=0",
            b"s-maxage=0",
        ]
        .iter()
        .any(|w| item.eq_ignore_ascii_case(w))
        {
            ok = false;
        } else if starts(b"no-cache=\"set-cookie") {
        } else if starts(b"s-maxage") || starts(b"max-age") {
            fresh = true;
        }
    }
    if !fresh {
        fresh = has(b"expires");
    }
    if !fresh && !has(b"etag") && !has(b"last-modified") {
        ok = false;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_haproxys_base64() {
        let mut s = String::new();
        s30tob64(0x1234_5678 & 0x3fff_ffff, &mut s);
        assert_eq!(s.len(), 5);
        assert_eq!(b64tos30(s.as_bytes()), Some(0x1234_5678 & 0x3fff_ffff));
        // HAProxy wrote `axWSB` at 2026-12-06 16:49:08 UTC (1796575748 + 3) >> 2.
        let mut t = String::new();
        s30tob64((1_796_575_748u32 + 3) >> 2, &mut t);
        assert_eq!(t, "axWSB");
        assert_eq!(b64tos30(b"ab=de"), None);
    }

    #[test]
    fn removing_a_cookie_keeps_the_separators_like_haproxy() {
        let cases: &[(&str, usize, usize, &str)] = &[
            // (header, from, next, result)
            ("SRV=a; b=1", 0, 5, "b=1"),
            ("b=1; SRV=a; c=2", 3, 10, "b=1; c=2"),
            ("b=1; SRV=a", 3, 10, "b=1"),
        ];
        for (hdr, from, next, want) in cases {
            let mut h = hdr.as_bytes().to_vec();
            let mut f = *from;
            let len = h.len();
            let d = del_value(&mut h, len, &mut f, *next);
            let end = (h.len() as isize + d) as usize;
            assert_eq!(std::str::from_utf8(&h[..end]).unwrap(), *want, "{hdr}");
        }
    }
}
