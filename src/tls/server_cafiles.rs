//! The CA and CRL files `server … ssl` lines verify servers' certificates with, and
//! their replacement over the runtime API (`set|commit ssl ca-file`, `… crl-file`), as
//! HAProxy 2.6's cafile tree does for servers.
//!
//! Every server TLS configuration that verifies (`verify required`) holds a
//! [`LiveChain`]: the chain check (webpki with the file's CAs, and CRLs) behind an
//! `ArcSwap`, and the session cache of its configuration. A file used by a server is
//! listed by `show ssl ca-file|crl-file`. As in HAProxy 2.6, only a server line with a
//! client certificate (`crt`, which makes HAProxy's `ckch_inst`) is linked to its files:
//! `commit` compiles its check again with the new contents — new connections and checks
//! verify with it, the connections open (and idle) go on — and empties its session cache
//! (HAProxy frees `reused_sess`), one dot per such server. A server without `crt` keeps
//! verifying with the contents it started with; its file is shown `Unused`, and the
//! commit only changes what is shown.

use super::TlsError;
use super::cafiles::{CaContent, Kind};
use arc_swap::ArcSwap;
use rustls::NamedGroup;
use rustls::client::danger::ServerCertVerified;
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
    WebPkiServerVerifier,
};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// Sessions kept per configuration for resumption (rustls' default size).
const SESSIONS: usize = 256;

/// A session cache that a commit can empty (rustls' in-memory cache behind a swap).
#[derive(Debug)]
pub struct Sessions(ArcSwap<ClientSessionMemoryCache>);

impl Sessions {
    /// An empty cache.
    pub fn new() -> Arc<Sessions> {
        Arc::new(Sessions(ArcSwap::from_pointee(
            ClientSessionMemoryCache::new(SESSIONS),
        )))
    }

    fn flush(&self) {
        self.0
            .store(Arc::new(ClientSessionMemoryCache::new(SESSIONS)));
    }
}

impl ClientSessionStore for Sessions {
    fn set_kx_hint(&self, name: ServerName<'static>, group: NamedGroup) {
        self.0.load().set_kx_hint(name, group)
    }
    fn kx_hint(&self, name: &ServerName<'_>) -> Option<NamedGroup> {
        self.0.load().kx_hint(name)
    }
    fn set_tls12_session(&self, name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.0.load().set_tls12_session(name, value)
    }
    fn tls12_session(&self, name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.0.load().tls12_session(name)
    }
    fn remove_tls12_session(&self, name: &ServerName<'static>) {
        self.0.load().remove_tls12_session(name)
    }
    fn insert_tls13_ticket(&self, name: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.0.load().insert_tls13_ticket(name, value)
    }
    fn take_tls13_ticket(&self, name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.0.load().take_tls13_ticket(name)
    }
}

/// The files a chain check was compiled from, as shown.
#[derive(Clone, Debug)]
struct Files {
    ca: Arc<CaContent>,
    crl: Option<Arc<CaContent>>,
}

/// A server configuration's chain check, replaceable while it serves.
#[derive(Debug)]
pub struct LiveChain {
    /// The `ca-file`'s name (the path after `ca-base`).
    ca: String,
    /// The `crl-file`'s name, if any.
    crl: Option<String>,
    /// Linked to its files (the server line has `crt`): commits change its check.
    linked: bool,
    /// Counted in a commit's dots (the server's own configuration, not a check's).
    counted: bool,
    provider: Arc<CryptoProvider>,
    /// What `show` displays for its files (committed contents, even when not linked).
    files: Mutex<Files>,
    check: ArcSwap<WebPkiServerVerifier>,
    sessions: Arc<Sessions>,
    /// Taken out of the listing by `del ssl ca-file` / `del ssl crl-file` (HAProxy
    /// deletes a file no instance is linked to; a reload lists it again).
    hidden_ca: AtomicBool,
    hidden_crl: AtomicBool,
}

/// Every live chain check, oldest first.
static CHAINS: Mutex<Vec<Weak<LiveChain>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn chains() -> Vec<Arc<LiveChain>> {
    let mut reg = lock(&CHAINS);
    reg.retain(|w| w.strong_count() > 0);
    reg.iter().filter_map(Weak::upgrade).collect()
}

