//! Query cancellation through the proxy. Each session gets a `BackendKeyData` of
//! gatehouse's own (the client never learns the server's key); a `CancelRequest`
//! quoting that key, on a new connection to any `proto pgsql` bind, is sent to the
//! session's server with the server's real key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Where a session's cancel requests go.
#[derive(Clone, Copy, Debug)]
struct Target {
    addr: SocketAddr,
    pid: i32,
    key: i32,
}

static KEYS: Mutex<Option<HashMap<(i32, i32), Target>>> = Mutex::new(None);

/// A session's own key, registered while it lives.
#[derive(Debug)]
pub struct Registered {
    /// The `BackendKeyData` handed to the client: (process id, secret key).
    pub key: (i32, i32),
}

impl Registered {
    /// Registers a new key of gatehouse's own for a session of server `addr` whose
    /// real key is `(pid, key)`.
    pub fn new(addr: SocketAddr, pid: i32, key: i32) -> Registered {
        let mut map = KEYS.lock().unwrap_or_else(|e| e.into_inner());
        let map = map.get_or_insert_with(HashMap::new);
        loop {
            // A positive process id, as PostgreSQL's; a random 32-bit secret.
            let own = ((fastrand::i32(1..i32::MAX)), fastrand::i32(..));
            if let std::collections::hash_map::Entry::Vacant(e) = map.entry(own) {
                e.insert(Target { addr, pid, key });
                return Registered { key: own };
            }
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(map) = KEYS.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            map.remove(&self.key);
        }
    }
}

/// Forwards a `CancelRequest` quoting gatehouse's key `(pid, key)` to its server (a
/// key nobody holds is ignored, as PostgreSQL ignores it). The cancel travels on a
/// connection of its own, in the clear, as libpq sends it.
pub async fn forward(pid: i32, key: i32, timeout: Option<std::time::Duration>) {
    let target = KEYS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(&(pid, key)).copied());
    let Some(t) = target else { return };
    let send = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(t.addr).await?;
        let mut msg = Vec::with_capacity(16);
        msg.extend_from_slice(&16u32.to_be_bytes());
        msg.extend_from_slice(&80_877_102u32.to_be_bytes());
        msg.extend_from_slice(&t.pid.to_be_bytes());
        msg.extend_from_slice(&t.key.to_be_bytes());
        s.write_all(&msg).await?;
        // The server closes once it handled the request.
        let mut sink = [0u8; 16];
        let _ = s.read(&mut sink).await;
        Ok::<(), std::io::Error>(())
    };
    let t = timeout.unwrap_or(std::time::Duration::from_secs(5));
    let _ = tokio::time::timeout(t, send).await;
}
