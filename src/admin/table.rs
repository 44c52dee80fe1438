//! The command table: each row is a command's words, its usage line (HAProxy 2.6's, so
//! that `help` reads the same) and what runs it. `help` and the "Unknown command"
//! suggestions are written from it as HAProxy's `cli_gen_usage_msg` writes them,
//! fuzzy matching included.

use super::session::Outcome;
use super::{
    Level, api::Api, cafiles, certs, crt_list, dynamic, maps, ocsp, servers, show, tables,
};
use crate::tls::cafiles::Kind;

/// What a command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Help,
    Prompt,
    Quit,
    User,
    Operator,
    ShowCliLevel,
    ShowVersion,
    ShowInfo,
    ShowStat,
    ShowServersState,
    ShowBackend,
    ShowErrors,
    ShowSess,
    ShowMap,
    ShowAcl,
    EnableServer,
    DisableServer,
    SetServer,
    SetWeight,
    GetWeight,
    EnableHealth,
    DisableHealth,
    EnableAgent,
    DisableAgent,
    SetMaxconnServer,
    SetMaxconnFrontend,
    ClearCounters,
    AddMap,
    SetMap,
    DelMap,
    ClearMap,
    AddAcl,
    DelAcl,
    ClearAcl,
    AddServer,
    DelServer,
    ShowTable,
    ClearTable,
    SetTable,
    ShutdownSessionsServer,
    SetSslCert,
    CommitSslCert,
    AbortSslCert,
    ShowSslCert,
    NewSslCert,
    DelSslCert,
    ShowOcspResponse,
    SetOcspResponse,
    AddCrtList,
    DelCrtList,
    ShowCrtList,
    /// `new|set|commit|abort|show|del ssl ca-file|crl-file`.
    CaFile(CaOp, Kind),
}

/// What a `ssl ca-file|crl-file` command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CaOp {
    New,
    Set,
    Commit,
    Abort,
    Show,
    Del,
}

/// One command.
struct Row {
    words: &'static [&'static str],
    /// HAProxy's usage line; `None` for `help`, `prompt` and `quit`, which every help
    /// text ends with.
    usage: Option<&'static str>,
    cmd: Cmd,
}

const fn row(words: &'static [&'static str], usage: &'static str, cmd: Cmd) -> Row {
    Row {
        words,
        usage: Some(usage),
        cmd,
    }
}

