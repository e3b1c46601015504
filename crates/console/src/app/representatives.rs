//! Local representative accounts (`console_representatives`, migration 20002): a user name, a
//! display name, an argon2id password hash and the group policies that decide their jump
//! groups; their browser sessions and the one-time tickets of `portcullis console connect`.
//! Session cookies and tickets are random tokens kept only as their SHA-256.

use sqlx::any::AnyRow;
use sqlx::Row;
use store::row::{fold, int, text};
use zeroize::Zeroizing;

use crate::db::new_id;
use crate::{ConsoleError, ConsoleStore};

/// How long a local representative's browser session lasts.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// How long a connect ticket may wait for its WebSocket.
pub const TICKET_SECONDS: i64 = 60;

/// A local representative account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRepresentative {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// Console group policy names, sorted without regard to case.
    pub policies: Vec<String>,
    pub created_at: i64,
}

/// A new local representative; the password is hashed here and dropped (zeroized).
pub struct NewRepresentative {
    pub username: String,
    pub display_name: Option<String>,
    pub policies: Vec<String>,
    pub password: Zeroizing<String>,
}

fn check_username(username: &str) -> Result<&str, ConsoleError> {
    let u = username.trim();
    let ok =
        !u.is_empty() && u.chars().count() <= 128 && u.chars().all(|c| !c.is_control() && !c.is_whitespace());
    if !ok {
        return Err(ConsoleError::InvalidInput {
            reason: "a representative's user name must be 1 to 128 characters without spaces or control \
                     characters"
                .into(),
        });
    }
    Ok(u)
}

fn token() -> Result<Zeroizing<String>, ConsoleError> {
    web::token::random_token()
        .map(Zeroizing::new)
        .map_err(|e| ConsoleError::Storage { detail: format!("no random numbers for a token: {e}") })
}

impl ConsoleStore {
    /// Creates a local representative. The password must be 12 to 1024 characters.
    pub async fn create_representative(
        &self,
        new: &NewRepresentative,
    ) -> Result<LocalRepresentative, ConsoleError> {
        let username = check_username(&new.username)?;
        let display_name = match new.display_name.as_deref() {
            Some(d) => crate::db::check_name("display", d)?,
            None => username,
        };
        let length = new.password.chars().count();
        if !(12..=1024).contains(&length) {
            return Err(ConsoleError::InvalidInput {
                reason: format!("a representative's password must be 12 to 1024 characters, not {length}"),
            });
        }
        let mut policies = Vec::new();
        for p in &new.policies {
            let p = crate::db::check_name("policy", p)?;
            if !policies.iter().any(|q: &String| fold(q) == fold(p)) {
                policies.push(p.to_owned());
            }
        }
        let hash = web::password::hash(&new.password)
            .map_err(|e| ConsoleError::Storage { detail: format!("the password cannot be hashed: {e}") })?;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO console_representatives (id, username, username_key, display_name, password_hash, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(username)
        .bind(fold(username))
        .bind(display_name)
        .bind(&hash)
        .bind(self.now())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            crate::db::classify(
                e,
                || format!("a representative named {username:?} exists already"),
                String::new,
            )
        })?;
        for p in &policies {
            sqlx::query(
                "INSERT INTO console_representative_policies (representative_id, policy, policy_key) \
                 VALUES ($1, $2, $3)",
            )
            .bind(&id)
            .bind(p)
            .bind(fold(p))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::info!(representative = %username, policies = ?policies, "local representative created");
        self.representative(&id).await
    }

    /// The local representatives, by user name.
    pub async fn representatives(&self) -> Result<Vec<LocalRepresentative>, ConsoleError> {
        let rows = sqlx::query("SELECT id FROM console_representatives ORDER BY username_key")
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::new();
        for r in rows {
            out.push(self.representative(&text(&r, "id")?).await?);
        }
        Ok(out)
    }

