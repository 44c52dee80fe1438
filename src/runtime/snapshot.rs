//! Compiles a [`Config`] into the immutable snapshot the data plane runs on: backends with
//! their servers and balancers, frontends with compiled rules and resolved references.

use super::backend::{Backend, BackendTimeouts};
use super::errors::ErrorPages;
use super::frontend::{Frontend, FrontendTimeouts, ProxyLog};
use super::live::Store;
use super::proxies::{ProxyMeta, StatsPage};
use super::rules::{Cond, HttpRules, compile_tcp};
use super::server::{ServerState, Wire};
use super::switching::{Switch, Target};
use crate::acl::AclSet;
use crate::balance::Balancer;
use crate::config::diag::Diag;
use crate::config::model::{Config, HttpConnMode, Proxy, ServerAddr, ServerProto};
use crate::log::{FormatContext, LogFormatSpec, Logger};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;

/// Process-wide settings the data plane reads.
#[derive(Debug)]
pub struct GlobalRt {
    /// Effective global `maxconn`.
    pub maxconn: u32,
    /// `tune.bufsize`.
    pub bufsize: usize,
    /// `tune.maxrewrite`.
    pub maxrewrite: usize,
    /// `tune.h2.*`.
    pub h2: crate::config::model::H2Tune,
    /// Worker threads.
    pub nbthread: usize,
    /// `busy-polling`.
    pub busy_polling: bool,
    /// Current connections, all frontends (live state, shared across reloads).
    pub actconn: Arc<AtomicU32>,
    /// `node` (default: the host name).
    pub node: String,
    /// `description`.
    pub description: Option<String>,
    /// The client connections alive (live state, shared across reloads).
    pub sessions: Arc<super::sessions::Sessions>,
    /// Some rule or expression reads the request body (`req.body`, …): the body bytes
    /// that came with a request's head are held for it before the rules run.
    pub reads_req_body: bool,
}

/// The current snapshot, behind one atomic pointer: a reload stores a new one; each
/// request loads the one current when it begins.
pub type Shared = Arc<arc_swap::ArcSwap<Snapshot>>;

/// Everything the data plane needs, compiled once per (re)load.
pub struct Snapshot {
    /// Global settings.
    pub global: GlobalRt,
    /// Frontends (and listens).
    pub frontends: Vec<Arc<Frontend>>,
    /// Backends (and listens).
    pub backends: Vec<Arc<Backend>>,
    /// The `userlist` sections, for `http_auth`.
    pub userlists: crate::runtime::userlist::Userlists,
    /// The `identity` sections, for `http-request authenticate`.
    pub identities: Arc<crate::identity::Identities>,
    /// Every frontend, backend and listen in configuration order, as the statistics
    /// see them (ids, check settings, stats pages).
    pub proxies: Vec<ProxyMeta>,
    /// The process-wide (`proc.`) variables.
    pub proc_vars: Arc<super::procvars::ProcVars>,
    /// The stick tables, in HAProxy's list order (the last declared first).
    pub tables: Vec<Arc<super::stick::Table>>,
}

impl Snapshot {
    /// Makes this snapshot the one live state follows: each server takes over its
    /// configured weight, `disabled` flag and address where they changed since the
    /// previous configuration, and each backend's shared queues dispatch through this
    /// snapshot's servers and balancer. Called once, when the snapshot goes live.
    pub fn install(&self) {
        for b in &self.backends {
            for s in &b.servers {
                s.live.apply(s.config_weight, s.disabled, s.addr);
            }
            b.live.install(b);
            b.balancer.refresh();
        }
    }

    /// The frontend named `name`.
    pub fn frontend(&self, name: &str) -> Option<&Arc<Frontend>> {
        self.frontends.iter().find(|f| f.name == name)
    }

