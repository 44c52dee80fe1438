//! The hook of the stats page (`stats uri`) and of `use-service prometheus-exporter`
//! into the exchange: a request the frontend's or its backend's stats page takes, or
//! one a rule gave to the exporter, is answered here by `crate::stats` (after the
//! request rules, as HAProxy), with the admin form's body read when it is posted.

use super::exchange::{Exchange, Next, Session};
use super::view::ReqView;
use crate::proxy::codec::ClientCodec;
use crate::proxy::message::Payload;
use crate::runtime::backend::Backend;
use crate::runtime::errors::Page;
use crate::runtime::proxies::StatsPage;
use crate::stats::http::{Answer, Request};
use std::sync::Arc;

/// Largest admin form read (HAProxy answers `EXCD` past its buffer).
const MAX_FORM: u64 = 16 * 1024;

impl Session {
    /// The stats page a request is for: the frontend's, else its backend's, when the
    /// method and path match its `stats uri`.
    pub(super) fn stats_page<C: ClientCodec>(
        &self,
        client: &C,
        backend: Option<&Arc<Backend>>,
    ) -> Option<Arc<StatsPage>> {
        let pages = [
            self.fe.stats.as_ref(),
            backend.and_then(|b| b.stats.as_ref()),
        ];
        if pages.iter().all(Option::is_none) {
            return None;
        }
        let req = client.request();
        pages
            .into_iter()
            .flatten()
            .find(|p| crate::stats::http::matches(p, req.method_bytes(), req.target()))
            .cloned()
    }

    /// Answers with the stats page `page`, or with the Prometheus exporter when `page`
    /// is `None`.
    pub(super) async fn serve_stats<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
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
            let target = client.request().target();
            return match crate::stats::http::prometheus(&self.snap, target) {
                Some(reply) => {
                    self.local_reply(client, ex, Page::Reply(&reply), 200, true)
                        .await
                }
                None => self.error_reply(client, ex, 400, true).await,
            };
        };
        // The admin form: read its body (`Content-Length` only) before answering, after
        // the bytes that came with the head (held for the body fetches).
        let held = &ex.txn.body;
        let mut body = if held.is_held() {
            held.frames().data.to_vec()
        } else {
            Vec::new()
        };
        if let Payload::Length(n) = client.request().payload
            && n <= MAX_FORM
        {
            let limit = self.fe.timeouts.http_request.or(self.fe.timeouts.client);
            loop {
                match client.read_body(limit).await {
                    Ok(f) => {
                        body.extend_from_slice(f.data);
                        if f.end {
                            break;
                        }
                    }
                    Err(_) => return Some(Next::Close),
                }
            }
            ex.body_pending = false;
        }
        let req = client.request();
        let view = ReqView {
            req,
            conn: &self.conn,
            status: None,
            resp: None,
            users: Some(&self.snap.userlists),
            txn: None,
            live: Some(crate::runtime::live_fetch::StreamLive::new(
                &self.snap, &self.fe,
            )),
        };
        let admin = page.admin.iter().any(|c| c.matches(&view));
        let sreq = Request {
            method: req.method_bytes(),
            target: req.target(),
            authorization: req.values(b"authorization").next(),
            admin,
            body: &body,
        };
        match crate::stats::http::answer(&page, &self.snap, &sreq) {
            Answer::Reply(reply) => {
                let status = reply.status;
                self.local_reply(client, ex, Page::Reply(&reply), status, true)
                    .await
            }
            Answer::Unauthorized(realm) => self.auth_reply(client, ex, realm.as_bytes()).await,
        }
    }
}
