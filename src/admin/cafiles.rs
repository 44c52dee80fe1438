//! `new|set|commit|abort|show|del ssl ca-file` and the same for `crl-file`
//! (management.txt 9.3), with HAProxy 2.6's replies, its quirks included. A CA or CRL
//! file a bind verifies client certificates with (or a server line, servers' ones) is copied into a transaction, replaced
//! by a PEM payload, then committed — new handshakes verify with it at once, those under
//! way and the open connections are left alone — or aborted. One transaction per kind.
//! The binds and the swap are `crate::tls::store`, the servers' `crate::tls::server_cafiles`;
//! the contents `crate::tls::cafiles`.
//! A reload starts a new worker, which reads the files again: what was committed here
//! and not written to the file is lost, as with HAProxy.

use super::session::Outcome;
use super::{Level, table::need};
use crate::tls::cafiles::{CaContent, Kind};
use crate::tls::{server_cafiles, store};
use std::sync::{Mutex, MutexGuard};

/// A CA or CRL file being prepared (HAProxy's `cafile_transaction`/`crlfile_transaction`).
struct Transaction {
    path: String,
    content: CaContent,
}

static CA_TX: Mutex<Option<Transaction>> = Mutex::new(None);
static CRL_TX: Mutex<Option<Transaction>> = Mutex::new(None);

/// Files made by `new ssl ca-file|crl-file` (used by no bind; `None` until committed:
/// HAProxy's "Empty").
static CREATED: Mutex<Vec<(Kind, String, Option<CaContent>)>> = Mutex::new(Vec::new());

fn tx(kind: Kind) -> MutexGuard<'static, Option<Transaction>> {
    match kind {
        Kind::Ca => &CA_TX,
        Kind::Crl => &CRL_TX,
    }
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

fn created() -> MutexGuard<'static, Vec<(Kind, String, Option<CaContent>)>> {
    CREATED.lock().unwrap_or_else(|e| e.into_inner())
}

/// HAProxy's words for a kind: (`ca-file`, `CA`, `CAs`).
fn words(kind: Kind) -> (&'static str, &'static str, &'static str) {
    match kind {
        Kind::Ca => ("ca-file", "CA", "CAs"),
        Kind::Crl => ("crl-file", "CRL", "CRLs"),
    }
}

/// Where file `name` is: used by a bind or a server with `crt`, used only by servers
/// without `crt` (HAProxy links those to no instance), or made at runtime (`Some(None)`
/// while empty).
enum Found {
    Used(CaContent),
    Unlinked(CaContent),
    Created(Option<CaContent>),
}

fn find(kind: Kind, name: &str) -> Option<Found> {
    if let Some(c) = store::cafile(kind, name) {
        return Some(Found::Used((*c).clone()));
    }
    if let Some((c, linked)) = server_cafiles::file(kind, name) {
        return Some(if linked {
            Found::Used((*c).clone())
        } else {
            Found::Unlinked((*c).clone())
        });
    }
    created()
        .iter()
        .find(|(k, n, _)| *k == kind && n == name)
        .map(|(_, _, c)| Found::Created(c.clone()))
}

/// `new ssl ca-file|crl-file <file>`.
pub fn new(kind: Kind, level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let (cmd, upper, _) = words(kind);
    if arg.is_empty() {
        return Outcome::text(format!("'new ssl {cmd}' expects a filename\n"));
    }
    // CA and CRL files share HAProxy's tree: a name is taken by either kind.
    if find(Kind::Ca, arg).is_some() || find(Kind::Crl, arg).is_some() {
        return Outcome::text(format!("{upper} file '{arg}' already exists!\n"));
    }
    created().push((kind, arg.to_owned(), None));
    Outcome::text(format!("New {upper} file created '{arg}'!\n"))
}

