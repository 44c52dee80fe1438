//! Custom error messages of a proxy: `errorfile CODE FILE`, `errorfiles NAME [CODE…]`
//! (pages of an `http-errors` section) and `http-error status CODE …` (a reply like
//! `http-request return`'s). The lines are kept in order; the runtime resolves them
//! after parsing, a later line overriding an earlier one for the same status, as
//! HAProxy 2.6 does (`proxy_finalize_http_errors()`).

use crate::config::keyword::{ALL, ProxyCtx, ProxyKeyword, kw, max_args};
use crate::config::model::{ErrorDirective, ErrorPageSpec, Reply, ReturnBody};
use crate::config::semantics::{FormatContext, Semantics};
use std::path::PathBuf;

/// Status codes HAProxy 2.6 generates, the ones `errorfile`, `errorfiles` and
/// `http-error` may replace.
pub const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// Reads the file of `errorfile CODE FILE` (a proxy's or an `http-errors` section's):
/// the status must be one HAProxy generates, the file a complete HTTP response.
/// `path` is the file name resolved against `default-path`. Errors are HAProxy's
/// wording without the keyword.
pub fn read_errorfile(
    code: &str,
    file: &str,
    path: PathBuf,
    sem: &dyn Semantics,
) -> Result<(u16, Option<Reply>), String> {
    let status = code
        .parse()
        .ok()
        .filter(|c| ERRORFILE_CODES.contains(c))
        .ok_or_else(|| format!("status code '{code}' not handled."))?;
    let content = std::fs::read(path).map_err(|_| format!("error opening file '{file}'."))?;
    // HAProxy parses the file now and refuses one that is not a complete response.
    let reply = sem
        .errorfile(&content)
        .map_err(|e| format!("'{file}': {e}"))?;
    Ok((status, reply))
}

fn errorfile(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    max_args(words, 1, 2)?;
    let (code, file) = match (words.get(1), words.get(2)) {
        (Some(c), Some(f)) => (c, f),
        _ => return Err("errorfile : <code> and <file> expected.".into()),
    };
    let (status, reply) = read_errorfile(code, file, ctx.resolve(file), ctx.sem)
        .map_err(|e| format!("errorfile : {e}"))?;
    ctx.proxy.errorfiles.push(ErrorDirective::Page {
        status,
        page: ErrorPageSpec::File(reply),
        span: ctx.span.clone(),
    });
    Ok(())
}

fn errorfiles(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let name = words
        .get(1)
        .ok_or("errorfiles : expects <name> as argument.")?;
    let codes = words[2..]
        .iter()
        .map(|c| {
            c.parse()
                .ok()
                .filter(|c| ERRORFILE_CODES.contains(c))
                .ok_or_else(|| format!("errorfiles : status code '{c}' not handled."))
        })
        .collect::<Result<Vec<u16>, String>>()?;
    ctx.proxy.errorfiles.push(ErrorDirective::Import {
        section: name.clone(),
        codes,
        span: ctx.span.clone(),
    });
    Ok(())
}

/// The payload an `http-error` line chose (HAProxy allows one).
enum Payload {
    None,
    Default,
    ErrorFile(Option<Reply>),
    Section(String),
    Body(ReturnBody),
}

