//! Compiled `userlist` sections: users with their password check (crypt(3) SHA-512
//! `$6$` and SHA-256 `$5$` hashes, as `mkpasswd` makes them, or `insecure-password`)
//! and their groups (from `user … groups` and `group … users`), for `http_auth` and
//! `http_auth_group`.

use crate::config::model::{Password, Userlist};

/// One user, ready to check.
#[derive(Debug)]
struct UserRt {
    name: String,
    password: Password,
    groups: Vec<String>,
}

/// One userlist.
#[derive(Debug)]
struct ListRt {
    name: String,
    users: Vec<UserRt>,
}

/// Every userlist of a configuration.
#[derive(Debug, Default)]
pub struct Userlists {
    lists: Vec<ListRt>,
}

impl Userlists {
    /// Compiles the configuration's userlists.
    pub fn compile(lists: &[Userlist]) -> Self {
        let lists = lists
            .iter()
            .map(|ul| ListRt {
                name: ul.name.clone(),
                users: ul
                    .users
                    .iter()
                    .map(|u| {
                        let mut groups = u.groups.clone();
                        for (g, members) in &ul.groups {
                            if members.contains(&u.name) && !groups.contains(g) {
                                groups.push(g.clone());
                            }
                        }
                        UserRt {
                            name: u.name.clone(),
                            password: u.password.clone(),
                            groups,
                        }
                    })
                    .collect(),
            })
            .collect();
        Userlists { lists }
    }

    /// Checks the credentials `user`:`pass` against userlist `list`; when they are
    /// valid, calls `each` with the user's name (`groups` false) or each of its groups
    /// until it returns true, and returns whether one did.
    pub fn check(
        &self,
        list: &str,
        user: &[u8],
        pass: &[u8],
        groups: bool,
        each: &mut dyn FnMut(&[u8]) -> bool,
    ) -> bool {
        let Some(ul) = self.lists.iter().find(|l| l.name == list) else {
            return false;
        };
        let Some(u) = ul.users.iter().find(|u| u.name.as_bytes() == user) else {
            return false;
        };
        if !password_ok(&u.password, pass) {
            return false;
        }
        if groups {
            u.groups.iter().any(|g| each(g.as_bytes()))
        } else {
            each(u.name.as_bytes())
        }
    }
}

/// Whether `pass` is the user's password.
fn password_ok(p: &Password, pass: &[u8]) -> bool {
    match p {
        Password::None => false,
        Password::Insecure(s) => s.as_bytes() == pass,
        Password::Hashed(h) => {
            let Ok(pass) = std::str::from_utf8(pass) else {
                return false;
            };
            if h.starts_with("$6$") {
                sha_crypt::sha512_check(pass, h).is_ok()
            } else if h.starts_with("$5$") {
                sha_crypt::sha256_check(pass, h).is_ok()
            } else {
                false
            }
        }
    }
}

/// The user and password of a Basic `Authorization` value (`None`: another scheme or
/// a malformed one).
pub fn basic_credentials(value: &[u8]) -> Option<(Vec<u8>, usize)> {
    use base64::Engine;
    let v = value.trim_ascii();
    let sp = memchr::memchr(b' ', v)?;
    if !v[..sp].eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v[sp + 1..].trim_ascii())
        .ok()?;
    let colon = memchr::memchr(b':', &raw)?;
    Some((raw, colon))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::User;
    use crate::config::span::Span;

    fn list() -> Userlists {
        let user = |name: &str, password: Password, groups: &[&str]| User {
            name: name.into(),
            password,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            span: Span::new("t", 1),
        };
        Userlists::compile(&[Userlist {
            name: "ul".into(),
            span: Span::new("t", 1),
            groups: vec![("ops".into(), vec!["bob".into()])],
            users: vec![
                user("alice", Password::Insecure("secret".into()), &["admins"]),
                // `openssl passwd -6 -salt saltsalt bobpw`
                user(
                    "bob",
                    Password::Hashed("$6$saltsalt$HlPx3cp5OqD7jf0iNrO8vom681YH5Se4UnNxOn9lyTxVsW.OKSK3Vqq/Be6is3Y62TSBnpEs59DMxeOlOA1pA0".into()),
                    &[],
                ),
                // `openssl passwd -5 -salt abcdefgh carolpw`
                user(
                    "carol",
                    Password::Hashed("$5$abcdefgh$cBhy70NJ1Otv40MvcEhpVOmQ56C7lL9EXxM4G9Z1TY8".into()),
                    &[],
                ),
            ],
        }])
    }

    fn groups(l: &Userlists, u: &str, p: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let ok = l.check("ul", u.as_bytes(), p.as_bytes(), false, &mut |_| true);
        l.check("ul", u.as_bytes(), p.as_bytes(), true, &mut |g| {
            out.push(String::from_utf8_lossy(g).into_owned());
            false
        });
        ok.then_some(out)
    }

    #[test]
    fn passwords_and_groups() {
        let l = list();
        let table: &[(&str, &str, Option<&[&str]>)] = &[
            ("alice", "secret", Some(&["admins"])),
            ("alice", "Secret", None),
            ("bob", "bobpw", Some(&["ops"])),
            ("bob", "bobpw ", None),
            ("carol", "carolpw", Some(&[])),
            ("carol", "bobpw", None),
            ("dave", "x", None),
        ];
        for (u, p, want) in table {
            let want = want.map(|g| g.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(groups(&l, u, p), want, "{u}:{p}");
        }
        assert!(!l.check("other", b"alice", b"secret", false, &mut |_| true));
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let (raw, c) = basic_credentials(b"Basic YWxpY2U6c2VjOnJldA==").expect("basic");
        assert_eq!((&raw[..c], &raw[c + 1..]), (&b"alice"[..], &b"sec:ret"[..]));
        assert!(basic_credentials(b"bAsIc YTpi").is_some());
        assert!(basic_credentials(b"Bearer abc").is_none());
        assert!(basic_credentials(b"Basic !!!").is_none());
    }
}
