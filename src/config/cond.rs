//! The condition language of `.if`/`.elif` blocks and of `-cc`:
//! `defined()`, `feature()`, `streq()`, `strneq()`, `version_atleast()`, `version_before()`,
//! with `!`, `&&`, `||` and parentheses.

/// Evaluates a condition given as the words after `.if` (already lexed).
pub fn eval(words: &[String]) -> Result<bool, String> {
    let _ = words;
    Err("conditions are not implemented yet".into())
}

/// Evaluates a condition given as one string (`-cc`).
pub fn eval_str(expr: &str) -> Result<bool, String> {
    eval(
        &expr
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    )
}

/// Features reported by `feature()`.
pub const FEATURES: &[&str] = &[];
