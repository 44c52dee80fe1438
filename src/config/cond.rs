//! The condition language of `.if`/`.elif` blocks and of `-cc`:
//! `defined()`, `feature()`, `streq()`, `strneq()`, `version_atleast()`, `version_before()`,
//! integers, with `!`, `&&`, `||` and parentheses (configuration.txt 2.4; a port of
//! HAProxy 2.6's `src/cfgcond.c`, error messages included).
//!
//! The words of a `.if` line are re-merged with single spaces into one text, as HAProxy
//! does; predicate arguments are then split at commas by a second level of quoting
//! (`make_arg_list()`), so `.if streq("$A",b)` compares A's value with `b`, and a comma
//! inside an argument needs escaped quotes: `streq(\"a,b\",x)`.

use super::lexer::{self, EnvLookup};
use crate::HAPROXY_COMPAT_VERSION;

/// The build features gatehouse reports, as `haproxy -vv` lists them after a `+`;
/// `feature(NAME)` is true only for these. Kept honest: gatehouse polls with epoll
/// (tokio), accepts with accept4, runs threads and resolves with getaddrinfo. It has no
/// OpenSSL, PCRE, Lua, splice or transparent proxying, so `.if feature(OPENSSL)` is false.
pub const FEATURES: &[&str] = &["ACCEPT4", "EPOLL", "GETADDRINFO", "THREAD"];

/// HAProxy's `MAX_CFG_RECURSION`: bounds the nesting of conditions.
const MAX_RECURSION: i32 = 1024;

/// A condition that cannot be parsed: HAProxy's message and the byte offset (0-based) in
/// the condition text where the problem starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    /// The message, as HAProxy words it.
    pub message: String,
    /// Offset of the first offending byte in the condition text.
    pub position: usize,
}

/// Evaluates a condition given as the words after `.if` (already lexed), with
/// `defined()` looking at the process environment.
pub fn eval(words: &[String]) -> Result<bool, String> {
    eval_with(words, &process_env)
}

/// [`eval`] with the environment given by `env`.
pub fn eval_with(words: &[String], env: EnvLookup<'_>) -> Result<bool, String> {
    eval_text(&words.join(" "), env).map_err(|e| e.message)
}

/// Evaluates a condition text (the words re-merged with spaces); an empty text is false.
pub fn eval_text(text: &str, env: EnvLookup<'_>) -> Result<bool, CondError> {
    let p = Parser { s: text.as_bytes() };
    if text.is_empty() {
        return Ok(false);
    }
    match p.expr(0, MAX_RECURSION)? {
        (Some(expr), end) => {
            let end = p.skip_blanks(end);
            match p.s.get(end) {
                Some(&c) => Err(CondError {
                    message: format!(
                        "unexpected character '{}' at the end of conditional expression '{text}'",
                        c as char
                    ),
                    position: end,
                }),
                None => Ok(expr.eval(env)),
            }
        }
        (None, end) => Err(CondError {
            message: format!("unparsable conditional expression '{text}'"),
            position: end,
        }),
    }
}

/// Evaluates a `-cc` expression: lexed like a configuration line (quotes, escapes,
/// `"${VAR}"`, no comments), then evaluated against the process environment. The error
/// is HAProxy's full alert text (e.g. `Failed to evaluate condition: ...`); HAProxy exits
/// 0 when true, 1 when false and 2 on error.
pub fn eval_str(expr: &str) -> Result<bool, String> {
    eval_str_with(expr, &process_env)
}

/// [`eval_str`] with the environment given by `env`.
pub fn eval_str_with(expr: &str, env: EnvLookup<'_>) -> Result<bool, String> {
    let text = lexer::cc_text(expr, env)?;
    eval_text(&text, env).map_err(|e| format!("Failed to evaluate condition: {}", e.message))
}

fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Compares `version` with [`HAPROXY_COMPAT_VERSION`] as HAProxy's
/// `compare_current_version()`: `Some(Less)` when `version` is older, `None` when it
/// cannot be parsed. Missing components are zero, `-devN` < `-preN` = `-rcN` < release.
pub fn compare_version(version: &str) -> Option<std::cmp::Ordering> {
    let current = split_version(HAPROXY_COMPAT_VERSION.as_bytes())?;
    let other = split_version(version.as_bytes())?;
    Some(other.cmp(&current))
}

