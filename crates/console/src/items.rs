//! Jump items (what a representative opens a session into) and jump groups (what group policies
//! grant). A jump item has a name (unique, case-insensitive), a type — `ssh` (host and port),
//! `web` (a URL; its host is the URL's unless given) or `app` (an application on a host) — a
//! jump group and an optional tag. Every item is in exactly one group; naming a group that does
//! not exist creates it, so `jump-item create --jump-group G` works on a fresh console (the
//! group grants nothing until a policy names it).

use std::fmt;
use std::str::FromStr;

use sqlx::any::AnyRow;
use store::row::{fold, int, opt_int, opt_text, text};

use crate::db::{check_name, classify, new_id, ConsoleStore};
use crate::ssh::{Endpoint, DEFAULT_PORT};
use crate::ConsoleError;

/// The group an item goes to when none is named.
pub const DEFAULT_JUMP_GROUP: &str = "Default";

/// What kind of endpoint a jump item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemType {
    Ssh,
    Web,
    App,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Ssh => "ssh",
            ItemType::Web => "web",
            ItemType::App => "app",
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ItemType {
    type Err = ConsoleError;
    fn from_str(s: &str) -> Result<ItemType, ConsoleError> {
        match s {
            "ssh" => Ok(ItemType::Ssh),
            "web" => Ok(ItemType::Web),
            "app" => Ok(ItemType::App),
            other => Err(ConsoleError::InvalidInput {
                reason: format!("unknown jump item type {other:?}; use ssh, web or app"),
            }),
        }
    }
}

/// A jump group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpGroup {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// A jump item as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpItem {
    pub id: String,
    pub name: String,
    pub item_type: ItemType,
    /// Host name or IP address (a `web` item's URL host unless given).
    pub host: String,
    /// The SSH port of an `ssh` item (22 unless given); `None` for the other types.
    pub port: Option<u16>,
    /// The URL of a `web` item.
    pub url: Option<String>,
    /// The application name of an `app` item.
    pub application: Option<String>,
    pub jump_group_id: String,
    pub jump_group: String,
    pub tag: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl JumpItem {
    /// Where an SSH session into this item goes (its host-key pin is kept under the item's ID).
    pub fn endpoint(&self) -> Result<Endpoint, ConsoleError> {
        match (self.item_type, self.port) {
            (ItemType::Ssh, Some(port)) => Endpoint::new(&self.id, &self.host, port),
            _ => Err(ConsoleError::InvalidRequest {
                reason: format!("jump item {:?} is a {} item, not an SSH one", self.name, self.item_type),
            }),
        }
    }
}

/// A jump item to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJumpItem {
    pub name: String,
    pub item_type: ItemType,
    /// Required for `ssh` and `app`; a `web` item takes its URL's host when empty.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub url: Option<String>,
    pub application: Option<String>,
    /// The group's name ([`DEFAULT_JUMP_GROUP`] when `None`); created when missing.
    pub jump_group: Option<String>,
    pub tag: Option<String>,
}

impl NewJumpItem {
    /// An SSH item on `host` (port 22, the default group).
    pub fn ssh(name: impl Into<String>, host: impl Into<String>) -> NewJumpItem {
        NewJumpItem {
            name: name.into(),
            item_type: ItemType::Ssh,
            host: Some(host.into()),
            port: None,
            url: None,
            application: None,
            jump_group: None,
            tag: None,
        }
    }
}

/// Changes to a jump item: `None` keeps a field; for the optional fields `Some(None)` clears it.
/// The type cannot change (create another item).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JumpItemUpdate {
    pub name: Option<String>,
    pub host: Option<String>,
    pub port: Option<Option<u16>>,
    pub url: Option<Option<String>>,
    pub application: Option<Option<String>>,
    pub jump_group: Option<String>,
    pub tag: Option<Option<String>>,
}

/// The checked fields of an item, as they are written.
struct Checked {
    name: String,
    host: String,
    port: Option<u16>,
    url: Option<String>,
    application: Option<String>,
    tag: Option<String>,
}

fn invalid(reason: impl Into<String>) -> ConsoleError {
    ConsoleError::InvalidInput { reason: reason.into() }
}

