//! The `http-errors NAME` section and its `errorfile CODE FILE` lines: named sets of
//! error pages that proxies import with `errorfiles NAME [CODE…]` or `http-error status
//! CODE errorfiles NAME` (resolved after parsing: `validate.rs`, `runtime::errors`).

use super::diag::Diag;
use super::model::{Config, ErrorFile, HttpAction, HttpErrors, ReturnBody};
use super::semantics::Semantics;
use super::span::Span;
use std::path::Path;

/// Opens an `http-errors` section: its name must be valid and not taken. `Err`: the
/// alert, and whether the section's lines are still read (HAProxy goes on after a bad
/// character or a duplicate, not after a missing name).
pub fn open(
    sections: &[HttpErrors],
    words: &[String],
    span: &Span,
) -> Result<HttpErrors, (String, bool)> {
    let name = words
        .get(1)
        .ok_or_else(|| ("missing name for http-errors section.".to_string(), false))?;
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
    {
        return Err((
            format!("character '{c}' is not permitted in 'http-errors' name '{name}'."),
            true,
        ));
    }
    if let Some(prev) = sections.iter().find(|s| &s.name == name) {
        return Err((
            format!(
                "http-errors section '{name}' already exists (declared at {}).",
                prev.span
            ),
            true,
        ));
    }
    Ok(HttpErrors {
        name: name.clone(),
        span: span.clone(),
        pages: Vec::new(),
    })
}

/// One line of an `http-errors` section: `errorfile CODE FILE`.
pub fn line(
    section: &mut HttpErrors,
    words: &[String],
    span: &Span,
    base_dir: Option<&Path>,
    sem: &dyn Semantics,
) -> Result<(), String> {
    if words[0] != "errorfile" {
        return Err(format!(
            "unknown keyword '{}' in 'http-errors' section",
            words[0]
        ));
    }
    let (Some(code), Some(file)) = (words.get(1), words.get(2)) else {
        return Err("errorfile: expects <status_code> and <file> as arguments.".into());
    };
    let path = match base_dir {
        Some(dir) if !file.starts_with('/') => dir.join(file),
        _ => file.into(),
    };
    let (status, reply) = super::proxy::errors::read_errorfile(code, file, path, sem)
        .map_err(|e| format!("errorfile : {e}"))?;
    section.pages.push(ErrorFile {
        status,
        reply,
        span: span.clone(),
    });
    Ok(())
}

/// Resolves the `errorfiles NAME` of `return` rules once every section is known (as
/// HAProxy's `http_check_http_reply()`): the section's page for the status, else an
/// empty reply of that status (with HAProxy's warning); an unknown section is an alert.
pub fn resolve_replies(config: &mut Config, diags: &mut Vec<Diag>) {
    let sections = &config.http_errors;
    for p in &mut config.proxies {
        let name = p.name.clone();
        for r in p.http_request.iter_mut().chain(p.http_response.iter_mut()) {
            let HttpAction::Return { status, body, .. } = &mut r.action else {
                continue;
            };
            let ReturnBody::Section(section) = body else {
                continue;
            };
            match sections.iter().find(|s| &s.name == section) {
                None => diags.push(Diag::alert(
                    &r.span,
                    format!("unknown http-errors section '{section}' referenced by an http reply"),
                )),
                Some(s) => match s.page(*status) {
                    Some(page) => *body = ReturnBody::ErrorFile(page.reply.clone()),
                    None => {
                        diags.push(Diag::warning(
                            &r.span,
                            format!(
                                "Proxy '{name}': status '{status}' referenced by an http reply not declared in http-errors section '{section}'."
                            ),
                        ));
                        // HAProxy then sends the status alone, without a payload.
                        *body = ReturnBody::None;
                    }
                },
            }
        }
    }
}