    /// The stick table named `name`.
    pub fn table(&self, name: &str) -> Option<&Arc<super::stick::Table>> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// The default global `maxconn` when none is set: what the file descriptor limit allows.
fn default_maxconn() -> u32 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass; no other memory is touched.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0;
    if ok && rl.rlim_cur != libc::RLIM_INFINITY {
        ((rl.rlim_cur).saturating_sub(100) / 2).clamp(100, 1_000_000) as u32
    } else {
        100_000
    }
}

/// Resolves a server or check address (an IP literal, else the system resolver).
pub fn resolve_addr(host: &str, port: u16) -> Option<SocketAddr> {
    resolve(host, port)
}

/// [`resolve_addr`] for `server proxy/server`'s address or check address; a name that
/// does not resolve is HAProxy's alert on the server's line.
pub fn resolve_server_addr(
    host: &str,
    port: u16,
    server: (&crate::config::span::Span, &str, &str),
    diags: &mut Vec<Diag>,
) -> Option<SocketAddr> {
    let found = resolve(host, port);
    if found.is_none() {
        let (span, proxy, name) = server;
        diags.push(Diag::alert(
            span,
            format!("'server {proxy}/{name}' : could not resolve address '{host}'."),
        ));
    }
    found
}

fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        return Some(SocketAddr::new(ip, port));
    }
    (host, port).to_socket_addrs().ok()?.next()
}

fn merge_mode(a: HttpConnMode, b: HttpConnMode) -> HttpConnMode {
    use HttpConnMode::*;
    match (a, b) {
        (Close, _) | (_, Close) => Close,
        (ServerClose, _) | (_, ServerClose) => ServerClose,
        _ => KeepAlive,
    }
}

/// The stick tables of the configuration, in HAProxy's list order (the last declared
/// first), taken from the store (kept when their definition is unchanged). A table a
/// `stick` rule names stores `server_id` and `server_key` too, as in HAProxy.
fn build_tables(config: &Config, store: &Store) -> Vec<Arc<super::stick::Table>> {
    use crate::config::model::{StickData, StoreItem};
    let sticky = |name: &str| {
        config.proxies.iter().any(|p| {
            p.kind != crate::config::model::ProxyKind::Defaults
                && p.sticks
                    .iter()
                    .any(|st| st.table.as_deref().unwrap_or(&p.name) == name)
        })
    };
    config
        .proxies
        .iter()
        .rev()
        .filter(|p| p.kind != crate::config::model::ProxyKind::Defaults)
        .filter_map(|p| {
            let mut def = p.stick_table.as_ref()?.def.clone();
            if sticky(&p.name) {
                for data in [StickData::ServerId, StickData::ServerKey] {
                    if def.item(data).is_none() {
                        def.store.push(StoreItem {
                            data,
                            count: 1,
                            period_ms: 0,
                        });
                    }
                }
            }
            Some(store.table(&p.name, &def))
        })
        .collect()
}

/// Compiles the `stick` rules of a backend.
fn build_sticking(
    p: &Proxy,
    set: &AclSet,
    tables: &[Arc<super::stick::Table>],
    diags: &mut Vec<Diag>,
) -> Vec<super::stick::persist::StickRuleRt> {
    let mut out = Vec::new();
    for st in &p.sticks {
        let name = st.table.as_deref().unwrap_or(&p.name);
        let Some(table) = tables.iter().find(|t| t.name == name) else {
            continue;
        };
        let expr = match crate::acl::SampleExpr::parse(&st.pattern) {
            Ok(e) => e,
            Err(e) => {
                diags.push(Diag::alert(
                    &st.span,
                    format!(
                        "'stick' : failed to parse sample expression <{}> : {e}.",
                        st.pattern
                    ),
                ));
                continue;
            }
        };
        let cond = match Cond::compile(set, st.cond.as_ref()) {
            Ok(c) => c,
            Err((s, e)) => {
                diags.push(Diag::alert(&s, e));
                continue;
            }
        };
        out.push(super::stick::persist::StickRuleRt {
            kind: st.kind,
            expr,
            table: Arc::clone(table),
            cond,
        });
    }
    out
}

