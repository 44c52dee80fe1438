//! Map converters (configuration.txt 7.3.1 `map_<match>_<output>`): `map`, `map_str`,
//! `map_beg`, `map_sub`, `map_dir`, `map_dom`, `map_end`, `map_reg`, `map_int`,
//! `map_ip`, each with an `_int`, `_ip` or `_str` output suffix, and `map_regm`
//! (`map_reg` whose value may name the regex's groups: `\1`).
//!
//! A map file is read at load (and so again on every reload) into a [`Map`] whose
//! entries sit behind an atomic pointer: a runtime API can replace, add or delete
//! entries live ([`Map::set_entries`], [`Map::add`], [`Map::del`]) while requests
//! read them without locking. Every loaded map is listed by [`loaded`].

use super::row::*;
use crate::acl::matcher::{Matcher, Method};
use arc_swap::ArcSwap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

/// The output type of a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Str,
    Int,
    Ip,
}

macro_rules! maps {
    ($(($name:literal, $m:ident, $o:ident, $t:ident)),* $(,)?) => {
        /// The converters of this family.
        pub(super) static CONVERTERS: &[ConvDef] = &[
            $(ConvDef::custom($name, SmpType::$t, |a| MapConv::build(a, Method::$m, Out::$o))
                .args(&[S, S], 1),)*
        ];
    };
}

maps![
    ("map", Str, Str, Str),
    ("map_str", Str, Str, Str),
    ("map_str_str", Str, Str, Str),
    ("map_str_int", Str, Int, Int),
    ("map_str_ip", Str, Ip, Ip),
    ("map_beg", Beg, Str, Str),
    ("map_beg_str", Beg, Str, Str),
    ("map_beg_int", Beg, Int, Int),
    ("map_beg_ip", Beg, Ip, Ip),
    ("map_sub", Sub, Str, Str),
    ("map_sub_str", Sub, Str, Str),
    ("map_sub_int", Sub, Int, Int),
    ("map_sub_ip", Sub, Ip, Ip),
    ("map_dir", Dir, Str, Str),
    ("map_dir_str", Dir, Str, Str),
    ("map_dir_int", Dir, Int, Int),
    ("map_dir_ip", Dir, Ip, Ip),
    ("map_dom", Dom, Str, Str),
    ("map_dom_str", Dom, Str, Str),
    ("map_dom_int", Dom, Int, Int),
    ("map_dom_ip", Dom, Ip, Ip),
    ("map_end", End, Str, Str),
    ("map_end_str", End, Str, Str),
    ("map_end_int", End, Int, Int),
    ("map_end_ip", End, Ip, Ip),
    ("map_reg", Reg, Str, Str),
    ("map_reg_str", Reg, Str, Str),
    ("map_reg_int", Reg, Int, Int),
    ("map_reg_ip", Reg, Ip, Ip),
    ("map_int", Int, Str, Str),
    ("map_int_str", Int, Str, Str),
    ("map_int_int", Int, Int, Int),
    ("map_int_ip", Int, Ip, Ip),
    ("map_ip", Ip, Str, Str),
    ("map_ip_str", Ip, Str, Str),
    ("map_ip_int", Ip, Int, Int),
    ("map_ip_ip", Ip, Ip, Ip),
];

/// `map_regm(file[,default])`: the first entry whose regex matches, its value with
/// `\N` replaced by group N (`\xHH` a byte, `\c` the character c), as HAProxy's
/// `exp_replace()`.
pub(super) static REGM: &[ConvDef] = &[ConvDef::custom("map_regm", SmpType::Str, |a| {
    MapConv::new(a, Method::Reg, Out::Str).map(|m| Box::new(RegmConv(m)) as Box<dyn Conv>)
})
.args(&[S, S], 1)];

/// A map value, parsed at load for its output type.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(Box<[u8]>),
    Int(i64),
    Ip(IpAddr),
}

