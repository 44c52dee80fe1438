//! `global` tuning keywords of HAProxy's internals (its allocator, poller, scheduler,
//! OpenSSL session cache) that have no meaning in gatehouse's design. An operator's
//! existing configuration should load: their arguments are checked as HAProxy 2.6
//! checks them, then they are ignored with a warning giving the reason. Tunables that a
//! user would expect to act in gatehouse too (buffer limits, socket buffers, HTTP/2,
//! TLS record sizes, splice, …) are not here: they stay refused as not yet.

use crate::config::diag::Diag;
use crate::config::keyword::{GlobalKeyword, GlobalParse, Status};
use crate::config::span::Span;

type R = Result<(), String>;

/// Refuses words after the first `n` arguments, with HAProxy's message.
fn at_most(w: &[String], n: usize) -> R {
    match w.get(1 + n) {
        Some(x) => Err(format!(
            "'{}' cannot handle unexpected argument '{x}'.",
            w[0]
        )),
        None => Ok(()),
    }
}

/// `on` or `off`, as HAProxy's `tune.*` switches.
fn on_off(_: &mut crate::config::model::Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    at_most(w, 1)?;
    match w.get(1).map(String::as_str) {
        Some("on" | "off") => Ok(()),
        other => Err(format!(
            "'{}' expects either 'on' or 'off' but got '{}'.",
            w[0],
            other.unwrap_or("")
        )),
    }
}

/// One integer argument; HAProxy reads it with `atoi` (any word is accepted once present).
fn integer(_: &mut crate::config::model::Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    at_most(w, 1)?;
    if w.get(1).is_none_or(String::is_empty) {
        return Err(format!("'{}' expects an integer argument.", w[0]));
    }
    Ok(())
}

/// HAProxy's `atoi`: the leading optional sign and digits, else 0.
fn atoi(s: &str) -> i64 {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .take(18)
        .fold(0, |n, b| n * 10 + i64::from(b - b'0'));
    if neg { -n } else { n }
}

/// An integer that must be positive (`tune.ssl.capture-buffer-size`).
fn positive(g: &mut crate::config::model::Global, w: &[String], s: &Span, d: &mut Vec<Diag>) -> R {
    integer(g, w, s, d)?;
    if atoi(&w[1]) < 0 {
        return Err(format!("'{}' expects a positive numeric value.", w[0]));
    }
    Ok(())
}

/// `tune.ssl.capture-cipherlist-size`: HAProxy's deprecation warning, then as
/// `tune.ssl.capture-buffer-size`.
fn capture_cipherlist(
    g: &mut crate::config::model::Global,
    w: &[String],
    s: &Span,
    d: &mut Vec<Diag>,
) -> R {
    d.push(Diag::warning(
        s,
        "'tune.ssl.capture-cipherlist-size' is deprecated and will be removed in version 2.7. Please use 'tune.ssl.capture-buffer-size' instead.",
    ));
    positive(g, w, s, d)
}

/// `tune.pattern.cache-size`: a positive number (HAProxy ignores further words).
fn cache_size(
    _: &mut crate::config::model::Global,
    w: &[String],
    _: &Span,
    _: &mut Vec<Diag>,
) -> R {
    match w.get(1) {
        Some(v) if !v.starts_with('-') && !v.is_empty() => Ok(()),
        _ => Err(format!("'{}' expects a positive numeric value", w[0])),
    }
}

/// `tune.ssl.default-dh-param`: at least 1024.
fn dh_param(g: &mut crate::config::model::Global, w: &[String], s: &Span, d: &mut Vec<Diag>) -> R {
    integer(g, w, s, d)?;
    if atoi(&w[1]) < 1024 {
        return Err(format!("'{}' expects a value >= 1024.", w[0]));
    }
    Ok(())
}

