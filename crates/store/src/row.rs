//! Reading and writing the portable column types through the Any driver: TEXT, BIGINT, BOOLEAN
//! (INTEGER 0/1 on SQLite), BLOB/BYTEA and UUIDs as text. Public so that the crates keeping
//! their own tables (the vault) read them by the same rules.

use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::StoreError;

/// A UUID as the store writes it: lowercase, hyphenated.
pub fn id(u: Uuid) -> String {
    u.hyphenated().to_string()
}

/// The case-folded form of a name, stored in the `*_key` columns. Computed here, not by SQL
/// `lower()`, which folds only ASCII on SQLite but all of Unicode on PostgreSQL.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

pub fn text(row: &AnyRow, col: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(col)?)
}

pub fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub fn int(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub fn bytes(row: &AnyRow, col: &str) -> Result<Vec<u8>, StoreError> {
    Ok(row.try_get::<Vec<u8>, _>(col)?)
}

pub fn opt_bytes(row: &AnyRow, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(row.try_get::<Option<Vec<u8>>, _>(col)?)
}

pub fn uuid(row: &AnyRow, col: &str) -> Result<Uuid, StoreError> {
    let s = text(row, col)?;
    parse_uuid(&s, col)
}

pub fn opt_uuid(row: &AnyRow, col: &str) -> Result<Option<Uuid>, StoreError> {
    opt_text(row, col)?.map(|s| parse_uuid(&s, col)).transpose()
}

fn parse_uuid(s: &str, col: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| {
        StoreError::Database(format!(
            "column {col} holds {s:?}, which is not a UUID: the database is corrupted"
        ))
    })
}

/// A boolean column: BOOLEAN on PostgreSQL (Any gives a bool), INTEGER 0/1 on SQLite (Any gives
/// an integer: it refuses SQLite columns declared BOOLEAN).
pub fn boolean(row: &AnyRow, col: &str) -> Result<bool, StoreError> {
    match row.try_get::<bool, _>(col) {
        Ok(b) => Ok(b),
        Err(_) => match row.try_get::<i64, _>(col)? {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(StoreError::Database(format!(
                "column {col} holds {n}, which is not a boolean: the database is corrupted"
            ))),
        },
    }
}
