//! Stick tables as the configuration declares them (`stick-table`), the data types an
//! entry stores, and the rules that use them (`stick on|match|store-*`, `track-sc*`).

use super::Condition;
use crate::config::span::Span;

/// The type of a stick table's keys (`stick-table type …`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StickKeyType {
    /// `ip`: IPv4 addresses (an IPv6 source mapped from IPv4 is stored as IPv4).
    Ip,
    /// `ipv6`: IPv6 addresses (IPv4 ones are stored mapped).
    Ipv6,
    /// `integer`: 32-bit unsigned integers.
    Integer,
    /// `string [len N]`: strings of at most `key_size - 1` bytes.
    String,
    /// `binary [len N]`: blocks of `key_size` bytes (shorter ones padded with zeros).
    Binary,
}

impl StickKeyType {
    /// The keyword, as `show table` prints it.
    pub fn keyword(self) -> &'static str {
        match self {
            StickKeyType::Ip => "ip",
            StickKeyType::Ipv6 => "ipv6",
            StickKeyType::Integer => "integer",
            StickKeyType::String => "string",
            StickKeyType::Binary => "binary",
        }
    }
}

/// A data type a stick table can store, in HAProxy 2.6's order (`show table` prints
/// them in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StickData {
    /// `server_id`: the server a persistence rule chose.
    ServerId,
    /// `gpt0`: general purpose tag 0.
    Gpt0,
    /// `gpc0`: general purpose counter 0.
    Gpc0,
    /// `gpc0_rate(P)`.
    Gpc0Rate,
    /// `conn_cnt`: connections tracked.
    ConnCnt,
    /// `conn_rate(P)`.
    ConnRate,
    /// `conn_cur`: connections tracked now.
    ConnCur,
    /// `sess_cnt`: sessions (connections accepted past `tcp-request connection`).
    SessCnt,
    /// `sess_rate(P)`.
    SessRate,
    /// `http_req_cnt`.
    HttpReqCnt,
    /// `http_req_rate(P)`.
    HttpReqRate,
    /// `http_err_cnt`: 4xx answers and denied or invalid requests.
    HttpErrCnt,
    /// `http_err_rate(P)`.
    HttpErrRate,
    /// `bytes_in_cnt`: bytes from the client.
    BytesInCnt,
    /// `bytes_in_rate(P)`.
    BytesInRate,
    /// `bytes_out_cnt`: bytes to the client.
    BytesOutCnt,
    /// `bytes_out_rate(P)`.
    BytesOutRate,
    /// `gpc1`.
    Gpc1,
    /// `gpc1_rate(P)`.
    Gpc1Rate,
    /// `server_key`.
    ServerKey,
    /// `http_fail_cnt`: 5xx answers but 501 and 505.
    HttpFailCnt,
    /// `http_fail_rate(P)`.
    HttpFailRate,
    /// `gpt(N)`: an array of tags.
    Gpt,
    /// `gpc(N)`: an array of counters.
    Gpc,
    /// `gpc_rate(N,P)`: an array of rates.
    GpcRate,
}

/// Every data type with its name, in HAProxy's order.
pub const STICK_DATA: &[(StickData, &str)] = &[
    (StickData::ServerId, "server_id"),
    (StickData::Gpt0, "gpt0"),
    (StickData::Gpc0, "gpc0"),
    (StickData::Gpc0Rate, "gpc0_rate"),
    (StickData::ConnCnt, "conn_cnt"),
    (StickData::ConnRate, "conn_rate"),
    (StickData::ConnCur, "conn_cur"),
    (StickData::SessCnt, "sess_cnt"),
    (StickData::SessRate, "sess_rate"),
    (StickData::HttpReqCnt, "http_req_cnt"),
    (StickData::HttpReqRate, "http_req_rate"),
    (StickData::HttpErrCnt, "http_err_cnt"),
    (StickData::HttpErrRate, "http_err_rate"),
    (StickData::BytesInCnt, "bytes_in_cnt"),
    (StickData::BytesInRate, "bytes_in_rate"),
    (StickData::BytesOutCnt, "bytes_out_cnt"),
    (StickData::BytesOutRate, "bytes_out_rate"),
    (StickData::Gpc1, "gpc1"),
    (StickData::Gpc1Rate, "gpc1_rate"),
    (StickData::ServerKey, "server_key"),
    (StickData::HttpFailCnt, "http_fail_cnt"),
    (StickData::HttpFailRate, "http_fail_rate"),
    (StickData::Gpt, "gpt"),
    (StickData::Gpc, "gpc"),
    (StickData::GpcRate, "gpc_rate"),
];

