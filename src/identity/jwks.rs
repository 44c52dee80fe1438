//! JSON Web Key Sets (RFC 7517): the public keys tokens are verified with. Only
//! signature keys of the kinds gatehouse verifies are kept (RSA, EC P-256/P-384,
//! Ed25519); symmetric (`oct`) keys are never loaded, so an HMAC token can never be
//! checked against a public key.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use std::collections::HashMap;

/// The public part of one key.
#[derive(Clone, Debug)]
enum Material {
    /// RSA modulus and exponent (big-endian, no leading zeros).
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An EC point, uncompressed (`04 || x || y`), with its curve's JOSE name.
    Ec { crv: &'static str, point: Vec<u8> },
    /// An Ed25519 public key.
    Ed25519(Vec<u8>),
}

/// One verification key.
#[derive(Clone, Debug)]
pub struct Key {
    /// `kid`, if the set gave one.
    pub kid: Option<String>,
    /// `alg`, if the set pinned one.
    alg: Option<String>,
    material: Material,
}

/// Why a signature was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum SigError {
    /// The key cannot make that kind of signature.
    WrongKeyType,
    /// The signature does not verify.
    Bad,
}

impl Key {
    /// Whether this key may verify a signature made with `alg`.
    fn fits(&self, alg: &str) -> bool {
        if self.alg.as_deref().is_some_and(|a| a != alg) {
            return false;
        }
        match (&self.material, alg) {
            (Material::Rsa { .. }, a) => a.starts_with("RS") || a.starts_with("PS"),
            (Material::Ec { crv, .. }, "ES256") => *crv == "P-256",
            (Material::Ec { crv, .. }, "ES384") => *crv == "P-384",
            (Material::Ed25519(_), "EdDSA") => true,
            _ => false,
        }
    }

    /// Verifies `sig` over `msg` made with `alg`.
    pub fn verify(&self, alg: &str, msg: &[u8], sig: &[u8]) -> Result<(), SigError> {
        if !self.fits(alg) {
            return Err(SigError::WrongKeyType);
        }
        let ok = match &self.material {
            Material::Rsa { n, e } => {
                let params = match alg {
                    "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                    "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                    "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                    "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                    "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                    "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return Err(SigError::WrongKeyType),
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, msg, sig)
                    .is_ok()
            }
            Material::Ec { point, .. } => {
                let alg: &dyn signature::VerificationAlgorithm = match alg {
                    "ES256" => &signature::ECDSA_P256_SHA256_FIXED,
                    _ => &signature::ECDSA_P384_SHA384_FIXED,
                };
                UnparsedPublicKey::new(alg, point).verify(msg, sig).is_ok()
            }
            Material::Ed25519(x) => UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(msg, sig)
                .is_ok(),
        };
        if ok { Ok(()) } else { Err(SigError::Bad) }
    }
}

/// A key set: keys by `kid`, and those without one.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Key>,
    anonymous: Vec<Key>,
}

fn b64(v: &Value, field: &str) -> Result<Vec<u8>, String> {
    let s = v
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing '{field}'"))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("'{field}' is not base64url: {e}"))
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let lead = v.iter().take_while(|b| **b == 0).count();
    v.drain(..lead.min(v.len().saturating_sub(1)));
    v
}

fn parse_key(k: &Value) -> Result<Option<Key>, String> {
    if k.get("use")
        .and_then(Value::as_str)
        .is_some_and(|u| u != "sig")
    {
        return Ok(None);
    }
    let material = match k.get("kty").and_then(Value::as_str) {
        Some("RSA") => Material::Rsa {
            n: strip_zeros(b64(k, "n")?),
            e: strip_zeros(b64(k, "e")?),
        },
        Some("EC") => {
            let (crv, len) = match k.get("crv").and_then(Value::as_str) {
                Some("P-256") => ("P-256", 32),
                Some("P-384") => ("P-384", 48),
                _ => return Ok(None),
            };
            let (x, y) = (b64(k, "x")?, b64(k, "y")?);
            if x.len() != len || y.len() != len {
                return Err(format!("EC key coordinates of the wrong size for {crv}"));
            }
            let mut point = vec![4u8];
            point.extend(x);
            point.extend(y);
            Material::Ec { crv, point }
        }
        Some("OKP") if k.get("crv").and_then(Value::as_str) == Some("Ed25519") => {
            Material::Ed25519(b64(k, "x")?)
        }
        // `oct` (HMAC secrets) and anything else: never a verification key here.
        _ => return Ok(None),
    };
    Ok(Some(Key {
        kid: k.get("kid").and_then(Value::as_str).map(str::to_owned),
        alg: k.get("alg").and_then(Value::as_str).map(str::to_owned),
        material,
    }))
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`).
    pub fn parse(text: &[u8]) -> Result<KeySet, String> {
        let doc: Value = serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("no 'keys' array")?;
        let mut set = KeySet::default();
        for (i, k) in keys.iter().enumerate() {
            let Some(key) = parse_key(k).map_err(|e| format!("key #{}: {e}", i + 1))? else {
                continue;
            };
            match key.kid.clone() {
                Some(kid) => {
                    set.by_kid.insert(kid, key);
                }
                None => set.anonymous.push(key),
            }
        }
        Ok(set)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.by_kid.len() + self.anonymous.len()
    }

    /// True when the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a key with this `kid` is in the set.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    /// The keys that may have signed a token with this header: the one named by `kid`,
    /// else (no `kid`) every key.
    pub fn candidates<'a>(&'a self, kid: Option<&str>) -> Vec<&'a Key> {
        match kid {
            Some(k) => self.by_kid.get(k).into_iter().collect(),
            None => self.anonymous.iter().chain(self.by_kid.values()).collect(),
        }
    }
}
