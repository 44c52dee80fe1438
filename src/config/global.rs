//! The `global` section's keywords. Several `global` sections merge, as in HAProxy.

use super::diag::Diag;
use super::keyword::{GlobalKeyword, Status};
use super::logline;
use super::model::{DefaultPath, EnvChange, Global, StatsSocket};
use super::span::Span;
use super::value::{duration, size, uint};

type R = Result<(), String>;

fn one_arg(w: &[String]) -> Result<&str, String> {
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

fn maxconn(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.maxconn = Some(uint(one_arg(w)?, "maxconn")?);
    Ok(())
}

fn daemon(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    if let Some(x) = w.get(1) {
        return Err(format!("'daemon' cannot handle unexpected argument '{x}'."));
    }
    g.daemon = true;
    Ok(())
}

fn pidfile(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
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

fn log_send_hostname(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
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
    let mut level = "user".to_string();
    let mut expose = false;
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
            "mode" | "user" | "group" | "uid" | "gid" | "name" => i += 2,
            "maxconn" | "backlog" => i += 2,
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
        span: span.clone(),
    });
    Ok(())
}

fn stats_timeout(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let v = w.get(2).ok_or("'stats timeout' expects a delay.")?;
    g.stats_timeout = Some(duration(v, "stats timeout")?);
    Ok(())
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

/// Keywords accepted for compatibility that have no effect in gatehouse, with the reason.
fn accepted(_: &mut Global, _: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    Ok(())
}

const fn sup(
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

const fn ny(name: &'static str) -> GlobalKeyword {
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
        "maxconn",
        maxconn,
        "process-wide maximum of concurrent connections",
    ),
    sup("daemon", daemon, "run in the background"),
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
    sup("stats socket", stats_socket, "runtime API socket"),
    sup(
        "stats timeout",
        stats_timeout,
        "runtime API socket idle timeout",
    ),
    sup("user", user, "drop privileges to this user"),
    sup("group", group, "drop privileges to this group"),
    sup("node", node, "node name shown on the stats page"),
    sup(
        "chroot",
        chroot,
        "confine the process to this directory after binding",
    ),
    sup("ca-base", accepted, "base directory for CA files"),
    sup("crt-base", accepted, "base directory for certificates"),
    sup(
        "description",
        accepted,
        "description shown on the stats page",
    ),
    sup(
        "master-worker",
        accepted,
        "gatehouse always runs as one process",
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
    ny("cpu-map"),
    ny("ssl-default-bind-ciphers"),
    ny("ssl-default-bind-ciphersuites"),
    ny("ssl-default-bind-options"),
    ny("ssl-default-server-ciphers"),
    ny("ssl-default-server-ciphersuites"),
    ny("ssl-default-server-options"),
    ny("ssl-dh-param-file"),
    ny("tune.ssl.default-dh-param"),
    ny("tune.ssl.cachesize"),
    ny("tune.http.maxhdr"),
    ny("tune.maxaccept"),
    ny("tune.h2.max-concurrent-streams"),
    ny("lua-load"),
    ny("uid"),
    ny("gid"),
    ny("ulimit-n"),
    ny("server-state-file"),
    ny("server-state-base"),
    ny("hard-stop-after"),
    ny("grace"),
    ny("spread-checks"),
    ny("max-spread-checks"),
    ny("maxconnrate"),
    ny("maxsessrate"),
    ny("maxsslconn"),
    ny("maxsslrate"),
    ny("maxpipes"),
    ny("maxcomprate"),
    ny("maxcompcpuusage"),
    ny("noepoll"),
    ny("nosplice"),
    ny("nbproc"),
    ny("localpeer"),
    ny("insecure-fork-wanted"),
    ny("expose-experimental-directives"),
    ny("h1-case-adjust"),
    ny("h1-case-adjust-file"),
    ny("external-check"),
    ny("thread-groups"),
    ny("stats bind-process"),
    ny("stats maxconn"),
    ny("unix-bind"),
    ny("quiet"),
    ny("zero-warning"),
    ny("busy-polling"),
    ny("set-dumpable"),
    ny("strict-limits"),
    ny("issuers-chain-path"),
    ny("numa-cpu-mapping"),
    ny("profiling.tasks"),
    ny("debug"),
];

/// Finds the global keyword of a line (two-word `stats …` names first).
pub fn find(words: &[String]) -> Option<&'static GlobalKeyword> {
    if let Some(second) = words.get(1) {
        let two = format!("{} {}", words[0], second);
        if let Some(k) = KEYWORDS.iter().find(|k| k.name == two) {
            return Some(k);
        }
    }
    KEYWORDS.iter().find(|k| k.name == words[0])
}
