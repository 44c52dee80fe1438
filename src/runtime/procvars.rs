//! Process-wide variables (scope `proc`): set by `set-var`/`set-var-fmt` in `global`
//! when the configuration loads, then read and written by every request's rules
//! (`set-var(proc.x)`, `var(proc.x)`). One store per snapshot: a reload starts from
//! the `global` values again, as a new HAProxy process does.

use crate::acl::{SampleExpr, SampleSource};
use crate::config::diag::Diag;
use crate::config::model::GlobalVar;
use crate::log::{FormatContext, LogFormatSpec};
use std::net::SocketAddr;
use std::sync::Mutex;

/// The `proc.` variables, by full name.
#[derive(Debug, Default)]
pub struct ProcVars(Mutex<Vec<(Box<str>, Vec<u8>)>>);

impl ProcVars {
    /// Calls `each` with variable `name`'s value, if set.
    pub fn get(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        // Copied out first: `each` may read another `proc.` variable.
        let value = {
            let Ok(vars) = self.0.lock() else {
                return false;
            };
            vars.iter()
                .find(|(n, _)| &**n == name)
                .map(|(_, v)| v.clone())
        };
        value.is_some_and(|v| each(&v))
    }

    /// Sets (or with `None` unsets) variable `name`.
    pub fn set(&self, name: &str, value: Option<&[u8]>) {
        let Ok(mut vars) = self.0.lock() else {
            return;
        };
        let at = vars.iter().position(|(n, _)| &**n == name);
        match (at, value) {
            (Some(i), Some(v)) => vars[i].1 = v.to_vec(),
            (None, Some(v)) => vars.push((name.into(), v.to_vec())),
            (Some(i), None) => {
                vars.swap_remove(i);
            }
            (None, None) => {}
        }
    }

    /// The store with the `global` section's `set-var`/`set-var-fmt` lines evaluated
    /// in order (an expression reads only internal data and earlier variables).
    pub fn from_global(lines: &[GlobalVar]) -> Result<ProcVars, Diag> {
        let vars = ProcVars::default();
        for l in lines {
            let src = Internal(&vars);
            let value: Option<Vec<u8>> = if l.fmt {
                let spec = LogFormatSpec::compile_in(&l.expr, FormatContext::HttpRequest)
                    .map_err(|e| Diag::alert(&l.span, format!("'set-var-fmt' : {e}")))?;
                let mut out = Vec::new();
                spec.render_request(&src, "", "", -1, &mut out);
                Some(out)
            } else {
                let e = SampleExpr::parse(&l.expr).map_err(|e| {
                    Diag::alert(
                        &l.span,
                        format!(
                            "'set-var' : failed to parse sample expression <{}> : {e}",
                            l.expr
                        ),
                    )
                })?;
                let mut v = None;
                e.eval_str(&src, &mut |s| {
                    v.get_or_insert_with(|| s.to_vec());
                });
                v
            };
            if let Some(v) = value {
                vars.set(&l.name, Some(&v));
            }
        }
        Ok(vars)
    }
}

/// What a `global` expression sees: no connection, no message, the variables so far.
struct Internal<'a>(&'a ProcVars);

impl SampleSource for Internal<'_> {
    fn src(&self) -> Option<SocketAddr> {
        None
    }
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
    fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.0.get(name, each)
    }
    fn set_var(&self, name: &str, value: Option<&[u8]>) {
        if name.starts_with("proc.") {
            self.0.set(name, value);
        }
    }
}
