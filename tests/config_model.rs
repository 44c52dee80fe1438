//! What the parser puts in the typed model: the values of `server`/`default-server`
//! options, `bind` options and address forms, several `global` sections merging, and
//! which `defaults` section a proxy copied (named defaults and `from`). Each expected
//! value is HAProxy 2.6's meaning of the line (configuration.txt sections 4 and 5).

use gatehouse::config::Loaded;
use gatehouse::config::diag::Level;
use gatehouse::config::model::{BindAddr, Config, Mode, Proxy, ServerAddr};
use gatehouse::load::load_sources;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

fn load(text: &str) -> Loaded {
    load_sources(&[("t.cfg".to_string(), text.to_string())], &|_| None)
}

/// Loads a configuration that must have no alert.
fn ok(text: &str) -> Config {
    let l = load(text);
    let alerts: Vec<String> = l
        .diags
        .iter()
        .filter(|d| d.is_alert())
        .map(ToString::to_string)
        .collect();
    assert!(
        alerts.is_empty(),
        "unexpected alerts:\n{}",
        alerts.join("\n")
    );
    l.config
}

fn proxy<'c>(c: &'c Config, name: &str) -> &'c Proxy {
    c.proxies
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no proxy {name}"))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn server_options_are_parsed_with_their_values() {
    let c = ok("backend b
    server s1 10.0.0.1:8080 check inter 3s fastinter 500 downinter 1m rise 4 fall 5 port 9000 addr 10.0.0.9 weight 50 maxconn 100 maxqueue 7 backup disabled cookie c1
    server s2 10.0.0.2
");
    let b = proxy(&c, "b");
    let s1 = &b.servers[0];
    assert_eq!(
        s1.addr,
        ServerAddr::Inet {
            host: "10.0.0.1".into(),
            port: Some(8080),
            offset: None
        }
    );
    let o = &s1.opts;
    assert!(o.check);
    assert_eq!(o.inter, ms(3000));
    // A number without unit is milliseconds.
    assert_eq!(o.fastinter, Some(ms(500)));
    assert_eq!(o.downinter, Some(ms(60_000)));
    assert_eq!((o.rise, o.fall), (4, 5));
    assert_eq!(o.check_port, Some(9000));
    assert_eq!(o.check_addr.as_deref(), Some("10.0.0.9"));
    assert_eq!((o.weight, o.maxconn, o.maxqueue), (50, 100, 7));
    assert!(o.backup && o.disabled);
    assert_eq!(o.cookie.as_deref(), Some("c1"));
    // HAProxy's defaults: inter 2s, rise 2, fall 3, weight 1, no limit, port of
    // the client's destination when none is given.
    let s2 = &b.servers[1];
    assert_eq!(
        s2.addr,
        ServerAddr::Inet {
            host: "10.0.0.2".into(),
            port: None,
            offset: None
        }
    );
    let d = &s2.opts;
    assert!(!d.check && !d.backup && !d.disabled);
    assert_eq!(d.inter, ms(2000));
    assert_eq!((d.fastinter, d.downinter), (None, None));
    assert_eq!((d.rise, d.fall, d.weight, d.maxconn), (2, 3, 1, 0));
    assert_eq!((d.check_port, d.check_addr.as_deref()), (None, None));
}

