//! The real PostgreSQL cluster the `proto pgsql` and role-check tests run against
//! (`tests/support/pg_cluster.rs`), and gatehouse's own login toward it
//! (`gatehouse::pgwire`): SCRAM-SHA-256 logins, the replica in recovery, a failover.

mod support;

use gatehouse::pgwire::{self, PgError};
use support::pg_cluster::*;

/// Logs in to 127.0.0.1:`port` with `pgwire::login` and asks whether it is in recovery.
async fn in_recovery(port: u16, user: &str, password: &str) -> Result<String, PgError> {
    let addr = support::local(port);
    let mut s = pgwire::connect(addr, None).await?;
    let done = pgwire::login(&mut s, user, password, Some(DATABASE), &[]).await?;
    assert!(done.key.is_some(), "no BackendKeyData");
    assert!(
        done.parameter("server_version")
            .unwrap_or("")
            .starts_with("15")
    );
    let rows = pgwire::simple_query(&mut s, "SELECT pg_is_in_recovery()").await?;
    pgwire::login::terminate(&mut s).await;
    Ok(rows[0][0].clone().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_logins_roles_and_a_failover_on_a_real_cluster() {
    let mut c = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let (p, r) = (c.primary.port(), c.replica.port());
    // SCRAM-SHA-256 is what the server asks for (pg_hba requires it).
    assert_eq!(
        in_recovery(p, "checker", CHECKER_PASSWORD).await.unwrap(),
        "f"
    );
    assert_eq!(
        in_recovery(r, "checker", CHECKER_PASSWORD).await.unwrap(),
        "t"
    );
    // The wrong password: the server's SQLSTATE and message.
    let e = in_recovery(p, "checker", "wrong").await.unwrap_err();
    assert_eq!(e.sqlstate(), "28P01", "{e}");
    assert_eq!(
        e.message(),
        "password authentication failed for user \"checker\""
    );
    // A role pg_hba.conf rejects.
    let e = in_recovery(p, "blocked", "blocked").await.unwrap_err();
    assert_eq!(e.sqlstate(), "28000", "{e}");
    // psql agrees, over TCP with SCRAM.
    assert_eq!(
        psql_tcp(
            p,
            "app_ro",
            APP_RO_PASSWORD,
            DATABASE,
            "",
            "SELECT count(*) FROM items"
        ),
        Ok("2".into())
    );
    // Failover: the primary stops, the replica is promoted.
    let c = tokio::task::spawn_blocking(move || {
        c.stop_primary();
        c.promote();
        c
    })
    .await
    .unwrap();
    assert_eq!(
        in_recovery(r, "checker", CHECKER_PASSWORD).await.unwrap(),
        "f"
    );
    assert!(matches!(
        in_recovery(p, "checker", CHECKER_PASSWORD).await,
        Err(PgError::Io(_))
    ));
    drop(c);
}
