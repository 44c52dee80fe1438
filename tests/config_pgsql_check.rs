//! The configuration of role-aware PostgreSQL checks and of the session shutdowns that
//! go with them: `option pgsql-check user NAME [credentials NAME] [role
//! primary|replica|any] [database DB]` (HAProxy's `user NAME` form unchanged) and the
//! server keywords `on-marked-down shutdown-sessions` / `on-marked-up
//! shutdown-backup-sessions`, whose errors are worded as haproxy 2.6.12 words them.

use gatehouse::config::Loaded;
use gatehouse::config::model::{CheckKind, PgsqlRole};
use gatehouse::load::load_sources;

fn load(text: &str) -> Loaded {
    load_sources(&[("t.cfg".to_string(), text.to_string())], &|_| None)
}

const HEAD: &str = "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
credentials checker\n    user checker\n    password s3cret\n";

/// The alerts of `body` after [`HEAD`] (8 lines), as `line: message`.
fn alerts(body: &str) -> Vec<String> {
    let l = load(&format!("{HEAD}{body}"));
    l.diags
        .iter()
        .filter(|d| d.is_alert())
        .map(|d| format!("{}: {}", d.span.as_ref().map_or(0, |s| s.line), d.message))
        .collect()
}

#[test]
fn the_extension_is_parsed_and_haproxys_form_is_unchanged() {
    let l = load(&format!(
        "{HEAD}backend a\n    option pgsql-check user checker\n    server s 127.0.0.1:5432 check\n\
         backend b\n    option pgsql-check user checker credentials checker role replica database shop\n    server s 127.0.0.1:5432 check\n"
    ));
    assert!(l.diags.iter().all(|d| !d.is_alert()), "{:?}", l.diags);
    let config = l.config;
    let kind = |name: &str| {
        config
            .proxies
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .check
            .kind
            .clone()
    };
    assert!(matches!(kind("a"), CheckKind::Pgsql { ref user, login: None } if user == "checker"));
    let CheckKind::Pgsql {
        login: Some(login), ..
    } = kind("b")
    else {
        panic!("no login");
    };
    assert_eq!(login.credentials.as_deref(), Some("checker"));
    assert_eq!(login.role, PgsqlRole::Replica);
    assert_eq!(login.database.as_deref(), Some("shop"));
}

#[test]
fn wrong_pgsql_check_lines_are_refused_at_their_line() {
    let cases = [
        (
            "backend b\n    option pgsql-check user checker role leader\n",
            "10: 'role' expects 'primary', 'replica' or 'any' (got 'leader').",
        ),
        (
            "backend b\n    option pgsql-check user checker credentials\n",
            "10: 'credentials' expects an argument.",
        ),
        (
            "backend b\n    option pgsql-check user checker timeout 3\n",
            "10: cannot handle unexpected argument 'timeout'.",
        ),
        (
            "backend b\n    option pgsql-check role primary\n",
            "10: expects 'user <username>' as argument.",
        ),
        (
            "backend b\n    option pgsql-check user checker credentials nope role primary\n    server s 127.0.0.1:5432 check\n",
            "10: backend 'b' : 'option pgsql-check' : unknown credentials 'nope'.",
        ),
        (
            "backend b\n    option pgsql-check user monitor credentials checker\n    server s 127.0.0.1:5432 check\n",
            "10: backend 'b' : 'option pgsql-check' : user 'monitor' is not the user 'checker' of credentials 'checker'.",
        ),
    ];
    for (body, want) in cases {
        let got = alerts(body);
        assert!(
            got.iter()
                .any(|a| a.ends_with(want.split_once(": ").unwrap().1)
                    && a.starts_with(want.split_once(": ").unwrap().0)),
            "{body}\nwant {want}\ngot {got:?}"
        );
    }
}

#[test]
fn on_marked_keywords_take_their_one_action_as_haproxy_says() {
    let ok = alerts(
        "backend b\n    server s1 127.0.0.1:1 check on-marked-down shutdown-sessions\n\
         \x20   server s2 127.0.0.1:2 check on-marked-up shutdown-backup-sessions\n",
    );
    assert!(ok.is_empty(), "{ok:?}");
    // haproxy 2.6.12 -c on the same lines.
    let got = alerts(
        "backend b\n    server s1 127.0.0.1:1 on-marked-down foo\n\
         \x20   server s2 127.0.0.1:1 on-marked-up bar\n\
         \x20   server s3 127.0.0.1:1 on-marked-down\n",
    );
    let want = [
        "10: 'server b/s1' : 'on-marked-down' expects 'shutdown-sessions' but got 'foo'.",
        "11: 'server b/s2' : 'on-marked-up' expects 'shutdown-backup-sessions' but got 'bar'.",
        "12: 'server b/s3' : 'on-marked-down' expects 'shutdown-sessions' but got ''.",
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        // gatehouse names the section too, as for every server option.
        let (line_and_who, haproxys) = w.split_once(" : ").unwrap();
        assert!(
            g.starts_with(line_and_who) && g.ends_with(haproxys),
            "{g} is not {w}"
        );
    }
}
