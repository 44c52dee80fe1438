//! The `global` section's keywords. Several `global` sections merge, as in HAProxy.

mod h2;
mod ignored;
mod notyet;
mod tls;

use super::diag::Diag;
use super::keyword::{GlobalKeyword, Status};
use super::logline;
use super::model::{DefaultPath, EnvChange, Global, StatsSocket};
use super::span::Span;
use super::value::{duration, size, uint};

type R = Result<(), String>;

pub(super) fn one_arg(w: &[String]) -> Result<&str, String> {
    match (w.get(1), w.get(2)) {
        (Some(v), None) => Ok(v),
        (None, _) => Err(format!("'{}' expects an argument.", w[0])),
        (Some(_), Some(x)) => Err(format!(
            "'{}' cannot handle unexpected argument '{x}'.",
            w[0]
        )),
    }
}

fn nbthread(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let n = uint(one_arg(w)?, "nbthread")?;
    // HAProxy 2.6's MAX_THREADS on 64-bit builds.
    if n == 0 || n > 64 {
        return Err(format!(
            "'nbthread' value must be between 1 and 64 (was {n})"
        ));
    }
    g.nbthread = Some(n);
    Ok(())
}

/// HAProxy's answer to a second `maxconn`/`pidfile`/`log-send-hostname` (even in another
/// `global` section): an alert that does not stop the load, the first value kept.
/// gatehouse has no non-fatal alert, so it is a warning with HAProxy's words.
fn already(w: &[String], span: &Span, diags: &mut Vec<Diag>) {
    diags.push(Diag::warning(
        span,
        format!("'{}' already specified. Continuing.", w[0]),
    ));
}

/// `busy-polling` and `no busy-polling`: no argument, the last one wins.
fn busy_polling(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let (on, n) = if w[0] == "no" { (false, 2) } else { (true, 1) };
    if let Some(x) = w.get(n) {
        return Err(format!(
            "'{}' cannot handle unexpected argument '{x}'.",
            w[..n].join(" ")
        ));
    }
    g.busy_polling = on;
    Ok(())
}

fn maxconn(g: &mut Global, w: &[String], span: &Span, diags: &mut Vec<Diag>) -> R {
    if g.maxconn.is_some() {
        already(w, span, diags);
        return Ok(());
    }
    g.maxconn = Some(uint(one_arg(w)?, "maxconn")?);
    Ok(())
}

/// `spread-checks <0..50>`: random ± percent on each check interval.
fn spread_checks(g: &mut Global, w: &[String], span: &Span, diags: &mut Vec<Diag>) -> R {
    if g.spread_checks != 0 {
        diags.push(Diag::warning(
            span,
            "spread-checks already specified. Continuing.",
        ));
        return Ok(());
    }
    let v = w
        .get(1)
        .ok_or("'spread-checks' expects an integer argument (0..50).")?;
    // atol(): leading digits, 0 when none.
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().unwrap_or(0);
    if v.starts_with('-') && n > 0 || n > 50 {
        return Err("'spread-checks' needs a positive value in range 0..50.".into());
    }
    if let Some(x) = w.get(2) {
        return Err(format!(
            "'spread-checks' cannot handle unexpected argument '{x}'."
        ));
    }
    g.spread_checks = n as u32;
    Ok(())
}

fn daemon(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    if let Some(x) = w.get(1) {
        return Err(format!("'daemon' cannot handle unexpected argument '{x}'."));
    }
    g.daemon = true;
    Ok(())
}

fn pidfile(g: &mut Global, w: &[String], span: &Span, diags: &mut Vec<Diag>) -> R {
    if g.pidfile.is_some() {
        already(w, span, diags);
        return Ok(());
    }
    g.pidfile = Some(one_arg(w)?.into());
    Ok(())
}

fn log(g: &mut Global, w: &[String], span: &Span, _: &mut Vec<Diag>) -> R {
    g.logs.push(logline::parse(w, span)?);
    Ok(())
}

