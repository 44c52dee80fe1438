//! Whether an OCSP response decodes as OpenSSL decodes it — `d2i_OCSP_RESPONSE` for the
//! envelope, `OCSP_response_get1_basic` for the basic response with its certificates —
//! so a response HAProxy refuses (one corrupted byte in a tag, a length, an INTEGER's
//! padding, an OID, a BIT STRING, a name's UTF-8…) is refused here too. Extension
//! values and public keys are not decoded, as OpenSSL does not decode them then.

use super::cert_info::tlv;

/// One DER element: tag, contents.
type El<'a> = (u8, &'a [u8]);

/// The elements of `content`, which they must fill exactly.
fn seq(content: &[u8]) -> Option<Vec<El<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tag, body, _, r) = tlv(rest)?;
        // Only one-byte tags of these structures; a high tag number is no field of them.
        if tag & 0x1f == 0x1f {
            return None;
        }
        out.push((tag, body));
        rest = r;
    }
    Some(out)
}

/// The contents of the one element `der` starts with, if its tag is `tag`.
fn one(der: &[u8], tag: u8) -> Option<&[u8]> {
    let (t, body, _, _) = tlv(der)?;
    (t == tag).then_some(body)
}

/// `c2i_ibuf`: an INTEGER or ENUMERATED's contents.
fn integer(c: &[u8]) -> bool {
    match c {
        [] => false,
        [_] => true,
        [0x00, b, ..] => b & 0x80 != 0,
        [0xff, b, rest @ ..] => {
            // Minimal negative numbers keep their 0xff (OpenSSL's special case).
            let pad = *b != 0 || rest.iter().any(|&x| x != 0);
            !(pad && b & 0x80 != 0)
        }
        _ => true,
    }
}

/// `c2i_ASN1_OBJECT`.
fn oid(c: &[u8]) -> bool {
    let Some(last) = c.last() else {
        return false;
    };
    if last & 0x80 != 0 {
        return false;
    }
    c.iter()
        .enumerate()
        .all(|(i, &b)| !(b == 0x80 && (i == 0 || c[i - 1] & 0x80 == 0)))
}

/// A BIT STRING's contents: its unused-bits count, at most 7.
fn bit_string(c: &[u8]) -> bool {
    c.first().is_some_and(|&u| u <= 7)
}

/// GeneralizedTime (at least 15 bytes) or UTCTime (13).
fn time(tag: u8, c: &[u8]) -> bool {
    match tag {
        0x18 => c.len() >= 15,
        0x17 => c.len() >= 13,
        _ => false,
    }
}

/// A primitive universal element as `ASN1_ANY` decodes it.
fn any(tag: u8, c: &[u8]) -> bool {
    match tag {
        0x01 => c.len() == 1,
        0x02 | 0x0a => integer(c),
        0x03 => bit_string(c),
        0x05 => c.is_empty(),
        0x06 => oid(c),
        0x17 | 0x18 => time(tag, c),
        _ => true,
    }
}

/// `X509_ALGOR`: an OID, then any parameters.
fn algor(c: &[u8]) -> bool {
    let Some(e) = seq(c) else { return false };
    match &e[..] {
        [(0x06, o)] => oid(o),
        [(0x06, o), (t, p)] => oid(o) && any(*t, p),
        _ => false,
    }
}

/// `X509_NAME`, with OpenSSL's canonical form made (strings must convert to UTF-8).
fn name(c: &[u8]) -> bool {
    let Some(rdns) = seq(c) else { return false };
    rdns.iter().all(|&(t, rdn)| {
        t == 0x31
            && seq(rdn).is_some_and(|atvs| {
                atvs.iter().all(|&(t, atv)| {
                    t == 0x30
                        && matches!(&seq(atv).as_deref(), Some([(0x06, o), (vt, v)])
                            if oid(o) && name_string(*vt, v))
                })
            })
    })
}

