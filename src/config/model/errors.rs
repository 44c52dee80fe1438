//! Custom error messages: `http-errors` sections and a proxy's `errorfile`,
//! `errorfiles` and `http-error` lines, kept in order (a later line overrides an
//! earlier one for the same status, as HAProxy resolves them after parsing).

use super::{ErrorFile, ReturnBody};
use crate::config::span::Span;

/// An `http-errors NAME` section: its `errorfile CODE FILE` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpErrors {
    /// The section's name.
    pub name: String,
    /// Its line.
    pub span: Span,
    /// The pages it declares (the last one for a status wins).
    pub pages: Vec<ErrorFile>,
}

impl HttpErrors {
    /// The page the section declares for `status`.
    pub fn page(&self, status: u16) -> Option<&ErrorFile> {
        self.pages.iter().rev().find(|p| p.status == status)
    }
}

/// One line of a proxy's custom error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorDirective {
    /// `errorfile CODE FILE`, or `http-error status CODE …` with its own reply.
    Page {
        /// The status it replaces.
        status: u16,
        /// The reply.
        page: ErrorPageSpec,
        /// The line.
        span: Span,
    },
    /// `errorfiles NAME [CODE…]` (`codes` empty: every page the section declares), or
    /// `http-error status CODE errorfiles NAME` (one code).
    Import {
        /// The `http-errors` section.
        section: String,
        /// The statuses imported; empty for all.
        codes: Vec<u16>,
        /// The line.
        span: Span,
    },
}

/// The reply of an `errorfile` or `http-error` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorPageSpec {
    /// A full response read from a file at load (`None`: an empty file, nothing is
    /// sent).
    File(Option<super::Reply>),
    /// `http-error … default-errorfiles`: back to the default (the frontend's page for
    /// a backend, HAProxy's own page for a frontend).
    Default,
    /// `http-error status N [content-type T] [string|lf-string|file|lf-file …] [hdr N V]…`.
    Reply {
        /// `content-type`.
        content_type: Option<String>,
        /// The payload.
        body: ReturnBody,
        /// `hdr NAME FMT` pairs.
        headers: Vec<(String, String)>,
    },
}
