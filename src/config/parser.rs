//! The section parser: turns lexed lines into the typed model. Sections start with their
//! keyword; proxies copy their `defaults` when they start, as in HAProxy; each line's
//! keyword is looked up in the section's table and parsed by the row's function.
//! Errors accumulate so that every one is reported.

use super::diag::Diag;
use super::keyword::{ProxyCtx, Status, scope_bit};
use super::lexer::Line;
use super::model::{Config, DefaultPath, EnvChange, Proxy, ProxyKind, Userlist};
use super::span::Span;
use super::suggest::closest;
use super::{credentials, global, identity, logline, proxy, userlist};
use crate::config::semantics::{Semantics, SyntaxOnly};
use std::path::{Path, PathBuf};

/// Section keywords gatehouse implements.
pub const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "http-errors",
    "identity",
    "credentials",
];

/// Real HAProxy section keywords gatehouse does not implement yet.
pub const SECTIONS_NOT_YET: &[&str] = &[
    "peers",
    "resolvers",
    "mailers",
    "program",
    "ring",
    "cache",
    "fcgi-app",
    "log-forward",
    "dynamic-update",
    "crt-store",
    "traces",
];

/// Keywords whose value HAProxy keeps (and checks after parsing) even where they have
/// no effect: a `backend`'s `default_backend`/`use_backend` must still name a backend.
const KEPT_WHEN_IGNORED: &[&str] = &["default_backend", "use_backend"];

enum Current {
    None,
    Global,
    Defaults(usize),
    Proxy(usize),
    Userlist(usize),
    HttpErrors(usize),
    Identity(usize),
    Credentials(usize),
    Skipped,
}

/// Accumulates the configuration across files.
pub struct Parser {
    /// The checks that need compiled code.
    sem: &'static dyn Semantics,
    config: Config,
    defaults: Vec<Proxy>,
    cur: Current,
    diags: Vec<Diag>,
    /// The file being parsed (for `default-path config|parent`).
    file: String,
    /// `log` lines that did not name a format (see [`logline::apply_send_hostname`]).
    implicit_log_format: Vec<Span>,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

fn valid_name(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
}

impl Parser {
    /// An empty parser that checks syntax only ([`SyntaxOnly`]).
    pub fn new() -> Self {
        Self::with_semantics(&SyntaxOnly)
    }

    /// An empty parser that checks log-formats and errorfiles with `sem` as it goes.
    pub fn with_semantics(sem: &'static dyn Semantics) -> Self {
        Parser {
            sem,
            config: Config::default(),
            defaults: Vec::new(),
            cur: Current::None,
            diags: Vec::new(),
            file: String::new(),
            implicit_log_format: Vec::new(),
        }
    }

    /// Parses the lines of one file. A section ends at the end of its file.
    pub fn feed(&mut self, lines: &[Line]) {
        if let Some(first) = lines.first() {
            self.begin_file(&first.span.file);
        }
        for line in lines {
            self.feed_line(line);
        }
        self.end_file();
    }

    /// Starts a file named `name` (as given on the command line): relative paths in
    /// it resolve according to `default-path` and this name.
    pub fn begin_file(&mut self, name: &str) {
        self.file = name.to_owned();
        self.cur = Current::None;
    }

    /// Parses one line of the current file.
    pub fn feed_line(&mut self, line: &Line) {
        self.line(line);
    }

    /// Ends the current file: its last section ends with it.
    pub fn end_file(&mut self) {
        self.cur = Current::None;
    }

    /// Records a diagnostic found outside the parser (the lexer's), keeping file order.
    pub fn push_diag(&mut self, diag: Diag) {
        self.diags.push(diag);
    }

    /// The `setenv`-family lines parsed so far, in order.
    pub fn env_changes(&self) -> &[EnvChange] {
        &self.config.global.env_changes
    }

