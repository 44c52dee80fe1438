//! `option pgsql-check user NAME [credentials NAME] [role primary|replica|any]
//! [database DB]`. With `user NAME` alone it is HAProxy's check (a startup message; an
//! authentication request is up: [`super::proto::pgsql`]). With any of the other
//! words it is gatehouse's: the check logs in (SCRAM-SHA-256, MD5 or cleartext, with
//! the password of the `credentials` section; over TLS after `SSLRequest` when the
//! server line has `ssl`) and, with `role primary` or `role replica`, asks
//! `SELECT pg_is_in_recovery()`: a primary answers false, a replica (a hot standby)
//! true. A server in the other role, or one that refuses the login, is down, with the
//! server's reason as the check's info.

use super::rule::{ConnectTls, Rule};
use crate::config::model::{PgsqlLogin, PgsqlRole};
use crate::pgwire::{self, PgError};
use crate::runtime::health::CheckStatus;
use tokio::io::{AsyncRead, AsyncWrite};

/// The login step of gatehouse's `pgsql-check`.
#[derive(Clone, PartialEq, Eq)]
pub struct PgsqlStep {
    /// The role to log in as (`user`).
    pub user: String,
    /// The password of the `credentials` section (none: the server must not ask).
    pub password: Option<String>,
    /// `database` (default `postgres`, which every cluster has: a check role rarely
    /// has a database of its own name, PostgreSQL's default).
    pub database: String,
    /// The role the server must have.
    pub role: PgsqlRole,
    /// A `backup` server of a `role replica` backend: a primary passes too (it serves
    /// reads when no replica is up).
    pub primary_as_backup: bool,
}

impl std::fmt::Debug for PgsqlStep {
    /// The password is not printed, only a digest of it: two steps with different
    /// passwords still print differently (a rotated password restarts the checker).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use sha2::Digest;
        let digest = self
            .password
            .as_ref()
            .map(|p| crate::check::rule::hex_upper(&sha2::Sha256::digest(p.as_bytes())[..8]));
        f.debug_struct("PgsqlStep")
            .field("user", &self.user)
            .field("password_sha256", &digest)
            .field("database", &self.database)
            .field("role", &self.role)
            .field("primary_as_backup", &self.primary_as_backup)
            .finish()
    }
}

/// The rules of gatehouse's `pgsql-check`: a plain connection (PostgreSQL asks for TLS
/// inside it), then the login step.
pub fn rules(user: &str, login: &PgsqlLogin, password: Option<String>) -> Vec<Rule> {
    vec![
        Rule::Connect {
            port: None,
            comment: None,
            tls: ConnectTls::Raw,
            linger: true,
        },
        Rule::Pgsql(Box::new(PgsqlStep {
            user: user.to_owned(),
            password,
            database: login
                .database
                .clone()
                .unwrap_or_else(|| "postgres".to_owned()),
            role: login.role,
            primary_as_backup: false,
        })),
    ]
}

/// The rules of a `backup` server when `rules` check for `role replica`: the same,
/// except that a primary passes too (so that `backup` means what the issue's
/// configuration means by it: the primary serves reads when no replica is up).
/// `None` when nothing differs.
pub fn for_backup(rules: &[Rule]) -> Option<Vec<Rule>> {
    let mut changed = false;
    let out = rules
        .iter()
        .map(|r| match r {
            Rule::Pgsql(step) if step.role == PgsqlRole::Replica => {
                changed = true;
                Rule::Pgsql(Box::new(PgsqlStep {
                    primary_as_backup: true,
                    ..(**step).clone()
                }))
            }
            r => r.clone(),
        })
        .collect();
    changed.then_some(out)
}

/// A failed step: the status and the info of the check line.
#[derive(Debug, PartialEq, Eq)]
pub struct StepFailure {
    /// HAProxy's status (`L7STS`, `L7RSP`, `SOCKERR`…).
    pub status: CheckStatus,
    /// The info.
    pub info: String,
}

