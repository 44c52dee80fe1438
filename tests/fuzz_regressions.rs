//! Inputs the fuzz targets (fuzz/fuzz_targets/) once crashed on, replayed through the
//! same public entry points so that the fixes stay: none of them may panic.

use gatehouse::log::{FormatContext, LogFormatSpec};

/// Compiles `fmt` as a log-format in every context; returns whether the
/// `http-request` context accepted it (the log context does not take sample fetches
/// yet). Panics only if the compiler does.
fn compile_everywhere(fmt: &str) -> bool {
    let mut ok = false;
    for ctx in [
        FormatContext::Log,
        FormatContext::HttpRequest,
        FormatContext::HttpResponse,
    ] {
        let r = LogFormatSpec::compile_in(fmt, ctx);
        if ctx == FormatContext::HttpRequest {
            ok = r.is_ok();
        }
    }
    ok
}

/// log_format crash-ac0a17e0: a backslash before a multi-byte character inside a sample
/// fetch's arguments split the character (a string slice off a char boundary).
#[test]
fn backslash_before_a_multibyte_char_in_sample_arguments() {
    let crash: &[u8] = &[
        0x25, 0x5b, 0x28, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0xf2, 0xf2, 0xf2, 0xf2, 0x5c,
        0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c,
        0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c,
        0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c,
        0x73, 0x71, 0x54, 0x25, 0x54, 0xf0, 0x25, 0x48, 0x50, 0x40, 0x64, 0xba,
    ];
    compile_everywhere(&String::from_utf8_lossy(crash));
    // The escaped character is taken whole, as HAProxy takes the next character.
    assert!(compile_everywhere("%[req.hdr(x\\\u{e9}y)]"));
    assert!(compile_everywhere("%[req.hdr(\\\u{1f600})] %ST"));
}

/// The same input through the whole configuration loader (`log-format` in a frontend):
/// an error is fine, a panic is not.
#[test]
fn the_loader_survives_the_log_format_crash_input() {
    let text = "defaults\n  mode http\nfrontend fe\n  bind :8080\n  \
                log-format \"%[req.hdr(\\\\\u{e9}\\\\\u{e9})]\"\n  \
                http-request set-header X-A \"%[req.hdr(a\\\\\u{1f600})]\"\n";
    let env = |_: &str| None;
    let _ = gatehouse::load::load_sources(&[("regress.cfg".to_string(), text.to_string())], &env);
}