fn build(
    files: &Files,
    ca: &str,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, TlsError> {
    let mut b = WebPkiServerVerifier::builder_with_provider(files.ca.roots(ca)?, provider.clone());
    if let Some(crl) = &files.crl {
        b = b
            .with_crls(crl.crls.clone())
            .only_check_end_entity_revocation();
    }
    b.build()
        .map_err(|e| TlsError(format!("server certificate verification: {e}")))
}

impl LiveChain {
    /// Whether it verifies with file `name` of `kind`.
    fn uses(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Ca => self.ca == name,
            Kind::Crl => self.crl.as_deref() == Some(name),
        }
    }

    fn hidden(&self, kind: Kind) -> &AtomicBool {
        match kind {
            Kind::Ca => &self.hidden_ca,
            Kind::Crl => &self.hidden_crl,
        }
    }

    fn shown(&self, kind: Kind) -> Option<Arc<CaContent>> {
        let f = lock(&self.files);
        match kind {
            Kind::Ca => Some(f.ca.clone()),
            Kind::Crl => f.crl.clone(),
        }
    }

    /// The chain check as it stands, for a handshake starting now.
    pub fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::client::danger::ServerCertVerifier;
        self.check
            .load()
            .verify_server_cert(end_entity, intermediates, name, ocsp, now)
    }
}

/// The contents of file `path`, read from disk: a configuration compiled again (an
/// in-place reload) reads its files again, as HAProxy's new process does, and loses
/// what was committed over the socket.
fn content(kind: Kind, path: &Path) -> Result<Arc<CaContent>, TlsError> {
    Ok(Arc::new(match kind {
        Kind::Ca => CaContent::load_ca(path)?,
        Kind::Crl => CaContent::load_crl(path)?,
    }))
}

/// Compiles and registers the chain check of a server configuration verifying with
/// `ca` (and `crl`), both resolved against `ca-base`. `linked`: the server line has a
/// client certificate; `counted`: the server's own configuration (not a check's).
pub fn chain(
    ca: &Path,
    crl: Option<&Path>,
    provider: Arc<CryptoProvider>,
    linked: bool,
    counted: bool,
    sessions: Arc<Sessions>,
) -> Result<Arc<LiveChain>, TlsError> {
    let files = Files {
        ca: content(Kind::Ca, ca)?,
        crl: crl.map(|p| content(Kind::Crl, p)).transpose()?,
    };
    let name = ca.display().to_string();
    let check = build(&files, &name, &provider)?;
    let live = Arc::new(LiveChain {
        ca: name,
        crl: crl.map(|p| p.display().to_string()),
        linked,
        counted,
        provider,
        files: Mutex::new(files),
        check: ArcSwap::new(check),
        sessions,
        hidden_ca: AtomicBool::new(false),
        hidden_crl: AtomicBool::new(false),
    });
    let mut reg = lock(&CHAINS);
    reg.retain(|w| w.strong_count() > 0);
    reg.push(Arc::downgrade(&live));
    Ok(live)
}

/// File `name` of `kind` as the servers use it: its contents, and whether a linked
/// server (one with `crt`) verifies with it (HAProxy's `Used`).
pub fn file(kind: Kind, name: &str) -> Option<(Arc<CaContent>, bool)> {
    let all = chains();
    let mut using = all
        .iter()
        .rev()
        .filter(|c| c.uses(kind, name) && !c.hidden(kind).load(Ordering::Relaxed))
        .peekable();
    let content = using.peek()?.shown(kind)?;
    Some((content, using.any(|c| c.linked)))
}

/// The names of every file of `kind` the servers use, with their contents.
pub fn files(kind: Kind) -> Vec<(String, Arc<CaContent>)> {
    let mut out: Vec<(String, Arc<CaContent>)> = Vec::new();
    for c in chains() {
        let name = match kind {
            Kind::Ca => Some(&c.ca),
            Kind::Crl => c.crl.as_ref(),
        };
        if let Some(n) = name
            && !out.iter().any(|(m, _)| m == n)
            && let Some((content, _)) = file(kind, n)
        {
            out.push((n.clone(), content));
        }
    }
    out
}

/// `del ssl ca-file|crl-file` of a file no linked server uses: no longer listed.
pub fn forget(kind: Kind, name: &str) {
    for c in chains().iter().filter(|c| c.uses(kind, name)) {
        c.hidden(kind).store(true, Ordering::Relaxed);
    }
}

/// Verifies server certificates against `content` in place of file `name` in every
/// linked server configuration using it, whose session caches are emptied; the file
/// shows `content` everywhere. How many servers changed (HAProxy's dots). Nothing
/// changes when one of them fails to compile.
pub fn install(kind: Kind, name: &str, content: CaContent) -> Result<usize, TlsError> {
    let content = Arc::new(content);
    let mut ready = Vec::new();
    for c in chains().into_iter().filter(|c| c.uses(kind, name)) {
        let mut files = lock(&c.files).clone();
        match kind {
            Kind::Ca => files.ca = content.clone(),
            Kind::Crl => files.crl = Some(content.clone()),
        }
        let check = if c.linked {
            Some(build(&files, &c.ca, &c.provider)?)
        } else {
            None
        };
        ready.push((c, files, check));
    }
    let mut n = 0;
    for (c, files, check) in ready {
        *lock(&c.files) = files;
        if let Some(check) = check {
            c.check.store(check);
            c.sessions.flush();
            n += usize::from(c.counted);
        }
    }
    Ok(n)
}
