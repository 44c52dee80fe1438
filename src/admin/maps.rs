//! `show map`, `add map`, `set map`, `del map`, `clear map` through the ACL engine's
//! map-update API (`acl::update_map`: every map using a file changes at once, and
//! keeps its runtime contents across reloads), and `show acl`, `add acl`, `del acl`,
//! `clear acl` on ACL pattern files (`acl … -f FILE`, through `acl::update_acl`, the
//! same way). ACLs are addressed by file name or `#<id>`, their number in `show acl`;
//! inline ACL patterns are not listed.

use super::Level;
use super::api::Api;
use super::session::Outcome;
use super::table::need;
use std::fmt::Write;

/// HAProxy's reply for an identifier that names no map or ACL.
fn unknown(acl: bool) -> Outcome {
    Outcome::text(if acl {
        "Unknown ACL identifier. Please use #<id> or <file>.\n"
    } else {
        "Unknown map identifier. Please use #<id> or <file>.\n"
    })
}

/// The map file an identifier names: `#<id>` (its number in `show map`) or its path.
fn resolve(id: &str, acl: bool) -> Option<String> {
    let paths = if acl {
        crate::acl::acl_paths()
    } else {
        crate::acl::map_paths()
    };
    match id.strip_prefix('#') {
        Some(n) => paths.get(n.parse::<usize>().ok()?).cloned(),
        None => paths.into_iter().find(|p| p == id),
    }
}

/// Versions (`@<ver>`, `prepare map`/`commit map`) are not supported yet.
fn versioned(args: &[String]) -> Option<Outcome> {
    args.first()
        .filter(|a| a.starts_with('@'))
        .map(|_| Outcome::text("Map versions ('@<ver>') are not supported yet by gatehouse.\n"))
}

/// The entries of map `path` as `(ref, key, value)`; a reference is the entry's
/// position (1-based), valid until the map changes.
fn entries(path: &str) -> Vec<(usize, String, String)> {
    crate::acl::loaded_maps(path)
        .last()
        .map(|m| m.entries())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, (k, v))| (i + 1, k, v))
        .collect()
}

/// The patterns of ACL file `path` as `(ref, pattern)`.
fn acl_entries(path: &str) -> Vec<(usize, String)> {
    crate::acl::loaded_acl_files(path)
        .last()
        .map(|f| f.patterns())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i + 1, p))
        .collect()
}

/// Applies `f` to the patterns of ACL file `path`.
fn change_acl<R>(path: &str, f: impl FnOnce(&mut Vec<String>) -> R) -> Result<R, Outcome> {
    match crate::acl::update_acl(path, f) {
        None => Err(unknown(true)),
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(Outcome::text(format!("{e}.\n"))),
    }
}

/// `show map [<map>]` / `show acl [<acl>]`.
pub fn show(api: &Api, id: &str, acl: bool) -> Outcome {
    if id.starts_with('@') {
        return versioned(&[id.to_owned()]).unwrap_or_else(|| Outcome::text(""));
    }
    if id.is_empty() {
        let mut o = String::from("# id (file) description\n");
        if acl {
            let info = api.info();
            for (i, p) in crate::acl::acl_paths().iter().enumerate() {
                let site = match info.acl_sites.get(p) {
                    Some((f, l)) => format!(" at file '{f}' line {l}"),
                    None => String::new(),
                };
                let _ = writeln!(
                    o,
                    "{i} ({p}) pattern loaded from file '{p}' used by acl{site}. curr_ver=0 next_ver=0 entry_cnt={}",
                    acl_entries(p).len()
                );
            }
        } else {
            let info = api.info();
            for (i, p) in crate::acl::map_paths().iter().enumerate() {
                let site = match info.map_sites.get(p) {
                    Some((f, l)) => format!(" at file '{f}' line {l}"),
                    None => String::new(),
                };
                let _ = writeln!(
                    o,
                    "{i} ({p}) pattern loaded from file '{p}' used by map{site}. curr_ver=0 next_ver=0 entry_cnt={}",
                    entries(p).len()
                );
            }
        }
        return Outcome::text(o);
    }
    let Some(path) = resolve(id, acl) else {
        return unknown(acl);
    };
    let mut o = String::new();
    if acl {
        for (r, p) in acl_entries(&path) {
            let _ = writeln!(o, "{r:#x} {p}");
        }
        return Outcome::text(o);
    }
    for (r, k, v) in entries(&path) {
        let _ = writeln!(o, "{r:#x} {k} {v}");
    }
    Outcome::text(o)
}

/// Applies `f` to map `path`, with HAProxy's ".\n" after an error text.
fn change<R>(path: &str, f: impl FnOnce(&mut Vec<(String, String)>) -> R) -> Result<R, Outcome> {
    match crate::acl::update_map(path, f) {
        None => Err(unknown(false)),
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(Outcome::text(format!("{e}.\n"))),
    }
}

