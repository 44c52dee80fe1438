//! The Prometheus exporter (`http-request use-service prometheus-exporter`): the
//! metric families of HAProxy 2.6's built-in exporter (addons/promex), with its names,
//! types, labels and help texts, in its order, as text exposition format 0.0.4.
//!
//! As HAProxy's: a family's `# HELP`/`# TYPE` lines come before its first sample and
//! are left out when it has none; for each family, the objects in configuration order;
//! HTTP-only families skip objects in `mode tcp`; an empty field is `NaN`; times are
//! floats in seconds. gatehouse adds one family of its own after them, only when an
//! `identity` section has an audit log: `gatehouse_identity_audit_write_failures_total`.

use super::fields::col;
use super::info;
use super::info_fields::INFO;
use super::model::{ObjType, Row, SrvState, Value};
use super::prom_metrics::{FAMILIES, Family, Scope};
use crate::config::model::Mode;
use crate::runtime::snapshot::Snapshot;
use std::fmt::Write;

/// The exporter's query parameters (`/metrics?scope=backend&scope=server&no-maint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// `scope=global`: the `haproxy_process_*` families.
    pub process: bool,
    /// `scope=frontend`.
    pub frontend: bool,
    /// `scope=backend`.
    pub backend: bool,
    /// `scope=server`.
    pub server: bool,
    /// `no-maint`: servers in maintenance are left out.
    pub no_maint: bool,
}

impl Default for Query {
    /// Every scope, servers in maintenance included.
    fn default() -> Self {
        Query {
            process: true,
            frontend: true,
            backend: true,
            server: true,
            no_maint: false,
        }
    }
}

impl Query {
    /// Reads the query string of `target` as HAProxy's exporter does: each `scope`
    /// adds one (`*`: all; empty: none), none means all; `no-maint`. `None` (a 400
    /// answer) for a `scope` without a value or with an unknown one.
    pub fn parse(target: &[u8]) -> Option<Query> {
        let Some(q) = target
            .iter()
            .position(|c| *c == b'?')
            .map(|i| &target[i + 1..])
        else {
            return Some(Query::default());
        };
        let mut out = Query {
            process: false,
            frontend: false,
            backend: false,
            server: false,
            no_maint: false,
        };
        let mut scoped = false;
        for pair in q.split(|c| *c == b'&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.iter().position(|c| *c == b'=') {
                Some(i) => (
                    super::admin::decode(&pair[..i]),
                    Some(super::admin::decode(&pair[i + 1..])),
                ),
                None => (super::admin::decode(pair), None),
            };
            match (k.as_str(), v.as_deref()) {
                ("scope", None) => return None,
                ("scope", Some(v)) => {
                    scoped = true;
                    match v {
                        "" => {
                            out.process = false;
                            out.frontend = false;
                            out.backend = false;
                            out.server = false;
                        }
                        "*" => {
                            out.process = true;
                            out.frontend = true;
                            out.backend = true;
                            out.server = true;
                        }
                        "global" => out.process = true,
                        "frontend" => out.frontend = true,
                        "backend" => out.backend = true,
                        "server" => out.server = true,
                        // Scopes gatehouse has nothing for yet.
                        "listener" | "sticktable" => {}
                        _ => return None,
                    }
                }
                ("no-maint", _) => out.no_maint = true,
                _ => {}
            }
        }
        if !scoped {
            out = Query {
                no_maint: out.no_maint,
                ..Query::default()
            };
        }
        Some(out)
    }
}

/// The `Content-Type` of the exporter's answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The `state` labels of `haproxy_server_status` and the `agg_server_*` families.
const SRV_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];

/// The `state` labels of `haproxy_server_check_status` and `agg_check_status`: the
/// check statuses whose result is "failed" or better, in HAProxy's order.
const CHECK_STATES: [&str; 16] = [
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];

