//! The shipped examples work as documented: every `examples/*.cfg` passes
//! `gatehouse -c` (and the real `haproxy -c`: they are HAProxy configs),
//! and `examples/quickstart.cfg`, started as the README says, answers each
//! `curl` shown in README.md with exactly the output shown there.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_passes_the_config_check() {
    let all = examples();
    assert!(
        all.iter().any(|p| p.ends_with("quickstart.cfg")),
        "examples/quickstart.cfg is missing: {all:?}"
    );
    for p in &all {
        let (code, out, err) = check(&gatehouse_bin(), &[p]);
        assert_eq!(code, 0, "gatehouse -c -f {}:\n{out}{err}", p.display());
        let (code, out, err) = check(&require_haproxy(), &[p]);
        assert_eq!(code, 0, "haproxy -c -f {}:\n{out}{err}", p.display());
    }
}

/// `127.0.0.1:PORT` addresses in `text`, in order of first appearance.
fn loopback_ports(text: &str) -> Vec<u16> {
    let mut ports = Vec::new();
    for part in text.split("127.0.0.1:").skip(1) {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(p) = digits.parse::<u16>()
            && !ports.contains(&p)
        {
            ports.push(p);
        }
    }
    ports
}

/// Replaces every `127.0.0.1:PORT` of `text` by its mapped port.
fn remap(text: &str, map: &BTreeMap<u16, u16>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..i + 10]);
        rest = &rest[i + 10..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<u16>().ok().and_then(|p| map.get(&p)) {
            Some(new) => out.push_str(&new.to_string()),
            None => out.push_str(&digits),
        }
        rest = &rest[digits.len()..];
    }
    out.push_str(rest);
    out
}

/// The `$ curl …` commands of README.md's first console block that has
/// one, each with the output lines printed after it.
fn readme_curls() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut cmds: Vec<(String, String)> = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            if in_block && !cmds.is_empty() {
                break;
            }
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            if cmd.starts_with("curl ") {
                cmds.push((cmd.to_string(), String::new()));
            }
        } else if let Some((_, out)) = cmds.last_mut() {
            out.push_str(line);
            out.push('\n');
        }
    }
    cmds
}

#[test]
fn quickstart_answers_the_curls_shown_in_the_readme() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.cfg");
    let text = std::fs::read_to_string(&path).expect("examples/quickstart.cfg");
    let ports = loopback_ports(&text);
    assert!(!ports.is_empty(), "quickstart.cfg binds no 127.0.0.1 port");
    // Same config on free ports, so the test never collides with a real :8080.
    let map: BTreeMap<u16, u16> = ports.iter().map(|&p| (p, free_port())).collect();
    let cfg = remap(&text, &map);
    let listen: Vec<u16> = cfg
        .lines()
        .filter_map(|l| l.trim().strip_prefix("bind "))
        .flat_map(loopback_ports)
        .collect();
    let _gh = Gatehouse::start(&cfg, &listen);

    let curls = readme_curls();
    assert!(
        curls.len() >= 2,
        "README.md shows no curl session: {curls:?}"
    );
    for (cmd, expected) in curls {
        let args: Vec<String> = remap(&cmd, &map)
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect();
        let out = Command::new("curl")
            .args(["--max-time", "5"])
            .args(&args)
            .output()
            .expect("run curl (scripts/test.sh installs it)");
        assert!(out.status.success(), "{cmd}: curl failed: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "README says `{cmd}` prints this"
        );
    }
}
