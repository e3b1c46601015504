//! `postgresql`: connect as the functional account (or as the account itself with its current
//! password), run `ALTER ROLE "name" PASSWORD '<SCRAM-SHA-256 verifier>'` — the verifier is computed
//! here, so the clear password never reaches the server, its statement log or the wire — then prove
//! the change by logging in as the account with the new password.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{ConnectOptions, Connection, Executor};

use crate::scrub::scrub;
use crate::{scram, RotateError, RotateFuture, RotationRequest, Rotator};

/// PostgreSQL's default port.
pub const DEFAULT_PORT: u16 = 5432;
/// Longest identifier PostgreSQL keeps (NAMEDATALEN - 1); longer names are silently truncated by
/// the server, which could alter another role, so they are refused here.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// Rotator for the `postgresql` platform.
#[derive(Clone, Debug)]
pub struct PostgresRotator {
    /// Limit for each network step (connect, statement).
    pub timeout: Duration,
    /// Database to connect to (any the accounts may connect to).
    pub database: String,
    /// TLS: `Prefer` (default) uses TLS when the server offers it, without verifying its
    /// certificate; SCRAM authentication never sends the password itself either way.
    pub ssl_mode: PgSslMode,
}

impl Default for PostgresRotator {
    fn default() -> Self {
        PostgresRotator {
            timeout: Duration::from_secs(30),
            database: "postgres".into(),
            ssl_mode: PgSslMode::Prefer,
        }
    }
}

impl Rotator for PostgresRotator {
    fn platform(&self) -> &'static str {
        "postgresql"
    }

    fn rotate<'a>(&'a self, req: &'a RotationRequest) -> RotateFuture<'a> {
        Box::pin(self.run(req))
    }
}

/// `name` as a PostgreSQL quoted identifier: wrapped in double quotes, inner double quotes doubled.
pub fn quote_identifier(name: &str) -> Result<String, RotateError> {
    if name.is_empty() || name.contains('\0') {
        return Err(RotateError::InvalidRequest {
            reason: "a PostgreSQL role name must be non-empty and hold no NUL character".into(),
        });
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(RotateError::InvalidRequest {
            reason: format!(
                "the role name is {} bytes long; PostgreSQL keeps at most {MAX_IDENTIFIER_BYTES}",
                name.len()
            ),
        });
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

impl PostgresRotator {
    async fn run(&self, req: &RotationRequest) -> Result<(), RotateError> {
        let host = req.target.host.as_str();
        let port = req.target.port.unwrap_or(DEFAULT_PORT);
        let role = quote_identifier(&req.account)?;
        if req.new_password.contains('\0') {
            return Err(RotateError::InvalidRequest {
                reason: "the new password holds a NUL character, which PostgreSQL cannot store".into(),
            });
        }
        let (admin_user, admin_password, which) = match &req.functional {
            Some(f) => (f.user.as_str(), f.password.as_str(), "functional account"),
            None => (req.account.as_str(), req.current_password.as_str(), "account's current password"),
        };
        let mut conn = self.connect(req, admin_user, admin_password, which).await?;

        let verifier = scram::verifier(&req.new_password)?;
        // The verifier is base64 plus `$`, `:` and digits; it never holds a quote or backslash.
        let statement =
            zeroize::Zeroizing::new(format!("ALTER ROLE {role} PASSWORD '{}'", verifier.as_str()));
        let outcome = tokio::time::timeout(self.timeout, conn.execute(statement.as_str())).await.ok();
        match outcome {
            Some(Ok(_)) => {}
            Some(Err(sqlx::Error::Database(db))) => {
                return Err(RotateError::ChangeRefused {
                    host: host.into(),
                    account: req.account.clone(),
                    detail: scrub(db.message(), req),
                })
            }
            Some(Err(e)) => {
                return Err(RotateError::OutcomeUnknown {
                    host: host.into(),
                    account: req.account.clone(),
                    detail: scrub(&e.to_string(), req),
                })
            }
            None => {
                return Err(RotateError::OutcomeUnknown {
                    host: host.into(),
                    account: req.account.clone(),
                    detail: format!("ALTER ROLE got no answer within {:?}", self.timeout),
                })
            }
        }
        let _ = self.step(conn.close()).await;

        // Proof: a fresh login as the account with the new password.
        let proof = match self.step(self.options(req, &req.account, &req.new_password).connect()).await {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                return Err(RotateError::VerifyFailed {
                    host: host.into(),
                    account: req.account.clone(),
                    detail: scrub(&describe(&e), req),
                })
            }
            None => {
                return Err(RotateError::VerifyFailed {
                    host: host.into(),
                    account: req.account.clone(),
                    detail: format!("the login got no answer within {:?}", self.timeout),
                })
            }
        };
        let _ = self.step(proof.close()).await;
        tracing::info!(host, port, account = %req.account, "postgresql password rotated and verified");
        Ok(())
    }

    fn options(&self, req: &RotationRequest, user: &str, password: &str) -> PgConnectOptions {
        // Without pgpass: only the passwords given here are ever tried.
        PgConnectOptions::new_without_pgpass()
            .host(&req.target.host)
            .port(req.target.port.unwrap_or(DEFAULT_PORT))
            .username(user)
            .password(password)
            .database(&self.database)
            .ssl_mode(self.ssl_mode)
            .application_name("portcullis-rotate")
            // sqlx logs statements through `log`/`tracing`; the ALTER ROLE carries the verifier.
            .disable_statement_logging()
    }

    async fn connect(
        &self,
        req: &RotationRequest,
        user: &str,
        password: &str,
        which: &'static str,
    ) -> Result<PgConnection, RotateError> {
        let host = req.target.host.clone();
        let port = req.target.port.unwrap_or(DEFAULT_PORT);
        match self.step(self.options(req, user, password).connect()).await {
            Some(Ok(c)) => Ok(c),
            None => Err(RotateError::Timeout { host, stage: "connect and log in" }),
            Some(Err(sqlx::Error::Database(db)))
                if db.code().is_some_and(|c| c == "28P01" || c == "28000") =>
            {
                Err(RotateError::LoginRefused { host, user: user.into(), which })
            }
            Some(Err(e @ (sqlx::Error::Io(_) | sqlx::Error::Tls(_)))) => {
                Err(RotateError::Unreachable { host, port, detail: scrub(&describe(&e), req) })
            }
            Some(Err(e)) => Err(RotateError::Protocol { host, detail: scrub(&describe(&e), req) }),
        }
    }

    /// Runs one network step under the timeout; `None` when it ran out.
    async fn step<T>(&self, f: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout(self.timeout, f).await.ok()
    }
}

/// A one-line description of a driver error (the server's message for database errors).
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(quote_identifier("app").unwrap(), "\"app\"");
        assert_eq!(quote_identifier("Mixed Case").unwrap(), "\"Mixed Case\"");
        assert_eq!(quote_identifier("a\"; DROP ROLE x; --").unwrap(), "\"a\"\"; DROP ROLE x; --\"");
        assert!(quote_identifier("").is_err());
        assert!(quote_identifier("a\0b").is_err());
        assert!(quote_identifier(&"r".repeat(64)).is_err());
        assert!(quote_identifier(&"r".repeat(63)).is_ok());
    }
}
