//! Loading a configuration as HAProxy does: the language (`config`) parsed and checked,
//! with what needs compiled code checked by the layers that compile it — conditions by
//! the ACL engine, log-formats by the log-format compiler, errorfiles by the HTTP/1
//! codec. It sits above them all so that `config` depends on none of them.

use crate::config::diag::Diag;
use crate::config::lexer::EnvLookup;
use crate::config::model::{Config, Proxy, Reply};
use crate::config::semantics::{FormatContext, Semantics};
use crate::config::{self, Loaded};
use std::path::PathBuf;

/// The checks of the crate's engines, passed to the configuration parser.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checks;

impl Semantics for Checks {
    fn log_format(&self, text: &str, ctx: FormatContext) -> Result<(), String> {
        crate::log::LogFormatSpec::compile_in(text, ctx).map(|_| ())
    }

    fn conditions(&self, proxy: &Proxy, diags: &mut Vec<Diag>) {
        crate::acl::check_conditions(proxy, diags);
        monitor_conditions(proxy, diags);
    }

    fn references(&self, config: &Config, proxy: &Proxy, diags: &mut Vec<Diag>) {
        crate::acl::check_references(config, proxy, diags);
    }

    fn health_checks(
        &self,
        global: &crate::config::model::Global,
        proxy: &Proxy,
        diags: &mut Vec<Diag>,
    ) {
        crate::check::check_rules(global, proxy, diags);
    }

    fn errorfile(&self, content: &[u8]) -> Result<Option<Reply>, String> {
        crate::proxy::h1::parse_errorfile(content)
    }

    fn tls(&self, global: &crate::config::model::Global, proxy: &Proxy, diags: &mut Vec<Diag>) {
        crate::tls::check_proxy(global, proxy, diags);
    }
}

/// `monitor fail` conditions, compiled as the snapshot compiles them (the ACL engine's
/// own pass covers the other rules).
fn monitor_conditions(p: &Proxy, diags: &mut Vec<Diag>) {
    if p.monitor_fail.is_empty() {
        return;
    }
    let Ok(set) = crate::acl::AclSet::compile(&p.acls) else {
        // The ACL engine's pass reports it.
        return;
    };
    for c in &p.monitor_fail {
        if let Err((span, e)) = set.condition(c) {
            let dot = if e.ends_with('.') { "" } else { "." };
            diags.push(Diag::alert(
                &span,
                format!("error detected while parsing a 'monitor fail' condition : {e}{dot}"),
            ));
        }
    }
}

/// Loads and checks the configuration from `paths` (as given to `-f`).
pub fn load(paths: &[PathBuf]) -> Loaded {
    config::load(paths, &Checks)
}

/// Loads and checks a configuration from (file name, text) pairs with the given
/// environment (see [`config::load_sources`]).
pub fn load_sources(sources: &[(String, String)], env: EnvLookup<'_>) -> Loaded {
    config::load_sources(sources, env, &Checks)
}

/// Loads and checks one configuration text named `name`, with the process environment.
pub fn load_str(name: &str, text: &str) -> Loaded {
    config::load_str(name, text, &Checks)
}
