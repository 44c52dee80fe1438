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
const SUPPORTED_VERBS: &[&str] = &["comment", "connect", "expect", "send", "send-binary"];

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
    if kwd == "tcp-check" {
        tcp_check_args(base, &words[2..])?;
    } else {
        http_check_args(base, &words[2..])?;
    }
    Ok(CheckRule {
        span: ctx.span.clone(),
        verb: verb.clone(),
        args: words[2..].to_vec(),
    })
}

/// HAProxy's check of a hexadecimal string (`send-binary`, `expect binary`).
fn hex(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("an hex digit is expected (found '{c}')"));
    }
    if !s.len().is_multiple_of(2) {
        return Err("an even number of hex digit is expected".into());
    }
    Ok(())
}

/// Checks the arguments of a `tcp-check` rule as HAProxy does (its messages).
fn tcp_check_args(verb: &str, args: &[String]) -> Result<(), String> {
    let at = |m: String| format!("'tcp-check {verb}' : {m}");
    match verb {
        "comment" if args.is_empty() => {
            return Err(at("expects a string as argument.".into()));
        }
        "send" | "send-lf" | "send-binary" | "send-binary-lf" => {
            let what = if verb.starts_with("send-binary") {
                "binary string"
            } else {
                "string"
            };
            let data = args
                .first()
                .ok_or_else(|| at(format!("'{what}' expects a {verb} as argument.")))?;
            if verb == "send-binary" {
                hex(data).map_err(|e| at(format!("'{data}' invalid binary string ({e}).")))?;
            }
            let mut i = 1;
            while let Some(w) = args.get(i) {
                if w != "comment" {
                    return Err(at(format!("expects 'comment' but got '{w}' as argument.")));
                }
                if args.get(i + 1).is_none() {
                    return Err(at("'comment' expects a string as argument.".into()));
                }
                i += 2;
            }
        }
        "connect" => {
            let mut i = 0;
            while let Some(w) = args.get(i) {
                match w.as_str() {
                    "send-proxy" | "ssl" | "via-socks4" | "linger" | "default" => i += 1,
                    "comment" | "addr" | "sni" | "alpn" | "proto" => {
                        if args.get(i + 1).is_none() {
                            return Err(at(format!("'{w}' expects an argument.")));
                        }
                        i += 2;
                    }
                    "port" => {
                        let p = args.get(i + 1).ok_or_else(|| {
                            at(
                                "'port' expects a port number or a sample expression as argument."
                                    .into(),
                            )
                        })?;
                        match p.parse::<u32>() {
                            Ok(n) if (1..=65535).contains(&n) => {}
                            Ok(n) => {
                                return Err(at(format!(
                                    "expects a valid TCP port (from range 1 to 65535) or a sample expression, got {n}."
                                )));
                            }
                            Err(_) => {
                                return Err(at(format!(
                                    "port sample expression '{p}' is not supported yet by gatehouse."
                                )));
                            }
                        }
                        i += 2;
                    }
                    x => {
                        return Err(at(format!(
                            "expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '{x}' as argument."
                        )));
                    }
                }
            }
        }
        "expect" => {
            let mut i = 0;
            while let Some(w) = args.get(i) {
                match w.as_str() {
                    "binary" => {
                        if let Some(p) = args.get(i + 1) {
                            hex(p).map_err(|e| at(format!("invalid binary string ({e}).")))?;
                        }
                        break;
                    }
                    "min-recv" | "comment" | "ok-status" | "error-status" | "tout-status"
                    | "on-success" | "on-error" | "status-code" => i += 2,
                    _ => i += 1,
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks the arguments of an `http-check send|expect` rule as HAProxy does.
fn http_check_args(verb: &str, args: &[String]) -> Result<(), String> {
    let at = |m: String| format!("'http-check {verb}' : {m}");
    match verb {
        "send" => {
            let mut i = 0;
            while let Some(w) = args.get(i) {
                match w.as_str() {
                    "hdr" => {
                        if args.get(i + 2).is_none() {
                            return Err(
                                at("'hdr' expects <name> and <value> as arguments.".into()),
                            );
                        }
                        i += 3;
                    }
                    "comment" | "meth" | "uri" | "uri-lf" | "ver" | "body" | "body-lf" => {
                        if args.get(i + 1).is_none() {
                            return Err(at(format!("'{w}' expects a string as argument.")));
                        }
                        i += 2;
                    }
                    x => {
                        return Err(at(format!(
                            "expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{x}' as argument."
                        )));
                    }
                }
            }
        }
        "expect" => {
            let mut i = 0;
            while let Some(w) = args.get(i) {
                match w.as_str() {
                    "status" => {
                        if let Some(list) = args.get(i + 1)
                            && let Some(c) = list
                                .chars()
                                .find(|c| !(c.is_ascii_digit() || *c == ',' || *c == '-'))
                        {
                            return Err(at(format!(
                                "invalid character '{c}' in the list of status codes."
                            )));
                        }
                        break;
                    }
                    "min-recv" | "comment" | "ok-status" | "error-status" | "tout-status"
                    | "on-success" | "on-error" | "status-code" => i += 2,
                    "!" => i += 1,
                    _ => break,
                }
            }
        }
        _ => {}
    }
    Ok(())
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