impl StickData {
    /// The type named `name` (`http_req_rate`), if any.
    pub fn parse(name: &str) -> Option<StickData> {
        STICK_DATA.iter().find(|(_, n)| *n == name).map(|(d, _)| *d)
    }
    /// Its name.
    pub fn name(self) -> &'static str {
        STICK_DATA
            .iter()
            .find(|(d, _)| *d == self)
            .map_or("", |(_, n)| n)
    }
    /// A frequency counter over a period.
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            StickData::Gpc0Rate
                | StickData::Gpc1Rate
                | StickData::ConnRate
                | StickData::SessRate
                | StickData::HttpReqRate
                | StickData::HttpErrRate
                | StickData::HttpFailRate
                | StickData::BytesInRate
                | StickData::BytesOutRate
                | StickData::GpcRate
        )
    }
    /// An array (`gpt(N)`, `gpc(N)`, `gpc_rate(N,P)`).
    pub fn is_array(self) -> bool {
        matches!(self, StickData::Gpt | StickData::Gpc | StickData::GpcRate)
    }
}

/// One `store` item: a data type, its array size and its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreItem {
    /// The data type.
    pub data: StickData,
    /// Elements (1 but for arrays).
    pub count: u32,
    /// The period of a rate, in milliseconds (0 otherwise).
    pub period_ms: u32,
}

/// `stick-table type T [len N] size S [expire E] [nopurge] [store …] [srvkey K]`: what
/// a table is. Two equal definitions make the same table, which a reload keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickTableDef {
    /// The type of keys.
    pub key: StickKeyType,
    /// HAProxy's key size in bytes (strings: the longest key plus one).
    pub key_size: usize,
    /// `size`: the most entries.
    pub size: u32,
    /// `expire`: an entry not touched for this many milliseconds goes.
    pub expire_ms: Option<u32>,
    /// `nopurge`: a full table refuses new entries rather than evicting old ones.
    pub nopurge: bool,
    /// `store`: the data types, in the order written (no duplicates).
    pub store: Vec<StoreItem>,
    /// `redis URL [redis-prefix P] [redis-sync-interval T] [redis-sentinel ADDRS]`: the
    /// table is shared with the other instances through Redis (docs/persistence.md).
    pub redis: Option<RedisShare>,
}

/// Where and how a table is shared through Redis (the `redis` option of
/// `stick-table`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisShare {
    /// The server, from `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`.
    pub server: RedisServer,
    /// `redis-prefix P`: the first part of every key (default `gatehouse:`); the
    /// table's name and the entry's key follow.
    pub prefix: String,
    /// `redis-sync-interval T`: how often changes are sent and the fleet's values read
    /// back, in milliseconds (default 100).
    pub interval_ms: u32,
    /// `redis-sentinel HOST:PORT[,HOST:PORT…]`: Sentinels that name the master (the
    /// `redis` URL's host is then the master's name, its port unused); empty: the URL
    /// names the server itself.
    pub sentinels: Vec<(String, u16)>,
}

/// A Redis server as a `redis://` URL names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisServer {
    /// The host name or address.
    pub host: String,
    /// The port (default 6379).
    pub port: u16,
    /// The database (`SELECT`, default 0).
    pub db: u32,
    /// `AUTH` user (Redis 6 ACLs), if any.
    pub user: Option<String>,
    /// `AUTH` password, if any.
    pub password: Option<String>,
}

impl RedisServer {
    /// Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (percent-escapes in the
    /// user and password are decoded).
    pub fn parse(url: &str) -> Result<RedisServer, String> {
        let rest = match url.split_once("://") {
            Some(("redis", rest)) => rest,
            Some(("rediss" | "unix" | "redis+unix", _)) => {
                return Err(format!(
                    "stick-table: Redis URL '{url}': only redis:// (plain TCP) is supported yet by gatehouse."
                ));
            }
            _ => {
                return Err(format!(
                    "stick-table: '{url}' is not a Redis URL (expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])."
                ));
            }
        };
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (hostport, db) = match hostpart.split_once('/') {
            Some((h, "")) => (h, 0),
            Some((h, d)) => (
                h,
                d.parse::<u32>().map_err(|_| {
                    format!("stick-table: Redis URL '{url}': invalid database '{d}'.")
                })?,
            ),
            None => (hostpart, 0),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6
                .split_once(']')
                .ok_or_else(|| format!("stick-table: Redis URL '{url}': unclosed '['."))?;
            (h, p.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(format!("stick-table: Redis URL '{url}': missing host."));
        }
        let port =
            match port {
                None => 6379,
                Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    format!("stick-table: Redis URL '{url}': invalid port '{p}'.")
                })?,
            };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| unescape(u)), Some(unescape(p))),
                None => (Some(unescape(a)), None),
            },
        };
        Ok(RedisServer {
            host: host.to_string(),
            port,
            db,
            user,
            password,
        })
    }
}