/// Applies the type's rules to the fields of an item.
fn check_item(
    item_type: ItemType,
    name: &str,
    host: Option<&str>,
    port: Option<u16>,
    url: Option<&str>,
    application: Option<&str>,
    tag: Option<&str>,
) -> Result<Checked, ConsoleError> {
    let name = check_name("jump item", name)?.to_owned();
    let tag = tag.map(|t| check_name("tag", t).map(str::to_owned)).transpose()?;
    let host = host.map(str::trim).filter(|h| !h.is_empty());
    let (host, port, url, application) = match item_type {
        ItemType::Ssh => {
            if url.is_some() || application.is_some() {
                return Err(invalid("an ssh jump item has a host and a port, no URL or application"));
            }
            let host = host.ok_or_else(|| invalid("an ssh jump item needs a host (name or IP address)"))?;
            (host.to_owned(), Some(port.unwrap_or(DEFAULT_PORT)), None, None)
        }
        ItemType::Web => {
            if application.is_some() || port.is_some() {
                return Err(invalid("a web jump item has a URL (with its port), no port or application"));
            }
            let raw = url.ok_or_else(|| invalid("a web jump item needs a URL (https://…)"))?.trim();
            let parsed = url::Url::parse(raw)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| invalid(format!("{raw:?} is not an absolute http(s) URL")))?;
            let url_host = parsed.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
            (host.map_or(url_host, str::to_owned), None, Some(parsed.to_string()), None)
        }
        ItemType::App => {
            if url.is_some() || port.is_some() {
                return Err(invalid("an app jump item has a host and an application name, no URL or port"));
            }
            let host =
                host.ok_or_else(|| invalid("an app jump item needs the host the application runs on"))?;
            let app = application.ok_or_else(|| invalid("an app jump item needs an application name"))?;
            (host.to_owned(), None, None, Some(check_name("application", app)?.to_owned()))
        }
    };
    // The host follows the SSH endpoint's rules for every type (the broker matches on it).
    Endpoint::new("check", &host, port.unwrap_or(DEFAULT_PORT)).map_err(|e| match e {
        ConsoleError::InvalidRequest { reason } => invalid(reason),
        other => other,
    })?;
    Ok(Checked { name, host, port, url, application, tag })
}

const ITEM_COLUMNS: &str =
    "i.id, i.name, i.item_type, i.host, i.port, i.url, i.application, i.jump_group_id, \
     g.name AS group_name, i.tag, i.created_at, i.updated_at";

fn item_from(r: &AnyRow) -> Result<JumpItem, ConsoleError> {
    let port = opt_int(r, "port")?
        .map(|p| {
            u16::try_from(p).map_err(|_| ConsoleError::Storage { detail: format!("port {p} is stored") })
        })
        .transpose()?;
    Ok(JumpItem {
        id: text(r, "id")?,
        name: text(r, "name")?,
        item_type: text(r, "item_type")?.parse()?,
        host: text(r, "host")?,
        port,
        url: opt_text(r, "url")?,
        application: opt_text(r, "application")?,
        jump_group_id: text(r, "jump_group_id")?,
        jump_group: text(r, "group_name")?,
        tag: opt_text(r, "tag")?,
        created_at: int(r, "created_at")?,
        updated_at: int(r, "updated_at")?,
    })
}

fn group_from(r: &AnyRow) -> Result<JumpGroup, ConsoleError> {
    Ok(JumpGroup { id: text(r, "id")?, name: text(r, "name")?, created_at: int(r, "created_at")? })
}

impl ConsoleStore {
    /// Creates a jump group; a taken name is a conflict.
    pub async fn create_jump_group(&self, name: &str) -> Result<JumpGroup, ConsoleError> {
        let name = check_name("jump group", name)?;
        let group = JumpGroup { id: new_id(), name: name.to_owned(), created_at: self.now() };
        sqlx::query(
            "INSERT INTO console_jump_groups (id, name, name_key, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&group.id)
        .bind(&group.name)
        .bind(fold(name))
        .bind(group.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, || format!("a jump group named {name:?} exists already"), String::new))?;
        tracing::info!(jump_group = %group.name, id = %group.id, "jump group created");
        Ok(group)
    }

    /// Every jump group, by name.
    pub async fn jump_groups(&self) -> Result<Vec<JumpGroup>, ConsoleError> {
        let rows = sqlx::query("SELECT id, name, created_at FROM console_jump_groups ORDER BY name_key")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(group_from).collect()
    }

