//! The sockets of the `stats socket` lines: bound when a configuration is loaded (the
//! first time before the process detaches, so that errors reach the terminal), served
//! once the runtime runs, kept across reloads while a line names them (a changed
//! `level` applies to new connections), closed when no line names them any more.

use super::Level;
use super::api::Api;
use crate::config::model::{Bind, Config, StatsSocket};
use crate::proxy::listener::{self, BoundListener};
use crate::proxy::serve::{ControlHandle, ControlPlane};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

/// HAProxy's `stats timeout` default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The runtime API of a running proxy: its sockets and what its commands read.
struct Sockets {
    /// What the commands read, once the proxy runs.
    api: Option<Arc<Api>>,
    /// The configuration given to `configure`, for the next `start`.
    config: Option<Config>,
    /// By address.
    sockets: HashMap<String, Socket>,
    /// `stats timeout`, in milliseconds, for new connections.
    timeout: Arc<AtomicU64>,
}

/// One `stats socket`.
struct Socket {
    level: Arc<AtomicU8>,
    /// `expose-fd listeners`: `_getsocks` answered.
    expose: Arc<AtomicBool>,
    /// Bound, not served yet.
    pending: Vec<BoundListener>,
    tasks: Vec<JoinHandle<()>>,
    /// The file of a unix socket, removed when the line is.
    path: Option<std::path::PathBuf>,
}

/// Builds the runtime API of a proxy (the proxy's `ControlFactory`).
pub fn start() -> Box<dyn ControlPlane> {
    Box::new(Sockets {
        api: None,
        config: None,
        sockets: HashMap::new(),
        timeout: Arc::new(AtomicU64::new(DEFAULT_TIMEOUT.as_millis() as u64)),
    })
}

fn level_code(l: Level) -> u8 {
    l as u8
}

fn level_of(code: u8) -> Level {
    match code {
        0 => Level::User,
        1 => Level::Operator,
        _ => Level::Admin,
    }
}

/// The `bind` line a `stats socket` line amounts to (its `mode`, `user`, `group`,
/// `backlog`).
fn as_bind(s: &StatsSocket) -> Bind {
    let opt = |n: &str| s.options.iter().rev().find(|(k, _)| k == n).map(|(_, v)| v);
    Bind {
        span: s.span.clone(),
        addrs: vec![s.addr.clone()],
        name: opt("name").cloned(),
        tls: Default::default(),
        accept_proxy: false,
        unix_mode: opt("mode").and_then(|m| u32::from_str_radix(m, 8).ok()),
        unix_user: opt("user").cloned(),
        unix_group: opt("group").cloned(),
        maxconn: None,
        backlog: opt("backlog").and_then(|b| b.parse().ok()),
        v4v6: false,
        v6only: false,
        h2: false,
        pgsql: false,
    }
}

/// `uid`/`gid` of a unix `stats socket` (numeric owners, applied after binding).
fn set_owner(s: &StatsSocket) -> std::io::Result<()> {
    let num = |n: &str| {
        s.options
            .iter()
            .rev()
            .find(|(k, _)| k == n)
            .and_then(|(_, v)| v.parse::<u32>().ok())
    };
    if let (crate::config::model::BindAddr::Unix(p), uid, gid) = (&s.addr, num("uid"), num("gid"))
        && (uid.is_some() || gid.is_some())
    {
        std::os::unix::fs::chown(p, uid, gid)?;
    }
    Ok(())
}

impl ControlPlane for Sockets {
    fn configure(&mut self, config: &Config) -> Result<(), String> {
        self.config = Some(config.clone());
        let timeout = config.global.stats_timeout.unwrap_or(DEFAULT_TIMEOUT);
        self.timeout
            .store(timeout.as_millis() as u64, Ordering::Relaxed);
        let mut wanted = Vec::new();
        let mut first_error = None;
        for s in &config.global.stats_sockets {
            let key = format!("{:?}", s.addr);
            let level = level_code(Level::parse(&s.level));
            wanted.push(key.clone());
            if let Some(sock) = self.sockets.get(&key) {
                sock.level.store(level, Ordering::Relaxed);
                sock.expose.store(s.expose_fd_listeners, Ordering::Relaxed);
                continue;
            }
            let bound = listener::bind_all(&as_bind(s), 10, false).and_then(|l| {
                set_owner(s)?;
                Ok(l)
            });
            match bound {
                Ok(pending) => {
                    let path = match &s.addr {
                        crate::config::model::BindAddr::Unix(p) => Some(p.clone()),
                        _ => None,
                    };
                    self.sockets.insert(
                        key,
                        Socket {
                            level: Arc::new(AtomicU8::new(level)),
                            expose: Arc::new(AtomicBool::new(s.expose_fd_listeners)),
                            pending,
                            tasks: Vec::new(),
                            path,
                        },
                    );
                }
                Err(e) => {
                    first_error.get_or_insert(format!("Starting proxy GLOBAL: {e}"));
                }
            }
        }
        self.sockets.retain(|key, sock| {
            let keep = wanted.contains(key);
            if !keep {
                sock.tasks.iter().for_each(JoinHandle::abort);
                if let Some(p) = &sock.path {
                    let _ = std::fs::remove_file(p);
                }
            }
            keep
        });
        first_error.map_or(Ok(()), Err)
    }

    fn start(&mut self, handle: &ControlHandle) {
        let api = Arc::clone(
            self.api
                .get_or_insert_with(|| Arc::new(Api::new(handle.clone()))),
        );
        if let Some(config) = self.config.take() {
            api.configure(&config);
        }
        for sock in self.sockets.values_mut() {
            for l in std::mem::take(&mut sock.pending) {
                let api = Arc::clone(&api);
                let level = Arc::clone(&sock.level);
                let expose = Arc::clone(&sock.expose);
                let timeout = Arc::clone(&self.timeout);
                sock.tasks
                    .push(tokio::spawn(accept_loop(api, l, level, expose, timeout)));
            }
        }
    }
}

/// Accepts on one socket until aborted; each connection is served on its own task.
async fn accept_loop(
    api: Arc<Api>,
    l: BoundListener,
    level: Arc<AtomicU8>,
    expose: Arc<AtomicBool>,
    timeout: Arc<AtomicU64>,
) {
    enum L {
        Tcp(tokio::net::TcpListener),
        Unix(tokio::net::UnixListener),
    }
    let l = match l {
        BoundListener::Tcp(t) => tokio::net::TcpListener::from_std(t).map(L::Tcp),
        BoundListener::Unix(u) => tokio::net::UnixListener::from_std(u).map(L::Unix),
    };
    let Ok(l) = l else {
        return;
    };
    loop {
        let lvl = || level_of(level.load(Ordering::Relaxed));
        let t = || Duration::from_millis(timeout.load(Ordering::Relaxed));
        let api = Arc::clone(&api);
        match &l {
            L::Tcp(t_l) => match t_l.accept().await {
                Ok((s, _)) => {
                    let (lv, to, ex) = (lvl(), t(), expose.load(Ordering::Relaxed));
                    tokio::spawn(async move { super::session::serve(&api, s, lv, to, ex).await });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            L::Unix(u) => match u.accept().await {
                Ok((s, _)) => {
                    let (lv, to, ex) = (lvl(), t(), expose.load(Ordering::Relaxed));
                    tokio::spawn(async move { super::session::serve(&api, s, lv, to, ex).await });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}
