//! HTTP checks: the request `option httpchk` and `http-check send` describe, the rule
//! set `http-check connect|send|expect` lines make (with HAProxy's implicit request and
//! implicit `expect status 200-399`), and a minimal reading of the response (status
//! line, `Content-Length` or close-delimited body) for the expect steps.

use super::rule::{self, Expect, Pattern, Rule};
use crate::config::model::CheckRule;
use crate::config::span::Span;

/// The request of an HTTP check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// Method.
    pub method: String,
    /// URI.
    pub uri: String,
    /// Version.
    pub version: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Request {
    /// The bytes on the wire, as HAProxy 2.6 sends them: header names in lower case,
    /// `content-length` with a body, `connection: close` from HTTP/1.1 on.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("{} {} {}\r\n", self.method, self.uri, self.version);
        for (n, v) in &self.headers {
            s.push_str(&format!("{}: {v}\r\n", n.to_ascii_lowercase()));
        }
        if !self.body.is_empty() {
            s.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        if self.version != "HTTP/1.0" {
            s.push_str("connection: close\r\n");
        }
        s.push_str("\r\n");
        s.push_str(&self.body);
        s.into_bytes()
    }
}

/// The default request of `option httpchk [METHOD] [URI] [VERSION]`; a version
/// carrying `\r\n`-separated headers (the pre-2.2 idiom) gives them as headers.
fn from_option(method: &str, uri: &str, version: &str) -> Request {
    let mut parts = version.split("\r\n");
    let version = parts.next().unwrap_or("HTTP/1.0").to_owned();
    let headers = parts
        .filter_map(|h| h.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Request {
        method: method.to_owned(),
        uri: uri.to_owned(),
        version,
        headers,
        body: String::new(),
    }
}

/// Applies an `http-check send` line's words to `req`.
fn apply_send(req: &mut Request, args: &[String]) {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match w.as_str() {
            "meth" => req.method = v,
            "uri" => req.uri = v,
            "ver" => req.version = v,
            "body" => req.body = v,
            "hdr" => {
                req.headers
                    .push((v, args.get(i + 2).cloned().unwrap_or_default()));
                i += 1;
            }
            _ => {}
        }
        i += 2;
    }
}

/// The rule set of an HTTP check.
pub fn rules(
    method: &str,
    uri: &str,
    version: &str,
    lines: &[CheckRule],
) -> Result<Vec<Rule>, (Span, String)> {
    let base = from_option(method, uri, version);
    let mut out = Vec::new();
    let mut sent = false;
    let mut expects_after_send = false;
    for l in lines {
        let at = |e: String| (l.span.clone(), format!("'http-check {}' : {e}", l.verb));
        match l.verb.as_str() {
            "comment" => out.push(Rule::Comment),
            "connect" => out.push(rule::http_connect(&l.args).map_err(at)?),
            "send" => {
                let mut req = base.clone();
                apply_send(&mut req, &l.args);
                out.push(Rule::Send {
                    data: req.encode(),
                    comment: None,
                });
                sent = true;
                expects_after_send = false;
            }
            "expect" => {
                if !sent {
                    // The implicit request goes before the first expect.
                    out.push(Rule::Send {
                        data: base.encode(),
                        comment: None,
                    });
                    sent = true;
                }
                out.push(Rule::Expect(Box::new(
                    rule::http_expect(&l.args).map_err(at)?,
                )));
                expects_after_send = true;
            }
            // `disable-on-404` and `send-state` are accepted; they change nothing a
            // check of gatehouse reports yet.
            _ => {}
        }
    }
    if !sent {
        out.push(Rule::Send {
            data: base.encode(),
            comment: None,
        });
    }
    if !expects_after_send {
        out.push(Rule::Expect(Box::new(Expect::new(Pattern::HttpStatus(
            vec![(200, 399)],
        )))));
    }
    Ok(out)
}

/// An HTTP response as far as it was received.
#[derive(Debug, PartialEq)]
pub struct Response<'a> {
    /// The status code.
    pub code: u32,
    /// The reason phrase.
    pub reason: &'a [u8],
    /// The body received so far.
    pub body: &'a [u8],
    /// The body is complete (its length reached, the connection closed, or the buffer
    /// full).
    pub complete: bool,
}

/// Reads `buf` as an HTTP/1 response. `None`: the head is not complete yet (or, with
/// `last` set, never will be). `Err`: not an HTTP response.
pub fn parse(buf: &[u8], last: bool) -> Result<Option<Response<'_>>, ()> {
    let Some(end) = memchr::memmem::find(buf, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| memchr::memmem::find(buf, b"\n\n").map(|i| i + 2))
    else {
        return if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
            Err(())
        } else {
            Ok(None)
        };
    };
    let head = &buf[..end];
    let line_end = head.iter().position(|c| *c == b'\n').unwrap_or(head.len());
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    if !line.starts_with(b"HTTP/") {
        return Err(());
    }
    let mut parts = line.splitn(3, |c| *c == b' ');
    let _version = parts.next();
    let code = parts
        .next()
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or(())?;
    let reason = parts.next().unwrap_or_default();
    let mut length = None;
    for h in head[line_end..].split(|c| *c == b'\n') {
        let h = h.strip_suffix(b"\r").unwrap_or(h);
        if let Some(i) = h.iter().position(|c| *c == b':')
            && h[..i].eq_ignore_ascii_case(b"content-length")
        {
            length = std::str::from_utf8(&h[i + 1..])
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
        }
    }
    let body = &buf[end..];
    let complete = last || length.is_some_and(|n| body.len() >= n) || code == 204 || code == 304;
    let body = match length {
        Some(n) if body.len() > n => &body[..n],
        _ => body,
    };
    Ok(Some(Response {
        code,
        reason,
        body,
        complete,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_written_as_haproxy_writes_them() {
        let r = from_option("GET", "/", "HTTP/1.0");
        assert_eq!(r.encode(), b"GET / HTTP/1.0\r\n\r\n");
        let mut r = from_option("OPTIONS", "/", "HTTP/1.0");
        apply_send(
            &mut r,
            &[
                "meth", "GET", "uri", "/x", "ver", "HTTP/1.1", "hdr", "Host", "foo", "body",
                "hello",
            ]
            .map(String::from),
        );
        assert_eq!(
            r.encode(),
            b"GET /x HTTP/1.1\r\nhost: foo\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"
        );
        let r = from_option("HEAD", "/h", "HTTP/1.1\r\nHost: www");
        assert_eq!(
            r.encode(),
            b"HEAD /h HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn responses_are_read_up_to_their_length() {
        let b = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nnop";
        let r = parse(b, false).unwrap().unwrap();
        assert_eq!(
            (r.code, r.reason, r.complete),
            (500, &b"Internal Server Error"[..], false)
        );
        let b = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        assert!(parse(b, false).unwrap().unwrap().complete);
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\n", false), Ok(None));
        assert_eq!(parse(b"+PONG\r\n", true), Err(()));
    }
}
