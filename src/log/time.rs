//! Calendar dates as HAProxy prints them in logs and syslog headers (local time through
//! `localtime_r`, GMT through `gmtime_r`), without any date crate, and the clock that
//! dates syslog headers ([`now`], which tests can fix with [`FAKE_NOW_ENV`]).

use std::cell::Cell;
use std::fmt::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Test-only: when this environment variable holds a number of seconds since the epoch
/// (`GATEHOUSE_FAKE_NOW=1233922454`), every syslog header is dated at that instant
/// instead of the current time, so that tests can check dates whose shape depends on the
/// day (rfc3164 pads days 1-9 with a space) whatever the day they run. It is read once,
/// at the first log message; an unparsable value is ignored. Not meant for production:
/// it is no HAProxy setting and it freezes the header date.
pub const FAKE_NOW_ENV: &str = "GATEHOUSE_FAKE_NOW";

/// The date of a syslog header: the current time, or the instant [`FAKE_NOW_ENV`] fixes.
pub fn now() -> SystemTime {
    static FAKE: OnceLock<Option<SystemTime>> = OnceLock::new();
    let fake = FAKE.get_or_init(|| parse_fake_now(std::env::var(FAKE_NOW_ENV).ok().as_deref()));
    fake.unwrap_or_else(SystemTime::now)
}

/// The instant a [`FAKE_NOW_ENV`] value names, if it is a number of seconds.
fn parse_fake_now(value: Option<&str>) -> Option<SystemTime> {
    let secs: u64 = value?.trim().parse().ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Month abbreviations used by `%t` and rfc3164 headers.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down calendar time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    /// Full year.
    pub year: i32,
    /// Month, 0..=11.
    pub mon: u32,
    /// Day of month, 1..=31.
    pub mday: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub min: u32,
    /// Second.
    pub sec: u32,
    /// Offset from UTC in seconds (0 for GMT).
    pub gmtoff: i64,
}

/// Seconds and sub-second microseconds since the epoch (negative times clamp to 0).
pub fn split(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(_) => (0, 0),
    }
}

thread_local! {
    static LOCAL_CACHE: Cell<Option<(i64, Tm)>> = const { Cell::new(None) };
}

/// `secs` broken down in the local time zone (cached per thread for the same second).
pub fn local(secs: i64) -> Tm {
    if let Some((s, tm)) = LOCAL_CACHE.with(Cell::get)
        && s == secs
    {
        return tm;
    }
    let tm = convert(secs, true);
    LOCAL_CACHE.with(|c| c.set(Some((secs, tm))));
    tm
}

/// `secs` broken down in GMT.
pub fn gmt(secs: i64) -> Tm {
    convert(secs, false)
}

fn convert(secs: i64, local: bool) -> Tm {
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: `tm` is plain data, fully written by localtime_r/gmtime_r on success;
    // both functions are thread-safe and only read `t`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe {
        if local {
            !libc::localtime_r(&t, &mut tm).is_null()
        } else {
            !libc::gmtime_r(&t, &mut tm).is_null()
        }
    };
    if !ok {
        return Tm {
            year: 1970,
            mon: 0,
            mday: 1,
            hour: 0,
            min: 0,
            sec: 0,
            gmtoff: 0,
        };
    }
    Tm {
        year: tm.tm_year + 1900,
        mon: tm.tm_mon.clamp(0, 11) as u32,
        mday: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        min: tm.tm_min as u32,
        sec: tm.tm_sec as u32,
        gmtoff: tm.tm_gmtoff,
    }
}

fn month(tm: &Tm) -> &'static str {
    MONTHS[tm.mon as usize % 12]
}

/// `10/Oct/2000:13:55:36.123` (milliseconds): `%t`, `%tr`.
pub fn write_date_ms(out: &mut String, tm: &Tm, us: u32) {
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}",
        tm.mday,
        month(tm),
        tm.year,
        tm.hour,
        tm.min,
        tm.sec,
        us / 1000
    );
}

/// `10/Oct/2000:13:55:36 +0000` with `tm`'s offset: `%T`, `%Tl`, `%trg`, `%trl`.
pub fn write_date_tz(out: &mut String, tm: &Tm) {
    let (sign, h, m) = offset(tm);
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} {}{:02}{:02}",
        tm.mday,
        month(tm),
        tm.year,
        tm.hour,
        tm.min,
        tm.sec,
        sign,
        h,
        m
    );
}

/// `Oct 11 22:14:15` (day padded with a space): rfc3164/local headers.
pub fn write_rfc3164(out: &mut String, tm: &Tm) {
    let _ = write!(
        out,
        "{} {:2} {:02}:{:02}:{:02}",
        month(tm),
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec
    );
}

/// `2003-10-11T22:14:15.003000+02:00` (microseconds): rfc5424/timed/iso headers.
pub fn write_iso(out: &mut String, tm: &Tm, us: u32) {
    let (sign, h, m) = offset(tm);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}{:02}:{:02}",
        tm.year,
        tm.mon + 1,
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec,
        us,
        sign,
        h,
        m
    );
}

fn offset(tm: &Tm) -> (char, u64, u64) {
    let sign = if tm.gmtoff < 0 { '-' } else { '+' };
    let off = tm.gmtoff.unsigned_abs();
    (sign, off / 3600, (off % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2009-02-06 12:14:14 UTC
    const T: i64 = 1_233_922_454;

    #[test]
    fn gmt_formats() {
        let tm = gmt(T);
        let mut s = String::new();
        write_date_ms(&mut s, &tm, 655_123);
        assert_eq!(s, "06/Feb/2009:12:14:14.655");
        s.clear();
        write_date_tz(&mut s, &tm);
        assert_eq!(s, "06/Feb/2009:12:14:14 +0000");
        s.clear();
        write_rfc3164(&mut s, &tm);
        assert_eq!(s, "Feb  6 12:14:14");
        s.clear();
        write_iso(&mut s, &tm, 3000);
        assert_eq!(s, "2009-02-06T12:14:14.003000+00:00");
    }

    #[test]
    fn one_and_two_digit_days_keep_the_rfc3164_date_15_wide() {
        let mut s = String::new();
        // 2009-02-16 and 2009-12-01, 12:14:14 UTC.
        for (secs, want) in [
            (T + 10 * 86_400, "Feb 16 12:14:14"),
            (1_259_669_654, "Dec  1 12:14:14"),
        ] {
            s.clear();
            write_rfc3164(&mut s, &gmt(secs));
            assert_eq!(s, want);
            assert_eq!(s.len(), 15);
        }
    }

    #[test]
    fn fake_now_values() {
        assert_eq!(
            parse_fake_now(Some("1233922454")),
            Some(UNIX_EPOCH + Duration::from_secs(T as u64))
        );
        assert_eq!(parse_fake_now(Some("soon")), None);
        assert_eq!(parse_fake_now(Some("-5")), None);
        assert_eq!(parse_fake_now(None), None);
    }

    #[test]
    fn negative_offsets_and_local_consistency() {
        let tm = Tm {
            gmtoff: -(5 * 3600 + 30 * 60),
            ..gmt(T)
        };
        let mut s = String::new();
        write_date_tz(&mut s, &tm);
        assert_eq!(s, "06/Feb/2009:12:14:14 -0530");
        // Whatever the machine's zone, local time is GMT shifted by the reported offset.
        let l = local(T);
        assert_eq!(gmt(T + l.gmtoff), Tm { gmtoff: 0, ..l });
    }
}
