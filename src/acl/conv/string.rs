//! String converters: `lower`, `upper`, `length`, `field`, `word`, `ltrim`, `rtrim`,
//! `bytes`, `regsub`, `iif` (`concat` and `add_item`, which read variables, are in
//! `vars.rs`).

use super::row::*;
use regex::bytes::{Regex, RegexBuilder};

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = &[
    ConvDef::new("lower", SmpType::Str, lower),
    ConvDef::new("upper", SmpType::Str, upper),
    ConvDef::new("length", SmpType::Int, length),
    ConvDef::new("field", SmpType::Str, field_conv)
        .args(&[I, S, I], 2)
        .dflt([1, 0, 1]),
    ConvDef::new("word", SmpType::Str, word_conv)
        .args(&[I, S, I], 2)
        .dflt([1, 0, 1]),
    ConvDef::new("ltrim", SmpType::Str, ltrim).args(&[S], 1),
    ConvDef::new("rtrim", SmpType::Str, rtrim).args(&[S], 1),
    ConvDef::new("bytes", SmpType::Str, bytes)
        .args(&[I, I], 1)
        .dflt([0, -1, 0]),
    ConvDef::new("iif", SmpType::Str, iif).args(&[S, S], 2),
    ConvDef::custom("regsub", SmpType::Str, Regsub::build).args(&[S, S, S], 2),
];

fn lower(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    buf[s..e].make_ascii_lowercase();
    Some(Cur::Str(s, e))
}

fn upper(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    buf[s..e].make_ascii_uppercase();
    Some(Cur::Str(s, e))
}

fn length(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    Some(Cur::Int((e - s) as i64))
}

fn field_conv(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let (fs, fe) = field(&buf[s..e], a.i[0], &a.s[1], a.i[2], false);
    Some(Cur::Str(s + fs, s + fe))
}

fn word_conv(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let (fs, fe) = field(&buf[s..e], a.i[0], &a.s[1], a.i[2], true);
    Some(Cur::Str(s + fs, s + fe))
}

fn ltrim(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let skip = buf[s..e].iter().take_while(|c| a.s[0].contains(c)).count();
    Some(Cur::Str(s + skip, e))
}

fn rtrim(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let skip = buf[s..e]
        .iter()
        .rev()
        .take_while(|c| a.s[0].contains(c))
        .count();
    Some(Cur::Str(s, e - skip))
}

/// `bytes(offset[,length])`: absent when the offset is past the end.
fn bytes(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let off = usize::try_from(a.i[0]).ok()?;
    if off >= e - s {
        return None;
    }
    let start = s + off;
    let end = match usize::try_from(a.i[1]) {
        Ok(len) if a.n > 1 => (start + len).min(e),
        _ => e,
    };
    Some(Cur::Str(start, end))
}

/// `iif(true,false)`: by the input's boolean value.
fn iif(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let t = as_int(cur, buf)? != 0;
    let v = if t { &a.s[0] } else { &a.s[1] };
    Some(push(buf, |b| b.extend_from_slice(v)))
}

/// `regsub(regex,subst[,flags])`: `\1`…`\9` in the substitution, flags `i` and `g`.
#[derive(Debug)]
struct Regsub {
    re: Regex,
    subst: Box<[u8]>,
    global: bool,
}

impl Regsub {
    fn build(args: &[ArgVal]) -> Result<Box<dyn Conv>, String> {
        let text = |i: usize| match args.get(i) {
            Some(ArgVal::Str(s)) => s.to_string(),
            _ => String::new(),
        };
        let flags = text(2);
        if let Some(c) = flags.chars().find(|c| !"ig".contains(*c)) {
            return Err(format!(
                "invalid regex flag '{c}', only 'i' and 'g' are supported"
            ));
        }
        let re = RegexBuilder::new(&text(0))
            .case_insensitive(flags.contains('i'))
            .build()
            .map_err(|e| format!("invalid regex '{}' ({e})", text(0)))?;
        Ok(Box::new(Regsub {
            re,
            subst: text(1).into_bytes().into(),
            global: flags.contains('g'),
        }))
    }
}

