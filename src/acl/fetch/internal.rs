//! Internal-state fetches (configuration.txt 7.3.2) that read no request: constants
//! (`always_true`, `always_false`, `str`, `int`, `bool`, `bin`, `ipv4`, `ipv6`, `meth`),
//! the process (`proc`, `nbproc`), the clock (`date`, `date_us`) and random values
//! (`rand`, `uuid`).

use super::row::*;
use super::{ArgVal, Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{SystemTime, UNIX_EPOCH};

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("always_true", SmpType::Bool, C, always_true),
    FetchDef::new("always_false", SmpType::Bool, C, always_false),
    FetchDef::new("str", SmpType::Str, C, str_const).args(&[S], 1),
    FetchDef::new("int", SmpType::Int, C, int_const).args(&[I], 1),
    FetchDef::new("bool", SmpType::Bool, C, bool_const)
        .args(&[S], 1)
        .check(check_bool),
    FetchDef::new("bin", SmpType::Str, C, bin_const)
        .args(&[S], 1)
        .check(|a| hex(str0(a)).map(|_| ())),
    FetchDef::new("ipv4", SmpType::Ip, C, ipv4_const)
        .args(&[S], 1)
        .check(|a| match str0(a).parse::<Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!(
                "failed to parse '{}' as type 'IPv4 address' at position 1",
                str0(a)
            )),
        }),
    FetchDef::new("ipv6", SmpType::Ip, C, ipv6_const)
        .args(&[S], 1)
        .check(|a| match str0(a).parse::<Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!(
                "failed to parse '{}' as type 'IPv6 address' at position 1",
                str0(a)
            )),
        }),
    FetchDef::new("meth", SmpType::Str, C, str_const).args(&[S], 1),
    FetchDef::new("proc", SmpType::Int, C, one),
    FetchDef::new("nbproc", SmpType::Int, C, one),
    FetchDef::new("date", SmpType::Int, C, date)
        .args(&[I, S], 0)
        .check(|a| unit(a).map(|_| ())),
    FetchDef::new("date_us", SmpType::Int, C, date_us),
    FetchDef::new("rand", SmpType::Int, C, rand).args(&[I], 0),
    FetchDef::new("uuid", SmpType::Str, C, uuid)
        .args(&[I], 0)
        .check(|a| match a.first() {
            None | Some(ArgVal::Int(4)) => Ok(()),
            Some(ArgVal::Int(n)) => Err(format!("Unsupported UUID version: '{n}'.")),
            Some(ArgVal::Str(s)) => Err(format!("Unsupported UUID version: '{s}'.")),
        }),
];

/// The first argument as a string.
fn str0(a: &[ArgVal]) -> &str {
    match a.first() {
        Some(ArgVal::Str(s)) => s,
        _ => "",
    }
}

/// `bool(<bool>)`: `true`, `false`, `1` or `0`.
fn check_bool(a: &[ArgVal]) -> Result<(), String> {
    match str0(a) {
        "true" | "false" | "1" | "0" => Ok(()),
        _ => Err("Expects 'true', 'false', '0' or '1'".into()),
    }
}

/// The bytes an even number of hex digits stand for.
fn hex(text: &str) -> Result<Vec<u8>, String> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("an hex digit is expected (found '{c}')."));
    }
    if !text.len().is_multiple_of(2) {
        return Err("an even number of hex digit is expected.".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

/// `date`'s unit: how many of it in a second (`s`, `ms`, `us`).
fn unit(a: &[ArgVal]) -> Result<i64, String> {
    match a.get(1) {
        None => Ok(1),
        Some(ArgVal::Str(u)) => match &**u {
            "" | "s" => Ok(1),
            "ms" => Ok(1_000),
            "us" => Ok(1_000_000),
            other => Err(format!("expects 's', 'ms' or 'us', got '{other}'")),
        },
        Some(ArgVal::Int(n)) => Err(format!("expects 's', 'ms' or 'us', got '{n}'")),
    }
}

/// `str(<string>)`, `meth(<method>)`: the constant string.
fn str_const(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Str(call.name.as_bytes()))
}

fn int_const(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    call.int_arg(0).is_some_and(|n| each(Sample::Int(n)))
}

fn bool_const(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(matches!(&*call.name, "true" | "1")))
}

/// `bin(<hex>)`: the bytes, decoded into the reused fetch buffer.
fn bin_const(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    super::with_scratch(|buf| {
        let text = call.name.as_bytes();
        let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        buf.extend(
            text.chunks(2)
                .map(|p| digit(p[0]) << 4 | digit(p[p.len() - 1])),
        );
        each(Sample::Str(buf))
    })
}

fn ipv4_const(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    call.name
        .parse::<Ipv4Addr>()
        .is_ok_and(|ip| each(Sample::Ip(ip.into())))
}

