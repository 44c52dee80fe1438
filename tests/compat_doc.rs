//! `docs/compat.md` must list exactly the keywords of
//! `gatehouse::config::registry::entries()`, each with the same status, so that the
//! compatibility table cannot go stale. `cargo test --test compat_doc -- --ignored`
//! regenerates the tables from the registry, keeping the notes already written.

use gatehouse::config::keyword::Status;
use gatehouse::config::registry::{Entry, entries};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/compat.md")
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Supported => "supported",
        Status::NotYet => "not yet",
        Status::Never(_) => "will not",
    }
}

/// One table row of the document: (section, keyword) → (status, notes).
type Rows = BTreeMap<(String, String), (String, String)>;

/// Reads the tables: a `## \`SECTION\` …` heading starts a section; rows look like
/// ``| `keyword` | status | notes |``. Duplicate rows are reported as errors.
fn parse_doc(text: &str) -> Result<Rows, String> {
    let mut rows = Rows::new();
    let mut section: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = line.strip_prefix("## `") {
            section = h.split('`').next().map(str::to_string);
            continue;
        }
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let sec = section
            .clone()
            .ok_or_else(|| format!("line {}: row before any section heading", i + 1))?;
        let (name, rest) = rest
            .split_once('`')
            .ok_or_else(|| format!("line {}: unterminated keyword", i + 1))?;
        // cells: "", status, notes, "" (trailing pipe); `\|` is a pipe inside a cell.
        let rest = rest.replace("\\|", "\u{0}");
        let cells: Vec<String> = rest
            .split('|')
            .map(|c| c.trim().replace('\u{0}', "|"))
            .collect();
        let status = cells.get(1).cloned().unwrap_or_default();
        let notes = cells.get(2).cloned().unwrap_or_default();
        if rows
            .insert((sec.clone(), name.to_string()), (status, notes))
            .is_some()
        {
            return Err(format!(
                "line {}: `{name}` listed twice in section `{sec}`",
                i + 1
            ));
        }
    }
    Ok(rows)
}

#[test]
fn compat_doc_lists_exactly_the_registry_keywords_with_their_status() {
    let text = std::fs::read_to_string(doc_path()).expect("docs/compat.md must exist");
    let doc = parse_doc(&text).unwrap_or_else(|e| panic!("docs/compat.md: {e}"));
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for e in entries() {
        let key = (e.section.to_string(), e.name.clone());
        seen.insert(key.clone());
        match doc.get(&key) {
            None => problems.push(format!(
                "missing: `{}` in section `{}` ({})",
                e.name,
                e.section,
                status_word(e.status)
            )),
            Some((st, _)) if st != status_word(e.status) => problems.push(format!(
                "`{}` in `{}`: doc says {st:?}, registry says {:?}",
                e.name,
                e.section,
                status_word(e.status)
            )),
            Some(_) => {}
        }
    }
    for (sec, name) in doc.keys() {
        if !seen.contains(&(sec.clone(), name.clone())) {
            problems.push(format!("not in the registry: `{name}` in section `{sec}`"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/compat.md is out of date (regenerate with `cargo test --test compat_doc -- --ignored`, then edit the notes):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_doc_parser_sees_rows_and_rejects_duplicates() {
    let rows = parse_doc(
        "## `global` x\n| Keyword | Status | Notes |\n| `maxconn` | supported | a note |\n",
    )
    .unwrap();
    assert_eq!(
        rows.get(&("global".into(), "maxconn".into())),
        Some(&("supported".to_string(), "a note".to_string()))
    );
    assert!(parse_doc("## `global`\n| `a` | supported | |\n| `a` | not yet | |\n").is_err());
    let rows = parse_doc("## `proxy`\n| `x` | supported | a \\| b |\n").unwrap();
    assert_eq!(rows[&("proxy".into(), "x".into())].1, "a | b");
}

/// What each registry section covers, for the headings.
const SECTION_TITLES: &[(&str, &str)] = &[
    ("section", "section keywords"),
    ("global", "the `global` section"),
    (
        "proxy",
        "proxy sections (`defaults`, `frontend`, `backend`, `listen`)",
    ),
    ("userlist", "the `userlist` section"),
    ("bind", "options of `bind` lines"),
    ("server", "options of `server` and `default-server` lines"),
];

fn render(entries: &[Entry], old: &Rows) -> String {
    let mut out = String::from(HEADER);
    for (sec, title) in SECTION_TITLES {
        out.push_str(&format!(
            "\n## `{sec}` — {title}\n\n| Keyword | Status | Notes |\n|---|---|---|\n"
        ));
        for e in entries.iter().filter(|e| e.section == *sec) {
            let key = (sec.to_string(), e.name.clone());
            let notes = match (old.get(&key), e.status) {
                // A note is kept while the status it describes is unchanged.
                (Some((st, n)), s) if !n.is_empty() && st == status_word(s) => n.clone(),
                (_, Status::Never(why)) => why.to_string(),
                _ => e.help.to_string(),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                e.name,
                status_word(e.status),
                notes.replace('|', "\\|")
            ));
        }
    }
    out
}

const HEADER: &str = "# HAProxy keyword compatibility

gatehouse reads HAProxy 2.6's `haproxy.cfg`. This page lists every keyword gatehouse
knows about, with its status:

- **supported**: parsed with HAProxy's meaning and implemented, unless the notes say its effect arrives with a later milestone (then a warning at load, or for wire-level options an error, says so);
- **not yet**: a real HAProxy keyword that gatehouse does not implement yet. A
  configuration using it is refused with an error saying so
  (`'cpu-map' in section 'global' is a HAProxy keyword that gatehouse does not support yet.`), never
  silently ignored;
- **will not**: a real HAProxy keyword gatehouse will not implement (the reason is given).

A keyword not listed here is refused with HAProxy's `unknown keyword` message and,
when one is close, a suggestion (`did you mean 'default_backend' maybe ?`). The
actions of `http-request`/`http-response`/`tcp-request` are listed in the notes of
those keywords. `gatehouse --keywords` prints
the same list. This file is checked against the keyword tables by
`tests/compat_doc.rs`; regenerate it with
`cargo test --test compat_doc -- --ignored` (notes already written are kept).
";

#[test]
#[ignore = "writes docs/compat.md"]
fn regenerate_compat_doc() {
    let text = std::fs::read_to_string(doc_path()).unwrap_or_default();
    let old = parse_doc(&text).unwrap_or_default();
    // Hand-written sections after the tables (`## Behaviour differences …`) are kept.
    let tables = text.find("\n## `").unwrap_or(text.len());
    let trailer = text[tables..]
        .match_indices("\n## ")
        .map(|(i, _)| tables + i)
        .find(|&i| !text[i..].starts_with("\n## `"))
        .map_or("", |i| &text[i..]);
    let all = entries();
    for e in &all {
        assert!(
            SECTION_TITLES.iter().any(|(s, _)| *s == e.section),
            "no heading for section {}",
            e.section
        );
    }
    std::fs::create_dir_all(doc_path().parent().expect("docs dir")).expect("create docs/");
    let doc = render(&all, &old) + trailer;
    std::fs::write(doc_path(), doc).expect("write docs/compat.md");
}