fn log_tag(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.log_tag = Some(one_arg(w)?.to_owned());
    Ok(())
}

fn log_send_hostname(g: &mut Global, w: &[String], span: &Span, diags: &mut Vec<Diag>) -> R {
    if g.log_send_hostname.is_some() {
        already(w, span, diags);
        return Ok(());
    }
    g.log_send_hostname = Some(w.get(1).cloned().unwrap_or_default());
    Ok(())
}

fn tune_bufsize(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let n = size(one_arg(w)?, "tune.bufsize")? as usize;
    if !(1024..=(1 << 30)).contains(&n) {
        return Err("tune.bufsize: value out of range (1024..1073741824).".into());
    }
    g.tune_bufsize = n;
    Ok(())
}

fn tune_maxrewrite(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.tune_maxrewrite = size(one_arg(w)?, "tune.maxrewrite")? as usize;
    Ok(())
}

fn stats_socket(g: &mut Global, w: &[String], span: &Span, _: &mut Vec<Diag>) -> R {
    let addr_word = w
        .get(2)
        .ok_or("'stats socket' expects an address or a path.")?;
    let addr = super::value::bind_addr(addr_word).map_err(|e| format!("'stats socket' : {e}"))?;
    // HAProxy's default level is `operator`.
    let mut level = "operator".to_string();
    let mut expose = false;
    let mut options = Vec::new();
    let mut i = 3;
    while let Some(o) = w.get(i) {
        match o.as_str() {
            "level" => {
                let v = w
                    .get(i + 1)
                    .ok_or("'level' expects 'user', 'operator' or 'admin'.")?;
                if !["user", "operator", "admin"].contains(&v.as_str()) {
                    return Err(format!(
                        "'level' only supports 'user', 'operator', and 'admin' (got '{v}')."
                    ));
                }
                level = v.clone();
                i += 2;
            }
            "expose-fd" => {
                if w.get(i + 1).map(String::as_str) != Some("listeners") {
                    return Err("'expose-fd' only supports 'listeners'.".into());
                }
                expose = true;
                i += 2;
            }
            "mode" | "user" | "group" | "uid" | "gid" | "name" | "maxconn" | "backlog" => {
                let v = socket_option(o, w.get(i + 1))?;
                options.push((o.clone(), v));
                i += 2;
            }
            x => {
                return Err(format!(
                    "'stats socket' : keyword '{x}' is not supported yet by gatehouse."
                ));
            }
        }
    }
    g.stats_sockets.push(StatsSocket {
        addr,
        level,
        expose_fd_listeners: expose,
        options,
        span: span.clone(),
    });
    Ok(())
}

/// Checks the value of a `stats socket` bind option as HAProxy does (its messages,
/// quoted inside the `'stats socket' : '…'` HAProxy wraps them in).
fn socket_option(o: &str, v: Option<&String>) -> Result<String, String> {
    let wrap = |m: String| format!("'stats socket' : ''{o}' : {m}'");
    let v = match (o, v) {
        ("mode", v) => {
            let v = v.map(String::as_str).unwrap_or("");
            if v.is_empty() || !v.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(wrap(format!(
                    "missing or invalid mode '{v}' (octal integer expected)"
                )));
            }
            v
        }
        (_, Some(v)) => v.as_str(),
        ("name", None) => return Err(wrap("missing name".into())),
        (_, None) => return Err(wrap(format!("missing {o}"))),
    };
    if ["uid", "gid", "maxconn", "backlog"].contains(&o) {
        uint(v, o).map_err(|e| format!("'stats socket' : {e}"))?;
    }
    Ok(v.to_owned())
}

fn stats_timeout(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let v = w.get(2).ok_or("'stats timeout' expects a delay.")?;
    g.stats_timeout = Some(duration(v, "stats timeout")?);
    Ok(())
}

/// `grace <time>`: the delay between SIGUSR1 and the soft stop (listeners go on
/// accepting meanwhile).
fn grace(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let v = w.get(1).ok_or("'grace' expects <time> as argument.")?;
    g.grace = Some(duration(v, "grace")?);
    Ok(())
}