/// `add map <map> <key> <value>` or `add map <map> <<` with `key value` lines.
pub fn add(level: Level, args: &[String], payload: Option<&str>, acl: bool) -> Outcome {
    if let Some(d) = need(level, Level::Operator) {
        return d;
    }
    if let Some(v) = versioned(args) {
        return v;
    }
    let n = args.len();
    if acl {
        return add_acl(args);
    }
    if !(acl || n == 3 || (n == 1 && payload.is_some())) {
        return Outcome::text(
            "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n",
        );
    }
    let Some(path) = resolve(&args[0], acl) else {
        return unknown(acl);
    };
    let mut new = Vec::new();
    if n == 3 {
        new.push((args[1].clone(), args[2].clone()));
    } else {
        for line in payload.unwrap_or("").lines() {
            let line = line.trim_start_matches([' ', '\t']);
            if line.is_empty() {
                continue;
            }
            let (k, v) = match line.find([' ', '\t']) {
                Some(i) => (&line[..i], line[i..].trim_start_matches([' ', '\t'])),
                None => (line, ""),
            };
            if v.is_empty() {
                return Outcome::text(format!("Missing value for key '{k}'.\n"));
            }
            new.push((
                k.to_owned(),
                v.trim_end_matches(['\r', ' ', '\t']).to_owned(),
            ));
        }
    }
    match change(&path, |pairs| pairs.extend(new)) {
        Ok(()) => Outcome::text(""),
        Err(o) => o,
    }
}

/// `add acl <acl> <pattern>` (HAProxy 2.6 takes no payload here).
fn add_acl(args: &[String]) -> Outcome {
    if args.len() < 2 {
        return Outcome::text("'add acl' expects two parameters: ACL identifier and pattern.\n");
    }
    let Some(path) = resolve(&args[0], true) else {
        if resolve(&args[0], false).is_some() {
            return Outcome::text(
                "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.\n",
            );
        }
        return unknown(true);
    };
    let pattern = args[1].clone();
    match change_acl(&path, |list| list.push(pattern)) {
        Ok(()) => Outcome::text(""),
        Err(o) => o,
    }
}

/// `set map <map> <key>|#<ref> <value>`.
pub fn set(level: Level, args: &[String]) -> Outcome {
    if let Some(d) = need(level, Level::Operator) {
        return d;
    }
    if args.len() < 3 {
        return Outcome::text(
            "'set map' expects three parameters: map identifier, key and value.\n",
        );
    }
    let Some(path) = resolve(&args[0], false) else {
        return unknown(false);
    };
    let (key, value) = (&args[1], &args[2]);
    let by_ref = match key.strip_prefix('#') {
        Some(r) => match usize::from_str_radix(r.trim_start_matches("0x"), 16) {
            Ok(n) => Some(n),
            Err(_) => return Outcome::text("Malformed identifier. Please use #<id> or <file>.\n"),
        },
        None => None,
    };
    let found = change(&path, |pairs| {
        let mut found = false;
        for (i, (k, v)) in pairs.iter_mut().enumerate() {
            if by_ref.map_or(k == key, |r| r == i + 1) {
                *v = value.clone();
                found = true;
            }
        }
        found
    });
    match found {
        Ok(true) => Outcome::text(""),
        Ok(false) => Outcome::text("entry not found.\n"),
        Err(o) => o,
    }
}

/// `del map <map> <key>|#<ref>` / `del acl`.
pub fn del(level: Level, args: &[String], acl: bool) -> Outcome {
    if let Some(d) = need(level, Level::Operator) {
        return d;
    }
    if args.len() < 2 {
        return Outcome::text(if acl {
            "This command expects two parameters: ACL identifier and key.\n"
        } else {
            "This command expects two parameters: map identifier and key.\n"
        });
    }
    let Some(path) = resolve(&args[0], acl) else {
        return unknown(acl);
    };
    let key = &args[1];
    let by_ref = match key.strip_prefix('#') {
        Some(r) => match usize::from_str_radix(r.trim_start_matches("0x"), 16) {
            Ok(n) => Some(n),
            Err(_) => return Outcome::text("Malformed identifier. Please use #<id> or <file>.\n"),
        },
        None => None,
    };
    if acl {
        let removed = change_acl(&path, |list| {
            let before = list.len();
            let mut i = 0;
            list.retain(|p| {
                i += 1;
                !by_ref.map_or(p == key, |r| r == i)
            });
            before != list.len()
        });
        return match removed {
            Ok(true) => Outcome::text(""),
            Ok(false) => Outcome::text("Key not found.\n"),
            Err(o) => o,
        };
    }
    let removed = change(&path, |pairs| {
        let before = pairs.len();
        let mut i = 0;
        pairs.retain(|(k, _)| {
            i += 1;
            !by_ref.map_or(k == key, |r| r == i)
        });
        before != pairs.len()
    });
    match removed {
        Ok(true) => Outcome::text(""),
        Ok(false) => Outcome::text("Key not found.\n"),
        Err(o) => o,
    }
}

/// `clear map <map>` / `clear acl`.
pub fn clear(level: Level, args: &[String], acl: bool) -> Outcome {
    if let Some(d) = need(level, Level::Operator) {
        return d;
    }
    if let Some(v) = versioned(args) {
        return v;
    }
    let Some(id) = args.first() else {
        return Outcome::text(if acl {
            "Missing ACL identifier.\n"
        } else {
            "Missing map identifier.\n"
        });
    };
    let Some(path) = resolve(id, acl) else {
        return unknown(acl);
    };
    if acl {
        return match change_acl(&path, Vec::clear) {
            Ok(()) => Outcome::text(""),
            Err(o) => o,
        };
    }
    match change(&path, Vec::clear) {
        Ok(()) => Outcome::text(""),
        Err(o) => o,
    }
}
