//! One stick table: entries by key (in HAProxy's key encoding, in a hash map: `show
//! table` sorts them as HAProxy's tree orders them, `dump.rs`), each with the data its
//! `store` line declares. The table lives in the live-state store by name and outlives
//! snapshots whose definition is unchanged.
//!
//! Every change of an entry's data goes through [`Table::update`], which re-arms the
//! entry's expiry and, in a table shared through Redis, marks the entry dirty: its
//! first change since the last batch puts it in the table's dirty list, which the
//! table's sync task (`share/`) drains, so the request path never waits on Redis.

use super::dump::FilterOp;
use super::freq::{FreqCtr, now_ms};
use crate::config::model::{StickData, StickKeyType, StickTableDef};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A key sample, before encoding.
#[derive(Clone, Copy, Debug)]
pub enum KeyIn<'a> {
    /// An integer.
    Int(i64),
    /// An address.
    Ip(IpAddr),
    /// A string or binary block.
    Str(&'a [u8]),
}

/// An encoded key, on the stack when small (every `ip`, `ipv6` and `integer` key).
pub struct KeyBuf {
    inline: [u8; 64],
    heap: Vec<u8>,
    len: usize,
}

impl KeyBuf {
    fn new() -> Self {
        KeyBuf {
            inline: [0; 64],
            heap: Vec::new(),
            len: 0,
        }
    }
    fn set(&mut self, b: &[u8]) {
        self.len = b.len();
        if b.len() <= self.inline.len() {
            self.inline[..b.len()].copy_from_slice(b);
        } else {
            self.heap = b.to_vec();
        }
    }
    /// The key's bytes.
    pub fn bytes(&self) -> &[u8] {
        if self.len <= self.inline.len() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// One stored value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// A counter or a tag.
    Int(u64),
    /// A rate, and the events it ever counted (wrapping): what Redis sharing sends as
    /// the change since its last batch.
    Rate(FreqCtr, u32),
    /// `server_key`: the server's name.
    Name(Option<Arc<str>>),
}

/// One entry of a table.
pub struct Entry {
    /// The encoded key.
    pub key: Box<[u8]>,
    /// Trackers and other holders (`use=` in `show table`): a referenced entry is not
    /// evicted nor expired.
    refs: AtomicU32,
    /// When it expires (ms, [`now_ms`] clock); meaningless without `expire`.
    pub(super) expire: AtomicU32,
    /// When it was last touched (ms): eviction order.
    touched: AtomicU32,
    /// Changed since the sync task last took it (shared tables only).
    dirty: AtomicBool,
    /// In the table's map: false once removed (expired, evicted, cleared). A tracker
    /// that kept the entry from a previous request re-takes it only while it is linked
    /// (see [`Table::hold_again`]).
    linked: AtomicBool,
    pub(super) data: Mutex<Box<[Slot]>>,
}

impl Entry {
    /// Takes a reference (a tracker holds the entry).
    pub fn hold(&self) {
        // Sequentially consistent against [`Entry::unlink`] (see [`Table::hold_again`]).
        self.refs.fetch_add(1, Ordering::SeqCst);
    }
    /// Drops a reference taken by [`Entry::hold`].
    pub fn release(&self) {
        self.refs.fetch_sub(1, Ordering::SeqCst);
    }
    /// Marks the entry out of the map unless someone holds it; false (and still linked)
    /// when held. Called under the map's lock, just before removing the entry: a
    /// tracker re-taking it without that lock ([`Table::hold_again`]) takes its
    /// reference first and checks the mark after, this marks first and checks the
    /// references after, so one of the two sees the other (Dekker's pattern).
    fn unlink(&self) -> bool {
        self.linked.store(false, Ordering::SeqCst);
        if self.refs.load(Ordering::SeqCst) != 0 {
            self.linked.store(true, Ordering::SeqCst);
            return false;
        }
        true
    }
    /// The references held now.
    pub fn refs(&self) -> u32 {
        self.refs.load(Ordering::Relaxed)
    }
}

/// What [`Table::update`] does to an entry's data.
pub struct Updater<'a> {
    table: &'a Table,
    slots: &'a mut [Slot],
    now: u32,
}

