//! Lookup tables for hashing: HAProxy's weighted server map (`hash-type map-based`, and
//! the `static-rr` order) and the consistent-hash ring (`hash-type consistent`, `random`).
//! Both are built for one [`Pool`] and rebuilt when the usable set changes.

use super::Candidate;
use super::farm::{Farm, Pool};
use super::hash::{WEIGHT_SCALE, full_hash};

/// Ring keys of one server are `full_hash(id * RING_ID_STRIDE + n)`, as HAProxy's
/// `SRV_EWGHT_RANGE` (256 weight units × 16 points).
const RING_ID_STRIDE: u32 = 256 * WEIGHT_SCALE;
/// Weights above HAProxy's maximum are clamped so ring keys never collide between ids.
const MAX_WEIGHT: u32 = 256;

/// A weighted map: each server appears in proportion to its weight, spread evenly, the
/// first declared server first (HAProxy's `recalc_server_map`).
#[derive(Debug)]
pub(crate) struct MapTable {
    pub(crate) pool: Pool,
    pub(crate) slots: Vec<u32>,
}

impl MapTable {
    /// Builds the map of `pool`, with slot counts `ceil(weight * 16 / gcd)` as HAProxy.
    pub(crate) fn build<S: Candidate>(farm: &Farm<S>, pool: Pool, gcd: u32) -> Self {
        let gcd = u64::from(gcd.max(1));
        let members: Vec<(u32, i64)> = farm
            .candidates(pool)
            .filter_map(|(i, s)| {
                let w = u64::from(s.cur_weight().min(MAX_WEIGHT)) * u64::from(WEIGHT_SCALE);
                let ew = w.div_ceil(gcd);
                let pos = u32::try_from(i).ok()?;
                (ew > 0).then_some((pos, ew as i64))
            })
            .collect();
        let tot: i64 = members.iter().map(|m| m.1).sum();
        let mut score = vec![0i64; members.len()];
        let mut slots = Vec::with_capacity(usize::try_from(tot).unwrap_or(0));
        for _ in 0..tot {
            let mut best = 0;
            let mut max = 0;
            for (k, &(_, w)) in members.iter().enumerate() {
                score[k] += w;
                let v = (score[k] + tot) / tot;
                if k == 0 || v > max {
                    max = v;
                    best = k;
                }
            }
            slots.push(members[best].0);
            score[best] -= tot;
        }
        MapTable { pool, slots }
    }

    /// Walks the map from slot `start` (modulo its length) and returns the first slot and
    /// server position that `accept` takes.
    pub(crate) fn walk(
        &self,
        start: usize,
        mut accept: impl FnMut(usize) -> bool,
    ) -> Option<(usize, usize)> {
        let len = self.slots.len();
        if len == 0 {
            return None;
        }
        let start = start % len;
        (0..len)
            .map(|k| (start + k) % len)
            .map(|slot| (slot, self.slots[slot] as usize))
            .find(|&(_, server)| accept(server))
    }
}

/// A consistent-hash ring: `weight * 16` points per server, keyed
/// `full_hash(id * 4096 + n)` with id = position + 1 (HAProxy's published layout; unlike
/// the map, placement was not found to match haproxy 2.6.12 key for key), sorted by key.
#[derive(Debug)]
pub(crate) struct Ring {
    pub(crate) pool: Pool,
    points: Vec<(u32, u32)>,
}

impl Ring {
    /// Builds the ring of `pool` with the servers' current weights.
    pub(crate) fn build<S: Candidate>(farm: &Farm<S>, pool: Pool) -> Self {
        let mut points = Vec::new();
        for (i, s) in farm.candidates(pool) {
            let Ok(pos) = u32::try_from(i) else { continue };
            let base = pos.wrapping_add(1).wrapping_mul(RING_ID_STRIDE);
            let n = s.cur_weight().min(MAX_WEIGHT) * WEIGHT_SCALE;
            points.extend((0..n).map(|node| (full_hash(base.wrapping_add(node)), pos)));
        }
        points.sort_unstable();
        Ring { pool, points }
    }

    /// The server closest to `hash` on the ring (HAProxy's `chash_get_server_hash`); when
    /// `accept` refuses it, the next accepted server walking clockwise.
    pub(crate) fn lookup(&self, hash: u32, mut accept: impl FnMut(usize) -> bool) -> Option<usize> {
        let len = self.points.len();
        if len == 0 {
            return None;
        }
        let next = self.points.partition_point(|p| p.0 < hash) % len;
        let prev = if next == 0 { len - 1 } else { next - 1 };
        let (nkey, nsrv) = self.points[next];
        let (pkey, psrv) = self.points[prev];
        let start = if nsrv != psrv && hash.wrapping_sub(pkey) <= nkey.wrapping_sub(hash) {
            prev
        } else {
            next
        };
        (0..len)
            .map(|k| self.points[(start + k) % len].1 as usize)
            .find(|&server| accept(server))
    }
}

/// The table a hash-based algorithm looks keys up in.
#[derive(Debug)]
pub(crate) enum Table {
    /// `hash-type map-based`: `hash % total weight`.
    Map(MapTable),
    /// `hash-type consistent`.
    Ring(Ring),
}

impl Table {
    /// Builds the table of `pool`.
    pub(crate) fn build<S: Candidate>(
        farm: &Farm<S>,
        pool: Pool,
        consistent: bool,
        gcd: u32,
    ) -> Self {
        if consistent {
            Table::Ring(Ring::build(farm, pool))
        } else {
            Table::Map(MapTable::build(farm, pool, gcd))
        }
    }

    /// The pool this table was built for.
    pub(crate) fn pool(&self) -> Pool {
        match self {
            Table::Map(m) => m.pool,
            Table::Ring(r) => r.pool,
        }
    }

    /// The server for `hash`, moving on to the next accepted one when `accept` refuses it.
    pub(crate) fn lookup(&self, hash: u32, accept: impl FnMut(usize) -> bool) -> Option<usize> {
        match self {
            Table::Map(m) => m.walk(hash as usize, accept).map(|(_, s)| s),
            Table::Ring(r) => r.lookup(hash, accept),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::farm::testing::servers;

    #[test]
    fn map_interleaves_by_weight_first_declared_first() {
        let farm = Farm {
            servers: servers(&[2, 1]),
            allbackups: false,
        };
        let m = MapTable::build(&farm, Pool::Active, 1);
        assert_eq!(m.slots.len(), 48);
        assert_eq!(m.slots.iter().filter(|&&s| s == 0).count(), 32);
        assert_eq!(&m.slots[..3], &[0, 0, 1]);
        // Equal weights alternate, and the gcd keeps the map small.
        let farm = Farm {
            servers: servers(&[4, 4]),
            allbackups: false,
        };
        let m = MapTable::build(&farm, Pool::Active, 4);
        assert_eq!(m.slots.len(), 32);
        assert_eq!(&m.slots[..4], &[0, 1, 0, 1]);
    }

    #[test]
    fn ring_points_follow_weight() {
        let farm = Farm {
            servers: servers(&[1, 3]),
            allbackups: false,
        };
        let r = Ring::build(&farm, Pool::Active);
        assert_eq!(r.points.len(), 64);
        assert_eq!(r.points.iter().filter(|p| p.1 == 1).count(), 48);
        assert!(r.points.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
