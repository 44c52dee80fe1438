//! Error responses: HAProxy's default pages, overridden per proxy by `errorfile`.

use crate::config::model::ErrorFile;
use std::sync::Arc;

/// The `errorfile` overrides of one proxy; falls back to HAProxy's built-in pages.
#[derive(Clone, Debug, Default)]
pub struct ErrorPages {
    pages: Vec<(u16, Arc<[u8]>)>,
}

impl ErrorPages {
    /// From a proxy's `errorfile` lines.
    pub fn new(files: &[ErrorFile]) -> Self {
        ErrorPages {
            pages: files
                .iter()
                .map(|f| (f.status, Arc::from(f.content.as_slice())))
                .collect(),
        }
    }

    /// The override for `status`, if any.
    pub fn get(&self, status: u16) -> Option<&[u8]> {
        self.pages
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, p)| &**p)
    }
}

/// The response to send for `status`: the backend's errorfile, else the frontend's, else
/// HAProxy's default page.
pub fn page<'a>(
    status: u16,
    backend: Option<&'a ErrorPages>,
    frontend: &'a ErrorPages,
) -> &'a [u8] {
    backend
        .and_then(|b| b.get(status))
        .or_else(|| frontend.get(status))
        .unwrap_or_else(|| crate::proxy::h1::error_response(status))
}