/// Every command gatehouse serves.
static ROWS: &[Row] = &[
    Row {
        words: &["help"],
        usage: None,
        cmd: Cmd::Help,
    },
    Row {
        words: &["prompt"],
        usage: None,
        cmd: Cmd::Prompt,
    },
    Row {
        words: &["quit"],
        usage: None,
        cmd: Cmd::Quit,
    },
    row(
        &["user"],
        "user                                    : lower the level of the current CLI session to user",
        Cmd::User,
    ),
    row(
        &["operator"],
        "operator                                : lower the level of the current CLI session to operator",
        Cmd::Operator,
    ),
    row(
        &["show", "cli", "level"],
        "show cli level                          : display the level of the current CLI session",
        Cmd::ShowCliLevel,
    ),
    row(
        &["show", "version"],
        "show version                            : show version of the current process",
        Cmd::ShowVersion,
    ),
    row(
        &["show", "info"],
        "show info [desc|json|typed|float]*      : report information about the running process",
        Cmd::ShowInfo,
    ),
    row(
        &["show", "stat"],
        "show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server",
        Cmd::ShowStat,
    ),
    row(
        &["show", "servers", "state"],
        "show servers state [<backend>]          : dump volatile server information (all or for a single backend)",
        Cmd::ShowServersState,
    ),
    row(
        &["show", "backend"],
        "show backend                            : list backends in the current running config",
        Cmd::ShowBackend,
    ),
    row(
        &["show", "errors"],
        "show errors [<px>] [request|response]   : report last request and/or response errors for each proxy",
        Cmd::ShowErrors,
    ),
    row(
        &["show", "sess"],
        "show sess [id]                          : report the list of current sessions or dump this exact session",
        Cmd::ShowSess,
    ),
    row(
        &["show", "map"],
        "show map [@ver] [map]                   : report available maps or dump a map's contents",
        Cmd::ShowMap,
    ),
    row(
        &["show", "acl"],
        "show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents",
        Cmd::ShowAcl,
    ),
    row(
        &["enable", "server"],
        "enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)",
        Cmd::EnableServer,
    ),
    row(
        &["disable", "server"],
        "disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)",
        Cmd::DisableServer,
    ),
    row(
        &["set", "server"],
        "set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
        Cmd::SetServer,
    ),
    row(
        &["set", "weight"],
        "set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)",
        Cmd::SetWeight,
    ),
    row(
        &["get", "weight"],
        "get weight <bk>/<srv>                   : report a server's current weight",
        Cmd::GetWeight,
    ),
    row(
        &["enable", "health"],
        "enable health                           : enable health checks",
        Cmd::EnableHealth,
    ),
    row(
        &["disable", "health"],
        "disable health                          : disable health checks",
        Cmd::DisableHealth,
    ),
    row(
        &["enable", "agent"],
        "enable agent                            : enable agent checks",
        Cmd::EnableAgent,
    ),
    row(
        &["disable", "agent"],
        "disable agent                           : disable agent checks",
        Cmd::DisableAgent,
    ),
    row(
        &["set", "maxconn", "server"],
        "set maxconn server <bk>/<srv>           : change a server's maxconn setting",
        Cmd::SetMaxconnServer,
    ),
    row(
        &["set", "maxconn", "frontend"],
        "set maxconn frontend <frontend> <value> : change a frontend's maxconn setting",
        Cmd::SetMaxconnFrontend,
    ),
    row(
        &["clear", "counters"],
        "clear counters [all]                    : clear max statistics counters (or all counters)",
        Cmd::ClearCounters,
    ),
    row(
        &["add", "map"],
        "add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)",
        Cmd::AddMap,
    ),
    row(
        &["set", "map"],
        "set map <map> [<key>|#<ref>] <value>    : modify a map entry",
        Cmd::SetMap,
    ),
    row(
        &["del", "map"],
        "del map <map> [<key>|#<ref>]            : delete map entries matching <key>",
        Cmd::DelMap,
    ),
    row(
        &["clear", "map"],
        "clear map [@<ver>] <map>                : clear the contents of this map",
        Cmd::ClearMap,
    ),
    row(
        &["add", "acl"],
        "add acl [@<ver>] <acl> <pattern>        : add an acl entry",
        Cmd::AddAcl,
    ),
    row(
        &["del", "acl"],
        "del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>",
        Cmd::DelAcl,
    ),
    row(
        &["clear", "acl"],
        "clear acl [@<ver>] <acl>                : clear the contents of this acl",
        Cmd::ClearAcl,
    ),
    row(
        &["add", "server"],
        "add server <bk>/<srv>                   : create a new server",
        Cmd::AddServer,
    ),
    row(
        &["del", "server"],
        "del server <bk>/<srv>                   : remove a dynamically added server",
        Cmd::DelServer,
    ),
    row(
        &["clear", "table"],
        "clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)",
        Cmd::ClearTable,
    ),
    row(
        &["set", "table"],
        "set table <table> key <k> [data.* <v>]* : update or create a table entry's data",
        Cmd::SetTable,
    ),
    row(
        &["shutdown", "sessions", "server"],
        "shutdown sessions server <bk>/<srv>     : kill sessions on a server",
        Cmd::ShutdownSessionsServer,
    ),
    row(
        &["show", "table"],
        "show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)",
        Cmd::ShowTable,
    ),
    row(
        &["set", "ssl", "cert"],
        "set ssl cert <certfile> <payload>       : replace a certificate file",
        Cmd::SetSslCert,
    ),
    row(
        &["commit", "ssl", "cert"],
        "commit ssl cert <certfile>              : commit a certificate file",
        Cmd::CommitSslCert,
    ),
    row(
        &["abort", "ssl", "cert"],
        "abort ssl cert <certfile>               : abort a transaction for a certificate file",
        Cmd::AbortSslCert,
    ),
    row(
        &["show", "ssl", "cert"],
        "show ssl cert [<certfile>]              : display the SSL certificates used in memory, or the details of a file",
        Cmd::ShowSslCert,
    ),
    row(
        &["show", "ssl", "ocsp-response"],
        "show ssl ocsp-response [id]             : display the IDs of the OCSP responses used in memory, or the details of a single OCSP response",
        Cmd::ShowOcspResponse,
    ),
    row(
        &["set", "ssl", "ocsp-response"],
        "set ssl ocsp-response <resp|payload>    : update a certificate's OCSP Response from a base64-encode DER",
        Cmd::SetOcspResponse,
    ),
    row(
        &["new", "ssl", "cert"],
        "new ssl cert <certfile>                 : create a new certificate file to be used in a crt-list or a directory",
        Cmd::NewSslCert,
    ),
    row(
        &["del", "ssl", "cert"],
        "del ssl cert <certfile>                 : delete an unused certificate file",
        Cmd::DelSslCert,
    ),
    row(
        &["add", "ssl", "crt-list"],
        "add ssl crt-list <list> <cert> [opts]*  : add to crt-list file <list> a line <cert> or a payload",
        Cmd::AddCrtList,
    ),
    row(
        &["del", "ssl", "crt-list"],
        "del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>",
        Cmd::DelCrtList,
    ),
    row(
        &["show", "ssl", "crt-list"],
        "show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of a crt-list file <list>",
        Cmd::ShowCrtList,
    ),
    row(
        &["abort", "ssl", "ca-file"],
        "abort ssl ca-file <cafile>              : abort a transaction for a CA file",
        Cmd::CaFile(CaOp::Abort, Kind::Ca),
    ),
    row(
        &["abort", "ssl", "crl-file"],
        "abort ssl crl-file <crlfile>            : abort a transaction for a CRL file",
        Cmd::CaFile(CaOp::Abort, Kind::Crl),
    ),
    row(
        &["commit", "ssl", "ca-file"],
        "commit ssl ca-file <cafile>             : commit a CA file",
        Cmd::CaFile(CaOp::Commit, Kind::Ca),
    ),
    row(
        &["commit", "ssl", "crl-file"],
        "commit ssl crl-file <crlfile>           : commit a CRL file",
        Cmd::CaFile(CaOp::Commit, Kind::Crl),
    ),
    row(
        &["del", "ssl", "ca-file"],
        "del ssl ca-file <cafile>                : delete an unused CA file",
        Cmd::CaFile(CaOp::Del, Kind::Ca),
    ),
    row(
        &["del", "ssl", "crl-file"],
        "del ssl crl-file <crlfile>              : delete an unused CRL file",
        Cmd::CaFile(CaOp::Del, Kind::Crl),
    ),
    row(
        &["new", "ssl", "ca-file"],
        "new ssl ca-file <cafile>                : create a new CA file to be used in a crt-list",
        Cmd::CaFile(CaOp::New, Kind::Ca),
    ),
    row(
        &["new", "ssl", "crl-file"],
        "new ssl crlfile <crlfile>               : create a new CRL file to be used in a crt-list",
        Cmd::CaFile(CaOp::New, Kind::Crl),
    ),
    row(
        &["set", "ssl", "ca-file"],
        "set ssl ca-file <cafile> <payload>      : replace a CA file",
        Cmd::CaFile(CaOp::Set, Kind::Ca),
    ),
    row(
        &["set", "ssl", "crl-file"],
        "set ssl crl-file <crlfile> <payload>    : replace a CRL file",
        Cmd::CaFile(CaOp::Set, Kind::Crl),
    ),
    row(
        &["show", "ssl", "ca-file"],
        "show ssl ca-file [<cafile>[:<index>]]   : display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>",
        Cmd::CaFile(CaOp::Show, Kind::Ca),
    ),
    row(
        &["show", "ssl", "crl-file"],
        "show ssl crl-file [<crlfile[:<index>>]] : display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>",
        Cmd::CaFile(CaOp::Show, Kind::Crl),
    ),
];

