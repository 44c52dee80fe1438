//! Layer-4 fetches (configuration.txt 7.3.3): the client's and the listener's
//! addresses and ports, and the TLVs of the PROXY v2 header the connection began with.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("src", SmpType::Ip, C, src),
    FetchDef::new("fc_src", SmpType::Ip, C, src),
    FetchDef::new("src_port", SmpType::Int, C, src_port),
    FetchDef::new("fc_src_port", SmpType::Int, C, src_port),
    FetchDef::new("dst", SmpType::Ip, C, dst),
    FetchDef::new("fc_dst", SmpType::Ip, C, dst),
    FetchDef::new("dst_port", SmpType::Int, C, dst_port),
    FetchDef::new("fc_dst_port", SmpType::Int, C, dst_port),
    FetchDef::new("fc_pp_authority", SmpType::Str, C, pp_authority),
    FetchDef::new("fc_pp_unique_id", SmpType::Str, C, pp_unique_id),
];

fn pp_tlv(s: &dyn SampleSource, kind: u8, each: &mut Each<'_>) -> bool {
    s.proxy_tlvs()
        .and_then(|t| t.get(kind))
        .is_some_and(|v| each(Sample::Str(v)))
}

fn pp_authority(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    pp_tlv(s, crate::acl::ProxyTlvs::AUTHORITY, each)
}

fn pp_unique_id(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    pp_tlv(s, crate::acl::ProxyTlvs::UNIQUE_ID, each)
}

fn src(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.src().is_some_and(|a| each(Sample::Ip(a.ip())))
}

fn src_port(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.src().is_some_and(|a| each(Sample::Int(a.port().into())))
}

fn dst(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.dst().is_some_and(|a| each(Sample::Ip(a.ip())))
}

fn dst_port(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.dst().is_some_and(|a| each(Sample::Int(a.port().into())))
}
