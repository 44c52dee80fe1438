//! Pattern matching methods (configuration.txt 7.1, `-m found|bool|int|ip|bin|len|str|
//! sub|reg|beg|end|dir|dom`): patterns are parsed and compiled once at load; matching
//! a sample against them allocates nothing (regexes may fill a per-thread cache on
//! their first use).

use super::fetch::{Sample, SmpType, str_to_int};
use super::net::IpNet;
use regex::bytes::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;

/// A matching method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Sub,
    Reg,
    Beg,
    End,
    Dir,
    Dom,
}

impl Method {
    /// The method named after `-m`.
    pub(crate) fn from_name(name: &str) -> Option<Method> {
        Some(match name {
            "found" => Method::Found,
            "bool" => Method::Bool,
            "int" => Method::Int,
            "ip" => Method::Ip,
            "bin" => Method::Bin,
            "len" => Method::Len,
            "str" => Method::Str,
            "sub" => Method::Sub,
            "reg" => Method::Reg,
            "beg" => Method::Beg,
            "end" => Method::End,
            "dir" => Method::Dir,
            "dom" => Method::Dom,
            _ => return None,
        })
    }

    /// The default method for a sample type (section 7.1's table).
    pub(crate) fn default_for(t: SmpType) -> Method {
        match t {
            SmpType::Bool => Method::Bool,
            SmpType::Int => Method::Int,
            SmpType::Ip => Method::Ip,
            SmpType::Str => Method::Str,
        }
    }

    /// True when patterns are integers, so `eq`/`ge`/`gt`/`le`/`lt` operators apply.
    pub(crate) fn takes_ints(self) -> bool {
        matches!(self, Method::Int | Method::Len)
    }
}

/// A string pattern and whether it was declared after `-i` (its bytes are then kept
/// lowercased, so that a lowercase sample, the usual case for `Host`, matches with one
/// plain comparison).
#[derive(Clone, Debug)]
struct StrPat {
    bytes: Box<[u8]>,
    icase: bool,
}

impl StrPat {
    /// A pattern of `text`, lowercased when `icase`.
    fn new(text: &[u8], icase: bool) -> StrPat {
        StrPat {
            bytes: if icase {
                text.to_ascii_lowercase().into()
            } else {
                text.into()
            },
            icase,
        }
    }

    /// Whether `b` is the pattern (ignoring case after `-i`).
    #[inline]
    fn eq(&self, b: &[u8]) -> bool {
        let p = &*self.bytes;
        p.len() == b.len()
            && (p == b
                || (self.icase && b.iter().zip(p).all(|(x, y)| x.to_ascii_lowercase() == *y)))
    }
}

/// Exact-string sets larger than this are looked up through a hash index.
const INDEX_MIN: usize = 8;

/// The compiled patterns of one ACL criterion.
#[derive(Debug)]
pub(crate) struct Matcher {
    method: Method,
    ints: Vec<(i64, i64)>,
    nets: Vec<IpNet>,
    strs: Vec<StrPat>,
    finders: Vec<Option<memchr::memmem::Finder<'static>>>,
    regs: Vec<Regex>,
    /// Case-folded hash of each exact string pattern → indexes in `strs`.
    index: HashMap<u64, Vec<u32>>,
}

