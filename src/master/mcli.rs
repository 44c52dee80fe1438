//! The master CLI (`-S ADDR[,option,value…]`, management.txt 9.4): spoken as the runtime
//! API is (one command line per connection unless `prompt`, `;` separating commands,
//! each reply followed by an empty line), with the master's own commands — `help`,
//! `prompt`, `quit`, `show proc`, `reload` — and HAProxy's prefixes: `@N CMD` sends
//! CMD to the N-th current worker, `@!PID CMD` to the worker with that pid (old ones
//! too), `@` alone to the master; a prefix alone makes it the connection's default
//! target. A worker is reached through its internal runtime-API socket; with `level
//! user` or `operator` on `-S`, commands reach it at that level.

use super::{Request, View};
use crate::config::model::{Bind, BindAddr};
use crate::proxy::listener::{self, BoundListener};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What the master CLI's connections share with the master.
pub struct Shared {
    /// The processes.
    pub view: Arc<Mutex<View>>,
    /// Requests to the master's loop.
    pub requests: tokio::sync::mpsc::UnboundedSender<Request>,
}

/// A master CLI socket and the level its clients have.
pub struct Listener {
    sock: BoundListener,
    level: crate::admin::Level,
}

impl Listener {
    /// Its descriptor (kept across a re-exec).
    pub fn raw_fd(&self) -> RawFd {
        match &self.sock {
            BoundListener::Tcp(t) => t.as_raw_fd(),
            BoundListener::Unix(u) => u.as_raw_fd(),
        }
    }
}

/// Binds the `-S` arguments: an address (a path, `unix@PATH`, `ipv4@ADDR:PORT`,
/// `ADDR:PORT`) then bind options separated by commas (`mode`, `user`, `group`, `uid`,
/// `gid`, `level`).
pub fn bind(args: &[String]) -> Result<Vec<Listener>, String> {
    let mut out = Vec::new();
    for a in args {
        let mut parts = a.split(',');
        let addr_text = parts.next().unwrap_or_default();
        let addr = crate::config::value::bind_addr(addr_text)
            .map_err(|e| format!("Cannot create the master CLI '{a}': {e}"))?;
        let mut bind = Bind {
            span: crate::config::span::Span {
                file: "-S".into(),
                line: 0,
            },
            addrs: vec![addr.clone()],
            name: None,
            tls: Default::default(),
            accept_proxy: false,
            unix_mode: None,
            unix_user: None,
            unix_group: None,
            maxconn: None,
            backlog: None,
            v4v6: false,
            v6only: false,
            h2: false,
            pgsql: false,
        };
        let mut level = crate::admin::Level::Admin;
        let (mut uid, mut gid) = (None, None);
        while let Some(k) = parts.next() {
            let v = parts.next().ok_or_else(|| {
                format!("Cannot create the master CLI '{a}': '{k}' expects a value")
            })?;
            match k {
                "mode" => bind.unix_mode = u32::from_str_radix(v, 8).ok(),
                "user" => bind.unix_user = Some(v.to_owned()),
                "group" => bind.unix_group = Some(v.to_owned()),
                "uid" => uid = v.parse::<u32>().ok(),
                "gid" => gid = v.parse::<u32>().ok(),
                "level" => level = crate::admin::Level::parse(v),
                _ => {
                    return Err(format!(
                        "Cannot create the master CLI '{a}': bind option '{k}' is not supported yet"
                    ));
                }
            }
        }
        let socks = listener::bind_all(&bind, 10, false)
            .map_err(|e| format!("Cannot create the master CLI '{a}': {e}"))?;
        if let BindAddr::Unix(p) = &addr
            && (uid.is_some() || gid.is_some())
        {
            std::os::unix::fs::chown(p, uid, gid)
                .map_err(|e| format!("Cannot create the master CLI '{a}': {e}"))?;
        }
        out.extend(socks.into_iter().map(|sock| Listener { sock, level }));
    }
    Ok(out)
}

/// A master CLI socket inherited across a re-exec (as `fd` with its level encoded in
/// nothing: the level is read again from the arguments by [`relevel`]).
pub fn adopt(fd: RawFd) -> std::io::Result<Listener> {
    // SAFETY: the descriptor was kept open across the exec for this very purpose and is
    // owned from here on.
    let sock = unsafe { socket2::Socket::from_raw_fd(fd) };
    // Close-on-exec again: no worker inherits it.
    sock.set_cloexec(true)?;
    let sock = match sock.local_addr()?.family() as i32 {
        libc::AF_UNIX => BoundListener::Unix(std::os::fd::OwnedFd::from(sock).into()),
        _ => BoundListener::Tcp(sock.into()),
    };
    Ok(Listener {
        sock,
        level: crate::admin::Level::Admin,
    })
}

