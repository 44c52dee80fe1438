//! The haproxy.cfg lexer: turns a file into lines of words, with HAProxy's quoting,
//! escaping, environment expansion and conditional blocks (`.if/.elif/.else/.endif`),
//! and runs the status directives `.diag`, `.notice`, `.warning`, `.alert`
//! (configuration.txt 2.2–2.4, `readcfgfile()`/`parse_line()` in HAProxy 2.6).
//!
//! CONTRACT (the parser relies on it):
//! - `lex(file, text, env, diags)` returns the logical lines that survive conditional
//!   blocks, each with its words already unquoted/unescaped/expanded. No returned line is
//!   empty, none starts with an empty word, none is a `.directive` and `[scope]` lines are
//!   consumed here.
//! - Problems are pushed to `diags` as alerts/warnings with the line's span; lexing goes on
//!   after an error so that every error is reported (HAProxy stops reading the file after
//!   a failed `.if`, an `.alert` or a misplaced `.endif`; gatehouse reports on, the
//!   configuration is refused either way).
//!
//! Faithful details worth knowing (all checked against haproxy 2.6.12):
//! - `$VAR`/`${VAR}` expand only inside double quotes; unquoted `$` and `\$` are literal.
//! - An empty word in the middle of a line is kept, an empty last word is dropped, and a
//!   line whose first word is empty (e.g. `"${UNSET}" foo`) is skipped entirely.
//! - Lines are split on LF only; a CR ends the words of its line (CRLF files work).
//! - Lexing errors are reported even inside a false `.if` block; only the directive
//!   structure is checked there, conditions of nested `.if`s are not evaluated.
//! - A last line without LF is an alert, as in HAProxy ("Missing LF on last line").

mod words;

#[cfg(test)]
mod tests;

use super::cond;
use super::diag::Diag;
use super::span::Span;
use std::sync::Arc;
use words::{Split, SplitError, SplitErrorKind};

pub use words::MAX_LINE_ARGS;

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

/// Deepest `.if` nesting HAProxy accepts is one less than this (`MAXNESTEDCONDS`).
pub const MAX_NESTED_CONDS: usize = 100;

/// The keywords that open a section in HAProxy 2.6; the lexer tracks them only to resolve
/// the `${.SECTION}` pseudo-variable.
pub const SECTION_KEYWORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "mailers",
    "resolvers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "fcgi-app",
    "namespace_list",
];

/// Lexer settings beyond the defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LexOptions {
    /// Diagnostic mode (`-dD`): `.diag` messages are emitted (as notices); otherwise
    /// they are silent, as in HAProxy.
    pub diag_mode: bool,
}

/// Splits `text` (the content of `file`) into lines of words.
pub fn lex(file: &str, text: &str, env: EnvLookup<'_>, diags: &mut Vec<Diag>) -> Vec<Line> {
    lex_with_options(file, text, env, LexOptions::default(), diags)
}

/// [`lex`] with explicit [`LexOptions`].
pub fn lex_with_options(
    file: &str,
    text: &str,
    env: EnvLookup<'_>,
    options: LexOptions,
    diags: &mut Vec<Diag>,
) -> Vec<Line> {
    let mut lexer = Lexer {
        file: file.into(),
        env,
        options,
        conds: Vec::new(),
        section: String::new(),
        lines: Vec::new(),
        diags,
    };
    let mut raw_lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') || text.is_empty() {
        raw_lines.pop();
    }
    for (idx, raw) in raw_lines.iter().enumerate() {
        let line_no = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        lexer.line(line_no, raw.as_bytes());
    }
    let last = Span::new(
        lexer.file.clone(),
        u32::try_from(raw_lines.len()).unwrap_or(u32::MAX),
    );
    if !lexer.conds.is_empty() {
        lexer
            .diags
            .push(Diag::alert(&last, "non-terminated '.if' block."));
    }
    if let Some(tail) = raw_lines.last().filter(|_| !text.ends_with('\n')) {
        let len = tail.bytes().position(|b| b == 0).unwrap_or(tail.len());
        let msg = format!(
            "Missing LF on last line, file might have been truncated at position {}.",
            len + 1
        );
        lexer.diags.push(Diag::alert(&last, msg));
    }
    lexer.lines
}

