//! `portcullis console …` as issue 9's contract writes it: API accounts (the last line is
//! "CLIENT_ID CLIENT_SECRET", the secret works and is refused after disable and rotation), jump
//! items (the ID is printed), jump groups, policies, and `console brokers` (oldest first, stale
//! ones left out, --json), local representatives (password from stdin), the console's SP
//! (trusting an IdP, its metadata) and `console connect`'s refusals.

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
        vec!["console", "representative", "create", "--help"],
        vec!["console", "sp", "import-idp-metadata", "--help"],
        vec!["console", "sp", "metadata", "--help"],
        vec!["console", "connect", "--help"],
    ] {
        let out = ok(dir.path(), &args);
        assert!(out.contains("Usage: portcullis console"), "{out}");
    }
    let create = ok(dir.path(), &["console", "api-account", "create", "--help"]);
    for flag in ["--name", "--command-api", "--reporting-api", "--ecm-api", "--ecm-group"] {
        assert!(create.contains(flag), "{flag}");
    }
}

/// `portcullis … ARGS` with `input` on stdin.
fn with_stdin(data: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    let mut child = support::portcullis(PORTCULLIS)
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn representatives_are_created_with_a_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"]);
    let create =
        ["console", "representative", "create", "--username", "joe.user", "--display-name", "Joe User"];
    let with_policies: Vec<&str> =
        create.iter().copied().chain(["--policy", "Helpdesk", "Linux", "--password-stdin"]).collect();
    let o = with_stdin(dir.path(), &with_policies, "Joe-local-pw-2026\n");
    assert!(o.status.success(), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("policies: Helpdesk, Linux"), "{}", describe(&o));
    // The password never goes on the command line; a short one and a taken name are refused.
    let o = portcullis(dir.path(), &create);
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--password-stdin"),
        "{}",
        describe(&o)
    );
    let o = with_stdin(
        dir.path(),
        &["console", "representative", "create", "--username", "ann", "--password-stdin"],
        "short\n",
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("PCC043"), "{}", describe(&o));
    let o = with_stdin(dir.path(), &with_policies, "Joe-local-pw-2026\n");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("PCC042"), "{}", describe(&o));
    let list = ok(dir.path(), &["console", "representative", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v[0]["username"], "joe.user");
    assert_eq!(v[0]["display_name"], "Joe User");
    assert_eq!(v[0]["policies"], serde_json::json!(["Helpdesk", "Linux"]));
    assert!(!list.contains("Joe-local-pw-2026") && !list.contains("argon2"), "{list}");
    // The password (without its newline) is the one that signs in.
    let db = console_db(dir.path()).await;
    assert!(db.check_representative("joe.user", "Joe-local-pw-2026").await.unwrap().is_some());
    assert!(db.check_representative("joe.user", "Joe-local-pw-2026\n").await.unwrap().is_none());
}