/// HAProxy's `split_version()`:
/// `<a>[.<b>[.<c>[.<d>]]][-{dev,pre,rc}<f>][-*][-<g>]` into 7 numbers, the tag being
/// dev=1, pre/rc=2, none=3.
fn split_version(s: &[u8]) -> Option<[u32; 7]> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut v = [0, 0, 0, 0, 3, 0, 0];
    if s.is_empty() {
        return None;
    }
    let mut p = 0;
    let mut tag = false;
    for slot in 0..4 {
        let (n, end) = strtol(s, p, 10);
        v[slot] = n as u32; // C's long to unsigned int conversion
        p = end + 1;
        match at(end) {
            0 => return Some(v),
            b'-' => {
                tag = true;
                break;
            }
            b'.' if slot < 3 => {}
            _ => return None,
        }
    }
    if !tag {
        return None;
    }
    if !at(p).is_ascii_digit() {
        let rest = s.get(p..).unwrap_or_default();
        let tag_len = [(&b"dev"[..], 1, 3), (b"rc", 2, 2), (b"pre", 2, 3)]
            .iter()
            .find(|(t, _, _)| rest.starts_with(t))
            .map(|&(_, val, len)| (val, len));
        if let Some((val, len)) = tag_len {
            v[4] = val;
            let (n, end) = strtol(s, p + len, 10);
            v[5] = n as u32;
            match at(end) {
                0 => return Some(v),
                b'-' => p = end + 1,
                _ => return None,
            }
        }
    }
    // Commit count: after the last '-' if any, else the rest; zero if not a number.
    let rest = s.get(p..).unwrap_or_default();
    let start = match rest.iter().rposition(|&b| b == b'-') {
        Some(dash) if p + dash + 1 >= s.len() => return None,
        Some(dash) => p + dash + 1,
        None => p,
    };
    let (n, end) = strtol(s, start, 10);
    v[6] = if end >= s.len() { n as u32 } else { 0 };
    Some(v)
}

