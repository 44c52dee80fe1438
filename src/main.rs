//! The `gatehouse` binary: haproxy's command line, configuration check, daemon mode, pid
//! file, then the proxy itself in this very process (no wrapper in between).

use gatehouse::cli::{self, Cli};
use gatehouse::config::{self, diag::Level};
use std::io::Write;
use std::process::ExitCode;

/// The process's allocator: mimalloc's per-thread free lists instead of glibc's bins. Each
/// connection's task is a 128-byte-aligned allocation (tokio aligns its task cells to a
/// cache line pair), which glibc serves through `posix_memalign` by carving and freeing
/// pieces of a larger chunk (about 1,000 instructions with the `free`s it causes); the
/// request's other short-lived blocks (the busy-period future, pooled buffers' bookkeeping)
/// also go through glibc's bins. Built without transparent huge pages (`no_thp`): with
/// them its arenas are faulted in 2 MiB at a time and the resident size grows from about
/// 11 to 19 MiB under the `close` benchmark. docs/performance.md, "wt-close".
///
/// Blocks of ordinary alignment (at most 16 bytes, what `mi_malloc` guarantees) go to
/// `mi_malloc`: `mimalloc::MiMalloc` sends every block through `mi_malloc_aligned`, whose
/// fast path covers only small blocks and which over-allocates any block above 1 KiB
/// that is not a power of two (an HTTP/2 stream's future, a busy-period future: about
/// 480 instructions each instead of about 100). docs/performance.md, "wt-h2perf (second
/// pass)".
#[global_allocator]
static GLOBAL: Alloc = Alloc;

/// mimalloc, with `mi_malloc` for blocks of ordinary alignment.
struct Alloc;

/// The alignment every `mi_malloc` block of at least this size has.
const PLAIN_ALIGN: usize = 16;

