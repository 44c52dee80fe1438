//! Reading `-c` check results the way HAProxy prints them: locating the
//! first `[ALERT]` line and the config line it blames, and reading the
//! marker comments of the differential-test corpus (`# expect-error-line:`,
//! `# expect-error:`, `# gatehouse: not-yet`).

use std::path::Path;

/// What an invalid corpus config declares on its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedError {
    /// `# expect-error-line: N`: the first alert names line N.
    Line(u32),
    /// `# expect-error-line: none`: the first alert names no line.
    NoLine,
}

/// Reads the `# expect-error-line: N|none` marker from the first line of
/// `cfg_text`; `None` when the marker is absent or malformed.
pub fn parse_expect_error_line(cfg_text: &str) -> Option<ExpectedError> {
    let first = cfg_text.lines().next()?;
    let value = first.trim().strip_prefix('#')?.trim();
    let value = value.strip_prefix("expect-error-line:")?.trim();
    if value == "none" {
        return Some(ExpectedError::NoLine);
    }
    value.parse().ok().map(ExpectedError::Line)
}

/// Whether the config carries a `# gatehouse: not-yet` marker comment
/// (feature gatehouse deliberately does not support yet).
pub fn is_not_yet(cfg_text: &str) -> bool {
    cfg_text.lines().any(|l| l.trim() == "# gatehouse: not-yet")
}

/// The first `[ALERT]` line in `stderr`, if any.
pub fn first_alert(stderr: &str) -> Option<&str> {
    stderr.lines().find(|l| l.starts_with("[ALERT]"))
}

/// The text of the first `[ALERT]` line in `stderr`, without its pid
/// (`[ALERT]    (PID) : config : parsing [...] : ...` → `config : parsing [...] : ...`);
/// panics when there is none.
pub fn first_alert_text(stderr: &str) -> String {
    let line = first_alert(stderr).unwrap_or_else(|| panic!("no alert in {stderr}"));
    line.split_once(") : ")
        .map_or(line, |(_, rest)| rest)
        .to_string()
}

/// The line number the first `[ALERT]` in `stderr` blames in `cfg_path`:
/// the first `<cfg_path>:<digits>` in that alert line (HAProxy writes it as
/// `parsing [FILE:LINE]`, `[FILE:LINE]` or `(FILE:LINE)` depending on the
/// check). `None` if there is no alert or it names no line of that file.
pub fn first_alert_line(stderr: &str, cfg_path: &Path) -> Option<u32> {
    first_alert_location(stderr, &[cfg_path]).map(|(_, line)| line)
}

/// Where the first `[ALERT]` in `stderr` points when several files were
/// checked: the earliest `<path>:<digits>` in that alert line over all
/// `cfg_paths`, as (index into `cfg_paths`, line).
pub fn first_alert_location(stderr: &str, cfg_paths: &[&Path]) -> Option<(usize, u32)> {
    let alert = first_alert(stderr)?;
    let mut best: Option<(usize, usize, u32)> = None; // (byte pos, index, line)
    for (idx, p) in cfg_paths.iter().enumerate() {
        let needle = format!("{}:", p.display());
        let mut from = 0;
        while let Some(rel) = alert[from..].find(&needle) {
            let pos = from + rel;
            let after = &alert[pos + needle.len()..];
            let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
            // Reject matches where the needle is the tail of a longer path.
            let boundary = alert[..pos].chars().next_back().is_none_or(|c| {
                !(c.is_alphanumeric() || c == '/' || c == '_' || c == '-' || c == '.')
            });
            if let (Ok(n), true) = (digits.parse::<u32>(), boundary) {
                if best.is_none_or(|(bp, _, _)| pos < bp) {
                    best = Some((pos, idx, n));
                }
                break;
            }
            from = pos + needle.len();
        }
    }
    best.map(|(_, idx, n)| (idx, n))
}

/// Reads a `# expect-error: FILE_NAME:LINE` marker from the first line of
/// `cfg_text` (multi-file invalid sets): the file name (no directory) and
/// line of the first alert.
pub fn parse_expect_error_location(cfg_text: &str) -> Option<(String, u32)> {
    let first = cfg_text.lines().next()?;
    let value = first.trim().strip_prefix('#')?.trim();
    let value = value.strip_prefix("expect-error:")?.trim();
    let (name, line) = value.rsplit_once(':')?;
    Some((name.trim().to_string(), line.trim().parse().ok()?))
}
