//! The protocol checks as prebuilt rule sets for the one engine, as HAProxy builds them
//! in `tcpcheck.c`: `option redis-check`, `smtpchk`, `pgsql-check`, `mysql-check`,
//! `ldap-check` and `ssl-hello-chk` are connect/send/expect rules; MySQL and LDAP add
//! the answer parsers a pattern cannot express ([`judge`]).

use super::rule::{Custom, Expect, Info, Pattern, Rule, c_string};
use crate::runtime::health::CheckStatus;

fn send(data: impl Into<Vec<u8>>) -> Rule {
    Rule::Send {
        data: data.into(),
        comment: None,
    }
}

fn expect(e: Expect) -> Rule {
    Rule::Expect(Box::new(e))
}

fn regex(p: &str) -> regex::bytes::Regex {
    // The patterns below are constants known to compile.
    regex::bytes::Regex::new(p).unwrap_or_else(|_| unreachable!("constant regex {p}"))
}

fn payload(offset: usize, ltrim: bool) -> Info {
    Info::Payload {
        offset,
        ltrim,
        cut_crlf: true,
    }
}

/// `option redis-check`: `PING`, expect `+PONG`.
pub fn redis() -> Vec<Rule> {
    let mut e = Expect::new(Pattern::String(b"+PONG\r\n".to_vec()));
    e.error_status = Some(CheckStatus::L7Sts);
    e.on_error = Some(payload(0, false));
    e.on_success = Some(Info::Text("Redis server is ok".into()));
    vec![send(&b"*1\r\n$4\r\nPING\r\n"[..]), expect(e)]
}

/// `option smtpchk [HELO|EHLO domain]`: the banner, the greeting, `QUIT`.
pub fn smtp(verb: &str, domain: &str) -> Vec<Rule> {
    let mut banner = Expect::new(Pattern::Regex(regex("^[0-9]{3}[ \r]")));
    banner.min_recv = Some(4);
    banner.error_status = Some(CheckStatus::L7Rsp);
    banner.on_error = Some(payload(0, false));
    let coded = |re: &str, min: Option<usize>, success: bool| {
        let mut e = Expect::new(Pattern::Regex(regex(re)));
        e.min_recv = min;
        e.error_status = Some(CheckStatus::L7Sts);
        e.on_error = Some(payload(4, true));
        if success {
            e.on_success = Some(payload(4, true));
        }
        e.status_code = true;
        e
    };
    vec![
        // HAProxy's `connect default linger`.
        Rule::default_connect(true),
        expect(banner),
        expect(coded("^2[0-9]{2}[ \r]", Some(4), false)),
        send(format!("{verb} {domain}\r\n")),
        expect(coded("^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]", None, true)),
        send(&b"QUIT\r\n"[..]),
        expect(coded("^2[0-9]{2}[- \r]", Some(4), true)),
    ]
}

/// `option pgsql-check user NAME`: a startup message; an authentication request or
/// OK is up, an error message down.
pub fn pgsql(user: &str) -> Vec<Rule> {
    let mut msg = Vec::new();
    msg.extend_from_slice(&((15 + user.len()) as u32).to_be_bytes());
    msg.extend_from_slice(&[0, 3, 0, 0]);
    msg.extend_from_slice(b"user\0");
    msg.extend_from_slice(user.as_bytes());
    msg.extend_from_slice(&[0, 0]);
    let mut not_error = Expect::new(Pattern::Regex(regex("^E")));
    not_error.inverse = true;
    not_error.min_recv = Some(5);
    not_error.error_status = Some(CheckStatus::L7Rsp);
    not_error.on_error = Some(Info::Payload {
        offset: 6,
        ltrim: false,
        cut_crlf: false,
    });
    let mut auth = Expect::new(Pattern::BinaryRegex(
        regex::Regex::new("^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)")
            .unwrap_or_else(|_| unreachable!("constant regex")),
    ));
    auth.min_recv = Some(9);
    auth.error_status = Some(CheckStatus::L7Sts);
    auth.on_success = Some(Info::Text("PostgreSQL server is ok".into()));
    auth.on_error = Some(Info::Text("PostgreSQL unknown error".into()));
    vec![
        // HAProxy's `connect default linger`.
        Rule::default_connect(true),
        send(msg),
        expect(not_error),
        expect(auth),
    ]
}