/// `set ssl ca-file|crl-file <file> <<payload`.
pub fn set(kind: Kind, level: Level, arg: &str, payload: Option<&str>) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let (cmd, upper, plural) = words(kind);
    let Some(payload) = payload.filter(|_| !arg.is_empty()) else {
        return Outcome::text(format!(
            "'set ssl {cmd} expects a filename and {plural} as a payload\n"
        ));
    };
    let fail = |msg: String| Outcome::text(format!("{msg}Can't update {arg}!\n"));
    let mut t = tx(kind);
    if let Some(cur) = t.as_ref()
        && cur.path != arg
    {
        return fail(format!(
            "The ongoing transaction is about '{}' but you are trying to set '{arg}'\n",
            cur.path
        ));
    }
    if t.is_none() && find(kind, arg).is_none() {
        return fail(format!(
            "Can't replace a {upper} file which is not referenced by the configuration!\n"
        ));
    }
    let content = CaContent::from_pem(payload.as_bytes());
    // HAProxy reads certificates only from a CA payload, certificates and CRLs from a
    // CRL payload; a payload with none of them is refused.
    let valid = match kind {
        Kind::Ca => !content.certs.is_empty(),
        Kind::Crl => !content.certs.is_empty() || !content.crls.is_empty(),
    };
    if !valid {
        return fail("Invalid payload\n".into());
    }
    let created = t.is_none();
    *t = Some(Transaction {
        path: arg.to_owned(),
        content,
    });
    Outcome::text(format!(
        "transaction {} for {upper} {arg}!\n",
        if created { "created" } else { "updated" }
    ))
}

/// `commit ssl ca-file|crl-file <file>`.
pub fn commit(kind: Kind, level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if arg.is_empty() {
        // HAProxy 2.6 says `ca-file` for both kinds.
        return Outcome::text("'commit ssl ca-file expects a filename\n");
    }
    let fail = |msg: String| Outcome::text(format!("{msg}Can't commit {arg}!\n"));
    let mut t = tx(kind);
    let Some(cur) = t.as_ref() else {
        return fail("No ongoing transaction! !\n".into());
    };
    if cur.path != arg {
        return fail(format!(
            "The ongoing transaction is about '{}' but you are trying to set '{arg}'\n",
            cur.path
        ));
    }
    let mut out = format!("Committing {arg}");
    let result = match find(kind, arg) {
        // The binds then the servers using it (each all or nothing).
        Some(Found::Used(_) | Found::Unlinked(_)) => {
            store::install_cafile(kind, arg, cur.content.clone()).and_then(|binds| {
                Ok(binds + server_cafiles::install(kind, arg, cur.content.clone())?)
            })
        }
        _ => {
            let mut made = created();
            match made.iter_mut().find(|(k, n, _)| *k == kind && n == arg) {
                Some(slot) => slot.2 = Some(cur.content.clone()),
                // Deleted meanwhile: committing makes it again, unused.
                None => made.push((kind, arg.to_owned(), Some(cur.content.clone()))),
            }
            Ok(0)
        }
    };
    match result {
        Ok(n) => {
            out.push_str(&".".repeat(n));
            out.push_str("\nSuccess!\n");
            *t = None;
        }
        Err(e) => out.push_str(&format!("\n{e}\nFailed!\n")),
    }
    Outcome::text(out)
}

/// `abort ssl ca-file|crl-file <file>`.
pub fn abort(kind: Kind, level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let (cmd, _, _) = words(kind);
    if arg.is_empty() {
        return Outcome::text(format!("'abort ssl {cmd}' expects a filename\n"));
    }
    let mut t = tx(kind);
    match t.as_ref() {
        None => Outcome::text("No ongoing transaction!\n"),
        Some(cur) if cur.path != arg => Outcome::text(format!(
            "The ongoing transaction is about '{}' but you are trying to abort a transaction for '{arg}'\n",
            cur.path
        )),
        Some(_) => {
            *t = None;
            Outcome::text(format!("Transaction aborted for certificate '{arg}'!\n"))
        }
    }
}

/// `del ssl ca-file|crl-file <file>`: only a file made at runtime and used by no bind.
pub fn del(kind: Kind, level: Level, arg: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let (cmd, upper, _) = words(kind);
    if arg.is_empty() {
        return Outcome::text(format!("'del ssl {cmd}' expects a {upper} file name\n"));
    }
    let why = if tx(kind).as_ref().is_some_and(|t| t.path == arg) {
        // HAProxy's message has no line feed of its own here.
        format!("ongoing transaction for the {upper} file '{arg}'")
    } else {
        match find(kind, arg) {
            None => format!("{upper} file '{arg}' doesn't exist!\n"),
            Some(Found::Used(_)) => format!("{upper} file '{arg}' in use, can't be deleted!\n"),
            Some(Found::Unlinked(_)) => {
                server_cafiles::forget(kind, arg);
                return Outcome::text(format!("{upper} file '{arg}' deleted!\n"));
            }
            Some(Found::Created(_)) => {
                created().retain(|(k, n, _)| !(*k == kind && n == arg));
                return Outcome::text(format!("{upper} file '{arg}' deleted!\n"));
            }
        }
    };
    Outcome::text(format!("Can't remove the {upper} file: {why}\n"))
}

