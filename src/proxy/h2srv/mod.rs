//! HTTP/2 toward servers (`server … proto h2`, `server … ssl alpn h2`): the handshake
//! that turns a server connection into a shared pool entry (`handshake.rs`), the
//! request head translated from the neutral model (`request.rs`: `Host` kept, the
//! connection-specific headers dropped, as HAProxy 2.6 does), the response head into it
//! (`response.rs`), and [`H2Server`], the server codec of one stream (`codec.rs`).

mod codec;
mod handshake;
mod request;
mod response;

pub use codec::H2Server;
pub use handshake::handshake;
