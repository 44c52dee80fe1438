//! `json_query(<json_path>[,int])` (configuration.txt 7.3.1): the value at a JSON path
//! (`$.a.b`, `$.list[1]`, `$.my\.key`) of the JSON text in the sample. Strings come
//! out unescaped, booleans as booleans, numbers as HAProxy prints a double (`%g`), or
//! as an integer with `int` (the number's leading digits, as `strtoll`; serde_json
//! reads `1e3` as 1000.0, where HAProxy's `strtoll` stops at the `e`). Objects, null,
//! a missing path or invalid JSON leave the sample absent.

use super::row::*;
use serde_json::Value;

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] =
    &[ConvDef::custom("json_query", SmpType::Str, JsonQuery::build).args(&[S, S], 1)];

/// A compiled `json_query(<path>[,<type>])` of these arguments (for the JWT
/// converters, which query a decoded part of a token).
pub(super) fn build_query(args: &[ArgVal]) -> Result<Box<dyn Conv>, String> {
    JsonQuery::build(args)
}

/// One step of a JSON path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A compiled `json_query`.
#[derive(Debug)]
struct JsonQuery {
    path: Vec<Step>,
    int: bool,
}

impl JsonQuery {
    fn build(args: &[ArgVal]) -> Result<Box<dyn Conv>, String> {
        let text = |i: usize| match args.get(i) {
            Some(ArgVal::Str(s)) => s.to_string(),
            _ => String::new(),
        };
        let path = text(0);
        if path.is_empty() {
            return Err("json_path must not be empty".into());
        }
        let int = match text(1).as_str() {
            "" => false,
            "int" => true,
            _ => return Err("output_type only supports \"int\" as argument".into()),
        };
        Ok(Box::new(JsonQuery {
            path: parse_path(&path)?,
            int,
        }))
    }
}

/// Parses `$`, then `.key` (a backslash makes the next character part of the key) and
/// `[index]` steps.
fn parse_path(p: &str) -> Result<Vec<Step>, String> {
    let bad = || format!("invalid json_path '{p}'");
    let mut chars = p.chars().peekable();
    if chars.next() != Some('$') {
        return Err(bad());
    }
    let mut steps = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&k) = chars.peek() {
                    match k {
                        '.' | '[' => break,
                        '\\' => {
                            while chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            key.extend(chars.next());
                        }
                        _ => {
                            key.push(k);
                            chars.next();
                        }
                    }
                }
                if key.is_empty() {
                    return Err(bad());
                }
                steps.push(Step::Key(key));
            }
            '[' => {
                let mut n = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    n.push(d);
                }
                steps.push(Step::Index(n.trim().parse().map_err(|_| bad())?));
            }
            _ => return Err(bad()),
        }
    }
    Ok(steps)
}

/// C's `printf("%g")` of a double: 6 significant digits, trailing zeros removed,
/// scientific notation below 1e-4 or from 1e6.
fn format_g(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let sci = format!("{v:.5e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.abs())
    } else {
        let decimals = (5 - exp).max(0) as usize;
        trim(&format!("{v:.decimals$}"))
    }
}

/// `strtoll(text, NULL, 0)` for a JSON number: sign and leading digits.
fn leading_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits[..end].parse().ok()?;
    Some(if neg { -n } else { n })
}

impl Conv for JsonQuery {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        let (s, e) = as_str(cur, buf);
        let doc: Value = serde_json::from_slice(&buf[s..e]).ok()?;
        let mut v = &doc;
        for step in &self.path {
            v = match step {
                Step::Key(k) => v.as_object()?.get(k)?,
                Step::Index(i) => v.as_array()?.get(*i)?,
            };
        }
        match v {
            Value::Bool(b) => Some(Cur::Bool(*b)),
            Value::String(text) => Some(push(buf, |b| b.extend_from_slice(text.as_bytes()))),
            Value::Number(n) if self.int => leading_int(&n.to_string()).map(Cur::Int),
            Value::Number(n) => {
                let d: f64 = n.to_string().parse().ok()?;
                let text = format_g(d);
                Some(push(buf, |b| b.extend_from_slice(text.as_bytes())))
            }
            Value::Null | Value::Object(_) | Value::Array(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::s;
    use super::*;

    #[test]
    fn json_query_table() {
        let doc = r#"{"integer":4,"float":3.14159265,"big":1234567,"small":0.00001,"neg":-2.5,
            "str":"a\"b\u00e9","t":true,"f":false,"n":null,"o":{"in":{"x":"deep"}},
            "my.key":"myvalue","list":[10,"two",{"k":"v"}],"boolean-false":false}"#;
        let cases: &[(&str, Option<&str>)] = &[
            ("json_query('$.integer')", Some("4")),
            ("json_query('$.integer','int')", Some("4")),
            ("json_query('$.integer','int'),add(1)", Some("5")),
            ("json_query('$.float')", Some("3.14159")),
            ("json_query('$.float','int')", Some("3")),
            ("json_query('$.big')", Some("1.23457e+06")),
            ("json_query('$.small')", Some("1e-05")),
            ("json_query('$.neg')", Some("-2.5")),
            ("json_query('$.neg','int')", Some("-2")),
            ("json_query('$.str')", Some("a\"bé")),
            ("json_query('$.t')", Some("true")),
            ("json_query('$.boolean-false')", Some("false")),
            ("json_query('$.n')", None),
            ("json_query('$.o')", None),
            ("json_query('$.o.in.x')", Some("deep")),
            ("json_query('$.my\\.key')", Some("myvalue")),
            ("json_query('$.list[1]')", Some("two")),
            ("json_query('$.list[2].k')", Some("v")),
            ("json_query('$.list[9]')", None),
            ("json_query('$.nope')", None),
        ];
        for (chain, want) in cases {
            assert_eq!(s(chain, doc).as_deref(), *want, "{chain}");
        }
        assert_eq!(s("json_query('$.a')", "not json"), None);
        let e = super::super::testing::run(
            "json_query('$.a','str')",
            crate::acl::fetch::Sample::Int(1),
        )
        .unwrap_err();
        assert!(e.contains("only supports \"int\""), "{e}");
    }

    #[test]
    fn percent_g_like_c() {
        for (v, want) in [
            (0.5, "0.5"),
            (100.0, "100"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (-7.0, "-7"),
            (1e21, "1e+21"),
        ] {
            assert_eq!(format_g(v), want, "{v}");
        }
    }
}
