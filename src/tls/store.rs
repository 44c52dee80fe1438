//! The certificates the running binds serve, by file name, and their replacement while
//! they serve (HAProxy's ckch store behind `set ssl cert`, `commit ssl cert`, `abort ssl
//! cert` and `show ssl cert`).
//!
//! Each `bind … ssl` line compiles to a [`LiveBind`]: its rustls configuration behind
//! an `ArcSwap`, and the recipe to compile it again. `commit ssl cert FILE` compiles
//! again every live bind that serves FILE with the new certificate in its place (the
//! names it answers for come from the new certificate, unless a crt-list line's filters
//! named them), then swaps them all: new handshakes get the new certificate, those
//! under way finish with the old one. A failure anywhere swaps nothing.
//!
//! One transaction at a time, as HAProxy's `ckchs_transaction`: a copy of a served
//! certificate that `set ssl cert` changes (the PEM bundle, `FILE.key`, `FILE.ocsp`).
//!
//! A reload reads the files again, as HAProxy's does: a certificate committed over the
//! socket and not written to its file is lost on reload.

use super::cafiles::{CaContent, CaFiles, Kind};
use super::certs::{self, CertEntry, LineOpts, ListLine};
use super::server::{self, BindTlsRt};
use super::{Bases, TlsError};
use crate::config::model::{BindTls, BindTlsDefaults};
use arc_swap::ArcSwap;
use rustls::sign::{CertifiedKey, SigningKey};
use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// A bind compiled again, with the certificates it then serves.
type Rebuilt = (Arc<BindTlsRt>, Vec<CertEntry>);

/// A bind line's TLS, replaceable while it serves.
pub struct LiveBind {
    current: ArcSwap<BindTlsRt>,
    tls: BindTls,
    defaults: BindTlsDefaults,
    bases: Bases,
    /// The certificates `current` serves, in load order.
    entries: Mutex<Vec<CertEntry>>,
    /// The CA and CRL files `current` verifies client certificates with (locked after
    /// `entries` when both are).
    files: Mutex<CaFiles>,
    /// Where the bind line is (`FILE:LINE`), for `del ssl crt-list`'s refusal.
    at: String,
    /// The crt-lists it loads, with their line counts (locked after `entries`).
    lists: Mutex<Vec<(String, usize)>>,
}

impl std::fmt::Debug for LiveBind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveBind")
            .field("current", &self.current.load())
            .finish_non_exhaustive()
    }
}

impl LiveBind {
    /// The configuration for a handshake starting now.
    pub fn current(&self) -> Arc<BindTlsRt> {
        self.current.load_full()
    }

    fn entries(&self) -> MutexGuard<'_, Vec<CertEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn files(&self) -> MutexGuard<'_, CaFiles> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This bind compiled again with `key` in place of the certificate of `path`
    /// (`None` when it does not serve that file).
    fn rebuilt(&self, path: &str, key: &Arc<CertifiedKey>) -> Result<Option<Rebuilt>, TlsError> {
        let mut entries = self.entries().clone();
        let new_names = key
            .cert
            .first()
            .map(|c| certs::names_of(c).map_err(TlsError))
            .transpose()?
            .unwrap_or_default();
        let mut found = false;
        for e in entries.iter_mut().filter(|e| shown(&e.path) == path) {
            // Names that are the certificate's own (no crt-list filter named them)
            // follow the new certificate.
            let own = e
                .key
                .cert
                .first()
                .and_then(|c| certs::names_of(c).ok())
                .unwrap_or_default();
            if e.names == own {
                e.names.clone_from(&new_names);
            }
            e.key = key.clone();
            found = true;
        }
        if !found {
            return Ok(None);
        }
        let mut files = self.files().clone();
        let rt = server::compile(&self.tls, &self.defaults, &self.bases, &entries, &mut files)?;
        Ok(Some((rt, entries)))
    }
}

/// The name a certificate file is known by (`show ssl cert`): its path, after
/// `crt-base`, as the configuration wrote it.
fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// Every live bind, oldest first (those of a snapshot still finishing its connections
/// after a reload too).
static BINDS: Mutex<Vec<Weak<LiveBind>>> = Mutex::new(Vec::new());

fn binds() -> Vec<Arc<LiveBind>> {
    let mut reg = BINDS.lock().unwrap_or_else(|e| e.into_inner());
    reg.retain(|w| w.strong_count() > 0);
    reg.iter().filter_map(Weak::upgrade).collect()
}

