//! How one entry's data maps onto its Redis hash, and the two halves of a sync round
//! for one entry: what to send (the changes since the last round, from a copy of the
//! entry's data) and how to merge what Redis answers (the fleet's values) into the
//! entry. Fields, by kind of data:
//!
//! - counters (`http_req_cnt`, `gpc0`, `bytes_in_cnt`, `gpc.3` for `gpc(N)` element 3,
//!   …): the fleet's sum; each instance adds its changes (`HINCRBY`);
//! - rates (`http_req_rate:B`): one field per period `B` of the wall clock
//!   (`unix ms / period`); each instance adds its events to the current period's
//!   field, and the fleet's rate is HAProxy's formula over the current and the previous
//!   periods' sums;
//! - `conn_cur:ID`: each instance writes its own connections, the fleet's count is the
//!   sum;
//! - tags (`server_id`, `server_key`, `gpt0`, `gpt.N`): the last value written wins.
//!
//! A field Redis does not have (a new key, or a Redis that restarted empty) is written
//! with this instance's whole value (`seed`) rather than its change, so a Redis that
//! lost its data is filled again from the instances' copies.

use super::super::freq::FreqCtr;
use super::super::table::Slot;
use crate::config::model::StickData;
use std::collections::HashMap;
use std::sync::Arc;

/// How a data type is shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A counter: changes are added.
    Sum,
    /// `conn_cur`: one field per instance, summed.
    Gauge,
    /// A tag: the last value wins.
    Last,
    /// A rate: events added to the current period's field.
    Rate,
}

/// The kind of `data`.
pub fn kind(data: StickData) -> Kind {
    match data {
        d if d.is_rate() => Kind::Rate,
        StickData::ConnCur => Kind::Gauge,
        StickData::ServerId | StickData::ServerKey | StickData::Gpt0 | StickData::Gpt => Kind::Last,
        _ => Kind::Sum,
    }
}

/// The field name of slot `(data, idx)` (without a rate's `:period`).
pub fn field_name(data: StickData, idx: u32) -> String {
    if data.is_array() {
        format!("{}.{idx}", data.name())
    } else {
        data.name().to_string()
    }
}

/// One operation of the sync script on an entry's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Adds `delta` to the field, or sets it to `seed` when Redis does not have it.
    Add {
        /// The field.
        field: String,
        /// The change.
        delta: i64,
        /// The whole value, for a missing field.
        seed: i64,
    },
    /// Sets the field.
    Set {
        /// The field.
        field: String,
        /// The value.
        value: Vec<u8>,
    },
    /// Deletes the field.
    Del {
        /// The field.
        field: String,
    },
}

impl Op {
    /// Appends the op's script arguments (`A field delta seed`, `S field value -`,
    /// `D field - -`).
    pub fn args(&self, out: &mut Vec<Vec<u8>>) {
        match self {
            Op::Add { field, delta, seed } => {
                out.push(b"A".to_vec());
                out.push(field.clone().into_bytes());
                out.push(delta.to_string().into_bytes());
                out.push(seed.to_string().into_bytes());
            }
            Op::Set { field, value } => {
                out.push(b"S".to_vec());
                out.push(field.clone().into_bytes());
                out.push(value.clone());
                out.push(b"-".to_vec());
            }
            Op::Del { field } => {
                out.push(b"D".to_vec());
                out.push(field.clone().into_bytes());
                out.push(b"-".to_vec());
                out.push(b"-".to_vec());
            }
        }
    }
}

/// The clocks of one round: the wall clock (periods of rates are wall-clock periods,
/// the same on every instance) and the tables' monotonic clock, read together.
#[derive(Clone, Copy, Debug)]
pub struct Clocks {
    /// Unix time, ms.
    pub wall: u64,
    /// [`super::super::freq::now_ms`].
    pub mono: u32,
}

impl Clocks {
    /// The wall-clock period of `period` ms containing now.
    pub fn bucket(&self, period: u32) -> u64 {
        self.wall / u64::from(period.max(1))
    }
    /// The wall-clock period of `period` the monotonic `tick` falls in (to the nearest
    /// period start, not after now's).
    fn bucket_of_tick(&self, tick: u32, period: u32) -> u64 {
        let p = u64::from(period.max(1));
        let age = u64::from(self.mono.wrapping_sub(tick));
        let wall_tick = self.wall.saturating_sub(age);
        ((wall_tick + p / 2) / p).min(self.bucket(period))
    }
    /// The monotonic time the current period of `period` began.
    fn bucket_start(&self, period: u32) -> u32 {
        let p = u64::from(period.max(1));
        self.mono.wrapping_sub((self.wall % p) as u32)
    }
}