    /// The directory relative file names are resolved against, per `default-path`
    /// and the current file; `None` for the working directory.
    pub fn base_dir(&self) -> Option<PathBuf> {
        base_dir(&self.config.global.default_path, &self.file)
    }

    /// The configuration and the diagnostics gathered so far.
    pub fn finish(mut self) -> (Config, Vec<Diag>) {
        logline::apply_send_hostname(&mut self.config, &self.implicit_log_format);
        super::http_errors::resolve_replies(&mut self.config, &mut self.diags);
        (self.config, self.diags)
    }

    fn alert(&mut self, span: &Span, msg: impl Into<String>) {
        self.diags.push(Diag::alert(span, msg));
    }

    fn line(&mut self, line: &Line) {
        let w = &line.words;
        let first = w[0].as_str();
        if first == "log" && !logline::format_given(w) {
            self.implicit_log_format.push(line.span.clone());
        }
        if SECTIONS.contains(&first) {
            self.section(line);
            return;
        }
        if first == "peers" {
            self.alert(
                &line.span,
                format!(
                    "section 'peers' : {}",
                    crate::config::proxy::basic::PEERS_REFUSED
                ),
            );
            self.cur = Current::Skipped;
            return;
        }
        if SECTIONS_NOT_YET.contains(&first) {
            self.alert(
                &line.span,
                format!(
                    "section '{first}' is a HAProxy section that gatehouse does not support yet."
                ),
            );
            self.cur = Current::Skipped;
            return;
        }
        match self.cur {
            Current::None => {
                let hint = closest(first, SECTIONS.iter().copied())
                    .map(|c| format!("; did you mean '{c}' maybe ?"))
                    .unwrap_or_else(|| ".".into());
                self.alert(
                    &line.span,
                    format!("unknown keyword '{first}' out of section{hint}"),
                );
            }
            Current::Skipped => {}
            Current::Global => self.global_line(line),
            Current::Userlist(i) => self.userlist_line(i, line),
            Current::HttpErrors(i) => {
                let base = self.base_dir();
                let section = &mut self.config.http_errors[i];
                if let Err(e) = super::http_errors::line(
                    section,
                    &line.words,
                    &line.span,
                    base.as_deref(),
                    self.sem,
                ) {
                    self.alert(&line.span, e);
                }
            }
            Current::Identity(i) => {
                if let Err(e) = identity::line(&mut self.config.identities[i], &line.words) {
                    self.alert(&line.span, e);
                }
            }
            Current::Credentials(i) => {
                if let Err(e) = credentials::line(&mut self.config.credentials[i], &line.words) {
                    self.alert(&line.span, e);
                }
            }
            Current::Defaults(i) => {
                let mut p = std::mem::replace(
                    &mut self.defaults[i],
                    Proxy::new("", ProxyKind::Defaults, line.span.clone()),
                );
                self.proxy_line(&mut p, line);
                self.defaults[i] = p;
            }
            Current::Proxy(i) => {
                let mut p = std::mem::replace(
                    &mut self.config.proxies[i],
                    Proxy::new("", ProxyKind::Defaults, line.span.clone()),
                );
                self.proxy_line(&mut p, line);
                self.config.proxies[i] = p;
            }
        }
    }

