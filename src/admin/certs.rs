//! `new ssl cert`, `set ssl cert`, `commit ssl cert`, `abort ssl cert`, `show ssl cert`
//! and `del ssl cert`
//! (management.txt 9.3), with HAProxy 2.6's replies: a certificate served by a bind
//! line is copied into a transaction, changed by PEM payloads (the bundle, `FILE.key`,
//! base64 `FILE.ocsp`), then committed — new handshakes get it at once, no reload —
//! or aborted. The store and the swap are `crate::tls::store`.

use super::session::Outcome;
use super::{Level, table::need};
use crate::tls::store::{self, Stored, Transaction};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The files `set ssl cert` takes, by extension (HAProxy's `cert_exts`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ext {
    Pem,
    Key,
    Ocsp,
    /// `.issuer`, `.sctl`: not supported yet.
    Other(&'static str),
}

fn ext_of(arg: &str) -> (&str, Ext) {
    for (suffix, ext) in [
        (".key", Ext::Key),
        (".ocsp", Ext::Ocsp),
        (".issuer", Ext::Other("issuer")),
        (".sctl", Ext::Other("sctl")),
    ] {
        if let Some(base) = arg.strip_suffix(suffix) {
            return (base, ext);
        }
    }
    (arg, Ext::Pem)
}

/// `set ssl cert <file> <<payload`.
pub fn set(level: Level, arg: &str, payload: Option<&str>) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let Some(payload) = payload.filter(|_| !arg.is_empty()) else {
        return Outcome::text("'set ssl cert expects a filename and a certificate as a payload\n");
    };
    let fail = |msg: String| Outcome::text(format!("{msg}Can't update {arg}!\n"));
    let (path, ext) = ext_of(arg);
    let mut tx = store::transaction();
    let mut next = match tx.as_ref() {
        Some(t) if t.path != path => {
            return fail(format!(
                "The ongoing transaction is about '{}' but you are trying to set '{path}'\n",
                t.path
            ));
        }
        Some(t) => t.clone(),
        None => match store::stored(path) {
            Some(Stored::Used(ck) | Stored::Unused(ck)) => Transaction::of(path, &ck),
            Some(Stored::Empty) => Transaction::empty(path),
            None => {
                return fail(
                    "Can't replace a certificate which is not referenced by the configuration!\n"
                        .into(),
                );
            }
        },
    };
    let provider = crate::tls::provider();
    match ext {
        Ext::Pem => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(payload.as_bytes())
                    .filter_map(Result::ok)
                    .collect();
            if chain.is_empty() {
                return fail(format!(
                    "unable to load certificate from file '{path}'.\nCan't load the payload\n"
                ));
            }
            // As HAProxy: the bundle replaces the certificate, chain and key (none if
            // the payload has none) and drops the OCSP response.
            next.chain = chain;
            next.key = PrivateKeyDer::from_pem_slice(payload.as_bytes())
                .ok()
                .and_then(|k| provider.key_provider.load_private_key(k).ok());
            next.ocsp = None;
        }
        Ext::Key => {
            let key = PrivateKeyDer::from_pem_slice(payload.as_bytes())
                .ok()
                .and_then(|k| provider.key_provider.load_private_key(k).ok());
            match key {
                Some(k) => next.key = Some(k),
                None => {
                    return fail(format!(
                        "unable to load private key from file '{path}'.\nCan't load the payload\n"
                    ));
                }
            }
        }
        Ext::Ocsp => {
            use base64::Engine;
            let text: String = payload.split_whitespace().collect();
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(der) if !der.is_empty() => next.ocsp = Some(der),
                _ => {
                    // HAProxy's message has no line feed before the next.
                    return fail(
                        "Error reading OCSP response in base64 formatCan't load the payload\n"
                            .to_owned(),
                    );
                }
            }
        }
        Ext::Other(e) => {
            return fail(format!(
                "'.{e}' files are a HAProxy feature that gatehouse does not support yet.\n"
            ));
        }
    }
    let created = tx.is_none();
    *tx = Some(next);
    Outcome::text(format!(
        "Transaction {} for certificate {path}!\n",
        if created { "created" } else { "updated" }
    ))
}

