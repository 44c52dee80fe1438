//! The sync task of one shared table: every `redis-sync-interval` it takes the entries
//! the request path marked dirty, sends their changes to Redis and reads the fleet's
//! values back in one script call per batch, and merges them into the entries. It also
//! reads back, at every round, the entries this instance changed within the last
//! window (the table's longest rate period, 1 to 60 s), so an instance sees what the
//! others add to the keys it serves even when it is not changing them itself.
//!
//! When Redis cannot be reached the instance goes on with its own counts (the entries
//! keep counting locally; nothing is dropped), says so once, retries with a backoff
//! (100 ms doubling up to 2 s), and says when Redis is back: the changes made meanwhile
//! are then sent like any others (counters whole, rates for the periods still in their
//! window), and a Redis that came back empty is filled again from the entries' values.

use super::fields::{self, Clocks, Layout, Shadow};
use super::resp::{Conn, Reply, RespError, open_master};
use crate::config::model::RedisShare;
use crate::runtime::stick::freq::now_ms;
use crate::runtime::stick::table::{Entry, Table};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

/// The script of a round: for each key, apply its ops, refresh its time to live when it
/// wrote, and return the whole hash. `ARGV[1]` is the time to live (ms, 0: none); then
/// per key the number of ops and four words per op (`A field delta seed`: add, or set
/// to the seed when missing; `S field value -`; `D field - -`).
const SCRIPT: &str = r"
local ttl = tonumber(ARGV[1])
local a = 2
local out = {}
for i, k in ipairs(KEYS) do
  local n = tonumber(ARGV[a])
  a = a + 1
  for j = 1, n do
    local op, f, x, y = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
    a = a + 4
    if op == 'A' then
      if redis.call('HEXISTS', k, f) == 1 then
        redis.call('HINCRBY', k, f, x)
      else
        redis.call('HSET', k, f, y)
      end
    elseif op == 'S' then
      redis.call('HSET', k, f, x)
    else
      redis.call('HDEL', k, f)
    end
  end
  if n > 0 and ttl > 0 then
    redis.call('PEXPIRE', k, ttl)
  end
  out[i] = redis.call('HGETALL', k)
end
return out
";

/// Entries per script call.
const BATCH: usize = 200;
/// Connect and reply timeout.
const TIMEOUT: Duration = Duration::from_secs(1);
/// First and longest retry delay while Redis is unreachable.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// An idle connection is checked (`PING`) this often.
const IDLE_PING: Duration = Duration::from_secs(1);

/// This process's id in `conn_cur:ID` fields.
fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{:x}-{:08x}", std::process::id(), fastrand::u32(..)))
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One entry the task follows.
struct Watched {
    entry: Weak<Entry>,
    shadow: Shadow,
    /// When this instance last changed it.
    active: Instant,
    /// Changed since Redis last accepted its changes.
    unsent: bool,
}

/// The connection's state.
enum Link {
    /// Never connected yet.
    New,
    /// Connected.
    Up(Conn),
    /// Unreachable since `since`; the next try at `next`, then after `backoff`.
    Down {
        since: Instant,
        next: Instant,
        backoff: Duration,
    },
}

/// The sync state of one table.
struct Sync {
    name: String,
    share: RedisShare,
    slots: Vec<(crate::config::model::StickData, u32)>,
    periods: Vec<u32>,
    ttl_ms: u32,
    window: Duration,
    sha: String,
    watched: HashMap<Box<[u8]>, Watched>,
    link: Link,
    /// Redis came back: say so once the first round after went through.
    recovered: Option<Duration>,
    last_ok: Instant,
    /// Where the Sentinels last said the master is (`redis-sentinel`).
    master: Option<String>,
}

/// Runs the sync task of `table` until the table is dropped (a reload that changed
/// its definition, or the end of the process).
pub async fn run(table: Weak<Table>) {
    let Some(mut sync) = table.upgrade().and_then(|t| Sync::new(&t)) else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_millis(u64::from(
        sync.share.interval_ms.max(1),
    )));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(t) = table.upgrade() else {
            return;
        };
        sync.round(&t).await;
    }
}

