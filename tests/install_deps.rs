//! `scripts/install-deps.sh` installs exactly what the suite runs: every command the
//! tests start (`Command::new("…")`, `service_bin("…")`, haproxy through the support launchers) and every
//! command `scripts/test.sh` runs, beyond a base Debian 12 system and the Rust
//! toolchain, is in its table, and nothing else is; each table entry names the Debian
//! package that ships the command.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Commands every Debian 12 system has (essential packages, apt, sudo when present) or
/// that come with Rust, plus shell builtins and keywords: never in the table.
const BASE: &[&str] = &[
    // shell builtins and keywords
    "[",
    "cd",
    "command",
    "declare",
    "echo",
    "exit",
    "export",
    "false",
    "local",
    "printf",
    "return",
    "set",
    "shift",
    "test",
    "true",
    // essential packages (dash, bash, coreutils, grep, sed, findutils, debianutils)
    "bash",
    "cat",
    "df",
    "dirname",
    "env",
    "grep",
    "head",
    "id",
    "mkdir",
    "sed",
    "sh",
    "sort",
    "tail",
    // package management, used by install-deps.sh itself
    "apt-get",
    "dpkg-query",
    "sudo",
    // the Rust toolchain the README asks for
    "cargo",
    "rustup",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `[command]=package` table of install-deps.sh.
fn table() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("scripts/install-deps.sh"))
        .expect("scripts/install-deps.sh");
    let entries: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix('[')?;
            let (cmd, rest) = l.split_once("]=")?;
            let pkg = rest.split_whitespace().next()?;
            Some((cmd.to_owned(), pkg.to_owned()))
        })
        .collect();
    assert!(!entries.is_empty(), "no [command]=package entry found");
    entries
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Commands the tests start: `Command::new("NAME")` literals, and haproxy when a test
/// uses the reference launchers.
fn test_commands() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("tests"), &mut files);
    rust_files(&root().join("benches"), &mut files);
    let mut cmds = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read test file");
        // Code only: comments may name commands without running them.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        // `service_bin("NAME")` (tests/support/services.rs) finds a server's program
        // outside the PATH too.
        let starts = code
            .split("Command::new(\"")
            .skip(1)
            .chain(code.split("service_bin(\"").skip(1));
        for part in starts {
            if let Some((name, _)) = part.split_once('"')
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
            {
                cmds.insert(name.to_owned());
            }
        }
        if text.contains("require_haproxy()") || text.contains("Haproxy::") {
            cmds.insert("haproxy".to_owned());
        }
    }
    cmds
}

/// Words that keep the next word in command position.
const PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "exec", "env", "sudo", "time",
];

/// The command words of a bash script, read the way bash finds them: the first word of
/// each simple command (after `;`, `|`, `&`, a newline, `$(`, a subshell's `(`), past
/// keywords, assignments and command prefixes (`exec`, `env`, `sudo`, an expansion such
/// as `"${SUDO[@]}"`); quotes, `${…}` and comments are skipped. Words holding a `/`
/// (paths), expansions and functions the script defines are left out; `for` and `case`
/// headers are not commands; `step "NAME" CMD …` (scripts/test.sh's runner) runs CMD.
fn script_commands(text: &str) -> BTreeSet<String> {
    let defined: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_suffix("() {"))
        .collect();
    let mut lexer = ScriptLexer::default();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let top = lexer.stack.last().copied();
        match top {
            Some('}') => {
                // Inside ${…}: skip to its end.
                if c == '}' {
                    lexer.stack.pop();
                }
            }
            Some('"') => match (c, next) {
                ('"', _) => {
                    lexer.word.push('"');
                    lexer.stack.pop();
                }
                ('\\', _) => i += 1,
                ('$', Some('(')) if chars.get(i + 2) == Some(&'(') => {
                    // `$(( … ))` is arithmetic, not a command: skip it.
                    while i + 1 < chars.len() && !(chars[i] == ')' && chars[i + 1] == ')') {
                        i += 1;
                    }
                    i += 1;
                }
                ('$', Some('(')) => {
                    lexer.stack.push(')');
                    lexer.outer.push(std::mem::take(&mut lexer.word));
                    lexer.at_cmd = true;
                    i += 1;
                }
                ('$', Some('{')) => {
                    lexer.word.push('$');
                    lexer.stack.push('}');
                    i += 1;
                }
                _ => lexer.word.push(c),
            },
            _ => match (c, next) {
                ('#', _) if lexer.word.is_empty() => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                ('\'', _) => {
                    lexer.word.push('\'');
                    i += 1;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                }
                ('"', _) => {
                    lexer.word.push('"');
                    lexer.stack.push('"');
                }
                ('\\', _) => i += 1,
                ('$', Some('(')) if chars.get(i + 2) == Some(&'(') => {
                    // `$(( … ))` is arithmetic, not a command: skip it.
                    while i + 1 < chars.len() && !(chars[i] == ')' && chars[i + 1] == ')') {
                        i += 1;
                    }
                    i += 1;
                }
                ('$', Some('(')) => {
                    lexer.word.push('$');
                    lexer.stack.push(')');
                    lexer.outer.push(std::mem::take(&mut lexer.word));
                    lexer.at_cmd = true;
                    i += 1;
                }
                ('$', Some('{')) => {
                    lexer.word.push('$');
                    lexer.stack.push('}');
                    i += 1;
                }
                (')', _) if top == Some(')') => {
                    lexer.end_word(&defined);
                    lexer.stack.pop();
                    lexer.word = lexer.outer.pop().unwrap_or_default();
                    lexer.at_cmd = false;
                }
                ('&', _) if lexer.word.ends_with(['>', '<']) => lexer.word.push(c),
                (';' | '|' | '&' | '\n', _) => {
                    lexer.end_word(&defined);
                    lexer.at_cmd = true;
                }
                ('(', _) if lexer.word.is_empty() && lexer.at_cmd => {}
                (' ' | '\t' | '(' | ')', _) => lexer.end_word(&defined),
                _ => lexer.word.push(c),
            },
        }
        i += 1;
    }
    lexer.end_word(&defined);
    lexer.found
}