/// What the sync task keeps of one entry between rounds.
pub struct Shadow {
    /// The values after the last merge (the fleet's), per slot.
    pub base: Box<[Slot]>,
    /// This instance's own `conn_cur`.
    pub own_cur: i64,
    /// Per slot: Redis lacked the field at the last read while this instance has a
    /// value: send it whole next time.
    pub reseed: Vec<bool>,
    /// Fields of periods gone by, deleted at the next write.
    pub stale: Vec<String>,
}

impl Shadow {
    /// The shadow of an entry never synchronised: everything it holds is this
    /// instance's.
    pub fn new(values: &[Slot]) -> Shadow {
        let base = values
            .iter()
            .map(|s| match s {
                Slot::Int(_) => Slot::Int(0),
                Slot::Rate(..) => Slot::Rate(FreqCtr::default(), 0),
                Slot::Name(_) => Slot::Name(None),
            })
            .collect();
        Shadow {
            base,
            own_cur: 0,
            reseed: vec![false; values.len()],
            stale: Vec::new(),
        }
    }
}

/// Context of a table for the two halves.
pub struct Layout<'a> {
    /// `(data, idx)` per slot.
    pub slots: &'a [(StickData, u32)],
    /// The period of each slot (rates; 0 otherwise).
    pub periods: &'a [u32],
    /// This instance's id (`conn_cur:ID`).
    pub instance: &'a str,
}

/// The ops that bring Redis this instance's changes to an entry whose data is now
/// `now` (a copy), and this instance's `conn_cur` once they are applied.
pub fn diff(l: &Layout<'_>, sh: &Shadow, now: &[Slot], c: Clocks) -> (Vec<Op>, i64) {
    let mut ops: Vec<Op> = sh
        .stale
        .iter()
        .map(|f| Op::Del { field: f.clone() })
        .collect();
    let mut own = sh.own_cur;
    for (i, &(data, idx)) in l.slots.iter().enumerate() {
        let name = field_name(data, idx);
        let reseed = sh.reseed.get(i).copied().unwrap_or(false);
        match (kind(data), &now[i], &sh.base[i]) {
            (Kind::Sum, Slot::Int(v), Slot::Int(b)) => {
                let delta = v.wrapping_sub(*b) as i64;
                if delta != 0 || reseed {
                    ops.push(Op::Add {
                        field: name,
                        delta,
                        seed: *v as i64,
                    });
                }
            }
            (Kind::Gauge, Slot::Int(v), Slot::Int(b)) => {
                let change = v.wrapping_sub(*b) as i64;
                own = (own + change).max(0);
                if change != 0 || reseed {
                    ops.push(Op::Set {
                        field: format!("{name}:{}", l.instance),
                        value: own.to_string().into_bytes(),
                    });
                }
            }
            (Kind::Last, v, b) if v != b || reseed => match v {
                Slot::Int(x) => ops.push(Op::Set {
                    field: name,
                    value: x.to_string().into_bytes(),
                }),
                Slot::Name(Some(n)) => ops.push(Op::Set {
                    field: name,
                    value: n.as_bytes().to_vec(),
                }),
                _ => {}
            },
            (Kind::Rate, Slot::Rate(f, ev), Slot::Rate(_, bev)) => {
                let period = l.periods[i];
                let cur = c.bucket(period);
                let lb = c.bucket_of_tick(f.curr_tick, period);
                let delta = ev.wrapping_sub(*bev);
                if delta == 0 && !reseed {
                    continue;
                }
                // The local counter's current period holds the newest events, its
                // previous period the ones before; older ones are out of every window.
                let in_curr = delta.min(f.curr);
                let in_prev = (delta - in_curr).min(f.prev);
                for (b, d, seed) in [(lb, in_curr, f.curr), (lb.wrapping_sub(1), in_prev, f.prev)] {
                    if b + 1 < cur || (d == 0 && !(reseed && seed > 0)) {
                        continue;
                    }
                    ops.push(Op::Add {
                        field: format!("{name}:{b}"),
                        delta: i64::from(d),
                        seed: i64::from(seed),
                    });
                }
            }
            _ => {}
        }
    }
    (ops, own)
}

