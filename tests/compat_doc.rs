//! `docs/compat.md` must list exactly the keywords of
//! `gatehouse::config::registry::entries()`, each with the same status, so that the
//! compatibility table cannot go stale; every "supported" row names the test that shows
//! the keyword taking effect, and that test must exist.
//! `cargo test --test compat_doc -- --ignored` regenerates the tables from the registry,
//! keeping the tests and notes already written.

use gatehouse::config::keyword::Status;
use gatehouse::config::registry::{Entry, entries};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/compat.md")
}

fn status_word(s: Status) -> &'static str {
    s.word()
}

/// One table row of the document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Row {
    /// The status word.
    status: String,
    /// The tests that show the keyword taking effect (`file::function`), comma-separated.
    test: String,
    /// Free notes.
    notes: String,
}

/// The rows of the document: (section, keyword) → row.
type Rows = BTreeMap<(String, String), Row>;

/// Reads the tables: a `## \`SECTION\` …` heading starts a section; rows look like
/// ``| `keyword` | status | test | notes |`` (rows without the test column are read
/// too, for regeneration). Duplicate rows are reported as errors.
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
        let cells = split_cells(rest);
        let cell = |i: usize| cells.get(i).cloned().unwrap_or_default();
        let row = if cells.len() >= 5 {
            Row {
                status: cell(1),
                test: cell(2),
                notes: cell(3),
            }
        } else {
            Row {
                status: cell(1),
                test: String::new(),
                notes: cell(2),
            }
        };
        if rows.insert((sec.clone(), name.to_string()), row).is_some() {
            return Err(format!(
                "line {}: `{name}` listed twice in section `{sec}`",
                i + 1
            ));
        }
    }
    Ok(rows)
}

