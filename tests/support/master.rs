//! The master CLI of a master-worker process (`-S`), as the master-worker tests read
//! it.

use super::socat::unix_cmd;
use std::path::Path;

/// The pids of the current and the former workers (`show proc` on the master CLI at
/// `msock`).
pub fn workers(msock: &Path) -> (Vec<u32>, Vec<u32>) {
    let out = unix_cmd(msock, "show proc");
    let (mut cur, mut old, mut section) = (Vec::new(), Vec::new(), "");
    for l in out.lines() {
        if l.starts_with('#') {
            section = l;
            continue;
        }
        let pid = l.split_whitespace().next().and_then(|p| p.parse().ok());
        match (section, pid) {
            ("# workers", Some(p)) => cur.push(p),
            ("# old workers", Some(p)) => old.push(p),
            _ => {}
        }
    }
    (cur, old)
}