/// HAProxy's reply when the level is too low (`cli_has_level`).
pub const DENIED: &str = "Permission denied\n";

/// The reply of a command a level may not run, else `None`.
pub fn need(level: Level, min: Level) -> Option<Outcome> {
    (level < min).then(|| Outcome::text(DENIED))
}

/// The row whose words all begin `args` (HAProxy's `cli_find_kw`).
fn find(args: &[String]) -> Option<&'static Row> {
    ROWS.iter().find(|r| {
        r.words
            .iter()
            .enumerate()
            .all(|(i, w)| args.get(i).is_some_and(|a| a == w))
    })
}

/// Runs one command line (its words, and the payload after `<<`).
pub async fn execute(api: &Api, level: Level, args: &[String], payload: Option<&str>) -> Outcome {
    let Some(row) = find(args) else {
        return Outcome::text(usage(args));
    };
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match row.cmd {
        Cmd::Help => Outcome::text(usage(args)),
        Cmd::Prompt => Outcome::TogglePrompt,
        Cmd::Quit => Outcome::Quit,
        Cmd::User => Outcome::SetLevel(Level::User, a(1) == "-"),
        Cmd::Operator if level < Level::Operator => Outcome::text(DENIED),
        Cmd::Operator => Outcome::SetLevel(Level::Operator, a(1) == "-"),
        Cmd::ShowCliLevel => Outcome::text(format!("{}\n", level.name())),
        Cmd::ShowVersion => Outcome::text(format!("{}\n", crate::VERSION)),
        Cmd::ShowInfo => show::info(api, &args[2..]),
        Cmd::ShowStat => show::stat(api, level, &args[2..]),
        Cmd::ShowServersState => show::servers_state(api, a(3)),
        Cmd::ShowBackend => show::backends(api),
        Cmd::ShowErrors => show::errors(level),
        Cmd::ShowSess => show::sessions(api, level, a(2)),
        Cmd::ShowMap => maps::show(api, a(2), false),
        Cmd::ShowAcl => maps::show(api, a(2), true),
        Cmd::EnableServer => servers::set_state(api, level, a(2), "ready"),
        Cmd::DisableServer => servers::set_state(api, level, a(2), "maint"),
        Cmd::SetServer => servers::set(api, level, &args[2..]),
        Cmd::SetWeight => servers::set_weight(api, level, a(2), a(3)),
        Cmd::GetWeight => servers::get_weight(api, a(2)),
        Cmd::EnableHealth => servers::health(api, level, a(2), false, true),
        Cmd::DisableHealth => servers::health(api, level, a(2), false, false),
        Cmd::EnableAgent => servers::health(api, level, a(2), true, true),
        Cmd::DisableAgent => servers::health(api, level, a(2), true, false),
        Cmd::SetMaxconnServer => servers::set_maxconn(api, level, a(3), a(4)),
        Cmd::SetMaxconnFrontend => servers::set_frontend_maxconn(api, level, a(3), a(4)),
        Cmd::ClearCounters => show::clear_counters(api, level, a(2) == "all"),
        Cmd::AddMap => maps::add(level, &args[2..], payload, false),
        Cmd::SetMap => maps::set(level, &args[2..]),
        Cmd::DelMap => maps::del(level, &args[2..], false),
        Cmd::ClearMap => maps::clear(level, &args[2..], false),
        Cmd::AddAcl => maps::add(level, &args[2..], payload, true),
        Cmd::DelAcl => maps::del(level, &args[2..], true),
        Cmd::ClearAcl => maps::clear(level, &args[2..], true),
        Cmd::AddServer => dynamic::add(api, level, &args[2..]).await,
        Cmd::DelServer => dynamic::del(api, level, a(2)).await,
        Cmd::ShowTable => tables::table(api, level, tables::Action::Show, &args[2..]),
        Cmd::ClearTable => tables::table(api, level, tables::Action::Clear, &args[2..]),
        Cmd::SetTable => tables::table(api, level, tables::Action::Set, &args[2..]),
        Cmd::ShutdownSessionsServer => servers::shutdown_sessions(api, level, a(3)),
        Cmd::SetSslCert => certs::set(level, a(3), payload),
        Cmd::CommitSslCert => certs::commit(level, a(3)),
        Cmd::AbortSslCert => certs::abort(level, a(3)),
        Cmd::ShowSslCert => certs::show(level, a(3)),
        Cmd::NewSslCert => certs::new(level, a(3)),
        Cmd::ShowOcspResponse => ocsp::show(a(3)),
        Cmd::SetOcspResponse => ocsp::set(level, a(3), payload),
        Cmd::DelSslCert => certs::del(level, a(3)),
        Cmd::AddCrtList => crt_list::add(level, a(3), a(4), payload),
        Cmd::DelCrtList => crt_list::del(level, a(3), a(4)),
        Cmd::ShowCrtList => crt_list::show(&args[3..]),
        Cmd::CaFile(op, kind) => match op {
            CaOp::New => cafiles::new(kind, level, a(3)),
            CaOp::Set => cafiles::set(kind, level, a(3), payload),
            CaOp::Commit => cafiles::commit(kind, level, a(3)),
            CaOp::Abort => cafiles::abort(kind, level, a(3)),
            CaOp::Show => cafiles::show(kind, level, a(3)),
            CaOp::Del => cafiles::del(kind, level, a(3)),
        },
    }
}

