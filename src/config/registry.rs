//! Every keyword gatehouse knows, from the section tables: read by "did you mean", the
//! keyword dump (`gatehouse --keywords`) and the `docs/compat.md` test.

use super::keyword::Status;
use super::{credentials, global, identity, parser, proxy, userlist};

/// One keyword with where it lives and its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `global`, `proxy`, `userlist`, `identity`, `credentials`, `section`, `bind`,
    /// `server`.
    pub section: &'static str,
    /// The keyword.
    pub name: String,
    /// Its status.
    pub status: Status,
    /// One-line help (empty when the table has none).
    pub help: &'static str,
}

/// All keywords, in table order.
pub fn entries() -> Vec<Entry> {
    let mut v = Vec::new();
    for s in parser::SECTIONS {
        v.push(Entry {
            section: "section",
            name: (*s).to_owned(),
            status: if *s == "userlist" {
                userlist::STATUS
            } else {
                Status::Supported
            },
            help: "",
        });
    }
    for s in parser::SECTIONS_NOT_YET {
        v.push(Entry {
            section: "section",
            name: (*s).to_owned(),
            status: Status::NotYet,
            help: "",
        });
    }
    for k in global::all() {
        v.push(Entry {
            section: "global",
            name: k.name.to_owned(),
            status: k.status,
            help: k.help,
        });
    }
    for k in proxy::all() {
        v.push(Entry {
            section: "proxy",
            name: k.name.to_owned(),
            status: k.status,
            help: k.help,
        });
    }
    for k in userlist::KEYWORDS {
        v.push(Entry {
            section: "userlist",
            name: k.name.to_owned(),
            status: userlist::STATUS,
            help: k.help,
        });
    }
    for k in identity::KEYWORDS {
        v.push(Entry {
            section: "identity",
            name: k.name.to_owned(),
            status: k.status,
            help: k.help,
        });
    }
    for k in credentials::KEYWORDS {
        v.push(Entry {
            section: "credentials",
            name: k.name.to_owned(),
            status: k.status,
            help: k.help,
        });
    }
    for (k, _, status) in proxy::bind::OPTIONS {
        v.push(Entry {
            section: "bind",
            name: (*k).to_owned(),
            status: *status,
            help: "",
        });
    }
    for (k, _, status) in proxy::server::OPTIONS {
        v.push(Entry {
            section: "server",
            name: (*k).to_owned(),
            status: *status,
            help: "",
        });
    }
    for k in proxy::bind::NOT_YET {
        v.push(Entry {
            section: "bind",
            name: (*k).to_owned(),
            status: Status::NotYet,
            help: "",
        });
    }
    for k in proxy::server::NOT_YET {
        v.push(Entry {
            section: "server",
            name: (*k).to_owned(),
            status: Status::NotYet,
            help: "",
        });
    }
    v
}