fn ipv6_const(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    call.name
        .parse::<Ipv6Addr>()
        .is_ok_and(|ip| each(Sample::Ip(ip.into())))
}

fn always_true(_: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(true))
}

fn always_false(_: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(false))
}

/// `proc`, `nbproc`: one process.
fn one(_: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Int(1))
}

/// `date([<offset>],[<unit>])`: now since the epoch in the unit, plus the offset.
fn date(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let v = match unit(&call.args).unwrap_or(1) {
        1 => now.as_secs() as i64,
        1_000 => now.as_millis() as i64,
        _ => now.as_micros() as i64,
    };
    each(Sample::Int(v.saturating_add(call.int_arg(0).unwrap_or(0))))
}

/// `date_us`: the microseconds of the current second.
fn date_us(_: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    each(Sample::Int(i64::from(now.subsec_micros())))
}

/// `rand([<range>])`: a random integer in `0..range` (2^32 by default).
fn rand(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let r = u64::from(fastrand::u32(..));
    let v = match call.int_arg(0) {
        Some(range) if range > 0 => ((r * range as u64) >> 32) as i64,
        _ => r as i64,
    };
    each(Sample::Int(v))
}

/// `uuid([4])`: a random (version 4) UUID, in lower case.
fn uuid(_: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let mut b: [u8; 16] = fastrand::u128(..).to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = [0u8; 36];
    let mut i = 0;
    for (k, byte) in b.iter().enumerate() {
        if matches!(k, 4 | 6 | 8 | 10) {
            out[i] = b'-';
            i += 1;
        }
        for nib in [byte >> 4, byte & 0xf] {
            out[i] = b"0123456789abcdef"[usize::from(nib)];
            i += 1;
        }
    }
    each(Sample::Str(&out))
}

#[cfg(test)]
mod tests {
    use crate::acl::SampleExpr;
    use crate::acl::conv::testing::NoSource;

    fn eval(expr: &str) -> Result<Option<String>, String> {
        let e = SampleExpr::parse(expr)?;
        let mut out = None;
        e.eval_str(&NoSource, &mut |v| {
            out = Some(String::from_utf8_lossy(v).into_owned())
        });
        Ok(out)
    }

    #[test]
    fn constant_and_process_fetch_table() {
        for (expr, want) in [
            ("int(42)", "42"),
            ("int(-7),add(10)", "3"),
            ("bool(true)", "1"),
            ("bool(0)", "0"),
            ("bin(48656c6c6f)", "Hello"),
            ("bin(4142),hex", "4142"),
            ("ipv4(10.1.2.3),ipmask(16)", "10.1.0.0"),
            ("ipv6(::1)", "::1"),
            ("meth(GET)", "GET"),
            ("proc", "1"),
            ("nbproc", "1"),
            ("rand(1)", "0"),
        ] {
            assert_eq!(eval(expr).unwrap().as_deref(), Some(want), "{expr}");
        }
        let n: i64 = eval("rand(10)").unwrap().unwrap().parse().unwrap();
        assert!((0..10).contains(&n));
        let u = eval("uuid").unwrap().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4", "{u}");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(u, eval("uuid(4)").unwrap().unwrap());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let d: i64 = eval("date(3600)").unwrap().unwrap().parse().unwrap();
        assert!((now + 3600..=now + 3602).contains(&d), "{d}");
        let ms: i64 = eval("date(0,ms)").unwrap().unwrap().parse().unwrap();
        assert!((now * 1000..=(now + 2) * 1000).contains(&ms), "{ms}");
        let us: i64 = eval("date_us").unwrap().unwrap().parse().unwrap();
        assert!((0..1_000_000).contains(&us));
    }

    #[test]
    fn constant_fetch_arguments_are_checked_like_haproxy() {
        for (expr, err) in [
            (
                "bool(maybe)",
                "invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1'",
            ),
            (
                "ipv4(x)",
                "fetch method 'ipv4' : failed to parse 'x' as type 'IPv4 address' at position 1",
            ),
            (
                "bin(zz)",
                "invalid args in fetch method 'bin' : an hex digit is expected (found 'z').",
            ),
            (
                "bin(abc)",
                "invalid args in fetch method 'bin' : an even number of hex digit is expected.",
            ),
            (
                "int(x)",
                "fetch method 'int' : failed to parse 'x' as type 'integer' at position 1",
            ),
            (
                "date(1,xs)",
                "invalid args in fetch method 'date' : expects 's', 'ms' or 'us', got 'xs'",
            ),
            (
                "uuid(3)",
                "invalid args in fetch method 'uuid' : Unsupported UUID version: '3'.",
            ),
        ] {
            assert_eq!(eval(expr).unwrap_err(), err, "{expr}");
        }
    }
}
