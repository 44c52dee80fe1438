//! The `gatehouse` binary: haproxy's command line, configuration check, daemon mode, pid
//! file, then the proxy itself in this very process (no wrapper in between).

use gatehouse::cli::{self, Cli};
use gatehouse::config::{self, diag::Level};
use std::io::Write;
use std::process::ExitCode;

fn print_diags(loaded: &config::Loaded, quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in &loaded.diags {
        if quiet && d.level != Level::Alert {
            continue;
        }
        let _ = writeln!(err, "{d}");
    }
    if loaded.has_errors() {
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

fn version(level: u8) {
    println!(
        "gatehouse version {} - reads haproxy.cfg as HAProxy {} does",
        gatehouse::VERSION,
        gatehouse::HAPROXY_COMPAT_VERSION
    );
    if level >= 2 {
        println!("Build options :");
        println!(
            "  target: {}-{}",
            std::env::consts::ARCH,
            std::env::consts::OS
        );
        println!("  TLS: not built yet (rustls planned)");
        println!(
            "Feature list : {}",
            gatehouse::config::cond::FEATURES
                .iter()
                .map(|f| format!("+{f}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!("Available polling systems : epoll (tokio)");
        println!("Available multiplexer protocols : h1 (mode=http), none (mode=tcp)");
    }
}

fn main() -> ExitCode {
    let cli: Cli = match cli::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            eprint!("{}", cli::USAGE);
            return ExitCode::from(1);
        }
    };
    if cli.help {
        print!("{}", cli::USAGE);
        return ExitCode::SUCCESS;
    }
    if cli.version > 0 {
        version(cli.version);
        return ExitCode::SUCCESS;
    }
    if cli.keywords {
        for e in config::registry::entries() {
            println!("{}\t{}\t{:?}", e.section, e.name, e.status);
        }
        return ExitCode::SUCCESS;
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
    let loaded = gatehouse::load::load(&cli.files);
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
        if !cli.quiet && loaded.diags.iter().any(|d| d.level == Level::Warning) {
            println!("Warnings were found.");
        }
        if !has_listener {
            if !cli.quiet {
                println!(
                    "Configuration file has no error but will not start (no listener) => exit(2)."
                );
            }
            return ExitCode::from(2);
        }
        if !cli.quiet {
            println!("Configuration file is valid");
        }
        return ExitCode::SUCCESS;
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
    let opts = gatehouse::proxy::serve::ServeOptions {
        // As in HAProxy 2.6: `-D` always detaches; `-d`/`-db` only override `daemon`.
        daemon: cli.daemon || (loaded.config.global.daemon && !cli.foreground),
        pidfile: cli
            .pidfile
            .clone()
            .or_else(|| loaded.config.global.pidfile.clone()),
        config_files: cli.files.clone(),
        quiet: cli.quiet && !cli.debug,
        debug: cli.debug,
        local_peer: cli.local_peer.clone(),
    };
    ExitCode::from(gatehouse::proxy::serve::run(loaded.config, opts))
}
