//! `show table`, `clear table`, `set table` (management.txt 9.3), answered as HAProxy
//! 2.6's `cli_parse_table_req` and `cli_io_handler_table` answer them: the same heads,
//! entry lines, filters (`data.<type> <op> <value>`, up to four), keys and messages.

use super::Level;
use super::api::Api;
use super::session::Outcome;
use crate::config::model::StickData;
use crate::runtime::stick::{FilterOp, KeyIn, Table};
use std::sync::Arc;

/// What the command does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `show table`.
    Show,
    /// `clear table`.
    Clear,
    /// `set table`.
    Set,
}

fn err_args(a: Action) -> Outcome {
    Outcome::text(match a {
        Action::Show => {
            "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n"
        }
        Action::Clear => {
            "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n"
        }
        Action::Set => "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n",
    })
}

/// HAProxy's `strl2llrc`: a whole signed decimal integer.
fn integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Runs `show|clear|set table` with the words after `table`.
pub fn table(api: &Api, level: Level, action: Action, args: &[String]) -> Outcome {
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let tables = api.tables();
    if a(0).is_empty() {
        if action != Action::Show {
            return err_args(action);
        }
        let mut out = String::new();
        for t in tables.iter().filter(|t| t.def.size > 0) {
            out.push_str(&t.head());
        }
        return Outcome::text(out);
    }
    let Some(t) = tables.iter().find(|t| t.name == a(0)) else {
        return Outcome::text("No such table\n");
    };
    if a(1) == "key" {
        return by_key(t, level, action, args);
    }
    let mut filters = Vec::new();
    if a(1).starts_with("data.") {
        if action == Action::Set {
            return Outcome::text(
                "content-based lookup is only supported with the \"show\" and \"clear\" actions\n",
            );
        }
        let mut i = 0;
        while i < 4 {
            let w = a(1 + 3 * i);
            if i > 0 && w.is_empty() {
                break;
            }
            let n = i + 1;
            let Some(d) = w.strip_prefix("data.").and_then(StickData::parse) else {
                return Outcome::text(format!("Filter entry #{n}: Unknown data type\n"));
            };
            if !t.stores(d) {
                return Outcome::text(format!(
                    "Filter entry #{n}: Data type not stored in this table\n"
                ));
            }
            let Some(op) = FilterOp::parse(a(2 + 3 * i)) else {
                return Outcome::text(format!(
                    "Filter entry #{n}: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n"
                ));
            };
            let Some(v) = integer(a(3 + 3 * i)) else {
                return Outcome::text(format!(
                    "Filter entry #{n}: Require a valid integer value to compare against\n"
                ));
            };
            filters.push((d, op, v));
            i += 1;
        }
        if !a(1 + 3 * i).is_empty() {
            return Outcome::text(format!(
                "Detected extra data in filter, {}th word of input, after '{}'\n",
                3 + 3 * i + 1,
                a(3 * i)
            ));
        }
    } else if !a(1).is_empty() {
        return err_args(action);
    }
    if t.def.size == 0 {
        return Outcome::text("");
    }
    match action {
        Action::Show => {
            let mut out = t.head();
            if level < Level::Operator {
                out.push_str("# contents not dumped due to insufficient privileges\n");
                return Outcome::text(out);
            }
            out.push_str(&t.dump(&filters, None));
            Outcome::text(out)
        }
        // HAProxy 2.6 clears the unreferenced matching entries for `set table T` too.
        Action::Clear | Action::Set => {
            if level >= Level::Operator {
                t.clear(&filters, None);
            }
            Outcome::text("")
        }
    }
}

/// `… table T key K …`.
fn by_key(t: &Arc<Table>, level: Level, action: Action, args: &[String]) -> Outcome {
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let k = a(2);
    if k.is_empty() {
        return Outcome::text("Key value expected\n");
    }
    use crate::config::model::StickKeyType as K;
    let key = match t.def.key {
        // `inetaddr_host`: what is not an address reads as 0.0.0.0.
        K::Ip => t.key(KeyIn::Ip(
            k.parse::<std::net::Ipv4Addr>()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)
                .into(),
        )),
        K::Ipv6 => match k.parse::<std::net::Ipv6Addr>() {
            Ok(ip) => t.key(KeyIn::Ip(ip.into())),
            Err(_) => return Outcome::text("Invalid key\n"),
        },
        K::Integer => match k.parse::<u64>() {
            Ok(n) if n <= u64::from(u32::MAX) => t.key(KeyIn::Int(n as i64)),
            _ => return Outcome::text("Invalid key\n"),
        },
        K::String => t.key(KeyIn::Str(k.as_bytes())),
        K::Binary => {
            return Outcome::text(match action {
                Action::Show => {
                    "Showing keys from tables of type other than ip, ipv6, string and integer is not supported\n"
                }
                Action::Clear => {
                    "Removing keys from tables of type other than ip, ipv6, string and integer is not supported\n"
                }
                Action::Set => {
                    "Inserting keys into tables of type other than ip, ipv6, string and integer is not supported\n"
                }
            });
        }
    };
    let Some(key) = key else {
        return Outcome::text("Invalid key\n");
    };
    if level < Level::Operator {
        return Outcome::text(super::table::DENIED);
    }
    match action {
        Action::Show => {
            if t.lookup(key.bytes()).is_none() {
                return Outcome::text("");
            }
            let mut out = t.head();
            out.push_str(&t.dump(&[], Some(key.bytes())));
            Outcome::text(out)
        }
        Action::Clear => {
            if !t.clear(&[], Some(key.bytes())) {
                return Outcome::text("Entry currently in use, cannot remove\n");
            }
            Outcome::text("")
        }
        Action::Set => {
            let Some(e) = t.get_or_create(key.bytes()) else {
                return Outcome::text("Unable to allocate a new entry\n");
            };
            let mut i = 3;
            let mut err = None;
            t.update(&e, |u| {
                while !a(i).is_empty() {
                    let Some(name) = a(i).strip_prefix("data.") else {
                        err = Some("\"data.<type>\" followed by a value expected\n");
                        return;
                    };
                    let Some(d) = StickData::parse(name) else {
                        err = Some("Unknown data type\n");
                        return;
                    };
                    if !t.stores(d) {
                        err = Some("Data type not stored in this table\n");
                        return;
                    }
                    let Some(v) = integer(a(i + 1)) else {
                        err = Some("Require a valid integer value to store\n");
                        return;
                    };
                    u.set(d, 0, v);
                    i += 2;
                }
            });
            Outcome::text(err.unwrap_or(""))
        }
    }
}
