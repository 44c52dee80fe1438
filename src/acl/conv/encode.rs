//! Encoding and hashing converters: `base64`, `b64dec`, `ub64enc`, `ub64dec`, `hex`,
//! `hex2i`, `url_enc`, `url_dec`, `json`, `crc32`, `crc32c`, `djb2`, `sdbm`, `wt6`,
//! `sha1`, `sha2`,
//! `digest`, `hmac`.

use super::row::*;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use sha2::Digest;

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = &[
    ConvDef::new("base64", SmpType::Str, base64_enc),
    ConvDef::new("b64dec", SmpType::Str, base64_dec),
    ConvDef::new("ub64enc", SmpType::Str, ub64enc),
    ConvDef::new("ub64dec", SmpType::Str, ub64dec),
    ConvDef::new("hex", SmpType::Str, hex),
    ConvDef::new("hex2i", SmpType::Int, hex2i),
    ConvDef::new("url_enc", SmpType::Str, url_enc)
        .args(&[S], 0)
        .check(|a| match a.first() {
            Some(ArgVal::Str(s)) if &**s != "query" => {
                Err(format!("Unexpected encode type. Allowed value is 'query', got '{s}'"))
            }
            _ => Ok(()),
        }),
    ConvDef::new("url_dec", SmpType::Str, url_dec).args(&[I], 0),
    ConvDef::new("json", SmpType::Str, json)
        .args(&[S], 0)
        .check(|a| match a.first() {
            Some(ArgVal::Str(s))
                if !["", "ascii", "utf8", "utf8s", "utf8p", "utf8ps"].contains(&&**s) =>
            {
                Err(format!("Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps', got '{s}'"))
            }
            _ => Ok(()),
        }),
    ConvDef::new("crc32", SmpType::Int, crc32).args(&[I], 0),
    ConvDef::new("djb2", SmpType::Int, djb2).args(&[I], 0),
    ConvDef::new("sdbm", SmpType::Int, sdbm).args(&[I], 0),
    ConvDef::new("wt6", SmpType::Int, wt6).args(&[I], 0),
    ConvDef::new("crc32c", SmpType::Int, crc32c).args(&[I], 0),
    ConvDef::new("sha1", SmpType::Str, sha1),
    ConvDef::new("sha2", SmpType::Str, sha2)
        .args(&[I], 0)
        .dflt([256, 0, 0])
        .check(|a| match a.first() {
            Some(ArgVal::Int(n)) if ![224, 256, 384, 512].contains(n) => Err(format!(
                "Unsupported number of bits: '{n}'"
            )),
            _ => Ok(()),
        }),
    ConvDef::new("digest", SmpType::Str, digest)
        .args(&[S], 1)
        .check(|a| algorithm(a.first()).map(|_| ())),
    ConvDef::new("hmac", SmpType::Str, hmac)
        .args(&[S, S], 2)
        .check(check_hmac),
];

fn base64_enc(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let out = STANDARD.encode(&buf[s..e]);
    Some(push(buf, |b| b.extend_from_slice(out.as_bytes())))
}

fn base64_dec(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let out = STANDARD.decode(&buf[s..e]).ok()?;
    Some(push(buf, |b| b.extend_from_slice(&out)))
}

fn ub64enc(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let out = URL_SAFE_NO_PAD.encode(&buf[s..e]);
    Some(push(buf, |b| b.extend_from_slice(out.as_bytes())))
}

fn ub64dec(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let input: Vec<u8> = buf[s..e].iter().copied().filter(|c| *c != b'=').collect();
    let out = URL_SAFE_NO_PAD.decode(&input).ok()?;
    Some(push(buf, |b| b.extend_from_slice(&out)))
}

/// `hex`: upper-case hexadecimal, two digits a byte.
fn hex(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    const D: &[u8; 16] = b"0123456789ABCDEF";
    Some(push(buf, |b| {
        for i in s..e {
            let c = b[i];
            b.push(D[usize::from(c >> 4)]);
            b.push(D[usize::from(c & 15)]);
        }
    }))
}

/// `hex2i`: a hexadecimal string (optionally signed) to an integer.
fn hex2i(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let text = std::str::from_utf8(&buf[s..e]).ok()?;
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let n = i64::from_str_radix(digits, 16).ok()?;
    Some(Cur::Int(if neg { -n } else { n }))
}

/// The characters `url_enc` escapes besides controls and non-ASCII bytes (HAProxy's
/// `query_encode_map`).
const QUERY_ESCAPED: &[u8] = b" \"#%&+,/:;<=>?@[\\]^`{|}";

fn url_enc(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    const D: &[u8; 16] = b"0123456789ABCDEF";
    Some(push(buf, |b| {
        for i in s..e {
            let c = b[i];
            if !(32..127).contains(&c) || QUERY_ESCAPED.contains(&c) {
                b.extend_from_slice(&[b'%', D[usize::from(c >> 4)], D[usize::from(c & 15)]]);
            } else {
                b.push(c);
            }
        }
    }))
}

