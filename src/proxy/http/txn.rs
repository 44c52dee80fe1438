//! Per-request state the rules read and write beside the message: the request's
//! unique id, generated once from `unique-id-format` on first use (a `unique-id`
//! fetch, else after the switching rules) and then sent, logged and fetched unchanged.

use crate::acl::SampleSource;
use crate::runtime::frontend::UniqueId;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// One request's transaction state; reset by [`Txn::clear`] between requests.
#[derive(Debug, Default)]
pub struct Txn {
    /// The unique id, once generated.
    uid: OnceLock<Vec<u8>>,
    /// The id is being generated: a `%[unique-id]` inside its own format is empty.
    busy: AtomicBool,
}

impl Txn {
    /// Forgets the previous request's state.
    pub fn clear(&mut self) {
        self.uid = OnceLock::new();
        *self.busy.get_mut() = false;
    }

    /// The id, if generated already.
    pub fn unique_id_get(&self) -> Option<&[u8]> {
        self.uid.get().map(Vec::as_slice)
    }

    /// The id: generated now from `uid`'s format for the request seen through `src`
    /// (`%f`/`%b` print `frontend`/`backend`) unless it was already.
    pub fn unique_id(
        &self,
        uid: &UniqueId,
        src: &dyn SampleSource,
        frontend: &str,
        backend: &str,
    ) -> Option<&[u8]> {
        if let Some(v) = self.uid.get() {
            return Some(v);
        }
        if self.busy.swap(true, Ordering::Relaxed) {
            return None;
        }
        let mut out = Vec::new();
        uid.format
            .render_request(src, frontend, backend, -1, &mut out);
        self.busy.store(false, Ordering::Relaxed);
        Some(self.uid.get_or_init(|| out))
    }
}