/// `http-error status CODE [content-type T] [default-errorfiles | errorfile F |
/// errorfiles NAME | file F | lf-file F | string S | lf-string FMT] [hdr NAME FMT]…`.
fn http_error(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let e = |m: String| format!("http-error : {m}");
    let mut status: Option<u16> = None;
    let mut content_type: Option<String> = None;
    let mut payload = Payload::None;
    let mut chosen: Option<&str> = None;
    let mut headers = Vec::new();
    let mut i = 1;
    let arg = |i: usize, what: &str| -> Result<&String, String> {
        words
            .get(i + 1)
            .ok_or_else(|| e(format!("'{}' expects <{what}> as argument", words[i])))
    };
    let check_fmt = |ctx: &ProxyCtx<'_>, f: &str| {
        ctx.sem
            .log_format(f, FormatContext::HttpRequest)
            .map_err(|m| {
                format!(
                    "error detected in {} '{}' while parsing 'http-error' rule : {m}.",
                    ctx.proxy.kind.keyword(),
                    ctx.proxy.name
                )
            })
    };
    while i < words.len() {
        let w = words[i].as_str();
        let one_payload = |chosen: Option<&str>| match chosen {
            Some(prev) => Err(e(format!(
                "unexpected '{w}' argument, '{prev}' already defined"
            ))),
            None => Ok(()),
        };
        match w {
            "status" => {
                let v = arg(i, "status_code")?;
                let s: u16 = v.parse().unwrap_or(0);
                if !(200..=599).contains(&s) {
                    return Err(e(format!("Unexpected status code '{s}'")));
                }
                status = Some(s);
                i += 2;
            }
            "content-type" => {
                content_type = Some(arg(i, "ctype")?.clone());
                i += 2;
            }
            "default-errorfiles" => {
                one_payload(chosen)?;
                chosen = Some("default-errorfiles");
                payload = Payload::Default;
                i += 1;
            }
            "errorfile" => {
                one_payload(chosen)?;
                chosen = Some("errorfile");
                let f = arg(i, "fmt")?;
                let data = std::fs::read(ctx.resolve(f))
                    .map_err(|_| e(format!("error opening file '{f}'.")))?;
                let reply = ctx
                    .sem
                    .errorfile(&data)
                    .map_err(|m| e(format!("'{f}': {m}")))?;
                payload = Payload::ErrorFile(reply);
                i += 2;
            }
            "errorfiles" => {
                one_payload(chosen)?;
                chosen = Some("errorfiles");
                payload = Payload::Section(arg(i, "name")?.clone());
                i += 2;
            }
            "file" | "lf-file" => {
                one_payload(chosen)?;
                chosen = Some(if w == "file" { "file" } else { "lf-file" });
                let f = arg(i, "file")?;
                let data = std::fs::read(ctx.resolve(f))
                    .map_err(|_| e(format!("error opening file '{f}'")))?;
                payload = Payload::Body(if w == "file" {
                    ReturnBody::File(data)
                } else {
                    let text = String::from_utf8(data)
                        .map_err(|_| e(format!("file '{f}' is not valid UTF-8 text")))?;
                    check_fmt(ctx, &text)?;
                    ReturnBody::LfString(text)
                });
                i += 2;
            }
            "string" => {
                one_payload(chosen)?;
                chosen = Some("string");
                payload = Payload::Body(ReturnBody::String(arg(i, "str")?.clone()));
                i += 2;
            }
            "lf-string" => {
                one_payload(chosen)?;
                chosen = Some("lf-string");
                let f = arg(i, "fmt")?;
                check_fmt(ctx, f)?;
                payload = Payload::Body(ReturnBody::LfString(f.clone()));
                i += 2;
            }
            "hdr" => {
                let (Some(n), Some(v)) = (words.get(i + 1), words.get(i + 2)) else {
                    return Err(e("'hdr' expects <name> and <value> as arguments".into()));
                };
                check_fmt(ctx, v)?;
                headers.push((n.clone(), v.clone()));
                i += 3;
            }
            x => return Err(e(format!("unknown keyword '{x}'."))),
        }
    }
    let status = status.ok_or_else(|| e("expects at least a <status> as arguments.".into()))?;
    if !ERRORFILE_CODES.contains(&status) {
        return Err(format!("http-error: status code '{status}' not handled."));
    }
    let span = ctx.span.clone();
    let with_file = |ctx: &mut ProxyCtx<'_>| {
        if let Some(ct) = &content_type {
            ctx.warn(format!(
                "content-type '{ct}' ignored by the http reply when used with an errorfile."
            ));
        }
        if !headers.is_empty() {
            ctx.warn("hdr parameters ignored by the http reply when used with an errorfile.");
        }
    };
    let page = match payload {
        Payload::Section(section) => {
            with_file(ctx);
            ctx.proxy.errorfiles.push(ErrorDirective::Import {
                section,
                codes: vec![status],
                span,
            });
            return Ok(());
        }
        Payload::Default => {
            with_file(ctx);
            ErrorPageSpec::Default
        }
        Payload::ErrorFile(r) => {
            with_file(ctx);
            ErrorPageSpec::File(r)
        }
        Payload::None => {
            if let Some(ct) = &content_type {
                ctx.warn(format!(
                    "content-type '{ct}' ignored by the http reply because neither errorfile nor payload defined."
                ));
            }
            ErrorPageSpec::Reply {
                content_type: None,
                body: ReturnBody::None,
                headers,
            }
        }
        Payload::Body(body) => {
            let empty = match &body {
                ReturnBody::String(s) => s.is_empty(),
                ReturnBody::File(f) => f.is_empty(),
                _ => false,
            };
            if matches!(body, ReturnBody::LfString(_)) && content_type.is_none() {
                return Err(e(
                    "a content type must be defined with a log-format payload".into(),
                ));
            }
            if !empty && content_type.is_none() {
                return Err(e(
                    "a content type must be defined when non-empty payload is configured".into(),
                ));
            }
            ErrorPageSpec::Reply {
                content_type: content_type.filter(|_| !empty),
                body,
                headers,
            }
        }
    };
    ctx.proxy
        .errorfiles
        .push(ErrorDirective::Page { status, page, span });
    Ok(())
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[
    kw(
        "errorfile",
        ALL,
        errorfile,
        "replace a default error response by a file",
    ),
    kw(
        "errorfiles",
        ALL,
        errorfiles,
        "import the error files of an http-errors section",
    ),
    kw(
        "http-error",
        ALL,
        http_error,
        "replace a default error response by a custom reply",
    ),
];
