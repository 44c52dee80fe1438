//! Certificates for the TLS tests, made with the `openssl` command line once per test
//! binary: a CA, server bundles (RSA and ECDSA; exact names and a wildcard), client
//! certificates (valid, revoked by the CA's CRL, and one from another CA), the CRL, and
//! an OCSP response for one server certificate (`stapled/site.pem.ocsp`).
//! Bundles are PEM files with the chain and the key, as `crt` takes them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The generated files.
#[derive(Debug)]
pub struct Pki {
    /// The directory holding everything (kept for the test binary's life).
    pub dir: PathBuf,
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `kind`: `ec` (P-256) or `rsa` (2048 bits).
fn key(dir: &Path, name: &str, kind: &str) {
    let file = format!("{name}.key");
    match kind {
        "rsa" => run(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &file,
            ],
        ),
        _ => run(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &file,
            ],
        ),
    }
}

fn ca(dir: &Path, name: &str, cn: &str) {
    key(dir, name, "ec");
    run(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "3650",
            "-subj",
            &format!("/O=Gatehouse Test/CN={cn}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// Issues `name.crt` signed by `ca` with subject `subj`, `ext` lines, and writes the
/// bundle `name.pem` (certificate then key).
fn leaf(dir: &Path, ca: &str, name: &str, kind: &str, subj: &str, ext: &str, serial: &str) {
    key(dir, name, kind);
    run(
        dir,
        &[
            "req",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            subj,
        ],
    );
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-set_serial",
            serial,
            "-days",
            "825",
            "-out",
            &format!("{name}.crt"),
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
    let mut bundle = std::fs::read(dir.join(format!("{name}.crt"))).unwrap();
    bundle.extend(std::fs::read(dir.join(format!("{name}.key"))).unwrap());
    std::fs::write(dir.join(format!("{name}.pem")), bundle).unwrap();
}

fn server(dir: &Path, name: &str, kind: &str, names: &[&str], serial: &str) {
    let san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
    let ext = format!(
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName={}\n",
        san.join(",")
    );
    leaf(
        dir,
        "ca",
        name,
        kind,
        &format!("/CN={}", names[0]),
        &ext,
        serial,
    );
}

fn client(dir: &Path, ca: &str, name: &str, cn: &str, serial: &str) {
    let ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
    leaf(
        dir,
        ca,
        name,
        "ec",
        &format!("/C=FR/O=Gatehouse Test/OU=QA/CN={cn}"),
        ext,
        serial,
    );
}

/// `stapled/site.pem` with `stapled/site.pem.ocsp`: the CA's OCSP response saying `good`
/// for it, made offline by `openssl ocsp` acting as the responder on its own request.
fn stapled(d: &Path) {
    let dir = d.join("stapled");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(d.join("site.pem"), dir.join("site.pem")).unwrap();
    // HAProxy computes the response's certificate ID from the issuer: `.issuer` beside it.
    std::fs::copy(d.join("ca.pem"), dir.join("site.pem.issuer")).unwrap();
    // The responder's database: site's certificate (serial 1002), valid.
    std::fs::write(
        d.join("ocsp-index.txt"),
        "V\t351231000000Z\t\t1002\tunknown\t/CN=www.site.test\n",
    )
    .unwrap();
    run(
        d,
        &[
            "ocsp",
            "-index",
            "ocsp-index.txt",
            "-rsigner",
            "ca.pem",
            "-rkey",
            "ca.key",
            "-CA",
            "ca.pem",
            "-issuer",
            "ca.pem",
            "-cert",
            "site.crt",
            "-no_nonce",
            "-ndays",
            "30",
            "-respout",
            "stapled/site.pem.ocsp",
        ],
    );
}

impl Pki {
    /// The shared set, made on first use.
    pub fn get() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::make)
    }

    fn make() -> Pki {
        let dir = std::env::temp_dir().join(format!("gatehouse-test-pki-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.as_path();
        ca(d, "ca", "Gatehouse Test CA");
        ca(d, "otherca", "Other CA");
        server(d, "default", "rsa", &["default.test"], "0x1001");
        server(d, "site", "ec", &["www.site.test", "site.test"], "0x1002");
        server(d, "wild", "ec", &["*.wild.test"], "0x1003");
        client(d, "ca", "alice", "alice", "0x2001");
        client(d, "ca", "mallory", "mallory", "0x2002");
        client(d, "otherca", "eve", "eve", "0x2003");
        // The CA's CRL, revoking mallory.
        std::fs::write(d.join("index.txt"), "").unwrap();
        std::fs::write(d.join("crlnumber"), "1000\n").unwrap();
        std::fs::write(
            d.join("ca.cnf"),
            "[ca]\ndefault_ca = CA_default\n[CA_default]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
             default_md = sha256\ndefault_crl_days = 30\nprivate_key = ca.key\ncertificate = ca.pem\n\
             crl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n",
        )
        .unwrap();
        run(d, &["ca", "-config", "ca.cnf", "-revoke", "mallory.crt"]);
        run(
            d,
            &["ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem"],
        );
        // A directory of bundles: the first file (alphabetic) is the default one.
        let certs = d.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        for (src, dst) in [
            ("default", "00-default.pem"),
            ("site", "10-site.pem"),
            ("wild", "20-wild.pem"),
        ] {
            std::fs::copy(d.join(format!("{src}.pem")), certs.join(dst)).unwrap();
        }
        stapled(d);
        Pki { dir }
    }

    /// A file of the set (`ca.pem`, `site.pem`, `alice.crt`, `crl.pem`, `certs`…).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The same, as a string for configurations and command lines.
    pub fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

/// What `openssl s_client` saw: whether the handshake succeeded, and its output.
#[derive(Debug)]
pub struct SClient {
    /// A session was established (a certificate received and a cipher agreed).
    pub ok: bool,
    /// stdout and stderr.
    pub out: String,
}

impl SClient {
    /// The subject CN of the certificate the server presented.
    pub fn subject_cn(&self) -> Option<String> {
        let line = self.out.lines().find(|l| l.starts_with("subject="))?;
        let cn = line
            .split("CN = ")
            .nth(1)
            .or_else(|| line.split("CN=").nth(1))?;
        Some(cn.split([',', '/']).next()?.trim().to_string())
    }

    /// The `Cipher is X` of the session.
    pub fn cipher(&self) -> Option<String> {
        let l = self.out.lines().find(|l| l.contains("Cipher is "))?;
        Some(l.rsplit("Cipher is ").next()?.trim().to_string())
    }
}

/// Runs `openssl s_client -connect 127.0.0.1:port` with `args`, sending `input`.
pub fn s_client(port: u16, args: &[&str], input: &str) -> SClient {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl s_client");
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = text.contains("Cipher is ") && !text.contains("Cipher is (NONE)");
    SClient { ok, out: text }
}

/// Runs curl with `args` (`--cacert` etc. given by the caller); its stdout, or `None`
/// when it failed.
pub fn curl(args: &[&str]) -> Option<String> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl must be installed");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// curl to `https://www.site.test:PORT/PATH` on 127.0.0.1, trusting the test CA, as
/// `who` (a client certificate of the test PKI: `alice` sends `alice.crt` and
/// `alice.key`), or with none; `args` go before the URL. Its stdout, or `None` when it
/// failed.
pub fn curl_site(port: u16, who: Option<&str>, path: &str, args: &[&str]) -> Option<String> {
    let pki = Pki::get();
    let ca = pki.p("ca.pem");
    let resolve = format!("www.site.test:{port}:127.0.0.1");
    let url = format!("https://www.site.test:{port}{path}");
    let mut all = vec!["--cacert", ca.as_str(), "--resolve", resolve.as_str()];
    all.extend_from_slice(args);
    let cert = who.map(|w| (pki.p(&format!("{w}.crt")), pki.p(&format!("{w}.key"))));
    if let Some((crt, key)) = &cert {
        all.extend(["--cert", crt.as_str(), "--key", key.as_str()]);
    }
    all.push(&url);
    curl(&all)
}