/// `option mysql-check [user NAME [post-41|pre-41]]`: reads the handshake; with a user,
/// logs in without a password and quits.
pub fn mysql(user: Option<&str>, post41: bool) -> Vec<Rule> {
    let mut rules = vec![Rule::default_connect(true)];
    if let Some(user) = user {
        let body_len = user.len() + if post41 { 7 + 27 } else { 7 };
        let mut p = vec![
            (body_len & 0xff) as u8,
            ((body_len >> 8) & 0xff) as u8,
            ((body_len >> 16) & 0xff) as u8,
            1,
        ];
        if post41 {
            p.extend_from_slice(&[0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21]);
            p.extend_from_slice(&[0; 23]);
        } else {
            p.extend_from_slice(&[0x00, 0x80, 0x00, 0x00, 0x01]);
        }
        p.extend_from_slice(user.as_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&[1, 0, 0, 0, 1]);
        rules.push(send(p));
    }
    rules.push(expect(Expect::new(Pattern::Custom(Custom::MysqlHandshake))));
    if user.is_some() {
        rules.push(expect(Expect::new(Pattern::Custom(Custom::MysqlOk))));
    }
    rules
}

/// `option ldap-check`: an anonymous bind; result code 0 is up.
pub fn ldap() -> Vec<Rule> {
    let mut ber = Expect::new(Pattern::BinaryRegex(
        regex::Regex::new("^30").unwrap_or_else(|_| unreachable!("constant regex")),
    ));
    ber.min_recv = Some(14);
    ber.on_error = Some(Info::Text("Not LDAPv3 protocol".into()));
    vec![
        send(&b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00"[..]),
        expect(ber),
        expect(Expect::new(Pattern::Custom(Custom::LdapBind))),
    ]
}

/// `option ssl-hello-chk`: an SSLv3 client hello; a handshake or alert record is up.
pub fn ssl_hello() -> Vec<Rule> {
    let mut h = Vec::new();
    h.extend_from_slice(&[
        0x16, 0x03, 0x00, 0x00, 0x79, 0x01, 0x00, 0x00, 0x75, 0x03, 0x00,
    ]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    h.extend_from_slice(&now.to_be_bytes());
    h.extend_from_slice(b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n");
    h.extend_from_slice(&[0x00, 0x00, 0x4e]);
    for c in (0x01u16..=0x1b).chain(0x2f..=0x3a) {
        h.extend_from_slice(&c.to_be_bytes());
    }
    h.extend_from_slice(&[0x01, 0x00]);
    let mut e = Expect::new(Pattern::BinaryRegex(
        regex::Regex::new("^1[56]").unwrap_or_else(|_| unreachable!("constant regex")),
    ));
    e.min_recv = Some(5);
    e.ok_status = Some(CheckStatus::L6Ok);
    e.error_status = Some(CheckStatus::L6Rsp);
    e.tout_status = Some(CheckStatus::L6Timeout);
    vec![send(h), expect(e)]
}

/// What a custom parser makes of the answer.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Not enough data yet.
    Wait,
    /// The step passed; the info to report if it is the last one.
    Pass(String),
    /// The step failed.
    Fail {
        /// The status.
        status: CheckStatus,
        /// The info.
        info: String,
        /// The protocol's code.
        code: Option<u32>,
    },
}

fn mysql_packet(buf: &[u8], offset: usize, last: bool) -> Verdict {
    let truncated = |last| {
        if last {
            Verdict::Fail {
                status: CheckStatus::L7Rsp,
                info: String::new(),
                code: None,
            }
        } else {
            Verdict::Wait
        }
    };
    let Some(h) = buf.get(offset..offset + 4) else {
        return truncated(last);
    };
    let plen = h[0] as usize | (h[1] as usize) << 8 | (h[2] as usize) << 16;
    if buf.len() < offset + plen + 4 {
        return truncated(last);
    }
    if buf.get(offset + 4) == Some(&0xff) {
        let code = buf.get(offset + 5).copied().unwrap_or(0) as u32
            | (buf.get(offset + 6).copied().unwrap_or(0) as u32) << 8;
        return Verdict::Fail {
            status: CheckStatus::L7Sts,
            info: c_string(buf.get(offset + 7..).unwrap_or_default()),
            code: Some(code),
        };
    }
    Verdict::Pass(c_string(buf.get(5..).unwrap_or_default()))
}

/// Judges the answer `buf` (everything received since the last send) with a custom
/// parser; `last`: the server closed or the buffer is full.
pub fn judge(c: Custom, buf: &[u8], last: bool) -> Verdict {
    match c {
        Custom::MysqlHandshake => mysql_packet(buf, 0, last),
        Custom::MysqlOk => {
            let Some(h) = buf.get(..3) else {
                return mysql_packet(buf, 0, last);
            };
            let hs = 4 + (h[0] as usize | (h[1] as usize) << 8 | (h[2] as usize) << 16);
            mysql_packet(buf, hs, last)
        }
        Custom::LdapBind => ldap_bind(buf, last),
        Custom::AgentLine => super::agent::judge_line(buf, last),
    }
}

fn ldap_bind(buf: &[u8], last: bool) -> Verdict {
    let fail = |status, info: &str, code| Verdict::Fail {
        status,
        info: info.into(),
        code,
    };
    let short = || {
        if last {
            fail(CheckStatus::L7Rsp, "", None)
        } else {
            Verdict::Wait
        }
    };
    let not_ldap = || fail(CheckStatus::L7Rsp, "Not LDAPv3 protocol", None);
    let mut p = 1;
    let Some(&l) = buf.get(p) else {
        return short();
    };
    let mut n = 0usize;
    let msglen = if l & 0x80 != 0 {
        n = (l & 0x7f) as usize;
        match (n, buf.get(p + 1..p + 1 + n)) {
            (_, None) => return short(),
            (4, Some(b)) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
            (2, Some(b)) => u16::from_be_bytes([b[0], b[1]]) as usize,
            _ => return not_ldap(),
        }
    } else {
        l as usize
    };
    p += 1 + n;
    if buf.len() < p + msglen {
        return short();
    }
    if buf.get(p..p + 4) != Some(b"\x02\x01\x01\x61") {
        return not_ldap();
    }
    p += 4;
    let n = match buf.get(p) {
        Some(b) if b & 0x80 != 0 => (b & 0x7f) as usize,
        _ => 0,
    };
    if buf.len() < p + 1 + n + 3 {
        return short();
    }
    p += 1 + n;
    if buf.get(p..p + 2) != Some(b"\x0a\x01") {
        return not_ldap();
    }
    let code = buf[p + 2] as u32;
    if code != 0 {
        return fail(
            CheckStatus::L7Sts,
            "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9",
            Some(code),
        );
    }
    Verdict::Pass("Success".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_error_packets_give_the_code_and_message() {
        let mut b = vec![10, 0, 0, 0, 10];
        b.extend_from_slice(b"10.11\0abcd");
        let hs_len = b.len() - 4;
        b[0] = hs_len as u8;
        let err = b"\xff\x15\x04#28000Access denied";
        b.extend_from_slice(&[err.len() as u8, 0, 0, 2]);
        b.extend_from_slice(err);
        assert_eq!(
            judge(Custom::MysqlHandshake, &b, false),
            Verdict::Pass("10.11".into())
        );
        assert_eq!(
            judge(Custom::MysqlOk, &b, false),
            Verdict::Fail {
                status: CheckStatus::L7Sts,
                info: "#28000Access denied".into(),
                code: Some(1045)
            }
        );
        assert_eq!(
            judge(Custom::MysqlOk, &b[..b.len() - 3], false),
            Verdict::Wait
        );
    }

    #[test]
    fn ldap_bind_results_are_read() {
        let ok = b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00";
        assert_eq!(
            judge(Custom::LdapBind, ok, false),
            Verdict::Pass("Success".into())
        );
        let mut bad = ok.to_vec();
        bad[9] = 49;
        assert!(matches!(
            judge(Custom::LdapBind, &bad, false),
            Verdict::Fail { code: Some(49), .. }
        ));
    }
}
