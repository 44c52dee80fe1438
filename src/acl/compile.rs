//! ACL criteria (`acl NAME FETCH[(args)][,conv[(args)]…] [flags] [--] values…` and
//! anonymous `{ … }` ones): parses the fetch and its arguments, the converters, the
//! flags `-i -f -m -n -M -u --`, the integer operators `eq ge gt le lt`, and the
//! patterns, into a [`Criterion`] compiled once at load. Derived ACL keywords
//! (`path_beg`, `hdr_dom(host)`, `urlp_len(x)`, …) are fetch + implied match method.

use super::conv::{self, Conv, ConvDef};
use super::fetch::{self, ArgType, ArgVal, FetchCall, Sample};
use super::matcher::{Matcher, Method, parse_range};
use super::names::{HAPROXY_CONVERTERS, HAPROXY_FETCHES};
use super::{SampleSource, Visibility};

/// One compiled ACL criterion (one `acl` line or one anonymous ACL).
#[derive(Debug)]
pub(crate) struct Criterion {
    fetch: FetchCall,
    convs: Vec<Box<dyn Conv>>,
    matcher: Matcher,
    /// For the `method` ACL keyword without `-m`: the patterns naming a method HAProxy
    /// knows, matched case-sensitively and only against those methods (the others,
    /// in `matcher`, only match methods HAProxy does not know, with `-i` if given).
    known_methods: Option<Matcher>,
    vis: Visibility,
}

/// The methods HAProxy 2.6 knows (`enum http_meth_t`); any other one is "other".
fn known_method(m: &[u8]) -> bool {
    matches!(
        m,
        b"OPTIONS" | b"GET" | b"HEAD" | b"POST" | b"PUT" | b"DELETE" | b"TRACE" | b"CONNECT"
    )
}

/// The match method each derived-keyword suffix implies.
fn suffix_method(suffix: &str) -> Method {
    match suffix {
        "_beg" => Method::Beg,
        "_dir" => Method::Dir,
        "_dom" => Method::Dom,
        "_end" => Method::End,
        "_len" => Method::Len,
        "_reg" => Method::Reg,
        _ => Method::Sub,
    }
}

/// ACL-only keywords that are not derived from a suffix.
const ACL_KEYWORDS: &[(&str, &str, Method)] = &[
    ("method", "method", Method::Str),
    ("req.ver", "req.ver", Method::Str),
    ("req_ver", "req.ver", Method::Str),
];

/// Resolves an ACL keyword to (fetch name, implied method).
fn acl_keyword(name: &str) -> Option<(&'static str, Method)> {
    if let Some((_, f, m)) = ACL_KEYWORDS.iter().find(|(k, _, _)| *k == name) {
        return Some((f, *m));
    }
    if let Some((def, suffix)) = fetch::find_derived(name) {
        return Some((def.name, suffix_method(suffix)));
    }
    fetch::find(name)
        .filter(|d| d.derive == fetch::Derive::Suffixes && d.out == fetch::SmpType::Str)
        .map(|d| (d.name, Method::Str))
}

/// A compiled converter chain with the row of each converter.
type Chain = Vec<(Box<dyn Conv>, &'static ConvDef)>;

/// A parsed `name(args)` item.
struct Call<'a> {
    name: &'a str,
    /// Raw arguments with the byte offset (in the word) of the separator before each.
    args: Vec<(String, usize)>,
    /// Offset of the closing parenthesis.
    close: usize,
}

