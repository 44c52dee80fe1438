//! The command line, compatible with `haproxy`'s flags so that systemd units, supervisors
//! and scripts keep working: `-f` (repeatable), `-c`, `-cc EXPR`, `-d`/`-db`, `-D`,
//! `-p PIDFILE`, `-L NAME`, `-v`/`-vv`, `-q`, plus `--help` and `--version` (the same as
//! `-v`).

use std::path::PathBuf;

/// What the command line asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cli {
    /// `-f` paths, in order (files or directories).
    pub files: Vec<PathBuf>,
    /// `-c`: check the configuration and exit.
    pub check: bool,
    /// `-cc EXPR`: evaluate a condition and exit.
    pub cond: Option<String>,
    /// `-d`/`-db`: stay in the foreground.
    pub foreground: bool,
    /// `-d`: debug output.
    pub debug: bool,
    /// `-D`: run as a daemon.
    pub daemon: bool,
    /// `-p PIDFILE`.
    pub pidfile: Option<PathBuf>,
    /// `-L NAME`: local peer name.
    pub local_peer: Option<String>,
    /// `-v`/`--version` (1) or `-vv` (2).
    pub version: u8,
    /// `-q`: quiet.
    pub quiet: bool,
    /// `--help` / `-h`.
    pub help: bool,
    /// `--keywords`: print the keyword registry (gatehouse extension).
    pub keywords: bool,
    /// `-Ws`: speak systemd's notify protocol (`READY=1`, `RELOADING=1`).
    pub systemd_notify: bool,
    /// `-W`/`-Ws`: master-worker mode (a master process supervising one worker).
    pub master_worker: bool,
    /// `-S ADDR[,option,value…]`: the master CLI's address and bind options.
    pub master_cli: Vec<String>,
    /// `-x SOCKET`: take the listening sockets over from the process behind this stats
    /// socket (`expose-fd listeners`).
    pub xfer_socket: Option<PathBuf>,
    /// `-sf PID…` / `-st PID…`: the processes to stop once this one listens.
    pub old_pids: Vec<i32>,
    /// `-st` (terminate them at once) rather than `-sf` (soft stop, SIGUSR1).
    pub terminate_old: bool,
}

/// The usage text.
pub const USAGE: &str = "Usage : gatehouse [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -c | -cc <expr> ] [ -p <pidfile> ] [ -L <name> ] [ -q ]
        -v displays version ; -vv shows known build options (--version is -v).
        -V enters verbose mode (accepted; the messages are the same)
        -d enters debug mode ; -db only disables background mode.
        -D goes daemon ; -p writes pids of all children to this file
        -W master-worker mode ; -Ws master-worker mode with systemd notify support
        -S <bind>[,<bind options>...] new master CLI
        -x <unix_socket> get listening sockets from a unix socket
        -f <cfgfile|cfgdir> adds <cfgfile> to the list of configuration files
           (a directory adds its *.cfg files in lexical order)
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit (0 if true, 1 if false)
        -L set local peer name (default to hostname)
        -sf/-st [pid ]* finishes/terminates old pids once listening.
        -q quiet mode : don't display messages
        --keywords lists every haproxy.cfg keyword with its gatehouse status
        --help shows this help