/// Gives inherited sockets the levels the `-S` arguments name (in the same order).
pub fn relevel(listeners: &mut [Listener], args: &[String]) {
    let levels = args.iter().map(|a| {
        let mut level = crate::admin::Level::Admin;
        let mut parts = a.split(',').skip(1);
        while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
            if k == "level" {
                level = crate::admin::Level::parse(v);
            }
        }
        level
    });
    for (l, level) in listeners.iter_mut().zip(levels) {
        l.level = level;
    }
}

/// Accepts master CLI connections until the master ends.
pub async fn serve(l: Listener, shared: Arc<Shared>) {
    let level = l.level;
    match l.sock {
        BoundListener::Tcp(t) => {
            let Ok(t) = tokio::net::TcpListener::from_std(t) else {
                return;
            };
            while let Ok((s, _)) = t.accept().await {
                tokio::spawn(session(s, Arc::clone(&shared), level));
            }
        }
        BoundListener::Unix(u) => {
            let Ok(u) = tokio::net::UnixListener::from_std(u) else {
                return;
            };
            while let Ok((s, _)) = u.accept().await {
                tokio::spawn(session(s, Arc::clone(&shared), level));
            }
        }
    }
}

/// Where a command goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Master,
    /// The N-th current worker (1-based).
    Relative(usize),
    /// A worker by pid.
    Pid(i32),
}

fn parse_target(word: &str) -> Option<Target> {
    let rest = word.strip_prefix('@')?;
    if rest.is_empty() || rest == "master" {
        return Some(Target::Master);
    }
    match rest.strip_prefix('!') {
        Some(pid) => pid.parse().ok().map(Target::Pid),
        None => rest.parse().ok().filter(|n| *n > 0).map(Target::Relative),
    }
}

/// The usage text of the master's commands.
const HELP: &str = "The following commands are valid at this level:
  @!<pid>                                 : send a command to the <pid> process
  @<relative pid>                         : send a command to the <relative pid> process
  @master                                 : send a command to the master process
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect
  reload                                  : reload haproxy
  show proc                               : show processes status
";

/// `show proc`, in HAProxy 2.6's format.
fn show_proc(v: &View) -> String {
    let now = super::now();
    let uptime = |since: u64| {
        let up = now.saturating_sub(since);
        format!(
            "{}d{:02}h{:02}m{:02}s",
            up / 86400,
            (up % 86400) / 3600,
            (up % 3600) / 60,
            up % 60
        )
    };
    let mut o = format!(
        "#{:<14} {:<15} {:<15} {:<15} {:<15}\n",
        "<PID>", "<type>", "<reloads>", "<uptime>", "<version>"
    );
    o.push_str(&format!(
        "{:<15} {:<15} {:<15} {:<15} {:<15}\n",
        std::process::id(),
        "master",
        format!("{} [failed: {}]", v.reloads, v.failed),
        uptime(v.started),
        crate::VERSION
    ));
    o.push_str("# workers\n");
    let line = |w: &super::Proc| {
        format!(
            "{:<15} {:<15} {:<15} {:<15} {:<15}\n",
            w.pid,
            "worker",
            w.reloads,
            uptime(w.started),
            w.version
        )
    };
    for w in v.workers.iter().filter(|w| !w.leaving) {
        o.push_str(&line(w));
    }
    if v.workers.iter().any(|w| w.leaving) {
        o.push_str("# old workers\n");
        for w in v.workers.iter().filter(|w| w.leaving) {
            o.push_str(&line(w));
        }
    }
    o.push_str("# programs\n");
    o
}

