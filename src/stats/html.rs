//! The HTML stats page, laid out as HAProxy 2.6's: process information and the colour
//! legend, then one table per proxy with HAProxy's column groups (Queue, Session
//! rate, Sessions, Bytes, Denied, Errors, Warnings, Server: status, last check with
//! its code and duration, weight, active/backup, check failures, downtime), a
//! FRONTEND line, a line per server coloured by its state, and a BACKEND line. With
//! `stats admin`, each server has a checkbox and the table ends with the action form.

use super::fields::col;
use super::model::{ObjType, Row, SrvState, Value};
use crate::runtime::proxies::StatsPage;
use crate::runtime::snapshot::Snapshot;
use std::fmt::Write;

/// What one page shows.
pub struct View<'a> {
    /// The stats page's settings.
    pub page: &'a StatsPage,
    /// The lines to show.
    pub rows: &'a [Row],
    /// Admin actions are enabled (`stats admin` matched).
    pub admin: bool,
    /// The result of the last admin action (`;st=CODE`).
    pub status: Option<&'a str>,
    /// `stats refresh`, unless `;norefresh`.
    pub refresh: Option<u64>,
    /// `scope=` of the request.
    pub scope: Option<&'a str>,
    /// `;up`: DOWN servers hidden.
    pub hide_down: bool,
}