fn build_backend(
    config: &Config,
    p: &Proxy,
    store: &Store,
    ids: &crate::identity::Identities,
    tables: &[Arc<super::stick::Table>],
    diags: &mut Vec<Diag>,
) -> Option<Backend> {
    let live = store.backend(&p.name);
    let set = AclSet::compile(&p.acls)
        .map_err(|(s, e)| diags.push(Diag::alert(&s, e)))
        .ok()?;
    let sticking = build_sticking(p, &set, tables, diags);
    let mut servers = Vec::new();
    for (i, s) in p.servers.iter().enumerate() {
        let (addr, unix) = match &s.addr {
            ServerAddr::Inet {
                host,
                port,
                offset: None,
            } => {
                let server = (&s.span, p.name.as_str(), s.name.as_str());
                match resolve_server_addr(host, port.unwrap_or(0), server, diags) {
                    Some(a) => (a, None),
                    None => continue,
                }
            }
            ServerAddr::Unix(path) => (SocketAddr::from(([0, 0, 0, 0], 0)), Some(path.clone())),
            _ => {
                diags.push(Diag::alert(
                    &s.span,
                    format!(
                        "'server {}/{}' : this address form is not supported yet by gatehouse.",
                        p.name, s.name
                    ),
                ));
                continue;
            }
        };
        let server_live = live.server(&s.name, s.opts.weight);
        let mut st = ServerState::bound(s.name.clone(), i, addr, s.opts.weight, server_live);
        st.backup = s.opts.backup;
        st.maxconn = s.opts.maxconn;
        st.maxqueue = s.opts.maxqueue;
        st.disabled = s.opts.disabled;
        st.unix = unix;
        st.on_marked_down_shutdown = s.opts.on_marked_down_shutdown;
        st.pp_v2 = s.opts.pp_v2;
        st.send_proxy = if s.opts.send_proxy_v2 {
            2
        } else {
            u8::from(s.opts.send_proxy)
        };
        if s.opts.tls.ssl {
            match super::server::ServerTlsRt::compile(&s.opts.tls, &config.global) {
                Ok(t) => st.tls = Some(t),
                Err(e) => {
                    diags.push(Diag::alert(
                        &s.span,
                        format!("'server {}/{}' : {e}", p.name, s.name),
                    ));
                    continue;
                }
            }
        }
        let alpn_h2 = s.opts.tls.ssl
            && s.opts
                .tls
                .alpn
                .as_ref()
                .is_some_and(|a| a.iter().any(|p| p == "h2"));
        st.wire = match s.opts.proto {
            Some(ServerProto::H2) => Wire::H2,
            Some(ServerProto::H1) => Wire::H1,
            _ if alpn_h2 => Wire::Alpn,
            _ => Wire::H1,
        };
        st.observe =
            s.opts
                .observe
                .filter(|_| s.opts.check)
                .map(|mode| crate::runtime::health::Passive {
                    mode,
                    limit: s.opts.error_limit,
                    on_error: s.opts.on_error,
                });
        st.cookie = match (&s.opts.cookie, &p.cookie, &p.dynamic_cookie_key) {
            (Some(c), _, _) => Some(c.as_str().into()),
            (None, Some(ck), Some(key)) if ck.dynamic && st.unix.is_none() => {
                Some(super::persist::dynamic_cookie(key, addr).into())
            }
            _ => None,
        };
        servers.push(Arc::new(st));
    }
    let tcp_content = if p.kind.has_frontend() {
        Vec::new()
    } else {
        ok_or_push(
            compile_tcp(&set, &p.tcp_request, "content", ids, config),
            diags,
        )?
    };
    let tcp_response = ok_or_push(
        super::tcp_response::TcpResponse::compile(&set, &p.tcp_response),
        diags,
    )?;
    let balancer = Balancer::new(
        &p.balance,
        &p.hash_type,
        p.options.allbackups,
        servers.clone(),
    );
    let t = &p.timeouts;
    let fe_name = if p.kind.has_frontend() {
        &p.name[..]
    } else {
        ""
    };
    let mut http_request = HttpRules::compile(&set, &p.http_request, false, fe_name, &p.name)
        .map_err(|(s, e)| diags.push(Diag::alert(&s, e)))
        .ok()?;
    http_request.bind_identities(ids);
    let http_response = HttpRules::compile(&set, &p.http_response, true, fe_name, &p.name)
        .map_err(|(s, e)| diags.push(Diag::alert(&s, e)))
        .ok()?;
    let http_after_response =
        HttpRules::compile(&set, &p.http_after_response, true, fe_name, &p.name)
            .map_err(|(s, e)| diags.push(Diag::alert(&s, e)))
            .ok()?;
    let errors = ok_or_push(
        ErrorPages::compile(&p.errorfiles, &config.http_errors),
        diags,
    )?;
    let redirects = ok_or_push(
        HttpRules::compile(&set, &p.redirects, false, fe_name, &p.name),
        diags,
    )?;
    let persist_rules = ok_or_push(super::persist::compile_rules(&set, &p.persist_rules), diags)?;
    Some(Backend {
        name: p.name.clone(),
        mode: p.mode,
        servers,
        balancer,
        timeouts: BackendTimeouts {
            connect: t.connect,
            server: t.server,
            server_fin: t.server_fin,
            queue: t.queue.or(t.connect),
            tunnel: t.tunnel,
        },
        retries: p.retries,
        redispatch: p.options.redispatch,
        redispatch_after: p.options.redispatch_after,
        srvtcpka: p.options.srvtcpka || p.options.tcpka,
        nolinger: p.options.nolinger,
        abortonclose: p.options.abortonclose,
        http_reuse: p.http_reuse,
        conn_mode: p.options.http_conn_mode,
        forwardfor: p.options.forwardfor.clone(),
        originalto: p.options.originalto.clone(),
        errors,
        buffer_request: p.options.http_buffer_request,
        persist_rdp_cookie: p.persist_rdp_cookie.as_deref().map(Into::into),
        tcp_content,
        tcp_response,
        http_request: if p.kind.has_frontend() {
            HttpRules::default()
        } else {
            http_request
        },
        http_response: if p.kind.has_frontend() {
            HttpRules::default()
        } else {
            http_response
        },
        http_after_response: if p.kind.has_frontend() {
            HttpRules::default()
        } else {
            http_after_response
        },
        redirects: if p.kind.has_frontend() {
            HttpRules::default()
        } else {
            redirects
        },
        live,
        reporter: Arc::new(crate::runtime::events::Reporter {
            backend: p.name.clone(),
            listen: p.kind == crate::config::model::ProxyKind::Listen,
            logger: proxy_logger(config, p).and_then(Result::ok).map(Arc::new),
            log_health_checks: p.options.log_health_checks,
        }),
        cookie: p
            .cookie
            .clone()
            .filter(|_| p.mode == crate::config::model::Mode::Http),
        persist: p.options.persist,
        persist_rules,
        _reserved: Vec::new(),
        sticking,
        stats: StatsPage::compile(config, p, &set, diags).map(Arc::new),
    })
}

