//! haproxy.cfg → typed model: lexer (quotes, escapes, `${ENV}`, `.if`), one keyword
//! table per section kind, post-parse validation. Errors carry file:line.
//!
//! Flow: [`load`] reads every `-f` path (a directory: its `*.cfg` files in lexical
//! order), lexes each file, feeds the lines to one [`parser::Parser`], then validates.

pub mod cond;
pub mod diag;
pub mod global;
pub mod keyword;
pub mod lexer;
pub mod logline;
pub mod model;
pub mod parser;
pub mod proxy;
pub mod registry;
pub mod span;
pub mod suggest;
pub mod userlist;
pub mod validate;
pub mod value;

use diag::Diag;
use model::Config;
use std::path::{Path, PathBuf};

/// The result of loading a configuration: the model and every diagnostic.
#[derive(Debug)]
pub struct Loaded {
    /// The model (partial when there are alerts).
    pub config: Config,
    /// Alerts, warnings and notices, in the order found.
    pub diags: Vec<Diag>,
    /// The files that had alerts.
    pub files_with_errors: Vec<String>,
}

impl Loaded {
    /// True when the configuration is refused.
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diag::is_alert)
    }
}

/// The files a `-f` argument names: a file, or a directory's `*.cfg` files sorted.
pub fn expand_path(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "cfg") && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

fn real_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads and validates the configuration from `paths` (as given to `-f`).
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut sources = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        match expand_path(p) {
            Ok(files) => {
                for f in files {
                    match std::fs::read(&f) {
                        Ok(bytes) => sources.push((
                            f.display().to_string(),
                            String::from_utf8_lossy(&bytes).into_owned(),
                        )),
                        Err(e) => diags.push(Diag::global_alert(format!(
                            "Could not open configuration file {} : {e}",
                            f.display()
                        ))),
                    }
                }
            }
            Err(e) => diags.push(Diag::global_alert(format!(
                "Could not open configuration file {} : {e}",
                p.display()
            ))),
        }
    }
    let mut loaded = load_sources(&sources, &real_env);
    diags.append(&mut loaded.diags);
    loaded.diags = diags;
    loaded
}

/// Loads a configuration from (file name, text) pairs with the given environment.
pub fn load_sources(sources: &[(String, String)], env: lexer::EnvLookup<'_>) -> Loaded {
    let mut parser = parser::Parser::new();
    let mut diags = Vec::new();
    let mut files_with_errors = Vec::new();
    for (name, text) in sources {
        let before = diags.len();
        let lines = lexer::lex(name, text, env, &mut diags);
        parser.feed(&lines);
        let _ = before;
    }
    let (config, mut parse_diags) = parser.finish();
    diags.append(&mut parse_diags);
    for (name, _) in sources {
        if diags
            .iter()
            .any(|d| d.is_alert() && d.span.as_ref().is_some_and(|s| &*s.file == name.as_str()))
        {
            files_with_errors.push(name.clone());
        }
    }
    if !diags.iter().any(Diag::is_alert) {
        validate::validate(&config, &mut diags);
    }
    Loaded {
        config,
        diags,
        files_with_errors,
    }
}

/// Loads one configuration text named `name`, with the process environment.
pub fn load_str(name: &str, text: &str) -> Loaded {
    load_sources(&[(name.to_owned(), text.to_owned())], &real_env)
}
