//! Runs one check: the rule set's connect, send and expect steps over one connection
//! (or several, with more than one `connect`), within the check's timeouts, and turns
//! what happened into HAProxy's status, code and info (`tcpcheck_main`,
//! `chk_report_conn_err`).

use super::conn::{self, Conn, Sent};
use super::http;
use super::proto::{self, Verdict};
use super::rule::{ConnectTls, Expect, Pattern, Rule, hex_upper};
use super::tls::CheckTls;
use crate::runtime::health::{CheckResult, CheckStatus};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::time::timeout_at;

/// The most bytes of an answer a check keeps (`tune.bufsize`'s default): a full
/// buffer counts as the end of the answer.
const BUFSIZE: usize = 16384;

/// Which messages a rule set reports, as HAProxy tells its rule sets apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// A plain connect check (no `option …chk`).
    Connect,
    /// `option tcp-check`: generic messages with step numbers, "(tcp-check)".
    Tcp,
    /// `option httpchk`: expect steps read an HTTP response.
    Http,
    /// A protocol check (`redis-check`, `pgsql-check`…): its own messages only.
    Proto,
}

/// A compiled rule set.
#[derive(Clone, Debug)]
pub struct RuleSet {
    /// The steps.
    pub rules: Vec<Rule>,
    /// How results are worded.
    pub flavor: Flavor,
}

/// Where a check connects.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Address and port (`addr`, `port`, else the server's).
    pub addr: SocketAddr,
    /// A unix socket server's path.
    pub unix: Option<PathBuf>,
    /// `check-ssl`: the TLS layer of the default connection.
    pub tls: Option<CheckTls>,
    /// The TLS layers of `connect … ssl` steps, by step index.
    pub rule_tls: Vec<(usize, CheckTls)>,
    /// The address is the server's (no `addr`, `agent-addr`): it follows the server's
    /// runtime address (`set server B/S addr`).
    pub follow_ip: bool,
    /// The port is the server's (no `port`): it follows the server's runtime port.
    pub follow_port: bool,
    /// Whether HTTP checks speak HTTP/2 (`check-proto`, `proto`, ALPN).
    pub h2: super::h2::Use,
}

impl Target {
    /// This target once the server's address was changed at runtime to `current`:
    /// the parts taken from the server follow it, as HAProxy's checks do.
    pub fn at(&self, current: Option<SocketAddr>) -> std::borrow::Cow<'_, Target> {
        let Some(cur) = current.filter(|_| self.unix.is_none()) else {
            return std::borrow::Cow::Borrowed(self);
        };
        let mut addr = self.addr;
        if self.follow_ip {
            addr.set_ip(cur.ip());
        }
        if self.follow_port {
            addr.set_port(cur.port());
        }
        if addr == self.addr {
            return std::borrow::Cow::Borrowed(self);
        }
        std::borrow::Cow::Owned(Target {
            addr,
            ..self.clone()
        })
    }
}

/// The time limits of one check (HAProxy 2.6: without `timeout check`, `inter` bounds
/// the whole check; with it, connecting gets min(`timeout connect`, `inter`) and the
/// rest gets `timeout check`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// `inter`.
    pub inter: Duration,
    /// `timeout connect`.
    pub connect: Option<Duration>,
    /// `timeout check`.
    pub check: Option<Duration>,
}

/// The system's text for an error (`strerror`), as HAProxy prints it.
fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            // SAFETY: strerror returns a pointer to a static NUL-terminated string.
            let s = unsafe { std::ffi::CStr::from_ptr(libc::strerror(n)) };
            s.to_string_lossy().into_owned()
        }
        None => e.to_string(),
    }
}

/// What went wrong, before it is worded.
struct Failure {
    status: CheckStatus,
    info: String,
    code: Option<u32>,
}

/// A plain TCP connection whose handshake is not confirmed yet ([`conn::start_tcp`]).
struct Pending {
    /// The connect step's limit.
    until: Instant,
    /// The connect step (for the failure's wording).
    step: usize,
    /// `timeout check`: the rest's limit, from the connection on.
    check: Option<Duration>,
}

/// The state of one run.
struct Run<'a> {
    set: &'a RuleSet,
    conn: Option<Conn>,
    /// The connection's handshake is still to be confirmed.
    pending: Option<Pending>,
    /// Writes made on the connection so far.
    writes: usize,
    buf: Vec<u8>,
    eof: bool,
    /// The step being run (1-based position; 0: the implicit first connect).
    step: usize,
    deadline: Instant,
    /// `inter`: the checks' start grid, at whose next step an unregistered
    /// connection's answer is looked for ([`Conn::Raw`]).
    inter: Duration,
    code: Option<u32>,
}

