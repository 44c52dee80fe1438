//! `http-request use-service prometheus-exporter`: the metric families of HAProxy
//! 2.6's exporter (names, types, help texts, labels), checked against HAProxy's own
//! output for the same configuration, linted by `promtool check metrics`, and scraped
//! by a real Prometheus whose query API then answers `up` and a gatehouse metric.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::stats::stats_defaults;
use support::{Config, HttpBackend, TempDir, free_port, http_get_until_close, local};
use support::{proxy_builder, wait_until};

const CFG: &str = concat!(
    stats_defaults!(),
    "\
frontend fe
    bind 127.0.0.1:{fe}
    default_backend app
backend app
    option httpchk GET /
    server node1 {node1} check inter 200ms
    server node2 127.0.0.1:1 check inter 200ms rise 1 fall 1
    server spare {node1} backup
    server off {node1} disabled
frontend metrics
    bind 127.0.0.1:{metrics}
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend app
listen plain
    mode tcp
    bind 127.0.0.1:{tcp}
    server t1 {node1}
"
);

/// The exporter's page from the proxy on `port`.
fn scrape(port: u16) -> String {
    scrape_path(port, "/metrics")
}

fn scrape_path(port: u16, path: &str) -> String {
    let r = http_get_until_close(local(port), path, &[]).expect("metrics");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    r.body_str()
}

/// Families by name: (type, help).
fn families(text: &str) -> BTreeMap<String, (String, String)> {
    let mut help = BTreeMap::new();
    let mut out = BTreeMap::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("# HELP ") {
            let (n, h) = rest.split_once(' ').unwrap_or((rest, ""));
            help.insert(n.to_owned(), h.to_owned());
        } else if let Some(rest) = l.strip_prefix("# TYPE ") {
            let (n, t) = rest.split_once(' ').unwrap_or((rest, ""));
            out.insert(
                n.to_owned(),
                (t.to_owned(), help.get(n).cloned().unwrap_or_default()),
            );
        }
    }
    out
}

/// The value of the sample `name{labels}` exactly as written.
fn sample(text: &str, series: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ').map(str::to_owned))
}

/// `promtool check metrics` on `text`: (exit status, its findings).
fn promtool(text: &str) -> (i32, Vec<String>) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    let mut findings: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    findings.sort();
    (out.status.code().unwrap_or(-1), findings)
}

fn start(haproxy: bool, cfg: &Config) -> (support::Daemon, Config) {
    let cfg = cfg.with_fresh_ports();
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    (d, cfg)
}

fn config(node1: &HttpBackend) -> Config {
    Config::new(CFG)
        .listen_port("fe")
        .listen_port("metrics")
        .listen_port("tcp")
        .var("node1", node1.addr())
}

/// Waits until the exporter of `port` reports node2 DOWN and node1 UP (checks ran).
fn settled(port: u16) -> String {
    let mut text = String::new();
    let ok = wait_until(support::DEFAULT_TIMEOUT, || {
        text = scrape(port);
        sample(
            &text,
            "haproxy_server_status{proxy=\"app\",server=\"node2\",state=\"DOWN\"}",
        )
        .as_deref()
            == Some("1")
            && sample(
                &text,
                "haproxy_server_status{proxy=\"app\",server=\"node1\",state=\"UP\"}",
            )
            .as_deref()
                == Some("1")
    });
    assert!(ok, "checks did not settle:\n{text}");
    text
}