    fn section(&mut self, line: &Line) {
        let w = &line.words;
        let span = &line.span;
        match w[0].as_str() {
            "global" => {
                if let Some(x) = w.get(1) {
                    self.alert(
                        span,
                        format!("'global' cannot handle unexpected argument '{x}'."),
                    );
                }
                self.cur = Current::Global;
            }
            "userlist" => {
                let Some(name) = w.get(1) else {
                    self.alert(span, "'userlist' expects <name> as arguments.");
                    self.cur = Current::Skipped;
                    return;
                };
                if let Some(i) = self.config.userlists.iter().position(|u| &u.name == name) {
                    // HAProxy warns and goes on; the lines that follow complete the
                    // first userlist of that name.
                    let msg = format!("ignoring duplicated userlist '{name}'.");
                    self.diags.push(Diag::warning(span, msg));
                    self.cur = Current::Userlist(i);
                    return;
                }
                if let Some(msg) = userlist::STATUS.warning("userlist") {
                    self.diags.push(Diag::warning(span, msg));
                }
                self.config.userlists.push(Userlist {
                    name: name.clone(),
                    span: span.clone(),
                    groups: Vec::new(),
                    users: Vec::new(),
                });
                self.cur = Current::Userlist(self.config.userlists.len() - 1);
            }
            "http-errors" => {
                match super::http_errors::open(&self.config.http_errors, w, span) {
                    Ok(section) => self.config.http_errors.push(section),
                    Err((msg, go_on)) => {
                        self.alert(span, msg);
                        if !go_on {
                            self.cur = Current::Skipped;
                            return;
                        }
                        // HAProxy reads the lines into the new (refused) section.
                        let name = w[1].clone();
                        self.config
                            .http_errors
                            .push(crate::config::model::HttpErrors {
                                name,
                                span: span.clone(),
                                pages: Vec::new(),
                            });
                    }
                }
                self.cur = Current::HttpErrors(self.config.http_errors.len() - 1);
            }
            "identity" => match identity::begin(&mut self.config, w, span) {
                Ok(i) => self.cur = Current::Identity(i),
                Err(e) => {
                    self.alert(span, e);
                    self.cur = Current::Skipped;
                }
            },
            "credentials" => match credentials::begin(&mut self.config, w, span) {
                Ok(i) => self.cur = Current::Credentials(i),
                Err(e) => {
                    self.alert(span, e);
                    self.cur = Current::Skipped;
                }
            },
            kw => {
                let kind = match kw {
                    "defaults" => ProxyKind::Defaults,
                    "frontend" => ProxyKind::Frontend,
                    "backend" => ProxyKind::Backend,
                    _ => ProxyKind::Listen,
                };
                self.proxy_section(kind, line);
            }
        }
    }

    fn proxy_section(&mut self, kind: ProxyKind, line: &Line) {
        let w = &line.words;
        let span = &line.span;
        let kw = w[0].as_str();
        let mut name = String::new();
        let mut from: Option<String> = None;
        let mut i = 1;
        if let Some(n) = w.get(1).filter(|n| *n != "from") {
            name = n.clone();
            i = 2;
        }
        match (w.get(i).map(String::as_str), w.get(i + 1)) {
            (None, _) => {}
            (Some("from"), Some(d)) => from = Some(d.clone()),
            (Some("from"), None) => self.alert(
                span,
                format!("'{kw}' : 'from' expects a defaults section name."),
            ),
            (Some(x), _) => self.alert(span, format!("'{kw} {name}' : unexpected argument '{x}'.")),
        }
        if name.is_empty() && kind != ProxyKind::Defaults {
            self.alert(span, format!("'{kw}' expects <name> as argument."));
            self.cur = Current::Skipped;
            return;
        }
        if let Some(bad) = valid_name(&name) {
            self.alert(
                span,
                format!("character '{bad}' is not permitted in '{kw}' name '{name}'."),
            );
        }
        // The defaults this proxy starts from: `from NAME`, else the last defaults section.
        // A `defaults` section without `from` resets everything to the documented
        // values, as in HAProxy: it does not inherit the previous `defaults`.
        let base = match &from {
            None if kind == ProxyKind::Defaults => None,
            Some(d) => match self.defaults.iter().rev().find(|p| &p.name == d) {
                Some(p) => Some(p.clone()),
                None => {
                    self.alert(
                        span,
                        format!("defaults section '{d}' not found for {kw} '{name}'."),
                    );
                    None
                }
            },
            None => self.defaults.last().cloned(),
        };
        let mut p = match base {
            Some(mut b) => {
                b.from = Some(b.name.clone());
                b.name = name.clone();
                b.kind = kind;
                b.span = span.clone();
                b
            }
            None => Proxy::new(name.clone(), kind, span.clone()),
        };
        if from.is_some() {
            p.from = from;
        }
        if kind == ProxyKind::Defaults {
            if let Some(prev) = self
                .defaults
                .iter()
                .find(|d| !name.is_empty() && d.name == name)
            {
                {
                    let msg = format!(
                        "defaults section '{name}' has the same name as another defaults section declared at {}.",
                        prev.span
                    );
                    self.diags.push(Diag::warning(span, msg));
                }
            }
            self.defaults.push(p);
            self.cur = Current::Defaults(self.defaults.len() - 1);
            return;
        }
        let clash = self.config.proxies.iter().find(|q| {
            q.name == name
                && ((q.kind.has_frontend() && kind.has_frontend())
                    || (q.kind.has_backend() && kind.has_backend()))
        });
        if let Some(q) = clash {
            let msg = format!(
                "{kw} '{name}' has the same name as {} '{}' declared at {}.",
                q.kind.keyword(),
                q.name,
                q.span
            );
            self.alert(span, msg);
        }
        self.config.proxies.push(p);
        self.cur = Current::Proxy(self.config.proxies.len() - 1);
    }