/// FNV-1a over the ASCII-lowercased bytes.
fn folded_hash(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in b {
        h ^= u64::from(c.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The delimiters of `dir` and `dom` matching.
fn delims(method: Method) -> &'static [u8] {
    if method == Method::Dom { b"/?.:" } else { b"/" }
}

impl Matcher {
    /// An empty matcher for `method`.
    pub(crate) fn new(method: Method) -> Matcher {
        Matcher {
            method,
            ints: Vec::new(),
            nets: Vec::new(),
            strs: Vec::new(),
            finders: Vec::new(),
            regs: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The method.
    pub(crate) fn method(&self) -> Method {
        self.method
    }

    /// The patterns of an exact-string matcher (`-m str`), as stored (lowercased after
    /// `-i`); `None` for every other method.
    pub(crate) fn exact_strings(&self) -> Option<impl Iterator<Item = &[u8]>> {
        (self.method == Method::Str).then(|| self.strs.iter().map(|p| &*p.bytes))
    }

    /// Adds an integer range (inclusive bounds).
    pub(crate) fn add_range(&mut self, lo: i64, hi: i64) {
        self.ints.push((lo, hi));
    }

    /// Parses and adds one pattern as written (after `-i` when `icase`).
    pub(crate) fn add(&mut self, text: &str, icase: bool, no_dns: bool) -> Result<(), String> {
        match self.method {
            Method::Found | Method::Bool => {}
            Method::Int | Method::Len => {
                let (lo, hi) = parse_range(text)?;
                self.add_range(lo, hi);
            }
            Method::Ip => self.nets.push(IpNet::parse(text, no_dns)?),
            Method::Bin => {
                let bytes = parse_hex(text)?;
                self.strs.push(StrPat {
                    bytes,
                    icase: false,
                });
            }
            Method::Reg => {
                let re = RegexBuilder::new(text)
                    .case_insensitive(icase)
                    .build()
                    .map_err(|e| format!("regex '{text}' is invalid (error={e})"))?;
                self.regs.push(re);
            }
            Method::Str => {
                let idx = self.strs.len() as u32;
                self.index
                    .entry(folded_hash(text.as_bytes()))
                    .or_default()
                    .push(idx);
                self.strs.push(StrPat::new(text.as_bytes(), icase));
            }
            Method::Sub => {
                let finder = (!icase).then(|| memchr::memmem::Finder::new(text).into_owned());
                self.finders.push(finder);
                self.strs.push(StrPat::new(text.as_bytes(), icase));
            }
            Method::Beg | Method::End => {
                self.strs.push(StrPat::new(text.as_bytes(), icase));
            }
            Method::Dir | Method::Dom => {
                // leading and trailing delimiters of the pattern are ignored
                let d = delims(self.method);
                let b = text.as_bytes();
                let s = b.iter().position(|c| !d.contains(c)).unwrap_or(b.len());
                let e = b.iter().rposition(|c| !d.contains(c)).map_or(s, |e| e + 1);
                self.strs.push(StrPat::new(&b[s..e], icase));
            }
        }
        Ok(())
    }

    /// True when `sample` matches one of the patterns.
    pub(crate) fn matches(&self, sample: Sample<'_>) -> bool {
        match self.method {
            Method::Found => true,
            Method::Bool => match sample {
                Sample::Bool(b) => b,
                Sample::Int(n) => n != 0,
                Sample::Str(s) => str_to_int(s).is_some_and(|n| n != 0),
                Sample::Ip(_) => false,
            },
            Method::Int => {
                let n = match sample {
                    Sample::Bool(b) => i64::from(b),
                    Sample::Int(n) => n,
                    Sample::Str(s) => match str_to_int(s) {
                        Some(n) => n,
                        None => return false,
                    },
                    Sample::Ip(IpAddr::V4(v4)) => u32::from(v4).into(),
                    Sample::Ip(IpAddr::V6(_)) => return false,
                };
                self.ints.iter().any(|&(lo, hi)| lo <= n && n <= hi)
            }
            Method::Ip => {
                let ip = match sample {
                    Sample::Ip(ip) => ip,
                    Sample::Str(s) => {
                        match std::str::from_utf8(s).ok().and_then(|s| s.parse().ok()) {
                            Some(ip) => ip,
                            None => return false,
                        }
                    }
                    _ => return false,
                };
                self.nets.iter().any(|n| n.contains(&ip))
            }
            _ => with_str(sample, |s| self.match_str(s)),
        }
    }

    fn match_str(&self, s: &[u8]) -> bool {
        let eq = |p: &StrPat, b: &[u8]| p.eq(b);
        match self.method {
            Method::Len => {
                let n = s.len() as i64;
                self.ints.iter().any(|&(lo, hi)| lo <= n && n <= hi)
            }
            Method::Bin => self.strs.iter().any(|p| *p.bytes == *s),
            Method::Str => {
                if self.strs.len() < INDEX_MIN {
                    return self.strs.iter().any(|p| eq(p, s));
                }
                self.index
                    .get(&folded_hash(s))
                    .is_some_and(|ids| ids.iter().any(|&i| eq(&self.strs[i as usize], s)))
            }
            Method::Beg => self
                .strs
                .iter()
                .any(|p| s.len() >= p.bytes.len() && eq(p, &s[..p.bytes.len()])),
            Method::End => self
                .strs
                .iter()
                .any(|p| s.len() >= p.bytes.len() && eq(p, &s[s.len() - p.bytes.len()..])),
            Method::Sub => self.strs.iter().zip(&self.finders).any(|(p, f)| match f {
                Some(f) => f.find(s).is_some(),
                None => {
                    p.bytes.is_empty()
                        || s.windows(p.bytes.len())
                            .any(|w| w.eq_ignore_ascii_case(&p.bytes))
                }
            }),
            Method::Reg => self.regs.iter().any(|r| r.is_match(s)),
            Method::Dir | Method::Dom => {
                let d = delims(self.method);
                self.strs.iter().any(|p| match_word(s, p, d))
            }
            Method::Found | Method::Bool | Method::Int | Method::Ip => false,
        }
    }
}

/// Whether `p` appears in `s` delimited by `d` characters or the ends of `s`.
fn match_word(s: &[u8], p: &StrPat, d: &[u8]) -> bool {
    let pl = p.bytes.len();
    if pl == 0 || pl > s.len() {
        return false;
    }
    let mut may_match = true;
    for i in 0..=s.len() - pl {
        if d.contains(&s[i]) {
            may_match = true;
            continue;
        }
        if !may_match {
            continue;
        }
        let w = &s[i..i + pl];
        let same = if p.icase {
            w.eq_ignore_ascii_case(&p.bytes)
        } else {
            *w == *p.bytes
        };
        if same && (i + pl == s.len() || d.contains(&s[i + pl])) {
            return true;
        }
        may_match = false;
    }
    false
}

/// Runs `f` on the sample as a string; integers, addresses and booleans are formatted
/// into a stack buffer.
fn with_str(sample: Sample<'_>, f: impl FnOnce(&[u8]) -> bool) -> bool {
    let mut stack = [0u8; 48];
    let len = {
        let mut cur = std::io::Cursor::new(&mut stack[..]);
        let r = match sample {
            Sample::Str(s) => return f(s),
            Sample::Bool(b) => write!(cur, "{}", u8::from(b)),
            Sample::Int(n) => write!(cur, "{n}"),
            Sample::Ip(ip) => write!(cur, "{ip}"),
        };
        if r.is_err() {
            return false;
        }
        cur.position() as usize
    };
    f(&stack[..len])
}

/// Parses an integer pattern: `N`, `A:B`, `A:` or `:B` (inclusive).
pub(crate) fn parse_range(text: &str) -> Result<(i64, i64), String> {
    let num = |s: &str| s.parse::<i64>().ok();
    match text.split_once(':') {
        None => num(text)
            .map(|n| (n, n))
            .ok_or_else(|| format!("'{text}' is not a number")),
        Some((a, b)) => {
            let bad = || format!("'{text}' is not a valid number range");
            let lo = if a.is_empty() {
                i64::MIN
            } else {
                num(a).ok_or_else(bad)?
            };
            let hi = if b.is_empty() {
                i64::MAX
            } else {
                num(b).ok_or_else(bad)?
            };
            if lo > hi {
                return Err(bad());
            }
            Ok((lo, hi))
        }
    }
}

/// Parses a `-m bin` pattern: an even number of hexadecimal digits.
fn parse_hex(text: &str) -> Result<Box<[u8]>, String> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(format!(
            "'{text}' is not a valid hexadecimal string (odd length)"
        ));
    }
    let digit = |c: u8| {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| format!("an hex digit is expected (found '{}')", c as char))
    };
    b.chunks(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}