impl Val {
    fn parse(text: &str, out: Out) -> Result<Val, String> {
        Ok(match out {
            Out::Str => Val::Str(text.as_bytes().into()),
            Out::Int => Val::Int(
                text.trim()
                    .parse()
                    .map_err(|_| format!("'{text}' is not a valid integer value"))?,
            ),
            Out::Ip => Val::Ip(
                text.trim()
                    .parse()
                    .map_err(|_| format!("'{text}' is not a valid IP address value"))?,
            ),
        })
    }
}

/// One entry: its key as written, compiled, and its value.
#[derive(Debug)]
struct Entry {
    key: Box<str>,
    pat: Matcher,
    /// The key as a regex, for `map_regm`'s groups (`map_reg*` maps).
    re: Option<regex::bytes::Regex>,
    /// Longest match wins for `beg` (key length) and `ip` (mask length).
    prio: u32,
    val: Val,
}

/// The entries of a map at one moment.
#[derive(Debug, Default)]
struct Entries {
    list: Vec<Entry>,
    /// `map_str`: exact key → index of its first entry.
    exact: std::collections::HashMap<Box<[u8]>, usize>,
}

/// A loaded map file whose entries can be changed live.
#[derive(Debug)]
pub struct Map {
    path: Box<str>,
    method: Method,
    out: Out,
    entries: ArcSwap<Entries>,
}

/// Every map loaded and still in use, for a runtime API (`show map`, `set map`, …).
static LOADED: Mutex<Vec<Weak<Map>>> = Mutex::new(Vec::new());

/// The contents the runtime API gave map files, by path: a map file loaded again (by a
/// reload) starts with these instead of the file's, so runtime changes survive
/// reloads for the life of the process.
static RUNTIME: Mutex<Vec<RuntimeContents>> = Mutex::new(Vec::new());

/// A map file's path and the `(key, value)` pairs the runtime API left in it.
type RuntimeContents = (Box<str>, Vec<(String, String)>);

/// The paths of the map files in use, in the order they were first loaded.
pub fn paths() -> Vec<String> {
    let mut all = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|w| w.strong_count() > 0);
    let mut out: Vec<String> = Vec::new();
    for m in all.iter().filter_map(Weak::upgrade) {
        if !out.iter().any(|p| **p == *m.path) {
            out.push(m.path.to_string());
        }
    }
    out
}

/// Changes the entries of map file `path` in every map that uses it, at once: `f`
/// edits a copy of the current `(key, value)` pairs; when every map accepts the
/// result (values of the map's output type), it is installed and kept for later
/// loads of the file; otherwise nothing changes and the error is returned. `None`
/// when no map uses `path`.
pub fn update<R>(
    path: &str,
    f: impl FnOnce(&mut Vec<(String, String)>) -> R,
) -> Option<Result<R, String>> {
    let maps = loaded(path);
    let newest = maps.last()?;
    let mut pairs = newest.current();
    let r = f(&mut pairs);
    let mut lists = Vec::with_capacity(maps.len());
    for m in &maps {
        match pairs.iter().map(|(k, v)| m.entry(k, v)).collect() {
            Ok(l) => lists.push(l),
            Err(e) => return Some(Err(e)),
        }
    }
    for (m, l) in maps.iter().zip(lists) {
        m.install(l);
    }
    let mut rt = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    rt.retain(|(p, _)| **p != *path);
    rt.push((path.into(), pairs));
    Some(Ok(r))
}

/// The maps loaded from `path` that are still in use (the newest last).
pub fn loaded(path: &str) -> Vec<Arc<Map>> {
    let mut all = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|w| w.strong_count() > 0);
    all.iter()
        .filter_map(Weak::upgrade)
        .filter(|m| &*m.path == path)
        .collect()
}