    fn global_line(&mut self, line: &Line) {
        let w = &line.words;
        let Some(k) = global::find(w) else {
            let hint = closest(
                &w[0],
                global::all()
                    .map(|k| k.name)
                    .chain(SECTIONS.iter().copied()),
            )
            .map(|c| format!("; did you mean '{c}' maybe ?"))
            .unwrap_or_default();
            self.alert(
                &line.span,
                format!("unknown keyword '{}' in 'global' section{hint}", w[0]),
            );
            return;
        };
        match (k.status, k.parse) {
            (st, Some(parse)) if st.loads() => {
                let mut diags = Vec::new();
                let r = parse(&mut self.config.global, w, &line.span, &mut diags);
                self.diags.append(&mut diags);
                match r {
                    Err(e) => self.alert(&line.span, locate(&e, k.name, "global")),
                    Ok(()) => {
                        if let Some(msg) = st.warning(k.name) {
                            self.diags.push(Diag::warning(&line.span, msg));
                        }
                    }
                }
            }
            (Status::Never(why), _) => self.alert(
                &line.span,
                format!(
                    "'{}' in section 'global' is not supported by gatehouse: {why}",
                    k.name
                ),
            ),
            _ => self.alert(&line.span, not_yet(k.name, "global")),
        }
    }

    fn userlist_line(&mut self, i: usize, line: &Line) {
        let w = &line.words;
        match userlist::KEYWORDS.iter().find(|k| k.name == w[0]) {
            Some(k) => {
                if let Err(e) = (k.parse)(&mut self.config.userlists[i], w, &line.span) {
                    self.alert(&line.span, locate(&e, k.name, "userlist"));
                }
            }
            None => {
                let hint = closest(
                    &w[0],
                    userlist::KEYWORDS
                        .iter()
                        .map(|k| k.name)
                        .chain(SECTIONS.iter().copied()),
                )
                .map(|c| format!("; did you mean '{c}' maybe ?"))
                .unwrap_or_default();
                self.alert(
                    &line.span,
                    format!("unknown keyword '{}' in 'userlist' section{hint}", w[0]),
                );
            }
        }
    }

