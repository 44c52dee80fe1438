//! Unit tests of the HTTP/1 layer, one file per concern. Expected statuses were checked
//! against haproxy 2.6.12 with a `mode http` frontend unless a case says otherwise.

mod chunked;
mod exchange_api;
mod pages;
mod request;
mod response;
mod robustness;
mod write;
