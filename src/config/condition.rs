//! The condition syntax after `if`/`unless` (configuration.txt 7.2): ACL names, `!`
//! negation, anonymous ACLs between `{` and `}`, juxtaposition for AND, `||`/`or` for
//! OR. Parsed as HAProxy 2.6 does, including what it tolerates: a lone `!` negates the
//! next term, and empty alternatives (`|| a`, `a ||`, an empty condition) are dropped.
//!
//! This is the condition's syntax only, kept with its span; the ACL engine
//! (`acl::AclSet::condition`) compiles it and reports unknown names.

use crate::config::model::{AclExpr, AclRef, CondTerm, Condition};
use crate::config::span::Span;

/// Parses the words of a condition (`if`/`unless` and what follows) into a [`Condition`].
///
/// Like HAProxy 2.6, an empty condition and empty alternatives (`|| a`, `a ||`) are
/// accepted; only a `{` without its `}` or a first word other than `if`/`unless` is an
/// error here. Unknown ACL names are reported when the condition is compiled.
pub fn parse_condition(words: &[String], span: &Span) -> Result<Condition, String> {
    let unless = match words.first().map(String::as_str) {
        Some("if") => false,
        Some("unless") => true,
        Some(w) => {
            return Err(format!(
                "expects 'if' or 'unless' followed by a condition but found '{w}'"
            ));
        }
        None => return Err("expects 'if' or 'unless' followed by a condition".into()),
    };
    let mut any_of: Vec<Vec<CondTerm>> = Vec::new();
    let mut suite: Vec<CondTerm> = Vec::new();
    let mut neg = false;
    let mut i = 1;
    while i < words.len() {
        let mut word = words[i].as_str();
        while let Some(rest) = word.strip_prefix('!') {
            neg = !neg;
            word = rest;
        }
        if word.is_empty() {
            i += 1;
            continue;
        }
        if word == "||" || word.eq_ignore_ascii_case("or") {
            if !suite.is_empty() {
                any_of.push(std::mem::take(&mut suite));
            }
            neg = false;
            i += 1;
            continue;
        }
        let acl = if word == "{" {
            let Some(close) = words[i + 1..].iter().position(|w| w == "}") else {
                return Err("missing closing '}' in condition".into());
            };
            let inner = words[i + 1..i + 1 + close].to_vec();
            i += close + 1;
            AclRef::Anonymous(AclExpr {
                span: span.clone(),
                words: inner,
            })
        } else {
            AclRef::Named(word.to_string())
        };
        suite.push(CondTerm { negated: neg, acl });
        neg = false;
        i += 1;
    }
    if !suite.is_empty() {
        any_of.push(suite);
    }
    Ok(Condition {
        span: span.clone(),
        unless,
        any_of,
    })
}