/// Parses `name[(a,b…)]` at `pos` in `word`; returns the call and the offset after it.
fn parse_call(word: &str, pos: usize) -> Result<(Call<'_>, usize), String> {
    let b = word.as_bytes();
    let mut i = pos;
    while i < b.len() && b[i] != b'(' && b[i] != b',' {
        i += 1;
    }
    let name = &word[pos..i];
    if i >= b.len() || b[i] == b',' {
        return Ok((
            Call {
                name,
                args: Vec::new(),
                close: i,
            },
            i,
        ));
    }
    // arguments
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut sep = i + 1;
    let mut j = i + 1;
    let mut quote: Option<u8> = None;
    loop {
        let Some(&c) = b.get(j) else {
            return Err("expected ')'".into());
        };
        match (quote, c) {
            (None, b'\\') if j + 1 < b.len() => {
                // The escaped character whole: it may be several bytes long.
                let ch = word[j + 1..].chars().next().unwrap_or('?');
                cur.push(ch);
                j += ch.len_utf8();
            }
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b',') => {
                args.push((std::mem::take(&mut cur), sep));
                sep = j;
            }
            (None, b')') => {
                if !(args.is_empty() && cur.is_empty()) {
                    args.push((cur, sep));
                }
                return Ok((
                    Call {
                        name,
                        args,
                        close: j,
                    },
                    j + 1,
                ));
            }
            _ => {
                // keep multi-byte characters intact
                let ch = word[j..].chars().next().unwrap_or('?');
                cur.push(ch);
                j += ch.len_utf8() - 1;
            }
        }
        j += 1;
    }
}

/// Parses the `,conv(args)…` chain of `text` from `pos` (at a ','). `unknown` words the
/// error for a converter HAProxy does not have either, `bad_args` the one for wrong
/// arguments, `ctx` wraps every message with where it happened.
fn parse_converters(
    text: &str,
    mut pos: usize,
    unknown: &dyn Fn(&str) -> String,
    bad_args: &dyn Fn(&Call<'_>, &ConvDef, String) -> String,
    ctx: &dyn Fn(String) -> String,
) -> Result<Chain, String> {
    let mut convs = Vec::new();
    while pos < text.len() {
        let (c, next) = parse_call(text, pos + 1).map_err(ctx)?;
        pos = next;
        let Some(cdef) = conv::find(c.name) else {
            if haproxy_converter(c.name) {
                return Err(format!(
                    "converter '{}' is not supported yet by gatehouse",
                    c.name
                ));
            }
            return Err(unknown(c.name));
        };
        let cargs = typed_args(text, &c, cdef.args, cdef.min_args)
            .map_err(|e| ctx(bad_args(&c, cdef, e)))?;
        let built = conv::build(cdef, &cargs).map_err(|e| ctx(bad_args(&c, cdef, e)))?;
        convs.push((built, cdef));
        if pos < text.len() && text.as_bytes()[pos] != b',' {
            return Err(ctx(format!("missing comma after converter '{}'", c.name)));
        }
    }
    Ok(convs)
}

/// Checks and converts a call's arguments against the expected types.
fn typed_args(
    word: &str,
    call: &Call<'_>,
    types: &[ArgType],
    min: usize,
) -> Result<Vec<ArgVal>, String> {
    if call.args.len() > types.len() {
        let from = call.args[types.len()].1;
        let from = if types.is_empty() {
            from
        } else {
            from.min(call.close)
        };
        return Err(format!(
            "expected ')' before '{}'",
            &word[from..=call.close]
        ));
    }
    if call.args.len() < min {
        return Err(format!(
            "missing arguments (got {}/{}), type '{}' expected",
            call.args.len(),
            min,
            types[call.args.len()].name()
        ));
    }
    call.args
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, ((text, _), t))| match t {
            ArgType::Str => Ok(ArgVal::Str(text.as_str().into())),
            ArgType::Int => text.trim().parse::<i64>().map(ArgVal::Int).map_err(|_| {
                format!(
                    "failed to parse '{text}' as type 'integer' at position {}",
                    i + 1
                )
            }),
        })
        .collect()
}

/// Whether `name` is a real HAProxy fetch.
fn haproxy_fetch(name: &str) -> bool {
    HAPROXY_FETCHES.contains(&name)
}

/// Whether `name` is a real HAProxy converter.
fn haproxy_converter(name: &str) -> bool {
    HAPROXY_CONVERTERS.contains(&name) || name.starts_with("map_")
}