";

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Cli, String> {
    let mut cli = Cli::default();
    let mut it = args.into_iter().peekable();
    let mut only_files = false;
    while let Some(a) = it.next() {
        if only_files {
            cli.files.push(a.into());
            continue;
        }
        let mut value = |flag: &str| {
            it.next()
                .ok_or_else(|| format!("option '{flag}' requires an argument"))
        };
        match a.as_str() {
            "-f" => cli.files.push(value("-f")?.into()),
            "-c" => cli.check = true,
            "-cc" => cli.cond = Some(value("-cc")?),
            "-d" => {
                cli.foreground = true;
                cli.debug = true
            }
            "-db" => cli.foreground = true,
            "-D" => cli.daemon = true,
            // Master-worker mode: a master process (the pid in the pid file) runs one
            // worker and replaces it on SIGUSR2; `-Ws` adds systemd's notify protocol.
            "-W" => cli.master_worker = true,
            "-Ws" => {
                cli.master_worker = true;
                cli.systemd_notify = true
            }
            "-S" => cli.master_cli.push(value("-S")?),
            "-x" => cli.xfer_socket = Some(value("-x")?.into()),
            "-p" => cli.pidfile = Some(value("-p")?.into()),
            "-L" => cli.local_peer = Some(value("-L")?),
            "-v" | "--version" => cli.version = cli.version.max(1),
            // HAProxy's verbose mode: gatehouse prints the same messages either way.
            "-V" => {}
            "-vv" => cli.version = 2,
            "-q" => cli.quiet = true,
            "-h" | "--help" => cli.help = true,
            "--keywords" => cli.keywords = true,
            "--" => only_files = true,
            // As HAProxy: every following argument that is a number is a pid.
            "-sf" | "-st" => {
                cli.terminate_old = a == "-st";
                while let Some(pid) = it.peek().and_then(|p| p.parse::<i32>().ok()) {
                    it.next();
                    if pid > 0 {
                        cli.old_pids.push(pid);
                    }
                }
            }
            "-m" | "-N" | "-dM" | "-dG" | "-dS" | "-de" | "-dp" | "-dr" | "-dV" | "-dW" | "-dD"
            | "-dK" => {
                return Err(format!(
                    "option '{a}' is a haproxy option that gatehouse does not support yet"
                ));
            }
            other if other.starts_with("-f") && other.len() > 2 => {
                cli.files.push(other[2..].into())
            }
            other if other.starts_with('-') => return Err(format!("unknown option '{other}'")),
            other => {
                return Err(format!(
                    "unexpected argument '{other}' (configuration files are given with -f)"
                ));
            }
        }
    }
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Cli, String> {
        parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn haproxy_flags() {
        let c = p("-f a.cfg -f conf.d -c -q").unwrap();
        assert_eq!(
            c.files,
            vec![PathBuf::from("a.cfg"), PathBuf::from("conf.d")]
        );
        assert!(c.check && c.quiet);
        let c = p("-db -p /run/g.pid -L node1 -f x.cfg").unwrap();
        assert!(c.foreground && !c.debug);
        assert_eq!(c.pidfile, Some(PathBuf::from("/run/g.pid")));
        assert_eq!(c.local_peer.as_deref(), Some("node1"));
        assert_eq!(p("-vv").unwrap().version, 2);
        assert_eq!(p("-v").unwrap().version, 1);
        assert_eq!(p("--version").unwrap().version, 1);
        assert_eq!(p("--version -vv").unwrap().version, 2);
        assert!(p("-D -f x").unwrap().daemon);
        assert!(p("-Ws -f x").unwrap().systemd_notify);
        assert!(!p("-W -f x").unwrap().systemd_notify);
        assert_eq!(
            p("-cc defined(HOME)").unwrap().cond.as_deref(),
            Some("defined(HOME)")
        );
        assert!(p("-f").is_err());
        assert!(p("--bogus").is_err());
        let c = p("-f x.cfg -sf 123 456 -q").unwrap();
        assert_eq!(c.old_pids, vec![123, 456]);
        assert!(!c.terminate_old && c.quiet);
        let c = p("-st 77").unwrap();
        assert!(c.terminate_old && c.old_pids == vec![77]);
        let c = p("-x /run/s -sf 5 -Ws -S /run/m.sock,mode,600").unwrap();
        assert_eq!(c.xfer_socket, Some(PathBuf::from("/run/s")));
        assert!(c.master_worker && c.systemd_notify);
        assert_eq!(c.master_cli, vec!["/run/m.sock,mode,600".to_owned()]);
        assert!(p("-W").unwrap().master_worker);
        assert!(p("-m 5").unwrap_err().contains("not support yet"));
        assert!(p("-x").is_err());
        assert_eq!(p("-- a.cfg b.cfg").unwrap().files.len(), 2);
    }
}
