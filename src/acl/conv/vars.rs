//! Converters that read a variable of the transaction: `strcmp(<var>)` (strcmp(3)'s
//! sign convention) and `secure_memcmp(<var>)` (equal or not, in constant time when
//! the lengths are equal), whose sample is absent when the variable is not set, as in
//! HAProxy; and `concat([<start>],[<var>],[<end>])` and
//! `add_item(<delim>,[<var>][,<suffix>])`, which append it (nothing when unset).

use super::row::*;
use crate::acl::SampleSource;

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = &[
    ConvDef::custom("strcmp", SmpType::Int, |a| VarCmp::build(a, false)).args(&[S], 1),
    ConvDef::custom("secure_memcmp", SmpType::Bool, |a| VarCmp::build(a, true)).args(&[S], 1),
    ConvDef::custom("concat", SmpType::Str, |a| Append::build(a, false)).args(&[S, S, S], 0),
    ConvDef::custom("add_item", SmpType::Str, |a| Append::build(a, true)).args(&[S, S, S], 1),
];

/// Checks a variable name: it starts with its scope.
fn scoped(var: &str) -> Result<(), String> {
    let ok = ["proc.", "sess.", "txn.", "req.", "res.", "check."]
        .iter()
        .any(|p| var.starts_with(p) && var.len() > p.len());
    if ok {
        return Ok(());
    }
    Err(format!(
        "invalid variable name '{var}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
    ))
}

/// `concat` and `add_item`: constant text around an optional variable.
#[derive(Debug)]
struct Append {
    /// `concat`'s start, `add_item`'s delimiter.
    first: Box<[u8]>,
    var: Option<Box<str>>,
    end: Box<[u8]>,
    /// `add_item`: the delimiter only between a non-empty sample and a non-empty
    /// addition.
    item: bool,
}

impl Append {
    fn build(args: &[ArgVal], item: bool) -> Result<Box<dyn Conv>, String> {
        let text = |i: usize| match args.get(i) {
            Some(ArgVal::Str(s)) => s.clone(),
            _ => "".into(),
        };
        let var = text(1);
        if !var.is_empty() {
            scoped(&var)?;
        }
        Ok(Box::new(Append {
            first: text(0).as_bytes().into(),
            var: (!var.is_empty()).then_some(var),
            end: text(2).as_bytes().into(),
            item,
        }))
    }

    fn append(&self, cur: Cur, buf: &mut Vec<u8>, src: Option<&dyn SampleSource>) -> Cur {
        let (s, e) = as_str(cur, buf);
        let start = buf.len();
        buf.extend_from_within(s..e);
        let mut value: Option<Vec<u8>> = None;
        if let (Some(var), Some(src)) = (&self.var, src) {
            src.var(var, &mut |v| {
                value = Some(v.to_vec());
                true
            });
        }
        let value = value.unwrap_or_default();
        if self.item {
            if e > s && (!value.is_empty() || !self.end.is_empty()) {
                buf.extend_from_slice(&self.first);
            }
        } else {
            buf.extend_from_slice(&self.first);
        }
        buf.extend_from_slice(&value);
        buf.extend_from_slice(&self.end);
        Cur::Str(start, buf.len())
    }
}

impl Conv for Append {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        Some(self.append(cur, buf, None))
    }

    fn step_in(&self, cur: Cur, buf: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Cur> {
        Some(self.append(cur, buf, Some(src)))
    }
}

/// A comparison with variable `var`.
#[derive(Debug)]
struct VarCmp {
    var: Box<str>,
    secure: bool,
}

impl VarCmp {
    fn build(args: &[ArgVal], secure: bool) -> Result<Box<dyn Conv>, String> {
        let Some(ArgVal::Str(var)) = args.first() else {
            return Err("missing variable name".into());
        };
        scoped(var)?;
        Ok(Box::new(VarCmp {
            var: var.clone(),
            secure,
        }))
    }
}

