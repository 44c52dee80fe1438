//! `show stat` as CSV (doc/management.txt 9.1), the typed form (`show stat typed`) and
//! the JSON form (`show stat json`), written from the model's rows.

use super::fields::{FIELDS, SEPARATOR};
use super::model::{Row, Value};
use super::tags;

/// HAProxy 2.6's CSV header line: `# pxname,svname,…,`.
pub fn write_header(out: &mut String) {
    out.push_str("# ");
    for f in FIELDS {
        out.push_str(f.name);
        out.push(',');
    }
    out.push('\n');
}

/// `show stat`: the header line, then one line per row, each field followed by a
/// comma (the separator column prints `-`).
pub fn write_csv(out: &mut String, rows: &[Row]) {
    write_header(out);
    for r in rows {
        for (i, v) in r.values.iter().enumerate() {
            if i == SEPARATOR {
                out.push('-');
            } else {
                write_csv_value(out, v);
            }
            out.push(',');
        }
        out.push('\n');
    }
}

/// A value in a CSV cell: HAProxy replaces the characters that would break the line
/// (`,`, CR, LF) in strings.
fn write_csv_value(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) if s.contains([',', '\n', '\r']) => {
            out.extend(s.chars().map(|c| match c {
                ',' => ' ',
                '\n' | '\r' => ' ',
                c => c,
            }));
        }
        v => v.write(out),
    }
}

/// The position HAProxy's typed and JSON forms give column `i` (they skip the
/// separator).
fn pos(i: usize) -> usize {
    if i > SEPARATOR { i - 1 } else { i }
}

/// `show stat typed`: `F.IID.SID.POS.NAME.1:TAGS:TYPE:VALUE` per non-empty field, a
/// blank line after each object.
pub fn write_typed(out: &mut String, rows: &[Row]) {
    for r in rows {
        for (i, v) in r.values.iter().enumerate() {
            if i == SEPARATOR || *v == Value::Empty {
                continue;
            }
            let f = &FIELDS[i];
            out.push_str(&format!(
                "{}.{}.{}.{}.{}.1:{}:{}:",
                r.obj.letter(),
                r.proxy_id,
                r.id,
                pos(i),
                f.name,
                tags::letters(f.tags[r.obj.index()]),
                tags::type_for(f.tags[r.obj.index()], v)
            ));
            v.write(out);
            out.push('\n');
        }
        out.push('\n');
    }
}

/// `show stat json`: an array with, per row, the array of its non-empty fields as
/// HAProxy's `{objType, proxyId, id, field, processNum, tags, value}` objects.
pub fn write_json(out: &mut String, rows: &[Row]) {
    let lines: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let fields: Vec<serde_json::Value> = r
                .values
                .iter()
                .enumerate()
                .filter(|(i, v)| *i != SEPARATOR && **v != Value::Empty)
                .map(|(i, v)| {
                    let f = &FIELDS[i];
                    serde_json::json!({
                        "objType": r.obj.json_name(),
                        "proxyId": r.proxy_id,
                        "id": r.id,
                        "field": {"pos": pos(i), "name": f.name},
                        "processNum": 1,
                        "tags": tags::json(tags::letters(f.tags[r.obj.index()])),
                        "value": tags::field_value(f.tags[r.obj.index()], v),
                    })
                })
                .collect();
            serde_json::Value::Array(fields)
        })
        .collect();
    out.push_str(&serde_json::Value::Array(lines).to_string());
    out.push('\n');
}
