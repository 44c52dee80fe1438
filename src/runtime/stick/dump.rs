//! The `show table` lines of one table (HAProxy's `table_dump_entry_to_buffer`): the
//! head, the entries in key order (the order of HAProxy's tree: the keys' bytes
//! compared as `memcmp` does), each data type under its name with rates' periods, and
//! the `data.TYPE op V` filters `show table` and `clear table` share.

use super::freq::now_ms;
use super::table::{Entry, Slot, Table};
use crate::config::model::{STICK_DATA, StickData, StickKeyType};
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A comparison of `show table`/`clear table` filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterOp {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `le`.
    Le,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `gt`.
    Gt,
}

impl FilterOp {
    /// The operator named `s`.
    pub fn parse(s: &str) -> Option<FilterOp> {
        Some(match s {
            "eq" => FilterOp::Eq,
            "ne" => FilterOp::Ne,
            "le" => FilterOp::Le,
            "ge" => FilterOp::Ge,
            "lt" => FilterOp::Lt,
            "gt" => FilterOp::Gt,
            _ => return None,
        })
    }
    pub(super) fn keeps(self, data: i64, value: i64) -> bool {
        match self {
            FilterOp::Eq => data == value,
            FilterOp::Ne => data != value,
            FilterOp::Le => data <= value,
            FilterOp::Ge => data >= value,
            FilterOp::Lt => data < value,
            FilterOp::Gt => data > value,
        }
    }
}

impl Table {
    /// `# table: NAME, type: T, size:S, used:U` of `show table`.
    pub fn head(&self) -> String {
        self.purge_expired();
        format!(
            "# table: {}, type: {}, size:{}, used:{}\n",
            self.name,
            self.def.key.keyword(),
            self.def.size,
            self.used()
        )
    }

    /// The value a filter compares (`data.TYPE`): the first element of arrays.
    fn filter_value(&self, e: &Entry, data: StickData) -> i64 {
        self.read(e, data, 0).unwrap_or(0)
    }

    pub(super) fn matches(&self, e: &Entry, filters: &[(StickData, FilterOp, i64)]) -> bool {
        filters
            .iter()
            .all(|(d, op, v)| op.keeps(self.filter_value(e, *d), *v))
    }

    /// The lines of `show table NAME [filters]` after the head: the entries matching,
    /// in key order, as HAProxy's `table_dump_entry_to_buffer` writes them.
    pub fn dump(&self, filters: &[(StickData, FilterOp, i64)], key: Option<&[u8]>) -> String {
        self.purge_expired();
        let mut list: Vec<Arc<Entry>> = {
            let m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            match key {
                Some(k) => m.get(k).cloned().into_iter().collect(),
                None => m.values().cloned().collect(),
            }
        };
        self.sort(&mut list);
        let mut out = String::new();
        for e in list.iter().filter(|e| self.matches(e, filters)) {
            self.dump_entry(e, &mut out);
        }
        out
    }

    /// Sorts entries as HAProxy's tree holds them: `integer` keys by value (an `eb32`
    /// tree), the others by their bytes (`ebmb`/`ebst`: `memcmp` order).
    pub fn sort(&self, list: &mut [Arc<Entry>]) {
        if self.def.key == StickKeyType::Integer {
            let n = |k: &[u8]| k.first_chunk::<4>().map_or(0, |b| u32::from_ne_bytes(*b));
            list.sort_unstable_by_key(|e| n(&e.key));
        } else {
            list.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        }
    }

    fn dump_entry(&self, e: &Arc<Entry>, out: &mut String) {
        let now = now_ms();
        let _ = write!(out, "{:p}: key=", Arc::as_ptr(e));
        self.write_key(&e.key, out);
        let exp = if self.def.expire_ms.is_some() {
            (e.expire.load(Ordering::Relaxed).wrapping_sub(now) as i32).max(0)
        } else {
            0
        };
        let _ = write!(out, " use={} exp={exp}", e.refs());
        let d = e.data.lock().unwrap_or_else(|p| p.into_inner());
        for (data, name) in STICK_DATA {
            let Some(first) = self.slot(*data, 0) else {
                continue;
            };
            let count = self.def.item(*data).map_or(1, |i| i.count);
            for idx in 0..count {
                let label = if data.is_array() {
                    let (pfx, sfx) = name
                        .split_once('_')
                        .map_or((*name, ""), |(p, _)| (p, &name[p.len()..]));
                    format!("{pfx}{idx}{sfx}")
                } else {
                    (*name).to_string()
                };
                let v = match &d[first + idx as usize] {
                    Slot::Int(v) => match data {
                        StickData::ServerId => (*v as i32).to_string(),
                        StickData::BytesInCnt | StickData::BytesOutCnt => v.to_string(),
                        _ => (*v as u32).to_string(),
                    },
                    Slot::Rate(f, _) => f.read(self.period(*data), now).to_string(),
                    Slot::Name(n) => n.as_deref().unwrap_or("-").to_string(),
                };
                if data.is_rate() {
                    let _ = write!(out, " {label}({})={v}", self.period(*data));
                } else {
                    let _ = write!(out, " {label}={v}");
                }
            }
        }
        out.push('\n');
    }

    /// Writes a key as `show table` does (`dump_text` for strings, hex for binary).
    pub fn write_key(&self, key: &[u8], out: &mut String) {
        match self.def.key {
            StickKeyType::Ip => {
                let mut o = [0u8; 4];
                o.copy_from_slice(&key[..4]);
                let _ = write!(out, "{}", std::net::Ipv4Addr::from(o));
            }
            StickKeyType::Ipv6 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&key[..16]);
                let _ = write!(out, "{}", std::net::Ipv6Addr::from(o));
            }
            StickKeyType::Integer => {
                let mut o = [0u8; 4];
                o.copy_from_slice(&key[..4]);
                let _ = write!(out, "{}", u32::from_ne_bytes(o));
            }
            StickKeyType::String => {
                for &c in key {
                    match c {
                        b'\t' => out.push_str("\\t"),
                        b'\n' => out.push_str("\\n"),
                        b'\r' => out.push_str("\\r"),
                        0x1b => out.push_str("\\e"),
                        b'\\' => out.push_str("\\\\"),
                        b' ' => out.push_str("\\ "),
                        b'=' => out.push_str("\\="),
                        0x21..=0x7e => out.push(c as char),
                        _ => {
                            let _ = write!(out, "\\x{c:02X}");
                        }
                    }
                }
            }
            StickKeyType::Binary => {
                for &c in key {
                    let _ = write!(out, "{c:02X}");
                }
            }
        }
    }
}