/// HAProxy's `update_word_fingerprint`: which letters a word has and which follow which.
fn fingerprint(fp: &mut [u8; 1024], word: &str) {
    let class = |c: u8| match c.to_ascii_lowercase() {
        c @ b'a'..=b'z' => (c - b'a' + 1) as usize,
        b'0'..=b'9' => 27,
        _ => 28,
    };
    let mut from = 28;
    for &c in word.as_bytes() {
        let to = class(c);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
}

fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> i32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (*x as i32 - *y as i32).abs())
        .sum()
}

/// How many words of a command HAProxy compares (`CLI_PREFIX_KW_NB`).
const PREFIX_WORDS: usize = 5;
/// At most this many fuzzy suggestions (`CLI_MAX_MATCHES`).
const MAX_MATCHES: usize = 5;

/// `help [words]`, and the reply to an unknown command: HAProxy's `cli_gen_usage_msg`.
pub fn usage(args: &[String]) -> String {
    let mut args = args;
    let is_help = args.first().is_some_and(|a| a == "help");
    if is_help {
        args = &args[1..];
    }
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    // The number of leading words some command matches exactly.
    let mut length = 0;
    for r in ROWS {
        for (i, w) in r.words.iter().enumerate().take(PREFIX_WORDS) {
            if arg(i).is_empty() || arg(i) != *w {
                break;
            }
            length = length.max(i + 1);
        }
    }
    let mut out = String::from(if is_help {
        "The following commands are valid at this level:\n"
    } else if length == 0 && arg(0).is_empty() {
        "Unknown command. Please enter one of the following commands only:\n"
    } else {
        "Unknown command, but maybe one of the following ones is a better match:\n"
    });
    let prefix_ok = |r: &Row| (0..length).all(|i| r.words.get(i).is_some_and(|w| *w == arg(i)));
    let mut matches: Vec<(&Row, i32)> = Vec::new();
    if !arg(length).is_empty() {
        for r in ROWS.iter().filter(|r| r.usage.is_some() && prefix_ok(r)) {
            let (mut wa, mut wb) = ([0u8; 1024], [0u8; 1024]);
            let mut total = 0;
            for w in args.iter().take(PREFIX_WORDS).skip(length) {
                if w.is_empty() {
                    break;
                }
                fingerprint(&mut wa, w);
                total += w.len() as i32;
            }
            for w in r.words.iter().take(PREFIX_WORDS).skip(length) {
                fingerprint(&mut wb, w);
                total += w.len() as i32;
            }
            let dist = distance(&wa, &wb);
            let worst = if matches.len() == MAX_MATCHES {
                matches[MAX_MATCHES - 1].1
            } else {
                i32::MAX
            };
            if dist < 5 * total / 2 && dist < worst {
                if matches.len() == MAX_MATCHES {
                    matches.pop();
                }
                let at = matches.partition_point(|(_, d)| *d <= dist);
                matches.insert(at, (r, dist));
            }
        }
    }
    let mut entries: Vec<&'static str> = Vec::new();
    if let Some(&(_, best)) = matches.first() {
        for (r, d) in &matches {
            if *d > 5 * best / 2 {
                break;
            }
            entries.extend(r.usage);
        }
    } else {
        entries.extend(ROWS.iter().filter(|r| prefix_ok(r)).filter_map(|r| r.usage));
    }
    entries.sort_unstable();
    for e in entries {
        out.push_str("  ");
        out.push_str(e);
        out.push('\n');
    }
    out.push_str(
        "  help [<command>]                        : list matching or all commands\n  \
         prompt                                  : toggle interactive mode with prompt\n  \
         quit                                    : disconnect\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::usage;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn help_and_suggestions_read_as_haproxy() {
        let h = usage(&w("help"));
        assert!(
            h.starts_with("The following commands are valid at this level:\n  abort ssl ca-file")
        );
        assert!(h.ends_with("  quit                                    : disconnect\n"));
        let s = usage(&w("help show"));
        assert!(
            s.lines()
                .skip(1)
                .take_while(|l| !l.contains("help ["))
                .all(|l| l.starts_with("  show "))
        );
        assert!(
            usage(&[])
                .starts_with("Unknown command. Please enter one of the following commands only:\n")
        );
        let u = usage(&w("show servers stat"));
        assert!(u.starts_with(
            "Unknown command, but maybe one of the following ones is a better match:\n"
        ));
        assert!(u.contains("show servers state [<backend>]"));
    }
}
