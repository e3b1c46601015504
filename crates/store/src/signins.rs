//! The sign-in log.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::model::SignIn;
use crate::row::{fold, id, int, opt_text, opt_uuid, text, uuid};
use crate::{Result, Store, StoreError};

const COLS: &str = "id, tenant_id, at, user_id, upn, app_id, ip, result_code, correlation_id, detail";

fn sign_in_from(row: &AnyRow) -> Result<SignIn> {
    Ok(SignIn {
        id: uuid(row, "id")?,
        tenant_id: uuid(row, "tenant_id")?,
        at: int(row, "at")?,
        user_id: opt_uuid(row, "user_id")?,
        upn: opt_text(row, "upn")?,
        app_id: opt_uuid(row, "app_id")?,
        ip: opt_text(row, "ip")?,
        result_code: text(row, "result_code")?,
        correlation_id: uuid(row, "correlation_id")?,
        detail: opt_text(row, "detail")?,
    })
}

/// Which sign-ins [`Store::list_sign_ins`] returns. Every `Some` narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInFilter {
    pub tenant: Uuid,
    pub app_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// The UPN typed or asserted, compared case-insensitively.
    pub upn: Option<String>,
    /// Only sign-ins at or after this time (unix seconds).
    pub since: Option<i64>,
    pub result_code: Option<String>,
    /// At most this many (the newest).
    pub limit: Option<u32>,
}

impl SignInFilter {
    /// Every sign-in of the tenant.
    pub fn tenant(tenant: Uuid) -> Self {
        SignInFilter { tenant, ..SignInFilter::default() }
    }
}

enum Arg {
    Text(String),
    Int(i64),
}

impl Store {
    /// Appends a sign-in attempt to the log. The record does not refer to the user or app by a
    /// foreign key: it stays when they are deleted.
    pub async fn record_sign_in(&self, s: &SignIn) -> Result<()> {
        insert_sign_in(s, &self.pool).await
    }

    /// Appends several sign-in attempts in one transaction (one commit for the lot: what makes
    /// the log cheap under load). When the transaction fails, each record is retried on its own,
    /// so one bad record does not lose the others; the first error is returned.
    pub async fn record_sign_ins(&self, batch: &[SignIn]) -> Result<()> {
        if batch.len() == 1 {
            return self.record_sign_in(&batch[0]).await;
        }
        let together = async {
            let mut tx = self.begin_write().await?;
            for s in batch {
                insert_sign_in(s, &mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        };
        if together.await.is_ok() {
            return Ok(());
        }
        let mut first_error = None;
        for s in batch {
            if let Err(e) = self.record_sign_in(s).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The sign-ins that match `filter`, newest first.
    pub async fn list_sign_ins(&self, filter: &SignInFilter) -> Result<Vec<SignIn>> {
        let mut args = vec![Arg::Text(id(filter.tenant))];
        let mut sql = format!("SELECT {COLS} FROM sign_ins WHERE tenant_id = $1");
        let mut push = |clause: &str, arg: Arg| {
            args.push(arg);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        };
        if let Some(app) = filter.app_id {
            push("app_id =", Arg::Text(id(app)));
        }
        if let Some(user) = filter.user_id {
            push("user_id =", Arg::Text(id(user)));
        }
        if let Some(upn) = &filter.upn {
            push("upn_key =", Arg::Text(fold(upn)));
        }
        if let Some(since) = filter.since {
            push("at >=", Arg::Int(since));
        }
        if let Some(code) = &filter.result_code {
            push("result_code =", Arg::Text(code.clone()));
        }
        sql.push_str(" ORDER BY at DESC, seq DESC");
        if let Some(limit) = filter.limit {
            args.push(Arg::Int(i64::from(limit)));
            sql.push_str(&format!(" LIMIT ${}", args.len()));
        }
        let mut query = sqlx::query(&sql);
        for arg in args {
            query = match arg {
                Arg::Text(s) => query.bind(s),
                Arg::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(sign_in_from).collect()
    }
}

async fn insert_sign_in<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    s: &SignIn,
    executor: E,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sign_ins (id, tenant_id, at, user_id, upn, upn_key, app_id, ip, result_code, \
         correlation_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id(s.id))
    .bind(id(s.tenant_id))
    .bind(s.at)
    .bind(s.user_id.map(id))
    .bind(s.upn.as_deref())
    .bind(s.upn.as_deref().map(fold))
    .bind(s.app_id.map(id))
    .bind(s.ip.as_deref())
    .bind(s.result_code.as_str())
    .bind(id(s.correlation_id))
    .bind(s.detail.as_deref())
    .execute(executor)
    .await
    .map_err(|e| {
        classify(
            e,
            || format!("sign-in {} is already recorded: use a new ID", s.id),
            || format!("tenant {}", s.tenant_id),
        )
    })?;
    Ok(())
}
