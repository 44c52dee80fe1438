//! Conditional blocks and status directives. Unless noted, messages and outcomes were
//! checked against haproxy 2.6.12 (`haproxy -c -f x.cfg`).

use super::*;
use crate::config::diag::Level;

fn env(name: &str) -> Option<String> {
    match name {
        "ONE" => Some("1".into()),
        "ZERO" => Some("0".into()),
        "WITH_SSL" => Some("yes".into()),
        _ => None,
    }
}

/// First words of the surviving lines, and the diagnostics as (level, line, message).
fn run_opts(text: &str, options: LexOptions) -> (Vec<String>, Vec<(Level, u32, String)>) {
    let mut diags = Vec::new();
    let lines = lex_with_options("t.cfg", text, &env, options, &mut diags);
    let kept = lines.into_iter().map(|l| l.words.join(" ")).collect();
    let diags = diags
        .into_iter()
        .map(|d| (d.level, d.span.map_or(0, |s| s.line), d.message));
    (kept, diags.collect())
}

fn run(text: &str) -> (Vec<String>, Vec<(Level, u32, String)>) {
    run_opts(text, LexOptions::default())
}

fn kept(text: &str) -> Vec<String> {
    let (kept, diags) = run(text);
    assert!(diags.is_empty(), "{text:?}: {diags:?}");
    kept
}

fn alert(line: u32, msg: &str) -> (Level, u32, String) {
    (Level::Alert, line, msg.to_string())
}

#[test]
fn if_elif_else_pick_exactly_one_branch() {
    let block = |a: &str, b: &str| {
        format!(".if {a}\n  a\n.elif {b}\n  b\n.elif 1\n  c\n.else\n  d\n.endif\nafter\n")
    };
    assert_eq!(kept(&block("1", "1")), ["a", "after"]);
    assert_eq!(kept(&block("0", "1")), ["b", "after"]);
    assert_eq!(kept(&block("0", "0")), ["c", "after"]);
    assert_eq!(kept(".if 0\na\n.else\nb\n.endif\n"), ["b"]);
    assert_eq!(kept(".if 1\na\n.else\nb\n.endif\n"), ["a"]);
    assert_eq!(kept(".if 0\na\n.elif 0\nb\n.endif\nc\n"), ["c"]);
}

#[test]
fn conditions_use_the_lexed_words_and_the_given_environment() {
    assert_eq!(
        kept(".if \"${ONE}\"\na\n.endif\n.if \"$ZERO\"\nb\n.endif\n"),
        ["a"]
    );
    assert_eq!(kept(".if streq(\"$WITH_SSL\",yes)\na\n.endif\n"), ["a"]);
    assert_eq!(
        kept(".if defined(ONE) && !defined(NOPE)\na\n.endif\n"),
        ["a"]
    );
    // empty condition is false, also when made of empty words
    assert_eq!(
        kept(".if\na\n.endif\n.if \"\"\nb\n.endif\n.if \"${NOPE}\"\nc\n.endif\n"),
        [""; 0]
    );
    // an empty first word is merged as a blank: " 1" is true
    assert_eq!(kept(".if \"\" 1\ny\n.endif\n"), ["y"]);
    // comments after a condition are ignored
    assert_eq!(kept(".if 1 # yes\na\n.endif # done\n"), ["a"]);
}

#[test]
fn nested_blocks_inside_a_false_block_are_not_evaluated() {
    let text =
        ".if 0\n.if garbage (((\nx\n.elif also garbage\ny\n.else\nz\n.endif\nw\n.endif\nkept\n";
    assert_eq!(kept(text), ["kept"]);
    let text = ".if 1\n.if 0\nx\n.elif 1\ny\n.elif garbage(\nz\n.else\nv\n.endif\n.endif\n";
    assert_eq!(kept(text), ["y"]);
}

#[test]
fn lexing_errors_are_reported_even_in_false_blocks() {
    let (kept, diags) =
        run(".if 0\nbind \"unterminated\n.notice \"$1\"\n.foo\n.alert \"no\"\n.endif\n");
    assert!(kept.is_empty());
    let lines: Vec<u32> = diags.iter().map(|d| d.1).collect();
    assert_eq!(lines, [2, 3], "{diags:?}");
}