impl Criterion {
    /// Parses and compiles a criterion from its words (the words after the ACL name,
    /// or between braces).
    pub(crate) fn parse(words: &[String]) -> Result<Criterion, String> {
        let Some(word) = words.first().filter(|w| !w.is_empty()) else {
            return Err("missing fetch method in ACL expression ''".into());
        };
        let name_end = word.find(['(', ',']).unwrap_or(word.len());
        let name = &word[..name_end];
        let kw = acl_keyword(name);
        // how errors about this expression are introduced
        let ctx = |msg: String| match kw {
            Some(_) => format!("ACL keyword '{name}' : {msg}"),
            None => format!("fetch method '{name}' : {msg} in ACL expression '{word}'"),
        };
        let (call, pos) = parse_call(word, 0).map_err(ctx)?;
        let fetch_name = kw.map_or(call.name, |(f, _)| f);
        let Some(def) = fetch::find(fetch_name) else {
            // The ACL derivatives HAProxy has are in its list by name.
            if haproxy_fetch(call.name) {
                return Err(format!(
                    "fetch '{}' is not supported yet by gatehouse",
                    call.name
                ));
            }
            return Err(format!(
                "unknown fetch method '{}' in ACL expression '{word}'",
                call.name
            ));
        };
        let args = typed_args(word, &call, def.args, def.min_args).map_err(ctx)?;
        if let Some(check) = def.check {
            check(&args).map_err(ctx)?;
        }
        let fetch = FetchCall::new(def, &args);
        let mut out = def.out;

        // converters: those after the fetch, then, for a plain fetch, HAProxy's legacy
        // syntax: each following word that names a converter is one too (and, as in
        // HAProxy 2.6, still counts as a pattern: `req.hdr(x) lower foo` matches `X: FOO`
        // and `X: LOWER`).
        let mut chain = word[pos..].to_string();
        if kw.is_none() {
            for w in &words[1..] {
                let n = &w[..w.find(['(', ',']).unwrap_or(w.len())];
                if !(conv::find(n).is_some() || haproxy_converter(n)) {
                    break;
                }
                chain.push(',');
                chain.push_str(w);
            }
        }
        let text = chain.as_str();
        let pos = 0;
        let convs = parse_converters(
            text,
            pos,
            &|cname| match kw {
                Some(_) => format!("ACL keyword '{name}' : unknown converter '{cname}'."),
                None => format!("unknown converter '{cname}' in ACL expression '{word}'"),
            },
            &|c, def, e| {
                let n = c.args.len().min(def.args.len().saturating_sub(1)) + 1;
                format!("invalid arg {n} in converter '{}' : {e}.", c.name)
            },
            &ctx,
        )?;
        if let Some((_, def)) = convs.last() {
            out = def.out;
        }
        let convs: Vec<Box<dyn Conv>> = convs.into_iter().map(|(c, _)| c).collect();

        // the default method: the ACL keyword's, unless a converter changed the type
        let mut method = match kw {
            Some((_, m)) if convs.is_empty() => m,
            _ => Method::default_for(out),
        };
        let mut icase = false;
        let mut explicit = false;
        let mut no_dns = false;
        let mut map = false;
        let mut rest = &words[1..];
        let mut matcher: Option<Matcher> = None;
        // flags
        while let Some(flag) = rest.first().filter(|w| w.starts_with('-')) {
            match flag.as_str() {
                "-i" => icase = true,
                "-n" => no_dns = true,
                "-M" => map = true,
                "--" => {
                    rest = &rest[1..];
                    break;
                }
                "-u" => {
                    let ok = rest.get(1).is_some_and(|v| v.parse::<i64>().is_ok());
                    if !ok {
                        return Err("the argument of -u must be an integer".into());
                    }
                    rest = &rest[1..];
                }
                "-m" => {
                    let Some(name) = rest.get(1) else {
                        return Err("missing matcher for '-m'".into());
                    };
                    if matcher.is_some() {
                        return Err("'-m' must only be specified before patterns and files".into());
                    }
                    explicit = true;
                    method = Method::from_name(name).ok_or_else(|| {
                        format!("unknown matching method '{name}' when parsing ACL expression")
                    })?;
                    rest = &rest[1..];
                }
                "-f" => {
                    let file = rest.get(1).map_or("", |s| s.as_str());
                    let m = matcher.get_or_insert_with(|| Matcher::new(method));
                    load_file(m, file, icase, no_dns, map)?;
                    rest = &rest[1..];
                }
                _ => {
                    return Err(format!(
                        "'{flag}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                    ));
                }
            }
            rest = &rest[1..];
        }
        let mut m = matcher.unwrap_or_else(|| Matcher::new(method));
        let mut known_methods =
            (name == "method" && !explicit && convs.is_empty()).then(|| Matcher::new(Method::Str));

        // patterns
        let mut op: Option<&str> = None;
        for p in rest {
            if m.method().takes_ints() {
                if let "eq" | "ge" | "gt" | "le" | "lt" = p.as_str() {
                    op = Some(p.as_str());
                    continue;
                }
                if let Some(o) = op.filter(|o| *o != "eq" && !p.contains(':')) {
                    let n: i64 = p.parse().map_err(|_| format!("'{p}' is not a number"))?;
                    let (lo, hi) = match o {
                        "ge" => (n, i64::MAX),
                        "gt" => (n.saturating_add(1), i64::MAX),
                        "le" => (i64::MIN, n),
                        _ => (i64::MIN, n.saturating_sub(1)),
                    };
                    m.add_range(lo, hi);
                    continue;
                }
                let (lo, hi) = parse_range(p)?;
                m.add_range(lo, hi);
                continue;
            }
            match known_methods.as_mut() {
                Some(k) if known_method(p.as_bytes()) => k.add(p, false, no_dns)?,
                _ => m.add(p, icase, no_dns)?,
            }
        }
        Ok(Criterion {
            fetch,
            convs,
            matcher: m,
            known_methods,
            vis: def.vis,
        })
    }

    /// The fetch it reads.
    pub(crate) fn fetch(&self) -> &FetchCall {
        &self.fetch
    }

    /// The phase whose data the criterion reads.
    pub(crate) fn visibility(&self) -> Visibility {
        self.vis
    }

    /// The patterns, when the criterion is the fetch's values compared with exact
    /// strings (`-m str`, with or without `-i`) and nothing else (no converter).
    pub(crate) fn exact_strings(&self) -> Option<impl Iterator<Item = &[u8]>> {
        if !self.convs.is_empty() || self.known_methods.is_some() {
            return None;
        }
        self.matcher.exact_strings()
    }

    /// True when one value the fetch returns (after conversion) matches a pattern.
    pub(crate) fn eval(&self, src: &dyn SampleSource) -> bool {
        let m = &self.matcher;
        if let Some(k) = &self.known_methods {
            return self.fetch.for_each(src, &mut |s: Sample<'_>| match s {
                Sample::Str(b) if known_method(b) => k.matches(s),
                _ => m.matches(s),
            });
        }
        if self.convs.is_empty() {
            self.fetch.for_each(src, &mut |s: Sample<'_>| m.matches(s))
        } else {
            let convs = &self.convs;
            self.fetch.for_each(src, &mut |s| {
                conv::apply(convs, src, s, &mut |v| m.matches(v))
            })
        }
    }
}

/// Loads the patterns of a `-f` file: one per line, leading blanks stripped, empty lines
/// and `#` comments ignored (with `-M`, only the first column of each line).
fn load_file(
    m: &mut Matcher,
    file: &str,
    icase: bool,
    no_dns: bool,
    map: bool,
) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|_| format!("failed to open pattern file <{file}>"))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start_matches([' ', '\t']).trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `-M`: a map file, whose first column holds the pattern
        let line = if map {
            line.split([' ', '\t']).next().unwrap_or(line)
        } else {
            line
        };
        let res = if m.method().takes_ints() {
            parse_range(line).map(|(lo, hi)| m.add_range(lo, hi))
        } else {
            m.add(line, icase, no_dns)
        };
        res.map_err(|e| format!("{e} at line {} of file '{file}'", n + 1))?;
    }
    Ok(())
}