/// Loads and compiles a bind line's TLS settings (`b.ssl` set) and registers it for
/// `commit ssl cert`; `at` is where the line is (`FILE:LINE`).
pub fn bind(
    b: &BindTls,
    d: &BindTlsDefaults,
    bases: &Bases,
    at: &str,
) -> Result<Arc<LiveBind>, TlsError> {
    let entries = server::load_entries(b, bases)?;
    let lists = b
        .crt
        .iter()
        .map(|c| bases.crt(c))
        .filter(|p| p.is_dir())
        .map(|p| (certs::dir_list_name(&p), 0))
        .chain(b.crt_list.iter().map(|l| {
            let p = bases.crt(l);
            (p.display().to_string(), certs::line_count(&p))
        }))
        .collect();
    let mut files = CaFiles::default();
    let rt = server::compile(b, d, bases, &entries, &mut files)?;
    let live = Arc::new(LiveBind {
        current: ArcSwap::new(rt),
        tls: b.clone(),
        defaults: d.clone(),
        bases: bases.clone(),
        entries: Mutex::new(entries),
        files: Mutex::new(files),
        at: at.to_owned(),
        lists: Mutex::new(lists),
    });
    let mut reg = BINDS.lock().unwrap_or_else(|e| e.into_inner());
    reg.retain(|w| w.strong_count() > 0);
    reg.push(Arc::downgrade(&live));
    Ok(live)
}

/// The file names of every certificate stored (served, or known to no bind: made by
/// `new ssl cert` or taken out of every crt-list), sorted as HAProxy's tree sorts them.
pub fn paths() -> Vec<String> {
    let mut out: Vec<String> = binds()
        .iter()
        .flat_map(|b| {
            b.entries()
                .iter()
                .map(|e| shown(&e.path))
                .collect::<Vec<_>>()
        })
        .collect();
    out.extend(unused().iter().map(|(p, _)| p.clone()));
    out.sort();
    out.dedup();
    out
}

/// The certificate served for file `path` (by the newest bind that serves it).
pub fn served(path: &str) -> Option<Arc<CertifiedKey>> {
    binds().iter().rev().find_map(|b| {
        b.entries()
            .iter()
            .find(|e| shown(&e.path) == path)
            .map(|e| e.key.clone())
    })
}

/// Serves `key` for file `path` in every bind that serves it; how many binds changed.
/// Nothing changes when one of them fails to compile.
pub fn install(path: &str, key: Arc<CertifiedKey>) -> Result<usize, TlsError> {
    let mut ready = Vec::new();
    for b in binds() {
        if let Some(next) = b.rebuilt(path, &key)? {
            ready.push((b, next));
        }
    }
    let n = ready.len();
    for (b, (rt, entries)) in ready {
        let mut held = b.entries();
        b.current.store(rt);
        *held = entries;
    }
    if n == 0
        && let Some(slot) = unused().iter_mut().find(|(p, _)| p == path)
    {
        slot.1 = Some(key);
    }
    Ok(n)
}

/// The certificate being prepared by `set ssl cert` (HAProxy's `ckchs_transaction`).
#[derive(Clone)]
pub struct Transaction {
    /// The file name of the certificate it replaces.
    pub path: String,
    /// The certificate and its chain (empty for a store `new ssl cert` made, until a
    /// PEM bundle is set).
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key, if the last PEM bundle had one or `FILE.key` set it.
    pub key: Option<Arc<dyn SigningKey>>,
    /// The OCSP response to staple (`FILE.ocsp`); a new PEM bundle drops it.
    pub ocsp: Option<Vec<u8>>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("path", &self.path)
            .field("chain", &self.chain.len())
            .field("key", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl Transaction {
    /// An empty certificate for `path` (a store `new ssl cert` made).
    pub fn empty(path: &str) -> Transaction {
        Transaction {
            path: path.to_owned(),
            chain: Vec::new(),
            key: None,
            ocsp: None,
        }
    }

    /// A copy of the certificate served for `path`.
    pub fn of(path: &str, served: &CertifiedKey) -> Transaction {
        Transaction {
            path: path.to_owned(),
            chain: served.cert.clone(),
            key: Some(served.key.clone()),
            ocsp: served.ocsp.clone(),
        }
    }

    /// The certificate to serve, once its key is checked against it: `Err` holds
    /// HAProxy's reason.
    pub fn certified(&self) -> Result<Arc<CertifiedKey>, &'static str> {
        if self.chain.is_empty() {
            return Err("The transaction must contain at least a certificate and a private key!\n");
        }
        let key = self
            .key
            .clone()
            .ok_or("The transaction must contain at least a certificate and a private key!\n")?;
        let mut ck = CertifiedKey::new(self.chain.clone(), key);
        match ck.keys_match() {
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
            Err(_) => return Err("inconsistencies"),
        }
        ck.ocsp.clone_from(&self.ocsp);
        Ok(Arc::new(ck))
    }
}

/// The one transaction under way.
static TRANSACTION: Mutex<Option<Transaction>> = Mutex::new(None);

/// The transaction under way, to read or change.
pub fn transaction() -> MutexGuard<'static, Option<Transaction>> {
    TRANSACTION.lock().unwrap_or_else(|e| e.into_inner())
}

