//! Statistics: HAProxy 2.6's `show stat` fields filled from the live-state store, and
//! every form they are read in — CSV (`show stat`, `stats uri …;csv`), typed and JSON
//! (`show stat typed|json`), `show info`, the HTML stats page with its admin actions,
//! and the Prometheus exporter (`http-request use-service prometheus-exporter`).
//!
//! Keywords: `stats enable|uri|refresh|auth|realm|admin|hide-version|show-legends|
//! show-node|show-desc|scope` (parsed in `config/proxy/stats.rs`, compiled into
//! `runtime::proxies::StatsPage`), `use-service prometheus-exporter`.
//!
//! One table of columns ([`fields::FIELDS`]) drives every writer; [`model::rows`] fills
//! the lines once per request.

pub mod admin;
pub mod csv;
pub mod fields;
pub mod html;
pub mod http;
pub mod info;
pub mod info_fields;
pub mod model;
pub mod prom;
pub mod prom_metrics;
pub mod tags;

pub use csv::{write_csv, write_json, write_typed};
pub use info::{write_info, write_info_json, write_info_typed};
pub use model::{Options, Row, rows, select};

use crate::runtime::snapshot::Snapshot;

/// `show stat` (CSV) of every proxy of `snap`, as a string.
pub fn show_stat(snap: &Snapshot, opts: &Options) -> String {
    let mut out = String::new();
    write_csv(&mut out, &rows(snap, opts));
    out
}

/// The Prometheus exporter's page for `snap`, every scope.
pub fn metrics(snap: &Snapshot) -> String {
    metrics_for(snap, &prom::Query::default())
}

/// The Prometheus exporter's page for `snap`, for the scopes of `q`.
pub fn metrics_for(snap: &Snapshot, q: &prom::Query) -> String {
    let mut out = String::new();
    let rows = rows(snap, &Options::default());
    prom::write_metrics(&mut out, snap, &rows, q);
    out
}

#[cfg(test)]
mod tests;