/// `commit ssl cert <file>`.
pub fn commit(level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if arg.is_empty() {
        return Outcome::text("'commit ssl cert expects a filename\n");
    }
    let fail = |msg: String| Outcome::text(format!("{msg}Can't commit {arg}!\n"));
    let mut tx = store::transaction();
    let Some(t) = tx.as_ref() else {
        return fail("No ongoing transaction! !\n".into());
    };
    if t.path != arg {
        return fail(format!(
            "The ongoing transaction is about '{}' but you are trying to set '{arg}'\n",
            t.path
        ));
    }
    let ck = match t.certified() {
        Ok(ck) => ck,
        Err("inconsistencies") => {
            return fail(format!(
                "inconsistencies between private key and certificate loaded '{}'.\n",
                t.path
            ));
        }
        Err(msg) => return fail(msg.into()),
    };
    let mut out = format!("Committing {}", t.path);
    match store::install(&t.path, ck) {
        Ok(n) => {
            out.push_str(&".".repeat(n));
            out.push_str("\nSuccess!\n");
            *tx = None;
        }
        Err(e) => out.push_str(&format!("\n{e}\nFailed!\n")),
    }
    Outcome::text(out)
}

/// `abort ssl cert <file>`.
pub fn abort(level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if arg.is_empty() {
        return Outcome::text("'abort ssl cert' expects a filename\n");
    }
    let mut tx = store::transaction();
    match tx.as_ref() {
        None => Outcome::text("No ongoing transaction!\n"),
        Some(t) if t.path != arg => Outcome::text(format!(
            "The ongoing transaction is about '{}' but you are trying to abort a transaction for '{arg}'\n",
            t.path
        )),
        Some(_) => {
            *tx = None;
            Outcome::text(format!("Transaction aborted for certificate '{arg}'!\n"))
        }
    }
}

/// `show ssl cert [[*]<file>]`.
pub fn show(level: Level, arg: &str) -> Outcome {
    // HAProxy 2.6 answers a `user` level so.
    if level < Level::Operator {
        return Outcome::text("Can't allocate memory!\n");
    }
    let tx = store::transaction().clone();
    if arg.is_empty() {
        let mut out = String::new();
        if let Some(t) = &tx {
            out.push_str(&format!("# transaction\n*{}\n", t.path));
        }
        out.push_str("# filename\n");
        for p in store::paths() {
            out.push_str(&p);
            out.push('\n');
        }
        return Outcome::text(out);
    }
    const MISSING: &str =
        "Can't display the certificate: Not found or the certificate is a bundle!\n";
    if arg.ends_with(".ocsp") {
        return Outcome::text(
            "Showing an OCSP response ('show ssl cert <file>.ocsp') is a HAProxy feature that gatehouse does not support yet.\n",
        );
    }
    let (name, status, chain, ocsp) = match arg.strip_prefix('*') {
        Some(p) => match &tx {
            Some(t) if t.path == p => (arg.to_owned(), "Unused", t.chain.clone(), t.ocsp.clone()),
            _ => return Outcome::text(MISSING),
        },
        None => match store::stored(arg) {
            Some(Stored::Used(ck)) => (arg.to_owned(), "Used", ck.cert.clone(), ck.ocsp.clone()),
            Some(Stored::Unused(ck)) => {
                (arg.to_owned(), "Unused", ck.cert.clone(), ck.ocsp.clone())
            }
            Some(Stored::Empty) => (arg.to_owned(), "Empty", Vec::new(), None),
            None => return Outcome::text(MISSING),
        },
    };
    Outcome::text(format!(
        "Filename: {name}\nStatus: {status}\n{}",
        crate::tls::cert_info::describe(&chain, ocsp.as_deref())
    ))
}

/// `new ssl cert <file>`: an empty certificate to fill with `set ssl cert` and serve with
/// `add ssl crt-list`.
pub fn new(level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if arg.is_empty() {
        return Outcome::text("'new ssl cert' expects a filename\n");
    }
    if store::new_cert(arg) {
        Outcome::text(format!("New empty certificate store '{arg}'!\n"))
    } else {
        Outcome::text(format!("Certificate '{arg}' already exists!\n"))
    }
}

/// `del ssl cert <file>`: only a certificate no bind serves.
pub fn del(level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if arg.is_empty() {
        return Outcome::text("'del ssl cert' expects a certificate name\n");
    }
    let result = if store::transaction().as_ref().is_some_and(|t| t.path == arg) {
        // HAProxy's message has no line feed of its own here.
        Err(format!("ongoing transaction for the certificate '{arg}'"))
    } else {
        store::del_cert(arg)
    };
    match result {
        Ok(()) => Outcome::text(format!("Certificate '{arg}' deleted!\n")),
        Err(why) => Outcome::text(format!("Can't remove the certificate: {why}\n")),
    }
}
