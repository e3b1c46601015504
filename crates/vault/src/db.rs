//! Reading the portable column types through sqlx's Any driver (the same rules as the store's:
//! TEXT, BIGINT, BOOLEAN as INTEGER 0/1 on SQLite, BLOB/BYTEA).

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{Result, VaultError};

fn corrupt(col: &str, what: &str) -> VaultError {
    VaultError::Store(store::StoreError::Database(format!(
        "column {col} holds {what}: the database is corrupted"
    )))
}

pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub(crate) fn opt_bytes(row: &AnyRow, col: &str) -> Result<Option<Vec<u8>>> {
    Ok(row.try_get::<Option<Vec<u8>>, _>(col)?)
}

pub(crate) fn bytes(row: &AnyRow, col: &str) -> Result<Vec<u8>> {
    Ok(row.try_get::<Vec<u8>, _>(col)?)
}

/// BOOLEAN on PostgreSQL (a bool), INTEGER 0/1 on SQLite (an integer).
pub(crate) fn boolean(row: &AnyRow, col: &str) -> Result<bool> {
    match row.try_get::<bool, _>(col) {
        Ok(b) => Ok(b),
        Err(_) => match row.try_get::<i64, _>(col)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt(col, "a value that is not a boolean")),
        },
    }
}

/// The case-folded form of a name (the `*_key` columns).
pub(crate) fn fold(name: &str) -> String {
    name.to_lowercase()
}
