//! Keyword table rows: what every section's keyword tables are made of. The parser,
//! "did you mean", "not supported yet" errors and the `docs/compat.md` test all read them.

use super::diag::Diag;
use super::model::{Global, Proxy, ProxyKind, Userlist};
use super::span::Span;
use crate::config::semantics::Semantics;
use std::path::{Path, PathBuf};

/// Whether gatehouse implements a HAProxy keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Implemented with HAProxy's meaning, and a test shows it taking effect.
    Supported,
    /// Parsed and checked as HAProxy does, but without effect yet: a configuration using
    /// it loads with a warning saying so (the text says what is missing).
    Parsed(&'static str),
    /// A tuning keyword of HAProxy's internals that has no meaning in gatehouse's design:
    /// its arguments are checked, then it is ignored with a warning giving the reason.
    Ignored(&'static str),
    /// A real HAProxy keyword that gatehouse does not implement yet: refused with a
    /// message saying so.
    NotYet,
    /// A real HAProxy keyword gatehouse will not implement, with the reason.
    Never(&'static str),
}

impl Status {
    /// The word `docs/compat.md` uses for this status.
    pub fn word(self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::Parsed(_) => "parsed",
            Status::Ignored(_) => "ignored",
            Status::NotYet => "not yet",
            Status::Never(_) => "will not",
        }
    }

    /// The warning a configuration using `name` gets at load (`None` unless the keyword
    /// is accepted without effect).
    pub fn warning(self, name: &str) -> Option<String> {
        match self {
            Status::Parsed(why) => Some(format!(
                "'{name}' is parsed but has no effect yet in gatehouse: {why}."
            )),
            Status::Ignored(why) => Some(format!(
                "'{name}' has no effect in gatehouse and is ignored: {why}."
            )),
            _ => None,
        }
    }

    /// True when a configuration using the keyword loads (supported, parsed, ignored).
    pub fn loads(self) -> bool {
        matches!(
            self,
            Status::Supported | Status::Parsed(_) | Status::Ignored(_)
        )
    }
}

/// Why the persistence keywords have no effect yet.
pub const NO_PERSISTENCE: &str = "persistence (cookies, stick tables) is not applied yet";

/// Allowed in `defaults`.
pub const DEF: u8 = 1;
/// Allowed in `frontend`.
pub const FE: u8 = 2;
/// Allowed in `listen`.
pub const LI: u8 = 4;
/// Allowed in `backend`.
pub const BE: u8 = 8;
/// Allowed in every proxy section.
pub const ALL: u8 = DEF | FE | LI | BE;
/// Frontend-side keywords (defaults, frontend, listen).
pub const FRONT: u8 = DEF | FE | LI;
/// Backend-side keywords (defaults, listen, backend).
pub const BACK: u8 = DEF | LI | BE;

/// The bit of `kind` in a scope mask.
pub fn scope_bit(kind: ProxyKind) -> u8 {
    match kind {
        ProxyKind::Defaults => DEF,
        ProxyKind::Frontend => FE,
        ProxyKind::Listen => LI,
        ProxyKind::Backend => BE,
    }
}

/// What a proxy keyword parser gets: the proxy being built and a place for warnings.
pub struct ProxyCtx<'a> {
    /// The proxy the keyword applies to.
    pub proxy: &'a mut Proxy,
    /// The keyword's line.
    pub span: &'a Span,
    /// Warnings and notices (errors are returned).
    pub diags: &'a mut Vec<Diag>,
    /// True when the line started with `no` (`no option …`, `no log`).
    pub negated: bool,
    /// Where relative file names resolve (`default-path`); `None`: the working directory.
    pub base_dir: Option<&'a Path>,
    /// The checks of log-formats and errorfiles, made while parsing as HAProxy does.
    pub sem: &'a dyn Semantics,
}

impl ProxyCtx<'_> {
    /// Pushes a warning at the keyword's line.
    pub fn warn(&mut self, message: impl Into<String>) {
        self.diags.push(Diag::warning(self.span, message));
    }

    /// The path a file argument names: absolute paths as they are, relative ones
    /// under the `default-path` directory.
    pub fn resolve(&self, file: &str) -> PathBuf {
        match self.base_dir {
            Some(dir) if !file.starts_with('/') => dir.join(file),
            _ => PathBuf::from(file),
        }
    }
}

/// Parses one proxy keyword line (all its words, the keyword included).
pub type ProxyParse = fn(&mut ProxyCtx<'_>, &[String]) -> Result<(), String>;

/// A row of a proxy keyword table.
pub struct ProxyKeyword {
    /// The keyword; two words for families (`option httplog`, `timeout client`).
    pub name: &'static str,
    /// Sections where it is allowed (`DEF | FE | LI | BE` bits).
    pub scope: u8,
    /// Implementation status.
    pub status: Status,
    /// Its parser (`None` unless the keyword loads: supported, parsed or ignored).
    pub parse: Option<ProxyParse>,
    /// One-line help.
    pub help: &'static str,
}

/// A supported proxy keyword row.
pub const fn kw(
    name: &'static str,
    scope: u8,
    parse: ProxyParse,
    help: &'static str,
) -> ProxyKeyword {
    ProxyKeyword {
        name,
        scope,
        status: Status::Supported,
        parse: Some(parse),
        help,
    }
}

/// A proxy keyword row that is parsed and checked but has no effect yet (`why`).
pub const fn parsed(
    name: &'static str,
    scope: u8,
    parse: ProxyParse,
    why: &'static str,
    help: &'static str,
) -> ProxyKeyword {
    ProxyKeyword {
        name,
        scope,
        status: Status::Parsed(why),
        parse: Some(parse),
        help,
    }
}

/// A not-yet-supported proxy keyword row.
pub const fn not_yet(name: &'static str, scope: u8) -> ProxyKeyword {
    ProxyKeyword {
        name,
        scope,
        status: Status::NotYet,
        parse: None,
        help: "",
    }
}

/// Parses one `global` keyword line.
pub type GlobalParse = fn(&mut Global, &[String], &Span, &mut Vec<Diag>) -> Result<(), String>;

/// A row of the `global` keyword table.
pub struct GlobalKeyword {
    /// The keyword (two words for `stats socket`, `stats timeout`).
    pub name: &'static str,
    /// Implementation status.
    pub status: Status,
    /// Its parser.
    pub parse: Option<GlobalParse>,
    /// One-line help.
    pub help: &'static str,
}

/// Parses one `userlist` keyword line.
pub type UserlistParse = fn(&mut Userlist, &[String], &Span) -> Result<(), String>;

/// A row of the `userlist` keyword table.
pub struct UserlistKeyword {
    /// The keyword.
    pub name: &'static str,
    /// Its parser.
    pub parse: UserlistParse,
    /// One-line help.
    pub help: &'static str,
}

/// Checks that a keyword got at most `max` arguments after its `n` name words.
pub fn max_args(words: &[String], name_words: usize, max: usize) -> Result<(), String> {
    if words.len() > name_words + max {
        let name = words[..name_words].join(" ");
        return Err(format!(
            "'{name}' cannot handle unexpected argument '{}'.",
            words[name_words + max]
        ));
    }
    Ok(())
}

/// Returns argument `i`, or an error saying `name` expects `what`.
pub fn arg<'w>(words: &'w [String], i: usize, what: &str) -> Result<&'w str, String> {
    words.get(i).map(String::as_str).ok_or_else(|| {
        format!(
            "'{}' expects {what}.",
            words[..i.min(words.len())].join(" ")
        )
    })
}
