//! Converters (configuration.txt 7.3.1): the registry of converter keywords gatehouse
//! implements. Each keyword is one [`ConvDef`] row — name, argument types, output type
//! and how it is built — kept in the file of its family (`conv/string.rs`,
//! `conv/arith.rs`, `conv/encode.rs`, `conv/time.rs`, `conv/map.rs`, `conv/net.rs`,
//! `conv/vars.rs`, `conv/json.rs`, `conv/jwt.rs`).
//! Adding a converter is adding a row and its step function to one family file.
//! Values are transformed in a per-thread scratch buffer that is reused, so a request
//! allocates nothing once the buffer has grown to the largest value seen.

mod arith;
mod encode;
mod json;
mod jwt;
pub(crate) mod map;
mod net;
mod string;
mod table;
mod time;
mod vars;

use super::SampleSource;
use super::fetch::{ArgType, ArgVal, Sample, SmpType, str_to_int};
use std::cell::RefCell;
use std::io::Write;
use std::net::IpAddr;

/// The value being converted: strings live in the scratch buffer at `start..end`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cur {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An address.
    Ip(IpAddr),
    /// A string: a range of the scratch buffer.
    Str(usize, usize),
}

/// A compiled converter: one step of a chain.
pub(crate) trait Conv: std::fmt::Debug + Send + Sync {
    /// Converts `cur` (strings in `buf`); `None` when the conversion fails (the sample
    /// is then absent, as in HAProxy).
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur>;
    /// Converts `cur` with the request at hand (converters that read variables:
    /// `strcmp(txn.x)`, `secure_memcmp(txn.x)`); [`Conv::step`] by default.
    fn step_in(&self, cur: Cur, buf: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Cur> {
        let _ = src;
        self.step(cur, buf)
    }
}

/// The constant arguments of a simple converter, by position.
#[derive(Clone, Debug, Default)]
pub(crate) struct Args {
    /// Integer arguments (or the row's defaults).
    pub i: [i64; 3],
    /// String arguments (empty when absent).
    pub s: [Box<[u8]>; 3],
    /// How many arguments were given.
    pub n: usize,
}

/// The step function of a simple converter.
pub(crate) type StepFn = fn(&Args, Cur, &mut Vec<u8>) -> Option<Cur>;

/// A converter made of a step function and its constant arguments.
struct Simple {
    name: &'static str,
    f: StepFn,
    a: Args,
}

impl std::fmt::Debug for Simple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl Conv for Simple {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        (self.f)(&self.a, cur, buf)
    }
}

/// A custom converter's builder.
pub(crate) type BuildFn = fn(&[ArgVal]) -> Result<Box<dyn Conv>, String>;

/// A load-time check of a converter's arguments.
pub(crate) type CheckFn = fn(&[ArgVal]) -> Result<(), String>;

/// How a row builds its converter.
#[derive(Clone, Copy)]
pub(crate) enum Build {
    /// A step function over constant arguments.
    Step(StepFn),
    /// A converter that compiles its arguments (regexes, maps, …).
    Custom(BuildFn),
}

/// A converter keyword gatehouse implements: one row of the registry.
pub(crate) struct ConvDef {
    /// Its name.
    pub name: &'static str,
    /// Its argument types.
    pub args: &'static [ArgType],
    /// How many are mandatory.
    pub min_args: usize,
    /// Its output type.
    pub out: SmpType,
    /// Default values of integer arguments.
    pub dflt: [i64; 3],
    /// How it is built.
    pub build: Build,
    /// A load-time check of its arguments.
    pub check: Option<CheckFn>,
}

impl ConvDef {
    /// A row without arguments.
    pub(crate) const fn new(name: &'static str, out: SmpType, f: StepFn) -> ConvDef {
        ConvDef {
            name,
            args: &[],
            min_args: 0,
            out,
            dflt: [0; 3],
            build: Build::Step(f),
            check: None,
        }
    }
    /// A row built by a custom function.
    pub(crate) const fn custom(name: &'static str, out: SmpType, f: BuildFn) -> ConvDef {
        ConvDef {
            name,
            args: &[],
            min_args: 0,
            out,
            dflt: [0; 3],
            build: Build::Custom(f),
            check: None,
        }
    }
    /// The same row with arguments, `min` of them mandatory.
    pub(crate) const fn args(mut self, args: &'static [ArgType], min: usize) -> ConvDef {
        self.args = args;
        self.min_args = min;
        self
    }
    /// The same row with a load-time check of its arguments.
    pub(crate) const fn check(mut self, f: CheckFn) -> ConvDef {
        self.check = Some(f);
        self
    }
    /// The same row with default integer arguments.
    pub(crate) const fn dflt(mut self, d: [i64; 3]) -> ConvDef {
        self.dflt = d;
        self
    }
}

