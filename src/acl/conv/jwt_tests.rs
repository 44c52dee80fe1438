//! The JWT converters against tokens signed here: HAProxy 2.6's answers, case by case.

use super::*;
use crate::acl::conv::testing::{NoSource, s};
use crate::acl::conv::{apply, testing};
use crate::acl::fetch::Sample;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn unsigned(alg: &str) -> String {
    let h = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
    let p = b64(br#"{"sub":"alice","n":42,"f":3.5,"groups":["a","b"]}"#);
    format!("{h}.{p}")
}

fn hs256(secret: &[u8]) -> String {
    let t = unsigned("HS256");
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let sig = aws_lc_rs::hmac::sign(&k, t.as_bytes());
    format!("{t}.{}", b64(sig.as_ref()))
}

/// A P-256 key written as a PEM public key file, and a token it signed.
fn es256() -> (std::path::PathBuf, String) {
    let kp = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = kp.public_key().as_der().unwrap();
    let b = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    let path = std::env::temp_dir().join(format!(
        "gatehouse-jwt-{}-{}.pem",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::write(&path, pem).unwrap();
    let t = unsigned("ES256");
    let sig = kp.sign(&SystemRandom::new(), t.as_bytes()).unwrap();
    (path, format!("{t}.{}", b64(sig.as_ref())))
}

fn code(chain: &str, token: &str) -> Option<String> {
    testing::run(chain, Sample::Str(token.as_bytes())).unwrap()
}

#[test]
fn queries_read_the_decoded_header_and_payload() {
    let t = hs256(b"secret");
    assert_eq!(s("jwt_header_query('$.alg')", &t).as_deref(), Some("HS256"));
    assert_eq!(
        s("jwt_payload_query('$.sub')", &t).as_deref(),
        Some("alice")
    );
    assert_eq!(
        s("jwt_payload_query('$.n','int'),add(1)", &t).as_deref(),
        Some("43")
    );
    assert_eq!(s("jwt_payload_query('$.f')", &t).as_deref(), Some("3.5"));
    assert_eq!(
        s("jwt_payload_query('$.groups[1]')", &t).as_deref(),
        Some("b")
    );
    assert_eq!(
        s("jwt_header_query", &t).as_deref(),
        Some(r#"{"alg":"HS256","typ":"JWT"}"#)
    );
    // The header of a word without dots is the word; a payload needs a dot.
    let h = b64(br#"{"alg":"x"}"#);
    assert_eq!(s("jwt_header_query('$.alg')", &h).as_deref(), Some("x"));
    assert_eq!(s("jwt_payload_query", &h), None);
    assert_eq!(s("jwt_payload_query('$.sub')", "a.%%%.c"), None);
    let e = testing::run("jwt_payload_query('$.a','str')", Sample::Int(1)).unwrap_err();
    assert!(e.contains("only supports \"int\""), "{e}");
}

#[test]
fn hmac_and_none_answer_haproxys_codes() {
    let t = hs256(b"secret");
    assert_eq!(code("jwt_verify(HS256,secret)", &t).as_deref(), Some("1"));
    assert_eq!(code("jwt_verify(HS256,other)", &t).as_deref(), Some("0"));
    assert_eq!(code("jwt_verify(HS384,secret)", &t).as_deref(), Some("0"));
    // Tampered payload.
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[1] = b64(br#"{"sub":"mallory"}"#);
    assert_eq!(
        code("jwt_verify(HS256,secret)", &parts.join(".")).as_deref(),
        Some("0")
    );
    // Not three parts, an empty or undecodable signature: invalid token.
    for bad in ["a.b", "a.b.c.d", "", "a.b.", "a.b.c%"] {
        assert_eq!(
            code("jwt_verify(HS256,secret)", bad).as_deref(),
            Some("-3"),
            "{bad}"
        );
    }
    // `none` (asked for by the caller): an empty signature verifies.
    let none = unsigned("none");
    assert_eq!(code("jwt_verify(none,x)", &none).as_deref(), Some("1"));
    assert_eq!(
        code("jwt_verify(none,x)", &format!("{none}.")).as_deref(),
        Some("1")
    );
    assert_eq!(code("jwt_verify(none,x)", &t).as_deref(), Some("0"));
    // Unknown and unmanaged algorithms are refused at load.
    let e = testing::run("jwt_verify(HS257,x)", Sample::Int(1)).unwrap_err();
    assert!(e.contains("unknown JWT algorithm: HS257"), "{e}");
    let e = testing::run("jwt_verify(PS256,x)", Sample::Int(1)).unwrap_err();
    assert!(e.contains("RSASSA-PSS"), "{e}");
}

#[test]
fn public_keys_come_from_pem_files_named_at_load() {
    let (path, t) = es256();
    let p = path.display().to_string();
    assert_eq!(
        code(&format!("jwt_verify(ES256,{p})"), &t).as_deref(),
        Some("1")
    );
    // Another key, a key for another algorithm, a file never loaded.
    let (other, _) = es256();
    let o = other.display().to_string();
    assert_eq!(
        code(&format!("jwt_verify(ES256,{o})"), &t).as_deref(),
        Some("0")
    );
    assert_eq!(
        code(&format!("jwt_verify(RS256,{p})"), &t).as_deref(),
        Some("0")
    );
    assert_eq!(
        code("jwt_verify(ES256,/nonexistent/key.pem)", &t).as_deref(),
        Some("-5")
    );
    // A signature of odd length cannot be split into R and S.
    let odd = format!("{t}A");
    assert_eq!(
        code(&format!("jwt_verify(ES256,{p})"), &odd).as_deref(),
        Some("-3")
    );
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&other);
}

/// A transaction whose variables name the algorithm and key.
struct Vars(Vec<(&'static str, String)>);

impl SampleSource for Vars {
    fn src(&self) -> Option<std::net::SocketAddr> {
        None
    }
    fn dst(&self) -> Option<std::net::SocketAddr> {
        None
    }
    fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .is_some_and(|(_, v)| each(v.as_bytes()))
    }
}

fn run_with(chain: &str, token: &str, src: &dyn SampleSource) -> Option<String> {
    let e = crate::acl::compile::Expr::parse(&format!("always_true,{chain}")).unwrap();
    let mut out = None;
    apply(&e.convs, src, Sample::Str(token.as_bytes()), &mut |s| {
        if let Sample::Int(n) = s {
            out = Some(n.to_string());
        }
        true
    });
    out
}

#[test]
fn variables_give_the_algorithm_and_key_at_run_time() {
    let (path, t) = es256();
    let p = path.display().to_string();
    // The file is loaded because a constant names it somewhere.
    code(&format!("jwt_verify(ES256,{p})"), &t);
    let vars = Vars(vec![("txn.alg", "ES256".into()), ("txn.key", p.clone())]);
    assert_eq!(
        run_with("jwt_verify(txn.alg,txn.key)", &t, &vars).as_deref(),
        Some("1")
    );
    let vars = Vars(vec![("txn.alg", "XX999".into()), ("txn.key", p)]);
    assert_eq!(
        run_with("jwt_verify(txn.alg,txn.key)", &t, &vars).as_deref(),
        Some("-1")
    );
    let vars = Vars(vec![("txn.alg", "PS256".into())]);
    assert_eq!(
        run_with("jwt_verify(txn.alg,/k.pem)", &t, &vars).as_deref(),
        Some("-2")
    );
    // An unset variable leaves the sample absent.
    assert_eq!(run_with("jwt_verify(txn.alg,txn.key)", &t, &NoSource), None);
    let _ = std::fs::remove_file(&path);
}
