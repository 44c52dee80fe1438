//! What every command reads: the running proxy's handle (snapshot, store, requests to
//! the serving loop) and what the loaded configuration says that the snapshot does not
//! keep (which servers have checks, static algorithms, where maps are used) and what
//! the API did that the live state does not record.

use crate::config::model::{Balance, Config, ServerAddr};
use crate::proxy::serve::ControlHandle;
use crate::runtime::backend::Backend;
use crate::runtime::server::ServerState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The runtime API's view of the running proxy.
pub struct Api {
    /// The running proxy.
    pub handle: ControlHandle,
    /// The configuration read from the files, and what was derived from it with the
    /// runtime-added servers.
    state: Mutex<(Config, Arc<Info>)>,
    /// What the API did to servers, by backend and name, for `show servers state`.
    hand: Mutex<HashMap<(String, String), Hand>>,
}

/// What the API did to one server that the live state does not say.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hand {
    /// Its admin state was changed: the configuration's maintenance (`disabled`) is
    /// no longer what holds it.
    pub admin: bool,
    /// The health counter HAProxy reports for a server without checks, once the API
    /// changed it (0 on entering maintenance, full or 0 by `set server B/S health`).
    pub health: Option<u32>,
}

/// What the configuration says beyond the snapshot.
#[derive(Debug, Default)]
pub struct Info {
    /// Backends whose algorithm takes only weights 0% and 100% at runtime.
    pub static_lb: Vec<String>,
    /// Per `backend/server`: what its configuration line said.
    pub servers: HashMap<(String, String), ServerInfo>,
    /// Where each map file is first used (`show map`'s "used by map at file F line
    /// N"), by the path its converter names.
    pub map_sites: HashMap<String, (String, u32)>,
    /// Where each ACL pattern file is first used (`show acl`'s "used by acl at file F
    /// line N"), by the path its `-f` names.
    pub acl_sites: HashMap<String, (String, u32)>,
}

/// What a server's configuration line said.
#[derive(Clone, Debug, Default)]
pub struct ServerInfo {
    /// `check`.
    pub check: bool,
    /// `rise`.
    pub rise: u32,
    /// `fall`.
    pub fall: u32,
    /// `port` of checks.
    pub check_port: Option<u16>,
    /// `addr` of checks.
    pub check_addr: Option<String>,
    /// The host name when the address was one (`srv_fqdn`).
    pub fqdn: Option<String>,
    /// Added at runtime (`add server`).
    pub dynamic: bool,
}

impl Info {
    fn of(config: &Config, dynamic: &[(String, String)]) -> Info {
        let mut info = Info {
            map_sites: sites(config, r",map(?:_[a-z0-9_]+)?\(([^,)\s]+)"),
            acl_sites: sites(config, r"^\s*acl\s.*?\s-f\s+(\S+)"),
            ..Info::default()
        };
        for p in config.proxies.iter().filter(|p| p.kind.has_backend()) {
            let hashed = matches!(
                p.balance,
                Balance::Source
                    | Balance::Uri { .. }
                    | Balance::UrlParam(_)
                    | Balance::Hdr { .. }
                    | Balance::RdpCookie(_)
            );
            if p.balance == Balance::StaticRr || (hashed && !p.hash_type.consistent) {
                info.static_lb.push(p.name.clone());
            }
            for s in &p.servers {
                let fqdn = match &s.addr {
                    ServerAddr::Inet { host, .. }
                        if host
                            .trim_start_matches('[')
                            .trim_end_matches(']')
                            .parse::<std::net::IpAddr>()
                            .is_err() =>
                    {
                        Some(host.clone())
                    }
                    _ => None,
                };
                let key = (p.name.clone(), s.name.clone());
                let dynamic = dynamic.contains(&key);
                info.servers.insert(
                    key,
                    ServerInfo {
                        check: s.opts.check,
                        rise: s.opts.rise,
                        fall: s.opts.fall,
                        check_port: s.opts.check_port,
                        check_addr: s.opts.check_addr.clone(),
                        fqdn,
                        dynamic,
                    },
                );
            }
        }
        info
    }
}

