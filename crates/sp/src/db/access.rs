//! The waiting room's "new user" access requests: filed for a waiting user, decided once.

use sqlx::any::AnyRow;
use store::row::{boolean, id, int, opt_uuid, text, uuid};
use store::{classify, Result, StoreError};
use uuid::Uuid;

use super::{check_list, corrupt, join, split, touched, SpDb};

/// Where an access request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(RequestStatus::Pending),
            "approved" => Ok(RequestStatus::Approved),
            "rejected" => Ok(RequestStatus::Rejected),
            other => Err(corrupt("status", other)),
        }
    }
}

/// A "new user" access request for a user in the waiting room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    pub id: Uuid,
    pub app_id: Uuid,
    pub saml_user_id: Uuid,
    pub requested_by: Uuid,
    /// The access level: the policy to grant.
    pub policy_id: Uuid,
    /// Which sites/properties the access covers.
    pub sites: Vec<String>,
    pub status: RequestStatus,
    pub created_at: i64,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<i64>,
}

const REQUEST_COLS: &str = "id, app_id, saml_user_id, requested_by, policy_id, sites, status, created_at, \
                            decided_by, decided_at";

fn access_request_from(row: &AnyRow) -> Result<AccessRequest> {
    Ok(AccessRequest {
        id: uuid(row, "id")?,
        app_id: uuid(row, "app_id")?,
        saml_user_id: uuid(row, "saml_user_id")?,
        requested_by: uuid(row, "requested_by")?,
        policy_id: uuid(row, "policy_id")?,
        sites: split(&text(row, "sites")?),
        status: RequestStatus::parse(&text(row, "status")?)?,
        created_at: int(row, "created_at")?,
        decided_by: opt_uuid(row, "decided_by")?,
        decided_at: sqlx::Row::try_get(row, "decided_at")?,
    })
}

impl SpDb {
    /// Files an access request. Only a user in the waiting room can be the subject of one, and
    /// only one pending request per user exists (a second is a Conflict).
    pub async fn create_access_request(&self, r: &AccessRequest) -> Result<()> {
        check_list("site", &r.sites)?;
        let mut tx = self.store.begin_write().await?;
        let waiting = sqlx::query("SELECT waiting FROM sp_saml_users WHERE id = $1")
            .bind(id(r.saml_user_id))
            .fetch_optional(&mut *tx)
            .await?;
        match waiting.as_ref().map(|row| boolean(row, "waiting")).transpose()? {
            None => return Err(StoreError::not_found(format!("SAML user {}", r.saml_user_id))),
            Some(false) => {
                return Err(StoreError::conflict("the user is not in the waiting room: nothing to request"))
            }
            Some(true) => {}
        }
        let pending = sqlx::query(
            "SELECT 1 AS one FROM sp_access_requests WHERE saml_user_id = $1 AND status = 'pending'",
        )
        .bind(id(r.saml_user_id))
        .fetch_optional(&mut *tx)
        .await?;
        if pending.is_some() {
            return Err(StoreError::conflict(
                "an access request for this user is already pending: approve or reject it first",
            ));
        }
        let sql = format!(
            "INSERT INTO sp_access_requests ({REQUEST_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(&sql)
            .bind(id(r.id))
            .bind(id(r.app_id))
            .bind(id(r.saml_user_id))
            .bind(id(r.requested_by))
            .bind(id(r.policy_id))
            .bind(join(&r.sites))
            .bind(r.status.as_str())
            .bind(r.created_at)
            .bind(r.decided_by.map(id))
            .bind(r.decided_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                classify(e, || "access request exists".into(), || "user, requester or policy".into())
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// The access requests of an application, oldest first; only `status` ones when given.
    pub async fn access_requests(
        &self,
        app: Uuid,
        status: Option<RequestStatus>,
    ) -> Result<Vec<AccessRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM sp_access_requests WHERE app_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(id(app))
            .bind(status.map(RequestStatus::as_str).unwrap_or(""))
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(access_request_from).collect()
    }

    /// Approves or rejects a pending request; an approval lets the user out of the waiting room
    /// with the request's policy and sites, in the same transaction. A request already decided
    /// is a Conflict (two administrators cannot both decide it).
    pub async fn decide_access_request(
        &self,
        request: Uuid,
        approve: bool,
        decided_by: Uuid,
        at: i64,
    ) -> Result<AccessRequest> {
        let mut tx = self.store.begin_write().await?;
        let status = if approve { RequestStatus::Approved } else { RequestStatus::Rejected };
        let r = sqlx::query(
            "UPDATE sp_access_requests SET status = $2, decided_by = $3, decided_at = $4 \
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id(request))
        .bind(status.as_str())
        .bind(id(decided_by))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if !touched(&r) {
            return Err(StoreError::conflict(format!(
                "access request {request} does not exist or was already decided"
            )));
        }
        let sql = format!("SELECT {REQUEST_COLS} FROM sp_access_requests WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(request)).fetch_one(&mut *tx).await?;
        let decided = access_request_from(&row)?;
        if approve {
            sqlx::query(
                "UPDATE sp_saml_users SET waiting = $2, granted_policy_id = $3, granted_sites = $4 WHERE id = $1",
            )
            .bind(id(decided.saml_user_id))
            .bind(false)
            .bind(id(decided.policy_id))
            .bind(join(&decided.sites))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(decided)
    }
}
