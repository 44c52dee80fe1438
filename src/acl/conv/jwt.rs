//! HAProxy 2.6's JWT converters (configuration.txt 7.3.1): `jwt_header_query` and
//! `jwt_payload_query` (`[<json_path>[,<output_type>]]`: a part of a compact JWT,
//! base64url-decoded, then `json_query` on it) and `jwt_verify(<alg>,<key>)`, which
//! checks a compact JWS's signature only (no claim) and answers HAProxy's codes:
//! 1 verified, 0 not, -1 unknown algorithm, -2 RSASSA-PSS (not managed by 2.6),
//! -3 invalid token, -5 unknown key.
//!
//! As in HAProxy 2.6: `<alg>` and `<key>` may name variables (`txn.alg`); the `<alg>`
//! is the caller's, never the token's header; `none` verifies a token whose signature
//! is empty; for `HS*` the key is the secret itself, otherwise the path of a PEM
//! public key (`-----BEGIN PUBLIC KEY-----`, RSA or EC) loaded when the configuration
//! is, which is the only place keys come from: a path that only a variable names at run
//! time, or a file that holds no public key (a certificate, say), gives -5. One
//! difference: without a `<json_path>`, 2.6 answers nothing (a bug in its converter);
//! gatehouse answers the decoded part, as the manual says.

use super::row::*;
use crate::acl::SampleSource;
use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = &[
    ConvDef::custom("jwt_header_query", SmpType::Str, |a| JwtQuery::build(a, 0)).args(&[S, S], 0),
    ConvDef::custom("jwt_payload_query", SmpType::Str, |a| JwtQuery::build(a, 1)).args(&[S, S], 0),
    ConvDef::custom("jwt_verify", SmpType::Int, JwtVerify::build).args(&[S, S], 2),
];

/// base64url as HAProxy's `base64urldec` reads it: no padding, trailing bits ignored.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// `jwt_header_query` (part 0) and `jwt_payload_query` (part 1).
#[derive(Debug)]
struct JwtQuery {
    part: usize,
    /// The `json_query` run on the decoded part, when a path is given.
    query: Option<Box<dyn Conv>>,
}

impl JwtQuery {
    fn build(args: &[ArgVal], part: usize) -> Result<Box<dyn Conv>, String> {
        let path = match args.first() {
            Some(ArgVal::Str(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let query = match path {
            Some(_) => Some(super::json::build_query(args)?),
            None => {
                if let Some(ArgVal::Str(t)) = args.get(1)
                    && !t.is_empty()
                    && &**t != "int"
                {
                    return Err("output_type only supports \"int\" as argument".into());
                }
                None
            }
        };
        Ok(Box::new(JwtQuery { part, query }))
    }
}

impl Conv for JwtQuery {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        let (s, e) = as_str(cur, buf);
        // HAProxy tokenizes only up to the part it needs: the header of `abc` is `abc`.
        let (ps, pe) = {
            let mut at = s;
            let mut range = None;
            for (i, p) in buf[s..e].split(|b| *b == b'.').enumerate() {
                if i == self.part {
                    range = Some((at, at + p.len()));
                    break;
                }
                at += p.len() + 1;
            }
            range?
        };
        let decoded = B64URL.decode(&buf[ps..pe]).ok()?;
        let cur = push(buf, |b| b.extend_from_slice(&decoded));
        match &self.query {
            None => Some(cur),
            Some(q) => q.step(cur, buf),
        }
    }
}

/// An algorithm of RFC 7518 section 3.1, as HAProxy 2.6 knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    None,
    Hs(u16),
    Rs(u16),
    Es(u16),
    Ps,
}

fn parse_alg(a: &[u8]) -> Option<Alg> {
    if a == b"none" {
        return Some(Alg::None);
    }
    let bits = match a.get(2..) {
        Some(b"256") => 256,
        Some(b"384") => 384,
        Some(b"512") => 512,
        _ => return None,
    };
    match a.get(..2)? {
        b"HS" => Some(Alg::Hs(bits)),
        b"RS" => Some(Alg::Rs(bits)),
        b"ES" => Some(Alg::Es(bits)),
        b"PS" => Some(Alg::Ps),
        _ => None,
    }
}

/// What a public key file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    /// An EC key, with its field size in bytes (32, 48, 66).
    Ec(usize),
    Other,
}