/// The `code` labels of the `http_responses_total` families, with their columns.
const CODES: [(&str, usize); 6] = [
    ("1xx", col::HRSP_1XX),
    ("2xx", col::HRSP_2XX),
    ("3xx", col::HRSP_3XX),
    ("4xx", col::HRSP_4XX),
    ("5xx", col::HRSP_5XX),
    ("other", col::HRSP_OTHER),
];

/// Families that only HTTP proxies report.
const HTTP_ONLY: [usize; 9] = [
    col::REQ_RATE_MAX,
    col::REQ_TOT,
    col::INTERCEPTED,
    col::CACHE_LOOKUPS,
    col::CACHE_HITS,
    col::COMP_IN,
    col::COMP_OUT,
    col::COMP_BYP,
    col::COMP_RSP,
];

/// Time columns, reported in seconds.
const TIMES: [usize; 8] = [
    col::QTIME,
    col::CTIME,
    col::RTIME,
    col::TTIME,
    col::QTIME_MAX,
    col::CTIME_MAX,
    col::RTIME_MAX,
    col::TTIME_MAX,
];

/// Writes one family: header before the first sample.
struct Out<'a> {
    out: &'a mut String,
    family: &'a Family,
    started: bool,
}

impl Out<'_> {
    fn sample(&mut self, labels: &[(&str, &str)], value: &str) {
        if !self.started {
            let kind = if self.family.counter {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                self.out,
                "# HELP {} {}\n# TYPE {} {kind}",
                self.family.name, self.family.help, self.family.name
            );
            self.started = true;
        }
        self.out.push_str(self.family.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        self.out.push(' ');
        self.out.push_str(value);
        self.out.push('\n');
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if v.contains(['\\', '"', '\n']) {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        v.into()
    }
}

/// A sample value: integers as they are, `NaN` for empty fields and strings.
fn number(v: &Value) -> String {
    match v {
        Value::U32(n) => n.to_string(),
        Value::S32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::Empty | Value::Str(_) => "NaN".into(),
    }
}

/// A time column (milliseconds) in seconds, as HAProxy's `%f`.
fn seconds(v: &Value) -> String {
    match v.number() {
        Some(ms) => format!("{:.6}", ms / 1000.0),
        None => "NaN".into(),
    }
}

fn col_of(name: &str) -> Option<usize> {
    super::fields::FIELDS.iter().position(|f| f.name == name)
}

/// The exporter's whole answer for `snap`, from `rows` (every `show stat` line), for
/// the scopes of `q`.
pub fn write_metrics(out: &mut String, snap: &Snapshot, rows: &[Row], q: &Query) {
    let infos = info::values(snap);
    let kept: Vec<Row>;
    let rows = if q.no_maint {
        kept = rows
            .iter()
            .filter(|r| r.obj != ObjType::Server || r.state != Some(SrvState::Maint))
            .cloned()
            .collect();
        &kept[..]
    } else {
        rows
    };
    for family in FAMILIES {
        let wanted = match family.scope {
            Scope::Process => q.process,
            Scope::Frontend => q.frontend,
            Scope::Backend => q.backend,
            Scope::Server => q.server,
        };
        if !wanted {
            continue;
        }
        let mut o = Out {
            out,
            family,
            started: false,
        };
        match family.scope {
            Scope::Process => process(&mut o, &infos),
            Scope::Frontend => {
                objects(&mut o, rows, ObjType::Frontend);
            }
            Scope::Backend => {
                objects(&mut o, rows, ObjType::Backend);
            }
            Scope::Server => {
                objects(&mut o, rows, ObjType::Server);
            }
        }
    }
    if q.process {
        audit_failures(out, snap);
        identity_work(out, snap);
    }
}

/// gatehouse only, after HAProxy's families and only when an `identity` section has
/// an `audit-log`: `gatehouse_identity_audit_write_failures_total{identity="NAME"}`,
/// the audit lines that could not be written (failed writes and lines dropped from a
/// full queue); and for sections with `audit-required`,
/// `gatehouse_identity_audit_refusals_total{identity="NAME"}`, the requests refused
/// (503) meanwhile.
fn audit_failures(out: &mut String, snap: &Snapshot) {
    const NAME: &str = "gatehouse_identity_audit_write_failures_total";
    let mut started = false;
    for p in &snap.identities.providers {
        let Some(log) = &p.audit else { continue };
        if !started {
            let _ = writeln!(
                out,
                "# HELP {NAME} Audit log lines that could not be written (gatehouse only).\n# TYPE {NAME} counter"
            );
            started = true;
        }
        let _ = writeln!(
            out,
            "{NAME}{{identity=\"{}\"}} {}",
            escape(&p.name),
            log.failures()
        );
    }
    let refused = snap
        .identities
        .providers
        .iter()
        .filter(|p| p.section.audit_required)
        .filter_map(|p| Some((p, p.audit.as_ref()?)));
    const REFUSED: &str = "gatehouse_identity_audit_refusals_total";
    let mut started = false;
    for (p, log) in refused {
        if !started {
            let _ = writeln!(
                out,
                "# HELP {REFUSED} Requests refused (503) because the audit log could not be written, with audit-required (gatehouse only).\n# TYPE {REFUSED} counter"
            );
            started = true;
        }
        let _ = writeln!(
            out,
            "{REFUSED}{{identity=\"{}\"}} {}",
            escape(&p.name),
            log.refusals()
        );
    }
}

/// gatehouse only, after HAProxy's families, per `identity` section:
/// `gatehouse_identity_signature_checks_total{identity="NAME"}`, the bearer tokens
/// verified in full (not found in the validation cache), and
/// `gatehouse_identity_session_opens_total{identity="NAME"}`, the session cookies
/// decrypted (once per request that carries one).
fn identity_work(out: &mut String, snap: &Snapshot) {
    let providers = &snap.identities.providers;
    if providers.is_empty() {
        return;
    }
    type Count = fn(&crate::identity::Provider) -> u64;
    let families: [(&str, &str, Count); 2] = [
        (
            "gatehouse_identity_signature_checks_total",
            "Bearer tokens verified in full, not found in the validation cache (gatehouse only).",
            |p| p.signature_checks(),
        ),
        (
            "gatehouse_identity_session_opens_total",
            "Session cookies decrypted (gatehouse only).",
            |p| p.sessions.as_ref().map_or(0, |s| s.opens()),
        ),
    ];
    for (name, help, count) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for p in providers {
            let _ = writeln!(
                out,
                "{name}{{identity=\"{}\"}} {}",
                escape(&p.name),
                count(p)
            );
        }
    }
}

