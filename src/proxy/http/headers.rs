//! Headers the proxy adds to a request on its own, by option: `option originalto`'s
//! `X-Original-To` (the address the client connected to), sent after `option
//! forwardfor`'s header as HAProxy 2.6 does (`http_process_request()`).

use crate::proxy::session::ConnInfo;
use crate::runtime::backend::Backend;
use crate::runtime::frontend::Frontend;
use std::net::IpAddr;

/// `option originalto` of the backend or the frontend: the header (the backend's name
/// first) and the local address the client reached, unless it is in the `except`
/// network of either.
pub(super) fn original_to(
    fe: &Frontend,
    be: &Backend,
    conn: &ConnInfo,
) -> Option<(Vec<u8>, String)> {
    if fe.originalto.is_none() && be.originalto.is_none() {
        return None;
    }
    let dst = conn.local?.ip();
    let excepted = [&fe.originalto, &be.originalto]
        .into_iter()
        .flatten()
        .any(|o| o.except.is_some_and(|n| in_net(dst, n)));
    if excepted {
        return None;
    }
    let name = be
        .originalto
        .as_ref()
        .or(fe.originalto.as_ref())
        .map(|o| o.header.to_ascii_lowercase().into_bytes())?;
    Some((name, dst.to_string()))
}

/// Whether `ip` is in the network `net` (address, prefix length).
fn in_net(ip: IpAddr, net: (IpAddr, u8)) -> bool {
    match (ip, net.0) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(net.1.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(net.1.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}
