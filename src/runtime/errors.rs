//! Error responses: HAProxy's default pages, overridden per proxy by `errorfile`,
//! `errorfiles` (pages of an `http-errors` section) and `http-error`. The lines are
//! resolved here in order, a later one replacing an earlier one for the same status
//! (HAProxy's `proxy_finalize_http_errors()`). Errorfiles were read into
//! protocol-neutral replies at load; an `http-error` reply with log-formats is rendered
//! per request; the client's codec encodes whichever [`Page`] applies.

use super::rules::{LfReturn, build_return};
use crate::config::model::{ErrorDirective, ErrorPageSpec, HttpErrors, Reply, ReturnBody};
use crate::config::span::Span;
use crate::log::FormatContext;
use std::sync::Arc;

/// One proxy's custom pages; statuses it does not list fall back to HAProxy's pages.
#[derive(Clone, Debug, Default)]
pub struct ErrorPages {
    pages: Vec<(u16, Custom)>,
}

/// A custom page.
#[derive(Clone, Debug)]
enum Custom {
    /// Fixed: an errorfile's reply or a static `http-error` one (`None`: an empty
    /// errorfile, nothing is sent).
    Fixed(Option<Arc<Reply>>),
    /// An `http-error` reply whose payload or headers are log-formats.
    Format(Arc<LfReturn>),
}

/// The response to send for an error status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page<'a> {
    /// An `errorfile`'s reply.
    Reply(&'a Reply),
    /// An empty `errorfile`: nothing is sent.
    Empty,
    /// HAProxy's built-in page for this status (the codec knows its bytes).
    Builtin(u16),
}

/// A page as found, before rendering.
#[derive(Clone, Copy, Debug)]
pub enum Found<'a> {
    /// Ready to send.
    Page(Page<'a>),
    /// To render for the request first.
    Format(&'a LfReturn),
}

impl ErrorPages {
    /// Resolves a proxy's `errorfile`, `errorfiles` and `http-error` lines against the
    /// `http-errors` sections (a missing section was refused by validation and is
    /// skipped here).
    pub fn compile(
        lines: &[ErrorDirective],
        sections: &[HttpErrors],
    ) -> Result<Self, (Span, String)> {
        let mut pages: Vec<(u16, Custom)> = Vec::new();
        let mut set = |status: u16, page: Option<Custom>| {
            pages.retain(|(s, _)| *s != status);
            if let Some(p) = page {
                pages.push((status, p));
            }
        };
        for line in lines {
            match line {
                ErrorDirective::Page { status, page, span } => {
                    let custom = match page {
                        ErrorPageSpec::File(r) => Some(Custom::Fixed(r.clone().map(Arc::new))),
                        ErrorPageSpec::Default => None,
                        ErrorPageSpec::Reply {
                            content_type,
                            body,
                            headers,
                        } => Some(reply(
                            *status,
                            content_type.as_deref(),
                            body,
                            headers,
                            span,
                        )?),
                    };
                    set(*status, custom);
                }
                ErrorDirective::Import { section, codes, .. } => {
                    let Some(s) = sections.iter().find(|s| &s.name == section) else {
                        continue;
                    };
                    let mut seen: Vec<u16> = Vec::new();
                    for p in s.pages.iter().rev() {
                        if seen.contains(&p.status)
                            || !(codes.is_empty() || codes.contains(&p.status))
                        {
                            continue;
                        }
                        seen.push(p.status);
                        set(p.status, Some(Custom::Fixed(p.reply.clone().map(Arc::new))));
                    }
                }
            }
        }
        Ok(ErrorPages { pages })
    }

    /// The override for `status`, if any.
    pub fn find(&self, status: u16) -> Option<Found<'_>> {
        self.pages
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, p)| match p {
                Custom::Fixed(r) => Found::Page(r.as_deref().map_or(Page::Empty, Page::Reply)),
                Custom::Format(f) => Found::Format(f),
            })
    }
}

/// The reply of an `http-error` line with a payload of its own: built once when it has
/// no log-format, else compiled for rendering per request.
fn reply(
    status: u16,
    content_type: Option<&str>,
    body: &ReturnBody,
    headers: &[(String, String)],
    span: &Span,
) -> Result<Custom, (Span, String)> {
    if let Some(r) = build_return(status, content_type, body, headers) {
        return Ok(Custom::Fixed(Some(Arc::new(r))));
    }
    let f = LfReturn::compile(
        status,
        content_type,
        body,
        headers,
        FormatContext::HttpRequest,
    )
    .map_err(|e| (span.clone(), e))?;
    Ok(Custom::Format(Arc::new(f)))
}

/// The page for `status`: the backend's, else the frontend's, else HAProxy's default.
pub fn lookup<'a>(
    status: u16,
    backend: Option<&'a ErrorPages>,
    frontend: &'a ErrorPages,
) -> Found<'a> {
    backend
        .and_then(|b| b.find(status))
        .or_else(|| frontend.find(status))
        .unwrap_or(Found::Page(Page::Builtin(status)))
}

/// The fixed page for `status` ([`lookup`] without rendering: an `http-error` reply
/// with log-formats gives HAProxy's page). The exchange renders formats through
/// `lookup`; this serves callers without a request.
pub fn page<'a>(
    status: u16,
    backend: Option<&'a ErrorPages>,
    frontend: &'a ErrorPages,
) -> Page<'a> {
    match lookup(status, backend, frontend) {
        Found::Page(p) => p,
        Found::Format(_) => Page::Builtin(status),
    }
}