/// Reads an integer field.
fn int(fields: &HashMap<&[u8], &[u8]>, name: &str) -> Option<i64> {
    let v = fields.get(name.as_bytes())?;
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Merges the fleet's `fields` into the entry: `taken` is the copy [`diff`] worked
/// on, `cur` the entry's data now (changes made since `taken` are kept on top of the
/// fleet's values). Updates the shadow for the next round.
pub fn merge(
    l: &Layout<'_>,
    sh: &mut Shadow,
    taken: &[Slot],
    cur: &mut [Slot],
    fields: &HashMap<&[u8], &[u8]>,
    c: Clocks,
) {
    sh.stale.clear();
    for (i, &(data, idx)) in l.slots.iter().enumerate() {
        let name = field_name(data, idx);
        sh.reseed[i] = false;
        match (kind(data), &taken[i], &mut cur[i]) {
            (Kind::Sum, Slot::Int(t), Slot::Int(v)) => match int(fields, &name) {
                Some(f) => {
                    *v = (f as u64).wrapping_add(v.wrapping_sub(*t));
                    sh.base[i] = Slot::Int(f as u64);
                }
                None => {
                    sh.base[i] = Slot::Int(*t);
                    sh.reseed[i] = *t != 0;
                }
            },
            (Kind::Gauge, Slot::Int(t), Slot::Int(v)) => {
                let prefix = format!("{name}:");
                let mut fleet = 0i64;
                let mut have_mine = false;
                for (k, val) in fields {
                    if let Some(rest) = k.strip_prefix(prefix.as_bytes()) {
                        have_mine |= rest == l.instance.as_bytes();
                        fleet += std::str::from_utf8(val)
                            .ok()
                            .and_then(|s| s.parse::<i64>().ok())
                            .unwrap_or(0);
                    }
                }
                if !have_mine {
                    fleet += sh.own_cur;
                    sh.reseed[i] = sh.own_cur != 0;
                }
                let local = v.wrapping_sub(*t) as i64;
                *v = (fleet + local).max(0) as u64;
                sh.base[i] = Slot::Int(fleet.max(0) as u64);
            }
            (Kind::Last, t, v) => {
                let got = fields.get(name.as_bytes());
                match (got, &t) {
                    (Some(raw), Slot::Int(_)) => {
                        let f = std::str::from_utf8(raw)
                            .ok()
                            .and_then(|s| s.parse::<u64>().ok())
                            .unwrap_or(0);
                        if v == t {
                            *v = Slot::Int(f);
                        }
                        sh.base[i] = Slot::Int(f);
                    }
                    (Some(raw), Slot::Name(_)) => {
                        let n: Arc<str> = String::from_utf8_lossy(raw).into();
                        if v == t {
                            *v = Slot::Name(Some(Arc::clone(&n)));
                        }
                        sh.base[i] = Slot::Name(Some(n));
                    }
                    _ => {
                        sh.base[i] = t.clone();
                        sh.reseed[i] = !matches!(t, Slot::Int(0) | Slot::Name(None));
                    }
                }
            }
            (Kind::Rate, Slot::Rate(tf, tev), Slot::Rate(f, ev)) => {
                let period = l.periods[i];
                let b = c.bucket(period);
                let fc = int(fields, &format!("{name}:{b}"));
                let fp = int(fields, &format!("{name}:{}", b.wrapping_sub(1)));
                // Periods gone by are deleted at the next write.
                let prefix = format!("{name}:");
                for k in fields.keys() {
                    if let Some(n) = k
                        .strip_prefix(prefix.as_bytes())
                        .and_then(|r| std::str::from_utf8(r).ok())
                        .and_then(|r| r.parse::<u64>().ok())
                        && n + 1 < b
                    {
                        sh.stale.push(format!("{name}:{n}"));
                    }
                }
                if fc.is_none() && fp.is_none() && (tf.curr > 0 || tf.prev > 0) {
                    // Redis lost them (or never had them): ours go whole next time.
                    sh.base[i] = Slot::Rate(*tf, *tev);
                    sh.reseed[i] = true;
                    continue;
                }
                let since = ev.wrapping_sub(*tev);
                let (fc, fp) = (fc.unwrap_or(0).max(0) as u32, fp.unwrap_or(0).max(0) as u32);
                let tick = c.bucket_start(period);
                *f = FreqCtr {
                    curr_tick: tick,
                    curr: fc.saturating_add(since),
                    prev: fp,
                };
                sh.base[i] = Slot::Rate(
                    FreqCtr {
                        curr_tick: tick,
                        curr: fc,
                        prev: fp,
                    },
                    *tev,
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout<'a>(slots: &'a [(StickData, u32)], periods: &'a [u32]) -> Layout<'a> {
        Layout {
            slots,
            periods,
            instance: "me",
        }
    }

    #[test]
    fn counters_send_their_change_and_keep_later_ones_on_top_of_the_fleet() {
        let slots = [(StickData::HttpReqCnt, 0)];
        let l = layout(&slots, &[0]);
        let c = Clocks {
            wall: 1_000_000,
            mono: 5_000,
        };
        let taken = vec![Slot::Int(7)];
        let mut sh = Shadow::new(&taken);
        let (ops, _) = diff(&l, &sh, &taken, c);
        assert_eq!(
            ops,
            vec![Op::Add {
                field: "http_req_cnt".into(),
                delta: 7,
                seed: 7
            }]
        );
        // Redis answers 20 (13 from others); 2 more requests came meanwhile.
        let mut cur = vec![Slot::Int(9)];
        let f: HashMap<&[u8], &[u8]> = [(&b"http_req_cnt"[..], &b"20"[..])].into();
        merge(&l, &mut sh, &taken, &mut cur, &f, c);
        assert_eq!(cur, vec![Slot::Int(22)]);
        let (ops, _) = diff(&l, &sh, &cur, c);
        assert_eq!(
            ops,
            vec![Op::Add {
                field: "http_req_cnt".into(),
                delta: 2,
                seed: 22
            }]
        );
    }

    #[test]
    fn rates_go_to_the_wall_clock_period_and_read_the_fleet_sum() {
        let slots = [(StickData::HttpReqRate, 0)];
        let periods = [10_000];
        let l = layout(&slots, &periods);
        let c = Clocks {
            wall: 1_234_567,
            mono: 50_000,
        };
        let mut f = FreqCtr::default();
        for _ in 0..5 {
            f.update(10_000, 1, 50_000);
        }
        let taken = vec![Slot::Rate(f, 5)];
        let mut sh = Shadow::new(&taken);
        let (ops, _) = diff(&l, &sh, &taken, c);
        assert_eq!(
            ops,
            vec![Op::Add {
                field: "http_req_rate:123".into(),
                delta: 5,
                seed: 5
            }]
        );
        let mut cur = taken.clone();
        let f: HashMap<&[u8], &[u8]> = [
            (&b"http_req_rate:123"[..], &b"12"[..]),
            (&b"http_req_rate:122"[..], &b"0"[..]),
            (&b"http_req_rate:100"[..], &b"9"[..]),
        ]
        .into();
        merge(&l, &mut sh, &taken, &mut cur, &f, c);
        let Slot::Rate(ctr, _) = &cur[0] else {
            panic!()
        };
        assert_eq!(ctr.read(10_000, 50_000), 12);
        assert_eq!(sh.stale, vec!["http_req_rate:100".to_string()]);
    }

    #[test]
    fn a_missing_counter_is_seeded_with_the_whole_local_value() {
        let slots = [(StickData::Gpc0, 0)];
        let l = layout(&slots, &[0]);
        let c = Clocks { wall: 1, mono: 1 };
        let taken = vec![Slot::Int(40)];
        let mut sh = Shadow::new(&taken);
        sh.base[0] = Slot::Int(40);
        let mut cur = taken.clone();
        merge(&l, &mut sh, &taken, &mut cur, &HashMap::new(), c);
        assert_eq!(cur, vec![Slot::Int(40)]);
        let (ops, _) = diff(&l, &sh, &cur, c);
        assert_eq!(
            ops,
            vec![Op::Add {
                field: "gpc0".into(),
                delta: 0,
                seed: 40
            }]
        );
    }
}
