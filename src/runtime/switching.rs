//! The switching rules of a frontend (`use_backend`, `default_backend`): static names
//! resolved at load, log-format names (`use_backend be_%[req.hdr(host),lower]`)
//! rendered and looked up per request, as HAProxy's `process_switching_rules()` does.

use crate::acl::SampleSource;
use crate::log::LogFormatSpec;
use crate::runtime::backend::Backend;
use crate::runtime::frontend::Frontend;
use crate::runtime::rules::Cond;
use std::collections::HashMap;
use std::sync::Arc;

/// Every proxy with backend capability by name: what a dynamic `use_backend` may
/// resolve to (HAProxy's `proxy_be_by_name()`). One per snapshot, shared.
pub type BackendNames = HashMap<String, Arc<Backend>>;

/// Where a `use_backend` rule sends a stream.
pub enum Target {
    /// A name resolved at load.
    Static(Arc<Backend>),
    /// A log-format rendered per request and looked up among `backends`.
    Dynamic {
        /// The name's format.
        format: Box<LogFormatSpec>,
        /// The backends of the snapshot.
        backends: Arc<BackendNames>,
    },
}

/// A `use_backend` rule.
pub struct Switch {
    /// When.
    pub cond: Cond,
    /// Where to.
    pub target: Target,
}

impl Switch {
    /// Whether the rule reads request data (in `mode tcp`: the payload), in its
    /// condition or in its dynamic name.
    pub fn reads_request(&self) -> bool {
        self.cond.reads_request()
            || matches!(&self.target, Target::Dynamic { format, .. } if format.reads_request())
    }
}

impl Frontend {
    /// The backend the switching rules choose for the stream seen through `src`: the
    /// first `use_backend` whose condition matches; a dynamic name that names no
    /// backend ends the search as HAProxy does (it does not try the next rules); then
    /// `default_backend` (a `listen`: itself). `None`: no backend (HAProxy answers 503).
    /// A static rule allocates nothing.
    pub fn pick_backend(&self, src: &dyn SampleSource) -> Option<Arc<Backend>> {
        // Through the `Host` index when there is one, which only skips rules that
        // cannot match.
        let rule = match &self.switch_index {
            Some(ix) => ix.first(src, |i| self.switching[i].cond.matches(src)),
            None => self.switching.iter().position(|s| s.cond.matches(src)),
        };
        if let Some(i) = rule {
            match &self.switching[i].target {
                Target::Static(b) => return Some(Arc::clone(b)),
                Target::Dynamic { format, backends } => {
                    // `%b` is still the frontend while the rules run.
                    let mut name = Vec::new();
                    format.render_request(src, &self.name, &self.name, -1, &mut name);
                    let found = std::str::from_utf8(&name)
                        .ok()
                        .and_then(|n| backends.get(n));
                    if let Some(b) = found {
                        return Some(Arc::clone(b));
                    }
                }
            }
        }
        self.default_backend.clone()
    }
}
