//! The two schemas stay in step: same tables, same columns, same indexes.

mod common;

use std::collections::BTreeSet;

use store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_have_the_same_tables_columns_and_indexes() {
    let lite = store::testkit::sqlite().await;
    let pg = store::testkit::postgres().await;
    assert_eq!(lite.store.backend(), Backend::Sqlite);
    assert_eq!(pg.store.backend(), Backend::Postgres);

    let lite_cols: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .fetch_all(lite.store.raw_pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let pg_cols: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pg.store.raw_pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert!(lite_cols.len() > 50, "the query should see the schema");
    assert_eq!(lite_cols, pg_cols);

    let lite_idx: BTreeSet<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(lite.store.raw_pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    // PostgreSQL also names the indexes behind PRIMARY KEY / UNIQUE (`*_pkey`, `*_key`); SQLite
    // leaves those anonymous (`sqlite_autoindex_*`). Compare the named ones.
    let pg_idx: BTreeSet<String> = sqlx::query_scalar(
        "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' AND tablename NOT LIKE '_sqlx%'",
    )
    .fetch_all(pg.store.raw_pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(lite_idx, pg_idx);
}
