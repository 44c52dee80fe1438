//! Answers the proxy writes itself: error pages, `http-request deny` and `return`. The
//! replies are protocol-neutral values (`runtime::errors::Page`, `config::model::Reply`);
//! the HTTP/1 codec encodes them here.

use super::exchange::{Next, Outcome, Session};
use super::io::write_all;
use crate::config::model::HttpConnMode;
use crate::log::{FinState, TermCause};
use crate::proxy::h1;
use crate::runtime::errors::{self, Page};
use std::borrow::Cow;
use tokio::io::{AsyncRead, AsyncWrite};

impl Session {
    /// Sends an error page. 408 is HAProxy's HTTP/1 layer's own raw page (no `errorfile`,
    /// not counted in `%B`) and 400 (a body that turned out malformed) closes too; other
    /// errors keep a keep-alive client when its request was fully read.
    pub(super) async fn fail<S: AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
        status: u16,
        term: TermCause,
        fin: FinState,
    ) -> Option<Next> {
        let be_errors = o.backend.as_ref().map(|b| &b.errors);
        let close_anyway = matches!(status, 400 | 408);
        let raw = status == 408;
        let page = if raw {
            Cow::Borrowed(h1::parse_error_response(status))
        } else {
            encode(errors::page(status, be_errors, &self.fe.errors))
        };
        let page = &*page;
        let keep = !close_anyway
            && h1::keeps_alive(page)
            && !self.body_pending
            && self.head.keep_alive
            && self.fe.conn_mode != HttpConnMode::Close;
        let page = if keep || raw || !h1::keeps_alive(page) {
            page.into()
        } else {
            h1::with_close(page)
        };
        let ok = write_all(client, &page, self.fe.timeouts.client)
            .await
            .is_ok();
        o.status = status as i32;
        if !raw {
            o.bytes_out += page.len() as u64;
        }
        o.term = term;
        o.fin = fin;
        if keep && ok {
            let n = self.unread.min(self.buf.len());
            self.buf.drain(..n);
            self.unread = 0;
            return Some(Next::KeepAlive);
        }
        Some(Next::Close)
    }

    /// Answers locally (`deny`, `return`), keeping the connection if no body is pending.
    pub(super) async fn local_reply<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
        head_len: usize,
        has_body: bool,
        bytes: Option<Vec<u8>>,
        status: u16,
    ) -> Option<Next> {
        let keep = !has_body && self.head.keep_alive && self.fe.conn_mode != HttpConnMode::Close;
        let page = match &bytes {
            Some(b) => Cow::Borrowed(b.as_slice()),
            None => encode(errors::page(
                status,
                o.backend.as_ref().map(|b| &b.errors),
                &self.fe.errors,
            )),
        };
        let closed;
        let page: &[u8] = if keep {
            &page
        } else {
            closed = h1::with_close(&page);
            &closed
        };
        if write_all(client, page, self.fe.timeouts.client)
            .await
            .is_err()
        {
            return Some(Next::Close);
        }
        o.status = status as i32;
        o.bytes_out = page.len() as u64;
        o.term = if bytes.is_some() {
            TermCause::Local
        } else {
            TermCause::Proxy
        };
        // HAProxy: `LR--` for `return`, `PR--` for `deny`.
        o.fin = FinState::Request;
        self.buf.drain(..head_len);
        Some(if keep { Next::KeepAlive } else { Next::Close })
    }
}

/// The bytes of an error page on an HTTP/1 connection.
fn encode(page: Page<'_>) -> Cow<'static, [u8]> {
    match page {
        Page::Reply(r) => Cow::Owned(h1::encode_reply(r)),
        Page::Empty => Cow::Borrowed(b""),
        Page::Builtin(status) => Cow::Borrowed(h1::error_response(status)),
    }
}
