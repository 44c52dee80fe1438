//! Arithmetic, bitwise and boolean converters: `add`, `sub`, `mul`, `div`, `mod`,
//! `and`, `or`, `xor`, `neg`, `cpl`, `bool`, `not`, `odd`, `even`.

// Step functions share `StepFn`'s signature, whose buffer some converters grow.
#![allow(clippy::ptr_arg)]

use super::row::*;

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = &[
    ConvDef::new("add", SmpType::Int, add).args(&[I], 1),
    ConvDef::new("sub", SmpType::Int, sub).args(&[I], 1),
    ConvDef::new("mul", SmpType::Int, mul).args(&[I], 1),
    ConvDef::new("div", SmpType::Int, div).args(&[I], 1),
    ConvDef::new("mod", SmpType::Int, modulo).args(&[I], 1),
    ConvDef::new("and", SmpType::Int, and).args(&[I], 1),
    ConvDef::new("or", SmpType::Int, or).args(&[I], 1),
    ConvDef::new("xor", SmpType::Int, xor).args(&[I], 1),
    ConvDef::new("neg", SmpType::Int, neg),
    ConvDef::new("cpl", SmpType::Int, cpl),
    ConvDef::new("bool", SmpType::Bool, to_bool),
    ConvDef::new("not", SmpType::Bool, not),
    ConvDef::new("odd", SmpType::Bool, odd),
    ConvDef::new("even", SmpType::Bool, even),
];

fn int(a: &Args, cur: Cur, buf: &[u8], f: fn(i64, i64) -> i64) -> Option<Cur> {
    Some(Cur::Int(f(as_int(cur, buf)?, a.i[0])))
}

fn add(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, i64::wrapping_add)
}
fn sub(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, i64::wrapping_sub)
}
fn mul(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, i64::wrapping_mul)
}
/// HAProxy: division by zero gives the largest value.
fn div(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, |n, k| n.checked_div(k).unwrap_or(i64::MAX))
}
/// HAProxy: modulo by zero gives 0.
fn modulo(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, |n, k| n.checked_rem(k).unwrap_or(0))
}
fn and(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, |n, k| n & k)
}
fn or(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, |n, k| n | k)
}
fn xor(a: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    int(a, c, b, |n, k| n ^ k)
}
fn neg(_: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    Some(Cur::Int(as_int(c, b)?.wrapping_neg()))
}
fn cpl(_: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    Some(Cur::Int(!as_int(c, b)?))
}
fn to_bool(_: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    Some(Cur::Bool(as_int(c, b)? != 0))
}
fn not(_: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    Some(Cur::Bool(as_int(c, b)? == 0))
}
fn odd(_: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    Some(Cur::Bool(as_int(c, b)? & 1 == 1))
}
fn even(_: &Args, c: Cur, b: &mut Vec<u8>) -> Option<Cur> {
    Some(Cur::Bool(as_int(c, b)? & 1 == 0))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{i, s};

    #[test]
    fn arithmetic_converters_table() {
        let cases: &[(&str, i64, &str)] = &[
            ("add(3)", 7, "10"),
            ("sub(3)", 7, "4"),
            ("mul(3)", 7, "21"),
            ("div(2)", 7, "3"),
            ("div(0)", 7, "9223372036854775807"),
            ("mod(4)", 7, "3"),
            ("mod(0)", 7, "0"),
            ("and(6)", 7, "6"),
            ("or(8)", 7, "15"),
            ("xor(5)", 7, "2"),
            ("neg", 7, "-7"),
            ("cpl", 7, "-8"),
            ("bool", 7, "true"),
            ("not", 0, "true"),
            ("odd", 7, "true"),
            ("even", 7, "false"),
            ("add(-10),neg", 7, "3"),
        ];
        for (chain, input, want) in cases {
            assert_eq!(
                i(chain, *input).as_deref(),
                Some(*want),
                "{chain} on {input}"
            );
        }
        assert_eq!(s("bool", "0").as_deref(), Some("false"));
        assert_eq!(s("neg", ""), None, "an empty string is no integer");
        assert_eq!(s("add(1)", "41abc").as_deref(), Some("42"));
    }
}