    fn proxy_line(&mut self, p: &mut Proxy, line: &Line) {
        let span = &line.span;
        let (negated, w) = match line.words.split_first() {
            Some((no, rest)) if no == "no" && !rest.is_empty() => (true, rest),
            _ => (false, &line.words[..]),
        };
        let section = p.kind.keyword();
        let Some((k, name_words)) = proxy::find(w) else {
            if w[0] == "option" {
                let o = w.get(1).map(String::as_str).unwrap_or("");
                let opts = proxy::all().filter_map(|k| k.name.strip_prefix("option "));
                let hint = closest(o, opts)
                    .map(|c| format!("; did you mean '{c}' maybe ?"))
                    .unwrap_or_else(|| ".".into());
                self.alert(span, format!("unknown option '{o}'{hint}"));
                return;
            }
            if proxy::FAMILIES.contains(&w[0].as_str()) {
                let sub = w.get(1).map(String::as_str).unwrap_or("");
                let prefix = format!("{} ", w[0]);
                let subs = proxy::all().filter_map(|k| k.name.strip_prefix(prefix.as_str()));
                let hint = closest(sub, subs)
                    .map(|c| format!("; did you mean '{} {c}' maybe ?", w[0]))
                    .unwrap_or_default();
                self.alert(
                    span,
                    format!(
                        "unknown keyword '{} {sub}' in '{section}' section{hint}",
                        w[0]
                    ),
                );
                return;
            }
            let names = proxy::all()
                .map(|k| k.name.split(' ').next().unwrap_or(k.name))
                .chain(SECTIONS.iter().copied());
            let hint = closest(&w[0], names)
                .map(|c| format!("; did you mean '{c}' maybe ?"))
                .unwrap_or_default();
            self.alert(
                span,
                format!("unknown keyword '{}' in '{section}' section{hint}", w[0]),
            );
            return;
        };
        if negated && !(k.name.starts_with("option ") || k.name == "log") {
            self.alert(
                span,
                format!(
                    "negation/default currently supported only for options and log ('{}' is neither).",
                    k.name
                ),
            );
            return;
        }
        match k.status {
            Status::Supported | Status::Parsed(_) | Status::Ignored(_) => {}
            Status::NotYet => {
                self.alert(span, not_yet(k.name, section));
                return;
            }
            Status::Never(why) => {
                self.alert(
                    span,
                    format!(
                        "'{}' in section '{section}' is not supported by gatehouse: {why}",
                        k.name
                    ),
                );
                return;
            }
        }
        let _ = name_words;
        // A keyword that has no effect in this kind of section is still parsed, as
        // HAProxy does, so that its arguments are checked; the result is dropped.
        let mut ignored = None;
        if k.scope & scope_bit(p.kind) == 0 {
            if p.kind == ProxyKind::Defaults || k.name == "server" || k.name == "default-server" {
                let msg = if p.kind == ProxyKind::Defaults {
                    format!("'{}' not allowed in 'defaults' section.", k.name)
                } else {
                    format!(
                        "'{}' not allowed because {section} '{}' has no backend capability.",
                        k.name, p.name
                    )
                };
                self.alert(span, msg);
            } else {
                let cap = if p.kind == ProxyKind::Backend {
                    "frontend"
                } else {
                    "backend"
                };
                let msg = format!(
                    "'{}' ignored because {section} '{}' has no {cap} capability.",
                    k.name, p.name
                );
                self.diags.push(Diag::warning(span, msg));
                // HAProxy keeps an ignored backend reference and still requires the
                // backend to exist; other ignored values are dropped.
                if !KEPT_WHEN_IGNORED.contains(&k.name) {
                    ignored = Some(p.clone());
                }
            }
            if ignored.is_none() && !KEPT_WHEN_IGNORED.contains(&k.name) {
                return;
            }
        }
        let Some(parse) = k.parse else { return };
        let base = self.base_dir();
        let mut scratch_diags = Vec::new();
        let mut ctx = match ignored.as_mut() {
            Some(scratch) => ProxyCtx {
                proxy: scratch,
                span,
                diags: &mut scratch_diags,
                negated,
                base_dir: base.as_deref(),
                sem: self.sem,
            },
            None => ProxyCtx {
                proxy: p,
                span,
                diags: &mut self.diags,
                negated,
                base_dir: base.as_deref(),
                sem: self.sem,
            },
        };
        match parse(&mut ctx, w) {
            Err(e) => self.alert(span, locate(&e, k.name, section)),
            // A line ignored for its section already has its warning.
            Ok(()) if ignored.is_none() => {
                if let Some(msg) = k.status.warning(k.name) {
                    self.diags.push(Diag::warning(span, msg));
                }
            }
            Ok(()) => {}
        }
    }
}

/// The error for a real HAProxy keyword gatehouse does not implement yet.
pub fn not_yet(keyword: &str, section: &str) -> String {
    format!(
        "'{keyword}' in section '{section}' is a HAProxy keyword that gatehouse does not support yet."
    )
}

/// Makes a keyword's error name its section: `'KW …' in section 'SECTION' …` when the
/// message starts with the quoted keyword (`'timeout client' in section 'defaults' : …`),
/// else `'KW' in section 'SECTION' : MESSAGE`. Messages that already name a section are
/// kept as they are, and so are HAProxy's rule errors (`error detected in frontend 'fe'
/// while parsing …`), which name their proxy.
pub fn locate(msg: &str, keyword: &str, section: &str) -> String {
    if msg.contains("in section '")
        || msg.contains(&format!("'{section}' section"))
        || msg.starts_with("error detected ")
    {
        return msg.to_owned();
    }
    let first = keyword.split(' ').next().unwrap_or(keyword);
    if let Some(rest) = msg.strip_prefix('\'')
        && let Some(end) = rest.find('\'')
        && rest[..end].split(' ').next() == Some(first)
    {
        let (quoted, tail) = (&rest[..end], &rest[end + 1..]);
        let sep = if tail.starts_with([' ', '.', ',', ':']) {
            ""
        } else {
            " :"
        };
        return format!("'{quoted}' in section '{section}'{sep}{tail}");
    }
    if let Some(rest) = msg
        .strip_prefix(first)
        .and_then(|r| r.strip_prefix(" : ").or_else(|| r.strip_prefix(": ")))
    {
        return format!("'{first}' in section '{section}' : {rest}");
    }
    format!("'{keyword}' in section '{section}' : {msg}")
}

/// HAProxy's `default-path` directory for `file` (`cfg_parse_global()`): `config` is
/// the file's name up to its last slash (else the working directory), `parent` that
/// plus `..`.
pub fn base_dir(policy: &DefaultPath, file: &str) -> Option<PathBuf> {
    let dir = file.rfind('/').map(|i| &file[..i.max(1)]);
    match policy {
        DefaultPath::Current => None,
        DefaultPath::Config => dir.map(PathBuf::from),
        DefaultPath::Parent => Some(dir.map_or(PathBuf::from(".."), |d| Path::new(d).join(".."))),
        DefaultPath::Origin(p) => Some(p.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn errors_get_the_section_after_the_quoted_keyword_or_in_front() {
        assert_eq!(
            locate(
                "'maxconn' expects an integer argument, got 'x'",
                "maxconn",
                "global"
            ),
            "'maxconn' in section 'global' expects an integer argument, got 'x'"
        );
        assert_eq!(
            locate("'server b/s' : invalid port '0x'", "server", "backend"),
            "'server b/s' in section 'backend' : invalid port '0x'"
        );
        assert_eq!(
            locate(
                "unexpected character 'p' in 'timeout client'",
                "timeout client",
                "defaults"
            ),
            "'timeout client' in section 'defaults' : unexpected character 'p' in 'timeout client'"
        );
        assert_eq!(
            locate("log : unknown log facility 'local9'", "log", "global"),
            "'log' in section 'global' : unknown log facility 'local9'"
        );
        // A quoted word that is not the keyword is not taken for it.
        assert_eq!(
            locate("'level' expects 'user'.", "stats socket", "global"),
            "'stats socket' in section 'global' : 'level' expects 'user'."
        );
        // Messages that already name their section are kept.
        let m = "'http-request' not allowed in anonymous 'defaults' section.";
        assert_eq!(locate(m, "http-request", "defaults"), m);
        let m = "'bind :1' in section 'frontend': unknown keyword 'x'.";
        assert_eq!(locate(m, "bind", "frontend"), m);
    }
}
