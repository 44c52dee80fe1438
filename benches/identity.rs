//! The cost of a bearer token on the request path: what `http-request authenticate`
//! and the unknown-key check do per request for a token seen before (cached), against
//! a full verification (RS256, ES256) of a token seen for the first time.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::config::model::IdentitySection;
use gatehouse::config::span::Span;
use gatehouse::identity::{Identities, jwt};
use serde_json::json;
use std::hint::black_box;

fn token(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let now = jwt::now();
    let claims = json!({
        "iss": "https://idp.example.com", "aud": "gatehouse-api", "sub": "alice",
        "email": "alice@example.com", "groups": ["staff", "admins"],
        "iat": now, "exp": now + 3600,
    });
    let signing = format!(
        "{}.{}",
        B64.encode(json!({"alg": alg, "kid": kid, "typ": "JWT"}).to_string()),
        B64.encode(claims.to_string())
    );
    let sig = sign(signing.as_bytes());
    format!("{signing}.{}", B64.encode(sig))
}

fn bench(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let p = ec.public_key().as_ref().to_vec();
    let jwks = json!({"keys": [
        {"kty": "RSA", "kid": "r", "n": B64.encode(rsa.public_key().modulus().big_endian_without_leading_zero()),
         "e": B64.encode(rsa.public_key().exponent().big_endian_without_leading_zero())},
        {"kty": "EC", "kid": "e", "crv": "P-256", "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])},
    ]});
    let dir = std::env::temp_dir().join(format!("gh-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, jwks.to_string()).unwrap();
    let mut s = IdentitySection::new("corp", Span::new("bench.cfg", 1));
    s.issuer = Some("https://idp.example.com".into());
    s.audiences = vec!["gatehouse-api".into()];
    s.jwks_file = Some(file);
    let ids = Identities::compile(&[s]).unwrap();
    let p = ids.get("corp").unwrap();
    let rs = token("RS256", "r", |m| {
        let mut sig = vec![0; rsa.public_modulus_len()];
        rsa.sign(&signature::RSA_PKCS1_SHA256, &rng, m, &mut sig)
            .unwrap();
        sig
    });
    let es = token("ES256", "e", |m| {
        ec.sign(&rng, m).unwrap().as_ref().to_vec()
    });
    let keys = p.keys.current();
    c.bench_function("identity/verify_rs256_uncached", |b| {
        b.iter(|| jwt::verify(black_box(&rs), &keys, p.rules(), jwt::now()).unwrap())
    });
    c.bench_function("identity/verify_es256_uncached", |b| {
        b.iter(|| jwt::verify(black_box(&es), &keys, p.rules(), jwt::now()).unwrap())
    });
    p.bearer(&rs).unwrap();
    // Per request for a token seen before: the unknown-key check reads the header's
    // kid, then the cached validation.
    c.bench_function("identity/bearer_cached_per_request", |b| {
        b.iter(|| {
            let kid = jwt::kid_of(black_box(&rs)).unwrap();
            black_box(keys.has_kid(&kid));
            p.bearer(black_box(&rs)).unwrap()
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