/// `url_dec([in_form])`: `%XX` decoded; `+` becomes a space after a `?`, or
/// everywhere with a non-zero argument. A bad escape fails the conversion.
fn url_dec(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let mut in_query = a.i[0] != 0;
    let start = buf.len();
    let mut i = s;
    while i < e {
        let c = buf[i];
        match c {
            b'%' => {
                let hi = (*buf.get(i + 1).filter(|_| i + 1 < e)? as char).to_digit(16)?;
                let lo = (*buf.get(i + 2).filter(|_| i + 2 < e)? as char).to_digit(16)?;
                buf.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            b'?' => {
                in_query = true;
                buf.push(c);
            }
            b'+' if in_query => buf.push(b' '),
            _ => buf.push(c),
        }
        i += 1;
    }
    Some(Cur::Str(start, buf.len()))
}

/// `json([input-code])`: a JSON string body (without quotes).
fn json(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let input = buf[s..e].to_vec();
    let code = std::str::from_utf8(&a.s[0]).unwrap_or("");
    let start = buf.len();
    let esc = |b: &mut Vec<u8>, c: u32| {
        let _ = std::io::Write::write_fmt(b, format_args!("\\u{c:04x}"));
    };
    if code.is_empty() || code == "ascii" {
        for c in input {
            match c {
                b'"' => buf.extend_from_slice(b"\\\""),
                b'\\' => buf.extend_from_slice(b"\\\\"),
                b'/' => buf.extend_from_slice(b"\\/"),
                b'\x08' => buf.extend_from_slice(b"\\b"),
                b'\x0c' => buf.extend_from_slice(b"\\f"),
                b'\r' => buf.extend_from_slice(b"\\r"),
                b'\n' => buf.extend_from_slice(b"\\n"),
                b'\t' => buf.extend_from_slice(b"\\t"),
                c if !(32..127).contains(&c) => esc(buf, c.into()),
                c => buf.push(c),
            }
        }
        return Some(Cur::Str(start, buf.len()));
    }
    let silent = code.ends_with('s');
    for chunk in input.utf8_chunks() {
        for ch in chunk.valid().chars() {
            let c = u32::from(ch);
            match ch {
                '"' => buf.extend_from_slice(b"\\\""),
                '\\' => buf.extend_from_slice(b"\\\\"),
                '/' => buf.extend_from_slice(b"\\/"),
                '\x08' => buf.extend_from_slice(b"\\b"),
                '\x0c' => buf.extend_from_slice(b"\\f"),
                '\r' => buf.extend_from_slice(b"\\r"),
                '\n' => buf.extend_from_slice(b"\\n"),
                '\t' => buf.extend_from_slice(b"\\t"),
                _ if c > 0xffff => return None,
                _ if !(32..127).contains(&c) => esc(buf, c),
                _ => buf.push(c as u8),
            }
        }
        if !chunk.invalid().is_empty() && !silent {
            return None;
        }
    }
    Some(Cur::Str(start, buf.len()))
}

fn hashed(a: &Args, cur: Cur, buf: &mut Vec<u8>, f: fn(&[u8]) -> u32) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let mut h = f(&buf[s..e]);
    if a.i[0] == 1 {
        h = crate::acl::hashfn::full_hash(h);
    }
    Some(Cur::Int(h.into()))
}

fn crc32(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    hashed(a, cur, buf, crate::acl::hashfn::crc32)
}

fn djb2(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    hashed(a, cur, buf, crate::acl::hashfn::djb2)
}

fn wt6(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    hashed(a, cur, buf, crate::acl::hashfn::wt6)
}

/// CRC-32C (Castagnoli, RFC 4960 appendix B), HAProxy's `hash_crc32c`.
fn crc32c(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    hashed(a, cur, buf, crc32c::crc32c)
}

fn sdbm(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    hashed(a, cur, buf, crate::acl::hashfn::sdbm)
}

/// The digest algorithms `digest()` and `hmac()` know (OpenSSL names).
#[derive(Clone, Copy)]
enum Alg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

fn algorithm(a: Option<&ArgVal>) -> Result<Alg, String> {
    let name = match a {
        Some(ArgVal::Str(s)) => s.to_ascii_lowercase(),
        _ => String::new(),
    };
    Ok(match name.as_str() {
        "sha1" => Alg::Sha1,
        "sha224" => Alg::Sha224,
        "sha256" => Alg::Sha256,
        "sha384" => Alg::Sha384,
        "sha512" => Alg::Sha512,
        _ => {
            return Err(format!(
                "algorithm '{name}' is not supported yet by gatehouse (sha1, sha224, sha256, sha384, sha512 are)"
            ));
        }
    })
}

fn alg_of(bytes: &[u8]) -> Option<Alg> {
    let name = std::str::from_utf8(bytes).ok()?;
    algorithm(Some(&ArgVal::Str(name.into()))).ok()
}

