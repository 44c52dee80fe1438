//! The simple query protocol: one `Query`, the rows of its result, up to
//! `ReadyForQuery` — what a health check needs (`SELECT pg_is_in_recovery()`).

use super::error::PgError;
use super::message::{Backend, BackendReader, frontend};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// One row: each column's text, `None` for NULL.
pub type Row = Vec<Option<String>>;

/// Runs `sql` on a logged-in session and returns the rows of its (last) result, read up
/// to `ReadyForQuery`. An `ErrorResponse` is [`PgError::Server`] (read through to
/// `ReadyForQuery`, so the session can go on). The caller bounds the time it may take.
pub async fn simple_query<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    sql: &str,
) -> Result<Vec<Row>, PgError> {
    let mut buf = BytesMut::new();
    frontend::query(sql, &mut buf)?;
    stream.write_all(&buf).await?;
    stream.flush().await?;
    let mut r = BackendReader::new();
    let mut rows = Vec::new();
    let mut failed = None;
    loop {
        match r.next(stream).await? {
            Backend::RowDescription(_) => rows.clear(),
            Backend::DataRow(cols) => rows.push(
                cols.into_iter()
                    .map(|c| c.map(|v| String::from_utf8_lossy(&v).into_owned()))
                    .collect(),
            ),
            Backend::Error(e) => failed = Some(e),
            Backend::ReadyForQuery(_) => {
                return match failed {
                    Some(e) => Err(PgError::Server(e)),
                    None => Ok(rows),
                };
            }
            Backend::CommandComplete(_)
            | Backend::EmptyQuery
            | Backend::Notice(_)
            | Backend::ParameterStatus { .. }
            | Backend::Other(b'A') => {}
            m => {
                return Err(PgError::Protocol(format!(
                    "unexpected message {m:?} during a query"
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::backend as be;
    use super::*;
    use tokio::io::{AsyncReadExt, duplex};

    #[tokio::test]
    async fn rows_of_a_select_and_an_error_read_to_ready() {
        let (mut client, mut server) = duplex(4096);
        tokio::spawn(async move {
            let mut q = [0u8; 64];
            let n = server.read(&mut q).await.unwrap();
            assert_eq!(&q[5..n], b"SELECT pg_is_in_recovery()\0");
            let mut out = be::row_description(&["pg_is_in_recovery"]);
            out.extend(be::data_row(&[Some(b"f")]));
            out.extend(be::command_complete("SELECT 1"));
            out.extend(be::ready_for_query(b'I'));
            server.write_all(&out).await.unwrap();
            let _ = server.read(&mut q).await.unwrap();
            let mut out = be::error_response("ERROR", "42601", "syntax error");
            out.extend(be::ready_for_query(b'I'));
            server.write_all(&out).await.unwrap();
        });
        let rows = simple_query(&mut client, "SELECT pg_is_in_recovery()")
            .await
            .unwrap();
        assert_eq!(rows, vec![vec![Some("f".to_string())]]);
        let e = simple_query(&mut client, "SELEC").await.unwrap_err();
        assert_eq!(e.sqlstate(), "42601");
    }
}