impl Conv for Regsub {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        let (s, e) = as_str(cur, buf);
        let input = buf[s..e].to_vec();
        let start = buf.len();
        let mut last = 0;
        for caps in self.re.captures_iter(&input) {
            let m = caps.get(0)?;
            buf.extend_from_slice(&input[last..m.start()]);
            let mut i = 0;
            while i < self.subst.len() {
                let c = self.subst[i];
                match self.subst.get(i + 1) {
                    Some(d @ b'0'..=b'9') if c == b'\\' => {
                        if let Some(g) = caps.get(usize::from(d - b'0')) {
                            buf.extend_from_slice(g.as_bytes());
                        }
                        i += 2;
                    }
                    _ => {
                        buf.push(c);
                        i += 1;
                    }
                }
            }
            last = m.end();
            if !self.global {
                break;
            }
        }
        buf.extend_from_slice(&input[last..]);
        Some(Cur::Str(start, buf.len()))
    }
}

/// `field()` (`words == false`: every delimiter separates) and `word()` (runs of
/// delimiters separate, empty words do not count): the byte range of `count` items from
/// the 1-based `idx` (negative: from the end; `count` 0: up to the end). An item that
/// does not exist gives an empty range.
fn field(s: &[u8], idx: i64, delims: &[u8], count: i64, words: bool) -> (usize, usize) {
    let is_d = |c: &u8| delims.contains(c);
    let items = || {
        let mut pos = 0usize;
        let mut done = false;
        std::iter::from_fn(move || {
            loop {
                if done {
                    return None;
                }
                let start = pos;
                let end = s[start..]
                    .iter()
                    .position(is_d)
                    .map_or(s.len(), |p| start + p);
                if end == s.len() {
                    done = true;
                } else {
                    pos = end + 1;
                }
                if words && start == end {
                    continue;
                }
                return Some((start, end));
            }
        })
    };
    let total = items().count() as i64;
    let (first, last) = if idx > 0 {
        let last = if count <= 0 { total } else { idx + count - 1 };
        (idx, last.min(total))
    } else if idx < 0 {
        let last = total + idx + 1;
        let first = if count <= 0 { 1 } else { last - count + 1 };
        (first.max(1), last)
    } else {
        return (0, 0);
    };
    if first > total || last < 1 || first > last {
        return (0, 0);
    }
    let mut start = 0;
    let mut end = 0;
    for (i, (s0, e0)) in items().enumerate() {
        let n = i as i64 + 1;
        if n == first {
            start = s0;
        }
        if n == last {
            end = e0;
            break;
        }
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{i, s};

    #[test]
    fn string_converters_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("lower", "WwW.Ex", Some("www.ex")),
            ("upper", "ab", Some("AB")),
            ("length", "abc", Some("3")),
            ("field(1,/)", "/a/b/c", Some("")),
            ("field(2,/)", "/a/b/c", Some("a")),
            ("field(2,/,2)", "/a/b/c", Some("a/b")),
            ("field(2,/,0)", "/a/b/c", Some("a/b/c")),
            ("field(-1,/)", "/a/b/c", Some("c")),
            ("field(-1,/,2)", "/a/b/c", Some("b/c")),
            ("field(9,/)", "/a/b/c", Some("")),
            ("word(1,/)", "/a/b/c", Some("a")),
            ("word(2,/,2)", "/a/b/c", Some("b/c")),
            ("word(-2,/)", "/a/b/c", Some("b")),
            ("ltrim(/)", "//a/", Some("a/")),
            ("rtrim(/)", "//a//", Some("//a")),
            ("bytes(1,2)", "abcd", Some("bc")),
            ("bytes(2)", "abcd", Some("cd")),
            ("bytes(9)", "abcd", None),
            ("regsub(a,X)", "banana", Some("bXnana")),
            ("regsub(a,X,g)", "banana", Some("bXnXnX")),
            ("regsub(A,X,ig)", "banana", Some("bXnXnX")),
            ("regsub(\"(b)(a)\",\"\\2\\1\")", "banana", Some("abnana")),
            ("lower,upper", "aB", Some("AB")),
        ];
        for (chain, input, want) in cases {
            assert_eq!(s(chain, input).as_deref(), *want, "{chain} on {input:?}");
        }
        assert_eq!(i("iif(yes,no)", 1).as_deref(), Some("yes"));
        assert_eq!(i("iif(yes,no)", 0).as_deref(), Some("no"));
        assert_eq!(i("lower", 42).as_deref(), Some("42"));
    }
}
