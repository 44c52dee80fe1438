//! Keys generated in the test and tokens signed with them, the way a provider does:
//! RS256 (RSA 2048), ES256 (P-256), EdDSA (Ed25519), and forgeries (`alg: none`,
//! HS256 keyed with the public key).
#![allow(dead_code)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

/// A signing key with its `kid`.
pub enum Signer {
    /// RS256.
    Rsa(signature::RsaKeyPair, String),
    /// ES256.
    Ec(EcdsaKeyPair, String),
    /// EdDSA.
    Ed(Ed25519KeyPair, String),
}

impl Signer {
    /// A new RSA key.
    pub fn rsa(kid: &str) -> Signer {
        let kp = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        Signer::Rsa(kp, kid.into())
    }
    /// A new P-256 key.
    pub fn ec(kid: &str) -> Signer {
        let kp = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        Signer::Ec(kp, kid.into())
    }
    /// A new Ed25519 key.
    pub fn ed(kid: &str) -> Signer {
        Signer::Ed(Ed25519KeyPair::generate().unwrap(), kid.into())
    }

    /// Its `kid`.
    pub fn kid(&self) -> &str {
        match self {
            Signer::Rsa(_, k) | Signer::Ec(_, k) | Signer::Ed(_, k) => k,
        }
    }

    /// Its `alg`.
    pub fn alg(&self) -> &'static str {
        match self {
            Signer::Rsa(..) => "RS256",
            Signer::Ec(..) => "ES256",
            Signer::Ed(..) => "EdDSA",
        }
    }

    /// Its public key as a JWK.
    pub fn jwk(&self) -> Value {
        match self {
            Signer::Rsa(kp, kid) => {
                let pk = kp.public_key();
                json!({
                    "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                    "n": B64.encode(pk.modulus().big_endian_without_leading_zero()),
                    "e": B64.encode(pk.exponent().big_endian_without_leading_zero()),
                })
            }
            Signer::Ec(kp, kid) => {
                let p = kp.public_key().as_ref();
                json!({
                    "kty": "EC", "kid": kid, "crv": "P-256", "use": "sig",
                    "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65]),
                })
            }
            Signer::Ed(kp, kid) => json!({
                "kty": "OKP", "kid": kid, "crv": "Ed25519", "use": "sig",
                "x": B64.encode(kp.public_key().as_ref()),
            }),
        }
    }

    /// Its public key as a PEM file's text (`-----BEGIN PUBLIC KEY-----`, SPKI).
    pub fn public_pem(&self) -> String {
        use aws_lc_rs::encoding::AsDer;
        let der = match self {
            Signer::Rsa(kp, _) => kp.public_key().as_der().unwrap().as_ref().to_vec(),
            Signer::Ec(kp, _) => kp.public_key().as_der().unwrap().as_ref().to_vec(),
            Signer::Ed(kp, _) => kp.public_key().as_der().unwrap().as_ref().to_vec(),
        };
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap());
            pem.push('\n');
        }
        pem + "-----END PUBLIC KEY-----\n"
    }

    fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Signer::Rsa(kp, _) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .unwrap();
                sig
            }
            Signer::Ec(kp, _) => kp.sign(&rng, msg).unwrap().as_ref().to_vec(),
            Signer::Ed(kp, _) => kp.sign(msg).as_ref().to_vec(),
        }
    }

    /// A token with `header` (merged over alg and kid) and `claims`.
    pub fn sign_with(&self, header: Value, claims: &Value) -> String {
        let mut h = json!({"alg": self.alg(), "kid": self.kid(), "typ": "JWT"});
        if let (Some(h), Value::Object(extra)) = (h.as_object_mut(), header) {
            h.extend(extra);
        }
        let signing = format!(
            "{}.{}",
            B64.encode(h.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = self.sign_raw(signing.as_bytes());
        format!("{signing}.{}", B64.encode(sig))
    }

    /// A token for `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(json!({}), claims)
    }
}

/// A JWKS document of these keys.
pub fn jwks(keys: &[&Signer]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string()
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An unsigned token (`alg: none`).
pub fn none_token(claims: &Value) -> String {
    format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        B64.encode(claims.to_string())
    )
}

/// HS256 keyed with `key` (the classic confusion: the provider's public key as the
/// HMAC secret), naming `kid`.
pub fn hs256(key: &[u8], kid: &str, claims: &Value) -> String {
    let signing = format!(
        "{}.{}",
        B64.encode(json!({"alg": "HS256", "kid": kid, "typ": "JWT"}).to_string()),
        B64.encode(claims.to_string())
    );
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&k, signing.as_bytes());
    format!("{signing}.{}", B64.encode(tag.as_ref()))
}
