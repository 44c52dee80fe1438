//! The `global` TLS defaults: `ssl-default-bind-*`, `ssl-default-server-*` and
//! `ssl-server-verify`. They are applied where bind and server lines are compiled
//! (`crate::tls`), to the lines that do not set their own.

use super::super::diag::Diag;
use super::super::keyword::GlobalKeyword;
use super::super::model::{Global, TlsVersions, Verify, apply_version_option, version_option_args};
use super::super::span::Span;
use super::{one_arg, sup};

type R = Result<(), String>;

/// Applies the words of an `ssl-default-*-options` line; `extra` handles the options
/// that are not version options (returns `false` for an unknown one).
fn options(w: &[String], v: &mut TlsVersions, mut extra: impl FnMut(&str) -> bool) -> R {
    let mut i = 1;
    while let Some(opt) = w.get(i) {
        let n = version_option_args(opt);
        let value = if n == 1 {
            w.get(i + 1)
                .ok_or_else(|| format!("'{}' : missing the version for '{opt}'.", w[0]))?
                .as_str()
        } else {
            ""
        };
        if !apply_version_option(v, opt, value).map_err(|e| format!("'{}' : {e}", w[0]))?
            && !extra(opt)
        {
            return Err(format!(
                "'{}' : unknown or unsupported option '{opt}'.",
                w[0]
            ));
        }
        i += 1 + n;
    }
    Ok(())
}

fn bind_options(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let d = &mut g.ssl_bind;
    let (mut prefer, mut strict) = (d.prefer_client_ciphers, d.strict_sni);
    options(w, &mut d.versions, |o| match o {
        "prefer-client-ciphers" => {
            prefer = true;
            true
        }
        "strict-sni" => {
            strict = true;
            true
        }
        _ => false,
    })?;
    (d.prefer_client_ciphers, d.strict_sni) = (prefer, strict);
    Ok(())
}

fn server_options(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    options(w, &mut g.ssl_server.versions, |_| false)
}

fn bind_ciphers(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.ssl_bind.ciphers = Some(one_arg(w)?.to_owned());
    Ok(())
}

fn bind_ciphersuites(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.ssl_bind.ciphersuites = Some(one_arg(w)?.to_owned());
    Ok(())
}

fn bind_curves(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.ssl_bind.curves = Some(one_arg(w)?.to_owned());
    Ok(())
}

fn cachesize(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.ssl_bind.cachesize = Some(super::super::value::uint(one_arg(w)?, w[0].as_str())?);
    Ok(())
}

fn server_ciphers(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.ssl_server.ciphers = Some(one_arg(w)?.to_owned());
    Ok(())
}

fn server_ciphersuites(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.ssl_server.ciphersuites = Some(one_arg(w)?.to_owned());
    Ok(())
}

fn server_verify(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let v = one_arg(w)?;
    g.ssl_server.verify = Some(Verify::parse(v, false).ok_or_else(|| {
        format!(
            "'{}' : unknown verify method '{v}', only 'none' and 'required' are supported.",
            w[0]
        )
    })?);
    Ok(())
}

/// The TLS defaults of the `global` section.
pub static KEYWORDS: &[GlobalKeyword] = &[
    sup(
        "ssl-default-bind-options",
        bind_options,
        "version options (ssl-min-ver, no-tlsv13, …) of every ssl bind line",
    ),
    sup(
        "ssl-default-bind-ciphers",
        bind_ciphers,
        "TLSv1.2 ciphers of ssl bind lines without their own",
    ),
    sup(
        "ssl-default-bind-ciphersuites",
        bind_ciphersuites,
        "TLSv1.3 suites of ssl bind lines without their own",
    ),
    sup(
        "ssl-default-bind-curves",
        bind_curves,
        "key-exchange groups of ssl bind lines without their own 'curves'",
    ),
    sup(
        "tune.ssl.cachesize",
        cachesize,
        "sessions each ssl bind keeps for resumption (20000; 0: none)",
    ),
    sup(
        "ssl-default-server-options",
        server_options,
        "version options of every ssl server line",
    ),
    sup(
        "ssl-default-server-ciphers",
        server_ciphers,
        "TLSv1.2 ciphers of ssl server lines without their own",
    ),
    sup(
        "ssl-default-server-ciphersuites",
        server_ciphersuites,
        "TLSv1.3 suites of ssl server lines without their own",
    ),
    sup(
        "ssl-server-verify",
        server_verify,
        "default 'verify' of ssl server lines (required)",
    ),
];