/// The converter families: one table per file.
static FAMILIES: &[&[ConvDef]] = &[
    string::CONVERTERS,
    arith::CONVERTERS,
    encode::CONVERTERS,
    time::CONVERTERS,
    net::CONVERTERS,
    map::CONVERTERS,
    map::REGM,
    vars::CONVERTERS,
    json::CONVERTERS,
    jwt::CONVERTERS,
    table::CONVERTERS,
    table::ARRAYS,
];

/// Every converter implemented, family by family.
pub(crate) fn all() -> impl Iterator<Item = &'static ConvDef> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// Looks a converter up by name (`map_*` names resolve to their map row).
pub(crate) fn find(name: &str) -> Option<&'static ConvDef> {
    all().find(|d| d.name == name)
}

/// Builds a converter from its definition and parsed arguments.
pub(crate) fn build(def: &'static ConvDef, args: &[ArgVal]) -> Result<Box<dyn Conv>, String> {
    if let Some(check) = def.check {
        check(args)?;
    }
    match def.build {
        Build::Custom(f) => f(args),
        Build::Step(f) => {
            let mut a = Args {
                i: def.dflt,
                n: args.len(),
                ..Args::default()
            };
            for (k, v) in args.iter().enumerate().take(3) {
                match v {
                    ArgVal::Int(n) => a.i[k] = *n,
                    ArgVal::Str(s) => a.s[k] = s.as_bytes().into(),
                }
            }
            Ok(Box::new(Simple {
                name: def.name,
                f,
                a,
            }))
        }
    }
}

thread_local! {
    static CONV_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Applies `convs` to `input` (fetched from `src`) and calls `then` with the result;
/// `false` when a conversion fails (the sample is then absent, as in HAProxy).
pub(crate) fn apply(
    convs: &[Box<dyn Conv>],
    src: &dyn SampleSource,
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
            match conv.step_in(cur, buf, src) {
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
pub(crate) fn as_str(cur: Cur, buf: &mut Vec<u8>) -> (usize, usize) {
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
pub(crate) fn as_int(cur: Cur, buf: &[u8]) -> Option<i64> {
    match cur {
        Cur::Bool(b) => Some(b.into()),
        Cur::Int(n) => Some(n),
        Cur::Ip(IpAddr::V4(v4)) => Some(u32::from(v4).into()),
        Cur::Ip(IpAddr::V6(_)) => None,
        Cur::Str(s, e) => str_to_int(&buf[s..e]),
    }
}

/// Appends `bytes` (which may come from `buf` itself) and returns the new range.
pub(crate) fn push(buf: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) -> Cur {
    let start = buf.len();
    f(buf);
    Cur::Str(start, buf.len())
}

/// Shorthands for family files.
pub(crate) mod row {
    pub(crate) use super::super::fetch::ArgType::{Int as I, Str as S};
    pub(crate) use super::super::fetch::ArgVal;
    pub(crate) use super::super::fetch::SmpType;
    pub(crate) use super::{Args, Conv, ConvDef, Cur, as_int, as_str, push};
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs a converter chain from its text, for the family tests.
    use super::*;

    /// A source with nothing in it, for converters that do not read the request.
    pub(crate) struct NoSource;

    impl SampleSource for NoSource {
        fn src(&self) -> Option<std::net::SocketAddr> {
            None
        }
        fn dst(&self) -> Option<std::net::SocketAddr> {
            None
        }
    }

    /// Converts `input` through `chain` (`lower,field(2,/)`); the result as text
    /// (`None`: absent), or the compile error.
    pub(crate) fn run(chain: &str, input: Sample<'_>) -> Result<Option<String>, String> {
        let e = crate::acl::compile::Expr::parse(&format!("always_true,{chain}"))?;
        let mut out = None;
        apply(&e.convs, &NoSource, input, &mut |s| {
            out = Some(match s {
                Sample::Str(b) => String::from_utf8_lossy(b).into_owned(),
                Sample::Int(n) => n.to_string(),
                Sample::Bool(b) => b.to_string(),
                Sample::Ip(ip) => ip.to_string(),
            });
            true
        });
        Ok(out)
    }

    /// [`run`] on a string input, unwrapping the compile result.
    pub(crate) fn s(chain: &str, input: &str) -> Option<String> {
        run(chain, Sample::Str(input.as_bytes())).unwrap()
    }

    /// [`run`] on an integer input, unwrapping the compile result.
    pub(crate) fn i(chain: &str, input: i64) -> Option<String> {
        run(chain, Sample::Int(input)).unwrap()
    }
}