/// `show ssl ca-file|crl-file [[*]<file>[:<index>]]`.
pub fn show(kind: Kind, level: Level, arg: &str) -> Outcome {
    // HAProxy 2.6 answers a `user` level so.
    if level < Level::Operator {
        return Outcome::text("Can't allocate memory!\n");
    }
    let (_, upper, _) = words(kind);
    let count = |c: &CaContent| match kind {
        Kind::Ca => format!(" - {} certificate(s)", c.certs.len()),
        Kind::Crl => String::new(),
    };
    if arg.is_empty() {
        let mut out = String::new();
        if let Some(t) = tx(kind).as_ref() {
            out.push_str(&format!(
                "# transaction\n*{}{}\n",
                t.path,
                count(&t.content)
            ));
        }
        out.push_str("# filename\n");
        let mut all: Vec<(String, Option<CaContent>)> = Vec::new();
        for (n, c) in store::cafiles(kind)
            .into_iter()
            .chain(server_cafiles::files(kind))
        {
            if !all.iter().any(|(m, _)| *m == n) {
                all.push((n, Some((*c).clone())));
            }
        }
        for (k, n, c) in created().iter() {
            if *k == kind && !all.iter().any(|(m, _)| m == n) {
                all.push((n.clone(), c.clone()));
            }
        }
        // HAProxy's tree order: bytes.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        for (n, c) in all {
            out.push_str(&n);
            out.push_str(&count(&c.unwrap_or_default()));
            out.push('\n');
        }
        return Outcome::text(out);
    }
    let not_found = || Outcome::text(format!("Can't display the {upper} file : Not found!\n"));
    let (name, index) = match arg.split_once(':') {
        Some((n, i)) => match i.parse::<usize>() {
            Ok(i) if i > 0 => (n, Some(i)),
            _ => {
                return Outcome::text(format!("wrong {upper} index after colons in '{arg}'!"));
            }
        },
        None => (arg, None),
    };
    let (shown, status, content) = match name.strip_prefix('*') {
        Some(p) => {
            let p = p.strip_prefix('\\').unwrap_or(p);
            match tx(kind).as_ref() {
                Some(t) if t.path == p => (format!("*{p}"), "Unused", Some(t.content.clone())),
                _ => return not_found(),
            }
        }
        None => {
            let name = name.strip_prefix('\\').unwrap_or(name);
            match find(kind, name) {
                Some(Found::Used(c)) => (name.to_owned(), "Used", Some(c)),
                Some(Found::Unlinked(c)) => (name.to_owned(), "Unused", Some(c)),
                Some(Found::Created(c)) => (name.to_owned(), "Unused", c),
                None => return not_found(),
            }
        }
    };
    let head = format!(
        "Filename: {shown}\nStatus: {}\n",
        if content.is_none() { "Empty" } else { status }
    );
    let Some(content) = content else {
        // HAProxy writes the head of a CA file with its first certificate only.
        return Outcome::text(if kind == Kind::Crl {
            head
        } else {
            String::new()
        });
    };
    let mut out = head;
    let mut shown_any = false;
    match kind {
        Kind::Ca => {
            for (i, c) in content.certs.iter().enumerate() {
                if index.is_some_and(|want| want != i + 1) {
                    continue;
                }
                out.push_str(&format!(" \nCertificate #{}:\n", i + 1));
                out.push_str(&crate::tls::cert_info::cert_lines(c));
                shown_any = true;
            }
            if !shown_any {
                return Outcome::text(String::new());
            }
        }
        Kind::Crl => {
            for (i, c) in content.crls.iter().enumerate() {
                if index.is_some_and(|want| want != i + 1) {
                    continue;
                }
                out.push_str(&format!(" \nCertificate Revocation List #{}:\n", i + 1));
                out.push_str(&crate::tls::crl_info::describe(c));
            }
        }
    }
    Outcome::text(out)
}