/// The logger of proxy `p`: its `log` lines, plus the global ones with `log global`.
/// `None` with `no log` or without any target; an error when a target cannot be
/// opened.
pub fn proxy_logger(config: &Config, p: &Proxy) -> Option<Result<Logger, Diag>> {
    if p.no_log {
        return None;
    }
    let mut targets = p.logs.clone();
    if p.log_global {
        targets.extend(config.global.logs.iter().cloned());
    }
    let first = targets.first()?.span.clone();
    let g = &config.global;
    let tag = p.log_tag.as_deref().or(g.log_tag.as_deref());
    Some(
        Logger::new(&targets, tag, g.log_send_hostname.as_deref())
            .map_err(|e| Diag::alert(&first, format!("log : {e}"))),
    )
}

fn build_log(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) -> Option<ProxyLog> {
    let logger = match proxy_logger(config, p)? {
        Ok(l) => l,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let (text, span) = match &p.log_format {
        Some((f, s)) => (Some(f.as_str()), s.clone()),
        None if p.options.httplog && p.options.httplog_clf => {
            (Some(crate::log::HTTPLOG_CLF), p.span.clone())
        }
        None if p.options.httplog => (Some(crate::log::HTTPLOG), p.span.clone()),
        None if p.options.tcplog => (Some(crate::log::TCPLOG), p.span.clone()),
        None => (None, p.span.clone()),
    };
    let format = match text.map(LogFormatSpec::compile) {
        None => None,
        Some(Ok(f)) if f.has_samples() && p.mode == crate::config::model::Mode::Http => {
            diags.push(Diag::alert(
                &span,
                "log-format : sample fetch expressions ('%[…]') in the log line of a 'mode http' proxy are not supported yet by gatehouse (they are in 'mode tcp').",
            ));
            return None;
        }
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            diags.push(Diag::alert(&span, format!("log-format : {e}")));
            return None;
        }
    };
    Some(ProxyLog {
        logger,
        format,
        dontlognull: p.options.dontlognull,
        dontlog_normal: p.options.dontlog_normal,
        separate_errors: p.options.log_separate_errors,
        logasap: p.options.logasap,
    })
}

