//! Differential test of the configuration checker: every config in
//! `tests/configs/` (valid) and `tests/configs/invalid/` is checked with the
//! reference `haproxy -c -f FILE` and with `gatehouse -c -f FILE`. Both must
//! reach the same verdict, and for invalid configs the first `[ALERT]` must
//! blame the same line. Invalid configs record haproxy's answer on line 1
//! as `# expect-error-line: N|none`, which is verified too, so the corpus
//! cannot silently drift from haproxy's behaviour.
//!
//! `tests/configs/multi/{valid,invalid}/` hold configurations split over
//! several files, checked together as `-c -f A -f B` (sorted by name); the
//! invalid set names the file and line of the first alert on line 1 of one
//! of its files as `# expect-error: FILE_NAME:LINE`.
//!
//! Where haproxy names no line (`# expect-error-line: none`, alerts after parsing),
//! gatehouse adds one: line 2 records which as `# gatehouse-error-line: N`, checked.
//! Configs marked `# gatehouse: not-yet` use a HAProxy feature gatehouse does not
//! implement yet: gatehouse must refuse them with a first alert saying "not yet".

mod support;

use std::path::{Path, PathBuf};

use support::cfgcheck::{
    ExpectedError, first_alert, first_alert_location, is_not_yet, parse_expect_error_line,
    parse_expect_error_location,
};
use support::{check, configs_dir, first_alert_line, gatehouse_bin, require_haproxy};

/// `*.cfg` files directly inside `dir`, sorted.
fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    files.sort();
    files
}

fn valid_corpus() -> Vec<PathBuf> {
    cfg_files(&configs_dir())
}