impl Sync {
    fn new(t: &Table) -> Option<Sync> {
        let share = t.def.redis.clone()?;
        let slots = t.layout();
        let periods: Vec<u32> = slots
            .iter()
            .map(|(d, _)| if d.is_rate() { t.rate_period(*d) } else { 0 })
            .collect();
        let longest = periods.iter().copied().max().unwrap_or(0);
        let window = if longest == 0 {
            Duration::from_secs(10)
        } else {
            Duration::from_millis(u64::from(longest))
                .clamp(Duration::from_secs(1), Duration::from_secs(60))
        };
        let sha = {
            use sha1::Digest;
            let d = sha1::Sha1::digest(SCRIPT.as_bytes());
            d.iter().map(|b| format!("{b:02x}")).collect()
        };
        Some(Sync {
            name: t.name.clone(),
            share,
            slots,
            periods,
            ttl_ms: t.def.expire_ms.unwrap_or(0),
            window,
            sha,
            watched: HashMap::new(),
            link: Link::New,
            recovered: None,
            last_ok: Instant::now(),
            master: None,
        })
    }

    fn server(&self) -> String {
        let s = &self.share.server;
        if self.share.sentinels.is_empty() {
            return format!("{}:{}/{}", s.host, s.port, s.db);
        }
        match &self.master {
            Some(at) => format!("master '{}' ({at}/{})", s.host, s.db),
            None => format!("master '{}' (/{}, not found yet)", s.host, s.db),
        }
    }

    /// One round: follow the newly changed entries, then send and read back.
    async fn round(&mut self, t: &Arc<Table>) {
        let now = Instant::now();
        for e in t.take_dirty() {
            let fresh = match self.watched.get_mut(&e.key) {
                Some(w) if std::ptr::eq(w.entry.as_ptr(), Arc::as_ptr(&e)) => {
                    w.active = now;
                    w.unsent = true;
                    false
                }
                _ => true,
            };
            if fresh {
                let shadow = Shadow::new(&t.values(&e));
                self.watched.insert(
                    e.key.clone(),
                    Watched {
                        entry: Arc::downgrade(&e),
                        shadow,
                        active: now,
                        unsent: true,
                    },
                );
            }
        }
        let window = self.window;
        self.watched.retain(|_, w| {
            w.entry.strong_count() > 0 && (w.unsent || now.duration_since(w.active) < window)
        });
        if !self.connect().await {
            return;
        }
        if self.watched.is_empty()
            && (self.last_ok.elapsed() >= IDLE_PING || self.recovered.is_some())
        {
            let r = match &mut self.link {
                Link::Up(c) => c.call(&[b"PING"]).await.map(|_| ()),
                _ => Ok(()),
            };
            if !self.after(r) {
                return;
            }
        }
        let keys: Vec<Box<[u8]>> = self.watched.keys().cloned().collect();
        for chunk in keys.chunks(BATCH) {
            let r = self.batch(t, chunk).await;
            if !self.after(r) {
                return;
            }
        }
        if let Some(away) = self.recovered.take() {
            note(&format!(
                "[NOTICE]   ({}) : stick-table '{}': Redis {} reachable again after {} ms; local changes sent",
                std::process::id(),
                self.name,
                self.server(),
                away.as_millis()
            ));
        }
    }

    /// Makes sure there is a connection (when the backoff allows a try); false when
    /// there is none.
    async fn connect(&mut self) -> bool {
        match &self.link {
            Link::Up(_) => return true,
            Link::Down { next, .. } if Instant::now() < *next => return false,
            _ => {}
        }
        let opened = if self.share.sentinels.is_empty() {
            Conn::open(&self.share.server, TIMEOUT).await
        } else {
            open_master(&self.share.sentinels, &self.share.server, TIMEOUT)
                .await
                .map(|(c, at)| {
                    self.master = Some(at);
                    c
                })
        };
        match opened {
            Ok(c) => {
                match std::mem::replace(&mut self.link, Link::Up(c)) {
                    Link::New => note(&format!(
                        "[NOTICE]   ({}) : stick-table '{}' shared through Redis {}",
                        std::process::id(),
                        self.name,
                        self.server()
                    )),
                    Link::Down { since, .. } => self.recovered = Some(since.elapsed()),
                    Link::Up(_) => {}
                }
                self.last_ok = Instant::now();
                true
            }
            Err(e) => {
                self.down(&e);
                false
            }
        }
    }

    /// Accounts for the result of an exchange; false after a failure.
    fn after(&mut self, r: Result<(), RespError>) -> bool {
        match r {
            Ok(()) => {
                self.last_ok = Instant::now();
                true
            }
            Err(e) => {
                self.down(&e);
                false
            }
        }
    }

