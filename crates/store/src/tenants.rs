//! Tenants.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::model::Tenant;
use crate::row::{id, int, text, uuid};
use crate::{Result, Store};

const COLS: &str = "id, name, created_at";

fn tenant_from(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant { id: uuid(row, "id")?, name: text(row, "name")?, created_at: int(row, "created_at")? })
}

impl Store {
    /// Creates a tenant. The first tenant ever created is the [default](Store::default_tenant).
    pub async fn create_tenant(&self, t: &Tenant) -> Result<()> {
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id(t.id))
            .bind(t.name.as_str())
            .bind(t.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                classify(e, || format!("a tenant with ID {} already exists: use a new ID", t.id), String::new)
            })?;
        Ok(())
    }

    pub async fn get_tenant(&self, tenant: Uuid) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {COLS} FROM tenants WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(tenant)).fetch_optional(&self.pool).await?;
        row.as_ref().map(tenant_from).transpose()
    }

    /// Every tenant, in creation order.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let sql = format!("SELECT {COLS} FROM tenants ORDER BY seq");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(tenant_from).collect()
    }

    /// The first tenant created; `None` while there is none.
    pub async fn default_tenant(&self) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {COLS} FROM tenants ORDER BY seq LIMIT 1");
        let row = sqlx::query(&sql).fetch_optional(&self.pool).await?;
        row.as_ref().map(tenant_from).transpose()
    }
}
