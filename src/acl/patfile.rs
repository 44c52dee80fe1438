//! ACL pattern files (`acl NAME FETCH -f FILE`): the patterns of each file an ACL
//! loads, compiled apart from the ACL's inline patterns so that the runtime API
//! (`show acl`, `add acl`, `del acl`, `clear acl`) can change them live. Every ACL
//! using a file sees a change at once; the runtime contents of a file are kept for
//! the life of the process, so that they survive reloads (as map files' do).

use super::fetch::Sample;
use super::matcher::{Matcher, Method, parse_range};
use arc_swap::ArcSwap;
use std::sync::{Arc, Mutex, Weak};

/// One ACL's use of a pattern file: how its lines are compiled, and their current
/// patterns.
#[derive(Debug)]
pub struct PatFile {
    path: Box<str>,
    method: Method,
    icase: bool,
    no_dns: bool,
    current: ArcSwap<Patterns>,
}

/// A file's patterns at one moment: as written, and compiled.
#[derive(Debug)]
struct Patterns {
    list: Vec<String>,
    matcher: Matcher,
}

/// Every pattern file in use, for the runtime API.
static LOADED: Mutex<Vec<Weak<PatFile>>> = Mutex::new(Vec::new());

/// The patterns the runtime API left in each file, by path: a file loaded again (by a
/// reload) starts with these.
static RUNTIME: Mutex<Vec<(Box<str>, Vec<String>)>> = Mutex::new(Vec::new());

/// The paths of the pattern files in use, in the order they were first loaded.
pub fn paths() -> Vec<String> {
    let mut all = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|w| w.strong_count() > 0);
    let mut out: Vec<String> = Vec::new();
    for f in all.iter().filter_map(Weak::upgrade) {
        if !out.iter().any(|p| **p == *f.path) {
            out.push(f.path.to_string());
        }
    }
    out
}

/// The uses of pattern file `path` still alive (the newest last).
pub fn loaded(path: &str) -> Vec<Arc<PatFile>> {
    let mut all = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|w| w.strong_count() > 0);
    all.iter()
        .filter_map(Weak::upgrade)
        .filter(|f| &*f.path == path)
        .collect()
}

/// Changes the patterns of file `path` in every ACL using it, at once: `f` edits a
/// copy of the current patterns; when every use compiles the result it is installed
/// and kept for later loads of the file, otherwise nothing changes and the error is
/// returned. `None` when no ACL uses `path`.
pub fn update<R>(path: &str, f: impl FnOnce(&mut Vec<String>) -> R) -> Option<Result<R, String>> {
    let uses = loaded(path);
    let newest = uses.last()?;
    let mut list = newest.patterns();
    let r = f(&mut list);
    let mut compiled = Vec::with_capacity(uses.len());
    for u in &uses {
        match u.compile(&list) {
            Ok(m) => compiled.push(m),
            Err(e) => return Some(Err(e)),
        }
    }
    for (u, matcher) in uses.iter().zip(compiled) {
        u.current.store(Arc::new(Patterns {
            list: list.clone(),
            matcher,
        }));
    }
    let mut rt = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    rt.retain(|(p, _)| **p != *path);
    rt.push((path.into(), list));
    Some(Ok(r))
}

impl PatFile {
    /// Loads `file`: one pattern per line, leading blanks stripped, empty lines and `#`
    /// comments skipped; with `map` (`-M`), the first column of each line.
    pub(crate) fn load(
        file: &str,
        method: Method,
        icase: bool,
        no_dns: bool,
        map: bool,
    ) -> Result<Arc<PatFile>, String> {
        let text = std::fs::read_to_string(file)
            .map_err(|_| format!("failed to open pattern file <{file}>"))?;
        let pf = PatFile {
            path: file.into(),
            method,
            icase,
            no_dns,
            current: ArcSwap::from_pointee(Patterns {
                list: Vec::new(),
                matcher: Matcher::new(method),
            }),
        };
        let runtime = {
            let rt = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
            rt.iter()
                .find(|(p, _)| **p == *file)
                .map(|(_, v)| v.clone())
        };
        let list = match runtime {
            Some(list) => list,
            None => {
                let mut list = Vec::new();
                for (n, line) in text.lines().enumerate() {
                    let line = line.trim_start_matches([' ', '\t']).trim_end_matches('\r');
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let line = if map {
                        line.split([' ', '\t']).next().unwrap_or(line)
                    } else {
                        line
                    };
                    pf.compile(&[line.to_owned()])
                        .map_err(|e| format!("{e} at line {} of file '{file}'", n + 1))?;
                    list.push(line.to_owned());
                }
                list
            }
        };
        let matcher = pf.compile(&list)?;
        pf.current.store(Arc::new(Patterns { list, matcher }));
        let pf = Arc::new(pf);
        LOADED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&pf));
        Ok(pf)
    }

    fn compile(&self, list: &[String]) -> Result<Matcher, String> {
        let mut m = Matcher::new(self.method);
        for p in list {
            if self.method.takes_ints() {
                let (lo, hi) = parse_range(p)?;
                m.add_range(lo, hi);
            } else {
                m.add(p, self.icase, self.no_dns)?;
            }
        }
        Ok(m)
    }

    /// The patterns, in order.
    pub fn patterns(&self) -> Vec<String> {
        self.current.load().list.clone()
    }

    /// True when `sample` matches one of the file's current patterns.
    pub(crate) fn matches(&self, sample: Sample<'_>) -> bool {
        self.current.load().matcher.matches(sample)
    }
}
