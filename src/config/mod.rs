//! haproxy.cfg → typed model.

pub mod cond;
pub mod diag;
pub mod lexer;
pub mod model;
pub mod span;