    /// The local representative with this ID or user name.
    pub async fn representative(&self, id_or_username: &str) -> Result<LocalRepresentative, ConsoleError> {
        let row = sqlx::query(
            "SELECT id, username, display_name, created_at FROM console_representatives \
             WHERE id = $1 OR username_key = $2",
        )
        .bind(id_or_username)
        .bind(fold(id_or_username.trim()))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Err(ConsoleError::NotFound { what: format!("representative {id_or_username:?}") });
        };
        self.representative_from(&row).await
    }

    async fn representative_from(&self, row: &AnyRow) -> Result<LocalRepresentative, ConsoleError> {
        let id = text(row, "id")?;
        let policies = sqlx::query(
            "SELECT policy FROM console_representative_policies WHERE representative_id = $1 ORDER BY policy_key",
        )
        .bind(&id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("policy"))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(LocalRepresentative {
            id,
            username: text(row, "username")?,
            display_name: text(row, "display_name")?,
            policies,
            created_at: int(row, "created_at")?,
        })
    }

    /// The representative `username` if `password` is theirs. An unknown name costs the same
    /// argon2 work as a wrong password, and both are the same `None`.
    pub async fn check_representative(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<LocalRepresentative>, ConsoleError> {
        let row = sqlx::query(
            "SELECT id, username, display_name, created_at, password_hash FROM console_representatives \
             WHERE username_key = $1",
        )
        .bind(fold(username.trim()))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            web::password::verify_dummy(password);
            return Ok(None);
        };
        if !web::password::verify(password, &text(&row, "password_hash")?) {
            return Ok(None);
        }
        self.representative_from(&row).await.map(Some)
    }

    /// Starts a browser session for representative `id`; returns the cookie's value.
    pub async fn start_representative_session(&self, id: &str) -> Result<Zeroizing<String>, ConsoleError> {
        let token = token()?;
        let now = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM console_representative_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_representative_sessions (token_hash, representative_id, expires_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(web::token::sha256_hex(token.as_bytes()))
        .bind(id)
        .bind(now + SESSION_SECONDS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The representative of the browser session `token`, while it lasts.
    pub async fn representative_session(
        &self,
        token: &str,
    ) -> Result<Option<LocalRepresentative>, ConsoleError> {
        let row = sqlx::query(
            "SELECT r.id, r.username, r.display_name, r.created_at FROM console_representative_sessions s \
             JOIN console_representatives r ON r.id = s.representative_id WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(web::token::sha256_hex(token.as_bytes()))
        .bind(self.now())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => self.representative_from(&r).await.map(Some),
            None => Ok(None),
        }
    }

    /// Ends the browser session `token` (an unknown one is no error).
    pub async fn end_representative_session(&self, token: &str) -> Result<(), ConsoleError> {
        sqlx::query("DELETE FROM console_representative_sessions WHERE token_hash = $1")
            .bind(web::token::sha256_hex(token.as_bytes()))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Writes a one-time ticket for representative `id_or_username`, valid for
    /// [`TICKET_SECONDS`]: what `portcullis console connect` (which has the data directory)
    /// hands the server to open a session as that representative.
    pub async fn issue_connect_ticket(
        &self,
        id_or_username: &str,
    ) -> Result<Zeroizing<String>, ConsoleError> {
        let rep = self.representative(id_or_username).await?;
        let ticket = token()?;
        let now = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM console_connect_tickets WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_connect_tickets (ticket_hash, representative_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(web::token::sha256_hex(ticket.as_bytes()))
        .bind(&rep.id)
        .bind(now + TICKET_SECONDS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(representative = %rep.username, "console connect ticket issued");
        Ok(ticket)
    }

    /// Takes ticket `ticket` (it works once) and returns its representative; `None` when it is
    /// unknown, used or expired.
    pub async fn take_connect_ticket(
        &self,
        ticket: &str,
    ) -> Result<Option<LocalRepresentative>, ConsoleError> {
        let hash = web::token::sha256_hex(ticket.as_bytes());
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT representative_id, expires_at FROM console_connect_tickets WHERE ticket_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let taken = sqlx::query("DELETE FROM console_connect_tickets WHERE ticket_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        let Some(row) = row.filter(|_| taken == 1) else { return Ok(None) };
        if int(&row, "expires_at")? <= self.now() {
            return Ok(None);
        }
        match self.representative(&text(&row, "representative_id")?).await {
            Ok(rep) => Ok(Some(rep)),
            Err(ConsoleError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
