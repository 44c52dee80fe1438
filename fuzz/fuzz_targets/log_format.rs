//! Fuzz target: arbitrary text as a `log-format` string (read from the configuration
//! file) through the format compiler in each context, then rendered with an empty log
//! record. Neither may panic; errors are expected and fine.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run log_format` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::log::{FormatContext, LogFormatSpec, LogRecord};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let fmt = String::from_utf8_lossy(data);
    for ctx in [
        FormatContext::Log,
        FormatContext::HttpRequest,
        FormatContext::HttpResponse,
    ] {
        if let Ok(spec) = LogFormatSpec::compile_in(&fmt, ctx) {
            let _ = spec.is_literal();
            let _ = spec.literal();
            let _ = spec.uses_http_vars();
            if ctx == FormatContext::Log {
                let rec = LogRecord::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), "fe");
                let mut out = String::new();
                spec.render(&rec, &mut out);
            }
        }
    }
});
