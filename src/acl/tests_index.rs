//! Tests of the `Host` index of ordered rules: it finds the rule a linear scan finds,
//! for keyed and unkeyed rules mixed, every case and shape of `Host`.

use super::tests::req;
use super::*;
use crate::config::model::{AclDef, AclExpr};

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn set(lines: &[&str]) -> AclSet {
    let defs: Vec<AclDef> = lines
        .iter()
        .map(|l| {
            let mut w = words(l);
            let name = w.remove(0);
            AclDef {
                name,
                expr: AclExpr {
                    span: Span::new("t.cfg", 1),
                    words: w,
                },
            }
        })
        .collect();
    AclSet::compile(&defs).expect("acls")
}

fn conds(set: &AclSet, rules: &[&str]) -> Vec<Option<CompiledCondition>> {
    rules
        .iter()
        .map(|r| {
            (!r.is_empty()).then(|| {
                let c = parse_condition(&words(r), &Span::new("t.cfg", 2)).expect("parse");
                set.condition(&c).expect("compile")
            })
        })
        .collect()
}

fn linear(conds: &[Option<CompiledCondition>], r: &dyn SampleSource) -> Option<usize> {
    conds
        .iter()
        .position(|c| c.as_ref().is_none_or(|c| c.eval(r)))
}

/// Keyed and unkeyed rules in one list: every request is routed as a linear scan would.
#[test]
fn index_finds_the_rule_a_linear_scan_finds() {
    let set = set(&[
        "h_multi hdr(host) -i multi.example.com",
        "h_multi req.hdr(Host) other.example.com",
        "p_api path_beg /api",
        "h_exact hdr(host) Exact.Example.com",
        "h_e hdr(host) -i e.example.com",
    ]);
    let rules = [
        "if { hdr(host) -i a.example.com } { path_beg /a }",
        "if { path_beg /x }", // not keyed: a candidate for every host
        "if h_exact",         // case-sensitive: only `Exact.Example.com`
        "if { hdr(host) -i c.example.com } || { hdr(host) -i d.example.com } p_api",
        "if !h_e { path_beg /not-e }", // negated: not keyed
        "if h_multi",
        "if p_api { hdr(host) -i a.example.com }", // host not first: not keyed
        "unless { hdr(host) -i f.example.com } || { hdr(host) -i b.example.com }", // not keyed
        "if { hdr(host) -i a.example.com }",
        "if { hdr(host),lower -i g.example.com }", // converter: not keyed
        "if { hdr_beg(host) -i h. }",              // not an exact match: not keyed
        "if { hdr(host) -i b.example.com }",
    ];
    let conds = conds(&set, &rules);
    let index = RuleIndex::build(conds.iter().map(Option::as_ref)).expect("enough keyed rules");
    let hosts: &[&[&'static str]] = &[
        &[],
        &["a.example.com"],
        &["A.EXAMPLE.COM"],
        &["exact.example.com"],
        &["Exact.Example.com"],
        &["c.example.com"],
        &["D.example.com"],
        &["e.example.com"],
        &["f.example.com"],
        &["multi.example.com"],
        &["OTHER.example.com"],
        &["other.example.com"],
        &["g.example.com"],
        &["h.example.com"],
        &["b.example.com"],
        &["unknown.example.com"],
        &["b.example.com", "a.example.com"],
        &["a.example.com, b.example.com"],
        &[" b.example.com "],
        &[""],
    ];
    let paths = ["/", "/a", "/api/v1", "/x", "/not-e", "/zzz"];
    let mut long = String::from("a");
    long.push_str(&".x".repeat(200));
    let long: &'static str = Box::leak(long.into_boxed_str());
    let mut checked = 0;
    for host in hosts.iter().copied().chain([&[long] as &[&str]]) {
        for path in paths {
            let headers: Vec<(&'static str, &'static str)> =
                host.iter().map(|h| ("Host", *h)).collect();
            let r = req("GET", path, &headers);
            let mut evaluated = Vec::new();
            let got = index.first(&r, |i| {
                evaluated.push(i);
                conds[i].as_ref().is_none_or(|c| c.eval(&r))
            });
            assert_eq!(got, linear(&conds, &r), "host {host:?} path {path}");
            assert!(
                evaluated.windows(2).all(|w| w[0] < w[1]),
                "rules evaluated in order: {evaluated:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, (hosts.len() + 1) * paths.len());
    // The index skips what cannot match: host `b` evaluates the unkeyed rules before
    // rule 11, not the other keyed ones.
    let r = req("GET", "/", &[("Host", "b.example.com")]);
    let mut evaluated = Vec::new();
    let got = index.first(&r, |i| {
        evaluated.push(i);
        conds[i].as_ref().is_none_or(|c| c.eval(&r))
    });
    assert_eq!(got, Some(11));
    assert_eq!(evaluated, vec![1, 4, 6, 7, 9, 10, 11]);
}

/// A rule without a condition always matches, in its place.
#[test]
fn a_rule_without_condition_stops_the_scan_in_its_place() {
    let set = set(&[]);
    let mut rules: Vec<String> = (0..6)
        .map(|n| format!("if {{ hdr(host) -i h{n}.example.com }}"))
        .collect();
    rules.insert(3, String::new());
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    let conds = conds(&set, &rules);
    let index = RuleIndex::build(conds.iter().map(Option::as_ref)).expect("index");
    let first = |host: &'static str| {
        let r = req("GET", "/", &[("Host", host)]);
        index.first(&r, |i| conds[i].as_ref().is_none_or(|c| c.eval(&r)))
    };
    assert_eq!(first("h1.example.com"), Some(1));
    assert_eq!(first("h4.example.com"), Some(3));
    assert_eq!(first("nowhere"), Some(3));
}

/// Too few keyed rules: no index (the linear scan is as cheap).
#[test]
fn few_keyed_rules_build_no_index() {
    let set = set(&[]);
    let conds = conds(
        &set,
        &[
            "if { hdr(host) -i a }",
            "if { hdr(host) -i b }",
            "if { path_beg /x }",
            "if { hdr(host) -i c }",
        ],
    );
    assert!(RuleIndex::build(conds.iter().map(Option::as_ref)).is_none());
}
