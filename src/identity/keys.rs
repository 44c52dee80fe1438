//! Where a provider's keys come from and how they stay fresh: a `jwks-file` read at
//! load, or the issuer's discovery document and `jwks_uri`, fetched at start, again
//! every `keys-refresh` in the background, and at once when a token names an unknown
//! `kid` — at most once per `keys-min-interval`, however many such tokens arrive. When
//! a fetch fails the last good set is kept.

use super::http;
use super::jwks::KeySet;
use arc_swap::ArcSwap;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The provider's endpoints, from its discovery document.
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    /// `issuer`.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization: Option<String>,
    /// `token_endpoint`.
    pub token: Option<String>,
    /// `jwks_uri`.
    pub jwks: String,
    /// `end_session_endpoint`.
    pub end_session: Option<String>,
}

/// Where the keys come from.
#[derive(Debug)]
pub enum Source {
    /// `jwks-file`.
    File(PathBuf),
    /// `issuer`: discovery, then `jwks_uri`.
    Issuer(String),
    /// Neither: a section of client certificates only (`mtls`), no key set.
    None,
}

/// A provider's current key set and how to renew it.
#[derive(Debug)]
pub struct KeyStore {
    source: Source,
    set: ArcSwap<KeySet>,
    endpoints: ArcSwap<Option<Endpoints>>,
    /// Serialises fetches; holds when the last one started.
    last: tokio::sync::Mutex<Option<Instant>>,
    min_interval: Duration,
    /// Fetches made (for tests and stats).
    fetches: AtomicU64,
    /// Fetches that failed.
    failures: AtomicU64,
}

impl KeyStore {
    /// A store for `source`; nothing fetched yet.
    pub fn new(source: Source, min_interval: Duration) -> KeyStore {
        KeyStore {
            source,
            set: ArcSwap::from_pointee(KeySet::default()),
            endpoints: ArcSwap::from_pointee(None),
            last: tokio::sync::Mutex::new(None),
            min_interval,
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// The current key set.
    pub fn current(&self) -> Arc<KeySet> {
        self.set.load_full()
    }

    /// The provider's endpoints, once discovered.
    pub fn endpoints(&self) -> Option<Endpoints> {
        (*self.endpoints.load_full()).clone()
    }

    /// How many fetches were made.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Reads or fetches the key set now (blocking); on failure the last good set stays.
    pub fn load_now(&self) -> Result<usize, String> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let r = self.fetch();
        match r {
            Ok(set) => {
                let n = set.len();
                self.set.store(Arc::new(set));
                Ok(n)
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    fn fetch(&self) -> Result<KeySet, String> {
        match &self.source {
            Source::File(p) => {
                let text = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
                KeySet::parse(&text).map_err(|e| format!("{}: {e}", p.display()))
            }
            Source::Issuer(iss) => {
                let ep = match self.endpoints() {
                    Some(ep) => ep,
                    None => {
                        let ep = discover(iss)?;
                        self.endpoints.store(Arc::new(Some(ep.clone())));
                        ep
                    }
                };
                let doc = http::get_json(&ep.jwks, FETCH_TIMEOUT)?;
                KeySet::parse(doc.to_string().as_bytes()).map_err(|e| format!("{}: {e}", ep.jwks))
            }
            Source::None => Ok(KeySet::default()),
        }
    }

    /// Marks a fetch as just made (the one at start), for the unknown-`kid` limit.
    pub fn mark_fetched(&self) {
        if let Ok(mut last) = self.last.try_lock() {
            *last = Some(Instant::now());
        }
    }

    /// Makes sure a key named `kid` is known if the provider has it: when it is not in
    /// the current set, fetches the set again unless one was fetched less than
    /// `keys-min-interval` ago. Concurrent callers wait for the one fetch.
    pub async fn ensure_kid(self: &Arc<Self>, kid: &str) {
        if self.current().has_kid(kid) || !matches!(self.source, Source::Issuer(_)) {
            return;
        }
        let mut last = self.last.lock().await;
        if self.current().has_kid(kid) {
            return;
        }
        if last.is_some_and(|t| t.elapsed() < self.min_interval) {
            return;
        }
        *last = Some(Instant::now());
        let me = Arc::clone(self);
        let _ = tokio::task::spawn_blocking(move || me.load_now()).await;
    }

    /// Starts the background refresh: every `every`, fetch again, for as long as the
    /// store is alive.
    pub fn refresh_in_background(self: &Arc<Self>, every: Duration) {
        if !matches!(self.source, Source::Issuer(_)) {
            return;
        }
        let weak: Weak<KeyStore> = Arc::downgrade(self);
        let _ = std::thread::Builder::new()
            .name("gatehouse-keys".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    let Some(me) = weak.upgrade() else { return };
                    if let Ok(mut last) = me.last.try_lock() {
                        *last = Some(Instant::now());
                        if let Err(e) = me.load_now() {
                            eprintln!(
                                "[WARNING]  ({}) : identity keys refresh failed, keeping the last good set: {e}",
                                std::process::id()
                            );
                        }
                    }
                }
            });
    }
}

/// Fetches and checks the discovery document of `issuer`.
pub fn discover(issuer: &str) -> Result<Endpoints, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc = http::get_json(&url, FETCH_TIMEOUT)?;
    let s = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let got = s("issuer").unwrap_or_default();
    if got != issuer {
        return Err(format!(
            "{url}: the document's issuer '{got}' is not the configured '{issuer}'"
        ));
    }
    Ok(Endpoints {
        issuer: got,
        authorization: s("authorization_endpoint"),
        token: s("token_endpoint"),
        jwks: s("jwks_uri").ok_or_else(|| format!("{url}: no jwks_uri"))?,
        end_session: s("end_session_endpoint"),
    })
}
