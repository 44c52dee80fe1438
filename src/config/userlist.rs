//! The `userlist` section: `group NAME [users U,…]`,
//! `user NAME [password HASH | insecure-password PASS] [groups G,…]`; and the check
//! that the userlists `http_auth(UL)`/`http_auth_group(UL)` name exist.

use super::diag::Diag;
use super::keyword::{Status, UserlistKeyword};
use super::model::{AclExpr, AclRef, Config, Password, Proxy, User, Userlist};
use super::span::Span;

fn group(ul: &mut Userlist, w: &[String], _: &Span) -> Result<(), String> {
    let name = w.get(1).ok_or("'group' expects <name> as argument.")?;
    let mut users = Vec::new();
    match (w.get(2).map(String::as_str), w.get(3)) {
        (None, _) => {}
        (Some("users"), Some(list)) => users = list.split(',').map(str::to_owned).collect(),
        (Some("users"), None) => {
            return Err(format!(
                "'group {name}' : 'users' expects a comma-separated user list."
            ));
        }
        (Some(x), _) => return Err(format!("'group' only supports 'users' option (got '{x}').")),
    }
    if ul.groups.iter().any(|(g, _)| g == name) {
        return Err(format!(
            "group '{name}' already exists in userlist '{}'.",
            ul.name
        ));
    }
    ul.groups.push((name.clone(), users));
    Ok(())
}

fn user(ul: &mut Userlist, w: &[String], span: &Span) -> Result<(), String> {
    let name = w.get(1).ok_or("'user' expects <name> as argument.")?;
    if ul.users.iter().any(|u| &u.name == name) {
        return Err(format!(
            "user '{name}' already exists in userlist '{}'.",
            ul.name
        ));
    }
    let mut u = User {
        name: name.clone(),
        password: Password::None,
        groups: Vec::new(),
        span: span.clone(),
    };
    let mut i = 2;
    while let Some(opt) = w.get(i) {
        let v = w
            .get(i + 1)
            .ok_or_else(|| format!("'user {name}' : '{opt}' expects an argument."))?;
        match opt.as_str() {
            "password" => {
                // crypt(3) formats gatehouse checks: SHA-512 and SHA-256.
                if !(v.starts_with("$6$") || v.starts_with("$5$")) {
                    return Err(format!(
                        "'user {name}' : only SHA-512 ($6$) and SHA-256 ($5$) crypt(3) password hashes are supported yet by gatehouse."
                    ));
                }
                u.password = Password::Hashed(v.clone())
            }
            "insecure-password" => u.password = Password::Insecure(v.clone()),
            "groups" => u.groups = v.split(',').map(str::to_owned).collect(),
            x => {
                return Err(format!(
                    "'user' only supports 'password', 'insecure-password' and 'groups' options (got '{x}')."
                ));
            }
        }
        i += 2;
    }
    ul.users.push(u);
    Ok(())
}

/// The `userlist` keyword table.
pub static KEYWORDS: &[UserlistKeyword] = &[
    UserlistKeyword {
        name: "group",
        parse: group,
        help: "declare a group",
    },
    UserlistKeyword {
        name: "user",
        parse: user,
        help: "declare a user",
    },
];

/// The status of the `userlist` section and its keywords: read by `http_auth`,
/// `http_auth_group` and `http-request auth`.
pub const STATUS: Status = Status::Supported;

/// The userlist an ACL criterion's fetch names, if it is `http_auth(UL)` or
/// `http_auth_group(UL)`, with the fetch's name.
fn auth_ref(words: &[String]) -> Option<(&str, &str)> {
    let fetch = words.first()?.split(',').next()?;
    let (name, rest) = fetch.split_once('(')?;
    if name != "http_auth" && name != "http_auth_group" {
        return None;
    }
    Some((name, rest.trim_end_matches(')')))
}

/// HAProxy's check when it resolves sample arguments: every userlist an `http_auth`
/// or `http_auth_group` fetch names (in an `acl` line or an anonymous ACL of a
/// condition) exists; the alert is at the ACL's line.
pub fn check_refs(config: &Config, p: &Proxy, diags: &mut Vec<Diag>) {
    let mut exprs: Vec<&AclExpr> = p.acls.iter().map(|a| &a.expr).collect();
    let conds = p
        .http_request
        .iter()
        .chain(&p.http_response)
        .filter_map(|r| r.cond.as_ref())
        .chain(p.use_backends.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.tcp_request.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.tcp_response.iter().filter_map(|r| r.cond.as_ref()));
    for c in conds {
        for term in c.any_of.iter().flatten() {
            if let AclRef::Anonymous(e) = &term.acl {
                exprs.push(e);
            }
        }
    }
    for e in exprs {
        let Some((fetch, ul)) = auth_ref(&e.words) else {
            continue;
        };
        if !config.userlists.iter().any(|u| u.name == ul) {
            diags.push(Diag::alert(
                &e.span,
                format!(
                    "unable to find userlist '{ul}' referenced in arg 1 of ACL keyword '{fetch}' in proxy '{}'.",
                    p.name
                ),
            ));
        }
    }
}