/// Decodes `%XX` escapes.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl StickTableDef {
    /// The item that stores `data`, if the table stores it.
    pub fn item(&self, data: StickData) -> Option<&StoreItem> {
        self.store.iter().find(|s| s.data == data)
    }
}

/// A `stick-table` line of a proxy: the table takes the proxy's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickTable {
    /// The definition.
    pub def: StickTableDef,
    /// The words after the keyword.
    pub args: Vec<String>,
    /// The line.
    pub span: Span,
}

/// The kind of a `stick` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StickKind {
    /// `stick on`: match, then store on the request.
    On,
    /// `stick match`: look the pattern up, go to the server found.
    Match,
    /// `stick store-request`: remember the server for the pattern of the request.
    StoreRequest,
    /// `stick store-response`: remember the server for the pattern of the response.
    StoreResponse,
}

/// `stick on|match|store-request|store-response PATTERN [table T] [if|unless COND]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickRule {
    /// The kind.
    pub kind: StickKind,
    /// The pattern: a sample expression.
    pub pattern: String,
    /// `table T` (else the proxy's own).
    pub table: Option<String>,
    /// The condition.
    pub cond: Option<Condition>,
    /// The line.
    pub span: Span,
}

/// `track-sc0|1|2 KEY [table T]` of `tcp-request` and `http-request` rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackSc {
    /// The slot (0, 1, 2).
    pub slot: u8,
    /// The key: a sample expression.
    pub key: String,
    /// The table: `table T`, else the proxy's own (its name).
    pub table: String,
}

/// The counter actions: `sc-inc-gpc0(N)`, `sc-inc-gpc1(N)`, `sc-inc-gpc(I,N)`,
/// `sc-set-gpt0(N) VALUE`, `sc-set-gpt(I,N) VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScAction {
    /// Increments `gpc0` (and `gpc0_rate`), or `gpc1`, of the entry slot `slot` tracks.
    IncGpc {
        /// 0 or 1 for `gpc0`/`gpc1`; for `gpc(I)`: `I + 2`.
        idx: u32,
        /// The slot.
        slot: u8,
    },
    /// Sets `gpt0` (`sc-set-gpt0`; `gpt[0]` in a table storing the array instead) or
    /// `gpt[I]` (`sc-set-gpt(I,N)`) to a value (an integer or a sample expression).
    SetGpt0 {
        /// `Some(I)` for `sc-set-gpt(I,N)`.
        idx: Option<u32>,
        /// The slot.
        slot: u8,
        /// The value: an integer or an expression.
        value: String,
    },
}

/// Parses `track-scN`'s words after the action: `KEY [table T]`, with HAProxy's errors.
pub fn parse_track(act: &str, words: &[String], proxy: &str) -> Result<TrackSc, String> {
    let slot = act
        .strip_prefix("track-sc")
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| *n < 3)
        .ok_or_else(|| format!("'{act}' : unknown action"))?;
    let key = words
        .first()
        .ok_or_else(|| format!("'{act}' : missing fetch method"))?;
    let table = match words.get(1).map(String::as_str) {
        None => proxy.to_string(),
        Some("table") => words
            .get(2)
            .ok_or_else(|| format!("'{act}' : missing table name"))?
            .clone(),
        Some(x) => {
            return Err(format!(
                "'{act} {key}' expects 'table', 'if' or 'unless' (got '{x}')"
            ));
        }
    };
    if words.len() > 3 {
        return Err(format!(
            "'{act} {key}' : unexpected argument '{}'",
            words[3]
        ));
    }
    Ok(TrackSc {
        slot,
        key: key.clone(),
        table,
    })
}