/// Where a sample expression ends in a log-format string: after the fetch name, its
/// parenthesised arguments and each `,converter(args)`. HAProxy stops at the first
/// character that cannot continue the expression (normally the closing `]`).
pub(crate) fn expr_end(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b"._-".contains(&b[i])) {
            i += 1;
        }
        if b.get(i) == Some(&b'(') {
            let mut quote: Option<u8> = None;
            i += 1;
            while i < b.len() {
                match (quote, b[i]) {
                    (_, b'\\') => i += 1,
                    (None, b'"' | b'\'') => quote = Some(b[i]),
                    (Some(q), c) if c == q => quote = None,
                    (None, b')') => break,
                    _ => {}
                }
                i += 1;
            }
            if i >= b.len() {
                return b.len();
            }
            i += 1;
        }
        if b.get(i) == Some(&b',') {
            i += 1;
            continue;
        }
        return i.min(b.len());
    }
}

/// A sample expression `fetch(args),conv(args)…` compiled once at load, for the
/// log-format engine. Errors read like HAProxy's `sample_parse_expr()` ones.
#[derive(Debug)]
pub(crate) struct Expr {
    pub(crate) fetch: FetchCall,
    pub(crate) convs: Vec<Box<dyn Conv>>,
    pub(crate) vis: Visibility,
}

