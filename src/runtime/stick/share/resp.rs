//! A small Redis client for the sync task: one TCP connection speaking RESP2 (commands
//! as arrays of bulk strings, replies read with bounds), `AUTH` and `SELECT` after
//! connecting, and the master of a Sentinel set found as Sentinel clients do (ask each
//! Sentinel in turn, then check the `ROLE` of the address it gave). Hand-written rather than the `redis` crate, which would bring some
//! thirty crates (URL parsing with ICU tables among them) for the five commands used
//! here (docs/persistence.md).

use crate::config::model::RedisServer;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The largest bulk string or array a reply may have (a guard against a confused
/// peer; replies here are a few fields per entry).
const MAX_LEN: i64 = 64 << 20;
/// How deep arrays may nest.
const MAX_DEPTH: u32 = 4;

/// Why a Redis exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum RespError {
    /// The connection failed or closed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The server answered with an error.
    #[error("server error: {0}")]
    Server(String),
    /// The answer is not RESP.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
}

/// One reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Status(String),
    /// `:N`.
    Int(i64),
    /// `$N` (None: the null bulk string).
    Bulk(Option<Vec<u8>>),
    /// `*N` (None: the null array).
    Array(Option<Vec<Reply>>),
}

/// A connection to one Redis server.
pub struct Conn {
    io: BufReader<TcpStream>,
    timeout: Duration,
}

impl Conn {
    /// Connects to `server`, authenticates and selects its database, each step within
    /// `timeout`.
    pub async fn open(server: &RedisServer, timeout: Duration) -> Result<Conn, RespError> {
        Conn::open_at(&server.host, server.port, server, timeout).await
    }

    /// Connects to `host:port` without authenticating (a Sentinel).
    async fn plain(host: &str, port: u16, timeout: Duration) -> Result<Conn, RespError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| RespError::Timeout)??;
        tcp.set_nodelay(true)?;
        Ok(Conn {
            io: BufReader::new(tcp),
            timeout,
        })
    }

    /// Like [`Conn::open`], at `host:port` (the master a Sentinel named) with the
    /// credentials and database of `server`.
    pub async fn open_at(
        host: &str,
        port: u16,
        server: &RedisServer,
        timeout: Duration,
    ) -> Result<Conn, RespError> {
        let mut c = Conn::plain(host, port, timeout).await?;
        match (&server.user, &server.password) {
            (Some(u), Some(p)) => {
                c.call(&[b"AUTH", u.as_bytes(), p.as_bytes()]).await?;
            }
            (None, Some(p)) => {
                c.call(&[b"AUTH", p.as_bytes()]).await?;
            }
            _ => {}
        }
        if server.db != 0 {
            c.call(&[b"SELECT", server.db.to_string().as_bytes()])
                .await?;
        }
        Ok(c)
    }

    /// Sends one command and reads its reply; an error reply is an `Err`.
    pub async fn call(&mut self, args: &[&[u8]]) -> Result<Reply, RespError> {
        let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
        encode(args, &mut out);
        let io = &mut self.io;
        tokio::time::timeout(self.timeout, async move {
            io.get_mut().write_all(&out).await?;
            read_reply(io, 0).await
        })
        .await
        .map_err(|_| RespError::Timeout)?
    }
}