    /// Redis failed: the first time, say so; then retry later, each time later.
    fn down(&mut self, e: &RespError) {
        let now = Instant::now();
        self.link = match std::mem::replace(&mut self.link, Link::New) {
            Link::Down { since, backoff, .. } => {
                let backoff = (backoff * 2).min(BACKOFF_MAX);
                Link::Down {
                    since,
                    next: now + backoff,
                    backoff,
                }
            }
            Link::New | Link::Up(_) => {
                note(&format!(
                    "[WARNING]  ({}) : stick-table '{}': Redis {} unreachable ({e}); counting locally until it returns",
                    std::process::id(),
                    self.name,
                    self.server()
                ));
                Link::Down {
                    since: now,
                    next: now + BACKOFF_MIN,
                    backoff: BACKOFF_MIN,
                }
            }
        };
        self.recovered = None;
    }

    /// Sends the changes of the entries `keys` and merges the fleet's values.
    async fn batch(&mut self, t: &Arc<Table>, keys: &[Box<[u8]>]) -> Result<(), RespError> {
        let clocks = Clocks {
            wall: wall_ms(),
            mono: now_ms(),
        };
        let layout = Layout {
            slots: &self.slots,
            periods: &self.periods,
            instance: instance_id(),
        };
        let mut work = Vec::with_capacity(keys.len());
        let mut rkeys: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
        let mut args: Vec<Vec<u8>> = vec![self.ttl_ms.to_string().into_bytes()];
        for k in keys {
            let Some(w) = self.watched.get(k) else {
                continue;
            };
            let Some(e) = w.entry.upgrade() else {
                continue;
            };
            let taken = t.values(&e);
            let (ops, own) = fields::diff(&layout, &w.shadow, &taken, clocks);
            let mut rk = self.share.prefix.clone();
            rk.push_str(&self.name);
            rk.push(':');
            t.write_key(&e.key, &mut rk);
            rkeys.push(rk.into_bytes());
            args.push(ops.len().to_string().into_bytes());
            for op in &ops {
                op.args(&mut args);
            }
            work.push((k, e, taken, own));
        }
        if work.is_empty() {
            return Ok(());
        }
        let reply = eval(&mut self.link, &self.sha, &rkeys, &args).await?;
        let Reply::Array(Some(hashes)) = reply else {
            return Err(RespError::Protocol("script reply is not an array"));
        };
        for ((k, e, taken, own), h) in work.into_iter().zip(hashes.iter()) {
            let Some(w) = self.watched.get_mut(k) else {
                continue;
            };
            let mut map: HashMap<&[u8], &[u8]> = HashMap::new();
            if let Reply::Array(Some(flat)) = h {
                for pair in flat.chunks(2) {
                    if let [Reply::Bulk(Some(f)), Reply::Bulk(Some(v))] = pair {
                        map.insert(f, v);
                    }
                }
            }
            w.shadow.own_cur = own;
            w.unsent = false;
            t.merge(&e, |cur| {
                fields::merge(&layout, &mut w.shadow, &taken, cur, &map, clocks);
            });
        }
        Ok(())
    }
}

/// Runs the script by its digest `sha`, sending it whole when Redis does not know it
/// (a Redis that restarted).
async fn eval(
    link: &mut Link,
    sha: &str,
    keys: &[Vec<u8>],
    args: &[Vec<u8>],
) -> Result<Reply, RespError> {
    {
        let Link::Up(conn) = link else {
            return Err(RespError::Protocol("not connected"));
        };
        let nkeys = keys.len().to_string();
        let call = |head: &[u8]| {
            let mut v: Vec<Vec<u8>> = vec![b"EVALSHA".to_vec(), head.to_vec()];
            v.push(nkeys.clone().into_bytes());
            v.extend(keys.iter().cloned());
            v.extend(args.iter().cloned());
            v
        };
        let words = call(sha.as_bytes());
        let refs: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
        match conn.call(&refs).await {
            Err(RespError::Server(m)) if m.starts_with("NOSCRIPT") => {
                let mut words = call(SCRIPT.as_bytes());
                words[0] = b"EVAL".to_vec();
                let refs: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
                conn.call(&refs).await
            }
            r => r,
        }
    }
}

/// Writes a state message on stderr (none with `-q`).
fn note(msg: &str) {
    if !crate::runtime::events::quiet() {
        eprintln!("{msg}.");
    }
}
