//! Secrets Safe: folders (a tree addressed by path) holding credential, text and file secrets.
//! The value of every secret is sealed with an AAD naming the secret. A user sees the folders
//! they own; an Administrator on everything sees all.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{invalid, not_found, unique, Result};
use crate::model::User;
use crate::Vault;
use store::row::{bytes, fold, int, opt_text, text};

/// A folder.
#[derive(Debug, Clone, Serialize)]
pub struct Folder {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub path: String,
    pub description: String,
    pub owner_id: i64,
}

/// A secret's metadata (its value is read separately).
#[derive(Debug, Clone, Serialize)]
pub struct Secret {
    pub id: String,
    pub folder_id: String,
    pub folder_path: String,
    pub title: String,
    pub secret_type: String,
    pub username: String,
    pub description: String,
    pub notes: String,
    pub file_name: Option<String>,
    pub owner_id: i64,
    pub owner_name: String,
    pub created_at: i64,
    pub modified_at: i64,
}

/// The kind and value of a new secret.
pub enum SecretValue {
    Credential { username: String, password: Zeroizing<String> },
    Text(Zeroizing<String>),
    File { name: String, content: Zeroizing<Vec<u8>> },
}

fn secret_aad(id: &str) -> String {
    format!("vault/secret/{id}/value")
}

const FOLDER_COLS: &str = "f.id, f.parent_id, f.name, f.path_key, f.description, f.owner_id";

fn folder_row(r: &AnyRow) -> Result<Folder> {
    Ok(Folder {
        id: text(r, "id")?,
        parent_id: opt_text(r, "parent_id")?,
        name: text(r, "name")?,
        path: text(r, "path_key")?,
        description: text(r, "description")?,
        owner_id: int(r, "owner_id")?,
    })
}

const SECRET_COLS: &str =
    "s.id, s.folder_id, f.path_key, s.title, s.secret_type, s.username, s.description, s.notes, \
    s.file_name, s.owner_id, u.name AS owner_name, s.created_at, s.modified_at";
const SECRET_FROM: &str =
    "vault_secrets s JOIN vault_folders f ON f.id = s.folder_id JOIN vault_users u ON u.id = s.owner_id";

fn secret_row(r: &AnyRow) -> Result<Secret> {
    Ok(Secret {
        id: text(r, "id")?,
        folder_id: text(r, "folder_id")?,
        folder_path: text(r, "path_key")?,
        title: text(r, "title")?,
        secret_type: text(r, "secret_type")?,
        username: text(r, "username")?,
        description: text(r, "description")?,
        notes: text(r, "notes")?,
        file_name: opt_text(r, "file_name")?,
        owner_id: int(r, "owner_id")?,
        owner_name: text(r, "owner_name")?,
        created_at: int(r, "created_at")?,
        modified_at: int(r, "modified_at")?,
    })
}

/// A folder's path as its names read (`Team/Prod`), from the `id → (parent, name)` map.
fn display_path(names: &HashMap<String, (Option<String>, String)>, id: &str) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(id.to_string());
    while let Some(c) = cur {
        match names.get(&c) {
            Some((parent, name)) if parts.len() < 64 => {
                parts.push(name.clone());
                cur = parent.clone();
            }
            _ => break,
        }
    }
    parts.reverse();
    parts.join("/")
}