/// A name's value: one of `ASN1_PRINTABLE`'s types (OpenSSL's `tag2bit`, the
/// "unknown" ones included), convertible to UTF-8.
fn name_string(tag: u8, v: &[u8]) -> bool {
    match tag {
        0x0c => std::str::from_utf8(v).is_ok(),
        0x1e => v.len().is_multiple_of(2),
        0x1c => v.len().is_multiple_of(4),
        0x03 => bit_string(v),
        0x30 => true,
        0x07 | 0x08 | 0x09 | 0x0b | 0x0d | 0x0e | 0x0f | 0x12 | 0x13 | 0x14 | 0x16 | 0x1d
        | 0x1f => true,
        _ => false,
    }
}

/// `X509_EXTENSIONS`: SEQUENCE OF { OID, BOOLEAN?, OCTET STRING }.
fn extensions(c: &[u8]) -> bool {
    let Some(list) = seq(c) else { return false };
    list.iter().all(|&(t, e)| {
        t == 0x30
            && match seq(e).as_deref() {
                Some([(0x06, o), (0x04, _)]) => oid(o),
                Some([(0x06, o), (0x01, b), (0x04, _)]) => oid(o) && b.len() == 1,
                _ => false,
            }
    })
}

/// An `[n] EXPLICIT` wrapper holding exactly one element of tag `tag`.
fn explicit(c: &[u8], tag: u8) -> Option<&[u8]> {
    match seq(c)?.as_slice() {
        [(t, body)] if *t == tag => Some(body),
        _ => None,
    }
}

/// `X509` (`d2i_X509`).
fn certificate(c: &[u8]) -> bool {
    let Some(parts) = seq(c) else { return false };
    let [(0x30, tbs), (0x30, alg), (0x03, sig)] = parts[..] else {
        return false;
    };
    if !(algor(alg) && bit_string(sig)) {
        return false;
    }
    let Some(f) = seq(tbs) else { return false };
    let mut f = f.into_iter().peekable();
    if let Some(&(0xa0, v)) = f.peek() {
        f.next();
        if !explicit(v, 0x02).is_some_and(integer) {
            return false;
        }
    }
    let ok = matches!(f.next(), Some((0x02, s)) if integer(s))
        && matches!(f.next(), Some((0x30, a)) if algor(a))
        && matches!(f.next(), Some((0x30, n)) if name(n))
        && matches!(f.next(), Some((0x30, v)) if matches!(seq(v).as_deref(),
            Some([(t1, a), (t2, b)]) if time(*t1, a) && time(*t2, b)))
        && matches!(f.next(), Some((0x30, n)) if name(n))
        && matches!(f.next(), Some((0x30, k)) if matches!(seq(k).as_deref(),
            Some([(0x30, a), (0x03, b)]) if algor(a) && bit_string(b)));
    if !ok {
        return false;
    }
    tagged_in_order(f, |t, body| match t {
        0x81 | 0x82 => bit_string(body),
        0xa3 => explicit(body, 0x30).is_some_and(extensions),
        _ => false,
    })
}

/// The envelope (`d2i_OCSP_RESPONSE`): status, then the optional typed response bytes.
pub fn envelope_ok(der: &[u8]) -> bool {
    let Some(body) = one(der, 0x30) else {
        return false;
    };
    match seq(body).as_deref() {
        Some([(0x0a, s)]) => integer(s),
        Some([(0x0a, s), (0xa0, rb)]) => {
            integer(s)
                && explicit(rb, 0x30).is_some_and(
                    |rb| matches!(seq(rb).as_deref(), Some([(0x06, o), (0x04, _)]) if oid(o)),
                )
        }
        _ => false,
    }
}

