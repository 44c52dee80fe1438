//! Stick-table fetches (configuration.txt 7.3.3): the `sc_*` family (the entry a
//! counter tracks: `sc_http_req_rate(0)`, `sc0_conn_cur`, …, the stream's counter
//! first, then the session's), the `src_*` family (the entry of the client's address in
//! a table: `src_conn_rate`, `src_get_gpc0`, …; 0 when there is none), `table_cnt` and
//! `table_avl`. They read the tables through [`crate::acl::LiveState::stick`].

use super::row::*;
use super::{ArgType, ArgVal, Each, FetchCall, FetchDef, Sample};
use crate::acl::{SampleSource, StickAt, StickData as D, StickOp};

/// Operation codes of the generated rows: a data type's index reads it.
const KB_IN: u16 = 100;
const KB_OUT: u16 = 101;
const INC0: u16 = 110;
const INC1: u16 = 111;
const CLR0: u16 = 120;
const CLR1: u16 = 121;
const TRACKED: u16 = 130;
const TRACKERS: u16 = 131;
const GET_GPC: u16 = 140;
const GET_GPT: u16 = 141;
const GPC_RATE: u16 = 142;
const INC_GPC: u16 = 143;
const CLR_GPC: u16 = 144;

/// Forms: `sc_` (counter as first argument), `sc0_`…`sc2_`, `src_`.
const SC: u8 = 0;
const SRC: u8 = 4;

const fn d(x: D) -> u16 {
    x as u16
}

fn is_array(op: u16) -> bool {
    (GET_GPC..=CLR_GPC).contains(&op)
}

