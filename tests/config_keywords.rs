//! Every keyword HAProxy 2.6.12 has for the `global` section and for `bind` and
//! `server` lines is known to gatehouse (supported or not yet), so that a real
//! HAProxy keyword is never answered with "unknown keyword" and a misleading
//! suggestion. The lists come from HAProxy 2.6's configuration.txt (sections 3, 5.1,
//! 5.2) and `haproxy -dKall` of Debian's 2.6.12 package.

use gatehouse::config::Loaded;
use gatehouse::config::keyword::Status;
use gatehouse::config::registry::entries;
use gatehouse::load::load_sources;

const GLOBAL: &[&str] = &[
    "51degrees-cache-size",
    "51degrees-data-file",
    "51degrees-property-name-list",
    "51degrees-property-separator",
    "busy-polling",
    "ca-base",
    "chroot",
    "close-spread-time",
    "cluster-secret",
    "cpu-map",
    "crt-base",
    "daemon",
    "default-path",
    "description",
    "deviceatlas-json-file",
    "deviceatlas-log-level",
    "deviceatlas-properties-cookie",
    "deviceatlas-separator",
    "expose-experimental-directives",
    "external-check",
    "fd-hard-limit",
    "gid",
    "grace",
    "group",
    "h1-accept-payload-with-any-method",
    "h1-case-adjust",
    "h1-case-adjust-file",
    "h2-workaround-bogus-websocket-clients",
    "hard-stop-after",
    "httpclient.resolvers.id",
    "httpclient.resolvers.prefer",
    "httpclient.ssl.ca-file",
    "httpclient.ssl.verify",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "issuers-chain-path",
    "localpeer",
    "log",
    "log-send-hostname",
    "log-tag",
    "lua-load",
    "lua-load-per-thread",
    "lua-prepend-path",
    "master-worker",
    "max-spread-checks",
    "maxcompcpuusage",
    "maxcomprate",
    "maxconn",
    "maxconnrate",
    "maxpipes",
    "maxsessrate",
    "maxsslconn",
    "maxsslrate",
    "maxzlibmem",
    "mworker-max-reloads",
    "nbthread",
    "no-memory-trimming",
    "node",
    "noepoll",
    "noevports",
    "nogetaddrinfo",
    "nokqueue",
    "nopoll",
    "noreuseport",
    "nosplice",
    "numa-cpu-mapping",
    "pidfile",
    "pp2-never-send-local",
    "presetenv",
    "profiling.memory",
    "profiling.tasks",
    "quiet",
    "resetenv",
    "server-state-base",
    "server-state-file",
    "set-dumpable",
    "set-var",
    "set-var-fmt",
    "setenv",
    "spread-checks",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-curves",
    "ssl-default-bind-options",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ssl-engine",
    "ssl-load-extra-del-ext",
    "ssl-load-extra-files",
    "ssl-mode-async",
    "ssl-propquery",
    "ssl-provider",
    "ssl-provider-path",
    "ssl-server-verify",
    "ssl-skip-self-issued-ca",
    "strict-limits",
    "thread-group",
    "thread-groups",
    "tune.buffers.limit",
    "tune.buffers.reserve",
    "tune.bufsize",
    "tune.comp.maxlevel",
    "tune.fail-alloc",
    "tune.fd.edge-triggered",
    "tune.h2.header-table-size",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.h2.max-frame-size",
    "tune.http.cookielen",
    "tune.http.logurilen",
    "tune.http.maxhdr",
    "tune.idle-pool.shared",
    "tune.idletimer",
    "tune.listener.multi-queue",
    "tune.lua.forced-yield",
    "tune.lua.maxmem",
    "tune.lua.service-timeout",
    "tune.lua.session-timeout",
    "tune.lua.task-timeout",
    "tune.maxaccept",
    "tune.maxpollevents",
    "tune.maxrewrite",
    "tune.pattern.cache-size",
    "tune.peers.max-updates-at-once",
    "tune.pipesize",
    "tune.pool-high-fd-ratio",
    "tune.pool-low-fd-ratio",
    "tune.quic.frontend.conn-tx-buffers.limit",
    "tune.quic.frontend.max-idle-timeout",
    "tune.quic.frontend.max-streams-bidi",
    "tune.quic.retry-threshold",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.recv_enough",
    "tune.runqueue-depth",
    "tune.sched.low-latency",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "tune.ssl.cachesize",
    "tune.ssl.capture-buffer-size",
    "tune.ssl.capture-cipherlist-size",
    "tune.ssl.default-dh-param",
    "tune.ssl.force-private-cache",
    "tune.ssl.hard-maxrecord",
    "tune.ssl.keylog",
    "tune.ssl.lifetime",
    "tune.ssl.maxrecord",
    "tune.ssl.ssl-ctx-cache-size",
    "tune.vars.check-max-size",
    "tune.vars.global-max-size",
    "tune.vars.proc-max-size",
    "tune.vars.reqres-max-size",
    "tune.vars.sess-max-size",
    "tune.vars.txn-max-size",
    "tune.zlib.memlevel",
    "tune.zlib.windowsize",
    "uid",
    "ulimit-n",
    "unix-bind",
    "unsetenv",
    "user",
    "wurfl-cache-size",
    "wurfl-data-file",
    "wurfl-information-list",
    "wurfl-information-list-separator",
    "wurfl-patch-file",
    "zero-warning",
    "stats socket",
    "stats timeout",
    "stats maxconn",
    "stats bind-process",
];