#[test]
fn misplaced_directives_are_alerts() {
    assert_eq!(
        run(".endif\n").1,
        [alert(1, "lone '.endif' with no matching '.if'.")]
    );
    assert_eq!(
        run(".else\n").1,
        [alert(1, "lone '.else' with no matching '.if'.")]
    );
    assert_eq!(
        run(".elif 1\n").1,
        [alert(1, "lone '.elif' with no matching '.if'.")]
    );
    assert_eq!(
        run(".if 1\n.else\n.elif 1\n.endif\n").1,
        [alert(3, "'.elif' after '.else' is not permitted.")]
    );
    assert_eq!(
        run(".if 1\n.else\n.else\n.endif\n").1,
        [alert(3, "'.else' after '.else' is not permitted.")]
    );
    assert_eq!(
        run(".if 1\n.else x\n.endif\n").1,
        [alert(2, "Unexpected argument 'x' for '.else'.")]
    );
    assert_eq!(
        run(".if 1\n.endif y\n").1,
        [alert(2, "Unexpected argument 'y' for '.endif'.")]
    );
}

#[test]
fn unterminated_if_is_reported_at_the_last_line() {
    let (kept, diags) = run("a\n.if 1\n.if 0\nb\n\n");
    assert_eq!(kept, ["a"]);
    assert_eq!(diags, [alert(5, "non-terminated '.if' block.")]);
}

#[test]
fn nesting_is_limited_to_99_levels() {
    let mut text = String::new();
    for _ in 0..100 {
        text.push_str(".if 1\n");
    }
    text.push_str("x\n");
    for _ in 0..100 {
        text.push_str(".endif\n");
    }
    let (kept, diags) = run(&text);
    assert_eq!(diags, [alert(100, "too many nested '.if', max is 100.")]);
    assert!(kept.is_empty());
}

#[test]
fn bad_conditions_are_alerts_with_position() {
    let (_, diags) = run(".if streq(a\n.endif\n");
    assert_eq!(
        diags,
        [alert(
            1,
            "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate \
         'streq' used in conditional expression in '.if' at position 8:\n  .if streq(a\n             ^"
        )]
    );
    let (_, diags) = run(".if 0\n.elif (1\n.endif\n");
    assert_eq!(
        diags,
        [alert(
            2,
            "expected ')' after conditional expression '(1' in '.elif' at position 1:\n  .elif (1\n        ^"
        )]
    );
    // an .elif after a taken branch is not evaluated at all
    assert!(run(".if 1\n.elif (1\n.endif\n").1.is_empty());
}

#[test]
fn status_directives_emit_their_message_in_active_blocks() {
    let text =
        ".if 0\n.alert \"hidden\"\n.else\n.warning \"w\"\n.notice 'n n'\n.alert \"a\"\n.endif\n";
    let (kept, diags) = run(text);
    assert!(kept.is_empty());
    assert_eq!(
        diags,
        [
            (Level::Warning, 4, "'w'.".to_string()),
            (Level::Notice, 5, "'n n'.".to_string()),
            alert(6, "'a'."),
        ]
    );
    assert_eq!(run(".notice\n").1, [(Level::Notice, 1, "''.".to_string())]);
    assert_eq!(
        run(".warning a b\n").1,
        [alert(
            1,
            "Unexpected argument 'b' for '.warning'. Use quotes if the message should contain spaces."
        )]
    );
}

#[test]
fn diag_messages_only_in_diagnostic_mode() {
    assert!(run(".diag \"d\"\n").1.is_empty());
    let (_, diags) = run_opts(".diag \"d\"\n", LexOptions { diag_mode: true });
    assert_eq!(diags, [(Level::Notice, 1, "'d'.".to_string())]);
}

#[test]
fn unknown_directives_are_alerts_only_when_active() {
    assert_eq!(run(".foo bar\n").1, [alert(1, "unknown directive '.foo'.")]);
    assert_eq!(run(".IF 1\n").1, [alert(1, "unknown directive '.IF'.")]);
    assert!(run(".if 0\n.foo\n.endif\n").1.is_empty());
    // indented directives work like any line
    assert_eq!(kept("  .if 1\n\t  a\n .endif\n"), ["a"]);
}
