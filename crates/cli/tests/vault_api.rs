//! The vault's Password Safe v3 API against the real clients: BeyondTrust's Python library
//! (beyondtrust-bips-library) and CLI (beyondtrust-bips-cli), talking to `portcullis vault serve`
//! over HTTPS with a test CA (testkit::pki). The vault is filled with the real CLI, as the reference
//! document's integration does it (connect-sra, requesters group, API-enabled account). Proves
//! the library's main flow (API key and OAuth sign-in, account by system and account name,
//! request with reuse, credential, check-in, sign-out), Secrets Safe by path with a file
//! download, the negative paths of issue 5, IP rules, audit-log tampering, and that a planted
//! password is in no log line, error body or database file in clear.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::peers::venv_bin;
use support::{describe, repo_root, VaultServer, PORTCULLIS};

const PLANTED: &str = "Planted-Vault-Pw-4e1b7c";
const DB_SECRET: &str = "Secrets-Safe-Pw-9d2f";
const FILE_CONTENT: &str = "file secret contents 5a7e";
const SYSTEM: &str = "bi server";

/// Runs `portcullis --data DIR ARGS` with `stdin`.
fn cli(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    support::run_cli(PORTCULLIS, data, args, stdin)
}

fn cli_ok(data: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = cli(data, args, stdin);
    assert!(out.status.success(), "portcullis {args:?} failed:\n{}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// Runs a Python peer. `requests` lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's
/// own CA setting, so they name the test CA here.
fn python(script: &str, input: &Value, ca: &Path) -> Value {
    let mut cmd = Command::new(venv_bin("python"));
    cmd.arg(repo_root().join("tests/interop/py").join(script));
    cmd.env("REQUESTS_CA_BUNDLE", ca).env_remove("CURL_CA_BUNDLE");
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{script} failed:\n{}", describe(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{}", describe(&out)))
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn password_safe_clients_work_against_the_vault_and_its_refusals_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    cli_ok(&data, &["init"], None);
    let support::pki::Pki { ca, cert, key, .. } = support::pki::make_pki(tmp.path());

    // The vault as the reference document sets it up.
    let system_id = last_line(&cli_ok(
        &data,
        &["vault", "system", "create", "--name", SYSTEM, "--host", "127.0.0.1"],
        None,
    ));
    assert!(system_id.parse::<i64>().is_ok(), "prints the system ID: {system_id}");
    // Issue 14, item 1: a generic system has no rotator, so rotation settings are refused with a
    // code instead of "rotating" a password the system never gets.
    let rob_args = [
        "vault",
        "account",
        "create",
        "--system",
        SYSTEM,
        "--name",
        "rob",
        "--password-stdin",
        "--api-enabled",
    ];
    let refused = cli(&data, &[&rob_args[..], &["--change-after-release"]].concat(), Some(PLANTED));
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("PCV009"), "{}", describe(&refused));
    let refused = cli(&data, &[&rob_args[..], &["--rotation-days", "30"]].concat(), Some(PLANTED));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("PCV009"), "{}", describe(&refused));
    let rob = cli_ok(&data, &[&rob_args[..], &["--max-release-minutes", "120"]].concat(), Some(PLANTED));
    let refused = cli(
        &data,
        &["vault", "account", "set", "rob", "--system", SYSTEM, "--change-after-release", "true"],
        None,
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("PCV009"), "{}", describe(&refused));
    assert!(last_line(&rob).parse::<i64>().is_ok());
    cli_ok(
        &data,
        &["vault", "account", "create", "--system", &system_id, "--name", "hidden", "--password-stdin"],
        Some("hidden-pw"),
    );
    cli_ok(&data, &["vault", "user", "create", "--name", "alice", "--password-stdin"], Some("alice-pw"));
    cli_ok(&data, &["vault", "user", "create", "--name", "bob"], None);
    let sra = cli_ok(
        &data,
        &[
            "vault",
            "connect-sra",
            "--host",
            "10.11.12.13",
            "--port",
            "443",
            "--client-id",
            "12345",
            "--client-secret-stdin",
            "--release-minutes",
            "120",
        ],
        Some("console-oauth-secret"),
    );
    let api_key = last_line(&sra);
    assert_eq!(api_key.len(), 128, "connect-sra prints the 128-character key last: {sra}");
    // Issue 14, item 2: a re-run keeps the key (the flow below signs in with it) and says so;
    // the stored settings read back without any secret.
    let reconnect =
        ["vault", "connect-sra", "--host", "10.11.12.13", "--port", "443", "--client-id", "12345"];
    let again = cli_ok(&data, &[&reconnect[..], &["--release-minutes", "60"]].concat(), None);
    assert!(again.contains("kept") && !again.contains(&api_key), "{again}");
    let shown = cli_ok(&data, &["vault", "connect-sra", "--show"], None);
    for part in ["10.11.12.13:443", "12345", "60 minutes", "Secure Remote Access Integration"] {
        assert!(shown.contains(part), "--show lacks {part}: {shown}");
    }
    assert!(!shown.contains(&api_key) && !shown.contains("console-oauth-secret"), "{shown}");
    cli_ok(
        &data,
        &["vault", "group", "add-member", "--group", "Secure Remote Access Requesters", "--user", "alice"],
        None,
    );
    let alice_client =
        last_line(&cli_ok(&data, &["vault", "oauth-client", "create", "--user", "alice"], None));
    let (alice_id, alice_secret) = alice_client.split_once(' ').expect("CLIENT_ID CLIENT_SECRET");
    assert!((36..=40).contains(&alice_id.len()) && (36..=64).contains(&alice_secret.len()));
    let bob_client = last_line(&cli_ok(&data, &["vault", "oauth-client", "create", "--user", "bob"], None));
    let (bob_id, bob_secret) = bob_client.split_once(' ').unwrap();
    let groups: Value =
        serde_json::from_str(&cli_ok(&data, &["vault", "group", "list", "--json"], None)).unwrap();
    assert_eq!(groups[0]["members"], serde_json::json!(["alice"]));
    let file = tmp.path().join("cert.txt");
    std::fs::write(&file, FILE_CONTENT).unwrap();

    let server = VaultServer::start(PORTCULLIS, &data, &cert, &key);
    let ca_s = ca.to_str().unwrap();
    let cfg = serde_json::json!({
        "api_url": server.api_url,
        "ca": ca_s,
        "api_key": api_key,
        "runas": "alice",
        "client_id": alice_id,
        "client_secret": alice_secret,
        "outsider_client_id": bob_id,
        "outsider_client_secret": bob_secret,
        "system": SYSTEM,
        "account": "rob",
        "hidden_account": "hidden",
        "secret_password": DB_SECRET,
        "file_path": file.to_str().unwrap(),
    });
    let out = python("bips_flow.py", &cfg, &ca);

    // Both TLS 1.2 and TLS 1.3 are offered.
    let port = server.api_url.trim_start_matches("https://127.0.0.1:").split('/').next().unwrap().to_string();
    for (limit, want) in [
        ("maximum_version = ssl.TLSVersion.TLSv1_2", "TLSv1.2"),
        ("minimum_version = ssl.TLSVersion.TLSv1_3", "TLSv1.3"),
    ] {
        let code = format!(
            "import ssl, socket, sys\nctx = ssl.create_default_context(cafile=sys.argv[1])\nctx.{limit}\n\
             with socket.create_connection(('127.0.0.1', {port})) as s:\n    with ctx.wrap_socket(s, server_hostname='127.0.0.1') as t:\n        print(t.version())"
        );
        let tls = Command::new(venv_bin("python")).args(["-c", &code]).arg(&ca).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&tls.stdout).trim(), want, "{}", describe(&tls));
    }

    // The library's main flow, signed in with the API key.
    assert_eq!(out["signin_key_status"], 200, "{out}");
    assert_eq!(out["signin_key_user"], "alice");
    assert_eq!(out["found_account"]["SystemName"], SYSTEM);
    assert_eq!(out["found_account"]["AccountName"], "rob");
    assert_eq!(out["secret_via_key"], PLANTED, "the credential of the request is the stored password");
    assert_eq!(out["signout_key"], true);
    assert_eq!(out["after_signout_status"], 401, "the signed-out cookie is refused");
    // Signed in with OAuth: the check-in changed nothing, since a generic system cannot be
    // rotated (the vault used to "rotate" here and hand out a password the system did not have;
    // rotation at check-in on real targets is proven by crates/vault/tests/rotation.rs).
    assert_eq!(out["signin_oauth_status"], 200);
    assert_eq!(out["signin_oauth_user"], "alice");
    assert_eq!(out["secret_via_oauth"], PLANTED, "the password is still the one the system has");
    // Secrets Safe by path, and a file secret downloaded.
    assert_eq!(out["secret_by_path"], DB_SECRET);
    assert_eq!(out["file_by_path"], FILE_CONTENT);
    assert_eq!(out["listed_titles"], serde_json::json!(["Team/cert.txt", "Team/db"]));
    // The negative paths of the issue.
    assert_eq!(out["raw_signin"], 200);
    assert_eq!(out["hidden_status"], 404, "an account that is not API-enabled is invisible");
    assert_eq!(out["listed_accounts"], serde_json::json!(["rob"]));
    assert_eq!(out["duration_zero"], 400);
    assert_eq!(out["duration_over"], 400);
    assert!(out["duration_over_body"].as_str().unwrap().contains("120"), "{}", out["duration_over_body"]);
    assert_eq!(out["first_request"], 201);
    assert_eq!(out["second_request"], 409, "a second request without reuse/renew");
    assert!(out["second_request_body"].as_str().unwrap().contains("reuse"), "{}", out["second_request_body"]);
    assert_eq!(out["credentials_before"], 200);
    assert_eq!(out["checkin"], 204);
    assert_eq!(out["credentials_after_checkin"], 403);
    assert_eq!(out["unknown_endpoint"], 404);
    assert_eq!(out["outsider_key_signin"], 401, "the registration refuses users outside its group");
    assert_eq!(out["outsider_signin"], 200);
    assert_eq!(out["outsider_request"], 403, "a user outside the requesters group may not request");

    // beyondtrust-bips-cli retrieves a password the same way (OAuth, request, credential, release).
    cli_ok(
        &data,
        &["vault", "account", "set", "rob", "--system", SYSTEM, "--password-stdin"],
        Some("Known-For-Ps-Cli-31"),
    );
    let settings = tmp.path().join("pscli.ini");
    std::fs::write(&settings, "[general]\napi_version = 3.1\n[authentication]\nverify_ca = true\n").unwrap();
    let ps = Command::new(venv_bin("ps-cli"))
        .args(["short-commands", "retrieve-password", "-sn", SYSTEM, "-an", "rob", "-r", "interop test"])
        .env("PSCLI_SETTINGS_PATH", &settings)
        .env("PSCLI_API_URL", &server.api_url)
        .env("PSCLI_CLIENT_ID", alice_id)
        .env("PSCLI_CLIENT_SECRET", alice_secret)
        .env("PSCLI_VERIFY_CA", "true")
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env_remove("CURL_CA_BUNDLE")
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ps.stdout).contains("Known-For-Ps-Cli-31"),
        "ps-cli retrieve-password:\n{}",
        describe(&ps)
    );

    // IP rules: a rule that excludes 127.0.0.1 refuses the sign-in; without it, it works again.
    let signin = serde_json::json!({"mode": "signin", "api_url": server.api_url, "ca": ca_s, "api_key": api_key, "runas": "alice"});
    cli_ok(
        &data,
        &["vault", "registration", "set", "Secure Remote Access Integration", "--ip-rule", "10.9.0.0/16"],
        None,
    );
    let refused = python("bips_flow.py", &signin, &ca);
    assert_eq!(refused["status"], 401, "{refused}");
    assert!(refused["body"].as_str().unwrap().contains("IP rules"), "{refused}");
    cli_ok(
        &data,
        &["vault", "registration", "set", "Secure Remote Access Integration", "--ip-rule", "127.0.0.1"],
        None,
    );
    assert_eq!(python("bips_flow.py", &signin, &ca)["status"], 200);

    // --rotate-key replaces the key and says so: the old one gets 401, the new one signs in.
    let rotated =
        cli_ok(&data, &[&reconnect[..], &["--release-minutes", "60", "--rotate-key"]].concat(), None);
    let new_key = last_line(&rotated);
    assert!(rotated.contains("REPLACED") && new_key.len() == 128 && new_key != api_key, "{rotated}");
    assert_eq!(python("bips_flow.py", &signin, &ca)["status"], 401, "the old key no longer signs in");
    let signin_new = serde_json::json!({"mode": "signin", "api_url": server.api_url, "ca": ca_s, "api_key": new_key, "runas": "alice"});
    assert_eq!(python("bips_flow.py", &signin_new, &ca)["status"], 200);

    // Issue 14, item 10: requests show their real status, the audit log readable times.
    let requests = cli_ok(&data, &["vault", "request", "list"], None);
    assert!(requests.contains("checked in") && !requests.contains("Released"), "{requests}");
    let checked_in: Value = serde_json::from_str(&cli_ok(
        &data,
        &["vault", "request", "list", "--status", "checked-in", "--json"],
        None,
    ))
    .unwrap();
    assert!(!checked_in.as_array().unwrap().is_empty());
    let audit_text = cli_ok(&data, &["vault", "audit", "list", "--limit", "5"], None);
    let first = audit_text.lines().next().unwrap_or("");
    let when = first.split_whitespace().nth(1).unwrap_or("");
    assert!(
        when.len() == 20 && when.as_bytes()[10] == b'T' && when.ends_with('Z'),
        "RFC 3339 UTC times: {audit_text}"
    );

    // The audit log saw all of it, and a changed row is caught.
    let verify = cli_ok(&data, &["vault", "audit", "verify"], None);
    assert!(verify.contains("intact"), "{verify}");
    let rows: Value =
        serde_json::from_str(&cli_ok(&data, &["vault", "audit", "list", "--limit", "1000", "--json"], None))
            .unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.iter().all(|r| r["at"].is_i64() && r["at_utc"].as_str().is_some_and(|t| t.ends_with('Z'))));
    assert!(rows
        .iter()
        .any(|r| r["action"] == "GET Credentials/{id}" && r["actor"] == "alice" && r["result"] == "ok"));
    assert!(rows
        .iter()
        .any(|r| r["action"] == "POST Requests" && r["result"].as_str().unwrap().starts_with("409")));
    assert!(rows
        .iter()
        .any(|r| r["action"] == "POST Auth/SignAppIn" && r["result"].as_str().unwrap().starts_with("401")));
    drop(server);
    let sql = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE vault_audit SET actor='eve' WHERE seq=7\"); c.commit()";
    let tamper =
        Command::new(venv_bin("python")).args(["-c", sql]).arg(data.join("portcullis.db")).output().unwrap();
    assert!(tamper.status.success(), "{}", describe(&tamper));
    let bad = cli(&data, &["vault", "audit", "verify"], None);
    assert_eq!(bad.status.code(), Some(1), "{}", describe(&bad));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("row 7"), "{}", describe(&bad));

    // The planted passwords are in no database file, log line or answer in clear.
    let server_log = std::fs::read(data.join("serve.log")).unwrap();
    assert!(!server_log.is_empty(), "the server logged at debug level");
    for secret in [PLANTED, DB_SECRET, FILE_CONTENT, "Known-For-Ps-Cli-31", alice_secret, &api_key, &new_key]
    {
        assert!(!contains(&server_log, secret), "the server log holds a secret");
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("portcullis.db") {
                let mut bytes = Vec::new();
                std::fs::File::open(&path).unwrap().read_to_end(&mut bytes).unwrap();
                assert!(!contains(&bytes, secret), "{} holds a secret in clear", path.display());
            }
        }
    }
    for field in [
        "duration_over_body",
        "second_request_body",
        "credentials_after_checkin_body",
        "outsider_request_body",
    ] {
        let body = out[field].to_string();
        assert!(!body.contains(PLANTED), "{field} leaks a password: {body}");
    }
}

