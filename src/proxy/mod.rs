//! Listeners, tcp mode, http mode (HTTP/1.1), connections to servers.

pub mod codec;
pub mod connect;
pub mod h1;
pub mod http;
pub mod listener;
pub mod message;
pub mod notify;
pub mod proxy_protocol;
pub mod running;
pub mod serve;
pub mod session;
pub mod stick;
pub mod tcp;
pub mod tls;
pub mod tunnel;
