//! The stats page's admin actions (`stats admin if …`): the form the page shows posts
//! `s=SERVER` (once per ticked server), `action=ACTION` and `b=#IID` (or a backend
//! name); each server is changed through the live-state store's mutation functions,
//! as the runtime API does. The answer is HAProxy's status code, shown on the page
//! after the redirect: `DONE` (all changed), `PART` (some), `NONE` (none), `ERRP`
//! (the form could not be read).
//!
//! Actions: `ready`, `maint`. `drain` and the health and agent actions are not
//! available yet and leave the servers as they are (`NONE`).

use crate::runtime::snapshot::Snapshot;

/// Decodes one `application/x-www-form-urlencoded` component.
pub(super) fn decode(v: &[u8]) -> String {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < v.len() => {
                let hex = std::str::from_utf8(&v[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Applies the posted form `body`; returns HAProxy's status code.
pub fn apply(snap: &Snapshot, body: &[u8]) -> &'static str {
    let mut servers = Vec::new();
    let mut action = None;
    let mut backend = None;
    for pair in body.split(|c| *c == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|c| *c == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        match k {
            b"s" => servers.push(decode(v)),
            b"action" => action = Some(decode(v)),
            b"b" => backend = Some(decode(v)),
            _ => {}
        }
    }
    let (Some(action), Some(backend)) = (action, backend) else {
        return "ERRP";
    };
    let name = match backend.strip_prefix('#') {
        Some(id) => match snap
            .proxies
            .iter()
            .find(|p| p.backend && id.parse() == Ok(p.uuid))
        {
            Some(p) => p.name.clone(),
            None => return "ERRP",
        },
        None => backend,
    };
    let Some(be) = snap.backends.iter().find(|b| b.name == name) else {
        return "ERRP";
    };
    if servers.is_empty() || action.is_empty() {
        return "NONE";
    }
    let mut changed = 0;
    for s in &servers {
        let done = match action.as_str() {
            "ready" => be.live.set_maint(s, false),
            "maint" => be.live.set_maint(s, true),
            _ => false,
        };
        changed += usize::from(done);
    }
    match changed {
        0 => "NONE",
        n if n == servers.len() => "DONE",
        _ => "PART",
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(decode(b"%233"), "#3");
        assert_eq!(decode(b"a+b%2Fc"), "a b/c");
        assert_eq!(decode(b"100%"), "100%");
        assert_eq!(decode(b"%zz"), "%zz");
    }
}