impl Updater<'_> {
    /// Adds `n` to counter `data` (element `idx` of an array); false when not stored.
    pub fn add(&mut self, data: StickData, idx: u32, n: u64) -> bool {
        match self.table.slot(data, idx).map(|i| &mut self.slots[i]) {
            Some(Slot::Int(v)) => {
                *v = match data {
                    StickData::BytesInCnt | StickData::BytesOutCnt => v.wrapping_add(n),
                    _ => u64::from((*v as u32).wrapping_add(n as u32)),
                };
                true
            }
            Some(Slot::Rate(f, events)) => {
                let period = self.table.period(data);
                f.update(period, n as u32, self.now);
                *events = events.wrapping_add(n as u32);
                true
            }
            Some(Slot::Name(_)) | None => false,
        }
    }
    /// Sets `server_key` to `name`.
    pub fn set_name(&mut self, name: &str) {
        if let Some(Slot::Name(n)) = self
            .table
            .slot(StickData::ServerKey, 0)
            .map(|i| &mut self.slots[i])
            && n.as_deref() != Some(name)
        {
            *n = Some(name.into());
        }
    }

    /// Takes one from counter `data` (not below zero).
    pub fn dec(&mut self, data: StickData) {
        if let Some(Slot::Int(v)) = self.table.slot(data, 0).map(|i| &mut self.slots[i]) {
            *v = v.saturating_sub(1);
        }
    }
    /// Sets `data` (element `idx`) to `v`: a counter or tag, or a rate stable for a
    /// period; false when not stored.
    pub fn set(&mut self, data: StickData, idx: u32, v: i64) -> bool {
        match self.table.slot(data, idx).map(|i| &mut self.slots[i]) {
            Some(Slot::Int(x)) => {
                *x = v as u64;
                true
            }
            Some(Slot::Rate(f, _)) => {
                f.set(v as u32, self.now);
                true
            }
            Some(Slot::Name(_)) | None => false,
        }
    }
}

/// The bits of `data` in a table's mask of stored data types (see
/// [`Table::stores_mask`]).
pub const fn mask_of(data: &[StickData]) -> u32 {
    let mut m = 0u32;
    let mut i = 0;
    while i < data.len() {
        m |= 1 << data[i] as u32;
        i += 1;
    }
    m
}

/// The entries by encoded key. The hash is seeded per process (keys may come from
/// clients: a string table keyed on a header must not be made to collide at will).
pub(super) type EntryMap = HashMap<Box<[u8]>, Arc<Entry>, foldhash::fast::RandomState>;

/// Where a stored data type sits in an entry's slots, worked out once per table so that
/// the request path finds a slot and a rate's period without searching the `store` list.
#[derive(Clone, Copy, Debug, Default)]
struct SlotInfo {
    /// Its first slot.
    first: u16,
    /// Its elements (1 but for the `gpc`/`gpt`/`gpc_rate` arrays); 0: not stored.
    count: u16,
    /// A rate's period (ms).
    period: u32,
}

/// A stick table.
pub struct Table {
    /// Its name (the proxy that declares it).
    pub name: String,
    /// What the configuration says of it.
    pub def: StickTableDef,
    /// Each data type's slots (by [`StickData`] order).
    slots: [SlotInfo; 25],
    /// The data types stored, one bit each (by [`StickData`] order).
    mask: u32,
    /// Slots of one entry.
    nslots: usize,
    pub(super) entries: Mutex<EntryMap>,
    /// Shared through Redis: changed entries are listed in `dirty`.
    shared: bool,
    /// The entries changed since the sync task's last batch.
    dirty: Mutex<Vec<Weak<Entry>>>,
    /// The sync task runs (started once per table).
    sync_started: AtomicBool,
}

impl Table {
    /// An empty table.
    pub fn new(name: &str, def: StickTableDef) -> Table {
        let mut slots = [SlotInfo::default(); 25];
        let mut n = 0usize;
        let mut mask = 0u32;
        for item in &def.store {
            slots[item.data as usize] = SlotInfo {
                first: n as u16,
                count: item.count.max(1) as u16,
                period: item.period_ms,
            };
            mask |= 1 << item.data as u32;
            n += item.count as usize;
        }
        let shared = def.redis.is_some();
        Table {
            name: name.to_string(),
            def,
            slots,
            mask,
            nslots: n,
            entries: Mutex::new(EntryMap::default()),
            shared,
            dirty: Mutex::new(Vec::new()),
            sync_started: AtomicBool::new(false),
        }
    }