/// Sends `cmd` to the worker `target` at `level`; its reply, or the master's message
/// when there is no such worker.
async fn to_worker(
    shared: &Shared,
    target: Target,
    level: crate::admin::Level,
    cmd: &str,
) -> String {
    let socket = {
        let v = shared.view.lock().unwrap_or_else(|e| e.into_inner());
        let current: Vec<&super::Proc> = v.workers.iter().filter(|w| !w.leaving).collect();
        match target {
            Target::Relative(n) => current.get(n - 1).map(|w| w.socket.clone()),
            Target::Pid(pid) => v
                .workers
                .iter()
                .find(|w| w.pid == pid)
                .map(|w| w.socket.clone()),
            Target::Master => None,
        }
    };
    let Some(socket) = socket else {
        let prefix = match target {
            Target::Relative(n) => format!("@{n}"),
            Target::Pid(p) => format!("@!{p}"),
            Target::Master => "@".into(),
        };
        return format!("Can't find the target PID matching the prefix '{prefix}'\n");
    };
    // The worker's socket is `level admin`: a lower master CLI level is passed on.
    let lower = match level {
        crate::admin::Level::User => "user -;",
        crate::admin::Level::Operator => "operator -;",
        crate::admin::Level::Admin => "",
    };
    let line = format!("{lower}{cmd}\n");
    let ask = async {
        let mut s = tokio::net::UnixStream::connect(&socket).await?;
        s.write_all(line.as_bytes()).await?;
        let mut out = String::new();
        s.read_to_string(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    match tokio::time::timeout(Duration::from_secs(30), ask).await {
        Ok(Ok(out)) => out,
        _ => "Can't connect to the target CLI!\n".into(),
    }
}

/// Splits a line into commands at unescaped `;`.
fn commands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ';' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// One master CLI connection.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    shared: Arc<Shared>,
    level: crate::admin::Level,
) {
    let mut prompt = false;
    let mut default = Target::Master;
    let mut input: Vec<u8> = Vec::new();
    loop {
        let line = loop {
            if let Some(i) = input.iter().position(|b| *b == b'\n') {
                let l: Vec<u8> = input.drain(..=i).collect();
                break String::from_utf8_lossy(&l).trim_end().to_owned();
            }
            let mut buf = [0u8; 4096];
            match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => input.extend_from_slice(&buf[..n]),
                _ if !input.is_empty() => {
                    // A last command without its line feed.
                    break String::from_utf8_lossy(&std::mem::take(&mut input)).into_owned();
                }
                _ => return,
            }
        };
        let mut out = String::new();
        for cmd in commands(&line) {
            let (first, rest) = match cmd.split_once(char::is_whitespace) {
                Some((f, r)) => (f, r.trim()),
                None => (cmd.as_str(), ""),
            };
            let (target, cmd) = match parse_target(first) {
                Some(t) if rest.is_empty() => {
                    default = t;
                    continue;
                }
                Some(t) => (t, rest.to_owned()),
                None if first.starts_with('@') => {
                    out.push_str(&format!(
                        "Can't find the target PID matching the prefix '{first}'\n"
                    ));
                    continue;
                }
                None => (default, cmd.clone()),
            };
            if target != Target::Master {
                out.push_str(&to_worker(&shared, target, level, &cmd).await);
                continue;
            }
            match cmd.as_str() {
                "prompt" => prompt = !prompt,
                "quit" => return,
                "help" => out.push_str(HELP),
                "show proc" => {
                    let v = shared.view.lock().unwrap_or_else(|e| e.into_inner());
                    out.push_str(&show_proc(&v));
                    out.push('\n');
                }
                "reload" if level < crate::admin::Level::Operator => {
                    out.push_str("Permission denied\n\n");
                }
                "reload" => {
                    // The master re-executes: this connection ends, as in HAProxy.
                    let _ = s.shutdown().await;
                    let _ = shared.requests.send(Request::Reload);
                    return;
                }
                _ => {
                    out.push_str("Unknown command: '");
                    out.push_str(&cmd);
                    out.push_str("'\n");
                    out.push_str(HELP);
                    out.push('\n');
                }
            }
        }
        if prompt {
            let v = shared.view.lock().unwrap_or_else(|e| e.into_inner());
            let name = match default {
                Target::Master if v.last_failed => "master[ReloadFailed]".to_owned(),
                Target::Master => "master".to_owned(),
                Target::Pid(p) => p.to_string(),
                Target::Relative(n) => v
                    .workers
                    .iter()
                    .filter(|w| !w.leaving)
                    .nth(n - 1)
                    .map_or_else(|| format!("@{n}"), |w| w.pid.to_string()),
            };
            out.push_str(&format!("{name}> "));
        }
        if !out.is_empty() && s.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        if !prompt && input.is_empty() {
            let _ = s.shutdown().await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_commands() {
        assert_eq!(parse_target("@"), Some(Target::Master));
        assert_eq!(parse_target("@1"), Some(Target::Relative(1)));
        assert_eq!(parse_target("@!1271"), Some(Target::Pid(1271)));
        assert_eq!(parse_target("@0"), None);
        assert_eq!(parse_target("show"), None);
        assert_eq!(
            commands("@1 show info; @!5 show stat;show proc"),
            vec!["@1 show info", "@!5 show stat", "show proc"]
        );
        assert_eq!(commands("set map m a\\;b c"), vec!["set map m a\\;b c"]);
    }

    #[test]
    fn show_proc_has_haproxys_columns() {
        let v = View {
            started: super::super::now(),
            reloads: 2,
            workers: vec![
                super::super::Proc {
                    pid: 42,
                    socket: "/x".into(),
                    reloads: 0,
                    started: super::super::now(),
                    version: "1.0".into(),
                    leaving: false,
                },
                super::super::Proc {
                    pid: 41,
                    socket: "/y".into(),
                    reloads: 1,
                    started: super::super::now(),
                    version: "1.0".into(),
                    leaving: true,
                },
            ],
            ..View::default()
        };
        let t = show_proc(&v);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "#<PID>          <type>          <reloads>       <uptime>        <version>      "
        );
        assert!(lines[1].contains("master          2 [failed: 0]   0d00h00m0"));
        assert_eq!(lines[2], "# workers");
        assert!(lines[3].starts_with("42              worker          0  "));
        assert_eq!(lines[4], "# old workers");
        assert!(lines[5].starts_with("41              worker          1  "));
        assert_eq!(lines[6], "# programs");
    }
}