/// `hard-stop-after <time>`: the longest a soft stop may last.
fn hard_stop_after(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let v = w
        .get(1)
        .ok_or("'hard-stop-after' expects <time> as argument.")?;
    g.hard_stop_after = Some(duration(v, "hard-stop-after")?);
    Ok(())
}

/// `server-state-file <file>` and `server-state-base <dir>`: HAProxy's messages; a
/// second one is an alert that keeps the first (a warning here, as `maxconn`'s).
fn server_state(g: &mut Global, w: &[String], span: &Span, diags: &mut Vec<Diag>) -> R {
    let base = w[0] == "server-state-base";
    let slot = if base {
        &mut g.server_state_base
    } else {
        &mut g.server_state_file
    };
    if slot.is_some() {
        already(w, span, diags);
        return Ok(());
    }
    match w.get(1) {
        Some(v) if !v.is_empty() => {
            *slot = Some(v.clone());
            Ok(())
        }
        _ => Err(format!(
            "'{}' expects one argument: a {} path.",
            w[0],
            if base { "directory" } else { "file" }
        )),
    }
}

fn user(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let name = one_arg(w)?;
    // Resolved at parse time, as HAProxy does (its message ends with errno's text).
    user_id(name).ok_or_else(|| format!("cannot find user id for '{name}' (0:Success)"))?;
    g.user = Some(name.to_owned());
    Ok(())
}

fn group(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let name = one_arg(w)?;
    group_id(name).ok_or_else(|| format!("cannot find group id for '{name}' (0:Success)"))?;
    g.group = Some(name.to_owned());
    Ok(())
}

/// The uid of a user name from the system's user database (`/etc/passwd`, NSS).
pub fn user_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: a zeroed passwd is a valid out-parameter; getpwnam_r writes only into it and
    // into `buf`, whose length we pass; `res` points to `pw` or is null on failure.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16384];
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut res,
        );
        (rc == 0 && !res.is_null()).then_some(pw.pw_uid)
    }
}

/// The gid of a group name from the system's group database (`/etc/group`, NSS).
pub fn group_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: as in `user_id`, with getgrnam_r and a group record.
    unsafe {
        let mut gr: libc::group = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16384];
        let mut res: *mut libc::group = std::ptr::null_mut();
        let rc = libc::getgrnam_r(
            cname.as_ptr(),
            &mut gr,
            buf.as_mut_ptr(),
            buf.len(),
            &mut res,
        );
        (rc == 0 && !res.is_null()).then_some(gr.gr_gid)
    }
}

fn chroot(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.chroot = Some(one_arg(w)?.into());
    Ok(())
}
fn node(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.node = Some(one_arg(w)?.to_owned());
    Ok(())
}

fn setenv_like(g: &mut Global, w: &[String], overwrite: bool) -> R {
    // HAProxy ignores words after the value.
    let (Some(name), Some(value)) = (w.get(1), w.get(2)) else {
        return Err(format!("'{}' expects a name and a value.", w[0]));
    };
    g.env_changes.push(EnvChange::Set {
        name: name.clone(),
        value: value.clone(),
        overwrite,
    });
    Ok(())
}

fn setenv(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    setenv_like(g, w, true)
}

fn presetenv(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    setenv_like(g, w, false)
}

fn unsetenv(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    if w.len() < 2 {
        return Err("'unsetenv' expects at least one variable name.".into());
    }
    g.env_changes.push(EnvChange::Unset(w[1..].to_vec()));
    Ok(())
}

fn resetenv(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.env_changes.push(EnvChange::Reset(w[1..].to_vec()));
    Ok(())
}

