//! The data directory's life: only `init` and `up` create one; every other command opens an
//! existing one and refuses a path that is missing or holds no database, so that a mistyped
//! `--data` (or a command run from another folder) never starts a new, empty directory with a
//! new master key while the real one sits elsewhere.

use anyhow::{bail, Result};
use std::path::Path;
use store::seal::{MASTER_KEY_ENV, MASTER_KEY_FILE};
use store::DATA_DIR_DB_FILE;

/// What to tell someone whose `--data` names no data directory.
fn hint(data: &Path) -> String {
    format!(
        "run `portcullis init --data {}` to create it, or pass --data (or PORTCULLIS_DATA, or `data` \
         in the configuration file) naming the directory `portcullis up` uses",
        data.display()
    )
}

/// Checks that `data` is a data directory made by `init` or `up`: it exists, and holds the
/// SQLite database (or, with `database_url`, the master key unless PORTCULLIS_MASTER_KEY gives it).
pub fn require_existing(data: &Path, database_url: Option<&str>) -> Result<()> {
    if !data.exists() {
        bail!("the data directory {} does not exist: {}", data.display(), hint(data));
    }
    if !data.is_dir() {
        bail!("the data directory {} is not a directory: {}", data.display(), hint(data));
    }
    match database_url {
        None if !data.join(DATA_DIR_DB_FILE).is_file() => bail!(
            "{} is not a Portcullis data directory (it holds no {DATA_DIR_DB_FILE}): {}",
            data.display(),
            hint(data)
        ),
        Some(_) if std::env::var_os(MASTER_KEY_ENV).is_none() && !data.join(MASTER_KEY_FILE).is_file() => {
            bail!(
                "the data directory {} holds no {MASTER_KEY_FILE} (and {MASTER_KEY_ENV} is not set): {}",
                data.display(),
                hint(data)
            )
        }
        _ => Ok(()),
    }
}

/// Whether `data` already holds a Portcullis database or master key (`init` refuses it).
pub fn is_initialised(data: &Path) -> bool {
    data.join(DATA_DIR_DB_FILE).exists() || data.join(MASTER_KEY_FILE).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_missing_path_a_file_and_a_directory_without_a_database() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("typo");
        let e = require_existing(&missing, None).unwrap_err().to_string();
        assert!(
            e.contains("does not exist") && e.contains("portcullis init --data") && e.contains("typo"),
            "{e}"
        );
        assert!(!missing.exists(), "nothing is created");
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(require_existing(&file, None).unwrap_err().to_string().contains("not a directory"));
        let e = require_existing(tmp.path(), None).unwrap_err().to_string();
        assert!(e.contains("holds no portcullis.db"), "{e}");
        std::fs::write(tmp.path().join(DATA_DIR_DB_FILE), "").unwrap();
        require_existing(tmp.path(), None).unwrap();
        assert!(is_initialised(tmp.path()));
    }
}