/// The master `name` as the first of `sentinels` that knows it says (`SENTINEL
/// get-master-addr-by-name`), connected with the credentials and database of `server`
/// and confirmed a master (`ROLE`: a Sentinel may still name a master that was just
/// demoted). `Err`: the last failure when none gives a usable master.
pub async fn open_master(
    sentinels: &[(String, u16)],
    server: &RedisServer,
    timeout: Duration,
) -> Result<(Conn, String), RespError> {
    let mut last = RespError::Protocol("no Sentinel");
    for (host, port) in sentinels {
        let addr = async {
            let mut s = Conn::plain(host, *port, timeout).await?;
            let r = s
                .call(&[
                    b"SENTINEL",
                    b"get-master-addr-by-name",
                    server.host.as_bytes(),
                ])
                .await?;
            match r {
                Reply::Array(Some(v)) => match v.as_slice() {
                    [Reply::Bulk(Some(h)), Reply::Bulk(Some(p))] => {
                        let h = String::from_utf8_lossy(h).into_owned();
                        let p = std::str::from_utf8(p)
                            .ok()
                            .and_then(|p| p.parse::<u16>().ok())
                            .ok_or(RespError::Protocol("bad master port"))?;
                        Ok((h, p))
                    }
                    _ => Err(RespError::Protocol("bad master address")),
                },
                _ => Err(RespError::Server(format!(
                    "Sentinel {host}:{port} knows no master '{}'",
                    server.host
                ))),
            }
        };
        let (mh, mp) = match addr.await {
            Ok(a) => a,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let conn = async {
            let mut c = Conn::open_at(&mh, mp, server, timeout).await?;
            match c.call(&[b"ROLE"]).await? {
                Reply::Array(Some(v))
                    if v.first() == Some(&Reply::Bulk(Some(b"master".to_vec()))) =>
                {
                    Ok(c)
                }
                _ => Err(RespError::Server(format!("{mh}:{mp} is not a master"))),
            }
        };
        match conn.await {
            Ok(c) => return Ok((c, format!("{mh}:{mp}"))),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Writes a command as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

async fn read_line(io: &mut BufReader<TcpStream>) -> Result<Vec<u8>, RespError> {
    let mut line = Vec::new();
    let n = io.read_until(b'\n', &mut line).await?;
    if n == 0 {
        return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
    }
    if !line.ends_with(b"\r\n") {
        return Err(RespError::Protocol("line without CRLF"));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn number(b: &[u8]) -> Result<i64, RespError> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(RespError::Protocol("bad number"))
}

/// Reads one reply (arrays recursively, at most [`MAX_DEPTH`] deep).
fn read_reply(
    io: &mut BufReader<TcpStream>,
    depth: u32,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Reply, RespError>> + Send + '_>> {
    Box::pin(async move {
        let line = read_line(io).await?;
        let (&kind, rest) = line
            .split_first()
            .ok_or(RespError::Protocol("empty line"))?;
        match kind {
            b'+' => Ok(Reply::Status(String::from_utf8_lossy(rest).into_owned())),
            b'-' => Err(RespError::Server(
                String::from_utf8_lossy(rest).into_owned(),
            )),
            b':' => Ok(Reply::Int(number(rest)?)),
            b'$' => {
                let n = number(rest)?;
                if n < 0 {
                    return Ok(Reply::Bulk(None));
                }
                if n > MAX_LEN {
                    return Err(RespError::Protocol("bulk string too long"));
                }
                let mut b = vec![0; n as usize + 2];
                io.read_exact(&mut b).await?;
                if !b.ends_with(b"\r\n") {
                    return Err(RespError::Protocol("bulk string without CRLF"));
                }
                b.truncate(n as usize);
                Ok(Reply::Bulk(Some(b)))
            }
            b'*' => {
                let n = number(rest)?;
                if n < 0 {
                    return Ok(Reply::Array(None));
                }
                if n > MAX_LEN / 16 || depth >= MAX_DEPTH {
                    return Err(RespError::Protocol("array too large or too deep"));
                }
                let mut v = Vec::with_capacity((n as usize).min(1024));
                for _ in 0..n {
                    v.push(read_reply(io, depth + 1).await?);
                }
                Ok(Reply::Array(Some(v)))
            }
            _ => Err(RespError::Protocol("unknown reply type")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        encode(&[b"HGETALL", b"k:1"], &mut out);
        assert_eq!(out, b"*2\r\n$7\r\nHGETALL\r\n$3\r\nk:1\r\n");
    }
}