/// Where each map or ACL file is first used: the configuration files are read again
/// and the first match of `pattern` (a `,map…(PATH` converter, an `acl … -f PATH`
/// line) naming each path is kept, with its file and line.
fn sites(config: &Config, pattern: &str) -> HashMap<String, (String, u32)> {
    let Ok(conv) = regex::Regex::new(pattern) else {
        return HashMap::new();
    };
    let mut files: Vec<&str> = Vec::new();
    for p in &config.proxies {
        if !files.contains(&&*p.span.file) {
            files.push(&p.span.file);
        }
    }
    let mut out = HashMap::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            for c in conv.captures_iter(line) {
                out.entry(c[1].to_owned())
                    .or_insert_with(|| (f.to_owned(), n as u32 + 1));
            }
        }
    }
    out
}

/// A `backend/server` argument that named nothing, with HAProxy's message.
pub type Missing = &'static str;

impl Api {
    /// The API over `handle`, before any configuration.
    pub fn new(handle: ControlHandle) -> Api {
        Api {
            handle,
            state: Mutex::new((Config::default(), Arc::new(Info::default()))),
            hand: Mutex::default(),
        }
    }

    /// Takes a (re)loaded configuration.
    pub fn configure(&self, config: &Config) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.0 = config.clone();
        st.1 = Arc::new(self.derive(&st.0));
    }

    /// Derives the information again (after `add server` / `del server`).
    pub fn refresh(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.1 = Arc::new(self.derive(&st.0));
    }

    fn derive(&self, config: &Config) -> Info {
        let full = self.handle.store.with_dynamic_servers(config);
        let mut dynamic = Vec::new();
        for p in &config.proxies {
            for s in self.handle.store.dynamic_servers(&p.name) {
                dynamic.push((p.name.clone(), s.name));
            }
        }
        Info::of(&full, &dynamic)
    }

    /// Notes what the API did to `backend/server`.
    pub fn note(&self, backend: &str, server: &str, f: impl FnOnce(&mut Hand)) {
        let mut t = self.hand.lock().unwrap_or_else(|e| e.into_inner());
        f(t.entry((backend.to_owned(), server.to_owned()))
            .or_default());
    }

    /// What the API did to `backend/server`.
    pub fn hand(&self, backend: &str, server: &str) -> Hand {
        let t = self.hand.lock().unwrap_or_else(|e| e.into_inner());
        t.get(&(backend.to_owned(), server.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// What the configuration says.
    pub fn info(&self) -> Arc<Info> {
        Arc::clone(&self.state.lock().unwrap_or_else(|e| e.into_inner()).1)
    }

    /// The stick tables of the current snapshot, in HAProxy's list order.
    pub fn tables(&self) -> Vec<Arc<crate::runtime::stick::Table>> {
        self.handle.current.load().tables.clone()
    }

    /// The backend named `name` in the current snapshot.
    pub fn backend(&self, name: &str) -> Option<Arc<Backend>> {
        let snap = self.handle.current.load();
        snap.backends.iter().find(|b| b.name == name).cloned()
    }

    /// HAProxy's `cli_find_server`: `B/S` in the current snapshot, or its message
    /// ("Require 'backend/server'.", "No such backend.", "No such server.").
    pub fn find_server(&self, arg: &str) -> Result<(Arc<Backend>, Arc<ServerState>), Missing> {
        let (b, s) = arg.split_once('/').unwrap_or((arg, ""));
        if b.is_empty() || s.is_empty() {
            return Err("Require 'backend/server'.\n");
        }
        let be = self.backend(b).ok_or("No such backend.\n")?;
        let srv = be
            .servers
            .iter()
            .find(|x| x.name == s)
            .cloned()
            .ok_or("No such server.\n")?;
        Ok((be, srv))
    }
}
