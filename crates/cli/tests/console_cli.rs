//! `portcullis console …` as issue 9's contract writes it: API accounts (the last line is
//! "CLIENT_ID CLIENT_SECRET", the secret works and is refused after disable and rotation), jump
//! items (the ID is printed), jump groups, policies, and `console brokers` (oldest first, stale
//! ones left out, --json).

mod support;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use console::db::NewBroker;
use console::ConsoleStore;
use support::{describe, PORTCULLIS};

fn portcullis(data: &Path, args: &[&str]) -> Output {
    support::portcullis(PORTCULLIS).arg("--data").arg(data).args(args).output().unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let o = portcullis(data, args);
    assert!(o.status.success(), "portcullis {args:?}:\n{}", describe(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn fails(data: &Path, args: &[&str]) -> String {
    let o = portcullis(data, args);
    assert!(!o.status.success(), "portcullis {args:?} should fail:\n{}", describe(&o));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// The console's tables of the data directory, as the server would open them.
async fn console_db(data: &Path) -> ConsoleStore {
    ConsoleStore::open(store::Store::open_data_dir(data).await.unwrap()).await.unwrap()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn api_accounts_print_credentials_that_work_until_disabled_or_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    let out = ok(
        &data,
        &["console", "api-account", "create", "--name", "Broker East", "--ecm-api", "--ecm-group", "East"],
    );
    let last = last_line(&out);
    let (id, secret) = last.split_once(' ').expect("CLIENT_ID CLIENT_SECRET");
    assert!(!secret.contains(' ') && secret.len() >= 43, "{last}");

    let ttl = Duration::from_secs(600);
    let db = console_db(&data).await;
    let token = db.issue_token(id, secret, ttl).await.unwrap();
    let who = db.authorize(&token.access_token, console::oauth::Need::Ecm).await.unwrap();
    assert_eq!((who.name.as_str(), who.ecm_group.as_deref()), ("Broker East", Some("East")));
    assert_eq!(
        db.authorize(&token.access_token, console::oauth::Need::CommandRead).await.unwrap_err().code(),
        "PCC055"
    );

    let full = ok(
        &data,
        &["console", "api-account", "create", "--name", "Admin", "--command-api", "full", "--reporting-api"],
    );
    let admin = last_line(&full);
    let (admin_id, _) = admin.split_once(' ').unwrap();

    let list = ok(&data, &["console", "api-account", "list", "--json"]);
    let accounts: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(accounts.as_array().unwrap().len(), 2);
    assert_eq!(accounts[0]["name"], "Admin");
    assert_eq!(accounts[0]["command_api"], "full");
    assert_eq!(accounts[0]["reporting_api"], true);
    assert_eq!(accounts[1]["ecm_group"], "East");
    assert!(!list.contains(secret), "a list never shows a secret");
    let show = ok(&data, &["console", "api-account", "show", admin_id]);
    assert!(show.contains("Command API:     full"), "{show}");

    // Permissions change in place and apply to the existing token.
    let set =
        ok(&data, &["console", "api-account", "set", id, "--command-api", "read", "--ecm-group", "West"]);
    assert!(set.contains("Command API:     read") && set.contains("ECM group West"), "{set}");
    db.authorize(&token.access_token, console::oauth::Need::CommandRead).await.unwrap();
    let set = ok(&data, &["console", "api-account", "set", id, "--ecm-api", "off"]);
    assert!(set.contains("ECM API:         no"), "{set}");
    assert_eq!(
        db.authorize(&token.access_token, console::oauth::Need::Ecm).await.unwrap_err().code(),
        "PCC055"
    );
    assert!(fails(&data, &["console", "api-account", "set", id, "--ecm-group", "East"]).contains("PCC043"));
    ok(
        &data,
        &[
            "console",
            "api-account",
            "set",
            id,
            "--ecm-api",
            "on",
            "--ecm-group",
            "East",
            "--command-api",
            "none",
        ],
    );
    let token = db.issue_token(id, secret, ttl).await.unwrap();

    ok(&data, &["console", "api-account", "disable", "Broker East"]);
    assert_eq!(
        db.authorize(&token.access_token, console::oauth::Need::Ecm).await.unwrap_err().code(),
        "PCC054"
    );
    assert_eq!(db.issue_token(id, secret, ttl).await.unwrap_err().code(), "PCC051");
    ok(&data, &["console", "api-account", "enable", id]);
    let token = db.issue_token(id, secret, ttl).await.unwrap();

    let rotated = last_line(&ok(&data, &["console", "api-account", "rotate-secret", "broker east"]));
    let (same_id, new_secret) = rotated.split_once(' ').unwrap();
    assert_eq!(same_id, id);
    assert_ne!(new_secret, secret);
    assert_eq!(
        db.authorize(&token.access_token, console::oauth::Need::Ecm).await.unwrap_err().code(),
        "PCC054"
    );
    assert_eq!(db.issue_token(id, secret, ttl).await.unwrap_err().code(), "PCC051");
    db.issue_token(id, new_secret, ttl).await.unwrap();

    ok(&data, &["console", "api-account", "delete", id]);
    assert!(fails(&data, &["console", "api-account", "show", id]).contains("PCC041"));
    assert!(fails(&data, &["console", "api-account", "create", "--name", "admin"]).contains("PCC042"));
    // --ecm-group needs --ecm-api; an unknown access level is a usage error.
    fails(&data, &["console", "api-account", "create", "--name", "X", "--ecm-group", "G"]);
    fails(&data, &["console", "api-account", "create", "--name", "X", "--command-api", "write"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn jump_items_groups_and_policies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["init"]);
    let out = ok(
        data,
        &[
            "console",
            "jump-item",
            "create",
            "--name",
            "web-01",
            "--type",
            "ssh",
            "--host",
            "127.0.0.1",
            "--port",
            "2222",
            "--jump-group",
            "Linux",
        ],
    );
    assert_eq!(out.lines().count(), 1, "only the ID: {out}");
    let id = out.trim();
    let db = console_db(data).await;
    let item = db.jump_item(id).await.unwrap();
    assert_eq!(
        (item.name.as_str(), item.host.as_str(), item.port, item.jump_group.as_str()),
        ("web-01", "127.0.0.1", Some(2222), "Linux")
    );

    let plain = ok(
        data,
        &["console", "jump-item", "create", "--name", "db-01", "--type", "ssh", "--host", "db01.example"],
    );
    let plain = db.jump_item(plain.trim()).await.unwrap();
    assert_eq!((plain.port, plain.jump_group.as_str()), (Some(22), "Default"));
    let web = ok(
        data,
        &[
            "console",
            "jump-item",
            "create",
            "--name",
            "intranet",
            "--type",
            "web",
            "--url",
            "https://intranet.example/",
        ],
    );
    assert_eq!(db.jump_item(web.trim()).await.unwrap().host, "intranet.example");
    let app = ok(
        data,
        &[
            "console",
            "jump-item",
            "create",
            "--name",
            "sql",
            "--type",
            "app",
            "--host",
            "10.0.0.9",
            "--app",
            "SQL Studio",
        ],
    );
    assert_eq!(db.jump_item(app.trim()).await.unwrap().application.as_deref(), Some("SQL Studio"));

    assert!(
        fails(data, &["console", "jump-item", "create", "--name", "x", "--type", "ssh"]).contains("PCC043")
    );
    assert!(fails(
        data,
        &["console", "jump-item", "create", "--name", "WEB-01", "--type", "ssh", "--host", "h"]
    )
    .contains("PCC042"));
    fails(data, &["console", "jump-item", "create", "--name", "x", "--type", "rdp", "--host", "h"]);

    let list = ok(data, &["console", "jump-item", "list"]);
    assert!(list.lines().next().unwrap().starts_with("NAME"), "{list}");
    assert!(list.contains("127.0.0.1:2222") && list.contains("SQL Studio on 10.0.0.9"), "{list}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(data, &["console", "jump-item", "list", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 4);

    let group = ok(data, &["console", "jump-group", "create", "--name", "Windows"]);
    assert_eq!(db.jump_group("windows").await.unwrap().id, group.trim());
    let groups = ok(data, &["console", "jump-group", "list"]);
    for g in ["Default", "Linux", "Windows"] {
        assert!(groups.contains(g), "{groups}");
    }

    let set = ok(
        data,
        &[
            "console",
            "policy",
            "set",
            "--policy",
            "Helpdesk",
            "--jump-group",
            "Linux",
            "--jump-group",
            "Windows",
        ],
    );
    assert!(set.contains("Linux, Windows"), "{set}");
    assert!(fails(data, &["console", "policy", "set", "--policy", "Helpdesk", "--jump-group", "Nope"])
        .contains("PCC041"));
    let items = db.jump_items_for_policies(&["helpdesk".into()]).await.unwrap();
    assert_eq!(items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["web-01"]);
    assert!(ok(data, &["console", "policy", "list"]).contains("Helpdesk"));

    ok(data, &["console", "jump-item", "delete", "web-01"]);
    assert_eq!(db.jump_item(id).await.unwrap_err().code(), "PCC041");
    assert!(fails(data, &["console", "jump-item", "delete", "web-01"]).contains("PCC041"));
}

#[tokio::test(flavor = "multi_thread")]
async fn brokers_lists_the_connected_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["init"]);
    assert_eq!(ok(data, &["console", "brokers"]).trim(), "no broker is connected");
    assert_eq!(ok(data, &["console", "brokers", "--json"]).trim(), "[]");

    let t = now();
    let db = console_db(data).await;
    let new = |name: &str, connected_at: i64| NewBroker {
        id: format!("conn-{name}"),
        connected_at,
        name: name.into(),
        version: "0.1.0".into(),
        ecm_group: "Default".into(),
        api_account_id: None,
        node: "node-a".into(),
    };
    // Connected in this order; "stale" was last seen five minutes ago.
    db.broker_connected(&new("stale", t - 400)).await.unwrap();
    let older = db.broker_connected(&new("older", t - 100)).await.unwrap();
    db.broker_connected(&new("newer", t - 50)).await.unwrap();
    assert!(db.broker_seen(&older.id, t).await.unwrap());

    let table = ok(data, &["console", "brokers"]);
    let names: Vec<&str> = table.lines().skip(1).map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(names, ["older", "newer"], "{table}");
    let json: serde_json::Value = serde_json::from_str(&ok(data, &["console", "brokers", "--json"])).unwrap();
    let json = json.as_array().unwrap();
    assert_eq!(json.len(), 2);
    assert_eq!((json[0]["name"].as_str(), json[0]["node"].as_str()), (Some("older"), Some("node-a")));
    assert_eq!(json[1]["name"], "newer");
    assert!(json[0]["connected_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn every_console_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["console", "--help"],
        vec!["console", "api-account", "create", "--help"],
        vec!["console", "jump-item", "create", "--help"],
        vec!["console", "brokers", "--help"],
        vec!["console", "policy", "set", "--help"],
    ] {
        let out = ok(dir.path(), &args);
        assert!(out.contains("Usage: portcullis console"), "{out}");
    }
    let create = ok(dir.path(), &["console", "api-account", "create", "--help"]);
    for flag in ["--name", "--command-api", "--reporting-api", "--ecm-api", "--ecm-group"] {
        assert!(create.contains(flag), "{flag}");
    }
}
