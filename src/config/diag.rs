//! Diagnostics: alerts, warnings and notices in HAProxy's format.
//!
//! HAProxy prints `[ALERT]    (PID) : config : parsing [FILE:LINE] : MESSAGE`; gatehouse
//! keeps the same shape so that operators' log filters keep working.

use super::span::Span;
use std::fmt;

/// The severity of a diagnostic, with HAProxy's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `[NOTICE]`: informational.
    Notice,
    /// `[WARNING]`: the configuration loads, but something is suspicious.
    Warning,
    /// `[ALERT]`: the configuration is refused.
    Alert,
}

impl Level {
    /// The bracketed tag HAProxy prints, padded as HAProxy pads it.
    pub fn tag(self) -> &'static str {
        match self {
            Level::Notice => "[NOTICE]  ",
            Level::Warning => "[WARNING] ",
            Level::Alert => "[ALERT]   ",
        }
    }
}

/// One message about the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    /// Severity.
    pub level: Level,
    /// Where it was found, when it is tied to a line.
    pub span: Option<Span>,
    /// The message, without position.
    pub message: String,
}

impl Diag {
    /// An alert at `span`.
    pub fn alert(span: &Span, message: impl Into<String>) -> Self {
        Diag {
            level: Level::Alert,
            span: Some(span.clone()),
            message: message.into(),
        }
    }
    /// A warning at `span`.
    pub fn warning(span: &Span, message: impl Into<String>) -> Self {
        Diag {
            level: Level::Warning,
            span: Some(span.clone()),
            message: message.into(),
        }
    }
    /// A notice at `span`.
    pub fn notice(span: &Span, message: impl Into<String>) -> Self {
        Diag {
            level: Level::Notice,
            span: Some(span.clone()),
            message: message.into(),
        }
    }
    /// An alert not tied to a line.
    pub fn global_alert(message: impl Into<String>) -> Self {
        Diag {
            level: Level::Alert,
            span: None,
            message: message.into(),
        }
    }
    /// A warning not tied to a line.
    pub fn global_warning(message: impl Into<String>) -> Self {
        Diag {
            level: Level::Warning,
            span: None,
            message: message.into(),
        }
    }
    /// True for alerts.
    pub fn is_alert(&self) -> bool {
        self.level == Level::Alert
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pid = std::process::id();
        match &self.span {
            Some(span) => write!(
                f,
                "{} ({}) : config : parsing [{}] : {}",
                self.level.tag(),
                pid,
                span,
                self.message
            ),
            None => write!(
                f,
                "{} ({}) : config : {}",
                self.level.tag(),
                pid,
                self.message
            ),
        }
    }
}