/// A public key read from a PEM file: its SubjectPublicKeyInfo DER.
#[derive(Debug)]
struct PubKey {
    der: Vec<u8>,
    kind: KeyKind,
}

/// The keys `jwt_verify` calls named, by path: HAProxy's certificate tree, which a key
/// held in a variable is looked up in at run time. `None`: the file held no key.
static KEYS: Mutex<Option<KeyMap>> = Mutex::new(None);

/// Keys by path (`None`: the file held none).
type KeyMap = HashMap<Box<[u8]>, Option<Arc<PubKey>>>;

/// Reads the first `PUBLIC KEY` block of a PEM file (a file that cannot be opened gives
/// `Ok(None)`, as HAProxy, which says nothing then).
fn read_key(path: &str) -> Result<Option<PubKey>, String> {
    let Ok(pem) = std::fs::read(path) else {
        return Ok(None);
    };
    let der = x509_parser::pem::Pem::iter_from_buffer(&pem)
        .filter_map(Result::ok)
        .find(|p| p.label == "PUBLIC KEY")
        .map(|p| p.contents)
        .ok_or_else(|| format!("file not found ({path})"))?;
    let fits = |alg: &'static dyn VerificationAlgorithm| {
        signature::ParsedPublicKey::new(alg, &der).is_ok()
    };
    let kind = if fits(&signature::RSA_PKCS1_2048_8192_SHA256) {
        KeyKind::Rsa
    } else if fits(&signature::ECDSA_P256_SHA256_FIXED) {
        KeyKind::Ec(32)
    } else if fits(&signature::ECDSA_P384_SHA384_FIXED) {
        KeyKind::Ec(48)
    } else if fits(&signature::ECDSA_P521_SHA512_FIXED) {
        KeyKind::Ec(66)
    } else {
        KeyKind::Other
    };
    Ok(Some(PubKey { der, kind }))
}

/// Loads `path` into [`KEYS`] (again on each load, so a reload sees a changed file);
/// a file without a key is reported as HAProxy does, as a warning.
fn load_key(path: &str) -> Option<Arc<PubKey>> {
    let key = match read_key(path) {
        Ok(k) => k.map(Arc::new),
        Err(e) => {
            eprintln!("[WARNING] config : jwt_verify : {e}");
            None
        }
    };
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    keys.get_or_insert_with(HashMap::new)
        .insert(path.as_bytes().into(), key.clone());
    key
}

fn lookup_key(path: &[u8]) -> Option<Arc<PubKey>> {
    let keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    keys.as_ref()?.get(path)?.clone()
}

/// An argument: a constant or a variable to read at run time.
#[derive(Debug)]
enum Arg {
    Text(Box<[u8]>),
    Var(Box<str>),
}

impl Arg {
    /// HAProxy's `vars_check_arg`: a name with a variable scope is a variable.
    fn new(text: &str) -> Arg {
        let var = ["proc.", "sess.", "txn.", "req.", "res.", "check."]
            .iter()
            .any(|p| text.starts_with(p) && text.len() > p.len());
        if var {
            Arg::Var(text.into())
        } else {
            Arg::Text(text.as_bytes().into())
        }
    }

    /// The value; `None` for a variable that is not set.
    fn value(&self, src: &dyn SampleSource) -> Option<Vec<u8>> {
        match self {
            Arg::Text(t) => Some(t.to_vec()),
            Arg::Var(v) => {
                let mut out = None;
                src.var(v, &mut |x| {
                    out = Some(x.to_vec());
                    true
                });
                out
            }
        }
    }
}

/// A compiled `jwt_verify`.
#[derive(Debug)]
struct JwtVerify {
    alg: Arg,
    key: Arg,
    /// The key a constant `<key>` names (loaded with the configuration).
    loaded: Option<Arc<PubKey>>,
}

