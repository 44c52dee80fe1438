//! Deterministic mutation smoke test of the configuration loader (what CI runs in
//! place of `cargo fuzz run config_parser`): the corpus configurations are mutated
//! (byte flips, truncations, duplications, splices of tricky tokens, line swaps) with
//! a fixed seed and loaded through `load::load_sources`. Loading must never panic,
//! and every alert must name a line.

use gatehouse::load::load_sources;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

const ITERATIONS: usize = 2000;
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Tokens that drive the lexer and parser into their less common paths.
const TOKENS: &[&str] = &[
    "\n",
    " ",
    "\"",
    "'",
    "\\",
    "\\x4",
    "#",
    "${",
    "\"${HOME}\"",
    "\"${WORDS[*]}\"",
    "\"${.LINE}\"",
    "}",
    "{ ",
    " }",
    "\n.if defined(HOME)\n",
    "\n.elif 1\n",
    "\n.else\n",
    "\n.endif\n",
    "\n.alert \"x\"\n",
    "\nglobal\n    setenv PORT 9\n",
    "\nglobal\n    resetenv\n",
    "\nglobal\n    default-path parent\n",
    "\ndefaults from nowhere\n",
    "\ndefaults d\n",
    "\nbackend b from d\n",
    "\nfrontend f\n",
    " if ",
    " unless ",
    " !",
    "%[",
    ":",
    ":0",
    ":99999",
    "[::1]",
    "\0",
    "\r",
    "é",
    "no ",
];

/// xorshift64*: small, fixed, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
    let mut files = Vec::new();
    for dir in [
        root.clone(),
        root.join("invalid"),
        root.join("multi/valid"),
        root.join("multi/invalid"),
    ] {
        files.extend(cfg_files(&dir));
    }
    files.sort();
    let texts: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("read {}: {e}", f.display())))
        .collect();
    assert!(texts.len() >= 20, "corpus too small: {}", texts.len());
    texts
}

fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
                .collect()
        })
        .unwrap_or_default()
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(len + 1)),
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let chunk = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            3 | 4 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                v.splice(at..at, t.iter().copied());
            }
            5 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(32)).min(len);
                v.drain(a..b);
            }
            _ => {
                let mut lines: Vec<&[u8]> = v.split(|&b| b == b'\n').collect();
                if lines.len() > 1 {
                    let a = rng.below(lines.len());
                    let b = rng.below(lines.len());
                    lines.swap(a, b);
                }
                v = lines.join(&b'\n');
            }
        }
    }
    v
}

fn env(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/root".into()),
        "WORDS" => Some("a b  c".into()),
        _ => None,
    }
}

#[test]
fn mutated_configs_never_panic_the_loader() {
    let corpus = corpus();
    let mut rng = Rng(SEED);
    for i in 0..ITERATIONS {
        let base = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, base);
        let text = String::from_utf8_lossy(&input).into_owned();
        let result = catch_unwind(AssertUnwindSafe(|| {
            load_sources(&[("fuzz.cfg".to_string(), text.clone())], &env)
        }));
        let loaded = match result {
            Ok(l) => l,
            Err(_) => panic!("iteration {i}: the loader panicked on this input:\n{text:?}"),
        };
        for d in loaded.diags.iter().filter(|d| d.is_alert()) {
            assert!(
                d.span.is_some(),
                "iteration {i}: alert without a line ({}) for input:\n{text:?}",
                d.message
            );
        }
    }
}
