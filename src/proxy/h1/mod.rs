//! HTTP/1.x message parsing and framing, hand-written around `httparse` for exact control
//! of request hygiene (smuggling, limits) and zero-copy forwarding.