impl JwtVerify {
    fn build(args: &[ArgVal]) -> Result<Box<dyn Conv>, String> {
        let text = |i: usize| match args.get(i) {
            Some(ArgVal::Str(s)) => s.to_string(),
            _ => String::new(),
        };
        let (alg, key) = (Arg::new(&text(0)), Arg::new(&text(1)));
        if let Arg::Text(a) = &alg {
            match parse_alg(a) {
                None => {
                    let a = String::from_utf8_lossy(a);
                    return Err(format!("unknown JWT algorithm: {a}"));
                }
                Some(Alg::Ps) => return Err("RSASSA-PSS JWS signing not managed yet".into()),
                Some(_) => {}
            }
        }
        let loaded = match &key {
            Arg::Text(_) => load_key(&text(1)),
            Arg::Var(_) => None,
        };
        Ok(Box::new(JwtVerify { alg, key, loaded }))
    }
}

impl Conv for JwtVerify {
    fn step(&self, _: Cur, _: &mut Vec<u8>) -> Option<Cur> {
        None // needs the transaction: see `step_in`
    }

    fn step_in(&self, cur: Cur, buf: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Cur> {
        let alg = self.alg.value(src)?;
        let key = self.key.value(src)?;
        let (s, e) = as_str(cur, buf);
        let stored = match &self.key {
            Arg::Text(_) => self.loaded.clone(),
            Arg::Var(_) => lookup_key(&key),
        };
        Some(Cur::Int(verify(&buf[s..e], &alg, &key, stored.as_deref())))
    }
}

/// HAProxy 2.6's `jwt_verify()`: the signature of `token` made with `alg`, checked with
/// the HMAC secret `secret` or the public key `key`.
fn verify(token: &[u8], alg: &[u8], secret: &[u8], key: Option<&PubKey>) -> i64 {
    let Some(alg) = parse_alg(alg) else {
        return -1;
    };
    let parts: Vec<&[u8]> = token.split(|b| *b == b'.').collect();
    match parts.len() {
        3 => {}
        2 if alg == Alg::None => {}
        _ => return -3,
    }
    let sig = parts.get(2).copied().unwrap_or_default();
    if alg == Alg::None {
        return sig.is_empty().into();
    }
    if sig.is_empty() {
        return -3;
    }
    let Ok(sig) = B64URL.decode(sig) else {
        return -3;
    };
    let signed = &token[..parts[0].len() + 1 + parts[1].len()];
    match alg {
        Alg::Hs(bits) => {
            let a = match bits {
                256 => aws_lc_rs::hmac::HMAC_SHA256,
                384 => aws_lc_rs::hmac::HMAC_SHA384,
                _ => aws_lc_rs::hmac::HMAC_SHA512,
            };
            let k = aws_lc_rs::hmac::Key::new(a, secret);
            aws_lc_rs::hmac::verify(&k, signed, &sig).is_ok().into()
        }
        Alg::Rs(bits) => {
            let Some(key) = key else { return -5 };
            let a = match bits {
                256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                _ => &signature::RSA_PKCS1_2048_8192_SHA512,
            };
            (key.kind == KeyKind::Rsa
                && UnparsedPublicKey::new(a, &key.der)
                    .verify(signed, &sig)
                    .is_ok())
            .into()
        }
        Alg::Es(bits) => {
            let Some(key) = key else { return -5 };
            // R || S (RFC 7518 3.4), each half a big-endian number.
            if sig.len() % 2 == 1 {
                return -3;
            }
            let (a, size): (&'static dyn VerificationAlgorithm, usize) = match (bits, key.kind) {
                (256, KeyKind::Ec(32)) => (&signature::ECDSA_P256_SHA256_FIXED, 32),
                (384, KeyKind::Ec(48)) => (&signature::ECDSA_P384_SHA384_FIXED, 48),
                (512, KeyKind::Ec(66)) => (&signature::ECDSA_P521_SHA512_FIXED, 66),
                _ => return 0,
            };
            let (r, s) = sig.split_at(sig.len() / 2);
            let mut fixed = Vec::with_capacity(2 * size);
            for half in [r, s] {
                let lead = half.iter().take_while(|b| **b == 0).count();
                let n = &half[lead..];
                if n.len() > size {
                    return 0;
                }
                fixed.resize(fixed.len() + size - n.len(), 0);
                fixed.extend_from_slice(n);
            }
            UnparsedPublicKey::new(a, &key.der)
                .verify(signed, &fixed)
                .is_ok()
                .into()
        }
        Alg::Ps => -2,
        Alg::None => 1,
    }
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
