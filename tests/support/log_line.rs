//! A proxy's stderr log line as the tests compare it between gatehouse and haproxy:
//! the message after `[LEVEL]  (pid) : `, with the check durations that vary from run
//! to run made `Nms`.

use regex::Regex;
use std::sync::LazyLock;

/// The message of a log line: what follows `[WARNING]  (pid) : ` (the whole line when
/// there is no such prefix).
pub fn log_message(line: &str) -> &str {
    line.split_once(" : ").map_or(line, |(_, m)| m)
}

/// `s` with every `check duration: 12ms` made `check duration: Nms`.
pub fn durations_n(s: &str) -> String {
    static RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"check duration: \d+ms").unwrap());
    RE.replace_all(s, "check duration: Nms").into_owned()
}
