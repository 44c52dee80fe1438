//! Fuzz target: arbitrary bytes as a bearer token (`http-request authenticate`) and as a
//! JWKS document (`jwks-file`, keys fetched from the identity provider). Parsing and
//! verification must never panic, and no fuzzed token may ever verify against the fixed
//! key set: the fuzzer holds no private key, so an accepted token would be a forgery
//! (algorithm confusion, `none`, a key mix-up).
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run jwt_token` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::identity::jwks::KeySet;
use gatehouse::identity::jwt::{Rules, parse, verify};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Public keys only: an EC P-256 key and an Ed25519 key, made once with openssl.
const JWKS: &str = r#"{"keys":[
 {"kty":"EC","crv":"P-256","kid":"ec","alg":"ES256",
  "x":"9RwASgV2s3H6lXZF6DfeAu2GmU-qO0NfZr2Nf5jQBtY","y":"4AVbPxMzWFNc2QYvR6NCgafgSMLs5_yNb8SdWP-IbFA"},
 {"kty":"OKP","crv":"Ed25519","kid":"ed","alg":"EdDSA","x":"_-Plu8NGL46dg4FTKNqIycOGZpUjZozfVX29AKzZ6cY"}]}"#;

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| KeySet::parse(JWKS.as_bytes()).expect("the fixed JWKS parses"))
}

fuzz_target!(|data: &[u8]| {
    let _ = KeySet::parse(data);
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse(token);
    let rules = Rules {
        algs: ["RS256", "PS256", "ES256", "EdDSA", "HS256", "none"]
            .map(String::from)
            .to_vec(),
        issuer: None,
        audiences: vec![],
        skew: 60,
    };
    assert!(verify(token, keys(), &rules, 1_800_000_000).is_err(), "a forged token verified");
});