/// `ssl-dh-param-file FILE`: a readable PEM file of DH parameters, as HAProxy loads it.
fn dh_param_file(
    _: &mut crate::config::model::Global,
    w: &[String],
    _: &Span,
    _: &mut Vec<Diag>,
) -> R {
    at_most(w, 1)?;
    let file = w
        .get(1)
        .ok_or_else(|| format!("'{}' : missing file path", w[0]))?;
    match std::fs::read_to_string(file) {
        Ok(pem) if pem.contains("-----BEGIN DH PARAMETERS-----") => Ok(()),
        _ => Err(format!(
            "'{}' : unable to load DH parameters from file '{file}'.",
            w[0]
        )),
    }
}

/// `tune.fail-alloc [PERCENT]`: 0 to 100.
fn fail_alloc(
    _: &mut crate::config::model::Global,
    w: &[String],
    _: &Span,
    _: &mut Vec<Diag>,
) -> R {
    at_most(w, 1)?;
    match w.get(1).map(|v| atoi(v)) {
        Some(n) if !(0..=100).contains(&n) => Err(format!(
            "'{}' expects a numeric value between 0 and 100.",
            w[0]
        )),
        _ => Ok(()),
    }
}

/// No argument.
fn none(_: &mut crate::config::model::Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    at_most(w, 0)
}

const fn ig(name: &'static str, parse: GlobalParse, why: &'static str) -> GlobalKeyword {
    GlobalKeyword {
        name,
        status: Status::Ignored(why),
        parse: Some(parse),
        help: why,
    }
}

const POLLER: &str = "its event loop is tokio's (epoll), with no poller to choose";
const SSL_CAPTURE: &str =
    "it sizes HAProxy's OpenSSL capture of client hellos, which gatehouse's TLS does not keep";

/// The ignored `global` keywords.
pub static KEYWORDS: &[GlobalKeyword] = &[
    ig("noepoll", none, POLLER),
    ig("noevports", none, POLLER),
    ig("nokqueue", none, POLLER),
    ig("nopoll", none, POLLER),
    ig(
        "tune.buffers.reserve",
        integer,
        "it reserves buffers of HAProxy's pool allocator for allocation failures",
    ),
    ig(
        "tune.fail-alloc",
        fail_alloc,
        "it injects failures into HAProxy's pool allocator (a debugging aid)",
    ),
    ig(
        "tune.idle-pool.shared",
        on_off,
        "it chooses whether HAProxy's threads share their idle server connections",
    ),
    ig(
        "tune.listener.multi-queue",
        on_off,
        "it tunes how HAProxy dispatches accepted connections to its threads",
    ),
    ig(
        "tune.maxpollevents",
        integer,
        "it sizes the batches of HAProxy's poller",
    ),
    ig(
        "tune.pattern.cache-size",
        cache_size,
        "it sizes HAProxy's cache of pattern lookups, which gatehouse's ACL engine does not have",
    ),
    ig(
        "tune.recv_enough",
        integer,
        "it tunes when HAProxy's read loop stops reading a socket",
    ),
    ig(
        "tune.runqueue-depth",
        integer,
        "it sizes the batches of HAProxy's task scheduler",
    ),
    ig(
        "tune.sched.low-latency",
        on_off,
        "it sets priorities in HAProxy's task scheduler",
    ),
    ig("tune.ssl.capture-buffer-size", positive, SSL_CAPTURE),
    ig(
        "tune.ssl.capture-cipherlist-size",
        capture_cipherlist,
        SSL_CAPTURE,
    ),
    ig(
        "tune.ssl.default-dh-param",
        dh_param,
        "it sizes OpenSSL's DHE parameters, and gatehouse's TLS (rustls) has no DHE",
    ),
    ig(
        "ssl-dh-param-file",
        dh_param_file,
        "gatehouse's TLS (rustls) negotiates ECDHE key exchanges only (X25519, P-256, P-384), never DHE",
    ),
    ig(
        "tune.ssl.force-private-cache",
        none,
        "it keeps OpenSSL's session cache private to each HAProxy process, and gatehouse is one process",
    ),
];
