//! `load-server-state-from-file` and `server-state-file-name`: which file a backend's
//! servers' states are read from when the process starts (applied by
//! `runtime::state_file`).

use crate::config::keyword::{BE, DEF, LI, ProxyCtx, ProxyKeyword, kw};
use crate::config::model::LoadServerState;

fn load_from_file(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let v = words.get(1).map(String::as_str).unwrap_or("");
    ctx.proxy.load_server_state = match v {
        "global" => LoadServerState::Global,
        "local" => LoadServerState::Local,
        "none" => LoadServerState::None,
        _ => {
            return Err(format!(
                "'{}' expects 'global', 'local' or 'none'. Got '{v}'",
                words[0]
            ));
        }
    };
    Ok(())
}

fn file_name(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    ctx.proxy.server_state_file_name = match words.get(1).map(String::as_str) {
        None | Some("") | Some("use-backend-name") => None,
        Some(f) => Some(f.to_owned()),
    };
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "load-server-state-from-file",
        DEF | LI | BE,
        load_from_file,
        "apply the servers' states of a server-state file at start: global, local or none",
    ),
    kw(
        "server-state-file-name",
        DEF | LI | BE,
        file_name,
        "the local server-state file (default: the backend's name)",
    ),
];
