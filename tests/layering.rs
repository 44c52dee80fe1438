//! Dependencies between the crate's top-level modules go one way. Each module may use
//! only the modules of the layers below its own; the test reads every `src/**/*.rs`,
//! collects the `crate::<module>` paths (in `use` lines, `use crate::{…}` groups and
//! inline paths; `gatehouse::<module>` in the binary) and fails on any other edge, so
//! it also fails on any cycle.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, bottom up. A module may use the modules of the layers before its own.
const LAYERS: &[&str] = &[
    // The language: lexer, parser, typed model, condition syntax trees. Nothing runs.
    "config",   // TLS configurations compiled from the model (rustls).
    "tls",      // Identity: `identity` sections compiled, tokens verified, audit log.
    "identity", // PostgreSQL's wire protocol as a client: logins toward a server.
    "pgwire",   // Compiled from the model, evaluated per request.
    "acl", "log", "balance", // The compiled snapshot and the live state.
    "runtime", // Health checks: their own tasks, writing the live state.
    "check",   // Statistics: read the live state and the checks' results.
    "stats",   // Listeners, codecs, the exchange.
    "proxy",   // The runtime API over the running proxy.
    "admin",   // Loading a configuration with every engine's checks.
    "load",    // Master-worker mode, process handoffs (`-W`, `-S`, `-x`).
    "master",  // The command line and the binary.
    "cli", "main",
];

/// The top-level module a source file belongs to (`None` for `src/lib.rs`).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(m) => Some(m.to_string()),
        None => Some(first.to_string()),
    }
}

/// Drops `//` comments (doc links name paths without depending on them) and the
/// contents of string literals.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                if c == '"' && prev != '\\' {
                    in_str = false;
                    out.push('"');
                }
                prev = if prev == '\\' && c == '\\' { ' ' } else { c };
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\'' {
                in_str = true;
            }
            out.push(c);
            prev = c;
        }
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level names a file's code reaches through `prefix` (`crate::` or
/// `gatehouse::`), including every first name of a `prefix{a::…, b}` group.
fn referenced(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        // `some_crate::` is not `crate::`.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        let name = ident_at(&group[i..]);
                        if !name.is_empty() {
                            out.insert(name.to_string());
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// Every edge `(from, to, file)` between different top-level modules.
fn edges(files: &[(PathBuf, String)]) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    for (rel, text) in files {
        let Some(from) = module_of(rel) else { continue };
        let code = code_only(text);
        let mut names = referenced(&code, "crate::");
        if from == "main" {
            names.extend(referenced(&code, "gatehouse::"));
        }
        for to in names {
            // Items of the crate root itself (`crate::VERSION`) belong to no layer.
            let is_module = LAYERS.contains(&to.as_str())
                || files
                    .iter()
                    .any(|(p, _)| module_of(p).as_deref() == Some(&to));
            if is_module && to != from {
                out.push((from.clone(), to, rel.clone()));
            }
        }
    }
    out
}

/// The edges that go sideways or upward, or touch a module that has no layer.
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let layer = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut bad = Vec::new();
    let mut unplaced = BTreeSet::new();
    for (rel, _) in files {
        if let Some(m) = module_of(rel)
            && layer(&m).is_none()
        {
            unplaced.insert(m);
        }
    }
    for m in unplaced {
        bad.push(format!("module '{m}' has no layer: add it to LAYERS"));
    }
    for (from, to, file) in edges(files) {
        match (layer(&from), layer(&to)) {
            (Some(f), Some(t)) if t < f => {}
            _ => bad.push(format!(
                "{}: '{from}' uses '{to}', which is not below it",
                file.display()
            )),
        }
    }
    bad
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            let rel = path.strip_prefix(root).expect("under src").to_path_buf();
            out.push((rel, text));
        }
    }
}

#[test]
fn every_dependency_between_top_level_modules_goes_down() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    // The scan sees real edges: the proxy uses the runtime, the runtime the config.
    let found = edges(&files);
    for (from, to) in [
        ("proxy", "runtime"),
        ("runtime", "config"),
        ("main", "load"),
    ] {
        assert!(
            found.iter().any(|(f, t, _)| f == from && t == to),
            "no edge {from} -> {to} found: the scan is broken"
        );
    }
    let bad = violations(&files);
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
}

#[test]
fn upward_edges_cycles_and_unplaced_modules_are_caught() {
    let file = |p: &str, t: &str| (PathBuf::from(p), t.to_string());
    // A clean set: nothing to report; comments, strings and other crates are ignored.
    let clean = [
        file(
            "config/mod.rs",
            "// uses crate::proxy in a comment\nconst S: &str = \"crate::proxy\";\nuse other_crate::proxy;\n",
        ),
        file("acl/mod.rs", "use crate::config::model::Proxy;\n"),
        file(
            "runtime/x.rs",
            "use crate::{acl::AclSet, config};\nfn f() { crate::balance::g(); }\n",
        ),
        file("proxy/mod.rs", "use crate::VERSION;\n"),
    ];
    assert_eq!(violations(&clean), Vec::<String>::new());
    // config -> acl goes up (and closes a cycle with acl -> config).
    let up = [
        file(
            "config/validate.rs",
            "use crate::acl::{AclSet, Visibility};\n",
        ),
        file("acl/mod.rs", "use crate::config::model::Proxy;\n"),
    ];
    let bad = violations(&up);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("'config' uses 'acl'"), "{bad:?}");
    // An edge hidden in a group, and one inline in an expression.
    let grouped = [file(
        "runtime/errors.rs",
        "use crate::{config::model::ErrorFile, proxy::h1};\n",
    )];
    assert_eq!(violations(&grouped).len(), 1);
    let inline = [file(
        "balance/random.rs",
        "let f = |s: &crate::runtime::server::ServerState| 0;\n",
    )];
    assert_eq!(violations(&inline).len(), 1);
    // A module nobody placed.
    let unplaced = [file("metrics/mod.rs", "use crate::config::model::Proxy;\n")];
    assert!(violations(&unplaced)[0].contains("has no layer"));
}
