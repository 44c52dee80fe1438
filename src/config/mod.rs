//! haproxy.cfg → typed model: lexer (quotes, escapes, `${ENV}`, `.if`), one keyword
//! table per section kind, post-parse validation. Errors carry file:line.
//!
//! Flow: [`load`] reads every `-f` path (a directory: its `*.cfg` files in lexical
//! order), lexes each file, feeds the lines to one [`parser::Parser`], then validates.
//!
//! Layering: this module is the language (lexer, parser, typed model, condition syntax
//! trees) and depends on no other module of the crate. What needs compiled code
//! (conditions, log-formats, errorfiles) is checked through a [`semantics::Semantics`]
//! the caller passes; `crate::load` passes the real one.

pub mod cond;
pub mod condition;
pub mod credentials;
pub mod diag;
pub mod env;
pub mod global;
pub mod http_errors;
pub mod identity;
pub mod keyword;
pub mod lexer;
pub mod logline;
pub mod model;
pub mod parser;
pub mod proxy;
pub mod registry;
pub mod semantics;
pub mod span;
pub mod suggest;
pub mod userlist;
pub mod validate;
pub mod value;

use diag::Diag;
use model::Config;
use semantics::Semantics;
use std::path::PathBuf;

/// The result of loading a configuration: the model and every diagnostic.
#[derive(Debug)]
pub struct Loaded {
    /// The model (partial when there are alerts).
    pub config: Config,
    /// Alerts, warnings and notices, in the order found.
    pub diags: Vec<Diag>,
    /// The files that had alerts.
    pub files_with_errors: Vec<String>,
    /// A `-f` path could not be read: nothing was parsed, and HAProxy prints that one
    /// alert alone (no "Fatal errors found" summary).
    pub unreadable: bool,
}

impl Loaded {
    /// True when the configuration is refused.
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diag::is_alert)
    }
}