/// strcmp(3) over bytes: the difference of the first differing bytes, else of the
/// lengths (HAProxy: `memcmp` on the common length, then the length difference).
pub(crate) fn strcmp(a: &[u8], b: &[u8]) -> i64 {
    match a.iter().zip(b).find(|(x, y)| x != y) {
        Some((x, y)) => i64::from(*x) - i64::from(*y),
        None => a.len() as i64 - b.len() as i64,
    }
}

/// Equal contents, compared in constant time when the lengths are equal.
pub(crate) fn secure_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Conv for VarCmp {
    fn step(&self, _: Cur, _: &mut Vec<u8>) -> Option<Cur> {
        None // needs the transaction: see `step_in`
    }

    fn step_in(&self, cur: Cur, buf: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Cur> {
        let (s, e) = as_str(cur, buf);
        let mine = &buf[s..e];
        let mut out = None;
        src.var(&self.var, &mut |v| {
            out = Some(if self.secure {
                Cur::Bool(secure_eq(mine, v))
            } else {
                Cur::Int(strcmp(mine, v))
            });
            true
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::conv::{apply, testing::NoSource};
    use crate::acl::fetch::Sample;

    /// A transaction whose variable `txn.secret` is `s3cr3t`.
    struct Vars;

    impl SampleSource for Vars {
        fn src(&self) -> Option<std::net::SocketAddr> {
            None
        }
        fn dst(&self) -> Option<std::net::SocketAddr> {
            None
        }
        fn var(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
            name == "txn.secret" && each(b"s3cr3t")
        }
    }

    fn run(chain: &str, input: &str, src: &dyn SampleSource) -> Option<String> {
        let e = crate::acl::compile::Expr::parse(&format!("always_true,{chain}")).unwrap();
        let mut out = None;
        apply(&e.convs, src, Sample::Str(input.as_bytes()), &mut |s| {
            out = Some(match s {
                Sample::Int(n) => n.to_string(),
                Sample::Bool(b) => b.to_string(),
                Sample::Str(b) => String::from_utf8_lossy(b).into_owned(),
                Sample::Ip(ip) => ip.to_string(),
            });
            true
        });
        out
    }

    #[test]
    fn variable_comparisons_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("strcmp(txn.secret)", "s3cr3t", Some("0")),
            ("strcmp(txn.secret)", "s3cr3", Some("-1")),
            ("strcmp(txn.secret)", "s3cr3tt", Some("1")),
            ("strcmp(txn.secret)", "a", Some("-18")),
            ("strcmp(txn.secret)", "t", Some("1")),
            ("strcmp(txn.unset)", "x", None),
            ("secure_memcmp(txn.secret)", "s3cr3t", Some("true")),
            ("secure_memcmp(txn.secret)", "s3cr3T", Some("false")),
            ("secure_memcmp(txn.secret)", "s3", Some("false")),
            ("secure_memcmp(txn.unset)", "x", None),
            ("concat(<,,>)", "x", Some("x<>")),
            ("concat(<,txn.secret,>)", "x", Some("x<s3cr3t>")),
            ("concat(,txn.unset,!)", "x", Some("x!")),
            ("add_item(;,,b=2)", "a=1", Some("a=1;b=2")),
            ("add_item(;,,b=2)", "", Some("b=2")),
            ("add_item(;,txn.secret)", "a", Some("a;s3cr3t")),
            ("add_item(;,txn.secret,!)", "", Some("s3cr3t!")),
            ("add_item(;,txn.unset)", "a", Some("a")),
        ];
        for (chain, input, want) in cases {
            assert_eq!(
                run(chain, input, &Vars).as_deref(),
                *want,
                "{chain} on {input}"
            );
        }
        assert_eq!(run("strcmp(txn.secret)", "x", &NoSource), None);
        let e = crate::acl::compile::Expr::parse("always_true,strcmp(secret)").unwrap_err();
        assert!(e.contains("must be start by its scope"), "{e}");
    }
}
