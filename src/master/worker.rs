//! The worker's side of master-worker mode: what the master tells a worker it starts
//! (environment variables), and what the worker does with it — an internal runtime-API
//! socket (`level admin`, `expose-fd listeners`) at a path in the master's private
//! directory, through which the master CLI reaches it and the next worker takes its
//! listening sockets and live state; a pipe written once it accepts.

use crate::config::model::{BindAddr, Config, StatsSocket};
use crate::config::span::Span;
use std::path::PathBuf;

/// The internal socket's path, set by the master.
pub const ENV_SOCKET: &str = "GATEHOUSE_WORKER_SOCKET";
/// The ready pipe's descriptor, set by the master.
pub const ENV_READY_FD: &str = "GATEHOUSE_READY_FD";

/// The internal socket's path when this process is a worker started by a master.
pub fn socket_path() -> Option<PathBuf> {
    std::env::var_os(ENV_SOCKET).map(PathBuf::from)
}

/// The ready pipe's descriptor when this process is a worker started by a master.
pub fn ready_fd() -> Option<i32> {
    std::env::var(ENV_READY_FD).ok()?.parse().ok()
}

/// Adds the worker's internal socket to `config` (nothing outside a worker).
pub fn add_socket(config: &mut Config) {
    let Some(path) = socket_path() else {
        return;
    };
    config.global.stats_sockets.push(StatsSocket {
        addr: BindAddr::Unix(path),
        level: "admin".into(),
        expose_fd_listeners: true,
        options: vec![("mode".into(), "600".into())],
        span: Span {
            file: "master".into(),
            line: 0,
        },
    });
}

/// The loader of a worker: the configuration as [`crate::load::load`] reads it, with
/// the internal socket (so that reloads keep it).
pub fn load(paths: &[PathBuf]) -> crate::config::Loaded {
    let mut loaded = crate::load::load(paths);
    add_socket(&mut loaded.config);
    loaded
}