/// The contents of CA or CRL file `name` as the newest bind using it verifies with.
pub fn cafile(kind: Kind, name: &str) -> Option<Arc<CaContent>> {
    binds()
        .iter()
        .rev()
        .find_map(|b| b.files().used(kind, name))
}

/// The names of every CA or CRL file the binds use, with their contents.
pub fn cafiles(kind: Kind) -> Vec<(String, Arc<CaContent>)> {
    let mut out: Vec<(String, Arc<CaContent>)> = Vec::new();
    for b in binds().iter().rev() {
        let files = b.files();
        for n in files.names(kind) {
            if !out.iter().any(|(m, _)| m == n) {
                out.push((n.clone(), files.used(kind, n).unwrap_or_default()));
            }
        }
    }
    out
}

/// Verifies client certificates against `content` in place of CA or CRL file `name` in
/// every bind that uses it; how many certificate instances changed (HAProxy's
/// `ckch_inst`s: the certificates of those binds whose line uses the file). Nothing
/// changes when one of them fails to compile.
pub fn install_cafile(kind: Kind, name: &str, content: CaContent) -> Result<usize, TlsError> {
    let content = Arc::new(content);
    let mut ready = Vec::new();
    let mut instances = 0;
    for b in binds() {
        let entries = b.entries();
        let files = b.files();
        if files.used(kind, name).is_none() {
            continue;
        }
        let mut next = files.with(kind, name, content.clone());
        drop(files);
        let rt = server::compile(&b.tls, &b.defaults, &b.bases, &entries, &mut next)?;
        instances += entries
            .iter()
            .filter(|e| {
                let own = e.opts.as_ref().and_then(|o| match kind {
                    Kind::Ca => o.ca_file.clone(),
                    Kind::Crl => o.crl_file.clone(),
                });
                let line = match kind {
                    Kind::Ca => b.tls.ca_file.clone(),
                    Kind::Crl => b.tls.crl_file.clone(),
                };
                own.or(line)
                    .is_some_and(|p| b.bases.ca(&p).display().to_string() == name)
            })
            .count();
        drop(entries);
        ready.push((b, rt, next));
    }
    for (b, rt, files) in ready {
        let _entries = b.entries();
        b.current.store(rt);
        *b.files() = files;
    }
    Ok(instances)
}

/// Certificates no bind serves: made by `new ssl cert` (`None` until committed), or
/// taken out of every crt-list by `del ssl crt-list` (HAProxy keeps them in its store
/// until `del ssl cert`).
static UNUSED: Mutex<Vec<(String, Option<Arc<CertifiedKey>>)>> = Mutex::new(Vec::new());

fn unused() -> MutexGuard<'static, Vec<(String, Option<Arc<CertifiedKey>>)>> {
    UNUSED.lock().unwrap_or_else(|e| e.into_inner())
}

/// A certificate of the store, by file name.
pub enum Stored {
    /// Served by a bind.
    Used(Arc<CertifiedKey>),
    /// Known to no bind.
    Unused(Arc<CertifiedKey>),
    /// Made by `new ssl cert`, not committed yet.
    Empty,
}

/// The certificate stored for file `path`.
pub fn stored(path: &str) -> Option<Stored> {
    if let Some(k) = served(path) {
        return Some(Stored::Used(k));
    }
    unused()
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, k)| k.clone().map_or(Stored::Empty, Stored::Unused))
}

