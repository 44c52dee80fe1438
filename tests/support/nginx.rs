//! nginx from Debian's package (`scripts/install-deps.sh`) as an HTTP/2 and TLS
//! backend: one process (`master_process off`, so it runs as the current user) in a
//! temporary directory with the `server` blocks a test gives, waited for until each of
//! its ports accepts, stopped on drop. A test writes its server blocks with
//! [`Nginx::tls`] for the certificate lines of the test PKI's `site.pem`.
//! [`Nginx::start_with_stream`] adds a `stream { … }` section, loading Debian's
//! `libnginx-mod-stream` (installed by `scripts/install-deps.sh`).

use super::{TempDir, wait_until};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's dynamic stream module (package `libnginx-mod-stream`).
pub const STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

/// A running nginx.
pub struct Nginx {
    child: Child,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx with `servers` (the `server { … }` blocks of its `http` section),
    /// waiting until each of `ports` accepts.
    pub fn start(servers: &str, ports: &[u16]) -> Nginx {
        Nginx::start_with_stream(servers, "", ports)
    }

    /// Starts nginx with `servers` in its `http` section and, when `stream` is not
    /// empty, a `stream { … }` section holding it (its `server` blocks, `log_format`s),
    /// waiting until each of `ports` accepts. `{dir}` in either stands for nginx's
    /// directory (for `access_log {dir}/NAME`, read back with [`Nginx::file`]).
    pub fn start_with_stream(servers: &str, stream: &str, ports: &[u16]) -> Nginx {
        let dir = TempDir::new("nginx");
        let d = dir.path().display().to_string();
        let servers = servers.replace("{dir}", &d);
        let stream = if stream.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!("load_module {STREAM_MODULE};\n"),
                format!("stream {{\n{}\n}}\n", stream.replace("{dir}", &d)),
            )
        };
        let conf = format!(
            "{}master_process off;\ndaemon off;\nerror_log {d}/error.log info;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  \
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
             scgi_temp_path {d}/scgi;\n  default_type text/plain;\n{servers}\n}}\n{}",
            stream.0, stream.1
        );
        let path = dir.write("nginx.conf", conf);
        let child = Command::new(super::services::service_bin("nginx"))
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start nginx");
        let mut n = Nginx { child, dir };
        for &p in ports {
            let up = wait_until(Duration::from_secs(10), || {
                TcpStream::connect(("127.0.0.1", p)).is_ok()
            });
            if !up {
                let _ = n.child.kill();
                panic!("nginx did not listen on {p}:\n{}", n.error_log());
            }
        }
        n
    }

    /// The certificate lines for a TLS `server` block: the test PKI's `site.pem`
    /// (`www.site.test`, `site.test`).
    pub fn tls() -> String {
        let p = super::pki::Pki::get().p("site.pem");
        format!("ssl_certificate {p};\n    ssl_certificate_key {p};\n")
    }

    /// Its error log.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// A file of its directory (an `access_log {dir}/NAME …` of the test's), or "".
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// Its access log.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