/// The string argument at `i`, if given.
fn table_arg(call: &FetchCall, i: usize) -> Option<&str> {
    match call.args.get(i) {
        Some(ArgVal::Str(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn data_of(i: u16) -> D {
    crate::config::model::STICK_DATA[usize::from(i)].0
}

/// Evaluates the row of form `FORM` and operation `OP`.
fn eval<const FORM: u8, const OP: u16>(
    call: &FetchCall,
    s: &dyn SampleSource,
    each: &mut Each<'_>,
) -> bool {
    let Some(live) = s.live() else { return false };
    // A data type of the entry a counter tracks, no table named (`sc_http_req_rate(0)`,
    // `sc0_conn_cur`): the direct read.
    if FORM != SRC && OP < KB_IN {
        let (n, table) = if FORM == SC {
            let Some(n) = call.int_arg(0) else {
                return false;
            };
            (n.max(0) as usize, table_arg(call, 1))
        } else {
            (usize::from(FORM - 1), table_arg(call, 0))
        };
        if table.is_none() {
            return live
                .stick_read(n, data_of(OP), 0)
                .is_some_and(|v| each(Sample::Int(v)));
        }
    }
    let (idx, first) = if is_array(OP) {
        (call.int_arg(0).unwrap_or(0).max(0) as u32, 1)
    } else {
        (0, 0)
    };
    let at = match FORM {
        SC => {
            let Some(n) = call.int_arg(first) else {
                return false;
            };
            StickAt::Slot(n.max(0) as usize, table_arg(call, first + 1))
        }
        SRC => {
            let Some(src) = s.src() else { return false };
            StickAt::Src(table_arg(call, first).unwrap_or(""), src.ip())
        }
        n => StickAt::Slot(usize::from(n - 1), table_arg(call, first)),
    };
    let op = match OP {
        KB_IN => StickOp::Get(D::BytesInCnt, 0),
        KB_OUT => StickOp::Get(D::BytesOutCnt, 0),
        INC0 => StickOp::Inc(0),
        INC1 => StickOp::Inc(1),
        CLR0 => StickOp::Clr(0),
        CLR1 => StickOp::Clr(1),
        TRACKED => StickOp::Tracked,
        TRACKERS => StickOp::Trackers,
        GET_GPC => StickOp::Get(D::Gpc, idx),
        GET_GPT => StickOp::Get(D::Gpt, idx),
        GPC_RATE => StickOp::Get(D::GpcRate, idx),
        INC_GPC => StickOp::Inc(idx + 2),
        CLR_GPC => StickOp::Clr(idx + 2),
        n => StickOp::Get(data_of(n), 0),
    };
    let Some(v) = live.stick(at, op) else {
        return false;
    };
    match OP {
        TRACKED => each(Sample::Bool(v != 0)),
        KB_IN | KB_OUT => each(Sample::Int(v >> 10)),
        _ => each(Sample::Int(v)),
    }
}

fn table_cnt(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.live()
        .and_then(|l| l.table_stat(&call.name, false))
        .is_some_and(|n| each(Sample::Int(n)))
}

fn table_avl(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.live()
        .and_then(|l| l.table_stat(&call.name, true))
        .is_some_and(|n| each(Sample::Int(n)))
}

const SC_ARGS: &[ArgType] = &[I, S];
const SCN_ARGS: &[ArgType] = &[S];
const SC_ARR: &[ArgType] = &[I, I, S];
const SCN_ARR: &[ArgType] = &[I, S];

macro_rules! rows {
    ($( $sfx:literal => $op:expr, $ty:ident );* $(;)?) => {
        &[
            $(
                FetchDef::new(concat!("sc_", $sfx), SmpType::$ty, C, eval::<SC, { $op }>)
                    .args(SC_ARGS, 1),
                FetchDef::new(concat!("sc0_", $sfx), SmpType::$ty, C, eval::<1, { $op }>)
                    .args(SCN_ARGS, 0),
                FetchDef::new(concat!("sc1_", $sfx), SmpType::$ty, C, eval::<2, { $op }>)
                    .args(SCN_ARGS, 0),
                FetchDef::new(concat!("sc2_", $sfx), SmpType::$ty, C, eval::<3, { $op }>)
                    .args(SCN_ARGS, 0),
            )*
        ]
    };
}

macro_rules! src_rows {
    ($( $sfx:literal => $op:expr );* $(;)?) => {
        &[
            $(
                FetchDef::new(concat!("src_", $sfx), SmpType::Int, C, eval::<SRC, { $op }>)
                    .args(SCN_ARGS, 0),
            )*
        ]
    };
}

/// The `sc_*`, `sc0_*`, `sc1_*`, `sc2_*` rows.
pub(super) static FETCHES: &[FetchDef] = rows! {
    "bytes_in_rate" => d(D::BytesInRate), Int;
    "bytes_out_rate" => d(D::BytesOutRate), Int;
    "clr_gpc0" => CLR0, Int;
    "clr_gpc1" => CLR1, Int;
    "conn_cnt" => d(D::ConnCnt), Int;
    "conn_cur" => d(D::ConnCur), Int;
    "conn_rate" => d(D::ConnRate), Int;
    "get_gpc0" => d(D::Gpc0), Int;
    "get_gpc1" => d(D::Gpc1), Int;
    "get_gpt0" => d(D::Gpt0), Int;
    "gpc0_rate" => d(D::Gpc0Rate), Int;
    "gpc1_rate" => d(D::Gpc1Rate), Int;
    "http_err_cnt" => d(D::HttpErrCnt), Int;
    "http_err_rate" => d(D::HttpErrRate), Int;
    "http_fail_cnt" => d(D::HttpFailCnt), Int;
    "http_fail_rate" => d(D::HttpFailRate), Int;
    "http_req_cnt" => d(D::HttpReqCnt), Int;
    "http_req_rate" => d(D::HttpReqRate), Int;
    "inc_gpc0" => INC0, Int;
    "inc_gpc1" => INC1, Int;
    "kbytes_in" => KB_IN, Int;
    "kbytes_out" => KB_OUT, Int;
    "sess_cnt" => d(D::SessCnt), Int;
    "sess_rate" => d(D::SessRate), Int;
    "tracked" => TRACKED, Bool;
    "trackers" => TRACKERS, Int;
};

/// The `src_*` rows.
pub(super) static SRC_FETCHES: &[FetchDef] = src_rows! {
    "bytes_in_rate" => d(D::BytesInRate);
    "bytes_out_rate" => d(D::BytesOutRate);
    "clr_gpc0" => CLR0;
    "clr_gpc1" => CLR1;
    "conn_cnt" => d(D::ConnCnt);
    "conn_cur" => d(D::ConnCur);
    "conn_rate" => d(D::ConnRate);
    "get_gpc0" => d(D::Gpc0);
    "get_gpc1" => d(D::Gpc1);
    "get_gpt0" => d(D::Gpt0);
    "gpc0_rate" => d(D::Gpc0Rate);
    "gpc1_rate" => d(D::Gpc1Rate);
    "http_err_cnt" => d(D::HttpErrCnt);
    "http_err_rate" => d(D::HttpErrRate);
    "http_fail_cnt" => d(D::HttpFailCnt);
    "http_fail_rate" => d(D::HttpFailRate);
    "http_req_cnt" => d(D::HttpReqCnt);
    "http_req_rate" => d(D::HttpReqRate);
    "inc_gpc0" => INC0;
    "inc_gpc1" => INC1;
    "kbytes_in" => KB_IN;
    "kbytes_out" => KB_OUT;
    "sess_cnt" => d(D::SessCnt);
    "sess_rate" => d(D::SessRate);
};

/// The array forms (`sc_get_gpc(idx,ctr)`, `src_get_gpt(idx)`, …) and the table
/// fetches.
pub(super) static OTHER_FETCHES: &[FetchDef] = &[
    FetchDef::new("sc_get_gpc", SmpType::Int, C, eval::<SC, GET_GPC>).args(SC_ARR, 2),
    FetchDef::new("sc_get_gpt", SmpType::Int, C, eval::<SC, GET_GPT>).args(SC_ARR, 2),
    FetchDef::new("sc_gpc_rate", SmpType::Int, C, eval::<SC, GPC_RATE>).args(SC_ARR, 2),
    FetchDef::new("sc_inc_gpc", SmpType::Int, C, eval::<SC, INC_GPC>).args(SC_ARR, 2),
    FetchDef::new("sc_clr_gpc", SmpType::Int, C, eval::<SC, CLR_GPC>).args(SC_ARR, 2),
    FetchDef::new("src_get_gpc", SmpType::Int, C, eval::<SRC, GET_GPC>).args(SCN_ARR, 1),
    FetchDef::new("src_get_gpt", SmpType::Int, C, eval::<SRC, GET_GPT>).args(SCN_ARR, 1),
    FetchDef::new("src_gpc_rate", SmpType::Int, C, eval::<SRC, GPC_RATE>).args(SCN_ARR, 1),
    FetchDef::new("src_inc_gpc", SmpType::Int, C, eval::<SRC, INC_GPC>).args(SCN_ARR, 1),
    FetchDef::new("src_clr_gpc", SmpType::Int, C, eval::<SRC, CLR_GPC>).args(SCN_ARR, 1),
    FetchDef::new("table_cnt", SmpType::Int, C, table_cnt).args(SCN_ARGS, 0),
    FetchDef::new("table_avl", SmpType::Int, C, table_avl).args(SCN_ARGS, 0),
];