/// Splits a table row into trimmed cells at `|`, except an escaped `\|` and a `|`
/// inside a code span (hand-written notes such as `` `a|b` ``), both kept as `|`.
fn split_cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut in_code = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().expect("a cell").push('|');
            }
            '`' => {
                in_code = !in_code;
                cells.last_mut().expect("a cell").push(c);
            }
            '|' if !in_code => cells.push(String::new()),
            _ => cells.last_mut().expect("a cell").push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
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
            Some(row) if row.status != status_word(e.status) => problems.push(format!(
                "`{}` in `{}`: doc says {:?}, registry says {:?}",
                e.name,
                e.section,
                row.status,
                status_word(e.status)
            )),
            Some(row) if e.status == Status::Supported && row.test.is_empty() => {
                problems.push(format!(
                    "`{}` in `{}` is supported but names no test showing its effect",
                    e.name, e.section
                ))
            }
            Some(row) => {
                for t in test_names(&row.test) {
                    if let Err(why) = find_test(&t) {
                        problems.push(format!("`{}` in `{}`: {why}", e.name, e.section));
                    }
                }
            }
        }
    }
    // The ACL engine's sections: each fetch, converter and matching method with its
    // status (`supported` with a test, or `not yet`: refused at load).
    for (sec, name, implemented) in gatehouse::acl::catalogue() {
        let key = (sec.to_string(), name.clone());
        seen.insert(key.clone());
        let want = if implemented { "supported" } else { "not yet" };
        match doc.get(&key) {
            None => problems.push(format!("missing: `{name}` in section `{sec}` ({want})")),
            Some(row) if row.status != want => problems.push(format!(
                "`{name}` in `{sec}`: doc says {:?}, the ACL engine says {want:?}",
                row.status
            )),
            Some(row) if implemented && row.test.is_empty() => problems.push(format!(
                "`{name}` in `{sec}` is supported but names no test showing its effect"
            )),
            Some(row) => {
                for t in test_names(&row.test) {
                    if let Err(why) = find_test(&t) {
                        problems.push(format!("`{name}` in `{sec}`: {why}"));
                    }
                }
            }
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

/// The test names of a test cell: `` `file::function` `` items, comma-separated.
fn test_names(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(|t| t.trim().trim_matches('`').to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Finds `file::function`: `file` is an integration test (`tests/FILE.rs`) or a path
/// under `src/`; the function must be there, right after a test attribute.
fn find_test(name: &str) -> Result<(), String> {
    let (file, func) = name
        .rsplit_once("::")
        .ok_or_else(|| format!("test `{name}` is not written `file::function`"))?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = if file.starts_with("src/") {
        root.join(file)
    } else {
        root.join("tests").join(format!("{file}.rs"))
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("test `{name}`: cannot read {}: {e}", path.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let found = lines.iter().enumerate().any(|(i, l)| {
        let l = l.trim_start();
        let is_fn = l
            .strip_prefix("fn ")
            .or_else(|| l.strip_prefix("async fn "))
            .is_some_and(|rest| rest.strip_prefix(func).is_some_and(|r| r.starts_with('(')));
        is_fn
            && lines[i.saturating_sub(4)..i]
                .iter()
                .any(|a| a.trim_start().starts_with("#[test]") || a.contains("::test"))
    });
    if found {
        Ok(())
    } else {
        Err(format!(
            "test `{name}`: no test function `{func}` in {}",
            path.display()
        ))
    }
}

#[test]
fn the_doc_parser_sees_rows_and_rejects_duplicates() {
    let rows = parse_doc(
        "## `global` x\n| Keyword | Status | Test | Notes |\n| `maxconn` | supported | `t::f` | a note |\n",
    )
    .unwrap();
    assert_eq!(
        rows.get(&("global".into(), "maxconn".into())),
        Some(&Row {
            status: "supported".into(),
            test: "`t::f`".into(),
            notes: "a note".into()
        })
    );
    assert!(parse_doc("## `global`\n| `a` | supported | | |\n| `a` | not yet | | |\n").is_err());
    let rows = parse_doc("## `proxy`\n| `x` | supported | | a \\| b |\n").unwrap();
    assert_eq!(rows[&("proxy".into(), "x".into())].notes, "a | b");
    let rows =
        parse_doc("## `proxy`\n| `y` | supported | `t::f` | `send meth|uri` and c \\| d |\n")
            .unwrap();
    assert_eq!(
        rows[&("proxy".into(), "y".into())].notes,
        "`send meth|uri` and c | d"
    );
    assert_eq!(rows[&("proxy".into(), "y".into())].test, "`t::f`");
}

#[test]
fn test_names_are_found_only_where_they_are() {
    assert!(find_test("compat_doc::test_names_are_found_only_where_they_are").is_ok());
    assert!(find_test("compat_doc::test_names").is_err(), "not a test");
    assert!(find_test("compat_doc::no_such_test").is_err());
    assert!(find_test("no_such_file::f").is_err());
    assert!(find_test("src/config/env.rs::setenv_overwrites_presetenv_does_not").is_ok());
    assert!(find_test("without_a_file").is_err());
    assert_eq!(test_names("`a::b`, `c::d`"), vec!["a::b", "c::d"]);
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
    (
        "identity",
        "the `identity` section (gatehouse only, not in HAProxy)",
    ),
    ("bind", "options of `bind` lines"),
    ("server", "options of `server` and `default-server` lines"),
];

fn render(entries: &[Entry], old: &Rows) -> String {
    let mut out = String::from(HEADER);
    for (sec, title) in SECTION_TITLES {
        out.push_str(&format!(
            "\n## `{sec}` — {title}\n\n| Keyword | Status | Test | Notes |\n|---|---|---|---|\n"
        ));
        for e in entries.iter().filter(|e| e.section == *sec) {
            let key = (sec.to_string(), e.name.clone());
            let row = old.get(&key);
            let notes = match (row, e.status) {
                // A note is kept while the status it describes is unchanged.
                (Some(r), s) if !r.notes.is_empty() && r.status == status_word(s) => {
                    r.notes.clone()
                }
                (_, Status::Never(why)) => why.to_string(),
                (_, Status::Parsed(why)) if e.help.is_empty() => format!("no effect yet: {why}"),
                (_, Status::Parsed(why)) => format!("{}; no effect yet: {why}", e.help),
                (_, Status::Ignored(why)) => format!("no effect in gatehouse: {why}"),
                _ => e.help.to_string(),
            };
            let test = row.map(|r| r.test.clone()).unwrap_or_default();
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                e.name,
                status_word(e.status),
                test,
                notes.replace('|', "\\|")
            ));
        }
    }
    out
}

const HEADER: &str = "# HAProxy keyword compatibility

gatehouse reads HAProxy 2.6's `haproxy.cfg`. This page lists every keyword gatehouse
knows about, with its status:

- **supported**: implemented with HAProxy's meaning; the *Test* column names a test
  (`file::function`, under `tests/` or a path under `src/`) that shows it taking effect;
- **parsed**: parsed and checked as HAProxy does, but without effect yet. A
  configuration using it loads, and `gatehouse -c` (and a normal start) prints a warning
  at its line saying so
  (`[WARNING]  (pid) : config : parsing [haproxy.cfg:12] : 'option httpchk' is parsed but has no effect yet in gatehouse: …`);
- **ignored**: a tuning keyword of HAProxy's internals that has no meaning in
  gatehouse's design: its arguments are checked, then it is ignored with a warning
  giving the reason, so that an existing configuration loads;
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