fn default_path(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    // Like HAProxy, words after the mode (or after origin's path) are ignored.
    let mode = w.get(1).map(String::as_str).unwrap_or("");
    const MODES: &str = "supported modes include 'current', 'config', 'parent', and 'origin'";
    g.default_path = match mode {
        "current" => DefaultPath::Current,
        "config" => DefaultPath::Config,
        "parent" => DefaultPath::Parent,
        "origin" => match w.get(2).filter(|p| !p.is_empty()) {
            Some(p) => DefaultPath::Origin(p.into()),
            None => return Err("'default-path origin' expects a directory as an argument.".into()),
        },
        "" => {
            return Err(format!(
                "missing default-path mode '' for 'default-path', {MODES}."
            ));
        }
        m => {
            return Err(format!(
                "unsupported default-path mode '{m}' for 'default-path', {MODES}."
            ));
        }
    };
    Ok(())
}

/// `ca-base`/`crt-base DIR`: a second one is an error, as in HAProxy.
fn base_dir(slot: &mut Option<String>, w: &[String]) -> R {
    if slot.is_some() {
        return Err(format!("'{}' already specified.", w[0]));
    }
    super::keyword::max_args(w, 1, 1)?;
    match w.get(1) {
        Some(d) => *slot = Some(d.clone()),
        None => {
            return Err(format!(
                "global statement '{}' expects a directory path as an argument.",
                w[0]
            ));
        }
    }
    Ok(())
}

fn ca_base(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    base_dir(&mut g.ca_base, w)
}

fn crt_base(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    base_dir(&mut g.crt_base, w)
}

fn description(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    if w.len() < 2 {
        return Err("'description' expects a string argument.".into());
    }
    g.description = Some(w[1..].join(" "));
    Ok(())
}

/// `master-worker [no-exit-on-failure]`: master-worker mode, as `-W`; with
/// `no-exit-on-failure`, a current worker that fails leaves the former ones serving.
fn master_worker(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    match w.get(1).map(String::as_str) {
        None => {}
        Some("no-exit-on-failure") => g.no_exit_on_failure = true,
        Some(_) => {
            return Err("'master-worker' only supports 'no-exit-on-failure' option.".into());
        }
    }
    g.master_worker = true;
    Ok(())
}

/// `set-var proc.NAME EXPR` / `set-var-fmt proc.NAME FMT` (HAProxy's messages).
fn set_var(g: &mut Global, w: &[String], span: &Span, _: &mut Vec<Diag>) -> R {
    let fmt = w[0] == "set-var-fmt";
    let (Some(name), Some(expr)) = (w.get(1), w.get(2)) else {
        return Err(format!(
            "'{}' requires a process-wide variable name ('proc.<name>') and a {}.",
            w[0],
            if fmt {
                "format string"
            } else {
                "sample expression"
            }
        ));
    };
    if !name.starts_with("proc.") || name.len() <= 5 {
        return Err(format!(
            "'{}': cannot set variable '{name}', only scope 'proc' is permitted in the global section.",
            w[0]
        ));
    }
    g.set_vars.push(crate::config::model::GlobalVar {
        name: name.clone(),
        expr: expr.clone(),
        fmt,
        span: span.clone(),
    });
    Ok(())
}

/// `expose-experimental-directives`.
fn expose_experimental(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    if let Some(x) = w.get(1) {
        return Err(format!(
            "'expose-experimental-directives' cannot handle unexpected argument '{x}'."
        ));
    }
    g.expose_experimental = true;
    Ok(())
}

pub(super) const fn sup(
    name: &'static str,
    parse: super::keyword::GlobalParse,
    help: &'static str,
) -> GlobalKeyword {
    GlobalKeyword {
        name,
        status: Status::Supported,
        parse: Some(parse),
        help,
    }
}

pub(super) const fn ny(name: &'static str) -> GlobalKeyword {
    GlobalKeyword {
        name,
        status: Status::NotYet,
        parse: None,
        help: "",
    }
}