/// The files the `-f` arguments name, in order, as HAProxy 2.6 expands them before
/// reading anything: a file as given; a directory, its regular files whose name ends in
/// `.cfg` (the first `.cfg` in the name being its end) and does not start with `.`, in
/// byte order, named `DIR/NAME`. A path that cannot be examined fails with HAProxy's
/// alert for it (HAProxy prints the directory, not the entry, for an entry it cannot
/// examine).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            format!(
                "Cannot open configuration file/directory {} : {}",
                path.display(),
                strerror(&e)
            )
        })?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let cannot = |what: &str, e: std::io::Error| {
            format!("Cannot open {what} {} : {}", path.display(), strerror(&e))
        };
        let mut names: Vec<String> = std::fs::read_dir(path)
            .map_err(|e| cannot("configuration directory", e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && n.find(".cfg").is_some_and(|i| i + 4 == n.len()))
            .collect();
        names.sort();
        for name in names {
            let file = PathBuf::from(format!("{}/{name}", path.display()));
            let meta = std::fs::metadata(&file).map_err(|e| cannot("configuration file", e))?;
            if meta.is_file() {
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// An OS error as `strerror` words it (`No such file or directory`), without Rust's
/// ` (os error N)` suffix.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Reads every file the `-f` arguments name; the first one that cannot be read stops
/// the load with HAProxy's alert for it.
pub fn read_paths(paths: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    let mut sources = Vec::new();
    for f in expand_paths(paths)? {
        let bytes = std::fs::read(&f).map_err(|e| {
            format!(
                "Could not open configuration file {} : {}",
                f.display(),
                strerror(&e)
            )
        })?;
        sources.push((
            f.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    Ok(sources)
}

fn real_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads and validates the configuration from `paths` (as given to `-f`), checking
/// what needs compiled code with `sem`. A path that cannot be read gives a [`Loaded`]
/// with that one alert and `unreadable` set, as HAProxy stops there.
pub fn load(paths: &[PathBuf], sem: &'static dyn Semantics) -> Loaded {
    match read_paths(paths) {
        Ok(sources) => load_sources(&sources, &real_env, sem),
        Err(message) => Loaded {
            config: Config::default(),
            diags: vec![Diag::global_alert(message)],
            files_with_errors: Vec::new(),
            unreadable: true,
        },
    }
}

/// Loads a configuration from (file name, text) pairs with the given environment.
///
/// Files are parsed line by line in order; lexer and parser diagnostics come out in
/// line order. `setenv` and friends change the environment seen by the following
/// lines (see [`env`]) without touching the process environment. `sem` checks what
/// needs compiled code (conditions, log-formats, errorfiles).
pub fn load_sources(
    sources: &[(String, String)],
    env: lexer::EnvLookup<'_>,
    sem: &'static dyn Semantics,
) -> Loaded {
    let mut parser = parser::Parser::with_semantics(sem);
    let mut overlay = env::EnvOverlay::default();
    for (name, text) in sources {
        parse_file(&mut parser, &mut overlay, name, text, env);
    }
    let (config, mut diags) = parser.finish();
    let files_with_errors = sources
        .iter()
        .filter(|(name, _)| {
            diags
                .iter()
                .any(|d| d.is_alert() && d.span.as_ref().is_some_and(|s| &*s.file == name.as_str()))
        })
        .map(|(name, _)| name.clone())
        .collect();
    if !diags.iter().any(Diag::is_alert) {
        validate::validate(&config, &mut diags, sem);
    }
    Loaded {
        config,
        diags,
        files_with_errors,
        unreadable: false,
    }
}

/// The environment states of one lexing pass: `(n, state)` means that from the
/// n-th environment lookup on (0-based), `state` applies. The lexer looks variables
/// up in file order, so the n-th lookup of a pass is the n-th of any pass that
/// agrees with it on every earlier lookup.
type Timeline = Vec<(usize, env::EnvOverlay)>;

/// Lexes `text` with the environment `timeline`; returns the lines, the lexer's
/// diagnostics and how many lookups were made.
fn lex_pass(
    name: &str,
    text: &str,
    timeline: &Timeline,
    base: lexer::EnvLookup<'_>,
) -> (Vec<lexer::Line>, Vec<Diag>, usize) {
    let calls = std::cell::Cell::new(0usize);
    let lookup = |var: &str| {
        let n = calls.get();
        calls.set(n + 1);
        let state = timeline
            .iter()
            .rev()
            .find(|(from, _)| *from <= n)
            .map(|(_, s)| s);
        state.and_then(|s| s.get(var, base))
    };
    let mut diags = Vec::new();
    let lines = lexer::lex(name, text, &lookup, &mut diags);
    (lines, diags, calls.get())
}

/// `text` up to and including line `line` (1-based) and its newline.
fn text_through_line(text: &str, line: u32) -> &str {
    let mut end = text.len();
    let mut seen = 0u32;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            seen += 1;
            if seen == line {
                end = i + 1;
                break;
            }
        }
    }
    &text[..end]
}

/// Lexes and parses one file. HAProxy applies `setenv`-family lines immediately, so
/// after such a line the rest of the file is lexed again with the new environment
/// from the next lookup on (earlier lines keep what they saw).
fn parse_file(
    parser: &mut parser::Parser,
    overlay: &mut env::EnvOverlay,
    name: &str,
    text: &str,
    base: lexer::EnvLookup<'_>,
) {
    parser.begin_file(name);
    let mut timeline: Timeline = vec![(0, overlay.clone())];
    let mut done: u32 = 0; // lines up to this one are parsed
    loop {
        let (lines, lex_diags, _) = lex_pass(name, text, &timeline, base);
        let mut pending = lex_diags
            .into_iter()
            .filter(|d| d.span.as_ref().is_none_or(|s| s.line > done))
            .peekable();
        let mut changed_at = None;
        for line in lines.iter().filter(|l| l.span.line > done) {
            // A line's own lexer messages follow it, as in HAProxy (e.g. a missing LF).
            let at = line.span.line;
            while let Some(d) = pending.next_if(|d| d.span.as_ref().is_none_or(|s| s.line < at)) {
                parser.push_diag(d);
            }
            let before = parser.env_changes().len();
            parser.feed_line(line);
            if parser.env_changes().len() > before {
                while let Some(d) =
                    pending.next_if(|d| d.span.as_ref().is_none_or(|s| s.line <= at))
                {
                    parser.push_diag(d);
                }
                for change in &parser.env_changes()[before..] {
                    overlay.apply(change, base);
                }
                changed_at = Some(line.span.line);
                break;
            }
        }
        let Some(at) = changed_at else {
            pending.for_each(|d| parser.push_diag(d));
            break;
        };
        // Diagnostics up to `at` are already recorded.
        let (_, _, calls) = lex_pass(name, text_through_line(text, at), &timeline, base);
        timeline.push((calls, overlay.clone()));
        done = at;
    }
    parser.end_file();
}

/// Loads one configuration text named `name`, with the process environment.
pub fn load_str(name: &str, text: &str, sem: &'static dyn Semantics) -> Loaded {
    load_sources(&[(name.to_owned(), text.to_owned())], &real_env, sem)
}