#[test]
fn default_server_values_are_inherited_and_overridden_per_server() {
    let c = ok("defaults
    default-server inter 4s rise 5 weight 20
backend b
    default-server fall 6 maxconn 30
    server s1 10.0.0.1:80 weight 7
    server s2 10.0.0.2:80 inter 1s
");
    let b = proxy(&c, "b");
    let (s1, s2) = (&b.servers[0].opts, &b.servers[1].opts);
    // From the defaults section's default-server, then the backend's, then the line.
    assert_eq!(
        (s1.inter, s1.rise, s1.fall, s1.weight, s1.maxconn),
        (ms(4000), 5, 6, 7, 30)
    );
    assert_eq!(
        (s2.inter, s2.rise, s2.fall, s2.weight, s2.maxconn),
        (ms(1000), 5, 6, 20, 30)
    );
}

#[test]
fn bind_options_and_address_forms_are_parsed() {
    let l = load(
        "frontend f
    bind ipv4@127.0.0.1:8080,ipv4@:8081 name web maxconn 50 backlog 20
    bind [::1]:8443 v6only name v6
    bind ipv6@:::9000-9002 v4v6
    bind 127.0.0.1:8444 alpn h2,http/1.1 accept-proxy
",
    );
    let f = proxy(&l.config, "f");
    let b0 = &f.binds[0];
    assert_eq!(
        b0.addrs,
        [
            BindAddr::Inet {
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port_start: 8080,
                port_end: 8080
            },
            BindAddr::Inet {
                ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port_start: 8081,
                port_end: 8081
            },
        ]
    );
    assert_eq!(b0.name.as_deref(), Some("web"));
    assert_eq!((b0.maxconn, b0.backlog), (Some(50), Some(20)));
    assert!(!b0.v6only && !b0.v4v6 && !b0.accept_proxy && b0.tls.alpn.is_none());
    let b1 = &f.binds[1];
    assert_eq!(
        b1.addrs,
        [BindAddr::Inet {
            ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
            port_start: 8443,
            port_end: 8443
        }]
    );
    assert!(b1.v6only);
    assert_eq!(b1.name.as_deref(), Some("v6"));
    let b2 = &f.binds[2];
    assert_eq!(
        b2.addrs,
        [BindAddr::Inet {
            ip: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            port_start: 9000,
            port_end: 9002
        }]
    );
    assert!(b2.v4v6);
    let b3 = &f.binds[3];
    assert_eq!(
        b3.tls.alpn.as_deref(),
        Some(&["h2".to_string(), "http/1.1".to_string()][..])
    );
    assert!(b3.accept_proxy);
    // Everything on these lines loads.
    assert!(!l.has_errors(), "{:?}", l.diags);
}

#[test]
fn several_global_sections_merge_and_a_second_maxconn_is_ignored_as_in_haproxy() {
    let l = load(
        "global
    maxconn 100
    nbthread 2
    ca-base /etc/ssl/certs
frontend f
    bind 127.0.0.1:8080
global
    maxconn 200
    pidfile /run/g.pid
    description two words
    log-tag edge
",
    );
    assert!(!l.has_errors());
    let g = &l.config.global;
    assert_eq!(g.maxconn, Some(100), "HAProxy keeps the first maxconn");
    assert_eq!(g.nbthread, Some(2));
    assert_eq!(
        g.pidfile.as_deref(),
        Some(std::path::Path::new("/run/g.pid"))
    );
    assert_eq!(g.ca_base.as_deref(), Some("/etc/ssl/certs"));
    assert_eq!(g.description.as_deref(), Some("two words"));
    assert_eq!(g.log_tag.as_deref(), Some("edge"));
    let warned: Vec<(u32, &str)> = l
        .diags
        .iter()
        .filter(|d| d.level == Level::Warning && d.message.contains("already"))
        .map(|d| (d.span.as_ref().map_or(0, |s| s.line), d.message.as_str()))
        .collect();
    assert_eq!(warned, [(8, "'maxconn' already specified. Continuing.")]);
}

const NAMED_DEFAULTS: &str = "defaults base
    mode http
    timeout client 11s
    retries 7
    option forwardfor
defaults other
    timeout client 22s
    timeout connect 3s
defaults derived from base
    timeout connect 4s
frontend f1 from base
    bind 127.0.0.1:8080
frontend f2
    bind 127.0.0.1:8081
backend b1 from derived
    server s 127.0.0.1:80
backend b2
    retries 9
    server s 127.0.0.1:80
";

#[test]
fn proxies_copy_the_named_defaults_or_the_last_one() {
    let c = ok(NAMED_DEFAULTS);
    let f1 = proxy(&c, "f1");
    assert_eq!(f1.from.as_deref(), Some("base"));
    assert_eq!(f1.mode, Mode::Http);
    assert_eq!(f1.timeouts.client, Some(ms(11_000)));
    assert_eq!(f1.retries, 7);
    assert!(f1.options.forwardfor.is_some());
    // f2 copies the last defaults section, `derived` (from base), not `other`.
    let f2 = proxy(&c, "f2");
    assert_eq!(f2.from.as_deref(), Some("derived"));
    assert_eq!(f2.mode, Mode::Http);
    assert_eq!(f2.timeouts.client, Some(ms(11_000)));
    assert_eq!(f2.timeouts.connect, Some(ms(4000)));
    let b1 = proxy(&c, "b1");
    assert_eq!(b1.timeouts.connect, Some(ms(4000)));
    assert_eq!(b1.retries, 7);
    // A proxy's own keyword overrides the copied value.
    assert_eq!(proxy(&c, "b2").retries, 9);
}

#[test]
fn a_defaults_section_without_from_starts_from_haproxy_s_documented_values() {
    // HAProxy: "A defaults section resets all settings to the documented ones".
    let c = ok("defaults first
    mode http
    timeout client 11s
    retries 7
defaults second
    timeout connect 3s
backend b
    server s 127.0.0.1:80
");
    let b = proxy(&c, "b");
    assert_eq!(b.from.as_deref(), Some("second"));
    assert_eq!(b.mode, Mode::Tcp, "mode is not inherited from 'first'");
    assert_eq!(b.timeouts.client, None);
    assert_eq!(b.timeouts.connect, Some(ms(3000)));
    assert_eq!(b.retries, 3, "HAProxy's default retries");
}

#[test]
fn a_defaults_section_with_from_copies_the_named_one_then_overrides_it() {
    let c = ok("defaults d
    retries 4
backend early
    server s 127.0.0.1:80
defaults d2 from d
    retries 5
backend late
    server s 127.0.0.1:80
");
    assert_eq!(proxy(&c, "early").retries, 4);
    assert_eq!(proxy(&c, "late").retries, 5);
}
