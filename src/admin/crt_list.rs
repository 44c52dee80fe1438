//! `add ssl crt-list`, `del ssl crt-list` and `show ssl crt-list` (management.txt 9.3),
//! with HAProxy 2.6's replies: a certificate of the store (loaded with `new ssl cert`,
//! `set ssl cert`, `commit ssl cert`) is served by its names — or the line's filters —
//! on every bind loading the crt-list, from the next handshake on; `del` takes a line
//! out (not the default certificate of a bind without `strict-sni`). The binds and the
//! swap are `crate::tls::store`. A `crt DIR` directory is a crt-list too, as in HAProxy
//! (its lines are numbered 0, and take no options nor filters).

use super::session::Outcome;
use super::{Level, table::need};
use crate::tls::certs::{LineOpts, split_line};
use crate::tls::store::{self, AddError};
use std::sync::Arc;

/// `add ssl crt-list <list> <cert>`, or with a payload `<cert> [[opts]] [filters]`.
pub fn add(level: Level, list: &str, cert: &str, payload: Option<&str>) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if list.is_empty() || (payload.is_none() && cert.is_empty()) {
        return Outcome::text("'add ssl crtlist' expects a filename and a certificate name\n");
    }
    let fail = |why: String| Outcome::text(format!("Can't edit the crt-list: {why}\n"));
    let list = list.trim_end_matches('/');
    let (path, opts, filters): (String, Option<Arc<LineOpts>>, Vec<String>) = match payload {
        Some(p) => {
            let p = p.trim_end_matches('\n');
            if p.contains('\n') {
                return fail("only one line of payload is supported!".into());
            }
            let p = p.trim();
            let (file, rest) = p.split_once(char::is_whitespace).unwrap_or((p, ""));
            let (words, filters) = match split_line(rest) {
                Ok(x) => x,
                Err(e) => return fail(format!("parsing [CLI:1]: {e}")),
            };
            let opts = if words.is_empty() {
                None
            } else {
                match LineOpts::parse(&words) {
                    Ok(mut o) => {
                        o.at = "CLI:1".into();
                        Some(Arc::new(o))
                    }
                    Err(e) => return fail(format!("parsing [CLI:1]: {e}")),
                }
            };
            (
                file.to_owned(),
                opts,
                filters.iter().map(|f| (*f).to_owned()).collect(),
            )
        }
        None => (cert.to_owned(), None, Vec::new()),
    };
    let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
    // A directory's lines are its files; a relative name is under `crt-base`.
    if store::crt_list(list).is_some() && std::path::Path::new(list).is_dir() {
        let dir = path.rsplit_once('/').map(|(d, _)| d);
        if dir != Some(list) {
            return fail(format!(
                "'{list}' is a directory, certificate path '{path}' must contain the directory path"
            ));
        }
    }
    let path = store::crt_list_cert_path(list, &path);
    let mut out = format!("Inserting certificate '{path}' in crt-list '{list}'");
    match store::add_to_crt_list(list, &path, opts, &filters) {
        Ok(n) => {
            out.push_str(&".".repeat(n));
            out.push_str("\nSuccess!\n");
            Outcome::text(out)
        }
        Err(AddError::Refused(why)) => fail(why),
        // A bind failed to compile with it: HAProxy has already written the head.
        Err(AddError::Failed(why)) => {
            out.push_str(&format!("\n{why}\nFailed!\n"));
            Outcome::text(out)
        }
    }
}

/// `del ssl crt-list <list> <cert[:line]>`.
pub fn del(level: Level, list: &str, cert: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if list.is_empty() || cert.is_empty() {
        return Outcome::text("'del ssl crtlist' expects a filename and a certificate name\n");
    }
    let fail = |why: String| Outcome::text(format!("Can't delete the entry: {why}\n"));
    let (path, line) = match cert.split_once(':') {
        Some((p, n)) => match n.parse::<usize>() {
            Ok(n) => (p, Some(n)),
            Err(_) => return fail(format!("wrong line number after colons in '{cert}'!")),
        },
        None => (cert, None),
    };
    let list = list.trim_end_matches('/');
    match store::del_from_crt_list(list, path, line.filter(|&n| n > 0)) {
        Ok(()) => Outcome::text(format!("Entry '{path}' deleted in crtlist '{list}'!\n")),
        Err(why) => fail(why),
    }
}

/// `show ssl crt-list [-n] [<list>]`.
pub fn show(args: &[String]) -> Outcome {
    let mut numbered = false;
    let mut name = "";
    for a in args {
        if a == "-n" {
            numbered = true;
        } else if name.is_empty() {
            name = a;
        }
    }
    if name.is_empty() {
        if numbered {
            return Outcome::text("'show ssl crt-list -n' expects a filename or a directory\n");
        }
        let mut out = String::new();
        for l in store::crt_lists() {
            out.push_str(&l);
            out.push('\n');
        }
        return Outcome::text(out);
    }
    let name = name.trim_end_matches('/');
    let Some(lines) = store::crt_list(name) else {
        return Outcome::text("didn't find the specified filename\n");
    };
    let mut out = format!("# {name}\n");
    for (path, l) in lines {
        out.push_str(&path);
        if numbered {
            out.push_str(&format!(":{}", l.number));
        }
        out.push_str(&l.conf);
        out.push('\n');
    }
    Outcome::text(out)
}
