//! Date converters: `ltime`, `utime` (strftime formats in local time and UTC) and
//! `http_date` (an IMF-fixdate for HTTP headers).

use super::row::*;

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = &[
    ConvDef::new("ltime", SmpType::Str, ltime).args(&[S, I], 1),
    ConvDef::new("utime", SmpType::Str, utime).args(&[S, I], 1),
    ConvDef::new("http_date", SmpType::Str, http_date)
        .args(&[I, S], 0)
        .check(|a| match a.get(1) {
            Some(ArgVal::Str(u)) if !["s", "ms", "us"].contains(&&**u) => {
                Err(format!("Invalid unit <{u}>, expecting 's', 'ms' or 'us'"))
            }
            _ => Ok(()),
        }),
];

/// The broken-down time of `secs` (UTC or local).
fn tm(secs: i64, local: bool) -> Option<libc::tm> {
    #[allow(clippy::useless_conversion)] // time_t is not i64 everywhere
    let t: libc::time_t = secs.try_into().ok()?;
    // SAFETY: `tm` is plain data; gmtime_r/localtime_r write it and return null on error.
    let mut out: libc::tm = unsafe { std::mem::zeroed() };
    let r = unsafe {
        if local {
            libc::localtime_r(&t, &mut out)
        } else {
            libc::gmtime_r(&t, &mut out)
        }
    };
    (!r.is_null()).then_some(out)
}

fn strftime(a: &Args, cur: Cur, buf: &mut Vec<u8>, local: bool) -> Option<Cur> {
    let secs = as_int(cur, buf)?.checked_add(a.i[1])?;
    let t = tm(secs, local)?;
    let mut fmt = a.s[0].to_vec();
    fmt.push(0);
    let mut out = [0u8; 256];
    // SAFETY: `fmt` is NUL-terminated, `out` is writable for its length.
    let n = unsafe { libc::strftime(out.as_mut_ptr().cast(), out.len(), fmt.as_ptr().cast(), &t) };
    Some(push(buf, |b| b.extend_from_slice(&out[..n])))
}

fn ltime(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    strftime(a, cur, buf, true)
}

fn utime(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    strftime(a, cur, buf, false)
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn http_date(a: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let v = as_int(cur, buf)?.checked_add(a.i[0])?;
    let secs = match &*a.s[1] {
        b"ms" => v.div_euclid(1000),
        b"us" => v.div_euclid(1_000_000),
        _ => v,
    };
    let t = tm(secs, false)?;
    let line = format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS.get(usize::try_from(t.tm_wday).ok()?)?,
        t.tm_mday,
        MONTHS.get(usize::try_from(t.tm_mon).ok()?)?,
        t.tm_year + 1900,
        t.tm_hour,
        t.tm_min,
        t.tm_sec
    );
    Some(push(buf, |b| b.extend_from_slice(line.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::super::testing::i;

    #[test]
    fn date_converters_table() {
        let cases: &[(&str, i64, &str)] = &[
            ("http_date", 784111777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (
                "http_date(3600)",
                784111777,
                "Sun, 06 Nov 1994 09:49:37 GMT",
            ),
            (
                "http_date(0,ms)",
                784111777000,
                "Sun, 06 Nov 1994 08:49:37 GMT",
            ),
            ("utime(%Y-%m-%d %H:%M:%S)", 0, "1970-01-01 00:00:00"),
            ("utime(%Y,86400)", 0, "1970"),
        ];
        for (chain, input, want) in cases {
            assert_eq!(i(chain, *input).as_deref(), Some(*want), "{chain}");
        }
        assert!(i("ltime(%Y)", 0).is_some());
    }
}