// SAFETY: each method forwards to mimalloc, which returns blocks of at least the size
// asked for; `mi_malloc` blocks are aligned to `PLAIN_ALIGN` when their size is at least
// that (and to the size's own alignment below it), the aligned calls otherwise.
unsafe impl std::alloc::GlobalAlloc for Alloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: plain calls into mimalloc.
        unsafe {
            if plain(layout) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: plain calls into mimalloc.
        unsafe {
            if plain(layout) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from mimalloc (any of its calls: one `mi_free` for all).
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: `ptr` came from mimalloc with `layout`; the new block keeps its
        // alignment (`plain` judged on the smaller of the two sizes).
        unsafe {
            if plain(std::alloc::Layout::from_size_align_unchecked(
                new_size.min(layout.size()),
                layout.align(),
            )) {
                mi::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// Whether `mi_malloc`'s own alignment suffices for `layout`.
#[inline]
fn plain(layout: std::alloc::Layout) -> bool {
    layout.align() <= PLAIN_ALIGN && layout.align() <= layout.size()
}

fn print_diags(loaded: &config::Loaded, quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in &loaded.diags {
        if quiet && d.level != Level::Alert {
            continue;
        }
        let _ = writeln!(err, "{d}");
    }
    if loaded.has_errors() && !loaded.unreadable {
        let pid = std::process::id();
        for f in &loaded.files_with_errors {
            let _ = writeln!(
                err,
                "[ALERT]    ({pid}) : config : Error(s) found in configuration file : {f}"
            );
        }
        let _ = writeln!(
            err,
            "[ALERT]    ({pid}) : config : Fatal errors found in configuration."
        );
    }
}

/// The `-v`/`-vv` text.
fn version(level: u8) -> String {
    let mut out = format!(
        "gatehouse version {} - reads haproxy.cfg as HAProxy {} does\n",
        gatehouse::VERSION,
        gatehouse::HAPROXY_COMPAT_VERSION
    );
    if level >= 2 {
        out.push_str("Build options :\n");
        out.push_str(&format!(
            "  target: {}-{}\n",
            std::env::consts::ARCH,
            std::env::consts::OS
        ));
        out.push_str("  TLS: not built yet (rustls planned)\n");
        out.push_str(&format!(
            "Feature list : {}\n",
            gatehouse::config::cond::FEATURES
                .iter()
                .map(|f| format!("+{f}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        out.push_str("Available polling systems : epoll (tokio)\n");
        out.push_str("Available multiplexer protocols : h1 (mode=http), none (mode=tcp)\n");
    }
    out
}

/// Writes `text` to stdout and returns `ok`. A reader that went away (`| head`) ends the
/// process by SIGPIPE, as for any Unix tool (see [`sigpipe`]); any other write error
/// (stdout closed, disk full) is reported on stderr with status 1 instead of a panic.
fn print(text: &str, ok: ExitCode) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ok,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "gatehouse: write error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Sets SIGPIPE's action: the default (die quietly when a reader closes the pipe) for
/// the commands that only print, ignored (as the Rust runtime and HAProxy have it) while
/// serving, where a peer closing a socket must not end the process.
fn sigpipe(default: bool) {
    let action = if default {
        libc::SIG_DFL
    } else {
        libc::SIG_IGN
    };
    // SAFETY: changing a signal's disposition to a constant action; no handler runs.
    unsafe { libc::signal(libc::SIGPIPE, action) };
}

fn main() -> ExitCode {
    sigpipe(true);
    // `gatehouse audit verify FILE`: gatehouse's own subcommand (not a haproxy flag).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "audit") {
        let code = gatehouse::identity::audit::verify_command(&args[1..]);
        return ExitCode::from(code as u8);
    }
    let cli: Cli = match cli::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            eprint!("{}", cli::USAGE);
            return ExitCode::from(1);
        }
    };
    if cli.help {
        return print(cli::USAGE, ExitCode::SUCCESS);
    }
    if cli.version > 0 {
        return print(&version(cli.version), ExitCode::SUCCESS);
    }
    if cli.keywords {
        let mut out = String::new();
        for e in config::registry::entries() {
            out.push_str(&format!("{}\t{}\t{:?}\n", e.section, e.name, e.status));
        }
        return print(&out, ExitCode::SUCCESS);
    }
    if let Some(expr) = &cli.cond {
        return match config::cond::eval_str(expr) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("[ALERT]    ({}) : config : {e}", std::process::id());
                ExitCode::from(2)
            }
        };
    }
    if cli.files.is_empty() {
        eprintln!(
            "[ALERT]    ({}) : No configuration file specified.",
            std::process::id()
        );
        eprint!("{}", cli::USAGE);
        return ExitCode::from(1);
    }
    // A worker started by a master (`-W`): its internal socket, no pid file, no
    // daemon, no systemd messages (the master speaks for it).
    let worker = gatehouse::master::worker::socket_path().is_some();
    if !cli.check && !worker && gatehouse::master::reexecuted() {
        // A reload re-executed the master: the new worker checks the configuration;
        // the master reads its own keyword (`master-worker no-exit-on-failure`).
        let mut opts = master_options(&cli, None);
        opts.no_exit_on_failure = gatehouse::load::load(&cli.files)
            .config
            .global
            .no_exit_on_failure;
        return ExitCode::from(gatehouse::master::run(opts));
    }
    let mut loaded = gatehouse::load::load(&cli.files);
    print_diags(&loaded, cli.quiet);
    // A `bind` line (or a `stats socket`) somewhere: without one HAProxy will not start.
    let has_listener = loaded
        .config
        .proxies
        .iter()
        .any(|p| p.kind.has_frontend() && !p.binds.is_empty())
        || !loaded.config.global.stats_sockets.is_empty();
    if cli.check {
        if loaded.has_errors() {
            return ExitCode::from(1);
        }
        // `-q` silences everything but alerts, as in HAProxy.
        let mut out = String::new();
        if !cli.quiet && loaded.diags.iter().any(|d| d.level == Level::Warning) {
            out.push_str("Warnings were found.\n");
        }
        let (text, code) = if has_listener {
            ("Configuration file is valid\n", ExitCode::SUCCESS)
        } else {
            (
                "Configuration file has no error but will not start (no listener) => exit(2).\n",
                ExitCode::from(2),
            )
        };
        if !cli.quiet {
            out.push_str(text);
        }
        return print(&out, code);
    }
    if loaded.has_errors() {
        return ExitCode::from(1);
    }
    if !has_listener {
        eprintln!(
            "[ALERT]    ({}) : [gatehouse.main()] No enabled listener found (check for 'bind' directives) ! Exiting.",
            std::process::id()
        );
        return ExitCode::from(1);
    }
    if (cli.master_worker || loaded.config.global.master_worker) && !worker {
        let pidfile = cli
            .pidfile
            .clone()
            .or_else(|| loaded.config.global.pidfile.clone());
        let mut opts = master_options(&cli, pidfile);
        opts.no_exit_on_failure = loaded.config.global.no_exit_on_failure;
        return ExitCode::from(gatehouse::master::run(opts));
    }
    gatehouse::master::worker::add_socket(&mut loaded.config);
    // `-x`: the old process's listening sockets and live state, before binding.
    let mut inherit = None;
    if let Some(path) = &cli.xfer_socket {
        if let Err(e) = gatehouse::proxy::xfer::receive_from(path) {
            eprintln!(
                "[ALERT]    ({}) : Failed to get the sockets from the old process! ({e})",
                std::process::id()
            );
            if !worker {
                return ExitCode::from(1);
            }
        }
        match gatehouse::master::state::fetch(path) {
            Ok(dumps) => {
                inherit = Some(gatehouse::proxy::serve::Inherit {
                    apply: gatehouse::master::state::apply,
                    dumps,
                })
            }
            Err(e) => eprintln!(
                "[WARNING]  ({}) : Failed to get the state of the old process ({e}); starting fresh.",
                std::process::id()
            ),
        }
    }
    sigpipe(false);
    let opts = gatehouse::proxy::serve::ServeOptions {
        // As in HAProxy 2.6: `-D` always detaches; `-d`/`-db` only override `daemon`.
        daemon: !worker && (cli.daemon || (loaded.config.global.daemon && !cli.foreground)),
        pidfile: if worker {
            None
        } else {
            cli.pidfile
                .clone()
                .or_else(|| loaded.config.global.pidfile.clone())
        },
        config_files: cli.files.clone(),
        loader: Some(if worker {
            gatehouse::master::worker::load
        } else {
            gatehouse::load::load
        }),
        quiet: cli.quiet && !cli.debug,
        debug: cli.debug,
        local_peer: cli.local_peer.clone(),
        control: Some(gatehouse::admin::start),
        old_pids: cli.old_pids.clone(),
        terminate_old: cli.terminate_old,
        systemd_notify: cli.systemd_notify && !worker,
        inherit,
        ready_fd: gatehouse::master::worker::ready_fd(),
    };
    ExitCode::from(gatehouse::proxy::serve::run(loaded.config, opts))
}

/// The master's options from the command line (`pidfile` on the first start only).
fn master_options(
    cli: &Cli,
    pidfile: Option<std::path::PathBuf>,
) -> gatehouse::master::MasterOptions {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The binary's path as started, so that a reload runs the file now there.
    let exe = std::env::args()
        .next()
        .filter(|a| a.contains('/'))
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| "gatehouse".into());
    gatehouse::master::MasterOptions {
        args,
        exe,
        pidfile,
        notify: cli.systemd_notify,
        cli: cli.master_cli.clone(),
        daemon: cli.daemon,
        quiet: cli.quiet,
        no_exit_on_failure: false,
    }
}
