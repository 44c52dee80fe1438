//! `http-check` and `tcp-check` rules, kept as verb + arguments for the check engine.

use crate::config::keyword::{BACK, ProxyCtx, ProxyKeyword, kw};
use crate::config::model::CheckRule;

const HTTP_CHECK_VERBS: &[&str] = &[
    "comment",
    "connect",
    "disable-on-404",
    "expect",
    "send",
    "send-state",
    "set-var",
    "unset-var",
];
const TCP_CHECK_VERBS: &[&str] = &[
    "comment",
    "connect",
    "expect",
    "send",
    "send-lf",
    "send-binary",
    "send-binary-lf",
    "set-var",
    "unset-var",
];
/// Verbs implemented now; the others are refused as "not supported yet".
const SUPPORTED_VERBS: &[&str] = &[
    "comment",
    "connect",
    "expect",
    "send",
    "send-binary",
    "disable-on-404",
    "send-state",
];

fn rule(ctx: &mut ProxyCtx<'_>, words: &[String], verbs: &[&str]) -> Result<CheckRule, String> {
    let kwd = &words[0];
    let verb = words
        .get(1)
        .ok_or_else(|| format!("'{kwd}' expects one of {}.", verbs.join(", ")))?;
    let base = verb.split_once('(').map(|(b, _)| b).unwrap_or(verb);
    if !verbs.contains(&base) {
        return Err(format!(
            "'{kwd}' only supports {} (got '{verb}').",
            verbs
                .iter()
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !SUPPORTED_VERBS.contains(&base) {
        return Err(format!("'{kwd} {verb}' is not supported yet by gatehouse."));
    }
    if base == "expect" {
        let mut i = 2;
        while let Some(w) = words.get(i) {
            match w.as_str() {
                "min-recv" | "comment" | "ok-status" | "error-status" | "tout-status"
                | "on-success" | "on-error" | "status-code" => i += 2,
                "!" => i += 1,
                _ => break,
            }
        }
        let m = words
            .get(i)
            .ok_or_else(|| format!("'{kwd} expect' expects a matching method."))?;
        let ok = [
            "status",
            "rstatus",
            "hdr",
            "fhdr",
            "string",
            "rstring",
            "binary",
            "rbinary",
            "string-lf",
            "binary-lf",
        ];
        if !ok.contains(&m.as_str()) {
            return Err(format!("'{kwd} expect' : unknown pattern type '{m}'."));
        }
        if words.get(i + 1).is_none() && m != "hdr" && m != "fhdr" {
            return Err(format!(
                "'{kwd} expect {m}' expects <pattern> as an argument."
            ));
        }
    }
    Ok(CheckRule {
        span: ctx.span.clone(),
        verb: verb.clone(),
        args: words[2..].to_vec(),
    })
}

fn http_check(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let r = rule(ctx, words, HTTP_CHECK_VERBS)?;
    ctx.proxy.check.http_rules.push(r);
    Ok(())
}

fn tcp_check(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let r = rule(ctx, words, TCP_CHECK_VERBS)?;
    ctx.proxy.check.tcp_rules.push(r);
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "http-check",
        BACK,
        http_check,
        "HTTP health check rules (send, expect, …)",
    ),
    kw(
        "tcp-check",
        BACK,
        tcp_check,
        "TCP health check rules (connect, send, expect, …)",
    ),
];