/// Runs `set` against `target` within `limits`.
pub async fn run(set: &RuleSet, target: &Target, limits: &Limits) -> CheckResult {
    let start = Instant::now();
    let mut r = Run {
        set,
        conn: None,
        pending: None,
        writes: 0,
        buf: Vec::new(),
        eof: false,
        step: 0,
        deadline: start + limits.inter,
        inter: limits.inter,
        code: None,
    };
    let outcome = r.all(target, limits, start).await;
    let (status, info, code) = match outcome {
        Ok((status, info)) => (status, info, r.code),
        Err(f) => (f.status, f.info, f.code.or(r.code)),
    };
    CheckResult {
        status,
        code,
        info,
        duration: start.elapsed(),
    }
}

impl Run<'_> {
    /// Runs every step; the passing status and info, or the failure.
    async fn all(
        &mut self,
        target: &Target,
        limits: &Limits,
        start: Instant,
    ) -> Result<(CheckStatus, String), Failure> {
        let rules = &self.set.rules;
        let implicit = !matches!(
            rules.iter().find(|r| !matches!(r, Rule::Comment)),
            Some(Rule::Connect { .. })
        );
        if implicit {
            self.connect(target, None, target.tls.as_ref(), false, limits, start)
                .await?;
        }
        let mut last: Option<&Rule> = None;
        let mut success_info = None;
        for (i, rule) in rules.iter().enumerate() {
            if matches!(rule, Rule::Comment) {
                continue;
            }
            // A plain request right after the connect confirms the connection by
            // going out; any other step waits for the handshake first.
            let eager = matches!(rule, Rule::Send { .. }) && !self.speaks_h2(target);
            if !eager {
                self.confirm().await?;
            }
            self.step = i + 1;
            match rule {
                Rule::Comment => continue,
                Rule::Connect {
                    port, tls, linger, ..
                } => {
                    let tls = match tls {
                        ConnectTls::Default => target.tls.as_ref(),
                        ConnectTls::Raw => None,
                        ConnectTls::Ssl { .. } => target
                            .rule_tls
                            .iter()
                            .find(|(j, _)| *j == i)
                            .map(|(_, t)| t),
                    };
                    self.connect(target, *port, tls, *linger, limits, start)
                        .await?;
                }
                Rule::Send { data, .. } if !eager => {
                    self.buf.clear();
                    self.eof = true;
                    let Some(c) = self.conn.take() else {
                        return Err(self.fail(CheckStatus::SockErr, String::new()));
                    };
                    c.nodelay();
                    let x = super::h2::exchange(c, data, BUFSIZE);
                    match timeout_at(self.deadline.into(), x).await {
                        Ok(Ok(answer)) => self.buf = answer,
                        Ok(Err(super::h2::Failed::Io(e))) => {
                            return Err(self.fail(CheckStatus::SockErr, strerror(&e)));
                        }
                        // As HAProxy: a connection that is not HTTP/2 is a socket error.
                        Ok(Err(super::h2::Failed::Protocol)) => {
                            return Err(self.fail(CheckStatus::SockErr, String::new()));
                        }
                        Err(_) => return Err(self.timeout(None)),
                    }
                }
                Rule::Send { data, .. } => {
                    self.buf.clear();
                    self.eof = false;
                    let data = self.send_first(data).await?;
                    let Some(c) = self.conn.as_mut() else {
                        return Err(self.fail(CheckStatus::SockErr, String::new()));
                    };
                    if self.writes > 0 {
                        c.nodelay();
                    }
                    self.writes += 1;
                    if data.is_empty() {
                        last = Some(rule);
                        continue;
                    }
                    match timeout_at(self.deadline.into(), c.write_all(data)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return Err(self.fail(CheckStatus::SockErr, strerror(&e))),
                        Err(_) => return Err(self.timeout(None)),
                    }
                }
                Rule::Expect(e) => success_info = self.expect(e).await?,
                Rule::Pgsql(step) => success_info = Some(self.pgsql(step, target).await?),
            }
            last = Some(rule);
        }
        self.confirm().await?;
        let tcp = self.set.flavor == Flavor::Tcp;
        // A connection that ends the check over TLS is a layer-6 success.
        let l4 = if matches!(self.conn, Some(Conn::Tls(_))) {
            CheckStatus::L6Ok
        } else {
            CheckStatus::L4Ok
        };
        Ok(match last {
            None => (l4, String::new()),
            Some(Rule::Connect { .. }) => (
                l4,
                if tcp {
                    "(tcp-check)".into()
                } else {
                    String::new()
                },
            ),
            Some(Rule::Expect(e)) => (
                e.ok_status.unwrap_or(CheckStatus::L7Ok),
                match (&e.on_success, success_info) {
                    (Some(i), _) => i.render(&self.buf),
                    (None, Some(i)) => i,
                    (None, None) if tcp => "(tcp-check)".into(),
                    _ => String::new(),
                },
            ),
            Some(Rule::Pgsql(_)) => (CheckStatus::L7Ok, success_info.unwrap_or_default()),
            Some(_) => (CheckStatus::L7Ok, "(tcp-check)".into()),
        })
    }

    /// An HTTP check's request goes as HTTP/2 on the current connection.
    fn speaks_h2(&self, target: &Target) -> bool {
        use super::h2::Use;
        if self.set.flavor != Flavor::Http {
            return false;
        }
        match target.h2 {
            Use::Never => false,
            Use::Always => self.conn.is_some(),
            Use::Alpn => match &self.conn {
                Some(Conn::Tls(s)) => s.get_ref().1.alpn_protocol() == Some(b"h2"),
                _ => false,
            },
        }
    }

    fn fail(&self, status: CheckStatus, what: String) -> Failure {
        Failure {
            status,
            info: format!("{what}{}", self.where_()),
            code: None,
        }
    }

    /// HAProxy's " at step N of tcp-check (…)" suffix, for `tcp-check` rule sets only.
    fn where_(&self) -> String {
        if self.set.flavor != Flavor::Tcp {
            return String::new();
        }
        if self.step == 0 {
            return " at initial connection step of tcp-check".into();
        }
        let mut s = format!(" at step {} of tcp-check", self.step);
        let rule = self.set.rules.get(self.step - 1);
        match rule {
            Some(Rule::Connect { port: Some(p), .. }) => {
                s.push_str(&format!(" (connect port {p})"))
            }
            Some(Rule::Connect { .. }) => s.push_str(" (connect)"),
            Some(Rule::Send { .. }) => s.push_str(" (send)"),
            Some(Rule::Expect(e)) => s.push_str(&match &e.pattern {
                Pattern::String(p) => format!(" (expect string '{}')", String::from_utf8_lossy(p)),
                Pattern::Binary(p) => format!(" (expect binary '{}')", hex_upper(p)),
                Pattern::Regex(_) => " (expect regex)".into(),
                Pattern::BinaryRegex(_) => " (expect binary regex)".into(),
                _ => " (expect custom function)".into(),
            }),
            _ => {}
        }
        let comment = match rule {
            Some(Rule::Connect { comment, .. }) | Some(Rule::Send { comment, .. }) => comment,
            Some(Rule::Expect(e)) => &e.comment,
            _ => &None,
        };
        if let Some(c) = comment {
            s.push_str(&format!(" comment: '{c}'"));
        }
        s
    }

    fn timeout(&self, e: Option<&Expect>) -> Failure {
        let st = e
            .and_then(|e| e.tout_status)
            .unwrap_or(CheckStatus::L7Timeout);
        self.fail(st, String::new())
    }

    /// Opens a connection (on `port` instead of the target's), over `tls` if given;
    /// without `linger` it will end with a reset, as HAProxy ends check connections
    /// (no TIME_WAIT left per check). A plain TCP connection is left unconfirmed
    /// ([`Pending`]): the next step confirms it.
    async fn connect(
        &mut self,
        target: &Target,
        port: Option<u16>,
        tls: Option<&CheckTls>,
        linger: bool,
        limits: &Limits,
        start: Instant,
    ) -> Result<(), Failure> {
        self.conn = None;
        self.pending = None;
        self.writes = 0;
        self.buf.clear();
        self.eof = false;
        let limit = match limits.check {
            Some(_) => limits.connect.map_or(limits.inter, |c| c.min(limits.inter)),
            None => limits.inter.saturating_sub(start.elapsed()),
        };
        let until = Instant::now() + limit;
        // As HAProxy: the handshake's last ACK is delayed (to go with the first write)
        // unless the server speaks first (the next step reads).
        let delack = !matches!(
            self.set.rules[self.step..]
                .iter()
                .find(|r| !matches!(r, Rule::Comment)),
            Some(Rule::Expect(_))
        );
        let fut = async {
            match &target.unix {
                Some(p) => tokio::net::UnixStream::connect(p).await.map(Conn::Unix),
                None => {
                    let mut a = target.addr;
                    if let Some(p) = port {
                        a.set_port(p);
                    }
                    let s = conn::start_tcp(a, linger, delack)?;
                    if tls.is_none() {
                        return Ok(Conn::Raw(Some(s)));
                    }
                    let s = tokio::net::TcpStream::from_std(s)?;
                    let _ = s.set_nodelay(true);
                    conn::confirm(&s).await?;
                    Ok(Conn::Tcp(s))
                }
            }
        };
        let conn = match timeout_at(until.into(), fut).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(self.fail(CheckStatus::L4Con, strerror(&e))),
            Err(_) => return Err(self.fail(CheckStatus::L4Timeout, String::new())),
        };
        self.conn = Some(match (conn, tls) {
            (Conn::Tcp(s), Some(tls)) => {
                match timeout_at(until.into(), tls.handshake(s, target.addr)).await {
                    Ok(Ok(s)) => Conn::Tls(Box::new(s)),
                    Ok(Err(e)) => {
                        let info = super::tls::failure_info(&e).to_owned();
                        return Err(self.fail(CheckStatus::L6Rsp, info));
                    }
                    Err(_) => return Err(self.fail(CheckStatus::L6Timeout, String::new())),
                }
            }
            (c @ Conn::Raw(_), None) => {
                self.pending = Some(Pending {
                    until,
                    step: self.step,
                    check: limits.check,
                });
                c
            }
            (c, _) => c,
        });
        if self.pending.is_none() {
            self.connected(limits.check);
        }
        Ok(())
    }

    /// The connection is established: `timeout check` runs from now on.
    fn connected(&mut self, check: Option<Duration>) {
        if let Some(t) = check {
            self.deadline = Instant::now() + t;
        }
    }

    /// A failure of the connect step `p` (worded at that step).
    fn connect_failed(&mut self, p: &Pending, status: CheckStatus, info: String) -> Failure {
        self.step = p.step;
        self.fail(status, info)
    }

    /// Waits for the handshake of a [`Pending`] connection, within its connect limit.
    async fn confirm(&mut self) -> Result<(), Failure> {
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        if let Some(c) = self.conn.as_mut()
            && let Err(e) = c.register()
        {
            return Err(self.connect_failed(&p, CheckStatus::L4Con, strerror(&e)));
        }
        let Some(Conn::Tcp(s)) = &self.conn else {
            return Ok(());
        };
        match timeout_at(p.until.into(), conn::confirm(s)).await {
            Ok(Ok(())) => {
                self.connected(p.check);
                Ok(())
            }
            Ok(Err(e)) => Err(self.connect_failed(&p, CheckStatus::L4Con, strerror(&e))),
            Err(_) => Err(self.connect_failed(&p, CheckStatus::L4Timeout, String::new())),
        }
    }

    /// The first write on a [`Pending`] connection: what it could not send at once
    /// (all of `data` once the connection was confirmed the slow way).
    async fn send_first<'d>(&mut self, data: &'d [u8]) -> Result<&'d [u8], Failure> {
        let Some(p) = self.pending.take() else {
            return Ok(data);
        };
        let sent = match &self.conn {
            Some(Conn::Raw(Some(s))) => conn::try_send(s, data),
            Some(Conn::Tcp(s)) => conn::try_send(s, data),
            _ => return Ok(data),
        };
        match sent {
            Sent::Some(n) => {
                self.connected(p.check);
                Ok(&data[n..])
            }
            Sent::Blocked => {
                self.pending = Some(p);
                self.confirm().await?;
                Ok(data)
            }
            Sent::ConnectFailed(e) => {
                Err(self.connect_failed(&p, CheckStatus::L4Con, strerror(&e)))
            }
            Sent::Failed(e) => {
                self.connected(p.check);
                Err(self.fail(CheckStatus::SockErr, strerror(&e)))
            }
        }
    }

    /// gatehouse's `pgsql-check` login on the open connection: first PostgreSQL's TLS
    /// (`SSLRequest`) when the server's checks run over TLS.
    async fn pgsql(
        &mut self,
        step: &super::pgsql::PgsqlStep,
        target: &Target,
    ) -> Result<String, Failure> {
        let deadline = self.deadline;
        if let Some(c) = self.conn.as_mut()
            && let Err(e) = c.register()
        {
            return Err(self.fail(CheckStatus::SockErr, strerror(&e)));
        }
        let conn = match (self.conn.take(), &target.tls) {
            (Some(Conn::Tcp(tcp)), Some(tls)) => {
                match timeout_at(deadline.into(), tls.start_pgsql(tcp, target.addr)).await {
                    Ok(Ok(s)) => Conn::Tls(Box::new(s)),
                    Ok(Err(e)) => {
                        let f = super::pgsql::failure(e);
                        return Err(self.fail(f.status, f.info));
                    }
                    Err(_) => return Err(self.fail(CheckStatus::L6Timeout, String::new())),
                }
            }
            (Some(c), _) => c,
            (None, _) => return Err(self.fail(CheckStatus::SockErr, String::new())),
        };
        let conn = self.conn.insert(conn);
        conn.nodelay();
        match timeout_at(deadline.into(), super::pgsql::run(step, conn)).await {
            Ok(Ok(info)) => Ok(info),
            Ok(Err(f)) => Err(self.fail(f.status, f.info)),
            Err(_) => Err(self.timeout(None)),
        }
    }

    /// Reads once more; false at the end of the answer.
    async fn read_more(&mut self, e: &Expect) -> Result<(), Failure> {
        let Some(c) = self.conn.as_mut() else {
            self.eof = true;
            return Ok(());
        };
        let mut chunk = [0u8; 4096];
        let room = BUFSIZE.saturating_sub(self.buf.len()).min(chunk.len());
        if let Conn::Raw(Some(_)) = c {
            // The answer of an unregistered connection is first looked for at the
            // grid's next step (the deadline at the latest), the rest of it at once;
            // only when nothing came is the connection registered to wait for it.
            if self.buf.is_empty() {
                let now = tokio::time::Instant::now();
                let next = super::task::on_grid(now + Duration::from_micros(1), self.inter);
                tokio::time::sleep_until(next.min(self.deadline.into())).await;
            }
            let got = c.try_recv(&mut chunk[..room]);
            let got = match got {
                None => c.register().err().map(Err),
                got => got,
            };
            match got {
                None => {}
                Some(Ok(0)) => {
                    self.eof = true;
                    return Ok(());
                }
                Some(Ok(n)) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Some(Err(err)) => {
                    if self.buf.is_empty() {
                        return Err(self.fail(CheckStatus::SockErr, strerror(&err)));
                    }
                    self.eof = true;
                    return Ok(());
                }
            }
        }
        match timeout_at(self.deadline.into(), c.read(&mut chunk[..room])).await {
            Ok(Ok(0)) => self.eof = true,
            Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            Ok(Err(err)) => {
                if self.buf.is_empty() {
                    return Err(self.fail(CheckStatus::SockErr, strerror(&err)));
                }
                self.eof = true;
            }
            Err(_) => return Err(self.timeout(Some(e))),
        }
        Ok(())
    }

    /// Runs an expect step: `Ok(Some(info))` for a custom parser's success info.
    async fn expect(&mut self, e: &Expect) -> Result<Option<String>, Failure> {
        if self.buf.is_empty() && !self.eof {
            self.read_more(e).await?;
        }
        loop {
            let last = self.eof || self.buf.len() >= BUFSIZE;
            match self.judge(e, last) {
                Judged::Wait if !last => self.read_more(e).await?,
                Judged::Wait => return Err(self.mismatch(e, None, false)),
                Judged::Pass(info) => return Ok(info),
                Judged::Fail(f) => return Err(f),
            }
        }
    }

    /// HAProxy's info for a failed expect (`tcpcheck_expect_onerror_message`).
    fn mismatch(&self, e: &Expect, desc: Option<String>, matched: bool) -> Failure {
        let status = e.error_status.unwrap_or(CheckStatus::L7Rsp);
        let mut info = if let Some(d) = desc {
            d
        } else if let Some(i) = &e.on_error {
            i.render(&self.buf)
        } else if self.set.flavor == Flavor::Proto {
            String::new()
        } else if self.buf.is_empty() {
            format!("TCPCHK got an empty response at step {}", self.step)
        } else {
            let what = if matched {
                "TCPCHK matched unwanted content"
            } else {
                "TCPCHK did not match content"
            };
            let pat = match &e.pattern {
                Pattern::String(p) => format!(" '{}'", String::from_utf8_lossy(p)),
                Pattern::Binary(_) => " (binary)".into(),
                Pattern::Regex(_) => " (regex)".into(),
                Pattern::BinaryRegex(_) => " (binary regex)".into(),
                _ => " (custom function)".into(),
            };
            format!("{what}{pat} at step {}", self.step)
        };
        if let Some(c) = &e.comment {
            info.push_str(&format!(" comment: {c}"));
        }
        Failure {
            status,
            info,
            code: self.payload_code(e),
        }
    }

    /// `status-code res.payload(0,3)`.
    fn payload_code(&self, e: &Expect) -> Option<u32> {
        if !e.status_code {
            return None;
        }
        std::str::from_utf8(self.buf.get(..3)?).ok()?.parse().ok()
    }

    fn judge(&mut self, e: &Expect, last: bool) -> Judged {
        if let Pattern::Custom(c) = e.pattern {
            return match proto::judge(c, &self.buf, last) {
                Verdict::Wait => Judged::Wait,
                Verdict::Pass(i) => Judged::Pass(Some(i)),
                Verdict::Fail { status, info, code } => Judged::Fail(Failure {
                    status,
                    info: if info.is_empty() {
                        info
                    } else {
                        self.mismatch(e, Some(info), false).info
                    },
                    code,
                }),
            };
        }
        if self.set.flavor == Flavor::Http {
            return self.judge_http(e, last);
        }
        if let Some(m) = e.min_recv
            && self.buf.len() < m
            && !last
        {
            return Judged::Wait;
        }
        let matched = match &e.pattern {
            Pattern::String(p) | Pattern::Binary(p) => memchr::memmem::find(&self.buf, p).is_some(),
            Pattern::Regex(re) => re.is_match(&self.buf),
            Pattern::BinaryRegex(re) => re.is_match(&hex_upper(&self.buf)),
            _ => false,
        };
        if !matched && !last && e.min_recv.is_none() {
            return Judged::Wait;
        }
        if matched != e.inverse {
            if e.status_code {
                self.code = self.payload_code(e);
            }
            Judged::Pass(None)
        } else {
            Judged::Fail(self.mismatch(e, None, matched))
        }
    }

    fn judge_http(&mut self, e: &Expect, last: bool) -> Judged {
        let rsp = match http::parse(&self.buf, last) {
            Ok(Some(r)) => r,
            Ok(None) if !last => return Judged::Wait,
            _ => {
                return Judged::Fail(Failure {
                    status: e.error_status.unwrap_or(CheckStatus::L7Rsp),
                    info: String::new(),
                    code: None,
                });
            }
        };
        self.code = Some(rsp.code);
        let (matched, status_rule) = match &e.pattern {
            Pattern::HttpStatus(ranges) => (
                ranges.iter().any(|(a, b)| (*a..=*b).contains(&rsp.code)),
                true,
            ),
            Pattern::HttpStatusRegex(re) => (re.is_match(&rsp.code.to_string()), true),
            Pattern::HttpBody(p) | Pattern::String(p) => {
                if !rsp.complete {
                    return Judged::Wait;
                }
                (memchr::memmem::find(rsp.body, p).is_some(), false)
            }
            Pattern::HttpBodyRegex(re) | Pattern::Regex(re) => {
                if !rsp.complete {
                    return Judged::Wait;
                }
                (re.is_match(rsp.body), false)
            }
            _ => (false, false),
        };
        if matched != e.inverse {
            return Judged::Pass(None);
        }
        let (status, desc) = if status_rule {
            (
                e.error_status.unwrap_or(CheckStatus::L7Sts),
                super::rule::c_string(rsp.reason),
            )
        } else if e.inverse {
            (
                e.error_status.unwrap_or(CheckStatus::L7Rsp),
                "HTTP check matched unwanted content".to_owned(),
            )
        } else {
            (
                e.error_status.unwrap_or(CheckStatus::L7Rsp),
                "HTTP content check did not match".to_owned(),
            )
        };
        let mut f = self.mismatch(e, Some(desc), matched);
        f.status = status;
        f.code = Some(rsp.code);
        Judged::Fail(f)
    }
}

enum Judged {
    Wait,
    Pass(Option<String>),
    Fail(Failure),
}