/// Where a conditional level stands (HAProxy's `enum nested_cond_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cond {
    /// `.if` true: lines are taken.
    IfTake,
    /// `.if` false: lines dropped, a later branch may be taken.
    IfDrop,
    /// `.if` inside a dropped block: nothing in it is taken.
    IfSkip,
    /// `.elif` true.
    ElifTake,
    /// `.elif` false, a later branch may be taken.
    ElifDrop,
    /// `.elif` after a taken branch or inside a dropped block.
    ElifSkip,
    /// `.else` taken.
    ElseTake,
    /// `.else` after a taken branch or inside a dropped block.
    ElseDrop,
}

impl Cond {
    fn dropped(self) -> bool {
        !matches!(self, Cond::IfTake | Cond::ElifTake | Cond::ElseTake)
    }
    fn after_else(self) -> bool {
        matches!(self, Cond::ElseTake | Cond::ElseDrop)
    }
    /// A branch was taken, or the whole block is inside a dropped one.
    fn settled(self) -> bool {
        matches!(
            self,
            Cond::IfTake | Cond::IfSkip | Cond::ElifTake | Cond::ElifSkip
        )
    }
}

struct Lexer<'a, 'd> {
    file: Arc<str>,
    env: EnvLookup<'a>,
    options: LexOptions,
    conds: Vec<Cond>,
    section: String,
    lines: Vec<Line>,
    diags: &'d mut Vec<Diag>,
}

impl Lexer<'_, '_> {
    fn line(&mut self, line_no: u32, raw: &[u8]) {
        let span = Span::new(self.file.clone(), line_no);
        // Like HAProxy (which reads C strings), a NUL ends the line and is an error.
        let nul = raw.iter().position(|&b| b == 0);
        self.words_line(&span, &raw[..nul.unwrap_or(raw.len())]);
        if let Some(pos) = nul {
            let msg = format!("Stray NUL character at position {}.", pos + 1);
            self.diags.push(Diag::alert(&span, msg));
        }
    }

    fn words_line(&mut self, span: &Span, raw: &[u8]) {
        let lead = raw.iter().take_while(|&&b| words::is_c_space(b)).count();
        let body = &raw[lead..];
        if body.first() == Some(&b'[') {
            if let Err(msg) = check_scope(body) {
                self.diags.push(Diag::alert(span, msg));
            }
            return;
        }
        let (file, section, env) = (self.file.clone(), self.section.clone(), self.env);
        let vars = move |name: &str| pseudo_or_env(name, &file, span.line, &section, env);
        let split = match words::split(body, true, &vars) {
            Ok(split) => split,
            Err(e) => {
                self.diags
                    .push(Diag::alert(span, split_error_message(body, lead, e)));
                return;
            }
        };
        if split.too_many() {
            let word = String::from_utf8_lossy(&split.raw[MAX_LINE_ARGS - 1]);
            let msg = format!(
                "too many words, truncating after word {MAX_LINE_ARGS}, position {}: <{word}>.",
                split.too_many_position()
            );
            self.diags.push(Diag::alert(span, msg));
            return;
        }
        let counted: Vec<String> = split
            .counted()
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        let Some(first) = counted.first().filter(|w| !w.is_empty()) else {
            return;
        };
        if first.starts_with('.') && self.conditional(span, &counted, &split) {
            return;
        }
        if self.conds.last().is_some_and(|c| c.dropped()) {
            return;
        }
        if first.starts_with('.') {
            self.directive(span, &counted);
            return;
        }
        if SECTION_KEYWORDS.contains(&first.as_str()) {
            self.section = match counted.get(1) {
                Some(name) if !name.is_empty() => name.clone(),
                _ => first.clone(),
            };
        }
        self.lines.push(Line {
            span: span.clone(),
            words: counted,
        });
    }

