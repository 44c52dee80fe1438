//! Error responses: HAProxy's default pages, overridden per proxy by `errorfile`. The
//! errorfiles were read into protocol-neutral replies at load; the client's codec
//! encodes whichever [`Page`] applies.

use crate::config::model::{ErrorFile, Reply};
use std::sync::Arc;

/// The `errorfile` overrides of one proxy; falls back to HAProxy's built-in pages.
#[derive(Clone, Debug, Default)]
pub struct ErrorPages {
    pages: Vec<(u16, Option<Arc<Reply>>)>,
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

impl ErrorPages {
    /// From a proxy's `errorfile` lines.
    pub fn new(files: &[ErrorFile]) -> Self {
        ErrorPages {
            pages: files
                .iter()
                .map(|f| (f.status, f.reply.clone().map(Arc::new)))
                .collect(),
        }
    }

    /// The override for `status`, if any.
    pub fn get(&self, status: u16) -> Option<Page<'_>> {
        self.pages
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, p)| p.as_deref().map_or(Page::Empty, Page::Reply))
    }
}

/// The response to send for `status`: the backend's errorfile, else the frontend's, else
/// HAProxy's default page.
pub fn page<'a>(
    status: u16,
    backend: Option<&'a ErrorPages>,
    frontend: &'a ErrorPages,
) -> Page<'a> {
    backend
        .and_then(|b| b.get(status))
        .or_else(|| frontend.get(status))
        .unwrap_or(Page::Builtin(status))
}