/// The status and info of a failed login or query.
pub fn failure(e: PgError) -> StepFailure {
    let (status, info) = match &e {
        PgError::Server(s) => (CheckStatus::L7Sts, s.to_string()),
        PgError::AuthUnsupported(_) => (CheckStatus::L7Sts, e.to_string()),
        PgError::Io(io) => (CheckStatus::SockErr, io.to_string()),
        PgError::Closed | PgError::Protocol(_) => (CheckStatus::L7Rsp, e.to_string()),
        PgError::TlsRefused => (CheckStatus::L6Rsp, e.to_string()),
        PgError::TlsHandshake(io) => (CheckStatus::L6Rsp, super::tls::failure_info(io).into()),
    };
    StepFailure { status, info }
}

/// Logs in on `conn`, asks for the role if one is wanted, and ends the session; the
/// info of a passing check, or why it fails. The caller bounds the time.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    step: &PgsqlStep,
    conn: &mut S,
) -> Result<String, StepFailure> {
    let password = step.password.as_deref().unwrap_or("");
    pgwire::login(conn, &step.user, password, Some(&step.database), &[])
        .await
        .map_err(failure)?;
    let verdict = match step.role {
        PgsqlRole::Any => Ok("PostgreSQL server is ok".to_owned()),
        want => {
            let rows = pgwire::simple_query(conn, "SELECT pg_is_in_recovery()")
                .await
                .map_err(failure)?;
            let in_recovery = match rows.first().and_then(|r| r.first()) {
                Some(Some(v)) if v == "t" => true,
                Some(Some(v)) if v == "f" => false,
                other => {
                    return Err(StepFailure {
                        status: CheckStatus::L7Rsp,
                        info: format!("unexpected answer to pg_is_in_recovery(): {other:?}"),
                    });
                }
            };
            role_verdict(want, in_recovery, step.primary_as_backup)
        }
    };
    pgwire::login::terminate(conn).await;
    verdict
}

/// Whether a server in recovery (or not) has role `want`: the passing info, or the
/// failure.
fn role_verdict(
    want: PgsqlRole,
    in_recovery: bool,
    primary_as_backup: bool,
) -> Result<String, StepFailure> {
    let is = if in_recovery { "replica" } else { "primary" };
    if want == PgsqlRole::Any || (want == PgsqlRole::Replica) == in_recovery {
        Ok(format!("PostgreSQL server is ok ({is})"))
    } else if primary_as_backup && !in_recovery {
        Ok("PostgreSQL server is ok (primary, as a backup of the replicas)".into())
    } else {
        Err(StepFailure {
            status: CheckStatus::L7Sts,
            info: format!(
                "PostgreSQL server is a {is} (pg_is_in_recovery() is {}), not a {}",
                if in_recovery { "true" } else { "false" },
                want.name()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_decides_up_or_down() {
        assert_eq!(
            role_verdict(PgsqlRole::Primary, false, false),
            Ok("PostgreSQL server is ok (primary)".into())
        );
        assert_eq!(
            role_verdict(PgsqlRole::Replica, true, false),
            Ok("PostgreSQL server is ok (replica)".into())
        );
        let e = role_verdict(PgsqlRole::Primary, true, false).unwrap_err();
        assert_eq!(e.status, CheckStatus::L7Sts);
        assert_eq!(
            e.info,
            "PostgreSQL server is a replica (pg_is_in_recovery() is true), not a primary"
        );
        assert!(role_verdict(PgsqlRole::Replica, false, false).is_err());
        // A backup of the replicas: the primary passes; a primary check is unchanged.
        assert!(role_verdict(PgsqlRole::Replica, false, true).is_ok());
        assert!(role_verdict(PgsqlRole::Primary, true, true).is_err());
    }

    #[test]
    fn the_password_is_not_printed() {
        let step = PgsqlStep {
            user: "checker".into(),
            password: Some("s3cret".into()),
            database: "postgres".into(),
            role: PgsqlRole::Primary,
            primary_as_backup: false,
        };
        let other = PgsqlStep {
            password: Some("rotated".into()),
            ..step.clone()
        };
        let (a, b) = (format!("{step:?}"), format!("{other:?}"));
        assert!(!a.contains("s3cret") && !b.contains("rotated"));
        assert_ne!(a, b);
    }
}