/// `capture … header` lines with lower-cased names.
fn lower_captures(c: &[(String, usize)]) -> Vec<(Vec<u8>, usize)> {
    c.iter()
        .map(|(n, l)| (n.as_bytes().to_ascii_lowercase(), *l))
        .collect()
}

fn ok_or_push<T>(
    r: Result<T, (crate::config::span::Span, String)>,
    diags: &mut Vec<Diag>,
) -> Option<T> {
    r.map_err(|(s, e)| diags.push(Diag::alert(&s, e))).ok()
}

/// Compiles `config`; problems that only show at this stage (addresses that do not
/// resolve, log targets that cannot be opened) are returned as alerts.
pub fn build(config: &Config, store: &Store) -> Result<Snapshot, Vec<Diag>> {
    let mut diags = Vec::new();
    let body_lookups = crate::acl::req_body_lookups();
    let g = &config.global;
    let mut global = GlobalRt {
        maxconn: g.maxconn.unwrap_or_else(default_maxconn),
        bufsize: g.tune_bufsize,
        maxrewrite: g.tune_maxrewrite.min(g.tune_bufsize / 2),
        h2: g.tune_h2,
        // HAProxy 2.6's default: one thread per CPU the process may run on (at most 64).
        nbthread: g
            .nbthread
            .map(|n| n as usize)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(64))),
        busy_polling: g.busy_polling,
        actconn: Arc::clone(&store.actconn),
        sessions: Arc::clone(&store.sessions),
        node: g.node.clone().unwrap_or_else(super::proxies::hostname),
        description: g.description.clone(),
        reads_req_body: false,
    };
    let identities = match crate::identity::Identities::compile(&config.identities) {
        Ok(ids) => ids,
        Err(mut d) => {
            diags.append(&mut d);
            crate::identity::Identities::default()
        }
    };
    let tables = build_tables(config, store);
    let mut backends: Vec<(String, Arc<Backend>)> = Vec::new();
    for p in config.proxies.iter().filter(|p| p.kind.has_backend()) {
        if let Some(b) = build_backend(config, p, store, &identities, &tables, &mut diags) {
            backends.push((p.name.clone(), Arc::new(b)));
        }
    }
    let find = |name: &str| {
        backends
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
    };
    // The backends by name, built when a dynamic `use_backend` first needs them.
    let by_name = std::sync::OnceLock::new();
    let mut frontends = Vec::new();
    for p in config.proxies.iter().filter(|p| p.kind.has_frontend()) {
        let set = match AclSet::compile(&p.acls) {
            Ok(s) => s,
            Err((s, e)) => {
                diags.push(Diag::alert(&s, e));
                continue;
            }
        };
        let (
            Some(tcp_connection),
            Some(tcp_content),
            Some(mut http_request),
            Some(http_response),
            Some(http_after_response),
            Some(errors),
            Some(redirects),
        ) = (
            ok_or_push(
                compile_tcp(&set, &p.tcp_request, "connection", &identities, config),
                &mut diags,
            ),
            ok_or_push(
                compile_tcp(&set, &p.tcp_request, "content", &identities, config),
                &mut diags,
            ),
            ok_or_push(
                HttpRules::compile(&set, &p.http_request, false, &p.name, &p.name),
                &mut diags,
            ),
            ok_or_push(
                HttpRules::compile(&set, &p.http_response, true, &p.name, &p.name),
                &mut diags,
            ),
            ok_or_push(
                HttpRules::compile(&set, &p.http_after_response, true, &p.name, &p.name),
                &mut diags,
            ),
            ok_or_push(
                ErrorPages::compile(&p.errorfiles, &config.http_errors),
                &mut diags,
            ),
            ok_or_push(
                HttpRules::compile(&set, &p.redirects, false, &p.name, &p.name),
                &mut diags,
            ),
        )
        else {
            continue;
        };
        http_request.bind_identities(&identities);
        let mut switching = Vec::new();
        for ub in &p.use_backends {
            let Some(cond) = ok_or_push(Cond::compile(&set, ub.cond.as_ref()), &mut diags) else {
                continue;
            };
            let target = if ub.dynamic {
                match LogFormatSpec::compile_in(&ub.backend, FormatContext::FrontendRequest) {
                    // A format of plain text (`be%%1`) is a static name, as in HAProxy.
                    Ok(f) => match f.literal() {
                        Some(name) => find(&name).map(Target::Static),
                        None => Some(Target::Dynamic {
                            format: Box::new(f),
                            backends: Arc::clone(
                                by_name
                                    .get_or_init(|| Arc::new(backends.iter().cloned().collect())),
                            ),
                        }),
                    },
                    Err(e) => {
                        diags.push(Diag::alert(
                            &ub.span,
                            format!("failed to parse use_backend rule '{}' : {e}.", ub.backend),
                        ));
                        None
                    }
                }
            } else {
                find(&ub.backend).map(Target::Static)
            };
            if let Some(target) = target {
                switching.push(Switch { cond, target });
            }
        }
        let switch_index =
            crate::acl::RuleIndex::build(switching.iter().map(|s| s.cond.compiled()));
        let monitor_fail: Vec<Cond> = p
            .monitor_fail
            .iter()
            .filter_map(|c| ok_or_push(Cond::compile(&set, Some(c)), &mut diags))
            .collect();
        let default_backend = match &p.default_backend {
            Some((n, _)) => find(n),
            None if p.kind.has_backend() => find(&p.name),
            None => None,
        };
        let backend_mode = default_backend
            .as_ref()
            .map(|b| b.conn_mode)
            .unwrap_or_default();
        let log = build_log(config, p, &mut diags);
        let unique_id = match &p.unique_id_format {
            Some((f, span)) => match LogFormatSpec::compile_in(f, FormatContext::HttpRequest) {
                Ok(format) => Some(crate::runtime::frontend::UniqueId {
                    format,
                    header: p
                        .unique_id_header
                        .as_ref()
                        .map(|h| h.as_bytes().to_ascii_lowercase()),
                }),
                Err(e) => {
                    diags.push(Diag::alert(span, format!("unique-id-format : {e}")));
                    None
                }
            },
            None => None,
        };
        let bases = crate::tls::Bases::of(g);
        let bind_tls = p
            .binds
            .iter()
            .map(|b| {
                b.tls.ssl.then(|| {
                    crate::tls::store::bind(&b.tls, &g.ssl_bind, &bases, &b.span.to_string())
                        .map_err(|e| diags.push(Diag::alert(&b.span, format!("bind : {e}"))))
                        .ok()
                })?
            })
            .collect();
        let t = &p.timeouts;
        frontends.push(Arc::new(Frontend {
            name: p.name.clone(),
            mode: p.mode,
            binds: p.binds.clone(),
            bind_tls,
            inspect_delay: p
                .tcp_request
                .iter()
                .rev()
                .find(|r| r.stage == "inspect-delay")
                .and_then(|r| crate::config::value::duration(&r.action, "inspect-delay").ok())
                .filter(|d| !d.is_zero()),
            monitor_uri: p
                .monitor_uri
                .clone()
                .filter(|_| p.mode == crate::config::model::Mode::Http),
            monitor_fail,
            maxconn: p.maxconn.unwrap_or(0),
            timeouts: FrontendTimeouts {
                client: t.client,
                client_fin: t.client_fin,
                http_request: t.http_request,
                http_keep_alive: t.http_keep_alive,
                tarpit: t.tarpit.or(t.connect),
            },
            tcp_connection,
            tcp_content,
            http_request,
            http_response,
            http_after_response,
            redirects,
            switching,
            switch_index,
            default_backend,
            conn_mode: if p.kind.has_backend() {
                merge_mode(p.options.http_conn_mode, backend_mode)
            } else {
                p.options.http_conn_mode
            },
            forwardfor: p.options.forwardfor.clone(),
            originalto: p.options.originalto.clone(),
            errors,
            buffer_request: p.options.http_buffer_request,
            log,
            clitcpka: p.options.clitcpka || p.options.tcpka,
            nolinger: p.options.nolinger,
            smart_accept: p
                .options
                .tcp_smart_accept
                .unwrap_or(p.mode == crate::config::model::Mode::Http),
            pgsql: p.pgsql.clone(),
            live: store.frontend(&p.name),
            unique_id,
            capture_req: lower_captures(&p.capture_req),
            capture_res: lower_captures(&p.capture_res),
            stats: StatsPage::compile(config, p, &set, &mut diags).map(Arc::new),
        }));
    }
    let proc_vars = match super::procvars::ProcVars::from_global(&config.global.set_vars) {
        Ok(v) => Arc::new(v),
        Err(d) => {
            diags.push(d);
            Arc::default()
        }
    };
    if diags.iter().any(Diag::is_alert) {
        return Err(diags);
    }
    global.reads_req_body = crate::acl::req_body_lookups() != body_lookups;
    let mut proxies = super::proxies::compile(config, global.maxconn);
    // A server's `sid` is its id in the live state: stable when servers are added or
    // deleted at runtime, as HAProxy's (the position, for a first configuration).
    for m in proxies.iter_mut().filter(|m| m.backend) {
        if let Some((_, b)) = backends.iter().find(|(n, _)| *n == m.name) {
            for sm in &mut m.servers {
                if let Some(s) = b.servers.iter().find(|s| s.name == sm.name) {
                    sm.sid = s.id as u32 + 1;
                }
            }
        }
    }
    Ok(Snapshot {
        tables,
        proc_vars,
        proxies,
        global,
        frontends,
        backends: backends.into_iter().map(|(_, b)| b).collect(),
        userlists: crate::runtime::userlist::Userlists::compile(&config.userlists),
        identities: Arc::new(identities),
    })
}

/// The effective HTTP connection mode of a frontend/backend pair (the most restrictive).
pub fn conn_mode(fe: HttpConnMode, be: HttpConnMode) -> HttpConnMode {
    merge_mode(fe, be)
}
