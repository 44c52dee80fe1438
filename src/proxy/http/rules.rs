//! Applies `http-request` / `http-response` rules to one message: the first decisive
//! action (`allow`, `deny`, `return`) stops evaluation; header actions accumulate edits.

use crate::acl::SampleSource;
use crate::config::model::HttpAction;
use crate::runtime::rules::{HttpRules, build_return};

/// Header edits collected from rules, applied when the head is written out.
#[derive(Debug, Default)]
pub struct Edits {
    /// Header names to remove.
    pub remove: Vec<Vec<u8>>,
    /// Headers to add, in order.
    pub add: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Edits {
    /// Forgets everything (reused per request).
    pub fn clear(&mut self) {
        self.remove.clear();
        self.add.clear();
    }
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.add.is_empty()
    }
}

/// What the rules decided.
pub enum Verdict {
    /// Go on.
    Continue,
    /// Answer with this error status (`deny`).
    Deny(u16),
    /// Answer with these bytes (`return`).
    Return(Vec<u8>),
}

/// Evaluates `rules` in order against `src`, collecting header edits into `edits`.
pub fn apply(rules: &HttpRules, src: &dyn SampleSource, edits: &mut Edits) -> Verdict {
    for r in &rules.rules {
        if !r.cond.matches(src) {
            continue;
        }
        match &r.action {
            HttpAction::Allow => return Verdict::Continue,
            HttpAction::Deny { status } => return Verdict::Deny(*status),
            HttpAction::Return {
                status,
                content_type,
                body,
                headers,
            } => {
                let bytes = r.prebuilt.clone().unwrap_or_else(|| {
                    // lf-string bodies: sent as written until log-format samples land.
                    let text = match body {
                        crate::config::model::ReturnBody::LfString(s) => s.clone(),
                        _ => String::new(),
                    };
                    build_return(
                        *status,
                        content_type.as_deref(),
                        &crate::config::model::ReturnBody::String(text),
                        headers,
                    )
                    .unwrap_or_default()
                });
                return Verdict::Return(bytes);
            }
            HttpAction::SetHeader(n, v) => {
                let name = n.as_bytes().to_ascii_lowercase();
                edits.add.retain(|(an, _)| !an.eq_ignore_ascii_case(&name));
                edits.remove.push(name.clone());
                edits.add.push((name, v.as_bytes().to_vec()));
            }
            HttpAction::AddHeader(n, v) => edits
                .add
                .push((n.as_bytes().to_ascii_lowercase(), v.as_bytes().to_vec())),
            HttpAction::DelHeader(n) => {
                let name = n.as_bytes().to_ascii_lowercase();
                edits.add.retain(|(an, _)| !an.eq_ignore_ascii_case(&name));
                edits.remove.push(name);
            }
            HttpAction::Redirect(_) => {}
        }
    }
    Verdict::Continue
}
