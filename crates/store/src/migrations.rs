//! Migration sets: each crate that owns tables (the store itself, the SP toolkit, the console)
//! ships its own migrations for both backends and applies them with [`Store::migrate_set`], so
//! an application that embeds the SP toolkit runs the SP's migrations alone.
//!
//! All sets share sqlx's `_sqlx_migrations` table; each set reserves a range of version numbers
//! (the store 1–9,999, the SP toolkit 10,000–19,999, the console 20,000–29,999), so a set
//! tells its own rows from the others'. A row in a set's range that the set does not know means
//! the database was migrated by a newer build: that is refused instead of being ignored.

use std::borrow::Cow;
use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::Row;

use crate::{Backend, Result, Store, StoreError};

/// `(version, description, SQL)` of one migration file.
pub type EmbeddedMigration = (i64, &'static str, &'static str);

/// One crate's migrations, for both backends, within its reserved version range.
#[derive(Debug)]
pub struct MigrationSet {
    /// Who owns the set, for error messages ("sp", "console").
    pub name: &'static str,
    /// The version numbers this set reserves; every migration's version lies inside.
    pub versions: RangeInclusive<i64>,
    /// Versions in the range that older builds applied and this set no longer carries (their
    /// tables moved to another set): their rows are left alone, not refused.
    pub retired: &'static [i64],
    pub sqlite: &'static [EmbeddedMigration],
    pub postgres: &'static [EmbeddedMigration],
}

impl MigrationSet {
    /// The migrations for `backend`.
    pub fn for_backend(&self, backend: Backend) -> &'static [EmbeddedMigration] {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }

    /// The versions embedded for `backend`, in order (for the tests that check every file of
    /// a `migrations/` folder is listed).
    pub fn embedded_versions(&self, backend: Backend) -> Vec<i64> {
        self.for_backend(backend).iter().map(|m| m.0).collect()
    }
}

/// Embeds `migrations/BACKEND/FILE.sql` of the calling crate (without sqlx's `migrate!`, which
/// needs the `macros` feature and with it a second build of both drivers for the proc-macro):
///
/// ```ignore
/// sqlite: store::embed_migrations!("sqlite": (10_001, "sp", "10001_sp.sql")),
/// ```
#[macro_export]
macro_rules! embed_migrations {
    ($backend:literal: $(($version:expr, $description:literal, $file:literal)),* $(,)?) => {
        &[$(($version, $description, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $backend, "/", $file)))),*]
    };
}

impl Store {
    /// Applies the migrations of `set` that this database lacks. Idempotent; safe when several
    /// processes open the same database at once.
    pub async fn migrate_set(&self, set: &MigrationSet) -> Result<()> {
        let migrations = set.for_backend(self.backend);
        if let Some(m) = migrations.iter().find(|m| !set.versions.contains(&m.0)) {
            return Err(StoreError::Database(format!(
                "migration {} of the {} set lies outside its reserved versions {:?}",
                m.0, set.name, set.versions
            )));
        }
        self.refuse_unknown_versions(set).await?;
        let mut migrator = Migrator::new(Embedded(migrations)).await?;
        // The other sets' rows share the table.
        migrator.set_ignore_missing(true);
        if self.backend == Backend::Postgres {
            // PostgreSQL: sqlx takes an advisory lock, so concurrent processes queue.
            return Ok(migrator.run(&self.pool).await?);
        }
        // SQLite has no such lock: two processes opening a new file at once both see a
        // migration "not applied", and the second one's CREATE TABLE fails after waiting for the
        // first. Each such failure means the other process applied that migration, so running
        // again makes progress; at most once per migration, then the error is real.
        let mut attempts = 0;
        loop {
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(e) if attempts >= migrations.len() => return Err(e.into()),
                Err(_) => attempts += 1,
            }
        }
    }

    /// Refuses a database that holds a version in the set's range that the set does not know
    /// (migrated by a newer build of Portcullis).
    async fn refuse_unknown_versions(&self, set: &MigrationSet) -> Result<()> {
        let rows =
            match sqlx::query("SELECT version FROM _sqlx_migrations WHERE version >= $1 AND version <= $2")
                .bind(*set.versions.start())
                .bind(*set.versions.end())
                .fetch_all(&self.pool)
                .await
            {
                Ok(rows) => rows,
                // A new database has no table yet.
                Err(_) => return Ok(()),
            };
        let known = set.embedded_versions(self.backend);
        for row in rows {
            let version: i64 = row.try_get(0)?;
            if !known.contains(&version) && !set.retired.contains(&version) {
                return Err(StoreError::Database(format!(
                    "the database holds migration {version} of the {} tables, which this build of \
                     Portcullis does not know: it was upgraded by a newer version; run that \
                     version (or restore a backup taken before the upgrade)",
                    set.name
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Embedded(&'static [EmbeddedMigration]);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send + 'static>>
    {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}
