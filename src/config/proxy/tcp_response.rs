//! `tcp-response inspect-delay` and `tcp-response content accept|reject|close [if
//! COND]`: rules on the first bytes a server sends in `mode tcp`, evaluated by the
//! backend (`src/proxy/tcp_response.rs`).

use super::rules::split_cond;
use crate::config::keyword::{BE, DEF, LI, ProxyCtx, ProxyKeyword, kw};
use crate::config::model::TcpRequestRule;
use crate::config::value::duration;

fn tcp_response(ctx: &mut ProxyCtx<'_>, words: &[String]) -> Result<(), String> {
    let stage = words
        .get(1)
        .ok_or("'tcp-response' expects 'inspect-delay' or 'content'.")?;
    let rule = |action: &str, args: Vec<String>, cond| TcpRequestRule {
        span: ctx.span.clone(),
        stage: stage.clone(),
        action: action.to_string(),
        args,
        cond,
        track: None,
        sc: None,
    };
    match stage.as_str() {
        "inspect-delay" => {
            let v = words
                .get(2)
                .ok_or("'tcp-response inspect-delay' expects a delay.")?;
            duration(v, "tcp-response inspect-delay")?;
            if let Some(x) = words.get(3) {
                return Err(format!(
                    "'tcp-response inspect-delay' cannot handle unexpected argument '{x}'."
                ));
            }
            let r = rule(v, Vec::new(), None);
            ctx.proxy.tcp_response.push(r);
            Ok(())
        }
        "content" => {
            let act = words
                .get(2)
                .ok_or("'tcp-response content' expects an action.")?;
            let (cut, cond) = split_cond(words, 3, ctx.span, "a 'tcp-response content' rule")?;
            match act.as_str() {
                "accept" | "reject" | "close" => {}
                a => {
                    return Err(format!(
                        "'tcp-response content {a}' is not supported yet by gatehouse (supported: accept, reject, close)."
                    ));
                }
            }
            if cut != 3 {
                return Err(format!(
                    "'tcp-response content {act}' cannot handle unexpected argument '{}'.",
                    words[3]
                ));
            }
            let r = rule(act, Vec::new(), cond);
            ctx.proxy.tcp_response.push(r);
            Ok(())
        }
        x => Err(format!(
            "'tcp-response' expects 'inspect-delay' or 'content', but got '{x}'."
        )),
    }
}

/// The keywords of this file.
pub static KEYWORDS: &[ProxyKeyword] = &[kw(
    "tcp-response",
    DEF | LI | BE,
    tcp_response,
    "TCP response rules (content, inspect-delay)",
)];
