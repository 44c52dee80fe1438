//! TLSv1.3 session tickets issued as OpenSSL (and so HAProxy 2.6) issues them: two
//! after a full handshake, **one after a resumption**.
//!
//! rustls sends `send_tls13_tickets` tickets after every handshake; a client that
//! resumes each connection (wrk, a browser reconnecting) then receives, decrypts and
//! keeps a ticket more per connection than behind HAProxy — one more TLS record and
//! one more session copy on the client for each new connection (measured:
//! docs/performance.md, "One ticket after a resumption"). rustls decides the count
//! when it reads the ClientHello and offers no hook for it, but it asks the session
//! store for each ticket it issues (`put`; a refused `put` issues none) and takes the
//! resumed session out of the same store (`take`). [`TicketStore`] wraps the store
//! rustls made and answers from what the connection being handshaken did so far, which
//! [`counted`] keeps for each connection while its handshake is polled. (A ticket taken
//! that rustls then declines to resume — another name or suite — counts as a
//! resumption: that client gets one ticket where OpenSSL would send two.)

use rustls::server::StoresServerSessions;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What one connection's handshake did with the store so far.
#[derive(Clone, Copy, Debug, Default)]
struct Handshake {
    /// A handshake is being polled on this thread (outside one, the store is plain).
    polled: bool,
    /// The client's ticket was taken: the handshake resumes a session.
    resumed: bool,
    /// Tickets issued to the client.
    issued: u8,
}

thread_local! {
    /// The handshake being polled on this thread.
    static CURRENT: Cell<Handshake> = const { Cell::new(Handshake { polled: false, resumed: false, issued: 0 }) };
}

/// The session store of a bind's rustls configuration, issuing a single ticket after a
/// resumed handshake.
#[derive(Debug)]
pub struct TicketStore {
    inner: Arc<dyn StoresServerSessions>,
}

impl TicketStore {
    /// Wraps `inner`, the store rustls built for the configuration.
    pub fn new(inner: Arc<dyn StoresServerSessions>) -> Arc<Self> {
        Arc::new(TicketStore { inner })
    }
}

impl StoresServerSessions for TicketStore {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let h = CURRENT.get();
        if h.polled && h.resumed && h.issued >= 1 {
            return false;
        }
        CURRENT.set(Handshake {
            issued: h.issued.saturating_add(1),
            ..h
        });
        self.inner.put(key, value)
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.get(key)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let v = self.inner.take(key);
        if v.is_some() {
            CURRENT.set(Handshake {
                resumed: true,
                ..CURRENT.get()
            });
        }
        v
    }

    fn can_cache(&self) -> bool {
        self.inner.can_cache()
    }
}

/// `handshake`, with its connection's use of the [`TicketStore`] kept across polls.
pub fn counted<F: Future>(handshake: F) -> Counted<F> {
    Counted {
        inner: handshake,
        state: Handshake {
            polled: true,
            ..Handshake::default()
        },
    }
}

pin_project_lite::pin_project! {
    /// The future of [`counted`].
    pub struct Counted<F> {
        #[pin]
        inner: F,
        state: Handshake,
    }
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let me = self.project();
        let outer = CURRENT.replace(*me.state);
        let r = me.inner.poll(cx);
        *me.state = CURRENT.replace(outer);
        r
    }
}