fn process(o: &mut Out<'_>, infos: &[Value]) {
    let Some(i) = INFO.iter().position(|f| f.name == o.family.field) else {
        return;
    };
    if o.family.field == "Build info" {
        let version = info::version();
        o.sample(&[("version", &version)], "1");
    } else {
        o.sample(&[], &number(&infos[i]));
    }
}

/// The samples of one frontend, backend or server family.
fn objects(o: &mut Out<'_>, rows: &[Row], kind: ObjType) {
    let field = o.family.field;
    let of_kind = || rows.iter().filter(move |r| r.obj == kind);
    let labels = |r: &Row| -> Vec<(&'static str, String)> {
        let mut l = vec![("proxy", r.pxname().to_owned())];
        if kind == ObjType::Server {
            l.push(("server", r.svname().to_owned()));
        }
        l
    };
    let emit = |o: &mut Out<'_>, r: &Row, extra: Option<(&str, &str)>, value: &str| {
        let base = labels(r);
        let mut l: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(e) = extra {
            l.push(e);
        }
        o.sample(&l, value);
    };
    if field == "hrsp_1xx" {
        for (code, c) in CODES {
            for r in of_kind().filter(|r| r.mode == Mode::Http) {
                emit(o, r, Some(("code", code)), &number(r.get(c)));
            }
        }
        return;
    }
    match field {
        "status" => {
            for r in of_kind() {
                let states: &[&str] = match kind {
                    ObjType::Server => &SRV_STATES,
                    _ => &["DOWN", "UP"],
                };
                let current = match (kind, r.state, r.get(col::STATUS)) {
                    (ObjType::Server, Some(_), _) => row_state_label(r),
                    (ObjType::Frontend, _, _) => "UP",
                    (_, _, Value::Str(s)) if s.starts_with("UP") => "UP",
                    _ => "DOWN",
                };
                for s in states {
                    emit(
                        o,
                        r,
                        Some(("state", s)),
                        if *s == current { "1" } else { "0" },
                    );
                }
            }
        }
        "agg_server_status" | "agg_server_check_status" | "agg_check_status" => {
            for r in of_kind() {
                let servers: Vec<&Row> = rows
                    .iter()
                    .filter(|s| s.obj == ObjType::Server && s.proxy_id == r.proxy_id)
                    .collect();
                if servers.is_empty() {
                    continue;
                }
                if field == "agg_check_status" {
                    for st in CHECK_STATES {
                        let n = servers
                            .iter()
                            .filter(
                                |s| matches!(s.get(col::CHECK_STATUS), Value::Str(c) if c == st),
                            )
                            .count();
                        emit(o, r, Some(("state", st)), &n.to_string());
                    }
                } else {
                    for st in SRV_STATES {
                        let n = servers
                            .iter()
                            .filter(|s| s.state.is_some() && row_state_label(s) == st)
                            .count();
                        emit(o, r, Some(("state", st)), &n.to_string());
                    }
                }
            }
        }
        "check_status" => {
            for r in of_kind() {
                let Value::Str(cur) = r.get(col::CHECK_STATUS) else {
                    continue;
                };
                for st in CHECK_STATES {
                    emit(o, r, Some(("state", st)), if st == cur { "1" } else { "0" });
                }
            }
        }
        "check_code" => {
            for r in of_kind().filter(|r| *r.get(col::CHECK_STATUS) != Value::Empty) {
                let code = match r.get(col::CHECK_CODE) {
                    Value::Empty => "0".to_owned(),
                    v => number(v),
                };
                emit(o, r, None, &code);
            }
        }
        "check_duration" => {
            for r in of_kind().filter(|r| *r.get(col::CHECK_DURATION) != Value::Empty) {
                emit(o, r, None, &seconds(r.get(col::CHECK_DURATION)));
            }
        }
        _ => {
            let Some(c) = col_of(field) else {
                return;
            };
            let http_only = HTTP_ONLY.contains(&c);
            for r in of_kind() {
                if http_only && r.mode != Mode::Http {
                    continue;
                }
                let v = if TIMES.contains(&c) && kind != ObjType::Frontend {
                    seconds(r.get(c))
                } else {
                    number(r.get(c))
                };
                emit(o, r, None, &v);
            }
        }
    }
}

/// A server line's `state` label, as HAProxy's `promex_srv_status`: a stopping server
/// reads `NOLB`, a drained one `DRAIN`.
fn row_state_label(r: &Row) -> &'static str {
    match (r.state, r.get(col::STATUS)) {
        (Some(SrvState::Up), Value::Str(s)) if s.starts_with("NOLB") => "NOLB",
        (Some(SrvState::Up), Value::Str(s)) if s.starts_with("DRAIN") => "DRAIN",
        (Some(s), _) => srv_state_label(s),
        (None, _) => "DOWN",
    }
}

fn srv_state_label(s: SrvState) -> &'static str {
    match s {
        SrvState::Down => "DOWN",
        SrvState::Up => "UP",
        SrvState::Maint => "MAINT",
    }
}
