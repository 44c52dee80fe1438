//! Talking to a runtime API socket the way operators do: `echo "CMD" | socat stdio
//! ADDR` with Debian's socat.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Sends `input` to socat address `addr` (`UNIX-CONNECT:/path`, `TCP:127.0.0.1:N`)
/// and returns everything the socket answered until it closed.
pub fn socat(addr: &str, input: &str) -> String {
    let mut child = Command::new("socat")
        .arg("-t")
        .arg("5")
        .arg("stdio")
        .arg(addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("socat (scripts/install-deps.sh installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to socat");
    let out = child.wait_with_output().expect("socat output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `echo "CMD" | socat stdio UNIX-CONNECT:<path>`.
pub fn unix_cmd(path: &Path, cmd: &str) -> String {
    socat(
        &format!("UNIX-CONNECT:{}", path.display()),
        &format!("{cmd}\n"),
    )
}

/// A `user` level socket (`user.sock` in `dir`) may neither look (`show`, HAProxy's
/// "Can't allocate memory!") nor change (`change`, "Permission denied").
pub fn assert_user_level_refused(dir: &Path, show: &str, change: &str) {
    let user = dir.join("user.sock");
    assert_eq!(
        unix_cmd(&user, show),
        "Can't allocate memory!\n\n",
        "{show}"
    );
    assert_eq!(unix_cmd(&user, change), "Permission denied\n\n", "{change}");
}
