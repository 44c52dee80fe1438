//! One runtime API connection, as HAProxy's `cli_io_handler` runs it: a command ends
//! at a line feed or at a `;` that no backslash escapes; a command whose line ends
//! with `<<` takes the lines after it as its payload, up to an empty line; each reply
//! is followed by an empty line (`\n> ` with `prompt`, `+ ` while a payload is being
//! typed). Without `prompt` the connection closes after the reply once nothing more
//! was received; `quit` closes at once. An idle connection closes after `stats
//! timeout` (10s by default).

use super::Level;
use super::api::Api;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What a command did, for the connection.
#[derive(Debug)]
pub enum Outcome {
    /// A reply (possibly empty).
    Text(String),
    /// `prompt`: interactive mode toggled.
    TogglePrompt,
    /// `quit`: close now.
    Quit,
    /// `user` / `operator`: the session's level lowered; with `-` (`user -`) not even
    /// the empty line follows.
    SetLevel(Level, bool),
}

impl Outcome {
    /// A reply.
    pub fn text(s: impl Into<String>) -> Outcome {
        Outcome::Text(s.into())
    }
}

/// The longest command (with its payload) read, as HAProxy's buffer size bounds it.
const MAX_REQUEST: usize = 1 << 20;

/// Serves one connection at `level` until it closes; `expose` (`expose-fd
/// listeners`) lets it answer `_getsocks` (`crate::proxy::xfer`).
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin + std::os::fd::AsRawFd>(
    api: &Api,
    mut sock: S,
    level: Level,
    timeout: Duration,
    expose: bool,
) {
    let mut level = level;
    let mut prompt = false;
    let mut input: Vec<u8> = Vec::new();
    // The command being gathered while a payload follows it.
    let mut pending: Option<(String, String)> = None;
    loop {
        let line = match next_line(&mut sock, &mut input, pending.is_some(), timeout).await {
            Some(l) => l,
            None => return,
        };
        let mut out = String::new();
        let mut nolf = false;
        let mut ran = false;
        match pending.take() {
            Some((cmd, mut payload)) => {
                if line.is_empty() {
                    ran = true;
                    let (words, payload) = super::words::split(&cmd, Some(&payload));
                    match super::table::execute(api, level, &words, payload).await {
                        Outcome::Text(t) => out = t,
                        Outcome::Quit => return,
                        Outcome::TogglePrompt => prompt = !prompt,
                        Outcome::SetLevel(l, quiet) => {
                            level = level.min(l);
                            nolf = quiet;
                        }
                    }
                } else {
                    payload.push_str(&line);
                    payload.push('\n');
                    pending = Some((cmd, payload));
                }
            }
            None if line.ends_with("<<") => pending = Some((line, String::new())),
            // HAProxy's internal command: the listening sockets, by SCM_RIGHTS, on a
            // socket with `expose-fd listeners`; the connection ends either way.
            None if line.trim() == "_getsocks" => {
                if expose {
                    let fd = sock.as_raw_fd();
                    if let Err(e) = crate::proxy::xfer::send_exported(fd) {
                        eprintln!(
                            "[WARNING]  ({}) : _getsocks: Failed to transfer sockets ({e})",
                            std::process::id()
                        );
                    }
                }
                let _ = sock.shutdown().await;
                return;
            }
            None => {
                ran = true;
                let (words, _) = super::words::split(&line, None);
                match super::table::execute(api, level, &words, None).await {
                    Outcome::Text(t) => out = t,
                    Outcome::Quit => return,
                    Outcome::TogglePrompt => prompt = !prompt,
                    Outcome::SetLevel(l, quiet) => {
                        level = level.min(l);
                        nolf = quiet;
                    }
                }
            }
        }
        if prompt {
            out.push_str(if pending.is_some() { "+ " } else { "\n> " });
        } else if pending.is_none() && !nolf {
            out.push('\n');
        }
        if !out.is_empty() && sock.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        // Without `prompt`, the connection ends with the reply unless more commands
        // were already sent (pipelined).
        if ran && !prompt && pending.is_none() && input.is_empty() {
            let _ = sock.shutdown().await;
            return;
        }
    }
}

/// The next command line (up to a line feed, or an unescaped `;` outside a payload),
/// without its end and a trailing carriage return; `None` when the client closed, sent
/// an incomplete or oversized line, or stayed idle past `timeout`.
async fn next_line<S: AsyncRead + Unpin>(
    sock: &mut S,
    input: &mut Vec<u8>,
    in_payload: bool,
    timeout: Duration,
) -> Option<String> {
    loop {
        if let Some((end, skip)) = line_end(input, in_payload) {
            let mut line: Vec<u8> = input[..end].to_vec();
            input.drain(..end + skip);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Some(String::from_utf8_lossy(&line).into_owned());
        }
        if input.len() > MAX_REQUEST {
            return None;
        }
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(timeout, sock.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        input.extend_from_slice(&buf[..n]);
    }
}

/// Where the first line of `input` ends and how many bytes end it.
fn line_end(input: &[u8], in_payload: bool) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\\' if !in_payload => i += 1,
            b'\n' => return Some((i, 1)),
            b';' if !in_payload => return Some((i, 1)),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::line_end;

    #[test]
    fn lines_end_at_unescaped_semicolons() {
        assert_eq!(line_end(b"show info; show stat\n", false), Some((9, 1)));
        assert_eq!(line_end(b"set map m a\\;b c\n", false), Some((16, 1)));
        assert_eq!(line_end(b"a;b\n", true), Some((3, 1)));
        assert_eq!(line_end(b"incomplete", false), None);
    }
}