#[test]
fn exporter_families_match_haproxys_and_pass_promtool() {
    support::require_haproxy();
    let node1 = HttpBackend::start("node1");
    let cfg = config(&node1);
    let (_h, hcfg) = start(true, &cfg);
    let (_g, gcfg) = start(false, &cfg);
    // Once the checks took node2 out, three requests through each proxy.
    for c in [&hcfg, &gcfg] {
        settled(c.port("metrics"));
        for i in 0..3 {
            let r = http_get_until_close(local(c.port("fe")), &format!("/{i}"), &[]).expect("GET");
            assert_eq!(r.status, 200);
        }
    }
    let h = settled(hcfg.port("metrics"));
    let g = settled(gcfg.port("metrics"));

    // The same families, with the same types and help texts.
    let (hf, gf) = (families(&h), families(&g));
    assert_eq!(
        gf.keys().collect::<Vec<_>>(),
        hf.keys().collect::<Vec<_>>(),
        "metric families"
    );
    assert_eq!(gf, hf);
    // The same series (label sets), in the same order.
    let series = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("haproxy_process_build_info"))
            .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
            .collect::<Vec<_>>()
    };
    let (gs, hs) = (series(&g), series(&h));
    let missing: Vec<_> = hs.iter().filter(|s| !gs.contains(s)).collect();
    let extra: Vec<_> = gs.iter().filter(|s| !hs.contains(s)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    assert_eq!(gs, hs, "series order");

    // The exporter's `scope` and `no-maint` parameters.
    for q in [
        "?scope=backend&scope=server&no-maint",
        "?scope=frontend",
        "?scope=global&scope=",
        "?scope=*",
    ] {
        let path = format!("/metrics{q}");
        let (hq, gq) = (
            scrape_path(hcfg.port("metrics"), &path),
            scrape_path(gcfg.port("metrics"), &path),
        );
        assert_eq!(series(&gq), series(&hq), "{q}");
        assert_eq!(families(&gq), families(&hq), "{q}");
    }
    let scoped = scrape_path(gcfg.port("metrics"), "/metrics?scope=server&no-maint");
    assert!(!scoped.contains("server=\"off\""));
    assert!(!scoped.contains("haproxy_backend_"));
    assert!(g.contains("haproxy_server_status{proxy=\"app\",server=\"off\",state=\"MAINT\"} 1"));
    for c in [&hcfg, &gcfg] {
        let r = http_get_until_close(local(c.port("metrics")), "/metrics?scope=nope", &[])
            .expect("GET");
        assert_eq!(r.status, 400);
    }

    // Values an operator's alerts read.
    for s in [
        "haproxy_server_status{proxy=\"app\",server=\"node1\",state=\"UP\"}",
        "haproxy_server_status{proxy=\"app\",server=\"node2\",state=\"DOWN\"}",
        "haproxy_backend_status{proxy=\"app\",state=\"UP\"}",
        "haproxy_frontend_status{proxy=\"fe\",state=\"UP\"}",
        "haproxy_server_check_status{proxy=\"app\",server=\"node2\",state=\"L4CON\"}",
        "haproxy_server_check_status{proxy=\"app\",server=\"node1\",state=\"L7OK\"}",
    ] {
        assert_eq!(sample(&g, s).as_deref(), Some("1"), "{s}");
    }
    for s in [
        "haproxy_frontend_http_responses_total{proxy=\"fe\",code=\"2xx\"}",
        "haproxy_backend_http_responses_total{proxy=\"app\",code=\"2xx\"}",
        "haproxy_server_sessions_total{proxy=\"app\",server=\"node1\"}",
        "haproxy_backend_http_responses_total{proxy=\"app\",code=\"5xx\"}",
        "haproxy_server_weight{proxy=\"app\",server=\"node1\"}",
        "haproxy_server_check_up_down_total{proxy=\"app\",server=\"node2\"}",
    ] {
        assert_eq!(sample(&g, s), sample(&h, s), "{s}");
    }
    let fails: u64 = sample(
        &g,
        "haproxy_server_check_failures_total{proxy=\"app\",server=\"node2\"}",
    )
    .expect("check failures")
    .parse()
    .expect("number");
    assert!(fails >= 1);

    // promtool parses it; its only findings are those it has for HAProxy's own page
    // (the names are HAProxy's, kept for existing dashboards).
    let (hrc, hfind) = promtool(&h);
    let (grc, gfind) = promtool(&g);
    assert!(grc == 0 || grc == hrc, "promtool: {grc} {gfind:?}");
    for f in &gfind {
        assert!(hfind.contains(f), "promtool finding not in HAProxy's: {f}");
        assert!(!f.contains("error"), "promtool: {f}");
    }
}

#[test]
fn a_real_prometheus_scrapes_gatehouse() {
    let node1 = HttpBackend::start("node1");
    let (_g, cfg) = start(false, &config(&node1));
    let dir = TempDir::new("prometheus");
    let web = free_port();
    let prom_cfg = dir.write(
        "prometheus.yml",
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: gatehouse\n    metrics_path: /metrics\n\
             \x20   static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            cfg.port("metrics")
        ),
    );
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", prom_cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian package prometheus)");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _kill = Kill(&mut prom);
    let query = |q: &str| -> Option<serde_json::Value> {
        let path = format!("/api/v1/query?query={}", urlencode(q));
        let r = http_get_until_close(local(web), &path, &[]).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
        (v["status"] == "success").then(|| v["data"]["result"].clone())
    };
    let value = |q: &str| -> Option<String> {
        query(q)?
            .as_array()?
            .first()?
            .get("value")?
            .get(1)?
            .as_str()
            .map(str::to_owned)
    };
    let up = wait_until(Duration::from_secs(60), || {
        value("up{job=\"gatehouse\"}").as_deref() == Some("1")
    });
    assert!(up, "Prometheus never scraped gatehouse successfully");
    let served = wait_until(Duration::from_secs(30), || {
        value("haproxy_server_status{proxy=\"app\",server=\"node1\",state=\"UP\"}").as_deref()
            == Some("1")
    });
    assert!(served, "no haproxy_server_status sample for app/node1");
    assert_eq!(
        value("haproxy_process_nbproc{job=\"gatehouse\"}").as_deref(),
        Some("1")
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn an_unknown_service_is_refused_as_haproxy_refuses_it() {
    let haproxy = support::require_haproxy();
    let dir = TempDir::new("use-service");
    let cfg = dir.write(
        "s.cfg",
        "defaults\n    mode http\nfrontend f\n    bind 127.0.0.1:1\n    http-request use-service foo\n",
    );
    let msg = "error detected in frontend 'f' while parsing 'http-request use-service' rule : 'foo' unknown service name.";
    for bin in [haproxy, support::gatehouse_bin()] {
        let (code, _, err) = support::check(&bin, &[&cfg]);
        assert_ne!(code, 0, "{}", bin.display());
        assert!(err.contains(msg), "{}: {err}", bin.display());
        assert_eq!(support::first_alert_line(&err, &cfg), Some(5), "{err}");
    }
}