/// `new ssl cert <path>`: an empty store; `false` when the name is taken.
pub fn new_cert(path: &str) -> bool {
    if stored(path).is_some() {
        return false;
    }
    unused().push((path.to_owned(), None));
    true
}

/// `del ssl cert <path>`: forgets a certificate no bind serves; else HAProxy's reason.
pub fn del_cert(path: &str) -> Result<(), String> {
    match stored(path) {
        None => Err(format!("certificate '{path}' doesn't exist!\n")),
        Some(Stored::Used(_)) => Err(format!("certificate '{path}' in use, can't be deleted!\n")),
        Some(_) => {
            unused().retain(|(p, _)| p != path);
            Ok(())
        }
    }
}

/// The names of the crt-lists the binds load, sorted.
pub fn crt_lists() -> Vec<String> {
    let mut out: Vec<String> = binds()
        .iter()
        .flat_map(|b| {
            b.lists
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(n, _)| n.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The binds loading crt-list `list`.
fn binds_of(list: &str) -> Vec<Arc<LiveBind>> {
    binds()
        .into_iter()
        .filter(|b| {
            b.lists
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|(n, _)| n == list)
        })
        .collect()
}

/// The lines of crt-list `list` (certificate file and line), in order; `None` when no
/// bind loads it.
pub fn crt_list(list: &str) -> Option<Vec<(String, ListLine)>> {
    let b = binds_of(list).pop()?;
    let mut out: Vec<(String, ListLine)> = Vec::new();
    for e in b.entries().iter() {
        if let Some(l) = e.line.as_ref().filter(|l| l.list == list)
            && !out.iter().any(|(p, m)| *m == *l && *p == shown(&e.path))
        {
            out.push((shown(&e.path), l.clone()));
        }
    }
    Some(out)
}

/// Compiles each bind again with the entries `change` makes of its own, then swaps them
/// all; nothing changes when one fails.
fn recompile_each(
    binds: &[Arc<LiveBind>],
    change: impl Fn(&LiveBind, &mut Vec<CertEntry>),
) -> Result<(), TlsError> {
    let mut ready = Vec::new();
    for b in binds {
        let mut entries = b.entries().clone();
        change(b, &mut entries);
        let mut files = b.files().clone();
        let rt = server::compile(&b.tls, &b.defaults, &b.bases, &entries, &mut files)?;
        ready.push((b, rt, entries, files));
    }
    for (b, rt, entries, files) in ready {
        let mut held = b.entries();
        b.current.store(rt);
        *held = entries;
        *b.files() = files;
    }
    Ok(())
}

/// The certificate `add ssl crt-list <list> <cert>` names: `cert` under the `crt-base`
/// of the binds loading `list` when it is relative, as HAProxy prefixes it (and as a
/// crt-list file's lines are read); `cert` itself when no bind loads `list`.
pub fn crt_list_cert_path(list: &str, cert: &str) -> String {
    match binds_of(list).first() {
        Some(b) if !cert.starts_with('/') => b.bases.crt(Path::new(cert)).display().to_string(),
        _ => cert.to_owned(),
    }
}

/// Why `add ssl crt-list` did nothing.
#[derive(Debug)]
pub enum AddError {
    /// Refused before any work (HAProxy's "Can't edit the crt-list" reasons).
    Refused(String),
    /// A bind failed to compile with the new line.
    Failed(String),
}

/// `add ssl crt-list <list> <path> [opts] [filters]`: serves stored certificate `path`
/// on every bind loading `list`, as a line after its last; how many binds.
pub fn add_to_crt_list(
    list: &str,
    path: &str,
    opts: Option<Arc<LineOpts>>,
    filters: &[&str],
) -> Result<usize, AddError> {
    let binds = binds_of(list);
    if binds.is_empty() {
        return Err(AddError::Refused(format!(
            "crt-list '{list}' does not exist!"
        )));
    }
    let key = match stored(path) {
        None => {
            return Err(AddError::Refused(format!(
                "certificate '{path}' does not exist!"
            )));
        }
        Some(Stored::Empty) => {
            return Err(AddError::Refused(format!("certificate '{path}' is empty!")));
        }
        Some(Stored::Used(k) | Stored::Unused(k)) => k,
    };
    if (opts.is_some() || !filters.is_empty()) && std::path::Path::new(list).is_dir() {
        return Err(AddError::Refused(
            "this is a directory, SSL configuration and filters are not allowed".into(),
        ));
    }
    let names = key
        .cert
        .first()
        .map(certs::names_of)
        .transpose()
        .map_err(AddError::Failed)?
        .unwrap_or_default();
    let number = binds[0]
        .lists
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(n, _)| n == list)
        .map_or(0, |(_, c)| *c)
        + 1;
    let mut entry = CertEntry {
        key,
        names,
        excluded: Vec::new(),
        path: std::path::PathBuf::from(path),
        opts: opts.clone(),
        warnings: Vec::new(),
        line: Some(ListLine {
            list: list.to_owned(),
            number,
            conf: ListLine::conf(opts.as_deref(), filters),
        }),
    };
    certs::apply_filters(&mut entry, filters);
    recompile_each(&binds, |_, entries| entries.push(entry.clone()))
        .map_err(|e| AddError::Failed(e.0))?;
    for b in &binds {
        for (n, c) in b.lists.lock().unwrap_or_else(|e| e.into_inner()).iter_mut() {
            if n == list {
                *c = number;
            }
        }
    }
    unused().retain(|(p, _)| p != path);
    Ok(binds.len())
}

/// `del ssl crt-list <list> <path>[:<line>]`: stops serving line `line` (the only line
/// of `path` when `None`) of `list` on every bind loading it. `Err` holds HAProxy's
/// reason.
pub fn del_from_crt_list(list: &str, path: &str, line: Option<usize>) -> Result<(), String> {
    let binds = binds_of(list);
    if binds.is_empty() {
        return Err(format!("crt-list '{list}' does not exist!"));
    }
    let key = match stored(path) {
        None => return Err(format!("certificate '{path}' does not exist!")),
        Some(Stored::Empty) => return Err(format!("certificate '{path}' is empty!")),
        Some(Stored::Used(k) | Stored::Unused(k)) => k,
    };
    let lines: Vec<usize> = crt_list(list)
        .unwrap_or_default()
        .into_iter()
        .filter(|(p, _)| p == path)
        .map(|(_, l)| l.number)
        .collect();
    if lines.is_empty() {
        return Err(format!(
            "certificate '{path}' can't be found in crt-list '{list}'!"
        ));
    }
    let numbers = lines
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let number = match line {
        Some(n) if lines.contains(&n) => n,
        Some(_) => {
            return Err(format!(
                "found a certificate '{path}' but the line number is incorrect, please specify a correct line number preceded by colons ({numbers})!"
            ));
        }
        None if lines.len() > 1 => {
            return Err(format!(
                "found the certificate '{path}' in several entries, please specify a line number preceded by colons ({numbers})!"
            ));
        }
        None => lines[0],
    };
    let is_line = |e: &CertEntry| {
        shown(&e.path) == path
            && e.line
                .as_ref()
                .is_some_and(|l| l.list == list && l.number == number)
    };
    // HAProxy keeps the default certificate of a bind without strict-sni.
    let defaults: Vec<&str> = binds
        .iter()
        .filter(|b| {
            !(b.tls.strict_sni || b.defaults.strict_sni) && b.entries().first().is_some_and(is_line)
        })
        .map(|b| b.at.as_str())
        .collect();
    if !defaults.is_empty() {
        let mut msg = format!(
            "certificate '{path}' cannot be deleted, it is used as default certificate by the following frontends:\n"
        );
        for at in defaults {
            msg.push_str(&format!("\t- {at}\n"));
        }
        return Err(msg);
    }
    recompile_each(&binds, |_, entries| entries.retain(|e| !is_line(e))).map_err(|e| e.0)?;
    if served(path).is_none() {
        unused().push((path.to_owned(), Some(key)));
    }
    Ok(())
}

/// The certificates served with a stapled OCSP response (one per file), by file name.
pub fn stapled() -> Vec<(String, Arc<CertifiedKey>)> {
    let mut out: Vec<(String, Arc<CertifiedKey>)> = Vec::new();
    for b in binds().iter().rev() {
        for e in b.entries().iter().filter(|e| e.key.ocsp.is_some()) {
            let p = shown(&e.path);
            if !out.iter().any(|(q, _)| *q == p) {
                out.push((p, e.key.clone()));
            }
        }
    }
    out
}
