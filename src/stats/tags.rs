//! HAProxy's field tags (origin, nature, scope: `show stat typed`'s three letters and
//! the JSON forms' `tags` object) and typed values.

use super::model::Value;

/// The JSON `tags` object of `ONS[:type]` letters.
pub fn json(tags: &str) -> serde_json::Value {
    let mut l = tags.chars();
    let origin = match l.next() {
        Some('M') => "Metric",
        Some('S') => "Status",
        Some('K') => "Key",
        Some('C') => "Config",
        Some('P') => "Product",
        _ => "Unknown",
    };
    let nature = match l.next() {
        Some('G') => "Gauge",
        Some('L') => "Limit",
        Some('m') => "Min",
        Some('M') => "Max",
        Some('R') => "Rate",
        Some('C') => "Counter",
        Some('D') => "Duration",
        Some('A') => "Age",
        Some('T') => "Time",
        Some('N') => "Name",
        Some('O') => "Output",
        Some('a') => "Avg",
        _ => "Unknown",
    };
    let scope = match l.next() {
        Some('P') => "Process",
        Some('S') => "Service",
        Some('s') => "System",
        Some('C') => "Cluster",
        _ => "Unknown",
    };
    serde_json::json!({"origin": origin, "nature": nature, "scope": scope})
}

/// The type name of a value (`u32`, `s32`, `u64`, `str`).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::U32(_) => "u32",
        Value::S32(_) => "s32",
        Value::U64(_) => "u64",
        Value::Str(_) | Value::Empty => "str",
    }
}

/// The type HAProxy gives a value of a field with `tags` (`MGP:u64`): the field's
/// declared numeric type, else the value's own.
pub fn type_for<'a>(tags: &'a str, v: &Value) -> &'a str {
    match (tags.split_once(':'), v) {
        (Some((_, t)), Value::U32(_) | Value::U64(_) | Value::S32(_)) if t != "str" => t,
        _ => type_name(v),
    }
}

/// The JSON `value` object of a field with `tags`: `{"type": "u32", "value": 0}`.
pub fn field_value(tags: &str, v: &Value) -> serde_json::Value {
    let mut j = typed_value(v);
    j["type"] = serde_json::json!(type_for(tags, v));
    j
}

/// The JSON `value` object: `{"type": "u32", "value": 0}`.
pub fn typed_value(v: &Value) -> serde_json::Value {
    let value = match v {
        Value::U32(n) => serde_json::json!(n),
        Value::S32(n) => serde_json::json!(n),
        Value::U64(n) => serde_json::json!(n),
        Value::Str(s) => serde_json::json!(s),
        Value::Empty => serde_json::Value::Null,
    };
    serde_json::json!({"type": type_name(v), "value": value})
}

/// The three tag letters of `tags` (`MGP:u32` → `MGP`), or `MGP` when unknown.
pub fn letters(tags: &str) -> &str {
    match tags.split_once(':') {
        Some((t, _)) if !t.is_empty() => t,
        _ if !tags.is_empty() => tags,
        _ => "MGP",
    }
}
