//! `show info`: the process-wide fields (HAProxy 2.6's `info_fields`), in its plain
//! (`Name: value`), typed and JSON forms.

use super::info_fields::INFO;
use super::model::Value;
use super::tags;
use crate::runtime::snapshot::Snapshot;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When this process started (read once from `/proc/self/stat` and the boot time, so
/// that it does not depend on when the statistics were first read).
pub fn started() -> SystemTime {
    static START: OnceLock<SystemTime> = OnceLock::new();
    *START.get_or_init(|| proc_start().unwrap_or_else(SystemTime::now))
}

fn proc_start() -> Option<SystemTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may contain spaces) start at `) `.
    let rest = &stat[stat.rfind(')')? + 2..];
    let ticks: u64 = rest.split(' ').nth(19)?.parse().ok()?;
    let btime: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Some(UNIX_EPOCH + Duration::from_secs(btime) + Duration::from_millis(ticks * 1000 / hz))
}

/// The version `show info` and `haproxy_process_build_info` report: the HAProxy
/// version whose behaviour gatehouse follows, then gatehouse's own.
pub fn version() -> String {
    format!(
        "{}-gatehouse-{}",
        crate::HAPROXY_COMPAT_VERSION,
        crate::VERSION
    )
}

fn fd_limit() -> u32 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass; no other memory is touched.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0;
    if ok && rl.rlim_cur != libc::RLIM_INFINITY {
        rl.rlim_cur.min(u64::from(u32::MAX)) as u32
    } else {
        0
    }
}

/// HAProxy's `Uptime` text: `0d 0h00m01s`.
fn uptime_text(secs: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        secs / 86400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// The value of every `show info` field, in [`INFO`] order.
pub fn values(snap: &Snapshot) -> Vec<Value> {
    let start = started();
    let now = SystemTime::now();
    let up = now.duration_since(start).unwrap_or_default().as_secs();
    let fes = &snap.frontends;
    let sum = |f: &dyn Fn(&crate::runtime::counters::Counters) -> u64| -> u64 {
        fes.iter().map(|fe| f(&fe.live.counters)).sum()
    };
    let cum_conns = sum(&|c| c.stot.load(Ordering::Relaxed));
    let rate = sum(&|c| u64::from(c.sess_rate.rate())) as u32;
    let rate_max = sum(&|c| u64::from(c.sess_rate_max.load(Ordering::Relaxed))) as u32;
    let bytes_out = sum(&|c| c.bout.load(Ordering::Relaxed));
    let listeners: usize = fes.iter().map(|f| f.binds.len()).sum();
    let cur = snap.global.actconn.load(Ordering::Relaxed);
    let fds = fd_limit();
    INFO.iter()
        .map(|f| match f.name {
            "Name" => Value::Str("gatehouse".into()),
            "Version" | "Build info" => Value::Str(version()),
            "Release_date" => Value::Str(String::new()),
            "Nbthread" => Value::U32(snap.global.nbthread as u32),
            "Nbproc" | "Process_num" => Value::U32(1),
            "Pid" => Value::U32(std::process::id()),
            "Uptime" => Value::Str(uptime_text(up)),
            "Uptime_sec" => Value::U32(up as u32),
            "Start_time_sec" => Value::U32(
                start
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as u32),
            ),
            "Ulimit-n" | "Maxsock" => Value::U32(fds),
            "Maxconn" | "Hard_maxconn" => Value::U32(snap.global.maxconn),
            "CurrConns" => Value::U32(cur),
            "CumConns" => Value::U32(cum_conns as u32),
            "CumReq" => Value::U32(crate::log::requests() as u32),
            "ConnRate" | "SessRate" => Value::U32(rate),
            "MaxConnRate" | "MaxSessRate" => Value::U32(rate_max),
            "Idle_pct" | "Tasks" | "Run_queue" | "BytesOutRate" | "ZlibMemUsage"
            | "MaxZlibMemUsage" => Value::Empty,
            "node" => Value::Str(snap.global.node.clone()),
            "description" => snap
                .global
                .description
                .clone()
                .map_or(Value::Empty, Value::Str),
            "Jobs" => Value::U32(cur + listeners as u32),
            "Listeners" => Value::U32(listeners as u32),
            "TotalBytesOut" => Value::U64(bytes_out),
            _ => match f.tags.rsplit(':').next() {
                Some("str") => Value::Empty,
                Some("u64") => Value::U64(0),
                Some("s32") => Value::S32(0),
                _ => Value::U32(0),
            },
        })
        .collect()
}

/// `show info`: one `Name: value` line per field that has a value.
pub fn write_info(out: &mut String, snap: &Snapshot) {
    for (f, v) in INFO.iter().zip(values(snap)) {
        if v == Value::Empty {
            continue;
        }
        out.push_str(f.name);
        out.push_str(": ");
        v.write(out);
        out.push('\n');
    }
}

/// `show info typed`: `POS.NAME.1:TAGS:TYPE:VALUE` lines.
pub fn write_info_typed(out: &mut String, snap: &Snapshot) {
    for (f, v) in INFO.iter().zip(values(snap)) {
        if v == Value::Empty {
            continue;
        }
        let t = tags::letters(f.tags);
        let ty = tags::type_for(f.tags, &v);
        out.push_str(&format!("{}.{}.1:{t}:{ty}:", f.pos, f.name));
        v.write(out);
        out.push('\n');
    }
}

/// `show info json`: HAProxy's array of `{field, processNum, tags, value}` objects.
pub fn write_info_json(out: &mut String, snap: &Snapshot) {
    let items: Vec<serde_json::Value> = INFO
        .iter()
        .zip(values(snap))
        .filter(|(_, v)| *v != Value::Empty)
        .map(|(f, v)| {
            serde_json::json!({
                "field": {"pos": f.pos, "name": f.name},
                "processNum": 1,
                "tags": tags::json(f.tags),
                "value": tags::field_value(f.tags, &v),
            })
        })
        .collect();
    out.push_str(&serde_json::Value::Array(items).to_string());
    out.push('\n');
}
