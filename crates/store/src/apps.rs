//! Enterprise applications with their identifiers, signing certificates and assignments.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::groups::USER_GROUPS_CTE;
use crate::model::{App, Assignment, PrincipalKind, SigningCert};
use crate::row::{boolean, bytes, id, int, text, uuid};
use crate::{touched, Result, Store, StoreError};

const COLS: &str = "apps.id, apps.tenant_id, apps.name, apps.template, apps.config_json, apps.created_at, \
                    apps.updated_at";

fn app_from(row: &AnyRow) -> Result<App> {
    Ok(App {
        id: uuid(row, "id")?,
        tenant_id: uuid(row, "tenant_id")?,
        name: text(row, "name")?,
        template: text(row, "template")?,
        config_json: text(row, "config_json")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

const CERT_COLS: &str =
    "id, app_id, active, cert_der, key_sealed, thumbprint, not_before, not_after, created_at";

fn cert_from(row: &AnyRow) -> Result<SigningCert> {
    Ok(SigningCert {
        id: uuid(row, "id")?,
        app_id: uuid(row, "app_id")?,
        active: boolean(row, "active")?,
        cert_der: bytes(row, "cert_der")?,
        key_sealed: bytes(row, "key_sealed")?,
        thumbprint: text(row, "thumbprint")?,
        not_before: int(row, "not_before")?,
        not_after: int(row, "not_after")?,
        created_at: int(row, "created_at")?,
    })
}

/// Writes the identifier rows of an app (after its old ones were removed). An identifier that
/// another app of the tenant uses is a Conflict naming it; duplicates in `identifiers` count once.
async fn insert_identifiers(tx: &mut crate::WriteTx, app: &App, identifiers: &[String]) -> Result<()> {
    let mut seen: Vec<&str> = Vec::with_capacity(identifiers.len());
    for identifier in identifiers {
        if seen.contains(&identifier.as_str()) {
            continue;
        }
        seen.push(identifier);
        sqlx::query("INSERT INTO app_identifiers (tenant_id, app_id, identifier) VALUES ($1, $2, $3)")
            .bind(id(app.tenant_id))
            .bind(id(app.id))
            .bind(identifier.as_str())
            .execute(&mut **tx)
            .await
            .map_err(|e| {
                classify(
                    e,
                    || {
                        format!(
                            "the identifier {identifier:?} is already used by another app in this tenant: \
                             an AuthnRequest's issuer must name exactly one app, so remove it there first \
                             or choose another identifier"
                        )
                    },
                    || format!("app {}", app.id),
                )
            })?;
    }
    Ok(())
}

impl Store {
    /// Creates an app with its identifiers (entity IDs), in one transaction.
    pub async fn create_app(&self, app: &App, identifiers: &[String]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO apps (id, tenant_id, name, template, config_json, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id(app.id))
        .bind(id(app.tenant_id))
        .bind(app.name.as_str())
        .bind(app.template.as_str())
        .bind(app.config_json.as_str())
        .bind(app.created_at)
        .bind(app.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            classify(
                e,
                || format!("an app with ID {} already exists: use a new ID", app.id),
                || format!("tenant {}", app.tenant_id),
            )
        })?;
        insert_identifiers(&mut tx, app, identifiers).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_app(&self, tenant: Uuid, app: Uuid) -> Result<Option<App>> {
        let sql = format!("SELECT {COLS} FROM apps WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(id(tenant)).bind(id(app)).fetch_optional(&self.pool).await?;
        row.as_ref().map(app_from).transpose()
    }

    /// The tenant's apps, ordered by name.
    pub async fn list_apps(&self, tenant: Uuid) -> Result<Vec<App>> {
        let sql = format!("SELECT {COLS} FROM apps WHERE tenant_id = $1 ORDER BY apps.name, apps.id");
        let rows = sqlx::query(&sql).bind(id(tenant)).fetch_all(&self.pool).await?;
        rows.iter().map(app_from).collect()
    }

    /// Replaces an app's name, template, configuration and `updated_at`, and its identifiers
    /// with `identifiers`, in one transaction.
    pub async fn update_app(&self, app: &App, identifiers: &[String]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE apps SET name = $3, template = $4, config_json = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(id(app.tenant_id))
        .bind(id(app.id))
        .bind(app.name.as_str())
        .bind(app.template.as_str())
        .bind(app.config_json.as_str())
        .bind(app.updated_at)
        .execute(&mut *tx)
        .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("app {}", app.id)));
        }
        sqlx::query("DELETE FROM app_identifiers WHERE app_id = $1")
            .bind(id(app.id))
            .execute(&mut *tx)
            .await?;
        insert_identifiers(&mut tx, app, identifiers).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an app with its identifiers, signing certificates and assignments.
    pub async fn delete_app(&self, tenant: Uuid, app: Uuid) -> Result<()> {
        let r = sqlx::query("DELETE FROM apps WHERE tenant_id = $1 AND id = $2")
            .bind(id(tenant))
            .bind(id(app))
            .execute(&self.pool)
            .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("app {app}")));
        }
        Ok(())
    }

    /// The app of the tenant that has `identifier` (exact, case-sensitive match: entity IDs are URIs).
    pub async fn find_app_by_identifier(&self, tenant: Uuid, identifier: &str) -> Result<Option<App>> {
        let sql = format!(
            "SELECT {COLS} FROM apps JOIN app_identifiers i ON i.app_id = apps.id \
             WHERE i.tenant_id = $1 AND i.identifier = $2"
        );
        let row = sqlx::query(&sql).bind(id(tenant)).bind(identifier).fetch_optional(&self.pool).await?;
        row.as_ref().map(app_from).transpose()
    }

    /// The identifiers of an app, sorted.
    pub async fn list_app_identifiers(&self, app: Uuid) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT identifier FROM app_identifiers WHERE app_id = $1 ORDER BY identifier")
            .bind(id(app))
            .fetch_all(&self.pool)
            .await?)
    }

    // ------------------------------------------------------------------ signing certificates

    /// Stores a signing certificate. Adding an active one while the app has an active one is a
    /// Conflict: add it inactive and switch with [`Store::activate_signing_cert`].
    pub async fn add_signing_cert(&self, c: &SigningCert) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_certs (id, app_id, active, cert_der, key_sealed, thumbprint, not_before, \
             not_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id(c.id))
        .bind(id(c.app_id))
        .bind(c.active)
        .bind(c.cert_der.as_slice())
        .bind(c.key_sealed.as_slice())
        .bind(c.thumbprint.as_str())
        .bind(c.not_before)
        .bind(c.not_after)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(
                e,
                || {
                    format!(
                        "app {} already has an active signing certificate (or certificate {} exists): \
                         add the new certificate inactive, then activate it",
                        c.app_id, c.id
                    )
                },
                || format!("app {}", c.app_id),
            )
        })?;
        Ok(())
    }

    /// An app's signing certificates: the active one first, then the newest first.
    pub async fn list_signing_certs(&self, app: Uuid) -> Result<Vec<SigningCert>> {
        let sql =
            format!("SELECT {CERT_COLS} FROM signing_certs WHERE app_id = $1 ORDER BY active DESC, seq DESC");
        let rows = sqlx::query(&sql).bind(id(app)).fetch_all(&self.pool).await?;
        rows.iter().map(cert_from).collect()
    }

    /// The certificate that signs for the app, if it has one.
    pub async fn active_signing_cert(&self, app: Uuid) -> Result<Option<SigningCert>> {
        let sql = format!("SELECT {CERT_COLS} FROM signing_certs WHERE app_id = $1 AND active = $2");
        let row = sqlx::query(&sql).bind(id(app)).bind(true).fetch_optional(&self.pool).await?;
        row.as_ref().map(cert_from).transpose()
    }

    /// Makes `cert` the app's only active certificate, in one transaction.
    pub async fn activate_signing_cert(&self, app: Uuid, cert: Uuid) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // Lock the app's row first (a no-op update): concurrent activations for one app then run
        // one after the other on PostgreSQL, each seeing the other's result, instead of racing
        // into the one-active index. SQLite's BEGIN IMMEDIATE already serialises writers.
        let app_row = sqlx::query("UPDATE apps SET updated_at = updated_at WHERE id = $1")
            .bind(id(app))
            .execute(&mut *tx)
            .await?;
        if !touched(&app_row) {
            return Err(StoreError::not_found(format!("app {app}")));
        }
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM signing_certs WHERE app_id = $1 AND id = $2")
                .bind(id(app))
                .bind(id(cert))
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(format!("signing certificate {cert} of app {app}")));
        }
        sqlx::query("UPDATE signing_certs SET active = $2 WHERE app_id = $1 AND active = $3")
            .bind(id(app))
            .bind(false)
            .bind(true)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE signing_certs SET active = $2 WHERE id = $1")
            .bind(id(cert))
            .bind(true)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an inactive certificate. The active one cannot be deleted (Conflict): activate
    /// another one first.
    pub async fn delete_signing_cert(&self, app: Uuid, cert: Uuid) -> Result<()> {
        let r = sqlx::query("DELETE FROM signing_certs WHERE app_id = $1 AND id = $2 AND active = $3")
            .bind(id(app))
            .bind(id(cert))
            .bind(false)
            .execute(&self.pool)
            .await?;
        if touched(&r) {
            return Ok(());
        }
        let active: Option<String> =
            sqlx::query_scalar("SELECT id FROM signing_certs WHERE app_id = $1 AND id = $2")
                .bind(id(app))
                .bind(id(cert))
                .fetch_optional(&self.pool)
                .await?;
        Err(match active {
            Some(_) => StoreError::conflict(format!(
                "signing certificate {cert} is the active one of app {app} and cannot be deleted: \
                 activate another certificate first"
            )),
            None => StoreError::not_found(format!("signing certificate {cert} of app {app}")),
        })
    }

    // ------------------------------------------------------------------ assignments

    /// Assigns a user or group of the app's tenant to the app with a role; assigning again
    /// replaces the role (and keeps the first `created_at`).
    pub async fn assign(&self, a: &Assignment) -> Result<()> {
        // INSERT … SELECT joins the principal to the app's tenant, so that a principal of another
        // tenant inserts nothing. (SQLite needs the WHERE for the ON CONFLICT to parse.)
        let sql = match a.principal_kind {
            PrincipalKind::User => {
                "INSERT INTO app_user_assignments (app_id, user_id, role, created_at) \
                 SELECT apps.id, p.id, $3, $4 FROM apps JOIN users p ON p.tenant_id = apps.tenant_id \
                 WHERE apps.id = $1 AND p.id = $2 \
                 ON CONFLICT (app_id, user_id) DO UPDATE SET role = excluded.role"
            }
            PrincipalKind::Group => {
                "INSERT INTO app_group_assignments (app_id, group_id, role, created_at) \
                 SELECT apps.id, p.id, $3, $4 FROM apps JOIN groups p ON p.tenant_id = apps.tenant_id \
                 WHERE apps.id = $1 AND p.id = $2 \
                 ON CONFLICT (app_id, group_id) DO UPDATE SET role = excluded.role"
            }
        };
        let r = sqlx::query(sql)
            .bind(id(a.app_id))
            .bind(id(a.principal_id))
            .bind(a.role.as_str())
            .bind(a.created_at)
            .execute(&self.pool)
            .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!(
                "app {} or {} {} in the app's tenant",
                a.app_id,
                a.principal_kind.as_str(),
                a.principal_id
            )));
        }
        Ok(())
    }

    /// Removes the assignment of a user or group to an app. Returns false when there was none.
    pub async fn unassign(&self, app: Uuid, principal: Uuid) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let users = sqlx::query("DELETE FROM app_user_assignments WHERE app_id = $1 AND user_id = $2")
            .bind(id(app))
            .bind(id(principal))
            .execute(&mut *tx)
            .await?;
        let groups = sqlx::query("DELETE FROM app_group_assignments WHERE app_id = $1 AND group_id = $2")
            .bind(id(app))
            .bind(id(principal))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(touched(&users) || touched(&groups))
    }

    /// The users and groups assigned to an app, oldest assignment first.
    pub async fn assignments(&self, app: Uuid) -> Result<Vec<Assignment>> {
        let rows = sqlx::query(
            "SELECT app_id, user_id AS principal_id, 0 AS kind, role, created_at \
             FROM app_user_assignments WHERE app_id = $1 \
             UNION ALL \
             SELECT app_id, group_id AS principal_id, 1 AS kind, role, created_at \
             FROM app_group_assignments WHERE app_id = $1 \
             ORDER BY created_at, kind, principal_id",
        )
        .bind(id(app))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Assignment {
                    app_id: uuid(row, "app_id")?,
                    principal_id: uuid(row, "principal_id")?,
                    principal_kind: if int(row, "kind")? == 0 {
                        PrincipalKind::User
                    } else {
                        PrincipalKind::Group
                    },
                    role: text(row, "role")?,
                    created_at: int(row, "created_at")?,
                })
            })
            .collect()
    }

    /// The tenant's apps that a user is assigned to, directly or through any group they are in
    /// (nested groups included), ordered by name.
    pub async fn apps_assigned_to(&self, tenant: Uuid, user: Uuid) -> Result<Vec<App>> {
        let sql = format!(
            "{USER_GROUPS_CTE} SELECT {COLS} FROM apps WHERE apps.tenant_id = $2 AND ( \
               EXISTS (SELECT 1 FROM app_user_assignments ua WHERE ua.app_id = apps.id AND ua.user_id = $1) \
               OR EXISTS (SELECT 1 FROM app_group_assignments ga JOIN user_groups ug ON ga.group_id = ug.id \
                          WHERE ga.app_id = apps.id) \
             ) ORDER BY apps.name, apps.id"
        );
        let rows = sqlx::query(&sql).bind(id(user)).bind(id(tenant)).fetch_all(&self.pool).await?;
        rows.iter().map(app_from).collect()
    }
}
