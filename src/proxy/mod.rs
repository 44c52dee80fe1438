//! Listeners, tcp mode, http mode (HTTP/1.1 and HTTP/2 clients), connections to servers.

pub mod busy_poll;
pub mod clock;
pub mod codec;
pub mod connect;
pub mod deadline;
pub mod h1;
pub mod h2;
pub mod h2srv;
pub mod http;
pub mod lazy_tcp;
pub mod listener;
pub mod message;
pub mod notify;
pub mod pgsql;
pub mod proxy_protocol;
pub mod rdp_persist;
pub mod running;
pub mod serve;
pub mod session;
pub mod stick;
pub mod tcp;
pub mod tcp_response;
pub mod tls;
pub mod tunnel;
pub mod xfer;
