//! A backend's `tcp-response` rules compiled: the inspect delay and the `content`
//! rules, evaluated in order each time the server's first bytes grow, as HAProxy's
//! `tcp_inspect_response()` does (a rule whose condition may still change waits).

use crate::acl::{AclSet, SampleSource};
use crate::config::model::TcpRequestRule;
use crate::config::span::Span;
use crate::runtime::rules::Cond;
use std::time::Duration;

/// What a `tcp-response content` rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResAction {
    /// `accept`: forward the response; no further rule.
    Accept,
    /// `reject`: close both sides without forwarding anything.
    Reject,
    /// `close`: forward what arrived, then close the server connection.
    Close,
}

/// The `tcp-response` rules of a backend.
#[derive(Default)]
pub struct TcpResponse {
    /// `tcp-response inspect-delay` (`None`: the rules decide on the first bytes).
    pub delay: Option<Duration>,
    /// The `content` rules, in order.
    pub rules: Vec<(Cond, ResAction)>,
}

impl TcpResponse {
    /// Compiles the `tcp-response` lines of a proxy.
    pub fn compile(set: &AclSet, lines: &[TcpRequestRule]) -> Result<Self, (Span, String)> {
        let delay = lines
            .iter()
            .rev()
            .find(|r| r.stage == "inspect-delay")
            .and_then(|r| crate::config::value::duration(&r.action, "inspect-delay").ok())
            .filter(|d| !d.is_zero());
        let rules = lines
            .iter()
            .filter(|r| r.stage == "content")
            .map(|r| {
                let act = match r.action.as_str() {
                    "accept" => ResAction::Accept,
                    "close" => ResAction::Close,
                    _ => ResAction::Reject,
                };
                Ok((Cond::compile(set, r.cond.as_ref())?, act))
            })
            .collect::<Result<_, _>>()?;
        Ok(TcpResponse { delay, rules })
    }

    /// Whether there are rules to run.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The verdict for the response seen through `src`: the first rule whose condition
    /// holds; `None` while a rule's condition may still change (`partial`: more data
    /// may come before the delay ends); no rule matching accepts.
    pub fn verdict(&self, src: &dyn SampleSource, partial: bool) -> Option<ResAction> {
        for (cond, act) in &self.rules {
            match cond.matches_partial(src, partial) {
                Some(true) => return Some(*act),
                Some(false) => {}
                None => return None,
            }
        }
        Some(ResAction::Accept)
    }
}