/// Parses `sc-inc-gpc0(N)`, `sc-inc-gpc1(N)`, `sc-inc-gpc(I,N)`, `sc-set-gpt0(N) V` and
/// `sc-set-gpt(I,N) V`.
pub fn parse_sc_action(act: &str, words: &[String]) -> Result<ScAction, String> {
    let (base, arg) = match act.split_once('(') {
        Some((b, rest)) => (b, rest.strip_suffix(')').unwrap_or(rest)),
        None => (act, "0"),
    };
    let slot_of = |s: &str| -> Result<u8, String> {
        s.trim()
            .parse::<u8>()
            .ok()
            .filter(|n| *n < 3)
            .ok_or_else(|| format!("invalid stick table track ID '{s}'. The max allowed ID is 2"))
    };
    match base {
        "sc-inc-gpc0" | "sc-inc-gpc1" => {
            if !words.is_empty() {
                return Err(format!("'{act}' : unexpected argument '{}'", words[0]));
            }
            Ok(ScAction::IncGpc {
                idx: u32::from(base == "sc-inc-gpc1"),
                slot: slot_of(arg)?,
            })
        }
        "sc-inc-gpc" => {
            let (idx, n) = idx_and_sc(act, arg, "gpc index", u32::MAX)?;
            Ok(ScAction::IncGpc {
                idx: idx + 2,
                slot: slot_of(n)?,
            })
        }
        "sc-set-gpt0" | "sc-set-gpt" => {
            let value = words
                .first()
                .ok_or_else(|| format!("'{act}' : expects an integer or an expression"))?;
            if words.len() > 1 {
                return Err(format!("'{act}' : unexpected argument '{}'", words[1]));
            }
            let (idx, n) = if base == "sc-set-gpt" {
                let (idx, n) = idx_and_sc(act, arg, "gpt array index", 100)?;
                (Some(idx), n)
            } else {
                (None, arg)
            };
            Ok(ScAction::SetGpt0 {
                idx,
                slot: slot_of(n)?,
                value: value.clone(),
            })
        }
        _ => Err(format!("'{act}' is not supported yet by gatehouse")),
    }
}

/// The `<idx>,<sc-id>` argument of `sc-inc-gpc(…)` and `sc-set-gpt(…)`: the array
/// index (below `limit`, its errors naming `what`) and the unparsed `<sc-id>`.
fn idx_and_sc<'a>(
    act: &str,
    arg: &'a str,
    what: &str,
    limit: u32,
) -> Result<(u32, &'a str), String> {
    let (i, n) = arg
        .split_once(',')
        .ok_or_else(|| format!("'{act}' : expects <idx>,<sc-id>"))?;
    let idx = i
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|i| *i < limit)
        .ok_or_else(|| format!("'{act}' : invalid {what} '{i}'"))?;
    Ok((idx, n))
}

#[cfg(test)]
mod tests {
    use super::{RedisServer, ScAction, parse_sc_action};

    #[test]
    fn indexed_sc_actions_read_idx_and_sc_id_with_haproxy_errors() {
        let v = vec!["1".to_string()];
        assert_eq!(
            parse_sc_action("sc-inc-gpc(3,1)", &[]),
            Ok(ScAction::IncGpc { idx: 5, slot: 1 })
        );
        assert_eq!(
            parse_sc_action("sc-set-gpt(99,2)", &v),
            Ok(ScAction::SetGpt0 {
                idx: Some(99),
                slot: 2,
                value: "1".into()
            })
        );
        let err = |act: &str, words: &[String]| parse_sc_action(act, words).unwrap_err();
        assert_eq!(
            err("sc-inc-gpc(3)", &[]),
            "'sc-inc-gpc(3)' : expects <idx>,<sc-id>"
        );
        assert_eq!(
            err("sc-inc-gpc(x,0)", &[]),
            "'sc-inc-gpc(x,0)' : invalid gpc index 'x'"
        );
        assert_eq!(
            err("sc-set-gpt(100,0)", &v),
            "'sc-set-gpt(100,0)' : invalid gpt array index '100'"
        );
        assert_eq!(
            err("sc-set-gpt(1,3)", &v),
            "invalid stick table track ID '3'. The max allowed ID is 2"
        );
    }

    #[test]
    fn redis_urls_name_host_port_database_and_credentials() {
        let s = RedisServer::parse("redis://10.0.0.5").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.db), ("10.0.0.5", 6379, 0));
        assert_eq!((s.user, s.password), (None, None));
        let s = RedisServer::parse("redis://app:p%40ss@cache.local:6380/4").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.db), ("cache.local", 6380, 4));
        assert_eq!(s.user.as_deref(), Some("app"));
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        let s = RedisServer::parse("redis://:secret@[::1]:7000/").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.db), ("::1", 7000, 0));
        assert_eq!((s.user, s.password.as_deref()), (None, Some("secret")));
        assert!(RedisServer::parse("redis://h:0").is_err());
        assert!(RedisServer::parse("redis://h/x").is_err());
        assert!(RedisServer::parse("10.0.0.5:6379").is_err());
    }
}