impl Map {
    /// Reads `path` (`KEY VALUE` lines; blank lines and `#` comments skipped).
    fn load(path: &str, method: Method, out: Out) -> Result<Arc<Map>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("failed to open map file <{path}> ({e})"))?;
        let runtime = {
            let rt = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
            rt.iter()
                .find(|(p, _)| **p == *path)
                .map(|(_, v)| v.clone())
        };
        let mut pairs = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line
                .trim_start_matches([' ', '\t'])
                .trim_end_matches(['\r', ' ', '\t']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, val) = match line.find([' ', '\t']) {
                Some(i) => (&line[..i], line[i..].trim_start_matches([' ', '\t'])),
                None => (line, ""),
            };
            pairs.push((key.to_string(), val.to_string(), n + 1));
        }
        if let Some(rt) = runtime {
            pairs = rt.into_iter().map(|(k, v)| (k, v, 0)).collect();
        }
        let map = Map {
            path: path.into(),
            method,
            out,
            entries: ArcSwap::from_pointee(Entries::default()),
        };
        let mut list = Vec::with_capacity(pairs.len());
        for (k, v, line) in pairs {
            list.push(
                map.entry(&k, &v)
                    .map_err(|e| format!("{e} at line {line} of map file '{path}'"))?,
            );
        }
        map.install(list);
        let map = Arc::new(map);
        LOADED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&map));
        Ok(map)
    }

    /// The file it was read from.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn entry(&self, key: &str, val: &str) -> Result<Entry, String> {
        let mut pat = Matcher::new(self.method);
        pat.add(key, false, false)?;
        let prio = match self.method {
            Method::Beg => key.len() as u32,
            Method::Ip => key
                .split_once('/')
                .and_then(|(_, m)| m.parse().ok())
                .unwrap_or(128),
            _ => 0,
        };
        let re = match self.method {
            Method::Reg => regex::bytes::Regex::new(key).ok(),
            _ => None,
        };
        Ok(Entry {
            key: key.into(),
            pat,
            re,
            prio,
            val: Val::parse(val, self.out)?,
        })
    }

    fn install(&self, list: Vec<Entry>) {
        let mut exact = std::collections::HashMap::new();
        if self.method == Method::Str {
            for (i, e) in list.iter().enumerate() {
                exact.entry(e.key.as_bytes().into()).or_insert(i);
            }
        }
        self.entries.store(Arc::new(Entries { list, exact }));
    }

    fn current(&self) -> Vec<(String, String)> {
        self.entries
            .load()
            .list
            .iter()
            .map(|e| {
                let v = match &e.val {
                    Val::Str(s) => String::from_utf8_lossy(s).into_owned(),
                    Val::Int(n) => n.to_string(),
                    Val::Ip(ip) => ip.to_string(),
                };
                (e.key.to_string(), v)
            })
            .collect()
    }

    /// The entries as `(key, value)` pairs, in order.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.current()
    }

    /// Replaces every entry at once.
    pub fn set_entries(&self, pairs: &[(String, String)]) -> Result<(), String> {
        let list = pairs
            .iter()
            .map(|(k, v)| self.entry(k, v))
            .collect::<Result<Vec<_>, _>>()?;
        self.install(list);
        Ok(())
    }

    /// Adds an entry at the end.
    pub fn add(&self, key: &str, val: &str) -> Result<(), String> {
        let mut pairs = self.current();
        pairs.push((key.into(), val.into()));
        self.set_entries(&pairs)
    }

    /// Deletes every entry with this key; returns whether one existed.
    pub fn del(&self, key: &str) -> Result<bool, String> {
        let mut pairs = self.current();
        let before = pairs.len();
        pairs.retain(|(k, _)| k != key);
        let found = pairs.len() != before;
        self.set_entries(&pairs)?;
        Ok(found)
    }
}

/// A map converter: its map and default value.
#[derive(Debug)]
struct MapConv {
    map: Arc<Map>,
    default: Option<Val>,
}

impl MapConv {
    fn build(args: &[ArgVal], method: Method, out: Out) -> Result<Box<dyn Conv>, String> {
        Ok(Box::new(MapConv::new(args, method, out)?))
    }