    /// The jump group with this ID or name.
    pub async fn jump_group(&self, id_or_name: &str) -> Result<JumpGroup, ConsoleError> {
        let row = sqlx::query(
            "SELECT id, name, created_at FROM console_jump_groups WHERE id = $1 OR name_key = $2 \
             ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1",
        )
        .bind(id_or_name)
        .bind(fold(id_or_name.trim()))
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => group_from(&r),
            None => Err(ConsoleError::NotFound { what: format!("jump group {id_or_name:?}") }),
        }
    }

    /// The group's ID, creating the group when it does not exist (inside `tx`).
    async fn ensure_group(&self, tx: &mut sqlx::AnyConnection, name: &str) -> Result<String, ConsoleError> {
        let name = check_name("jump group", name)?;
        let inserted = sqlx::query(
            "INSERT INTO console_jump_groups (id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(name)
        .bind(fold(name))
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() > 0 {
            tracing::info!(jump_group = %name, "jump group created for a jump item");
        }
        let row = sqlx::query("SELECT id FROM console_jump_groups WHERE name_key = $1")
            .bind(fold(name))
            .fetch_one(&mut *tx)
            .await?;
        Ok(text(&row, "id")?)
    }

    /// Creates a jump item (and its group when missing).
    pub async fn create_jump_item(&self, new: &NewJumpItem) -> Result<JumpItem, ConsoleError> {
        let c = check_item(
            new.item_type,
            &new.name,
            new.host.as_deref(),
            new.port,
            new.url.as_deref(),
            new.application.as_deref(),
            new.tag.as_deref(),
        )?;
        let id = new_id();
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let group =
            self.ensure_group(&mut tx, new.jump_group.as_deref().unwrap_or(DEFAULT_JUMP_GROUP)).await?;
        sqlx::query(
            "INSERT INTO console_jump_items (id, name, name_key, item_type, host, port, url, application, \
             jump_group_id, tag, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&id)
        .bind(&c.name)
        .bind(fold(&c.name))
        .bind(new.item_type.as_str())
        .bind(&c.host)
        .bind(c.port.map(i64::from))
        .bind(&c.url)
        .bind(&c.application)
        .bind(&group)
        .bind(&c.tag)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || format!("a jump item named {:?} exists already", c.name), String::new))?;
        tx.commit().await?;
        tracing::info!(jump_item = %c.name, %id, item_type = %new.item_type, host = %c.host, "jump item created");
        self.jump_item(&id).await
    }

    /// The jump item with this ID or name.
    pub async fn jump_item(&self, id_or_name: &str) -> Result<JumpItem, ConsoleError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM console_jump_items i JOIN console_jump_groups g ON g.id = i.jump_group_id \
             WHERE i.id = $1 OR i.name_key = $2 ORDER BY CASE WHEN i.id = $1 THEN 0 ELSE 1 END LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(id_or_name)
            .bind(fold(id_or_name.trim()))
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => item_from(&r),
            None => Err(ConsoleError::NotFound { what: format!("jump item {id_or_name:?}") }),
        }
    }

    /// Every jump item, by name.
    pub async fn jump_items(&self) -> Result<Vec<JumpItem>, ConsoleError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM console_jump_items i JOIN console_jump_groups g ON g.id = i.jump_group_id \
             ORDER BY i.name_key"
        );
        sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(item_from).collect()
    }

    /// Changes a jump item. A new host or port drops its host-key pin (another endpoint has
    /// another key), in the same transaction.
    pub async fn update_jump_item(&self, id: &str, u: &JumpItemUpdate) -> Result<JumpItem, ConsoleError> {
        let old = self.jump_item(id).await?;
        let pick = |new: &Option<Option<String>>, old: &Option<String>| match new {
            Some(v) => v.clone(),
            None => old.clone(),
        };
        // A web item given a new URL and no host takes the new URL's host.
        let host = match (&u.host, old.item_type, &u.url) {
            (Some(h), _, _) => Some(h.clone()),
            (None, ItemType::Web, Some(Some(_))) => None,
            (None, _, _) => Some(old.host.clone()),
        };
        let port = match u.port {
            Some(p) => p,
            None => old.port,
        };
        let c = check_item(
            old.item_type,
            u.name.as_deref().unwrap_or(&old.name),
            host.as_deref(),
            port,
            pick(&u.url, &old.url).as_deref(),
            pick(&u.application, &old.application).as_deref(),
            pick(&u.tag, &old.tag).as_deref(),
        )?;
        let mut tx = self.begin_write().await?;
        let group = match &u.jump_group {
            Some(g) => self.ensure_group(&mut tx, g).await?,
            None => old.jump_group_id.clone(),
        };
        let changed = sqlx::query(
            "UPDATE console_jump_items SET name = $2, name_key = $3, host = $4, port = $5, url = $6, \
             application = $7, jump_group_id = $8, tag = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(&old.id)
        .bind(&c.name)
        .bind(fold(&c.name))
        .bind(&c.host)
        .bind(c.port.map(i64::from))
        .bind(&c.url)
        .bind(&c.application)
        .bind(&group)
        .bind(&c.tag)
        .bind(self.now())
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || format!("a jump item named {:?} exists already", c.name), String::new))?;
        if changed.rows_affected() == 0 {
            return Err(ConsoleError::NotFound { what: format!("jump item {id:?}") });
        }
        if c.host != old.host || c.port != old.port {
            sqlx::query("DELETE FROM console_host_key_pins WHERE jump_item_id = $1")
                .bind(&old.id)
                .execute(&mut *tx)
                .await?;
            tracing::info!(jump_item = %c.name, host = %c.host, "jump item's address changed: its host-key pin is dropped");
        }
        tx.commit().await?;
        self.jump_item(&old.id).await
    }

    /// Deletes a jump item (with its host-key pin; its sessions' reports stay).
    pub async fn delete_jump_item(&self, id_or_name: &str) -> Result<JumpItem, ConsoleError> {
        let item = self.jump_item(id_or_name).await?;
        let gone = sqlx::query("DELETE FROM console_jump_items WHERE id = $1")
            .bind(&item.id)
            .execute(self.pool())
            .await?;
        if gone.rows_affected() == 0 {
            return Err(ConsoleError::NotFound { what: format!("jump item {id_or_name:?}") });
        }
        tracing::info!(jump_item = %item.name, id = %item.id, "jump item deleted");
        Ok(item)
    }

    /// The jump items in the groups that any of `policies` grants, by name.
    pub async fn jump_items_for_policies(&self, policies: &[String]) -> Result<Vec<JumpItem>, ConsoleError> {
        let keys: Vec<String> = policies.iter().map(|p| fold(p.trim())).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM console_jump_items i JOIN console_jump_groups g ON g.id = i.jump_group_id \
             WHERE i.jump_group_id IN (SELECT jump_group_id FROM console_policy_jump_groups WHERE policy_key IN ({})) \
             ORDER BY i.name_key",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for k in &keys {
            q = q.bind(k);
        }
        q.fetch_all(self.pool()).await?.iter().map(item_from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_its_fields() {
        let ok = check_item(ItemType::Ssh, " web-01 ", Some("10.0.0.5"), None, None, None, None).unwrap();
        assert_eq!((ok.name.as_str(), ok.port), ("web-01", Some(22)));
        let web =
            check_item(ItemType::Web, "w", None, None, Some("https://app01.example/x"), None, None).unwrap();
        assert_eq!(web.host, "app01.example");
        let app = check_item(ItemType::App, "a", Some("h"), None, None, Some("SQL Studio"), None).unwrap();
        assert_eq!(app.application.as_deref(), Some("SQL Studio"));
        for bad in [
            check_item(ItemType::Ssh, "s", None, None, None, None, None),
            check_item(ItemType::Ssh, "s", Some("h h"), None, None, None, None),
            check_item(ItemType::Ssh, "s", Some("h"), Some(0), None, None, None),
            check_item(ItemType::Ssh, "s", Some("h"), None, Some("https://x"), None, None),
            check_item(ItemType::Web, "w", None, None, Some("ftp://x"), None, None),
            check_item(ItemType::Web, "w", None, None, None, None, None),
            check_item(ItemType::App, "a", Some("h"), None, None, None, None),
            check_item(ItemType::Ssh, "", Some("h"), None, None, None, None),
            check_item(ItemType::Ssh, "a\u{7}", Some("h"), None, None, None, None),
        ] {
            assert_eq!(bad.err().map(|e| e.code()), Some("PCC043"));
        }
        assert_eq!("rdp".parse::<ItemType>().unwrap_err().code(), "PCC043");
    }
}