/// C's `strtol()`: skips blanks, takes a sign and digits (base 0: `0x` hex, `0` octal);
/// returns the value (saturated) and the index after it, or `start` when no digits.
fn strtol(s: &[u8], start: usize, base: u32) -> (i64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = start;
    while matches!(at(i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = at(i) == b'-';
    if matches!(at(i), b'+' | b'-') {
        i += 1;
    }
    let mut radix = base;
    if (base == 0 || base == 16)
        && at(i) == b'0'
        && matches!(at(i + 1), b'x' | b'X')
        && at(i + 2).is_ascii_hexdigit()
    {
        radix = 16;
        i += 2;
    } else if base == 0 {
        radix = if at(i) == b'0' { 8 } else { 10 };
    }
    let digits_start = i;
    let mut val: i64 = 0;
    while let Some(d) = (at(i) as char).to_digit(radix) {
        val = val
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
        i += 1;
    }
    if i == digits_start {
        return (0, start);
    }
    (if neg { -val } else { val }, i)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pred {
    Defined,
    Feature,
    StrEq,
    StrNeq,
    VersionAtLeast,
    VersionBefore,
}

const PREDICATES: &[(&str, Pred, usize)] = &[
    ("defined", Pred::Defined, 1),
    ("feature", Pred::Feature, 1),
    ("streq", Pred::StrEq, 2),
    ("strneq", Pred::StrNeq, 2),
    ("version_atleast", Pred::VersionAtLeast, 1),
    ("version_before", Pred::VersionBefore, 1),
];

#[derive(Debug)]
enum TermKind {
    Const(bool),
    Pred(Pred, Vec<String>),
    Paren(Box<Expr>),
}

#[derive(Debug)]
struct Term {
    neg: bool,
    kind: TermKind,
}

/// Terms joined by `&&`.
type And = Vec<Term>;
/// `&&` groups joined by `||`.
#[derive(Debug)]
struct Expr(Vec<And>);

impl Expr {
    fn eval(&self, env: EnvLookup<'_>) -> bool {
        self.0.iter().any(|and| and.iter().all(|t| t.eval(env)))
    }
}

impl Term {
    fn eval(&self, env: EnvLookup<'_>) -> bool {
        let v = match &self.kind {
            TermKind::Const(v) => *v,
            TermKind::Paren(e) => e.eval(env),
            TermKind::Pred(pred, args) => {
                let arg = |i: usize| args.get(i).map_or("", String::as_str);
                match pred {
                    Pred::Defined => env(arg(0)).is_some(),
                    Pred::Feature => FEATURES.contains(&arg(0)),
                    Pred::StrEq => arg(0) == arg(1),
                    Pred::StrNeq => arg(0) != arg(1),
                    // An unparsable version compares as "older" in HAProxy.
                    Pred::VersionAtLeast => compare_version(arg(0)).is_none_or(|o| o.is_le()),
                    Pred::VersionBefore => compare_version(arg(0)).is_some_and(|o| o.is_gt()),
                }
            }
        };
        v != self.neg
    }
}

/// The condition parser. Each step returns the parsed node (or `None` when it found
/// nothing to parse, HAProxy's "desynchronized" 0) and the position to go on from.
struct Parser<'a> {
    s: &'a [u8],
}

type Step<T> = Result<(Option<T>, usize), CondError>;

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn skip_blanks(&self, mut i: usize) -> usize {
        while matches!(self.at(i), b' ' | b'\t') {
            i += 1;
        }
        i
    }

    fn rest(&self, i: usize) -> String {
        String::from_utf8_lossy(self.s.get(i..).unwrap_or_default()).into_owned()
    }

    fn fail(&self, message: String, position: usize) -> CondError {
        CondError { message, position }
    }

    fn unparsable(&self, what: &str, i: usize) -> CondError {
        self.fail(
            format!("unparsable conditional {what} '{}'", self.rest(i)),
            i,
        )
    }

    /// `and ( '||' expr )?`
    fn expr(&self, start: usize, depth: i32) -> Step<Expr> {
        if start >= self.s.len() {
            return Ok((None, start));
        }
        if depth <= 0 {
            return Err(self.unparsable("expression", start));
        }
        let (left, pos) = self.and(start, depth - 1)?;
        let Some(left) = left else {
            return Err(self.unparsable("expression", pos));
        };
        let pos = self.skip_blanks(pos);
        if self.s.get(pos..pos + 2) != Some(b"||") {
            return Ok((Some(Expr(vec![left])), pos));
        }
        let right_start = self.skip_blanks(pos + 2);
        match self.expr(right_start, depth - 1)? {
            (Some(Expr(mut rest)), end) => {
                rest.insert(0, left);
                Ok((Some(Expr(rest)), end))
            }
            (None, _) => Ok((None, pos)),
        }
    }

    /// `term ( '&&' and )?`
    fn and(&self, start: usize, depth: i32) -> Step<And> {
        if start >= self.s.len() {
            return Ok((None, start));
        }
        if depth <= 0 {
            return Err(self.unparsable("sub-expression", start));
        }
        let (term, pos) = self.term(start, depth - 1)?;
        let Some(term) = term else {
            return Err(self.unparsable("sub-expression", start));
        };
        let pos = self.skip_blanks(pos);
        if self.s.get(pos..pos + 2) != Some(b"&&") {
            return Ok((Some(vec![term]), pos));
        }
        let right_start = self.skip_blanks(pos + 2);
        match self.and(right_start, depth - 1)? {
            (Some(mut rest), end) => {
                rest.insert(0, term);
                Ok((Some(rest), end))
            }
            (None, _) => Ok((None, pos)),
        }
    }

    /// `'!'* ( integer | '(' expr ')' | predicate['(' args ')'] )`
    fn term(&self, start: usize, depth: i32) -> Step<Term> {
        let mut i = self.skip_blanks(start);
        if i >= self.s.len() {
            return Ok((None, start));
        }
        if depth <= 0 {
            return Err(self.unparsable("expression", start));
        }
        let mut neg = false;
        while self.at(i) == b'!' {
            neg = !neg;
            i = self.skip_blanks(i + 1);
        }
        let (val, end) = strtol(self.s, i, 0);
        if end != i {
            return Ok((
                Some(Term {
                    neg,
                    kind: TermKind::Const(val != 0),
                }),
                end,
            ));
        }
        if self.at(i) == b'(' {
            let inner = self.skip_blanks(i + 1);
            let (expr, pos) = self.expr(inner, depth - 1)?;
            let Some(expr) = expr else {
                return Err(self.unparsable("expression", start));
            };
            let pos = self.skip_blanks(pos);
            if self.at(pos) != b')' {
                let msg = format!(
                    "expected ')' after conditional expression '{}'",
                    self.rest(start)
                );
                return Err(self.fail(msg, start));
            }
            let kind = TermKind::Paren(Box::new(expr));
            return Ok((Some(Term { neg, kind }), self.skip_blanks(pos + 1)));
        }
        let name_len = self.s[i..].iter().position(|&c| c == b' ' || c == b'(');
        let name = &self.s[i..i + name_len.unwrap_or(self.s.len() - i)];
        let Some(&(word, pred, nargs)) = PREDICATES.iter().find(|p| p.0.as_bytes() == name) else {
            return Err(self.unparsable("expression", start));
        };
        match self.arg_list(i + word.len(), nargs) {
            Ok((args, end)) => Ok((Some(Term { neg, kind: TermKind::Pred(pred, args) }), end)),
            Err((msg, arg_no, pos)) => Err(self.fail(
                format!(
                    "{msg} in argument {arg_no} of predicate '{word}' used in conditional expression"
                ),
                pos,
            )),
        }
    }

    /// HAProxy's `make_arg_list()` for `nargs` mandatory string arguments: `(a,b)` with
    /// quotes and `\\`, `\ `, `\"`, `\'`, `\r`, `\n`, `\t` escapes. Errors carry the
    /// message, the argument number HAProxy reports, and the position.
    fn arg_list(
        &self,
        start: usize,
        nargs: usize,
    ) -> Result<(Vec<String>, usize), (String, usize, usize)> {
        let empty = self.at(start) != b'(';
        let limit = if empty { start } else { self.s.len() };
        let mut i = if empty { start } else { start + 1 };
        let mut args = Vec::new();
        while args.len() < nargs {
            let (mut squote, mut dquote) = (false, false);
            let mut out = Vec::new();
            while i < limit {
                let c = self.s[i];
                if c == b'"' && !squote {
                    dquote = !dquote;
                } else if c == b'\'' && !dquote {
                    squote = !squote;
                } else if c == b'\\' && !squote {
                    let Some(&n) = self.s.get(i + 1) else {
                        let msg = format!(
                            "failed to parse '{}' after '{}' as type 'string' at position {}",
                            self.rest(i),
                            String::from_utf8_lossy(&out),
                            args.len() + 1
                        );
                        return Err((msg, args.len(), i));
                    };
                    match n {
                        b'\\' | b' ' | b'"' | b'\'' => out.push(n),
                        b'r' => out.push(b'\r'),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        _ => {
                            out.push(b'\\');
                            i -= 1; // a lone backslash: the next byte is read normally
                        }
                    }
                    i += 1;
                } else if !squote && !dquote && (c == b',' || c == b')') {
                    break;
                } else {
                    out.push(c);
                }
                i += 1;
            }
            args.push(String::from_utf8_lossy(&out).into_owned());
            if i >= limit || self.at(i) == b')' || args.len() >= nargs {
                break;
            }
            i += 1; // the comma
        }
        if args.len() < nargs {
            let msg = format!(
                "missing arguments (got {}/{nargs}), type 'string' expected",
                args.len()
            );
            return Err((msg, args.len(), i));
        }
        if !empty {
            if self.at(i) != b')' {
                let rest = self.rest(i);
                let msg = if rest.is_empty() {
                    "expected ')'".to_string()
                } else {
                    format!("expected ')' before '{rest}'")
                };
                let arg_no = if args.len() > 1 {
                    args.len() - 1
                } else {
                    args.len()
                };
                return Err((msg, arg_no, i));
            }
            i += 1;
        }
        Ok((args, i))
    }
}

#[cfg(test)]
mod tests {
    //! Expected results were checked against `haproxy -cc EXPR` of haproxy 2.6.12 (with
    //! `FOO=foov` in the environment); features and versions follow gatehouse's own.
    use super::*;
    use std::cmp::Ordering;

    fn env(name: &str) -> Option<String> {
        (name == "FOO").then(|| "foov".to_string())
    }

    fn cc(expr: &str) -> Result<bool, String> {
        eval_str_with(expr, &env)
    }

    fn cc_err(expr: &str) -> String {
        match cc(expr) {
            Err(e) => e
                .strip_prefix("Failed to evaluate condition: ")
                .unwrap_or(&e)
                .to_string(),
            Ok(v) => format!("unexpected success: {v}"),
        }
    }

    #[test]
    fn integers_and_empty() {
        for (e, v) in [
            ("", false),
            ("0", false),
            ("1", true),
            ("-1", true),
            ("0x10", true),
        ] {
            assert_eq!(cc(e), Ok(v), "{e}");
        }
        assert_eq!(
            cc_err("08"),
            "unexpected character '8' at the end of conditional expression '08'"
        );
        assert_eq!(
            cc_err("1foo"),
            "unexpected character 'f' at the end of conditional expression '1foo'"
        );
        assert_eq!(
            cc_err("1 1"),
            "unexpected character '1' at the end of conditional expression '1 1'"
        );
    }

    #[test]
    fn negation_and_operators_with_precedence() {
        for (e, v) in [
            ("!0", true),
            ("! 0", true),
            ("!!1", true),
            ("1 || 0 && 0", true),
            ("0 && 1 || 1", true),
            ("0 || 1", true),
            ("1&&1", true),
            ("1||0", true),
            ("!(1 && 0)", true),
            ("(0 || (1 && !0)) && 1", true),
            ("1 && (0)", false),
            ("streq(x,x) &&(1)", true),
        ] {
            assert_eq!(cc(e), Ok(v), "{e}");
        }
    }

    #[test]
    fn syntax_errors_use_haproxy_messages() {
        assert_eq!(cc_err("1 &&"), "unparsable conditional expression '&&'");
        assert_eq!(
            cc_err("(1"),
            "expected ')' after conditional expression '(1'"
        );
        assert_eq!(cc_err("()"), "unparsable conditional expression ')'");
        assert_eq!(cc_err("!"), "unparsable conditional expression '!'");
        assert_eq!(
            cc_err("foo(1)"),
            "unparsable conditional expression 'foo(1)'"
        );
        assert_eq!(
            cc_err("1 &| 0"),
            "unexpected character '&' at the end of conditional expression '1 &| 0'"
        );
        assert_eq!(
            cc_err("streq(a,a)x"),
            "unexpected character 'x' at the end of conditional expression 'streq(a,a)x'"
        );
        assert_eq!(
            cc_err("defined (FOO)"),
            "unexpected character '(' at the end of conditional expression 'defined (FOO)'"
        );
    }

    #[test]
    fn defined_looks_at_the_environment() {
        assert_eq!(cc("defined(FOO)"), Ok(true));
        assert_eq!(cc("defined(NOPE)"), Ok(false));
        assert_eq!(cc("defined"), Ok(false));
        // the real environment: PATH is always set for the test runner
        assert_eq!(eval(&["defined(PATH)".to_string()]), Ok(true));
        assert_eq!(
            eval(&["defined(GATEHOUSE_SURELY_UNSET_VAR)".to_string()]),
            Ok(false)
        );
    }

    #[test]
    fn string_predicates_and_their_argument_quoting() {
        for (e, v) in [
            ("streq(a,a)", true),
            ("streq(a, a)", false),
            ("strneq(a,b)", true),
            ("strneq(a,a)", false),
            (r#"streq("$FOO",foov)"#, true),
            ("streq($FOO,foov)", false),
            (r#""streq(a,a)""#, true),
            (r"streq(a\ b,a b)", true),
            ("streq('a b','a b')", true),
            (r#"'streq("a,b","a,b")'"#, true),
            (r#"'streq(a\tb,"a	b")'"#, true),
        ] {
            assert_eq!(cc(e), Ok(v), "{e}");
        }
        let pred_err = |m: &str| {
            format!("{m} in argument 1 of predicate 'streq' used in conditional expression")
        };
        assert_eq!(
            cc_err("streq(a)"),
            pred_err("missing arguments (got 1/2), type 'string' expected")
        );
        assert_eq!(
            cc_err("streq(a,b,c)"),
            pred_err("expected ')' before ',c)'")
        );
        assert_eq!(
            cc_err(r#"streq("a,b",\"a,b\")"#),
            pred_err("expected ')' before ',\"a,b\")'")
        );
        assert_eq!(
            cc_err(r#"streq(\"a,b\",a\,b)"#),
            pred_err("expected ')' before ',b)'")
        );
        assert_eq!(
            cc_err(r#"streq(\"a,b\",'a,b')"#),
            pred_err("expected ')' before ',b)'")
        );
        // `\,` is not an escape at the second level: the backslash stays, the comma splits
        assert_eq!(
            cc_err(r#"'streq(a\,b,a\,b)'"#),
            pred_err("expected ')' before ',a\\,b)'")
        );
        // `\'` is no escape inside single quotes at the first level
        assert_eq!(
            cc(r#"'streq("a,b",\'a,b\')'"#),
            Err("Syntax Error in condition: Unmatched quote.".into())
        );
    }

    #[test]
    fn versions_compare_like_haproxy() {
        for (e, v) in [
            ("version_atleast(2.6)", true),
            ("version_atleast(2.6.12)", true),
            ("version_atleast(2.6.13)", false),
            ("version_atleast(2.6-dev1)", true),
            ("version_atleast(2.6.12-rc1)", true),
            ("version_before(2.6.12-rc1)", false),
            ("version_before(2.7)", true),
            ("version_before(2.6.12)", false),
            ("version_atleast(2.4-dev19)", true),
            // unparsable versions: "at least" is true, "before" is false
            ("version_atleast(garbage)", true),
            ("version_before(garbage)", false),
            ("version_atleast()", true),
        ] {
            assert_eq!(cc(e), Ok(v), "{e}");
        }
    }

    #[test]
    fn version_splitting_follows_split_version() {
        let split = |s: &str| split_version(s.as_bytes());
        assert_eq!(split("1.2.1-pre2"), Some([1, 2, 1, 0, 2, 2, 0]));
        assert_eq!(split("1.2.10.1"), Some([1, 2, 10, 1, 3, 0, 0]));
        assert_eq!(split("1.3.16-rc1"), Some([1, 3, 16, 0, 2, 1, 0]));
        assert_eq!(split("1.5-dev18-43"), Some([1, 5, 0, 0, 1, 18, 43]));
        assert_eq!(split("2.4-dev18-f6818d-20"), Some([2, 4, 0, 0, 1, 18, 20]));
        assert_eq!(split("2.6.12-1+deb12u4"), Some([2, 6, 12, 0, 3, 0, 0]));
        assert_eq!(split(""), None);
        assert_eq!(split("x"), None);
        assert_eq!(split("1.2.3.4.5"), None);
        assert_eq!(compare_version("2.6.12"), Some(Ordering::Equal));
        assert_eq!(compare_version("2.6"), Some(Ordering::Less));
        assert_eq!(compare_version("3.0"), Some(Ordering::Greater));
    }

    #[test]
    fn features_are_gatehouse_s_own_list() {
        assert_eq!(cc("feature(THREAD)"), Ok(true));
        assert_eq!(cc("feature(EPOLL)"), Ok(true));
        assert_eq!(cc("feature(OPENSSL)"), Ok(false));
        assert_eq!(cc("feature(THR)"), Ok(false));
        assert_eq!(cc("!feature(OPENSSL) || feature(OPENSSL)"), Ok(true));
    }

    #[test]
    fn cc_lexing_errors_and_comments() {
        assert_eq!(
            cc("\"1"),
            Err("Syntax Error in condition: Unmatched quote.".into())
        );
        assert_eq!(
            cc(r"\x4"),
            Err("Syntax Error in condition: Truncated or invalid hexadecimal sequence.".into())
        );
        assert_eq!(
            cc(r#""$1""#),
            Err("Unhandled error in condition, please report this to the developers.".into())
        );
        // no comments in -cc: '#' is just an unexpected character
        assert_eq!(
            cc_err("1 # x"),
            "unexpected character '#' at the end of conditional expression '1 # x'"
        );
        let many = vec!["1"; 65].join(" ");
        assert_eq!(cc(&many), Err("Error in condition: Too many words.".into()));
    }

    #[test]
    fn eval_merges_words_with_spaces() {
        let w = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(eval_with(&w(&["streq(a", "b,a", "b)"]), &env), Ok(true));
        assert_eq!(eval_with(&w(&["1", "&&", "!0"]), &env), Ok(true));
        assert_eq!(eval_with(&[], &env), Ok(false));
        // HAProxy accepts 340 nested parentheses and refuses 341 (MAX_CFG_RECURSION)
        let nest = |n: usize| vec![format!("{}1{}", "(".repeat(n), ")".repeat(n))];
        assert_eq!(eval_with(&nest(340), &env), Ok(true));
        let err = eval_with(&nest(341), &env).err().unwrap_or_default();
        assert!(
            err.starts_with("unparsable conditional sub-expression '1)))"),
            "{err}"
        );
        assert!(eval_with(&nest(100_000), &env).is_err());
    }
}