    /// Handles `.if/.elif/.else/.endif`; false for any other word.
    fn conditional(&mut self, span: &Span, words: &[String], split: &Split) -> bool {
        let top = self.conds.last().copied();
        match words[0].as_str() {
            ".if" => {
                if self.conds.len() + 1 >= MAX_NESTED_CONDS {
                    let msg = format!("too many nested '.if', max is {MAX_NESTED_CONDS}.");
                    self.diags.push(Diag::alert(span, msg));
                    self.conds.push(Cond::IfSkip);
                } else if top.is_some_and(Cond::dropped) {
                    self.conds.push(Cond::IfSkip);
                } else {
                    let take = self.condition(span, ".if", split);
                    self.conds
                        .push(if take { Cond::IfTake } else { Cond::IfDrop });
                }
            }
            ".elif" => match top {
                None => self.alert(span, "lone '.elif' with no matching '.if'."),
                Some(c) if c.after_else() => {
                    self.alert(span, "'.elif' after '.else' is not permitted.")
                }
                Some(c) if c.settled() => self.set_top(Cond::ElifSkip),
                Some(_) => {
                    let take = self.condition(span, ".elif", split);
                    self.set_top(if take { Cond::ElifTake } else { Cond::ElifDrop });
                }
            },
            ".else" | ".endif" => {
                let kw = words[0].as_str();
                if let Some(arg) = words.get(1).filter(|a| !a.is_empty()) {
                    let msg = format!("Unexpected argument '{arg}' for '{kw}'.");
                    self.diags.push(Diag::alert(span, msg));
                }
                match top {
                    None => self.alert(span, &format!("lone '{kw}' with no matching '.if'.")),
                    Some(_) if kw == ".endif" => {
                        self.conds.pop();
                    }
                    Some(c) if c.after_else() => {
                        self.alert(span, "'.else' after '.else' is not permitted.")
                    }
                    Some(c) if c.settled() => self.set_top(Cond::ElseDrop),
                    Some(_) => self.set_top(Cond::ElseTake),
                }
            }
            _ => return false,
        }
        true
    }

    /// Evaluates the condition of a `.if`/`.elif`; an error is reported and counts as
    /// false so that lexing goes on.
    fn condition(&mut self, span: &Span, kw: &str, split: &Split) -> bool {
        // HAProxy re-merges all words after the directive with single spaces.
        let text: Vec<u8> = split.raw[1..].join(&b' ');
        let text = String::from_utf8_lossy(&text);
        match cond::eval_text(&text, self.env) {
            Ok(v) => v,
            Err(e) => {
                let width = if kw == ".if" { 76 } else { 74 };
                let (shown, at) = words::sanitize_for_printing(text.as_bytes(), e.position, width);
                let msg = format!(
                    "{} in '{kw}' at position {}:\n  {kw} {shown}\n  {}^",
                    e.message,
                    e.position + 1,
                    " ".repeat(at + kw.len() + 1)
                );
                self.diags.push(Diag::alert(span, msg));
                false
            }
        }
    }

    /// Runs `.diag/.notice/.warning/.alert` in an active block; any other `.word` is an
    /// unknown directive.
    fn directive(&mut self, span: &Span, words: &[String]) {
        let kw = words[0].as_str();
        if !matches!(kw, ".alert" | ".warning" | ".notice" | ".diag") {
            self.alert(span, &format!("unknown directive '{kw}'."));
            return;
        }
        if let Some(extra) = words.get(2).filter(|w| !w.is_empty()) {
            let msg = format!(
                "Unexpected argument '{extra}' for '{kw}'. Use quotes if the message should contain spaces."
            );
            self.alert(span, &msg);
            return;
        }
        let msg = format!("'{}'.", words.get(1).map_or("", String::as_str));
        let diag = match kw {
            ".alert" => Diag::alert(span, msg),
            ".warning" => Diag::warning(span, msg),
            ".notice" => Diag::notice(span, msg),
            _ if self.options.diag_mode => Diag::notice(span, msg),
            _ => return,
        };
        self.diags.push(diag);
    }