/// The `global` keyword table.
pub static KEYWORDS: &[GlobalKeyword] = &[
    sup("nbthread", nbthread, "number of worker threads"),
    sup(
        "busy-polling",
        busy_polling,
        "worker threads poll without sleeping (lower latency, a core kept busy)",
    ),
    sup("no busy-polling", busy_polling, "turns 'busy-polling' off"),
    sup(
        "maxconn",
        maxconn,
        "process-wide maximum of concurrent connections",
    ),
    sup("daemon", daemon, "run in the background"),
    sup(
        "set-var",
        set_var,
        "set a process-wide variable (proc.) from a sample expression at load",
    ),
    sup(
        "set-var-fmt",
        set_var,
        "set a process-wide variable (proc.) from a log-format at load",
    ),
    sup(
        "expose-experimental-directives",
        expose_experimental,
        "allow HAProxy's experimental keywords (http-request normalize-uri)",
    ),
    sup(
        "spread-checks",
        spread_checks,
        "random +/- percent on health check intervals",
    ),
    sup("pidfile", pidfile, "write the pid to this file"),
    sup("log", log, "global log targets"),
    sup(
        "log-tag",
        log_tag,
        "syslog tag (default: the program's name)",
    ),
    sup(
        "log-send-hostname",
        log_send_hostname,
        "put the host name in syslog headers",
    ),
    sup(
        "tune.bufsize",
        tune_bufsize,
        "buffer size; bounds a request head",
    ),
    sup(
        "tune.maxrewrite",
        tune_maxrewrite,
        "room reserved for header rewrites",
    ),
    sup(
        "stats socket",
        stats_socket,
        "runtime API socket (served by src/admin/)",
    ),
    sup(
        "stats timeout",
        stats_timeout,
        "runtime API socket idle timeout",
    ),
    sup(
        "grace",
        grace,
        "after SIGUSR1, keep accepting this long before the soft stop",
    ),
    sup(
        "hard-stop-after",
        hard_stop_after,
        "longest time a soft stop (SIGUSR1, -sf) may last",
    ),
    sup(
        "server-state-file",
        server_state,
        "servers' states a new process starts from (runtime/state_file.rs)",
    ),
    sup(
        "server-state-base",
        server_state,
        "directory of relative server-state file names",
    ),
    sup("user", user, "drop privileges to this user"),
    sup("group", group, "drop privileges to this group"),
    sup(
        "node",
        node,
        "node name shown by the stats page and `show info`",
    ),
    sup("ca-base", ca_base, "base directory for CA and CRL files"),
    sup("crt-base", crt_base, "base directory for certificates"),
    sup(
        "chroot",
        chroot,
        "confine the process to this directory after binding",
    ),
    sup(
        "master-worker",
        master_worker,
        "master-worker mode, as `-W`: a master process supervising one worker (docs/reload.md)",
    ),
    sup(
        "description",
        description,
        "description shown by the stats page (`stats show-desc`) and `show info`",
    ),
    sup(
        "setenv",
        setenv,
        "set an environment variable for the next lines (and the runtime)",
    ),
    sup(
        "presetenv",
        presetenv,
        "set an environment variable unless it is already set",
    ),
    sup(
        "resetenv",
        resetenv,
        "remove every environment variable except the named ones",
    ),
    sup("unsetenv", unsetenv, "remove environment variables"),
    sup(
        "default-path",
        default_path,
        "base directory of relative file names (errorfile, …)",
    ),
];

/// Every `global` keyword: the supported and parsed ones, the ignored ones, then the
/// not-yet ones.
pub fn all() -> impl Iterator<Item = &'static GlobalKeyword> {
    KEYWORDS
        .iter()
        .chain(tls::KEYWORDS.iter())
        .chain(h2::KEYWORDS.iter())
        .chain(ignored::KEYWORDS.iter())
        .chain(notyet::KEYWORDS.iter())
}

/// Finds the global keyword of a line (two-word `stats …` names first).
pub fn find(words: &[String]) -> Option<&'static GlobalKeyword> {
    if let Some(second) = words.get(1) {
        let two = format!("{} {}", words[0], second);
        if let Some(k) = all().find(|k| k.name == two) {
            return Some(k);
        }
    }
    all().find(|k| k.name == words[0])
}