impl Expr {
    /// Parses `word` (the whole expression, nothing after it).
    pub(crate) fn parse(word: &str) -> Result<Expr, String> {
        let (call, pos) = parse_call(word, 0)?;
        let Some(def) = fetch::find(call.name) else {
            if haproxy_fetch(call.name) {
                return Err(format!(
                    "fetch method '{}' is not supported yet by gatehouse",
                    call.name
                ));
            }
            if call.name.is_empty() {
                return Err("unknown fetch method ''".into());
            }
            return Err(format!("unknown fetch method '{}'", call.name));
        };
        let args = typed_args(word, &call, def.args, def.min_args)
            .map_err(|e| format!("fetch method '{}' : {e}", call.name))?;
        if let Some(Err(e)) = def.check.map(|c| c(&args)) {
            // HAProxy words type errors and checks differently.
            return Err(if e.starts_with("failed to parse") {
                format!("fetch method '{}' : {e}", call.name)
            } else {
                format!("invalid args in fetch method '{}' : {e}", call.name)
            });
        }
        let mut fetch = FetchCall::new(def, &args);
        // Outside ACLs, header fetches return the last occurrence by default.
        fetch.default_last();
        let convs = parse_converters(
            word,
            pos,
            &|name| format!("unknown converter '{name}'"),
            &|c, _, e| format!("invalid args in converter '{}' : {e}", c.name),
            &|e| e,
        )?
        .into_iter()
        .map(|(c, _)| c)
        .collect();
        Ok(Expr {
            fetch,
            convs,
            vis: def.vis,
        })
    }

    /// Calls `each` with the expression's first value, if there is one.
    pub(crate) fn first(&self, src: &dyn SampleSource, each: &mut dyn FnMut(Sample<'_>)) {
        let mut once = |s: Sample<'_>| {
            each(s);
            true
        };
        if self.convs.is_empty() {
            self.fetch.for_each(src, &mut once);
        } else {
            let convs = &self.convs;
            // Only the first fetched value is converted, as in HAProxy's
            // `sample_process()`: a failed conversion leaves the sample absent.
            self.fetch.for_each(src, &mut |s| {
                conv::apply(convs, src, s, &mut once);
                true
            });
        }
    }
}