    /// True the first time it is called on a shared table: the caller starts its sync
    /// task.
    pub fn claim_sync(&self) -> bool {
        self.shared && !self.sync_started.swap(true, Ordering::AcqRel)
    }

    /// The entries changed since the last call (shared tables), no longer marked.
    pub(super) fn take_dirty(&self) -> Vec<Arc<Entry>> {
        let list = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|e| e.into_inner()));
        list.iter()
            .filter_map(Weak::upgrade)
            .inspect(|e| e.dirty.store(false, Ordering::Release))
            .collect()
    }

    /// A copy of `e`'s data, with the events its rates counted.
    pub(super) fn values(&self, e: &Entry) -> Box<[Slot]> {
        e.data.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Lets `f` replace `e`'s data (the sync task merging the fleet's values), without
    /// re-arming its expiry.
    pub(super) fn merge<R>(&self, e: &Entry, f: impl FnOnce(&mut [Slot]) -> R) -> R {
        let mut d = e.data.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut d)
    }

    /// The data type and element of each slot, in slot order.
    pub(super) fn layout(&self) -> Vec<(StickData, u32)> {
        let mut v = Vec::with_capacity(self.nslots);
        for item in &self.def.store {
            for idx in 0..item.count {
                v.push((item.data, idx));
            }
        }
        v
    }

    /// The period of rate `data` (ms).
    pub(super) fn rate_period(&self, data: StickData) -> u32 {
        self.period(data)
    }

    #[inline]
    pub(super) fn slot(&self, data: StickData, idx: u32) -> Option<usize> {
        let s = self.slots[data as usize];
        (idx < u32::from(s.count)).then_some(usize::from(s.first) + idx as usize)
    }

    #[inline]
    pub(super) fn period(&self, data: StickData) -> u32 {
        let s = self.slots[data as usize];
        if s.count == 0 { 1000 } else { s.period }
    }

    /// Whether the table stores `data`.
    pub fn stores(&self, data: StickData) -> bool {
        self.mask & (1 << data as u32) != 0
    }

    /// Whether the table stores any of `data` (the request path skips the entry's
    /// lock when a step changes nothing the table stores).
    pub fn stores_any(&self, data: &[StickData]) -> bool {
        self.stores_mask(mask_of(data))
    }

    /// The data types the table stores, one bit each (see [`mask_of`]).
    #[inline]
    pub fn mask(&self) -> u32 {
        self.mask
    }

    /// Whether the table stores any data type of `mask` (made by [`mask_of`], in a
    /// constant on the request path: one test instead of a walk over a list).
    #[inline]
    pub fn stores_mask(&self, mask: u32) -> bool {
        self.mask & mask != 0
    }

    /// Encodes `k` as a key of this table (HAProxy's `smp_to_stkey`); `None` when the
    /// sample cannot be one (an IPv6 address for an `ip` table, …).
    pub fn encode(&self, k: KeyIn<'_>, out: &mut KeyBuf) -> Option<()> {
        let size = self.def.key_size;
        match (self.def.key, k) {
            (StickKeyType::Ip, KeyIn::Ip(IpAddr::V4(a))) => out.set(&a.octets()),
            (StickKeyType::Ip, KeyIn::Ip(IpAddr::V6(a))) => out.set(&a.to_ipv4_mapped()?.octets()),
            (StickKeyType::Ip, KeyIn::Int(n)) => out.set(&(n as u32).to_be_bytes()),
            (StickKeyType::Ip, KeyIn::Str(s)) => {
                let ip: IpAddr = std::str::from_utf8(s).ok()?.parse().ok()?;
                return self.encode(KeyIn::Ip(ip), out);
            }
            (StickKeyType::Ipv6, KeyIn::Ip(IpAddr::V6(a))) => out.set(&a.octets()),
            (StickKeyType::Ipv6, KeyIn::Ip(IpAddr::V4(a))) => out.set(&a.to_ipv6_mapped().octets()),
            (StickKeyType::Ipv6, KeyIn::Str(s)) => {
                let ip: IpAddr = std::str::from_utf8(s).ok()?.parse().ok()?;
                return self.encode(KeyIn::Ip(ip), out);
            }
            (StickKeyType::Ipv6, KeyIn::Int(_)) => return None,
            (StickKeyType::Integer, KeyIn::Int(n)) => out.set(&(n as u32).to_ne_bytes()),
            (StickKeyType::Integer, KeyIn::Str(s)) => {
                let n = crate::acl::str_to_int(s)?;
                out.set(&(n as u32).to_ne_bytes())
            }
            (StickKeyType::Integer, KeyIn::Ip(IpAddr::V4(a))) => {
                out.set(&u32::from(a).to_ne_bytes())
            }
            (StickKeyType::Integer, KeyIn::Ip(_)) => return None,
            (StickKeyType::String | StickKeyType::Binary, KeyIn::Str(s)) => {
                if self.def.key == StickKeyType::String {
                    // Strings stop at a NUL and are cut to the table's length.
                    let end = memchr::memchr(0, s).unwrap_or(s.len());
                    out.set(&s[..end.min(size.saturating_sub(1))]);
                } else {
                    let mut v = [0u8; 64];
                    if size <= v.len() {
                        let n = s.len().min(size);
                        v[..n].copy_from_slice(&s[..n]);
                        out.set(&v[..size]);
                    } else {
                        let mut b = s[..s.len().min(size)].to_vec();
                        b.resize(size, 0);
                        out.set(&b);
                    }
                }
            }
            (StickKeyType::String | StickKeyType::Binary, KeyIn::Int(n)) => {
                let mut tmp = [0u8; 24];
                let mut c = std::io::Cursor::new(&mut tmp[..]);
                let _ = std::io::Write::write_fmt(&mut c, format_args!("{n}"));
                let len = c.position() as usize;
                return self.encode(KeyIn::Str(&tmp[..len]), out);
            }
            (StickKeyType::String | StickKeyType::Binary, KeyIn::Ip(ip)) => {
                if self.def.key == StickKeyType::Binary {
                    match ip {
                        IpAddr::V4(a) => return self.encode(KeyIn::Str(&a.octets()), out),
                        IpAddr::V6(a) => return self.encode(KeyIn::Str(&a.octets()), out),
                    }
                }
                let mut tmp = [0u8; 48];
                let mut c = std::io::Cursor::new(&mut tmp[..]);
                let _ = std::io::Write::write_fmt(&mut c, format_args!("{ip}"));
                let len = c.position() as usize;
                return self.encode(KeyIn::Str(&tmp[..len]), out);
            }
        }
        Some(())
    }

    /// Encodes `k` into a fresh buffer.
    pub fn key(&self, k: KeyIn<'_>) -> Option<KeyBuf> {
        let mut b = KeyBuf::new();
        self.encode(k, &mut b)?;
        Some(b)
    }

    fn expired(&self, e: &Entry, now: u32) -> bool {
        self.def.expire_ms.is_some()
            && e.refs() == 0
            && (now.wrapping_sub(e.expire.load(Ordering::Relaxed)) as i32) >= 0
    }

    /// The entry of `key`, if there is one (not expired).
    pub fn lookup(&self, key: &[u8]) -> Option<Arc<Entry>> {
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let e = m.get(key)?;
        if self.expired(e, now_ms()) && e.unlink() {
            m.remove(key);
            return None;
        }
        Some(Arc::clone(e))
    }

    /// The entry of `key`, created (and touched) when new; `None` when the table is full
    /// and can make no room (`nopurge`, or every entry in use).
    pub fn get_or_create(&self, key: &[u8]) -> Option<Arc<Entry>> {
        self.get_or_create_at(key, now_ms())
    }

    /// [`Table::get_or_create`] at `now` (ms, [`now_ms`]'s clock), read by the caller.
    pub fn get_or_create_at(&self, key: &[u8], now: u32) -> Option<Arc<Entry>> {
        self.get_or_create_with(key, now, false)
    }

    /// [`Table::get_or_create_at`] with a reference taken ([`Entry::hold`]) under the
    /// map's lock: no other thread can expire or evict the entry in between.
    pub fn get_or_create_held_at(&self, key: &[u8], now: u32) -> Option<Arc<Entry>> {
        self.get_or_create_with(key, now, true)
    }

    fn get_or_create_with(&self, key: &[u8], now: u32, hold: bool) -> Option<Arc<Entry>> {
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = m.get(key) {
            if !self.expired(e, now) || !e.unlink() {
                if hold {
                    e.hold();
                }
                return Some(Arc::clone(e));
            }
            m.remove(key);
        }
        if m.len() >= self.def.size as usize {
            if self.def.nopurge {
                return None;
            }
            self.trash_oldest(&mut m, (self.def.size as usize >> 8) + 1);
            if m.len() >= self.def.size as usize {
                return None;
            }
        }
        let mut slots: Vec<Slot> = Vec::with_capacity(self.nslots);
        for item in &self.def.store {
            for _ in 0..item.count {
                slots.push(if item.data.is_rate() {
                    Slot::Rate(FreqCtr::default(), 0)
                } else if item.data == StickData::ServerKey {
                    Slot::Name(None)
                } else {
                    Slot::Int(0)
                });
            }
        }
        let slots = slots.into_boxed_slice();
        let e = Arc::new(Entry {
            key: key.into(),
            refs: AtomicU32::new(u32::from(hold)),
            expire: AtomicU32::new(now.wrapping_add(self.def.expire_ms.unwrap_or(0))),
            touched: AtomicU32::new(now),
            dirty: AtomicBool::new(false),
            linked: AtomicBool::new(true),
            data: Mutex::new(slots),
        });
        m.insert(key.into(), Arc::clone(&e));
        Some(e)
    }

    /// Takes a reference on `e`, an entry of this table found earlier (the entry the
    /// previous request of a keep-alive connection tracked), if it is still the entry of
    /// its key: in the map, and not expired at `now` unless held by someone else (what
    /// [`Table::get_or_create_at`] would return). False: the caller looks the key up.
    /// No lock, two atomic operations.
    #[inline]
    pub fn hold_again(&self, e: &Entry, now: u32) -> bool {
        let before = e.refs.fetch_add(1, Ordering::SeqCst);
        if e.linked.load(Ordering::SeqCst)
            && (before != 0
                || self.def.expire_ms.is_none()
                || (now.wrapping_sub(e.expire.load(Ordering::Relaxed)) as i32) < 0)
        {
            return true;
        }
        e.release();
        false
    }

    /// Evicts up to `n` unreferenced entries, the least recently touched first
    /// (HAProxy's `stktable_trash_oldest`).
    fn trash_oldest(&self, m: &mut EntryMap, n: usize) {
        let now = now_ms();
        let mut cands: Vec<(u32, Box<[u8]>)> = m
            .iter()
            .filter(|(_, e)| e.refs() == 0)
            .map(|(k, e)| {
                let age = now.wrapping_sub(e.touched.load(Ordering::Relaxed));
                (u32::MAX - age, k.clone())
            })
            .collect();
        let n = n.min(cands.len());
        if n == 0 {
            return;
        }
        if n < cands.len() {
            cands.select_nth_unstable(n - 1);
        }
        for (_, k) in cands.into_iter().take(n) {
            if m.get(&k).is_some_and(|e| e.unlink()) {
                m.remove(&k);
            }
        }
    }

    /// Changes `e`'s data with `f` and re-arms its expiry (HAProxy's
    /// `stktable_touch_local`): the one mutation path of entries. In a shared table the
    /// entry's first change since the last batch lists it for the sync task.
    pub fn update<R>(&self, e: &Arc<Entry>, f: impl FnOnce(&mut Updater<'_>) -> R) -> R {
        self.update_at(e, now_ms(), f)
    }

    /// [`Table::update`] at `now` (ms, [`now_ms`]'s clock), read by the caller.
    pub fn update_at<R>(
        &self,
        e: &Arc<Entry>,
        now: u32,
        f: impl FnOnce(&mut Updater<'_>) -> R,
    ) -> R {
        let r = {
            let mut d = e.data.lock().unwrap_or_else(|p| p.into_inner());
            let mut u = Updater {
                table: self,
                slots: &mut d,
                now,
            };
            f(&mut u)
        };
        self.touch(e, now);
        // A hot entry is dirty already: a load, not a read-modify-write, per update.
        if self.shared && !e.dirty.load(Ordering::Acquire) && !e.dirty.swap(true, Ordering::AcqRel)
        {
            let mut d = self.dirty.lock().unwrap_or_else(|p| p.into_inner());
            d.push(Arc::downgrade(e));
        }
        r
    }

    /// Re-arms `e`'s expiry.
    pub fn touch(&self, e: &Entry, now: u32) {
        e.touched.store(now, Ordering::Relaxed);
        if let Some(x) = self.def.expire_ms {
            e.expire.store(now.wrapping_add(x), Ordering::Relaxed);
        }
    }

    /// The value of `data` (element `idx`) in `e`, rates read now; `None` when the
    /// table does not store it.
    pub fn read(&self, e: &Entry, data: StickData, idx: u32) -> Option<i64> {
        let i = self.slot(data, idx)?;
        let d = e.data.lock().unwrap_or_else(|p| p.into_inner());
        Some(match &d[i] {
            Slot::Int(v) => match data {
                StickData::ServerId => i64::from(*v as i32),
                StickData::BytesInCnt | StickData::BytesOutCnt => *v as i64,
                _ => i64::from(*v as u32),
            },
            Slot::Rate(f, _) => i64::from(f.read(self.period(data), now_ms())),
            Slot::Name(_) => return None,
        })
    }

    /// The `server_key` of `e`, if stored and set.
    pub fn read_name(&self, e: &Entry) -> Option<Arc<str>> {
        let i = self.slot(StickData::ServerKey, 0)?;
        let d = e.data.lock().unwrap_or_else(|p| p.into_inner());
        match &d[i] {
            Slot::Name(n) => n.clone(),
            _ => None,
        }
    }

    /// Entries in the table now.
    pub fn used(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Removes the unreferenced entries whose time is up.
    pub fn purge_expired(&self) {
        if self.def.expire_ms.is_none() {
            return;
        }
        let now = now_ms();
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, e| !(self.expired(e, now) && e.unlink()));
    }

    /// `clear table NAME [filters | key K]`: removes the matching entries not in use;
    /// false when the entry named by `key` is in use.
    pub fn clear(&self, filters: &[(StickData, FilterOp, i64)], key: Option<&[u8]>) -> bool {
        let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = key {
            match m.get(k) {
                Some(e) if e.refs() > 0 || !e.unlink() => return false,
                Some(_) => {
                    m.remove(k);
                }
                None => {}
            }
            return true;
        }
        m.retain(|_, e| e.refs() > 0 || !self.matches(e, filters) || !e.unlink());
        true
    }

    /// Calls `each` with every entry (for persistence lookups by server and tests).
    pub fn for_each(&self, mut each: impl FnMut(&Arc<Entry>)) {
        let m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        m.values().for_each(&mut each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::StoreItem;

    fn table(size: u32, store: &[(StickData, u32)]) -> Table {
        Table::new(
            "t",
            StickTableDef {
                key: StickKeyType::Ip,
                key_size: 4,
                size,
                expire_ms: None,
                nopurge: false,
                store: store
                    .iter()
                    .map(|(d, p)| StoreItem {
                        data: *d,
                        count: 1,
                        period_ms: *p,
                    })
                    .collect(),
                redis: None,
            },
        )
    }

    #[test]
    fn entries_count_and_dump_in_haproxy_order() {
        let t = table(
            10,
            &[(StickData::HttpReqRate, 10_000), (StickData::ConnCnt, 0)],
        );
        let k = t.key(KeyIn::Ip("10.0.0.2".parse().unwrap())).unwrap();
        let e = t.get_or_create(k.bytes()).unwrap();
        t.update(&e, |u| {
            u.add(StickData::HttpReqRate, 0, 1);
            u.add(StickData::ConnCnt, 0, 1);
        });
        assert_eq!(t.read(&e, StickData::HttpReqRate, 0), Some(1));
        assert_eq!(t.read(&e, StickData::Gpc0, 0), None);
        let d = t.dump(&[], None);
        let line = d.split_once(": ").unwrap().1;
        assert_eq!(
            line,
            "key=10.0.0.2 use=0 exp=0 conn_cnt=1 http_req_rate(10000)=1\n"
        );
        assert_eq!(t.head(), "# table: t, type: ip, size:10, used:1\n");
    }

    #[test]
    fn a_full_table_evicts_the_oldest_unreferenced_entry() {
        let t = table(2, &[]);
        let a = t.get_or_create(&[1, 0, 0, 1]).unwrap();
        a.hold();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let _b = t.get_or_create(&[1, 0, 0, 2]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3));
        // `a` is older but referenced: `b` goes.
        t.get_or_create(&[1, 0, 0, 3]).unwrap();
        assert!(t.lookup(&[1, 0, 0, 1]).is_some());
        assert!(t.lookup(&[1, 0, 0, 2]).is_none());
        assert_eq!(t.used(), 2);
    }
}
