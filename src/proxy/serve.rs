//! Process life: daemon mode, pid file, signals, and the runtime that runs the listeners.

use crate::config::model::Config;
use std::path::PathBuf;

/// How the process should run.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Detach into the background.
    pub daemon: bool,
    /// Write the pid here.
    pub pidfile: Option<PathBuf>,
    /// The configuration files (for reloads).
    pub config_files: Vec<PathBuf>,
}

/// Runs the proxy until it is stopped; returns the process exit status.
pub fn run(config: Config, opts: ServeOptions) -> u8 {
    let _ = (config, opts);
    0
}
