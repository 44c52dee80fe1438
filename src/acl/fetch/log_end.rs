//! Which fetches a log line cannot read: HAProxy 2.6 builds the log line when the
//! stream ends, after the request and response buffers and their volatile headers are
//! gone (`SMP_VAL_FE_LOG_END` in `sample.c`'s validity table). A `log-format` that
//! names one of these is refused at load with the source it needs, in HAProxy's words.
//! Permanent parts stay readable: the method, the status, captures, connection,
//! TLS, proxy and server facts, stick counters.

/// What `name` needs that is gone when the line is logged (HAProxy's
/// `sample_src_names()` text), or `None` when a log line may read it.
pub(crate) fn missing_at_log_end(name: &str) -> Option<&'static str> {
    Some(match name {
        // The request buffer (`SMP_USE_L6REQ`).
        "rdp_cookie" | "rdp_cookie_cnt" | "req.len" | "req_len" | "req.payload"
        | "req.payload_lv" | "req.rdp_cookie" | "req.rdp_cookie_cnt" | "req_rdp_cookie"
        | "req_rdp_cookie_cnt" | "req.ssl_hello_type" | "req_ssl_hello_type" | "req.ssl_sni"
        | "req_ssl_sni" | "req.ssl_ver" | "req_ssl_ver" => "request buffer",
        // The response buffer (`SMP_USE_L6RES`).
        "res.len" | "res.payload" | "res.payload_lv" => "response buffer",
        // `hdr` reads the request or the response, whichever the rule sees.
        "hdr" => "HTTP request headers,HTTP response headers",
        // The request's volatile headers and body (`SMP_USE_HRQHV`).
        "base" | "cook" | "cook_cnt" | "cook_val" | "hdr_cnt" | "hdr_ip" | "hdr_val"
        | "http_auth" | "http_auth_bearer" | "http_auth_group" | "path" | "pathq" | "query"
        | "req.body" | "req.body_len" | "req.body_param" | "req.body_size" | "req.cook"
        | "req.cook_cnt" | "req.cook_val" | "req.fhdr" | "req.fhdr_cnt" | "req.hdr"
        | "req.hdr_cnt" | "req.hdr_ip" | "req.hdr_names" | "req.hdr_val" | "req.ver"
        | "req_ver" | "url" | "url_param" | "urlp" | "urlp_val" => "HTTP request headers",
        // The response's volatile headers and body (`SMP_USE_HRSHV`).
        "res.body" | "res.body_len" | "res.body_size" | "res.cook" | "res.cook_cnt"
        | "res.cook_val" | "res.fhdr" | "res.fhdr_cnt" | "res.hdr" | "res.hdr_cnt"
        | "res.hdr_ip" | "res.hdr_names" | "res.hdr_val" | "res.ver" | "resp_ver" | "scook"
        | "scook_cnt" | "scook_val" | "shdr" | "shdr_cnt" | "shdr_ip" | "shdr_val" => {
            "HTTP response headers"
        }
        _ => return None,
    })
}
