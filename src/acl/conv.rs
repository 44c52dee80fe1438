//! Converters (configuration.txt 7.3.1) applied after a fetch in an ACL criterion:
//! `lower`, `upper`, `length`, `field`, `word`, `ltrim`, `rtrim`, `bool`, `not`, `neg`,
//! `add`, `sub`, `mul`, `div`, `mod`, `even`, `odd`. Values are transformed in a
//! per-thread scratch buffer that is reused, so a request allocates nothing once the
//! buffer has grown to the largest value seen.

use super::fetch::{ArgType, ArgVal, Sample, SmpType, str_to_int};
use std::cell::RefCell;
use std::io::Write;
use std::net::IpAddr;

/// What a converter does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConvKind {
    Lower,
    Upper,
    Length,
    Field {
        idx: i64,
        delims: Box<[u8]>,
        count: i64,
    },
    Word {
        idx: i64,
        delims: Box<[u8]>,
        count: i64,
    },
    Ltrim(Box<[u8]>),
    Rtrim(Box<[u8]>),
    Bool,
    Not,
    Neg,
    Even,
    Odd,
    Arith(Op, i64),
}

/// An integer operation with a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
}

/// A converter keyword gatehouse implements.
pub(crate) struct ConvDef {
    /// Its name.
    pub name: &'static str,
    /// Its argument types.
    pub args: &'static [ArgType],
    /// How many are mandatory.
    pub min_args: usize,
    /// Its output type.
    pub out: SmpType,
}

const I: ArgType = ArgType::Int;
const S: ArgType = ArgType::Str;

const fn c(name: &'static str, args: &'static [ArgType], min_args: usize, out: SmpType) -> ConvDef {
    ConvDef {
        name,
        args,
        min_args,
        out,
    }
}

/// Every converter implemented.
pub(crate) static CONVERTERS: &[ConvDef] = &[
    c("lower", &[], 0, SmpType::Str),
    c("upper", &[], 0, SmpType::Str),
    c("length", &[], 0, SmpType::Int),
    c("field", &[I, S, I], 2, SmpType::Str),
    c("word", &[I, S, I], 2, SmpType::Str),
    c("ltrim", &[S], 1, SmpType::Str),
    c("rtrim", &[S], 1, SmpType::Str),
    c("bool", &[], 0, SmpType::Bool),
    c("not", &[], 0, SmpType::Bool),
    c("neg", &[], 0, SmpType::Int),
    c("even", &[], 0, SmpType::Bool),
    c("odd", &[], 0, SmpType::Bool),
    c("add", &[I], 1, SmpType::Int),
    c("sub", &[I], 1, SmpType::Int),
    c("mul", &[I], 1, SmpType::Int),
    c("div", &[I], 1, SmpType::Int),
    c("mod", &[I], 1, SmpType::Int),
    c("and", &[I], 1, SmpType::Int),
    c("or", &[I], 1, SmpType::Int),
    c("xor", &[I], 1, SmpType::Int),
];

/// Looks a converter up by name.
pub(crate) fn find(name: &str) -> Option<&'static ConvDef> {
    CONVERTERS.iter().find(|d| d.name == name)
}

/// Builds a converter from its definition and parsed arguments.
pub(crate) fn build(def: &ConvDef, args: &[ArgVal]) -> ConvKind {
    let int = |i: usize, d: i64| match args.get(i) {
        Some(ArgVal::Int(n)) => *n,
        _ => d,
    };
    let bytes = |i: usize| -> Box<[u8]> {
        match args.get(i) {
            Some(ArgVal::Str(s)) => s.as_bytes().into(),
            _ => Box::default(),
        }
    };
    match def.name {
        "lower" => ConvKind::Lower,
        "upper" => ConvKind::Upper,
        "length" => ConvKind::Length,
        "field" => ConvKind::Field {
            idx: int(0, 1),
            delims: bytes(1),
            count: int(2, 1),
        },
        "word" => ConvKind::Word {
            idx: int(0, 1),
            delims: bytes(1),
            count: int(2, 1),
        },
        "ltrim" => ConvKind::Ltrim(bytes(0)),
        "rtrim" => ConvKind::Rtrim(bytes(0)),
        "bool" => ConvKind::Bool,
        "not" => ConvKind::Not,
        "neg" => ConvKind::Neg,
        "even" => ConvKind::Even,
        "odd" => ConvKind::Odd,
        "add" => ConvKind::Arith(Op::Add, int(0, 0)),
        "sub" => ConvKind::Arith(Op::Sub, int(0, 0)),
        "mul" => ConvKind::Arith(Op::Mul, int(0, 1)),
        "div" => ConvKind::Arith(Op::Div, int(0, 1)),
        "mod" => ConvKind::Arith(Op::Mod, int(0, 1)),
        "and" => ConvKind::Arith(Op::And, int(0, -1)),
        "or" => ConvKind::Arith(Op::Or, int(0, 0)),
        _ => ConvKind::Arith(Op::Xor, int(0, 0)),
    }
}

