//! Stick-table converters (configuration.txt 7.3.1): `in_table(<table>)` and the
//! `table_*(<table>)` family (`table_http_req_rate`, `table_conn_cur`, `table_gpc0`, …,
//! `table_gpc(<idx>,<table>)`): the input sample is the key looked up in the table;
//! 0 when the table has no entry for it (`in_table`: false), no sample when the table
//! does not store the data.

use super::row::*;
use crate::acl::{SampleSource, StickAt, StickData as D, StickKey, StickOp};

/// What a converter reads.
#[derive(Clone, Copy, Debug)]
enum What {
    /// `in_table`: whether the key has an entry.
    In,
    /// A data type (element `idx` of arrays).
    Get(D),
    /// `table_kbytes_in` / `table_kbytes_out`.
    Kbytes(D),
    /// `table_trackers`.
    Trackers,
}

#[derive(Debug)]
struct TableConv {
    table: Box<str>,
    what: What,
    idx: u32,
}

impl Conv for TableConv {
    fn step(&self, _cur: Cur, _buf: &mut Vec<u8>) -> Option<Cur> {
        None
    }
    fn step_in(&self, cur: Cur, buf: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Cur> {
        let live = src.live()?;
        let key = match cur {
            Cur::Bool(b) => StickKey::Int(i64::from(b)),
            Cur::Int(n) => StickKey::Int(n),
            Cur::Ip(ip) => StickKey::Ip(ip),
            Cur::Str(s, e) => StickKey::Str(&buf[s..e]),
        };
        let at = StickAt::Key(&self.table, key);
        match self.what {
            What::In => Some(Cur::Bool(
                live.stick(at, StickOp::Trackers).is_some_and(|n| n >= 0),
            )),
            What::Get(d) => live.stick(at, StickOp::Get(d, self.idx)).map(Cur::Int),
            What::Kbytes(d) => live
                .stick(at, StickOp::Get(d, 0))
                .map(|v| Cur::Int(v >> 10)),
            What::Trackers => live
                .stick(at, StickOp::Trackers)
                .map(|n| Cur::Int(n.max(0))),
        }
    }
}

fn build(args: &[ArgVal], what: What, array: bool) -> Result<Box<dyn Conv>, String> {
    let (idx, t) = if array {
        match (args.first(), args.get(1)) {
            (Some(ArgVal::Int(i)), Some(ArgVal::Str(t))) => (*i as u32, t.clone()),
            _ => return Err("expects <idx>,<table>".into()),
        }
    } else {
        match args.first() {
            Some(ArgVal::Str(t)) => (0, t.clone()),
            _ => return Err("missing table name".into()),
        }
    };
    Ok(Box::new(TableConv {
        table: t,
        what,
        idx,
    }))
}

macro_rules! convs {
    ($( $name:literal => $what:expr, $ty:ident );* $(;)?) => {
        &[
            $(
                ConvDef::custom($name, SmpType::$ty, |a| build(a, $what, false)).args(&[S], 1),
            )*
        ]
    };
}

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = convs! {
    "in_table" => What::In, Bool;
    "table_bytes_in_rate" => What::Get(D::BytesInRate), Int;
    "table_bytes_out_rate" => What::Get(D::BytesOutRate), Int;
    "table_conn_cnt" => What::Get(D::ConnCnt), Int;
    "table_conn_cur" => What::Get(D::ConnCur), Int;
    "table_conn_rate" => What::Get(D::ConnRate), Int;
    "table_gpc0" => What::Get(D::Gpc0), Int;
    "table_gpc0_rate" => What::Get(D::Gpc0Rate), Int;
    "table_gpc1" => What::Get(D::Gpc1), Int;
    "table_gpc1_rate" => What::Get(D::Gpc1Rate), Int;
    "table_gpt0" => What::Get(D::Gpt0), Int;
    "table_http_err_cnt" => What::Get(D::HttpErrCnt), Int;
    "table_http_err_rate" => What::Get(D::HttpErrRate), Int;
    "table_http_fail_cnt" => What::Get(D::HttpFailCnt), Int;
    "table_http_fail_rate" => What::Get(D::HttpFailRate), Int;
    "table_http_req_cnt" => What::Get(D::HttpReqCnt), Int;
    "table_http_req_rate" => What::Get(D::HttpReqRate), Int;
    "table_kbytes_in" => What::Kbytes(D::BytesInCnt), Int;
    "table_kbytes_out" => What::Kbytes(D::BytesOutCnt), Int;
    "table_server_id" => What::Get(D::ServerId), Int;
    "table_sess_cnt" => What::Get(D::SessCnt), Int;
    "table_sess_rate" => What::Get(D::SessRate), Int;
    "table_trackers" => What::Trackers, Int;
};

/// The array forms.
pub(super) static ARRAYS: &[ConvDef] = &[
    ConvDef::custom("table_gpc", SmpType::Int, |a| {
        build(a, What::Get(D::Gpc), true)
    })
    .args(&[I, S], 2),
    ConvDef::custom("table_gpt", SmpType::Int, |a| {
        build(a, What::Get(D::Gpt), true)
    })
    .args(&[I, S], 2),
    ConvDef::custom("table_gpc_rate", SmpType::Int, |a| {
        build(a, What::Get(D::GpcRate), true)
    })
    .args(&[I, S], 2),
];