impl Vault {
    async fn folder_names(&self) -> Result<HashMap<String, (Option<String>, String)>> {
        let rows =
            sqlx::query("SELECT id, parent_id, name FROM vault_folders").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((text(r, "id")?, (opt_text(r, "parent_id")?, text(r, "name")?)))).collect()
    }

    async fn may_see(&self, user: &User, owner_id: i64) -> Result<bool> {
        Ok(user.id == owner_id || self.is_admin(user.id).await?)
    }

    /// Creates a folder under `parent` (or at the top).
    pub async fn create_folder(
        &self,
        user: &User,
        name: &str,
        parent: Option<&str>,
        description: &str,
    ) -> Result<Folder> {
        let name = name.trim();
        if name.is_empty() || name.contains('/') || name.len() > 256 {
            return Err(invalid("a folder name must be 1 to 256 characters without '/'"));
        }
        let parent = match parent.filter(|p| !p.trim().is_empty()) {
            Some(p) => Some(self.folder(user, p).await?),
            None => None,
        };
        let path = match &parent {
            Some(p) => format!("{}/{}", p.path, fold(name)),
            None => fold(name),
        };
        let id = Uuid::new_v4().hyphenated().to_string();
        sqlx::query(
            "INSERT INTO vault_folders (id, parent_id, name, path_key, description, owner_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(parent.map(|p| p.id))
        .bind(name)
        .bind(&path)
        .bind(description)
        .bind(user.id)
        .bind(self.now())
        .execute(self.pool())
        .await
        .map_err(|e| unique(e, || format!("a folder {path:?} already exists")))?;
        self.folder(user, &id).await
    }

    /// A folder by ID.
    pub async fn folder(&self, user: &User, id: &str) -> Result<Folder> {
        let r = sqlx::query(&format!("SELECT {FOLDER_COLS} FROM vault_folders f WHERE f.id = $1"))
            .bind(id.trim().to_ascii_lowercase())
            .fetch_optional(self.pool())
            .await?;
        match r {
            Some(r) => {
                let f = folder_row(&r)?;
                if self.may_see(user, f.owner_id).await? {
                    return Ok(f);
                }
                Err(not_found(format!("folder {id} was not found")))
            }
            None => Err(not_found(format!("folder {id} was not found"))),
        }
    }

    pub async fn list_folders(&self, user: &User) -> Result<Vec<Folder>> {
        let rows = sqlx::query(&format!("SELECT {FOLDER_COLS} FROM vault_folders f ORDER BY f.path_key"))
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let f = folder_row(r)?;
            if self.may_see(user, f.owner_id).await? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Stores a secret in a folder.
    pub async fn create_secret(
        &self,
        user: &User,
        folder_id: &str,
        title: &str,
        description: &str,
        notes: &str,
        value: SecretValue,
    ) -> Result<Secret> {
        let folder = self.folder(user, folder_id).await?;
        let title = title.trim();
        if title.is_empty() || title.len() > 256 {
            return Err(invalid("a secret's Title must be 1 to 256 characters"));
        }
        let id = Uuid::new_v4().hyphenated().to_string();
        let (kind, username, file_name, plain): (&str, String, Option<String>, Zeroizing<Vec<u8>>) =
            match value {
                SecretValue::Credential { username, password } => {
                    ("Credential", username, None, Zeroizing::new(password.as_bytes().to_vec()))
                }
                SecretValue::Text(t) => ("Text", String::new(), None, Zeroizing::new(t.as_bytes().to_vec())),
                SecretValue::File { name, content } => ("File", String::new(), Some(name), content),
            };
        let now = self.now();
        sqlx::query(
            "INSERT INTO vault_secrets (id, folder_id, title, title_key, secret_type, username, description, notes, \
             file_name, value_sealed, owner_id, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&id)
        .bind(&folder.id)
        .bind(title)
        .bind(fold(title))
        .bind(kind)
        .bind(username)
        .bind(description)
        .bind(notes)
        .bind(file_name)
        .bind(self.seal(&secret_aad(&id), &plain)?)
        .bind(user.id)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| unique(e, || format!("folder {:?} already has a secret titled {title:?}", folder.path)))?;
        self.secret(user, &id).await
    }

    pub async fn secret(&self, user: &User, id: &str) -> Result<Secret> {
        let r = sqlx::query(&format!("SELECT {SECRET_COLS} FROM {SECRET_FROM} WHERE s.id = $1"))
            .bind(id.trim().to_ascii_lowercase())
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| not_found(format!("secret {id} was not found")))?;
        let mut s = secret_row(&r)?;
        if !self.may_see(user, s.owner_id).await? {
            return Err(not_found(format!("secret {id} was not found")));
        }
        s.folder_path = display_path(&self.folder_names().await?, &s.folder_id);
        Ok(s)
    }

    /// Secrets under a folder path (`separator` between levels; the path names the folder and
    /// its sub-folders), optionally with one title.
    pub async fn find_secrets(
        &self,
        user: &User,
        path: Option<&str>,
        separator: &str,
        title: Option<&str>,
    ) -> Result<Vec<Secret>> {
        let rows =
            sqlx::query(&format!("SELECT {SECRET_COLS} FROM {SECRET_FROM} ORDER BY f.path_key, s.title_key"))
                .fetch_all(self.pool())
                .await?;
        let names = self.folder_names().await?;
        let sep = if separator.is_empty() { "/" } else { separator };
        let want = path.map(|p| fold(p.trim_matches(|c: char| sep.contains(c))).replace(sep, "/"));
        let title = title.map(fold);
        let mut out = Vec::new();
        for r in &rows {
            let mut s = secret_row(r)?;
            let key = s.folder_path.clone();
            s.folder_path = display_path(&names, &s.folder_id);
            let in_path = match &want {
                None => true,
                Some(p) if p.is_empty() => true,
                Some(p) => key == *p || key.starts_with(&format!("{p}/")),
            };
            let title_ok = title.as_ref().is_none_or(|t| fold(&s.title) == *t);
            if in_path && title_ok && self.may_see(user, s.owner_id).await? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// A secret's value (password, text or file content).
    pub async fn secret_value(&self, user: &User, id: &str) -> Result<(Secret, Zeroizing<Vec<u8>>)> {
        let s = self.secret(user, id).await?;
        let r = sqlx::query("SELECT value_sealed FROM vault_secrets WHERE id = $1")
            .bind(&s.id)
            .fetch_one(self.pool())
            .await?;
        let v = self.open_sealed(&secret_aad(&s.id), &bytes(&r, "value_sealed")?)?;
        Ok((s, v))
    }
}