fn invalid_corpus() -> Vec<PathBuf> {
    cfg_files(&configs_dir().join("invalid"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn expected_error(path: &Path) -> ExpectedError {
    parse_expect_error_line(&read(path)).unwrap_or_else(|| {
        panic!(
            "{}: line 1 must be `# expect-error-line: N` or `# expect-error-line: none`",
            path.display()
        )
    })
}

/// The `# gatehouse-error-line: N` marker of a config haproxy blames no line for.
fn gatehouse_line(path: &Path) -> u32 {
    read(path)
        .lines()
        .find_map(|l| l.trim().strip_prefix("# gatehouse-error-line:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "{}: haproxy names no line, so `# gatehouse-error-line: N` must say which line gatehouse blames",
                path.display()
            )
        })
}

/// What a `-c` run said about one file.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    code: i32,
    valid: bool,
    line: Option<u32>,
    first_alert: Option<String>,
}

fn verdict(binary: &Path, cfg: &Path) -> (Verdict, String) {
    let (code, stdout, stderr) = check(binary, &[cfg]);
    let v = Verdict {
        code,
        valid: code == 0,
        line: first_alert_line(&stderr, cfg),
        first_alert: first_alert(&stderr).map(str::to_string),
    };
    let transcript = format!("exit {code}\nstdout:\n{stdout}stderr:\n{stderr}");
    (v, transcript)
}

fn fail_with(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn corpus_has_enough_configs_and_markers() {
    let valid = valid_corpus();
    let invalid = invalid_corpus();
    assert!(valid.len() >= 12, "only {} valid configs", valid.len());
    assert!(
        invalid.len() >= 12,
        "only {} invalid configs",
        invalid.len()
    );
    for p in &invalid {
        expected_error(p);
    }
}

#[test]
fn haproxy_accepts_every_valid_config() {
    let haproxy = require_haproxy();
    let mut problems = Vec::new();
    for cfg in valid_corpus() {
        let (code, stdout, stderr) = check(&haproxy, &[&cfg]);
        if code != 0 || !stdout.contains("Configuration file is valid") {
            problems.push(format!(
                "{}: haproxy -c exit {code}\n{stdout}{stderr}",
                cfg.display()
            ));
        }
    }
    fail_with(problems);
}

#[test]
fn haproxy_rejects_every_invalid_config_at_recorded_line() {
    let haproxy = require_haproxy();
    let mut problems = Vec::new();
    for cfg in invalid_corpus() {
        let expected = expected_error(&cfg);
        let (v, transcript) = verdict(&haproxy, &cfg);
        let want_line = match expected {
            ExpectedError::Line(n) => Some(n),
            ExpectedError::NoLine => None,
        };
        if v.valid || v.line != want_line {
            problems.push(format!(
                "{}: expected rejection at line {want_line:?}, haproxy said valid={} line={:?}\n{transcript}",
                cfg.display(),
                v.valid,
                v.line
            ));
        }
    }
    fail_with(problems);
}

#[test]
fn gatehouse_accepts_what_haproxy_accepts() {
    let gatehouse = gatehouse_bin();
    let haproxy = require_haproxy();
    let mut problems = Vec::new();
    for cfg in valid_corpus() {
        if is_not_yet(&read(&cfg)) {
            eprintln!("skipping {} (# gatehouse: not-yet)", cfg.display());
            continue;
        }
        let (hv, _) = verdict(&haproxy, &cfg);
        let (code, stdout, stderr) = check(&gatehouse, &[&cfg]);
        if hv.valid && (code != 0 || !stdout.contains("Configuration file is valid")) {
            problems.push(format!(
                "{}: haproxy accepts it but gatehouse -c exit {code}\nstdout:\n{stdout}stderr:\n{stderr}",
                cfg.display()
            ));
        }
    }
    fail_with(problems);
}

#[test]
fn gatehouse_rejects_what_haproxy_rejects_at_the_same_line() {
    let gatehouse = gatehouse_bin();
    let haproxy = require_haproxy();
    let mut problems = Vec::new();
    for cfg in invalid_corpus() {
        if is_not_yet(&read(&cfg)) {
            eprintln!("skipping {} (# gatehouse: not-yet)", cfg.display());
            continue;
        }
        let (hv, htext) = verdict(&haproxy, &cfg);
        let (gv, gtext) = verdict(&gatehouse, &cfg);
        // Where haproxy names no line (post-parse alerts), gatehouse adds the recorded one.
        let want = hv.line.or_else(|| Some(gatehouse_line(&cfg)));
        if gv.valid || gv.code != 1 || want != gv.line {
            problems.push(format!(
                "{}: haproxy rejects at line {:?}; gatehouse valid={} line={:?} (first alert {:?})\n\
                 --- haproxy ---\n{htext}--- gatehouse ---\n{gtext}",
                cfg.display(),
                hv.line,
                gv.valid,
                gv.line,
                gv.first_alert
            ));
        }
    }
    fail_with(problems);
}

/// A first alert that says gatehouse does not implement something yet.
fn says_not_yet(alert: &str) -> bool {
    alert.contains("does not support yet") || alert.contains("not supported yet")
}

#[test]
fn gatehouse_refuses_not_yet_configs_saying_not_yet() {
    let gatehouse = gatehouse_bin();
    let mut problems = Vec::new();
    let mut seen = 0;
    for cfg in valid_corpus().into_iter().chain(invalid_corpus()) {
        if !is_not_yet(&read(&cfg)) {
            continue;
        }
        seen += 1;
        let (v, transcript) = verdict(&gatehouse, &cfg);
        let first = v.first_alert.as_deref().unwrap_or("");
        if v.code != 1 || v.line.is_none() || !says_not_yet(first) {
            problems.push(format!(
                "{}: marked not-yet, but gatehouse did not refuse it with a located 'not yet' alert\n{transcript}",
                cfg.display()
            ));
        }
    }
    assert!(seen > 0, "no config is marked `# gatehouse: not-yet`");
    fail_with(problems);
}

#[test]
fn the_not_yet_detector_tells_not_yet_from_other_alerts() {
    assert!(says_not_yet(
        "[ALERT] (1) : config : parsing [a.cfg:3] : 'cpu-map' in section 'global' is a HAProxy keyword that gatehouse does not support yet."
    ));
    assert!(says_not_yet(
        "[ALERT] (1) : config : parsing [a.cfg:3] : fetch 'req.len' is not supported yet by gatehouse."
    ));
    assert!(!says_not_yet(
        "[ALERT] (1) : config : parsing [a.cfg:3] : unknown keyword 'cpu-mapp' in 'global' section"
    ));
}

/// The files of a multi-file set, sorted by name.
fn multi_set(kind: &str) -> Vec<PathBuf> {
    let files = cfg_files(&configs_dir().join("multi").join(kind));
    assert!(
        files.len() >= 2,
        "multi/{kind} must hold at least two files"
    );
    files
}

/// Runs `binary -c -f A -f B…` and returns (exit code, first alert's
/// (file name, line), transcript).
fn check_set(binary: &Path, files: &[PathBuf]) -> (i32, Option<(String, u32)>, String) {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (code, stdout, stderr) = check(binary, &paths);
    let loc = first_alert_location(&stderr, &paths).map(|(i, line)| {
        let name = paths[i]
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (name, line)
    });
    (
        code,
        loc,
        format!("exit {code}\nstdout:\n{stdout}stderr:\n{stderr}"),
    )
}

fn expected_set_location(files: &[PathBuf]) -> (String, u32) {
    files
        .iter()
        .find_map(|f| parse_expect_error_location(&read(f)))
        .expect("one file of multi/invalid must start with `# expect-error: FILE_NAME:LINE`")
}

#[test]
fn haproxy_verdicts_on_multi_file_sets_match_markers() {
    let haproxy = require_haproxy();
    let (code, _, text) = check_set(&haproxy, &multi_set("valid"));
    assert_eq!(code, 0, "multi/valid rejected by haproxy\n{text}");
    let files = multi_set("invalid");
    let want = expected_set_location(&files);
    let (code, loc, text) = check_set(&haproxy, &files);
    assert_eq!(code, 1, "multi/invalid accepted by haproxy\n{text}");
    assert_eq!(loc, Some(want), "{text}");
}

#[test]
fn gatehouse_agrees_with_haproxy_on_multi_file_sets() {
    let gatehouse = gatehouse_bin();
    let haproxy = require_haproxy();
    let valid = multi_set("valid");
    let (code, _, text) = check_set(&gatehouse, &valid);
    assert_eq!(
        code, 0,
        "gatehouse rejects multi/valid that haproxy accepts\n{text}"
    );

    let invalid = multi_set("invalid");
    let (_, hloc, htext) = check_set(&haproxy, &invalid);
    let (gcode, gloc, gtext) = check_set(&gatehouse, &invalid);
    assert!(
        gcode == 1 && gloc == hloc,
        "multi/invalid: haproxy blames {hloc:?}, gatehouse exit {gcode} blames {gloc:?}\n\
         --- haproxy ---\n{htext}--- gatehouse ---\n{gtext}"
    );
}
