//! Lexer behaviour. Unless noted, expected words and messages were checked against
//! haproxy 2.6.12 (`haproxy -c -f x.cfg` with `.notice` printing the lexed word).

use super::*;
use crate::config::diag::Level;

fn env(name: &str) -> Option<String> {
    let v = match name {
        "FOO" => "foov",
        "EMPTY" => "",
        "LIST" => "a  b c",
        "SPC" => " a b ",
        "QUOTED" => "x\"y 'z' #w",
        "ONE" => "1",
        _ => return None,
    };
    Some(v.to_string())
}

fn run(text: &str) -> (Vec<Line>, Vec<Diag>) {
    let mut diags = Vec::new();
    let lines = lex("t.cfg", text, &env, &mut diags);
    (lines, diags)
}

/// The words of each line, for texts that must lex cleanly.
fn words(text: &str) -> Vec<Vec<String>> {
    let (lines, diags) = run(text);
    assert!(diags.is_empty(), "unexpected diags for {text:?}: {diags:?}");
    lines.into_iter().map(|l| l.words).collect()
}

/// The words of a single line.
fn one(line: &str) -> Vec<String> {
    let all = words(&format!("{line}\n"));
    assert_eq!(all.len(), 1, "{line:?} gave {all:?}");
    all.into_iter().next().unwrap_or_default()
}

fn msgs(text: &str) -> Vec<(Level, u32, String)> {
    let (_, diags) = run(text);
    diags
        .into_iter()
        .map(|d| (d.level, d.span.map_or(0, |s| s.line), d.message))
        .collect()
}

fn alert(line: u32, msg: &str) -> (Level, u32, String) {
    (Level::Alert, line, msg.to_string())
}

#[test]
fn words_are_split_on_blanks_and_spans_count_every_line() {
    let (lines, diags) = run("global\n\n  # comment\n\tmaxconn   100 \t\n");
    assert!(diags.is_empty());
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].words, ["global"]);
    assert_eq!(lines[0].span, Span::new("t.cfg", 1));
    assert_eq!(lines[1].words, ["maxconn", "100"]);
    assert_eq!(lines[1].span.to_string(), "t.cfg:4");
    // vertical tab and form feed are blanks too (C isspace)
    assert_eq!(one("a\x0bb\x0cc"), ["a", "b", "c"]);
}