const BIND: &[&str] = &[
    "accept-netscaler-cip",
    "accept-proxy",
    "allow-0rtt",
    "alpn",
    "backlog",
    "ca-file",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ca-verify-file",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "crt-ignore-err",
    "crt-list",
    "curves",
    "defer-accept",
    "ecdhe",
    "expose-fd",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "generate-certificates",
    "gid",
    "group",
    "id",
    "interface",
    "level",
    "maxconn",
    "mode",
    "mss",
    "name",
    "namespace",
    "nice",
    "no-ca-names",
    "no-sslv3",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "npn",
    "prefer-client-ciphers",
    "process",
    "proto",
    "severity-output",
    "shards",
    "ssl-max-ver",
    "ssl-min-ver",
    "strict-sni",
    "tcp-ut",
    "tfo",
    "thread",
    "tls-ticket-keys",
    "transparent",
    "uid",
    "user",
    "v4v6",
    "v6only",
    "verify",
];

const SERVER: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "backup",
    "ca-file",
    "check",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "cookie",
    "crl-file",
    "crt",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "id",
    "init-addr",
    "inter",
    "log-proto",
    "max-reuse",
    "maxconn",
    "maxqueue",
    "minconn",
    "namespace",
    "no-agent-check",
    "no-backup",
    "no-check",
    "no-check-send-proxy",
    "no-check-ssl",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "no-ssl",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tfo",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "non-stick",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "proxy-v2-options",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "rise",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "slowstart",
    "sni",
    "socks4",
    "source",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "ssl-reuse",
    "stick",
    "tcp-ut",
    "tfo",
    "tls-tickets",
    "track",
    "usesrc",
    "verify",
    "verifyhost",
    "weight",
    "ws",
];

fn load(text: &str) -> Loaded {
    load_sources(&[("t.cfg".to_string(), text.to_string())], &|_| None)
}

#[test]
fn every_haproxy_2_6_global_bind_and_server_keyword_is_in_the_registry() {
    let e = entries();
    let mut missing = Vec::new();
    for (section, list) in [("global", GLOBAL), ("bind", BIND), ("server", SERVER)] {
        for k in list {
            if !e.iter().any(|x| x.section == section && x.name == *k) {
                missing.push(format!("{section} {k}"));
            }
        }
    }
    assert!(missing.is_empty(), "unknown to gatehouse: {missing:?}");
}

#[test]
fn a_not_yet_global_keyword_is_refused_saying_so_not_as_unknown() {
    let not_yet: Vec<String> = entries()
        .into_iter()
        .filter(|x| x.section == "global" && x.status == Status::NotYet)
        .map(|x| x.name)
        .collect();
    assert!(not_yet.len() > 100, "{}", not_yet.len());
    for k in &not_yet {
        let l = load(&format!("global\n    {k} 1\n"));
        let first = l
            .diags
            .iter()
            .find(|d| d.is_alert())
            .map(|d| d.message.clone());
        assert_eq!(
            first,
            Some(format!(
                "'{k}' in section 'global' is a HAProxy keyword that gatehouse does not support yet."
            ))
        );
    }
}

#[test]
fn not_yet_bind_and_server_options_are_refused_saying_so() {
    let l = load("frontend f\n    bind 127.0.0.1:8080 shards 2\n");
    let first = l
        .diags
        .iter()
        .find(|d| d.is_alert())
        .map(|d| d.message.as_str());
    assert_eq!(
        first,
        Some(
            "'bind 127.0.0.1:8080' in section 'frontend': keyword 'shards' is a HAProxy keyword that gatehouse does not support yet."
        )
    );
    for opt in [
        "tls-tickets",
        "non-stick",
        "no-tfo",
        "pool-max-conn 5",
        "socks4 127.0.0.1:1080",
    ] {
        let l = load(&format!("backend b\n    server s 127.0.0.1:80 {opt}\n"));
        let first = l
            .diags
            .iter()
            .find(|d| d.is_alert())
            .map(|d| d.message.clone());
        let name = opt.split(' ').next().unwrap_or(opt);
        assert_eq!(
            first,
            Some(format!(
                "'server b/s' in section 'backend' : keyword '{name}' is a HAProxy keyword that gatehouse does not support yet."
            )),
            "{opt}"
        );
    }
}