fn digest_bytes(alg: Alg, data: &[u8]) -> Vec<u8> {
    match alg {
        Alg::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Alg::Sha224 => sha2::Sha224::digest(data).to_vec(),
        Alg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Alg::Sha384 => sha2::Sha384::digest(data).to_vec(),
        Alg::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

fn sha1(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let d = digest_bytes(Alg::Sha1, &buf[s..e]);
    Some(push(buf, |b| b.extend_from_slice(&d)))
}

fn sha2(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let alg = match a.i[0] {
        224 => Alg::Sha224,
        384 => Alg::Sha384,
        512 => Alg::Sha512,
        _ => Alg::Sha256,
    };
    let (s, e) = as_str(cur, buf);
    let d = digest_bytes(alg, &buf[s..e]);
    Some(push(buf, |b| b.extend_from_slice(&d)))
}

fn digest(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let alg = alg_of(&a.s[0])?;
    let (s, e) = as_str(cur, buf);
    let d = digest_bytes(alg, &buf[s..e]);
    Some(push(buf, |b| b.extend_from_slice(&d)))
}

/// `hmac(alg,key)`: the key is base64; a variable name is refused (not yet).
fn check_hmac(a: &[ArgVal]) -> Result<(), String> {
    algorithm(a.first())?;
    let key = match a.get(1) {
        Some(ArgVal::Str(k)) => k,
        _ => return Err("missing key".into()),
    };
    let var = ["proc.", "sess.", "txn.", "req.", "res."]
        .iter()
        .any(|p| key.starts_with(p));
    if var {
        return Err(format!(
            "variable arguments ('{key}') in converters are not supported yet by gatehouse"
        ));
    }
    STANDARD
        .decode(key.as_bytes())
        .map(|_| ())
        .map_err(|_| format!("failed to decode base64 key '{key}'"))
}

fn hmac(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let alg = alg_of(&a.s[0])?;
    let key = STANDARD.decode(&a.s[1]).ok()?;
    let (s, e) = as_str(cur, buf);
    let data = &buf[s..e];
    macro_rules! mac {
        ($h:ty) => {{
            let mut m = hmac::Hmac::<$h>::new_from_slice(&key).ok()?;
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }};
    }
    let d = match alg {
        Alg::Sha1 => mac!(sha1::Sha1),
        Alg::Sha224 => mac!(sha2::Sha224),
        Alg::Sha256 => mac!(sha2::Sha256),
        Alg::Sha384 => mac!(sha2::Sha384),
        Alg::Sha512 => mac!(sha2::Sha512),
    };
    Some(push(buf, |b| b.extend_from_slice(&d)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::s;

    #[test]
    fn encoding_and_hash_converters_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("base64", "hello?", Some("aGVsbG8/")),
            ("base64,b64dec", "hello?", Some("hello?")),
            ("b64dec", "!!", None),
            ("ub64enc", "hello?", Some("aGVsbG8_")),
            ("ub64dec", "aGVsbG8_", Some("hello?")),
            ("hex", "a\n", Some("610A")),
            ("hex2i", "ff", Some("255")),
            ("hex2i", "-10", Some("-16")),
            ("url_enc", "a b&c=d/é", Some("a%20b%26c%3Dd%2F%C3%A9")),
            ("url_dec", "a%20b+c?d+e", Some("a b+c?d e")),
            ("url_dec(1)", "a+b", Some("a b")),
            ("url_dec", "%zz", None),
            ("json", "a\"b/\\\n\u{1}", Some("a\\\"b\\/\\\\\\n\\u0001")),
            ("json(utf8)", "é", Some("\\u00e9")),
            ("crc32", "hello", Some("907060870")),
            ("djb2", "hello", Some("261238937")),
            ("sdbm", "a", Some("97")),
            ("crc32c", "123456789", Some("3808858755")),
            ("crc32c", "", Some("0")),
            ("wt6", "", Some("4187620192")),
            (
                "sha1,hex",
                "abc",
                Some("A9993E364706816ABA3E25717850C26C9CD0D89D"),
            ),
            (
                "sha2,hex",
                "abc",
                Some("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
            ),
            ("sha2(224),length", "abc", Some("28")),
            ("digest(sha512),length", "abc", Some("64")),
            (
                "digest(sha256),hex",
                "abc",
                Some("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
            ),
            (
                "hmac(sha256,a2V5),hex",
                "The quick brown fox jumps over the lazy dog",
                Some("F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8"),
            ),
        ];
        for (chain, input, want) in cases {
            assert_eq!(s(chain, input).as_deref(), *want, "{chain} on {input:?}");
        }
        for bad in [
            "digest(md4)",
            "hmac(sha256,txn.key)",
            "sha2(100)",
            "url_enc(path)",
        ] {
            let e = super::super::testing::run(bad, super::super::Sample::Int(1)).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
    }
}