#[test]
fn comments_end_the_line_unless_quoted_or_escaped() {
    assert_eq!(one("a b#c d"), ["a", "b"]);
    assert_eq!(one("a#b"), ["a"]);
    assert_eq!(one(r"\#hash # comment"), ["#hash"]);
    assert_eq!(one("\"#hash\""), ["#hash"]);
    assert_eq!(one("'#hash'"), ["#hash"]);
    assert_eq!(one(r#""\#""#), ["#"]);
    assert!(words("# only a comment\n   # indented\n").is_empty());
}

#[test]
fn crlf_and_lone_cr() {
    assert_eq!(
        words("global\r\n  maxconn 1\r\n"),
        [vec!["global"], vec!["maxconn", "1"]]
    );
    // A CR ends the words of its line, even in the middle (HAProxy's parse_line).
    assert_eq!(one("a\rb c"), ["a"]);
    // ... but a CR right after a blank is swallowed as a blank.
    assert_eq!(one("a \rb"), ["a", "b"]);
    assert!(words("\r\n \r\n").is_empty());
}

#[test]
fn single_quotes_are_fully_literal() {
    assert_eq!(one(r#"'a b\n"$FOO"\'"#), [r#"a b\n"$FOO"\"#]);
    assert_eq!(one("'${FOO}'"), ["${FOO}"]);
    assert_eq!(one("'\t'"), ["\t"]);
}

#[test]
fn double_quotes_protect_blanks_and_single_quotes() {
    assert_eq!(one(r#""a b" "it's""#), ["a b", "it's"]);
    assert_eq!(one(r#""\$FOO""#), ["$FOO"]);
}

#[test]
fn a_word_may_mix_quoted_and_unquoted_parts() {
    assert_eq!(one(r#"foo"bar baz"qux"#), ["foobar bazqux"]);
    // configuration.txt 2.2: these log-formats are all the same word
    let expected = ["log-format", "%{+Q}o %t %s %{-Q}r"];
    assert_eq!(one(r"log-format %{+Q}o\ %t\ %s\ %{-Q}r"), expected);
    assert_eq!(one(r#"log-format "%{+Q}o %t %s %{-Q}r""#), expected);
    assert_eq!(one("log-format '%{+Q}o %t %s %{-Q}r'"), expected);
    assert_eq!(one(r#"log-format "%{+Q}o %t"' %s %{-Q}r'"#), expected);
    assert_eq!(one(r#"log-format "%{+Q}o %t"' %s'\ %{-Q}r"#), expected);
}

#[test]
fn backslash_escapes_match_the_manual_table() {
    assert_eq!(one(r"a\ b"), ["a b"]);
    assert_eq!(one(r"a\\b"), [r"a\b"]);
    assert_eq!(one(r"\'x"), ["'x"]);
    assert_eq!(one(r#"\"x"#), ["\"x"]);
    assert_eq!(one(r"\n\r\t"), ["\n\r\t"]);
    assert_eq!(one(r"x\x41y \x20 \x5c"), ["xAy", " ", "\\"]);
    assert_eq!(one(r#""x\x41y""#), ["xAy"]);
    assert_eq!(one(r#""\'" "\"" "\\" "\ ""#), ["'", "\"", "\\", " "]);
    assert_eq!(one("\"a\\\tb\""), ["a\\\tb"]);
    assert_eq!(one("a\\\tb"), ["a\\", "b"]);
    assert_eq!(one(r"\xc3\xa9"), ["é"]);
}

#[test]
fn other_backslashes_are_kept() {
    assert_eq!(one(r"a\qb"), [r"a\qb"]);
    assert_eq!(one(r#""a\qb""#), [r"a\qb"]);
    assert_eq!(one(r"regsub(\1)"), [r"regsub(\1)"]);
    // `\$` is only an escape inside double quotes
    assert_eq!(one(r"\$FOO"), [r"\$FOO"]);
    assert_eq!(one(r"trailing\"), [r"trailing\"]);
}

#[test]
fn escaping_errors_are_alerts_with_position_and_caret() {
    assert_eq!(
        msgs(".notice \\x4\n"),
        [alert(
            1,
            "truncated or invalid hexadecimal sequence at position 9:\n  .notice \\x4\n          ^"
        )]
    );
    assert_eq!(
        msgs("global\n.notice \"\\x\"\n")[0].2,
        "truncated or invalid hexadecimal sequence at position 10:\n  .notice \"\\x\"\n           ^"
    );
}

#[test]
fn unterminated_quotes_are_alerts_and_lexing_goes_on() {
    let (lines, diags) = run("  bind \"unterminated\nmode http\nx '\\''\n");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].words, ["mode", "http"]);
    assert_eq!(diags.len(), 2);
    assert_eq!(
        diags[0].message,
        "unmatched quote at position 8:\n  bind \"unterminated\n       ^"
    );
    assert_eq!(diags[0].span, Some(Span::new("t.cfg", 1)));
    // `'\'` is a complete word: the last quote is the unmatched one
    assert_eq!(
        diags[1].message,
        "unmatched quote at position 6:\n  x '\\''\n       ^"
    );
}

#[test]
fn variables_expand_only_inside_double_quotes() {
    assert_eq!(one("$FOO"), ["$FOO"]);
    assert_eq!(one("${FOO}"), ["${FOO}"]);
    assert_eq!(one(r#""$FOO""#), ["foov"]);
    assert_eq!(one(r#""${FOO}x" "x$FOO-y""#), ["foovx", "xfoov-y"]);
    assert_eq!(one(r#""fd@${FOO}""#), ["fd@foov"]);
    // values are not re-lexed
    assert_eq!(one(r#"a "$QUOTED" b"#), ["a", "x\"y 'z' #w", "b"]);
}

#[test]
fn default_values_replace_only_missing_variables() {
    assert_eq!(one(r#""${UNSET-def ault}""#), ["def ault"]);
    assert_eq!(one(r#""${FOO-def}""#), ["foov"]);
    assert_eq!(one(r#"a "${EMPTY-def}" b"#), ["a", "", "b"]);
    assert_eq!(one(r#""${UNSET-127.0.0.1}:514""#), ["127.0.0.1:514"]);
    assert_eq!(one(r#""${UNSET-}x""#), ["x"]);
}

#[test]
fn empty_words_middle_kept_last_dropped_first_skips_the_line() {
    assert_eq!(one(r#"a "${UNSET}" b"#), ["a", "", "b"]);
    assert_eq!(one(r#"a """#), ["a"]);
    assert_eq!(one(r#"a "" """#), ["a", ""]);
    // HAProxy skips a line whose first word is empty, even an .alert after it.
    assert!(words("\"\" .alert \"skipped\"\n\"${UNSET}\" bind :80\n").is_empty());
}

#[test]
fn star_suffix_splits_a_variable_into_words() {
    assert_eq!(one(r#"x "${LIST[*]}" y"#), ["x", "a", "b", "c", "y"]);
    assert_eq!(one(r#"x "p${LIST[*]}s""#), ["x", "pa", "b", "cs"]);
    // a leading blank in the value ends the current word (here an empty one)
    assert_eq!(one(r#"x "${SPC[*]}z""#), ["x", "", "a", "b", "z"]);
    assert_eq!(one(r#""${UNSET[*]-d e}""#), ["d", "e"]);
    // only within braces
    assert_eq!(one(r#""$FOO[*]""#), ["foov[*]"]);
}

#[test]
fn bad_variable_references_are_alerts() {
    let cases = [
        (
            r#".notice "$1""#,
            "forbidden first char in environment variable name at position 11",
        ),
        (
            r#".notice "a$""#,
            "forbidden first char in environment variable name at position 12",
        ),
        (
            r#".notice "${}""#,
            "forbidden first char in environment variable name at position 12",
        ),
        (
            r#".notice "${.BAD}""#,
            "forbidden first char in environment variable name at position 12",
        ),
        (
            r#".notice "${FOO""#,
            "unmatched brace in environment variable name at position 11",
        ),
        (
            r#".notice "${FOO-x""#,
            "unmatched brace in environment variable name at position 11",
        ),
        (
            r#".notice "${FOO[x]}""#,
            "truncated or invalid word expansion sequence at position 15",
        ),
    ];
    for (line, expected) in cases {
        let m = msgs(&format!("{line}\n"));
        assert_eq!(m.len(), 1, "{line}: {m:?}");
        assert!(
            m[0].2.starts_with(&format!("{expected}:\n")),
            "{line}: {}",
            m[0].2
        );
    }
}

#[test]
fn pseudo_variables_file_line_and_section() {
    let text = "global\n  x \"${.FILE}:$.LINE\" \"${.SECTION}\"\ndefaults\n  x \"$.SECTION\"\n\
                backend be1\n  x \"${.SECTION}\"\nfrontend \"${.SECTION}x\"\n";
    let w = words(text);
    assert_eq!(w[1], ["x", "t.cfg:2", "global"]);
    assert_eq!(w[3], ["x", "defaults"]);
    assert_eq!(w[5], ["x", "be1"]);
    // on the section line itself, the previous section is still current
    assert_eq!(w[6], ["frontend", "be1x"]);
}

#[test]
fn long_lines_have_no_length_limit() {
    let long = "x".repeat(200_000);
    assert_eq!(one(&format!("a {long}")), ["a".to_string(), long]);
}

#[test]
fn more_than_64_words_is_an_alert() {
    let words64: Vec<String> = (1..=64).map(|i| format!("w{i}")).collect();
    let line = words64.join(" ");
    assert_eq!(one(&line).len(), 64);
    let expected = "too many words, truncating after word 64, position 249: <w64>.";
    // `.notice w2 .. w64` in haproxy gives the same numbers
    let notice = format!(".notice {}", words64[1..].join(" "));
    assert_eq!(msgs(&format!("{notice} w65\n")), [alert(1, expected)]);
    // a blank after the 64th word is already one too many, as in HAProxy
    assert_eq!(msgs(&format!("{notice} \n")), [alert(1, expected)]);
    assert_eq!(msgs(&format!("{notice} #c\n")), [alert(1, expected)]);
}

#[test]
fn missing_final_lf_stray_nul_and_empty_files() {
    assert!(msgs("").is_empty());
    assert!(msgs("\n").is_empty());
    let (lines, diags) = run("global\n.notice \"z\"");
    assert_eq!(lines.len(), 1);
    assert_eq!(diags[0].message, "'z'.");
    assert_eq!(
        diags[1].message,
        "Missing LF on last line, file might have been truncated at position 12."
    );
    assert_eq!(diags[1].span, Some(Span::new("t.cfg", 2)));
    let (lines, diags) = run("a b\0c\nd\n");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].words, ["a", "b"]);
    assert_eq!(
        diags.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        ["Stray NUL character at position 4."]
    );
}

#[test]
fn scope_lines_are_checked_and_consumed() {
    assert!(words("[ab]\n  [a.b:c_d-e] # c\n").is_empty());
    assert_eq!(msgs("[]\n"), [alert(1, "empty scope name is forbidden.")]);
    assert_eq!(msgs("[ab\n"), [alert(1, "empty scope name is forbidden.")]);
    assert_eq!(
        msgs("[a b]\n"),
        [alert(1, "character ' ' is not permitted in a scope name.")]
    );
    assert_eq!(
        msgs("[ab] x\n"),
        [alert(
            1,
            "character 'x' is not permitted after scope declaration."
        )]
    );
}

#[test]
fn long_lines_in_errors_are_shortened_around_the_error() {
    let line = format!(
        ".notice {} \"unterminated {}",
        "x".repeat(140),
        "y".repeat(60)
    );
    let (_, diags) = run(&format!("{line}\n"));
    let expected = format!(
        "unmatched quote at position 150:\n  ...{} \"unterminated {}...\n  {}^",
        "x".repeat(36),
        "y".repeat(23),
        " ".repeat(40)
    );
    assert_eq!(diags[0].message, expected);
}
