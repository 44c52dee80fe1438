//! haproxy.cfg templating for tests: `{name}` placeholders (identifier
//! characters only, so HAProxy's anonymous ACLs `{ path_beg /x }` and
//! sample expressions `%[path]` are left alone) replaced by values, with
//! listen ports allocated on demand and remembered so a launcher can wait
//! for them.

use std::fmt::Display;

use super::free_port;

/// A config template plus the values for its placeholders.
///
/// ```ignore
/// let cfg = Config::new("frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
///                        backend be\n  server s1 {backend1}\n")
///     .listen_port("port")
///     .var("backend1", backend.addr());
/// let gh = Gatehouse::start_config(&cfg);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    template: String,
    vars: Vec<(String, String)>,
    listen_ports: Vec<(String, u16)>,
}

impl Config {
    /// A template; call [`Config::var`] / [`Config::listen_port`] to fill it.
    pub fn new(template: &str) -> Config {
        Config {
            template: template.to_string(),
            ..Config::default()
        }
    }

    /// Sets placeholder `{name}` to `value` (later calls override earlier).
    pub fn var(mut self, name: &str, value: impl Display) -> Config {
        self.vars.retain(|(n, _)| n != name);
        self.vars.push((name.to_string(), value.to_string()));
        self
    }

    /// Allocates a free port for placeholder `{name}` and records it as a
    /// port the proxy must listen on (see [`Config::listen_ports`]).
    pub fn listen_port(mut self, name: &str) -> Config {
        let port = free_port();
        self.listen_ports.push((name.to_string(), port));
        self.var(name, port)
    }

    /// The port allocated by [`Config::listen_port`] for `name`.
    pub fn port(&self, name: &str) -> u16 {
        self.listen_ports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("Config: no listen_port named {name:?}"))
    }

    /// A copy whose listen ports are allocated afresh (same names), e.g. to
    /// run gatehouse and haproxy side by side on one template.
    pub fn with_fresh_ports(&self) -> Config {
        let mut c = self.clone();
        for (name, _) in &self.listen_ports {
            c.listen_ports.retain(|(n, _)| n != name);
            c = c.listen_port(name);
        }
        c
    }

    /// All ports allocated with [`Config::listen_port`], in order.
    pub fn listen_ports(&self) -> Vec<u16> {
        self.listen_ports.iter().map(|(_, p)| *p).collect()
    }

    /// The config text with every placeholder replaced; panics naming any
    /// `{identifier}` left without a value. `${NAME}` environment references
    /// are HAProxy syntax and never treated as placeholders.
    pub fn render(&self) -> String {
        let out = render(&self.template, &self.vars);
        let missing = unreplaced_placeholders(&out);
        assert!(
            missing.is_empty(),
            "Config template has placeholders without a value: {missing:?}\n{out}"
        );
        out
    }
}

/// Replaces each `{name}` in `template` by its value from `vars`; unknown
/// placeholders and `${ENV}` references are left untouched.
pub fn render(template: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let env_ref = out.ends_with('$');
        match after.find('}') {
            Some(close) if !env_ref && is_ident(&after[..close]) => {
                let name = &after[..close];
                match vars.iter().find(|(n, _)| n == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Placeholders of the form `{identifier}` still present in `text`.
pub fn unreplaced_placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let env_ref = rest[..open].ends_with('$');
        match after.find('}') {
            Some(close) if !env_ref && is_ident(&after[..close]) => {
                found.push(after[..close].to_string());
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