/// `vault rekey` re-wraps the data key: afterwards the vault opens with the new master key (the
/// key file was replaced) and no longer with the old one, and the sealed functional-account
/// password set through `vault system set` is still usable and never in clear on disk.
#[test]
fn rekey_and_functional_account_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    cli_ok(&data, &["init"], None);
    cli_ok(
        &data,
        &[
            "vault",
            "system",
            "create",
            "--name",
            "pg",
            "--host",
            "127.0.0.1",
            "--platform",
            "postgresql",
            "--port",
            "5432",
        ],
        None,
    );
    cli_ok(
        &data,
        &["vault", "system", "set", "pg", "--functional-account", "postgres", "--functional-password-stdin"],
        Some("Functional-Secret-66"),
    );
    let systems: Value =
        serde_json::from_str(&cli_ok(&data, &["vault", "system", "list", "--json"], None)).unwrap();
    assert_eq!(systems[0]["functional_user"], "postgres");
    assert_eq!(systems[0]["has_functional_password"], true);
    let old_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let new_key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="; // base64 of 32 bytes
    let out = cli_ok(&data, &["vault", "rekey"], Some(new_key));
    assert!(out.contains("re-wrapped"), "{out}");
    assert_eq!(std::fs::read_to_string(data.join("master.key")).unwrap().trim(), new_key);
    cli_ok(&data, &["vault", "system", "list"], None);
    let mut with_old = support::portcullis(PORTCULLIS);
    let refused = with_old
        .arg("--data")
        .arg(&data)
        .args(["vault", "system", "list"])
        .env("PORTCULLIS_MASTER_KEY", old_key.trim())
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "the old master key must no longer open the vault: {}",
        describe(&refused)
    );
    for entry in std::fs::read_dir(&data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !contains(&bytes, "Functional-Secret-66"),
            "a data file holds the functional password in clear"
        );
    }
}