#[test]
fn the_console_sp_trusts_an_idp_and_prints_its_metadata() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"]);
    let e = fails(dir.path(), &["console", "sp", "metadata"]);
    assert!(e.contains("--base-url"), "{e}");
    let idp = concat!(env!("CARGO_MANIFEST_DIR"), "/../sp/tests/corpus/keys/idp-metadata.xml");
    let out = ok(
        dir.path(),
        &[
            "console",
            "sp",
            "import-idp-metadata",
            idp,
            "--base-url",
            "https://portcullis.test/",
            "--default-policy",
            "Helpdesk",
            "--map-group",
            "g-admins=Admins",
        ],
    );
    assert!(out.contains("https://idp.example.com/") && out.contains("trusted"), "{out}");
    assert!(out.contains("https://portcullis.test/console/saml/acs"), "{out}");
    // Again: the known IdP is refreshed, not duplicated.
    let again = ok(dir.path(), &["console", "sp", "import-idp-metadata", idp]);
    assert!(again.contains("refreshed"), "{again}");
    let xml = ok(dir.path(), &["console", "sp", "metadata"]);
    assert!(xml.contains(r#"entityID="https://portcullis.test/console/saml/metadata""#), "{xml}");
    assert!(xml.contains(r#"Location="https://portcullis.test/console/saml/acs""#), "{xml}");
    let e = fails(dir.path(), &["console", "sp", "import-idp-metadata", "/nonexistent.xml"]);
    assert!(e.contains("cannot read the IdP metadata"), "{e}");
}

#[test]
fn connect_says_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"]);
    let e = fails(dir.path(), &["console", "connect", "web-01"]);
    assert!(e.contains("console.url") && e.contains("portcullis up"), "{e}");
    let e = fails(dir.path(), &["console", "connect", "web-01", "--server", "http://127.0.0.1:9"]);
    assert!(e.contains("no local representative"), "{e}");
    let o = with_stdin(
        dir.path(),
        &["console", "representative", "create", "--username", "op", "--password-stdin"],
        "Operator-pw-2026\n",
    );
    assert!(o.status.success(), "{}", describe(&o));
    let e = fails(dir.path(), &["console", "connect", "web-01", "--server", "http://127.0.0.1:9"]);
    assert!(e.contains("cannot be reached"), "{e}");
    let e = fails(
        dir.path(),
        &["console", "connect", "web-01", "--as", "nobody", "--server", "http://127.0.0.1:9"],
    );
    assert!(e.contains("PCC041"), "{e}");
}

/// `console connect` in a real terminal against the console application served in process on
/// the same data directory (as `portcullis up` will serve it, its URL in DATA/console.url), with
/// the real broker, the real vault and a real sshd behind it: the offers are listed and one is
/// picked, `whoami` shows the vault account, the remote's exit status is the command's; with
/// --credential nothing is asked, and Ctrl-] ends the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root"]
async fn console_connect_runs_a_session_in_a_terminal() {
    use console::app::{App, AppConfig, AppSettings};
    use testkit::ssh::{LinuxUser, Sshd};
    const PLANTED: &str = "Planted-Cli-Pw-5e27a1";
    const FUNCTIONAL: &str = "Functional-Cli-Pw-7d3c";
    let sshd = Sshd::start();
    let mut functional = LinuxUser::create("pccf", FUNCTIONAL);
    functional.allow_sudo(false);
    let user = LinuxUser::create("pcca", PLANTED);
    let tmp = tempfile::tempdir().unwrap();

    // The vault over https, its account requestable by joe.user through the SRA group.
    let pki = testkit::pki::make_pki(tmp.path());
    let v = vault::Vault::open_data_dir(&tmp.path().join("vault"), None).await.unwrap();
    let sys = v
        .create_system(vault::admin::NewSystem {
            name: "target".into(),
            host: "127.0.0.1".into(),
            platform: "linux-ssh".into(),
            port: Some(sshd.port),
            workgroup: None,
        })
        .await
        .unwrap();
    v.set_functional_account(sys.id, &functional.name, FUNCTIONAL).await.unwrap();
    v.create_account(vault::admin::NewAccount {
        system: "target".into(),
        name: user.name.clone(),
        password: Some(zeroize::Zeroizing::new(PLANTED.into())),
        api_enabled: true,
        change_after_release: true,
        ..Default::default()
    })
    .await
    .unwrap();
    v.create_user("joe.user", None, None).await.unwrap();
    let vault::admin::SraKey::Created(key) = v
        .connect_sra(vault::admin::SraSettings {
            host: "127.0.0.1".into(),
            port: 9,
            client_id: "console-client".into(),
            client_secret: Some(zeroize::Zeroizing::new("console-secret".into())),
            release_minutes: 60,
            rotate_key: false,
        })
        .await
        .unwrap()
    else {
        panic!("a first connect-sra creates the key")
    };
    v.add_member(vault::admin::SRA_GROUP, "joe.user").await.unwrap();
    let vault_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!(
        "https://127.0.0.1:{}/BeyondTrust/api/public/v3",
        vault_listener.local_addr().unwrap().port()
    );
    let tls = vault::serve::tls_config(&pki.cert, &pki.key).unwrap();
    tokio::spawn(vault::serve::serve(
        vault_listener,
        vault::web::router(v.clone()),
        Some(tls),
        std::future::pending(),
    ));

    // The console application on the data directory, as `up` will mount it.
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let store = store::Store::open_data_dir(&data).await.unwrap();
    let db = ConsoleStore::open(store).await.unwrap();
    let app = App::new(AppConfig {
        db: db.clone(),
        sealer: None,
        base_url: base.clone(),
        recordings_dir: data.join("recordings"),
        clock: std::sync::Arc::new(console::SystemClock),
        ecm: Default::default(),
        api: Default::default(),
        settings: AppSettings::default(),
    })
    .await
    .unwrap();
    let router = app.router().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    std::fs::write(data.join("console.url"), &base).unwrap();

    let d = data.as_path();
    let out = ok(
        d,
        &[
            "console",
            "jump-item",
            "create",
            "--name",
            "target-01",
            "--type",
            "ssh",
            "--host",
            "127.0.0.1",
            "--port",
            &sshd.port.to_string(),
            "--jump-group",
            "Linux",
        ],
    );
    assert!(!out.trim().is_empty());
    ok(d, &["console", "policy", "set", "--policy", "Helpdesk", "--jump-group", "Linux"]);
    let o = with_stdin(
        d,
        &[
            "console",
            "representative",
            "create",
            "--username",
            "joe.user",
            "--policy",
            "Helpdesk",
            "--password-stdin",
        ],
        "Joe-local-pw-2026\n",
    );
    assert!(o.status.success(), "{}", describe(&o));
    let created = ok(d, &["console", "api-account", "create", "--name", "ecm", "--ecm-api"]);
    let line = last_line(&created);
    let (client_id, secret) = line.split_once(' ').unwrap();

    let config = broker::Config::parse(&format!(
        "[vault]\nurl = {api:?}\napi_key = {:?}\nca_file = {:?}\ntimeout_seconds = 10\n",
        key.to_string(),
        pki.ca.to_str().unwrap()
    ))
    .unwrap();
    let settings = broker::config::ConsoleSettings {
        url: base.clone(),
        client_id: client_id.into(),
        client_secret: Some(broker::Secret::new(secret)),
        ca_file: None,
        name: Some("broker-a".into()),
        ecm_group: "Default".into(),
        keepalive_seconds: 1,
    };
    tokio::spawn(broker::channel::run(
        std::sync::Arc::new(broker::Broker::new(&config).unwrap()),
        settings,
        std::future::pending(),
    ));
    let registered = async {
        while app.registry().list().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), registered).await.expect("the broker registers");

    let (pty_data, account) = (data.clone(), user.name.clone());
    let run = move |args: Vec<String>, pick: bool, last: &str| {
        let mut argv =
            vec![PORTCULLIS.to_owned(), "--data".to_owned(), pty_data.to_string_lossy().into_owned()];
        argv.extend(args);
        testkit::terminal::drive(&argv, &account, pick, last)
    };
    let run1 = run.clone();
    let o = tokio::task::spawn_blocking(move || {
        run1(vec!["console".into(), "connect".into(), "target-01".into()], true, "exit 6\\n")
    })
    .await
    .unwrap();
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(6), "{}", describe(&o));
    assert!(shown.contains(&format!(r"1) target\{}", user.name)), "the offers are listed: {shown}");
    assert!(shown.contains("[the remote shell exited with status 6]"), "{shown}");
    assert!(!shown.contains(PLANTED), "{shown}");

    // The first session is over once the broker checked it in and the vault rotated the
    // password; the next release hands out the new one.
    let first = db.sessions(0, i64::MAX, 10).await.unwrap().remove(0).id;
    let over = async {
        while db.session(&first).await.unwrap().ended_at.is_none() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), over).await.expect("the first session ends");

    // With --credential (the ID the list showed), and Ctrl-] to leave.
    let id = shown
        .lines()
        .find_map(|l| l.split("[--credential ").nth(1).map(|r| r.trim_end_matches([']', '\r']).to_owned()))
        .expect("the offer's ID is listed");
    let o = tokio::task::spawn_blocking(move || {
        run(
            vec!["console".into(), "connect".into(), "target-01".into(), "--credential".into(), id],
            false,
            "\\x1d",
        )
    })
    .await
    .unwrap();
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(shown.contains("[session ended with Ctrl-]]") && !shown.contains("Pick one"), "{shown}");
    // Both sessions are recorded as ended, each with its vault request checked in.
    let sessions = db.sessions(0, i64::MAX, 10).await.unwrap();
    assert_eq!(sessions.len(), 2);
    for s in &sessions {
        let ended = async {
            while db.session(&s.id).await.unwrap().ended_at.is_none() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), ended).await.expect("the session ends");
        let events: Vec<String> =
            db.session_events(&s.id).await.unwrap().into_iter().map(|e| e.code).collect();
        assert!(events.iter().any(|e| e == "credential.checked_in"), "{events:?}");
    }
}
