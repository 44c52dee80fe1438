//! Reading `-c` check results the way HAProxy prints them: locating the
//! first `[ALERT]` line and the config line it blames, and reading the
//! marker comments of the differential-test corpus (`# expect-error-line:`,
//! `# gatehouse: not-yet`).

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

/// The line number the first `[ALERT]` in `stderr` blames in `cfg_path`:
/// the first `<cfg_path>:<digits>` in that alert line (HAProxy writes it as
/// `parsing [FILE:LINE]`, `[FILE:LINE]` or `(FILE:LINE)` depending on the
/// check). `None` if there is no alert or it names no line of that file.
pub fn first_alert_line(stderr: &str, cfg_path: &Path) -> Option<u32> {
    let alert = first_alert(stderr)?;
    let needle = format!("{}:", cfg_path.display());
    let mut rest = alert;
    while let Some(pos) = rest.find(&needle) {
        let after = &rest[pos + needle.len()..];
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = digits.parse() {
            return Some(n);
        }
        rest = after;
    }
    None
}