    fn new(args: &[ArgVal], method: Method, out: Out) -> Result<MapConv, String> {
        let text = |i: usize| match args.get(i) {
            Some(ArgVal::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        let path = text(0).unwrap_or_default();
        let map = Map::load(&path, method, out)?;
        let default = text(1).map(|d| Val::parse(&d, out)).transpose()?;
        Ok(MapConv { map, default })
    }

    /// The index of the entry `sample` finds.
    fn find(&self, entries: &Entries, sample: crate::acl::fetch::Sample<'_>) -> Option<usize> {
        if self.map.method == Method::Str {
            return match sample {
                crate::acl::fetch::Sample::Str(s) => entries.exact.get(s).copied(),
                _ => entries.list.iter().position(|e| e.pat.matches(sample)),
            };
        }
        let mut best: Option<(usize, u32)> = None;
        for (i, e) in entries.list.iter().enumerate() {
            if best.is_some_and(|(_, p)| p >= e.prio) {
                continue;
            }
            if e.pat.matches(sample) {
                best = Some((i, e.prio));
                if e.prio == 0 {
                    break;
                }
            }
        }
        best.map(|(i, _)| i)
    }
}

/// The `map_regm` converter: a regex map whose values use the match's groups.
#[derive(Debug)]
struct RegmConv(MapConv);

impl Conv for RegmConv {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        let (s, e) = as_str(cur, buf);
        let entries = self.0.map.entries.load();
        let input = crate::acl::fetch::Sample::Str(&buf[s..e]);
        let Some(i) = self.0.find(&entries, input) else {
            let Some(Val::Str(d)) = &self.0.default else {
                return None;
            };
            return Some(push(buf, |b| b.extend_from_slice(d)));
        };
        let entry = &entries.list[i];
        let Val::Str(tpl) = &entry.val else {
            return None;
        };
        let caps = entry.re.as_ref().and_then(|re| re.captures(&buf[s..e]));
        let groups: Vec<(usize, usize)> = caps
            .map(|c| {
                c.iter()
                    .map(|m| m.map_or((0, 0), |m| (s + m.start(), s + m.end())))
                    .collect()
            })
            .unwrap_or_default();
        let start = buf.len();
        let mut t = tpl.iter().copied();
        while let Some(c) = t.next() {
            if c != b'\\' {
                buf.push(c);
                continue;
            }
            match t.next()? {
                d @ b'0'..=b'9' => {
                    if let Some(&(gs, ge)) = groups.get(usize::from(d - b'0')) {
                        buf.extend_from_within(gs..ge);
                    }
                }
                b'x' => {
                    let hex = |c: u8| {
                        let c = c.to_ascii_uppercase().wrapping_sub(b'0');
                        if c > 9 { c - (b'A' - b'9' - 1) } else { c }
                    };
                    let (h1, h2) = (hex(t.next()?), hex(t.next()?));
                    buf.push((h1 << 4).wrapping_add(h2));
                }
                other => buf.push(other),
            }
        }
        Some(Cur::Str(start, buf.len()))
    }
}

impl Conv for MapConv {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        let entries = self.map.entries.load();
        let sample = match cur {
            Cur::Ip(ip) => crate::acl::fetch::Sample::Ip(ip),
            Cur::Int(n) => crate::acl::fetch::Sample::Int(n),
            Cur::Bool(b) => crate::acl::fetch::Sample::Bool(b),
            Cur::Str(s, e) => crate::acl::fetch::Sample::Str(&buf[s..e]),
        };
        let found = self.find(&entries, sample);
        let val = match found {
            Some(i) => &entries.list[i].val,
            None => self.default.as_ref()?,
        };
        Some(match val {
            Val::Int(n) => Cur::Int(*n),
            Val::Ip(ip) => Cur::Ip(*ip),
            Val::Str(v) => push(buf, |b| b.extend_from_slice(v)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::s;
    use super::loaded;

    fn file(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("gh-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn map_converters_table() {
        let hosts = file(
            "hosts.map",
            "# comment\n\napi.example.com  api\nwww.example.com www   \n",
        );
        let beg = file("beg.map", "/ root\n/api/ api\n/api/v2/ v2\n");
        let dom = file("dom.map", "example.com ex\n");
        let ip = file(
            "ip.map",
            "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n::1 local6\n",
        );
        let int = file("int.map", "200:299 ok\n404 missing\n");
        let reg = file("reg.map", "^/img/.*\\.png$ 7\n");
        let cases: Vec<(String, &str, Option<&str>)> = vec![
            (format!("map({hosts})"), "api.example.com", Some("api")),
            (format!("map_str({hosts})"), "www.example.com", Some("www")),
            (format!("map({hosts})"), "API.example.com", None),
            (format!("map({hosts},web)"), "other", Some("web")),
            (format!("map_beg({beg})"), "/api/v2/x", Some("v2")),
            (format!("map_beg({beg})"), "/api/x", Some("api")),
            (format!("map_beg({beg})"), "/x", Some("root")),
            (format!("map_dom({dom})"), "www.example.com", Some("ex")),
            (format!("map_dom({dom})"), "example.org", None),
            (format!("map_ip({ip})"), "10.1.2.3", Some("ten-one")),
            (format!("map_ip({ip})"), "10.2.2.3", Some("ten")),
            (format!("map_ip({ip},none)"), "192.168.0.1", Some("none")),
            (format!("map_int({int})"), "204", Some("ok")),
            (format!("map_int({int})"), "404", Some("missing")),
            (
                format!("map_reg_int({reg}),add(1)"),
                "/img/a.png",
                Some("8"),
            ),
            (format!("map_end({beg})"), "/api/", Some("root")),
            (
                format!("map_sub({hosts})"),
                "xx.api.example.com.",
                Some("api"),
            ),
        ];
        for (chain, input, want) in &cases {
            assert_eq!(s(chain, input).as_deref(), *want, "{chain} on {input}");
        }
    }

    #[test]
    fn map_regm_replaces_groups() {
        let m = file(
            "regm.map",
            "^/api/v([0-9]+)/(.*)$ api\\1-\\2\n^/img/(.*)\\.png$ \\x41\\1\\\\\n",
        );
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("map_regm({m})", "/api/v2/users", Some("api2-users")),
            ("map_regm({m})", "/img/logo.png", Some("Alogo\\")),
            ("map_regm({m},none)", "/other", Some("none")),
            ("map_regm({m})", "/other", None),
        ];
        for (chain, input, want) in cases {
            let chain = chain.replace("{m}", &m);
            assert_eq!(s(&chain, input).as_deref(), *want, "{chain} on {input}");
        }
    }

    #[test]
    fn maps_load_errors_and_live_updates() {
        let e = super::super::testing::run("map(/nonexistent/x.map)", super::super::Sample::Int(1))
            .unwrap_err();
        assert!(e.contains("failed to open map file"), "{e}");
        let bad = file("bad.map", "a notanint\n");
        let e = super::super::testing::run(
            &format!("map_str_int({bad})"),
            super::super::Sample::Int(1),
        )
        .unwrap_err();
        assert!(e.contains("line 1"), "{e}");

        let live = file("live.map", "a 1\n");
        let expr =
            crate::acl::compile::Expr::parse(&format!("always_true,map({live},none)")).unwrap();
        let run = |input: &str| {
            let mut out = None;
            super::super::apply(
                &expr.convs,
                &super::super::testing::NoSource,
                super::super::Sample::Str(input.as_bytes()),
                &mut |v| {
                    if let super::super::Sample::Str(b) = v {
                        out = Some(String::from_utf8_lossy(b).into_owned());
                    }
                    true
                },
            );
            out
        };
        assert_eq!(run("b").as_deref(), Some("none"));
        let m = loaded(&live).pop().expect("the map is listed");
        m.add("b", "2").unwrap();
        assert_eq!(run("b").as_deref(), Some("2"));
        assert!(m.del("a").unwrap());
        assert_eq!(run("a").as_deref(), Some("none"));
        assert_eq!(m.entries(), vec![("b".to_string(), "2".to_string())]);
    }
}
