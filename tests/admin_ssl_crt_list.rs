//! Serving a new certificate by its SNI without a reload, as HAProxy's manual does it
//! with socat: `new ssl cert`, `set ssl cert`, `commit ssl cert`, then `add ssl crt-list`
//! (a name, or a payload line with options and filters), `show ssl crt-list [-n]`,
//! `del ssl crt-list` (never a bind's default certificate) and `del ssl cert` — every
//! reply byte for byte as HAProxy 2.6's on the same files, and the certificate
//! `openssl s_client` gets for a name changing at the `add` and the `del`.

mod support;

use std::path::Path;
use std::time::Duration;
use support::pki::{Pki, s_client};
use support::socat::unix_cmd;
use support::*;

fn cfg(port: u16, list: &Path) -> String {
    format!(
        "global\n  stats socket unix@admin.sock level admin\n  stats socket unix@user.sock level user\n\
         defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port} ssl crt-list {}\n  \
         http-request return status 200 content-type text/plain string ok\n",
        list.display()
    )
}

/// The CN of the certificate a client asking for `sni` gets.
fn served_cn(port: u16, sni: &str) -> Option<String> {
    s_client(port, &["-servername", sni], "").subject_cn()
}

/// A reply with the configuration file's name (each proxy has its own) taken out of
/// HAProxy's `\t- FILE:LINE` lines.
fn without_cfg_name(reply: &str) -> String {
    reply
        .lines()
        .map(|l| match l.strip_prefix("\t- ") {
            Some(at) => format!("\t- {}", at.rsplit('/').next().unwrap_or(at)),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_certificate_added_to_a_crt_list_serves_its_names_and_replies_read_as_haproxys() {
    let pki = Pki::get();
    let dir = TempDir::new("admin-ssl-crt-list");
    let default = dir.write(
        "default.pem",
        std::fs::read(pki.path("default.pem")).unwrap(),
    );
    let site = dir.write("site.pem", std::fs::read(pki.path("site.pem")).unwrap());
    let wild = dir.path().join("wild.pem").display().to_string();
    let (default, site) = (default.display().to_string(), site.display().to_string());
    let list = dir.write(
        "list.txt",
        format!("{default}\n{site} [verify none] www.site.test\n"),
    );
    let l = list.display().to_string();
    let wild_pem = std::fs::read_to_string(pki.path("wild.pem")).unwrap();

    let port = free_port();
    let g = Gatehouse::start(&cfg(port, &list), &[port]);
    let hport = free_port();
    let h = Haproxy::start(&cfg(hport, &list), &[hport]);
    let ours = g.dir().join("admin.sock");
    let theirs = h.dir().join("admin.sock");
    let both = |cmd: &str, payload: Option<&str>| {
        let input = match payload {
            Some(p) => format!("{cmd} <<\n{}\n", p.trim_end()),
            None => cmd.to_owned(),
        };
        let a = unix_cmd(&ours, &input);
        let b = unix_cmd(&theirs, &input);
        assert_eq!(without_cfg_name(&a), without_cfg_name(&b), "{cmd}");
        a
    };
    for p in [port, hport] {
        assert_eq!(served_cn(p, "x.wild.test").as_deref(), Some("default.test"));
    }

    both("show ssl crt-list", None);
    both(&format!("show ssl crt-list {l}"), None);
    both(&format!("show ssl crt-list -n {l}"), None);
    both("show ssl crt-list -n", None);
    both("show ssl crt-list /nowhere.txt", None);
    both("new ssl cert", None);
    both(&format!("new ssl cert {site}"), None);
    both(&format!("new ssl cert {wild}"), None);
    both("show ssl cert", None);
    both(&format!("show ssl cert {wild}"), None);
    // Empty until committed.
    both(&format!("add ssl crt-list {l} {wild}"), None);
    both(&format!("set ssl cert {wild}"), Some(&wild_pem));
    both(&format!("add ssl crt-list {l} {wild}"), None);
    both(&format!("commit ssl cert {wild}"), None);
    both(&format!("show ssl cert {wild}"), None);
    both("add ssl crt-list", None);
    both(&format!("add ssl crt-list {l}"), None);
    both(&format!("add ssl crt-list /nowhere.txt {wild}"), None);
    both(&format!("add ssl crt-list {l} /nowhere.pem"), None);
    // Nothing serves it yet.
    assert_eq!(
        served_cn(port, "x.wild.test").as_deref(),
        Some("default.test")
    );
    assert_eq!(
        both(&format!("add ssl crt-list {l} {wild}"), None),
        format!("Inserting certificate '{wild}' in crt-list '{l}'.\nSuccess!\n\n")
    );
    for p in [port, hport] {
        assert_eq!(served_cn(p, "x.wild.test").as_deref(), Some("*.wild.test"));
        assert_eq!(
            served_cn(p, "www.site.test").as_deref(),
            Some("www.site.test")
        );
    }
    both(&format!("show ssl cert {wild}"), None);
    // A line with options and filters, as a payload.
    both(
        &format!("add ssl crt-list {l}"),
        Some(&format!("{wild} [verify none] x.wild.test !y.wild.test")),
    );
    assert_eq!(
        both(&format!("show ssl crt-list -n {l}"), None),
        format!(
            "# {l}\n{default}:1\n{site}:2 [verify none] www.site.test\n{wild}:3\n\
             {wild}:4 [verify none] x.wild.test !y.wild.test\n\n"
        )
    );
    both(&format!("show ssl crt-list {l}"), None);
    both("del ssl crt-list", None);
    both(&format!("del ssl crt-list {l}"), None);
    both(&format!("del ssl crt-list {l} {wild}"), None);
    both(&format!("del ssl crt-list {l} {wild}:9"), None);
    both(&format!("del ssl crt-list {l} {wild}:x"), None);
    both(&format!("del ssl crt-list {l} /nowhere.pem"), None);
    both(&format!("del ssl crt-list /nowhere.txt {wild}"), None);
    // The default certificate stays.
    assert!(
        both(&format!("del ssl crt-list {l} {default}"), None)
            .contains("it is used as default certificate by the following frontends:\n\t- ")
    );
    both(&format!("del ssl crt-list {l} {wild}:3"), None);
    both(&format!("del ssl cert {wild}"), None);
    both(&format!("del ssl crt-list {l} {wild}:4"), None);
    // Out of every line: no longer served, still stored, and deletable.
    for p in [port, hport] {
        assert_eq!(served_cn(p, "x.wild.test").as_deref(), Some("default.test"));
    }
    both("show ssl cert", None);
    both(&format!("show ssl cert {wild}"), None);
    both(&format!("del ssl crt-list {l} {site}"), None);
    for p in [port, hport] {
        assert_eq!(
            served_cn(p, "www.site.test").as_deref(),
            Some("default.test")
        );
    }
    both("del ssl cert", None);
    both(&format!("del ssl cert {default}"), None);
    both(&format!("del ssl cert {site}"), None);
    both(&format!("del ssl cert {wild}"), None);
    both("del ssl cert /nowhere.pem", None);
    both("show ssl cert", None);
    both(&format!("show ssl crt-list -n {l}"), None);
    // The user level may change nothing.
    assert_eq!(
        unix_cmd(
            &g.dir().join("user.sock"),
            &format!("add ssl crt-list {l} {site}")
        ),
        "Permission denied\n\n"
    );
}

#[test]
fn a_reload_serves_the_crt_list_file_again_as_haproxys_does() {
    let pki = Pki::get();
    let dir = TempDir::new("admin-ssl-crt-list-reload");
    let default = dir.write(
        "default.pem",
        std::fs::read(pki.path("default.pem")).unwrap(),
    );
    let list = dir.write("list.txt", format!("{}\n", default.display()));
    let l = list.display().to_string();
    let wild = dir.path().join("wild.pem").display().to_string();
    let port = free_port();
    let mut g = Gatehouse::start(&cfg(port, &list), &[port]);
    let sock = g.dir().join("admin.sock");
    let pem = std::fs::read_to_string(pki.path("wild.pem")).unwrap();
    for (cmd, want) in [
        (
            format!("new ssl cert {wild}"),
            format!("New empty certificate store '{wild}'!\n\n"),
        ),
        (
            format!("set ssl cert {wild} <<\n{}\n", pem.trim_end()),
            format!("Transaction created for certificate {wild}!\n\n"),
        ),
        (
            format!("commit ssl cert {wild}"),
            format!("Committing {wild}\nSuccess!\n\n"),
        ),
        (
            format!("add ssl crt-list {l} {wild}"),
            format!("Inserting certificate '{wild}' in crt-list '{l}'.\nSuccess!\n\n"),
        ),
    ] {
        assert_eq!(unix_cmd(&sock, &cmd), want, "{cmd}");
    }
    assert_eq!(
        served_cn(port, "x.wild.test").as_deref(),
        Some("*.wild.test")
    );
    // The list file was not written: the reload's new worker serves it as written.
    g.reload_in_place();
    assert!(wait_until(Duration::from_secs(5), || unix_cmd(
        &sock,
        &format!("show ssl crt-list {l}")
    ) == format!(
        "# {l}\n{}\n\n",
        default.display()
    )));
    assert_eq!(
        served_cn(port, "x.wild.test").as_deref(),
        Some("default.test")
    );
    assert_eq!(
        unix_cmd(&sock, "show ssl cert"),
        format!("# filename\n{}\n\n", default.display())
    );
}

#[test]
fn a_crt_directory_is_a_crt_list_whose_lines_take_no_options_as_in_haproxy() {
    let pki = Pki::get();
    let dir = TempDir::new("admin-ssl-crt-dir");
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    for f in ["00-default.pem", "10-site.pem"] {
        std::fs::copy(pki.path(&format!("certs/{f}")), certs.join(f)).unwrap();
    }
    let d = certs.display().to_string();
    let wild = certs.join("30-wild.pem").display().to_string();
    let cfg = |port: u16, hport: u16| {
        format!(
            "global\n  stats socket unix@admin.sock level admin\n\
             defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
             frontend f\n  bind 127.0.0.1:{port} ssl crt {d}\n  bind 127.0.0.1:{hport} ssl crt {d}/\n  \
             http-request return status 200 content-type text/plain string ok\n"
        )
    };
    let (p1, p2, h1, h2) = (free_port(), free_port(), free_port(), free_port());
    let g = Gatehouse::start(&cfg(p1, p2), &[p1, p2]);
    let h = Haproxy::start(&cfg(h1, h2), &[h1, h2]);
    let pem = std::fs::read_to_string(pki.path("wild.pem")).unwrap();
    let both = |cmd: String| {
        let a = unix_cmd(&g.dir().join("admin.sock"), &cmd);
        let b = unix_cmd(&h.dir().join("admin.sock"), &cmd);
        assert_eq!(without_cfg_name(&a), without_cfg_name(&b), "{cmd}");
        a
    };
    both("show ssl crt-list".into());
    both(format!("show ssl crt-list -n {d}/"));
    both(format!("new ssl cert {wild}"));
    both(format!("set ssl cert {wild} <<\n{}\n", pem.trim_end()));
    both(format!("commit ssl cert {wild}"));
    both(format!("add ssl crt-list {d} <<\n{wild} [verify none]\n"));
    // A directory's line names a file of it.
    both(format!("add ssl crt-list {d} 30-wild.pem"));
    both(format!("add ssl crt-list {d} /elsewhere/30-wild.pem"));
    // One dot per bind loading the directory.
    assert_eq!(
        both(format!("add ssl crt-list {d}/ {wild}")),
        format!("Inserting certificate '{wild}' in crt-list '{d}'..\nSuccess!\n\n")
    );
    assert_eq!(
        both(format!("show ssl crt-list -n {d}")),
        format!("# {d}\n{d}/00-default.pem:0\n{d}/10-site.pem:0\n{wild}:1\n\n")
    );
    for p in [p1, p2, h1, h2] {
        assert_eq!(served_cn(p, "a.wild.test").as_deref(), Some("*.wild.test"));
    }
    both(format!("del ssl crt-list {d} {d}/00-default.pem"));
    both(format!("del ssl crt-list {d} {wild}"));
    for p in [p1, p2, h1, h2] {
        assert_eq!(served_cn(p, "a.wild.test").as_deref(), Some("default.test"));
    }
}

#[test]
fn a_relative_certificate_added_to_a_crt_list_is_under_crt_base_as_in_haproxy() {
    let pki = Pki::get();
    let dir = TempDir::new("admin-ssl-crt-list-base");
    for f in ["default.pem", "site.pem"] {
        dir.write(f, std::fs::read(pki.path(f)).unwrap());
    }
    let base = dir.path().display().to_string();
    // The list's lines are relative to crt-base; HAProxy joins "%s/%s", so a base
    // ending in a slash shows a double one.
    let list = dir.write(
        "list.txt",
        "default.pem\nsite.pem [verify none] www.site.test\n",
    );
    let l = list.display().to_string();
    let cfg = |port: u16| {
        cfg(port, &list).replacen("global\n", &format!("global\n  crt-base {base}/\n"), 1)
    };
    let wild = format!("{base}//wild.pem");
    let wild_pem = std::fs::read_to_string(pki.path("wild.pem")).unwrap();
    let port = free_port();
    let g = Gatehouse::start(&cfg(port), &[port]);
    let hport = free_port();
    let h = Haproxy::start(&cfg(hport), &[hport]);
    // The stats socket may come up after the frontend's port.
    for d in [g.dir(), h.dir()] {
        assert!(wait_until(Duration::from_secs(20), || !unix_cmd(
            &d.join("admin.sock"),
            "show ssl crt-list"
        )
        .is_empty()));
    }
    let both = |cmd: &str, payload: Option<&str>| {
        let input = match payload {
            Some(p) => format!("{cmd} <<\n{}\n", p.trim_end()),
            None => cmd.to_owned(),
        };
        let a = unix_cmd(&g.dir().join("admin.sock"), &input);
        let b = unix_cmd(&h.dir().join("admin.sock"), &input);
        assert_eq!(without_cfg_name(&a), without_cfg_name(&b), "{cmd}");
        a
    };
    assert_eq!(
        both(&format!("show ssl crt-list -n {l}"), None),
        format!("# {l}\n{base}//default.pem:1\n{base}//site.pem:2 [verify none] www.site.test\n\n")
    );
    both(&format!("new ssl cert {wild}"), None);
    both(&format!("set ssl cert {wild}"), Some(&wild_pem));
    both(&format!("commit ssl cert {wild}"), None);
    // A store named as written is not the one a relative line means.
    both("new ssl cert wild.pem", None);
    both("set ssl cert wild.pem", Some(&wild_pem));
    both("commit ssl cert wild.pem", None);
    assert_eq!(
        both(&format!("add ssl crt-list {l} wild.pem"), None),
        format!("Inserting certificate '{wild}' in crt-list '{l}'.\nSuccess!\n\n")
    );
    for p in [port, hport] {
        assert_eq!(served_cn(p, "x.wild.test").as_deref(), Some("*.wild.test"));
    }
    both(
        &format!("add ssl crt-list {l}"),
        Some("wild.pem [verify none] y.wild.test"),
    );
    assert_eq!(
        both(&format!("show ssl crt-list -n {l}"), None),
        format!(
            "# {l}\n{base}//default.pem:1\n{base}//site.pem:2 [verify none] www.site.test\n\
             {wild}:3\n{wild}:4 [verify none] y.wild.test\n\n"
        )
    );
    both("show ssl cert", None);
    // `del` takes the name as stored: the relative one is another certificate.
    both(&format!("del ssl crt-list {l} wild.pem"), None);
    both(&format!("del ssl crt-list {l} {wild}:3"), None);
    assert!(
        both(&format!("del ssl crt-list {l} {wild}"), None).starts_with("Entry '"),
        "the last line of it goes"
    );
    for p in [port, hport] {
        assert_eq!(served_cn(p, "x.wild.test").as_deref(), Some("default.test"));
    }
    both(&format!("show ssl crt-list {l}"), None);
}