/// The state of [`script_commands`]'s scan.
#[derive(Default)]
struct ScriptLexer {
    /// Open quotes and expansions: `"`, `)` for `$(`, `}` for `${`.
    stack: Vec<char>,
    /// The words a `$(` interrupted.
    outer: Vec<String>,
    /// The word being read (quotes and `$` kept as markers).
    word: String,
    /// The next word is in command position.
    at_cmd: bool,
    /// Words to pass over before a command (`step "NAME" CMD`).
    skip: usize,
    found: BTreeSet<String>,
}

impl ScriptLexer {
    fn end_word(&mut self, defined: &BTreeSet<&str>) {
        let w = std::mem::take(&mut self.word);
        if w.is_empty() || !self.at_cmd {
            return;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        let assignment = w.split_once('=').is_some_and(|(name, _)| {
            let name = name.strip_suffix('+').unwrap_or(name);
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if PREFIXES.contains(&w.as_str()) || assignment || w.starts_with("\"$") {
            return;
        }
        self.at_cmd = false;
        match w.as_str() {
            "for" | "case" | "fi" | "done" | "esac" | "}" => {}
            "step" => {
                self.skip = 1;
                self.at_cmd = true;
            }
            _ if w.contains(['/', '$', '"', '\'', '<', '>', '[', ']', '}'])
                || defined.contains(w.as_str()) => {}
            _ => {
                self.found.insert(w);
            }
        }
    }
}

#[test]
fn the_script_parser_finds_command_words() {
    let found = script_commands(
        "f() {\n  local x=\"$1\" # curl here is a comment\n}\n# wrk in a comment\n\
         step \"fmt check\" cargo fmt --all\nif ! command -v rustup >/dev/null; then x=1; fi\n\
         for c in a b; do\n  nc -z h 1 | tee o && ss -t\ndone\n\
         cd \"$(dirname \"$0\")/..\" || exit 1\nf arg\n\"${SUDO[@]}\" env A=b apt-get install \"${m[@]}\"\n\
         echo \"${#x[@]} $(id -u) $((SECONDS - t0))\"; failed+=(\"$n\")\nexec scripts/x.sh\n",
    );
    let want: BTreeSet<String> = [
        "apt-get", "cargo", "cd", "command", "dirname", "echo", "exit", "id", "local", "nc", "ss",
        "tee",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(found, want);
}

#[test]
fn install_deps_installs_exactly_what_the_suite_runs() {
    let listed: BTreeSet<String> = table().into_iter().map(|(c, _)| c).collect();
    let mut needed = test_commands();
    for script in ["scripts/test.sh", "scripts/install-deps.sh", ".ci/run"] {
        let text = std::fs::read_to_string(root().join(script)).expect(script);
        needed.extend(script_commands(&text));
    }
    needed.retain(|c| !BASE.contains(&c.as_str()));
    let missing: Vec<&String> = needed.difference(&listed).collect();
    let unused: Vec<&String> = listed.difference(&needed).collect();
    assert!(
        missing.is_empty() && unused.is_empty(),
        "scripts/install-deps.sh must list exactly the tools the suite runs:\n  \
         run but not installed: {missing:?}\n  installed but run by nothing: {unused:?}"
    );
}

#[test]
fn each_listed_command_comes_from_its_package() {
    for (cmd, pkg) in table() {
        let out = Command::new("dpkg-query")
            .arg("-S")
            .arg(format!("*bin/{cmd}"))
            .output()
            .expect("run dpkg-query (Debian)");
        let text = String::from_utf8_lossy(&out.stdout);
        let owners: Vec<&str> = text
            .lines()
            .filter(|l| l.ends_with(&format!("bin/{cmd}")))
            .filter_map(|l| l.split(':').next())
            .collect();
        assert!(
            owners.contains(&pkg.as_str()),
            "{cmd} is installed from {owners:?}, the table says {pkg} (is it installed?)"
        );
    }
}

#[test]
fn install_deps_installs_the_nginx_stream_module_the_tests_load() {
    let support = std::fs::read_to_string(root().join("tests/support/nginx.rs"))
        .expect("tests/support/nginx.rs");
    let module = support
        .split("STREAM_MODULE: &str = \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("STREAM_MODULE in tests/support/nginx.rs");
    let script = std::fs::read_to_string(root().join("scripts/install-deps.sh"))
        .expect("scripts/install-deps.sh");
    assert!(
        script.contains(module) && script.contains("libnginx-mod-stream"),
        "scripts/install-deps.sh must install libnginx-mod-stream for {module}"
    );
    let out = Command::new("dpkg-query")
        .arg("-S")
        .arg(module)
        .output()
        .expect("run dpkg-query (Debian)");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("libnginx-mod-stream:"),
        "{module} is not from libnginx-mod-stream (is it installed?)"
    );
}
