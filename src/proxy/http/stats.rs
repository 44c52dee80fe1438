//! The hook of the stats page (`stats uri`) and of `use-service prometheus-exporter`
//! into the exchange: a request the frontend's or its backend's stats page takes, or
//! one a rule gave to the exporter, is answered here by `crate::stats` (after the
//! request rules, as HAProxy), with the admin form's body read when it is posted.

use super::exchange::{Exchange, Next, Session};
use super::io::read_more;
use super::view::ReqView;
use crate::proxy::message::Payload;
use crate::runtime::backend::Backend;
use crate::runtime::errors::Page;
use crate::runtime::proxies::StatsPage;
use crate::stats::http::{Answer, Request};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// Largest admin form read (HAProxy answers `EXCD` past its buffer).
const MAX_FORM: u64 = 16 * 1024;

impl Session {
    /// The stats page a request is for: the frontend's, else its backend's, when the
    /// method and path match its `stats uri`.
    pub(super) fn stats_page(
        &self,
        ex: &Exchange,
        backend: Option<&Arc<Backend>>,
    ) -> Option<Arc<StatsPage>> {
        let pages = [
            self.fe.stats.as_ref(),
            backend.and_then(|b| b.stats.as_ref()),
        ];
        if pages.iter().all(Option::is_none) {
            return None;
        }
        let req = ex.head.message(&self.buf);
        pages
            .into_iter()
            .flatten()
            .find(|p| crate::stats::http::matches(p, req.method_bytes(), req.target()))
            .cloned()
    }

    /// Answers with the stats page `page`, or with the Prometheus exporter when `page`
    /// is `None`.
    pub(super) async fn serve_stats<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        ex: &mut Exchange,
        head_len: usize,
        page: Option<Arc<StatsPage>>,
    ) -> Option<Next> {
        // HAProxy counts what the frontend itself answers (not a backend's page).
        let by_frontend = match (&page, &ex.backend) {
            (Some(p), _) => p.proxy == self.fe.name,
            (None, Some(b)) => b.name == self.fe.name,
            (None, None) => true,
        };
        if by_frontend {
            self.fe
                .live
                .counters
                .intercepted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        ex.applet = Some(if page.is_some() {
            "<STATS>"
        } else {
            "<PROMEX>"
        });
        let Some(page) = page else {
            let target = ex.head.message(&self.buf).target();
            return match crate::stats::http::prometheus(&self.snap, target) {
                Some(reply) => {
                    self.local_reply(client, ex, head_len, Page::Reply(&reply), 200, true)
                        .await
                }
                None => {
                    let fe = Arc::clone(&self.fe);
                    let page = crate::runtime::errors::page(400, None, &fe.errors);
                    self.local_reply(client, ex, head_len, page, 400, true)
                        .await
                }
            };
        };
        // The admin form: read its body (`Content-Length` only) before answering.
        let mut consumed = head_len;
        let payload = ex.head.message(&self.buf).payload;
        if let Payload::Length(n) = payload
            && n <= MAX_FORM
        {
            let want = head_len + n as usize;
            let limit = self.fe.timeouts.http_request.or(self.fe.timeouts.client);
            while self.buf.len() < want {
                if read_more(client, &mut self.buf, want, limit).await.is_err() {
                    return Some(Next::Close);
                }
            }
            consumed = want;
            ex.body_pending = false;
        }
        let req = ex.head.message(&self.buf);
        let view = ReqView {
            req,
            conn: &self.conn,
            status: None,
            resp: None,
            users: Some(&self.snap.userlists),
            txn: None,
        };
        let admin = page.admin.iter().any(|c| c.matches(&view));
        let sreq = Request {
            method: req.method_bytes(),
            target: req.target(),
            authorization: req.values(b"authorization").next(),
            admin,
            body: &self.buf[head_len..consumed],
        };
        match crate::stats::http::answer(&page, &self.snap, &sreq) {
            Answer::Reply(reply) => {
                let status = reply.status;
                self.local_reply(client, ex, consumed, Page::Reply(&reply), status, true)
                    .await
            }
            Answer::Unauthorized(realm) => {
                let fe = Arc::clone(&self.fe);
                let page = crate::runtime::errors::page(401, None, &fe.errors);
                let reply = super::reply::auth_reply(page, realm.as_bytes());
                let page = reply.as_ref().map_or(Page::Empty, Page::Reply);
                self.local_reply(client, ex, consumed, page, 401, true)
                    .await
            }
        }
    }
}