/// The value being converted: strings live in the scratch buffer at `start..end`.
#[derive(Clone, Copy)]
enum Cur {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str(usize, usize),
}

thread_local! {
    static CONV_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Applies `convs` to `input` and calls `then` with the result; `false` when a
/// conversion fails (the sample is then absent, as in HAProxy).
pub(crate) fn apply(
    convs: &[ConvKind],
    input: Sample<'_>,
    then: &mut dyn FnMut(Sample<'_>) -> bool,
) -> bool {
    CONV_SCRATCH.with(|cell| {
        let mut local = Vec::new();
        let mut guard = cell.try_borrow_mut().ok();
        let buf: &mut Vec<u8> = match guard.as_deref_mut() {
            Some(b) => b,
            None => &mut local,
        };
        buf.clear();
        let mut cur = match input {
            Sample::Bool(b) => Cur::Bool(b),
            Sample::Int(n) => Cur::Int(n),
            Sample::Ip(ip) => Cur::Ip(ip),
            Sample::Str(s) => {
                buf.extend_from_slice(s);
                Cur::Str(0, s.len())
            }
        };
        for conv in convs {
            match step(conv, cur, buf) {
                Some(next) => cur = next,
                None => return false,
            }
        }
        then(match cur {
            Cur::Bool(b) => Sample::Bool(b),
            Cur::Int(n) => Sample::Int(n),
            Cur::Ip(ip) => Sample::Ip(ip),
            Cur::Str(s, e) => Sample::Str(&buf[s..e]),
        })
    })
}

/// Casts the current value to a string range in `buf`.
fn as_str(cur: Cur, buf: &mut Vec<u8>) -> (usize, usize) {
    let start = buf.len();
    let _ = match cur {
        Cur::Str(s, e) => return (s, e),
        Cur::Bool(b) => write!(buf, "{}", u8::from(b)),
        Cur::Int(n) => write!(buf, "{n}"),
        Cur::Ip(ip) => write!(buf, "{ip}"),
    };
    (start, buf.len())
}

/// Casts the current value to an integer.
fn as_int(cur: Cur, buf: &[u8]) -> Option<i64> {
    match cur {
        Cur::Bool(b) => Some(b.into()),
        Cur::Int(n) => Some(n),
        Cur::Ip(IpAddr::V4(v4)) => Some(u32::from(v4).into()),
        Cur::Ip(IpAddr::V6(_)) => None,
        Cur::Str(s, e) => str_to_int(&buf[s..e]),
    }
}

fn step(conv: &ConvKind, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    Some(match conv {
        ConvKind::Lower | ConvKind::Upper => {
            let (s, e) = as_str(cur, buf);
            if *conv == ConvKind::Lower {
                buf[s..e].make_ascii_lowercase();
            } else {
                buf[s..e].make_ascii_uppercase();
            }
            Cur::Str(s, e)
        }
        ConvKind::Length => {
            let (s, e) = as_str(cur, buf);
            Cur::Int((e - s) as i64)
        }
        ConvKind::Field { idx, delims, count } => {
            let (s, e) = as_str(cur, buf);
            let (fs, fe) = field(&buf[s..e], *idx, delims, *count, false);
            Cur::Str(s + fs, s + fe)
        }
        ConvKind::Word { idx, delims, count } => {
            let (s, e) = as_str(cur, buf);
            let (fs, fe) = field(&buf[s..e], *idx, delims, *count, true);
            Cur::Str(s + fs, s + fe)
        }
        ConvKind::Ltrim(set) => {
            let (s, e) = as_str(cur, buf);
            let skip = buf[s..e].iter().take_while(|c| set.contains(c)).count();
            Cur::Str(s + skip, e)
        }
        ConvKind::Rtrim(set) => {
            let (s, e) = as_str(cur, buf);
            let skip = buf[s..e]
                .iter()
                .rev()
                .take_while(|c| set.contains(c))
                .count();
            Cur::Str(s, e - skip)
        }
        ConvKind::Bool => Cur::Bool(as_int(cur, buf)? != 0),
        ConvKind::Not => Cur::Bool(as_int(cur, buf)? == 0),
        ConvKind::Neg => Cur::Int(as_int(cur, buf)?.wrapping_neg()),
        ConvKind::Even => Cur::Bool(as_int(cur, buf)? & 1 == 0),
        ConvKind::Odd => Cur::Bool(as_int(cur, buf)? & 1 == 1),
        ConvKind::Arith(op, k) => {
            let n = as_int(cur, buf)?;
            let k = *k;
            Cur::Int(match op {
                Op::Add => n.wrapping_add(k),
                Op::Sub => n.wrapping_sub(k),
                Op::Mul => n.wrapping_mul(k),
                // HAProxy: division by zero gives the largest value, modulo by zero 0
                Op::Div => n.checked_div(k).unwrap_or(i64::MAX),
                Op::Mod => n.checked_rem(k).unwrap_or(0),
                Op::And => n & k,
                Op::Or => n | k,
                Op::Xor => n ^ k,
            })
        }
    })
}

/// `field()` (`words == false`: every delimiter separates) and `word()` (runs of
/// delimiters separate, empty words do not count): the byte range of `count` items from
/// the 1-based `idx` (negative: from the end; `count` 0: up to the end). An item that
/// does not exist gives an empty range.
fn field(s: &[u8], idx: i64, delims: &[u8], count: i64, words: bool) -> (usize, usize) {
    let is_d = |c: &u8| delims.contains(c);
    // Item boundaries, computed on the fly: (start, end) of each item, in order.
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
    use super::*;

    fn run(convs: &[ConvKind], input: Sample<'_>) -> Option<String> {
        let mut out = None;
        apply(convs, input, &mut |s| {
            out = Some(match s {
                Sample::Str(b) => String::from_utf8_lossy(b).into_owned(),
                Sample::Int(n) => n.to_string(),
                Sample::Bool(b) => b.to_string(),
                Sample::Ip(ip) => ip.to_string(),
            });
            true
        });
        out
    }

    #[test]
    fn lower_upper_length() {
        assert_eq!(
            run(&[ConvKind::Lower], Sample::Str(b"WwW.Ex")).as_deref(),
            Some("www.ex")
        );
        assert_eq!(
            run(&[ConvKind::Upper], Sample::Str(b"ab")).as_deref(),
            Some("AB")
        );
        assert_eq!(
            run(&[ConvKind::Length], Sample::Str(b"abc")).as_deref(),
            Some("3")
        );
        assert_eq!(
            run(&[ConvKind::Lower], Sample::Int(42)).as_deref(),
            Some("42")
        );
    }

    #[test]
    fn field_and_word() {
        let f = |idx, count| ConvKind::Field {
            idx,
            delims: b"/".as_slice().into(),
            count,
        };
        let w = |idx, count| ConvKind::Word {
            idx,
            delims: b"/".as_slice().into(),
            count,
        };
        let p = Sample::Str(b"/a/b/c");
        assert_eq!(run(&[f(1, 1)], p).as_deref(), Some(""));
        assert_eq!(run(&[f(2, 1)], p).as_deref(), Some("a"));
        assert_eq!(run(&[f(2, 2)], p).as_deref(), Some("a/b"));
        assert_eq!(run(&[f(2, 0)], p).as_deref(), Some("a/b/c"));
        assert_eq!(run(&[f(-1, 1)], p).as_deref(), Some("c"));
        assert_eq!(run(&[f(-1, 2)], p).as_deref(), Some("b/c"));
        assert_eq!(run(&[f(9, 1)], p).as_deref(), Some(""));
        assert_eq!(run(&[w(1, 1)], p).as_deref(), Some("a"));
        assert_eq!(run(&[w(2, 2)], p).as_deref(), Some("b/c"));
        assert_eq!(run(&[w(-2, 1)], p).as_deref(), Some("b"));
    }

    #[test]
    fn integer_ops() {
        let i = Sample::Int(7);
        assert_eq!(
            run(&[ConvKind::Arith(Op::Add, 3)], i).as_deref(),
            Some("10")
        );
        assert_eq!(
            run(&[ConvKind::Arith(Op::Div, 0)], i).as_deref(),
            Some(&*i64::MAX.to_string())
        );
        assert_eq!(run(&[ConvKind::Odd], i).as_deref(), Some("true"));
        assert_eq!(
            run(&[ConvKind::Bool], Sample::Str(b"0")).as_deref(),
            Some("false")
        );
        assert_eq!(run(&[ConvKind::Neg], Sample::Str(b"")), None);
    }
}