const CSS: &str = r#"body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white;}
th,td { font-size: 10px;}
h1 { font-size: x-large; margin-bottom: 0.5em;}
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin-top: 0em; margin-bottom: 0em;}
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin-top: 0em; margin-bottom: 0em;}
li { margin-top: 0.25em; margin-right: 2em;}
.hr {margin-top: 0.25em; border-color: black; border-bottom-style: solid;}
.titre	{background: #20D0D0;color: #000000; font-weight: bold; text-align: center;}
.total	{background: #20D0D0;color: #ffff80;}
.frontend	{background: #e8e8d0;}
.socket	{background: #d0d0d0;}
.backend	{background: #e8e8d0;}
.active_down		{background: #ff9090;}
.active_going_up		{background: #ffd020;}
.active_going_down	{background: #ffffa0;}
.active_up		{background: #c0ffc0;}
.active_nolb		{background: #20a0ff;}
.active_draining		{background: #20a0FF;}
.active_no_check		{background: #e0e0e0;}
.backup_down		{background: #ff9090;}
.backup_going_up		{background: #ff80ff;}
.backup_going_down	{background: #c060ff;}
.backup_up		{background: #b0d0ff;}
.backup_nolb		{background: #90b0e0;}
.backup_draining		{background: #cc9900;}
.backup_no_check		{background: #e0e0e0;}
.maintain	{background: #c07820;}
.rls      {letter-spacing: 0.2em; margin-right: 1px;}
a.px:link {color: #ffff40; text-decoration: none;}a.px:visited {color: #ffff40; text-decoration: none;}a.px:hover {color: #ffffff; text-decoration: none;}a.lfsb:link {color: #000000; text-decoration: none;}a.lfsb:visited {color: #000000; text-decoration: none;}a.lfsb:hover {color: #505050; text-decoration: none;}
table.tbl { border-collapse: collapse; border-style: none;}
table.tbl td { text-align: right; border-width: 1px 1px 1px 1px; border-style: solid solid solid solid; padding: 2px 3px; border-color: gray; white-space: nowrap;}
table.tbl td.ac { text-align: center;}
table.tbl th { border-width: 1px; border-style: solid solid solid solid; border-color: gray;}
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; padding: 2px 3px; white-space: nowrap;}
table.tbl th.empty { border-style: none; empty-cells: hide; background: white;}
table.tbl th.desc { background: white; border-style: solid solid none solid; text-align: left; padding: 2px 3px;}
table.lgd { border-collapse: collapse; border-width: 1px; border-style: none none none solid; border-color: black;}
table.lgd td { border-width: 1px; border-style: solid solid solid solid; border-color: gray; padding: 2px;}
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap;}
u {text-decoration:none; border-bottom: 1px dotted black;}
div.tips { display:block; visibility:hidden; z-index:2147483647; position:absolute; padding:2px 4px 3px; background:#f0f060; color:#000000; border:1px solid #7040c0; white-space:nowrap; font-style:normal;font-size:11px;font-weight:normal; border-radius:3px; box-shadow:gray 2px 2px 3px;}
u:hover div.tips {visibility:visible;}
"#;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// HAProxy's short durations: `5s`, `3m12s`, `2h05m`, `1d4h`.
fn human(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{:02}m", s / 3600, s / 60 % 60),
        s => format!("{}d{}h", s / 86400, s / 3600 % 24),
    }
}

/// A cell's text: the value, or nothing when empty.
fn cell(v: &Value) -> String {
    let mut s = String::new();
    v.write(&mut s);
    esc(&s)
}

fn dash(v: &Value) -> String {
    match v {
        Value::Empty => "-".into(),
        Value::U32(0) => "-".into(),
        v => cell(v),
    }
}

fn num(v: &Value) -> u64 {
    v.number().map_or(0, |n| n as u64)
}

/// The class and message HAProxy shows for an admin action's status code.
fn status_message(code: &str) -> (&'static str, &'static str) {
    match code {
        "DONE" => ("active_up", "Action processed successfully."),
        "NONE" => ("active_going_down", "Nothing has changed."),
        "PART" => (
            "active_going_down",
            "Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend).",
        ),
        "ERRP" => (
            "active_down",
            "Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>",
        ),
        "EXCD" => (
            "active_down",
            "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>",
        ),
        "DENY" => ("active_down", "<b>Action denied.</b>"),
        "IVAL" => (
            "active_down",
            "<b>Invalid requests (unsupported method or chunked encoded request).</b>",
        ),
        _ => ("active_down", "Unexpected result."),
    }
}

/// The row class (colour) of a server line, as HAProxy's.
fn server_class(r: &Row) -> &'static str {
    let backup = num(r.get(col::BCK)) == 1;
    let status = match r.get(col::STATUS) {
        Value::Str(s) => s.as_str(),
        _ => "",
    };
    let kind = match r.state {
        Some(SrvState::Maint) => return "maintain",
        Some(SrvState::Down) if status.starts_with("DOWN ") => "going_up",
        Some(SrvState::Down) => "down",
        Some(SrvState::Up) if status == "no check" => "no_check",
        Some(SrvState::Up) if status == "NOLB" => "nolb",
        Some(SrvState::Up) if status.starts_with("NOLB ") => "going_down",
        Some(SrvState::Up) if status.starts_with("UP ") => "going_down",
        _ => "up",
    };
    match (backup, kind) {
        (false, "down") => "active_down",
        (false, "going_up") => "active_going_up",
        (false, "going_down") => "active_going_down",
        (false, "no_check") => "active_no_check",
        (false, "nolb") => "active_nolb",
        (false, _) => "active_up",
        (true, "down") => "backup_down",
        (true, "going_up") => "backup_going_up",
        (true, "going_down") => "backup_going_down",
        (true, "no_check") => "backup_no_check",
        (true, "nolb") => "backup_nolb",
        (true, _) => "backup_up",
    }
}

/// The whole page.
pub fn write_page(out: &mut String, snap: &Snapshot, v: &View<'_>) {
    let descs = |id: u32| {
        snap.proxies
            .iter()
            .find(|p| p.uuid == id)
            .and_then(|p| p.description.clone())
    };
    let info = super::info::values(snap);
    let get = |name: &str| {
        super::info_fields::INFO
            .iter()
            .position(|f| f.name == name)
            .map(|i| cell(&info[i]))
            .unwrap_or_default()
    };
    let product = if v.page.hide_version {
        "gatehouse".to_owned()
    } else {
        format!("gatehouse version {}", super::info::version())
    };
    let _ = write!(
        out,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\
         \"http://www.w3.org/TR/html4/loose.dtd\">\n\
         <html><head><title>Statistics Report for gatehouse{node}</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n\
         <style type=\"text/css\"><!--\n{CSS}--></style></head>\n<body>\
         <h1><a href=\"https://www.haproxy.org/\" style=\"text-decoration: none;\">{product}</a></h1>\n\
         <h2>Statistics Report for pid {pid}{node}{desc}</h2>\n",
        node = v
            .page
            .show_node
            .as_deref()
            .map(|n| format!(" on {}", esc(n)))
            .unwrap_or_default(),
        pid = get("Pid"),
        desc = v
            .page
            .show_desc
            .as_deref()
            .map(|d| format!(": {}", esc(d)))
            .unwrap_or_default(),
    );
    let _ = write!(
        out,
        "<hr width=\"100%\" class=\"hr\">\n<h3>&gt; General process information</h3>\n\
         <table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n\
         <p><b>pid = </b> {pid} (process #1, nbproc = 1, nbthread = {nbthread})<br>\n\
         <b>uptime = </b> {uptime}<br>\n\
         <b>system limits:</b> memmax = unlimited; ulimit-n = {ulimit}<br>\n\
         <b>maxsock = </b> {ulimit}; <b>maxconn = </b> {maxconn}; <b>maxpipes = </b> 0<br>\n\
         current conns = {cur}; current pipes = 0/0; conn rate = {rate}/sec; bit rate = 0 kbps<br>\n\
         Running tasks: 0/0; idle = 100 %<br>\n</td><td align=\"center\" nowrap>\n\
         <table class=\"lgd\"><tr>\n\
         <td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td>\
         <td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td>\n</tr><tr>\n\
         <td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td>\
         <td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td>\n</tr><tr>\n\
         <td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td>\
         <td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td>\n</tr><tr>\n\
         <td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td>\
         <td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td>\n</tr><tr>\n\
         <td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td>\n</tr><tr>\n\
         <td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td>\n</tr></table>\n\
         Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>\
         <td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\">\
         <li><form method=\"GET\">Scope : <input value=\"{scope}\" name=\"scope\" size=\"8\" maxlength=\"20\" tabindex=\"1\"/></form>\n\
         <li><a href=\"{uri}{up}\">{updesc}</a><br>\n\
         <li><a href=\"{uri};csv\">CSV export</a><br>\n\
         <li><a href=\"{uri};json\">JSON export</a><br>\n\
         </ul></td></tr></table>\n",
        pid = get("Pid"),
        nbthread = get("Nbthread"),
        uptime = get("Uptime"),
        ulimit = get("Ulimit-n"),
        maxconn = get("Maxconn"),
        cur = get("CurrConns"),
        rate = get("ConnRate"),
        scope = esc(v.scope.unwrap_or("")),
        uri = esc(&v.page.uri),
        up = if v.hide_down { "" } else { ";up" },
        updesc = if v.hide_down {
            "Show all servers"
        } else {
            "Hide 'DOWN' servers"
        },
    );
    if let Some(code) = v.status {
        let (class, msg) = status_message(code);
        let _ = writeln!(
            out,
            "<p><div class={class}><a class=lfsb href=\"{uri}{up}{norefresh}\" title=\"Remove this message\">[X]</a> {msg}</div>",
            uri = esc(&v.page.uri),
            up = if v.hide_down { ";up" } else { "" },
            norefresh = if v.refresh.is_none() && v.page.refresh.is_some() {
                ";norefresh"
            } else {
                ""
            },
        );
    } else {
        out.push_str("<p>\n");
    }
    let mut i = 0;
    while i < v.rows.len() {
        let id = v.rows[i].proxy_id;
        let end = v.rows[i..]
            .iter()
            .position(|r| r.proxy_id != id)
            .map_or(v.rows.len(), |n| i + n);
        write_proxy(out, v, &v.rows[i..end], descs(id).as_deref());
        i = end;
    }
    out.push_str("</body></html>\n");
}

/// One proxy's table.
fn write_proxy(out: &mut String, v: &View<'_>, rows: &[Row], desc: Option<&str>) {
    let name = esc(rows[0].pxname());
    let backend = rows.iter().find(|r| r.obj == ObjType::Backend);
    let admin = v.admin && backend.is_some();
    if admin {
        out.push_str("<form method=\"post\">");
    }
    let _ = write!(
        out,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\">\
         <a name=\"{name}\"></a><a class=px href=\"#{name}\">{name}</a></th>\
         {desc}</tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">",
        desc = match desc {
            Some(d) => format!("<th class=\"desc\" width=\"90%\">{}</th>", esc(d)),
            None => "<th class=\"empty\" width=\"90%\"></th>".to_owned(),
        }
    );
    if admin {
        let _ = write!(
            out,
            "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('{name}-checkbox')) document.getElementsByClassName('{name}-checkbox').item(c).checked = this.checked\"></th>"
        );
    }
    out.push_str(
        "<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th>\
         <th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th>\
         <th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n\
         <tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th>\
         <th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th>\
         <th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th>\
         <th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th>\
         <th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>",
    );
    for r in rows {
        write_line(out, v, admin, r);
    }
    out.push_str("</table>");
    if let Some(be) = backend
        && admin
    {
        let _ = write!(
            out,
            "Choose the action to perform on the checked servers : <select name=action>\
             <option value=\"\"></option><option value=\"ready\">Set state to READY</option>\
             <option value=\"drain\">Set state to DRAIN</option>\
             <option value=\"maint\">Set state to MAINT</option></select>\
             <input type=\"hidden\" name=\"b\" value=\"#{}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>",
            be.proxy_id
        );
    }
    out.push_str("<p>\n");
}

/// One line of a proxy's table.
fn write_line(out: &mut String, v: &View<'_>, admin: bool, r: &Row) {
    let g = |c| r.get(c);
    let name = esc(r.pxname());
    let (class, label) = match r.obj {
        ObjType::Frontend => ("frontend", "Frontend".to_owned()),
        ObjType::Backend => ("backend", "Backend".to_owned()),
        ObjType::Server => (server_class(r), esc(r.svname())),
    };
    let _ = write!(out, "<tr class=\"{class}\">");
    if admin {
        if r.obj == ObjType::Server {
            let _ = write!(
                out,
                "<td><input class='{name}-checkbox' type=\"checkbox\" name=\"s\" value=\"{label}\"></td>"
            );
        } else {
            out.push_str("<td></td>");
        }
    }
    let anchor = format!("{name}/{label}");
    let title = match (r.obj, g(col::ADDR)) {
        (ObjType::Server, Value::Str(a)) if v.page.show_legends || v.admin => {
            format!("<u>{label}<div class=tips>IPv4: {}</div></u>", esc(a))
        }
        _ => label.clone(),
    };
    let _ = write!(
        out,
        "<td class=ac><a name=\"{anchor}\"></a><a class=lfsb href=\"#{anchor}\">{title}</a></td>"
    );
    // Queue, session rate, sessions.
    let (qcur, qmax, qlim) = match r.obj {
        ObjType::Frontend => (String::new(), String::new(), String::new()),
        ObjType::Server => (cell(g(col::QCUR)), cell(g(col::QMAX)), dash(g(col::QLIMIT))),
        ObjType::Backend => (cell(g(col::QCUR)), cell(g(col::QMAX)), String::new()),
    };
    let _ = write!(
        out,
        "<td>{qcur}</td><td>{qmax}</td><td>{qlim}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        cell(g(col::RATE)),
        cell(g(col::RATE_MAX)),
        match r.obj {
            ObjType::Frontend => dash(g(col::RATE_LIM)),
            _ => String::new(),
        },
        cell(g(col::SCUR)),
        cell(g(col::SMAX)),
        dash(g(col::SLIM)),
        hrsp_tip(r),
        match r.obj {
            ObjType::Frontend => String::new(),
            _ => cell(g(col::LBTOT)),
        },
        match (r.obj, g(col::LASTSESS)) {
            (ObjType::Frontend, _) => String::new(),
            (_, Value::S32(x)) if *x >= 0 => human(*x as u64),
            _ => "?".into(),
        },
    );
    // Bytes, denied, errors, warnings.
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td>",
        cell(g(col::BIN)),
        cell(g(col::BOUT)),
        cell(g(col::DREQ)),
        cell(g(col::DRESP)),
        cell(g(col::EREQ)),
        cell(g(col::ECON)),
        cell(g(col::ERESP)),
        cell(g(col::WRETR)),
        cell(g(col::WREDIS)),
    );
    // Server: status, last check, weight, act, bck, chk, dwn, dwntme, thrtle.
    let status = cell(g(col::STATUS));
    match r.obj {
        ObjType::Frontend => {
            let _ = write!(
                out,
                "<td class=ac>{status}</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td><td></td>"
            );
        }
        ObjType::Backend => {
            let st = if status == "UP" {
                status.clone()
            } else {
                format!("<font color=\"red\"><b>{status}</b></font>")
            };
            let _ = write!(
                out,
                "<td class=ac>{} {st}</td><td class=ac>&nbsp;</td><td class=ac>{}/{}</td>\
                 <td class=ac>{}</td><td class=ac>{}</td><td class=ac>&nbsp;</td><td>{}</td><td>{}</td><td></td>",
                human(num(g(col::LASTCHG))),
                cell(g(col::WEIGHT)),
                cell(g(col::UWEIGHT)),
                cell(g(col::ACT)),
                cell(g(col::BCK)),
                cell(g(col::CHKDOWN)),
                match g(col::DOWNTIME) {
                    Value::Empty => String::new(),
                    d => human(num(d)),
                },
            );
        }
        ObjType::Server => {
            let lastchk = match g(col::CHECK_STATUS) {
                Value::Str(s) => {
                    let mut t = s.clone();
                    if let Value::U32(code) = g(col::CHECK_CODE) {
                        let _ = write!(t, "/{code}");
                    }
                    if let Value::U64(ms) = g(col::CHECK_DURATION) {
                        let _ = write!(t, " in {ms}ms");
                    }
                    format!(
                        "<u> {}<div class=tips>{}: {}</div></u>",
                        esc(&t),
                        cell(g(col::CHECK_DESC)),
                        cell(g(col::LAST_CHK))
                    )
                }
                _ => String::new(),
            };
            let backup = num(g(col::BCK)) == 1;
            let checked = *g(col::CHKFAIL) != Value::Empty;
            let _ = write!(
                out,
                "<td class=ac>{} {status}</td><td class=ac>{lastchk}</td><td class=ac>{}/{}</td>\
                 <td class=ac>{}</td><td class=ac>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=ac>-</td>",
                human(num(g(col::LASTCHG))),
                cell(g(col::WEIGHT)),
                cell(g(col::UWEIGHT)),
                if backup { "-" } else { "Y" },
                if backup { "Y" } else { "-" },
                if checked {
                    format!(
                        "<u>{}<div class=tips>Failed Health Checks</div></u>",
                        cell(g(col::CHKFAIL))
                    )
                } else {
                    String::new()
                },
                cell(g(col::CHKDOWN)),
                if checked {
                    human(num(g(col::DOWNTIME)))
                } else {
                    String::new()
                },
            );
        }
    }
    out.push_str("</tr>\n");
}

/// The "Total" sessions cell with its tooltip of HTTP response classes.
fn hrsp_tip(r: &Row) -> String {
    let g = |c| r.get(c);
    let mut tip = format!(
        "<u>{}<div class=tips><table class=det><tr><th>Cum. sessions:</th><td>{}</td></tr>",
        cell(g(col::STOT)),
        cell(g(col::STOT))
    );
    if *g(col::REQ_TOT) != Value::Empty && *g(col::HRSP_2XX) != Value::Empty {
        let _ = write!(
            tip,
            "<tr><th>Cum. HTTP requests:</th><td>{}</td></tr>",
            cell(g(col::REQ_TOT))
        );
        for (label, c) in [
            ("1xx", col::HRSP_1XX),
            ("2xx", col::HRSP_2XX),
            ("3xx", col::HRSP_3XX),
            ("4xx", col::HRSP_4XX),
            ("5xx", col::HRSP_5XX),
        ] {
            let _ = write!(
                tip,
                "<tr><th>- HTTP {label} responses:</th><td>{}</td></tr>",
                cell(g(c))
            );
        }
        let _ = write!(
            tip,
            "<tr><th>- other responses:</th><td>{}</td></tr>",
            cell(g(col::HRSP_OTHER))
        );
    }
    tip.push_str("</table></div></u>");
    tip
}