/// The basic response (`OCSP_response_get1_basic`): the contents of the response bytes'
/// OCTET STRING.
pub fn basic_ok(der: &[u8]) -> bool {
    let Some(body) = one(der, 0x30) else {
        return false;
    };
    let Some(parts) = seq(body) else { return false };
    let (tbs, rest) = match &parts[..] {
        [(0x30, tbs), (0x30, alg), (0x03, sig), rest @ ..] if algor(alg) && bit_string(sig) => {
            (*tbs, rest)
        }
        _ => return false,
    };
    let certs_ok = match rest {
        [] => true,
        [(0xa0, c)] => explicit(c, 0x30)
            .and_then(seq)
            .is_some_and(|cs| cs.iter().all(|&(t, c)| t == 0x30 && certificate(c))),
        _ => false,
    };
    certs_ok && tbs_ok(tbs)
}

/// `OCSP_RESPDATA`.
fn tbs_ok(c: &[u8]) -> bool {
    let Some(f) = seq(c) else { return false };
    let mut f = f.into_iter().peekable();
    if let Some(&(0xa0, v)) = f.peek() {
        f.next();
        if !explicit(v, 0x02).is_some_and(integer) {
            return false;
        }
    }
    let responder = match f.next() {
        Some((0xa1, n)) => explicit(n, 0x30).is_some_and(name),
        Some((0xa2, k)) => explicit(k, 0x04).is_some(),
        _ => false,
    };
    let ok = responder
        && matches!(f.next(), Some((t, p)) if t == 0x18 && time(t, p))
        && matches!(f.next(), Some((0x30, r)) if seq(r).is_some_and(|rs| rs
            .iter()
            .all(|&(t, s)| t == 0x30 && single_ok(s))));
    ok && match f.next() {
        None => true,
        Some((0xa1, e)) => explicit(e, 0x30).is_some_and(extensions) && f.next().is_none(),
        _ => false,
    }
}

/// `OCSP_SINGLERESP`.
fn single_ok(c: &[u8]) -> bool {
    let Some(f) = seq(c) else { return false };
    let mut f = f.into_iter();
    let id_ok = matches!(f.next(), Some((0x30, id)) if matches!(seq(id).as_deref(),
        Some([(0x30, a), (0x04, _), (0x04, _), (0x02, s)]) if algor(a) && integer(s)));
    let status_ok = match f.next() {
        Some((0x80 | 0x82, n)) => n.is_empty(),
        Some((0xa1, r)) => match seq(r).as_deref() {
            Some([(0x18, t)]) => time(0x18, t),
            Some([(0x18, t), (0xa0, reason)]) => {
                time(0x18, t) && explicit(reason, 0x0a).is_some_and(integer)
            }
            _ => false,
        },
        _ => false,
    };
    let this_ok = matches!(f.next(), Some((0x18, t)) if time(0x18, t));
    if !(id_ok && status_ok && this_ok) {
        return false;
    }
    tagged_in_order(f, |t, body| match t {
        0xa0 => explicit(body, 0x18).is_some_and(|x| time(0x18, x)),
        0xa1 => explicit(body, 0x30).is_some_and(extensions),
        _ => false,
    })
}

/// The optional context-tagged fields that end a SEQUENCE: each one `field` accepts,
/// each at most once and in increasing tag order, as DER wants.
fn tagged_in_order<'a>(
    fields: impl Iterator<Item = (u8, &'a [u8])>,
    field: impl Fn(u8, &[u8]) -> bool,
) -> bool {
    let mut last = 0u8;
    for (t, body) in fields {
        if !field(t, body) || t <= last {
            return false;
        }
        last = t;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_primitive_rules() {
        assert!(integer(&[0x00, 0x80]) && !integer(&[0x00, 0x7f]) && !integer(&[]));
        assert!(integer(&[0xff, 0x00]) && !integer(&[0xff, 0x80, 0x01]));
        assert!(oid(&[0x2b, 0x06]) && !oid(&[0x80, 0x01]) && !oid(&[0x2b, 0x86]));
        assert!(bit_string(&[0]) && !bit_string(&[8]) && !bit_string(&[]));
        assert!(envelope_ok(&[0x30, 0x03, 0x0a, 0x01, 0x03]));
        assert!(!envelope_ok(&[0x30, 0x03, 0x02, 0x01, 0x03]));
    }
}