    fn set_top(&mut self, state: Cond) {
        if let Some(top) = self.conds.last_mut() {
            *top = state;
        }
    }

    fn alert(&mut self, span: &Span, msg: &str) {
        self.diags.push(Diag::alert(span, msg));
    }
}

/// Resolves `name` for expansion: HAProxy's pseudo-variables `.FILE`, `.LINE`,
/// `.SECTION`, else the environment.
fn pseudo_or_env(
    name: &str,
    file: &str,
    line: u32,
    section: &str,
    env: EnvLookup<'_>,
) -> Result<Option<String>, ()> {
    match name {
        ".LINE" => Ok(Some(line.to_string())),
        ".FILE" => Ok(Some(file.to_string())),
        ".SECTION" => Ok(Some(section.to_string())),
        n if n.starts_with('.') => Err(()),
        n => Ok(env(n)),
    }
}

/// HAProxy's message for a line that cannot be split, with the line and a caret.
fn split_error_message(body: &[u8], lead: usize, e: SplitError) -> String {
    let what = match e.kind {
        SplitErrorKind::Quote => "unmatched quote",
        SplitErrorKind::Brace => "unmatched brace in environment variable name",
        SplitErrorKind::VarName => "forbidden first char in environment variable name",
        SplitErrorKind::Hex => "truncated or invalid hexadecimal sequence",
        SplitErrorKind::WrongExpand => "truncated or invalid word expansion sequence",
    };
    let (shown, at) = words::sanitize_for_printing(body, e.pos, 80);
    format!(
        "{what} at position {}:\n  {shown}\n  {}^",
        lead + e.pos + 1,
        " ".repeat(at)
    )
}

/// Validates a `[name]` scope line as HAProxy's `cfg_parse_scope()` does.
fn check_scope(body: &[u8]) -> Result<(), String> {
    let inner = &body[1..];
    let end = inner.iter().position(|&b| b == b']').filter(|&e| e > 0);
    let Some(end) = end else {
        return Err("empty scope name is forbidden.".into());
    };
    let permitted = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'_' | b'-');
    if let Some(&c) = inner[..end].iter().find(|&&c| !permitted(c)) {
        return Err(format!(
            "character '{}' is not permitted in a scope name.",
            c as char
        ));
    }
    let rest = &inner[end + 1..];
    match rest.iter().find(|&&c| !words::is_c_space(c)) {
        Some(&c) if !matches!(c, b'#' | b'\n' | b'\r') => Err(format!(
            "character '{}' is not permitted after scope declaration.",
            c as char
        )),
        _ => Ok(()),
    }
}

/// Splits a `-cc` expression into words as HAProxy's `-cc` does (no `#` comments) and
/// re-merges them with single spaces. `Err` holds HAProxy's full alert text.
pub(crate) fn cc_text(expr: &str, env: EnvLookup<'_>) -> Result<String, String> {
    let vars = |name: &str| match name {
        ".LINE" => Ok(Some("0".to_string())),
        ".FILE" | ".SECTION" => Ok(None),
        n if n.starts_with('.') => Err(()),
        n => Ok(env(n)),
    };
    let split = words::split(expr.as_bytes(), false, &vars).map_err(|e| {
        match e.kind {
            SplitErrorKind::Quote => "Syntax Error in condition: Unmatched quote.",
            SplitErrorKind::Hex => {
                "Syntax Error in condition: Truncated or invalid hexadecimal sequence."
            }
            _ => "Unhandled error in condition, please report this to the developers.",
        }
        .to_string()
    })?;
    if split.too_many() {
        return Err("Error in condition: Too many words.".into());
    }
    Ok(String::from_utf8_lossy(&split.raw.join(&b' ')).into_owned())
}

#[cfg(test)]
mod tests_cond;
