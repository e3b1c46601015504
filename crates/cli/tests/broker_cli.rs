//! `portcullis broker test` exactly as the command-line contract writes it, against `portcullis
//! vault serve` over https (a test CA), with the vault filled through the CLI as the reference
//! document's integration does it: the matching credentials listed, an empty result is exit 0,
//! `--retrieve` releases and checks in without ever printing the password (not even at DEBUG),
//! and the failures come out classified with what to do. `portcullis broker --config FILE` with
//! no console keeps running, logging the connectivity failure and retrying.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use support::{describe, pki, VaultServer, PORTCULLIS};

const PLANTED: &str = "Planted-Cli-Broker-Pw-2b8f";

fn portcullis(data: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = support::portcullis(PORTCULLIS);
    cmd.arg("--data").arg(data).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(data: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let o = portcullis(data, args, stdin, &[]);
    assert!(o.status.success(), "portcullis {args:?}:\n{}", describe(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// `portcullis vault serve` over https on a free port.
fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn broker_test_lists_retrieves_and_classifies_failures_as_the_contract_says() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(&data, &["init"], None);
    let pki = pki::make_pki(tmp.path());

    ok(&data, &["vault", "system", "create", "--name", "App01", "--host", "10.0.0.5"], None);
    let helpdesk = last_line(&ok(
        &data,
        &[
            "vault",
            "account",
            "create",
            "--system",
            "App01",
            "--name",
            "helpdesk-01",
            "--password-stdin",
            "--api-enabled",
        ],
        Some(PLANTED),
    ));
    ok(
        &data,
        &["vault", "account", "create", "--system", "App01", "--name", "hidden", "--password-stdin"],
        Some("pw-hidden"),
    );
    ok(&data, &["vault", "user", "create", "--name", "joe.user"], None);
    ok(&data, &["vault", "user", "create", "--name", "outsider"], None);
    let key = last_line(&ok(
        &data,
        &[
            "vault",
            "connect-sra",
            "--host",
            "127.0.0.1",
            "--port",
            "443",
            "--client-id",
            "c1",
            "--client-secret-stdin",
            "--release-minutes",
            "120",
        ],
        Some("console-secret"),
    ));
    ok(
        &data,
        &["vault", "group", "add-member", "--group", "Secure Remote Access Requesters", "--user", "joe.user"],
        None,
    );
    let serve = VaultServer::start(PORTCULLIS, &data, &pki.cert, &pki.key);
    let ca = pki.ca.to_str().unwrap();
    let good = write_config(
        tmp.path(),
        "broker.toml",
        &format!(
            "[vault]\nurl = {:?}\napi_key = {key:?}\nca_file = {ca:?}\nrelease_minutes = 30\n",
            serve.api_url
        ),
    );
    let cfg = good.to_str().unwrap();
    let test = |extra: &[&str], env: &[(&str, &str)], config: &str| {
        let mut args = vec!["broker", "test", "--config", config];
        args.extend_from_slice(extra);
        portcullis(&data, &args, None, env)
    };
    let joe_on = |host: &str| {
        vec!["--username", r"ACME\joe.user", "--item-type", "ssh", "--host", host]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let strs = |v: &[String]| v.iter().map(String::as_str).collect::<Vec<_>>().join("\u{1}");

    // The listing: helpdesk-01 only (hidden is not API-enabled).
    let id = format!("joe.user\\{helpdesk}\\App01\\helpdesk-01");
    let listed = test(&strs(&joe_on("10.0.0.5")).split('\u{1}').collect::<Vec<_>>(), &[], cfg);
    assert!(listed.status.success(), "{}", describe(&listed));
    let out = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        out.contains(&id) && out.contains("App01\\helpdesk-01") && out.contains("Vault user:    joe.user"),
        "{out}"
    );
    assert!(!out.contains("hidden"), "{out}");
    // The DN and an additional IP lead to the same account.
    let by_dn = test(
        &[
            "--username",
            "jdoe",
            "--dn",
            "uid=joe.user,ou=HelpDesk,dc=acme-inc,dc=com",
            "--item-type",
            "ssh",
            "--host",
            "ws-1",
            "--additional-ip",
            "192.0.2.7",
            "--additional-ip",
            "10.0.0.5",
        ],
        &[],
        cfg,
    );
    assert!(
        by_dn.status.success() && String::from_utf8_lossy(&by_dn.stdout).contains(&id),
        "{}",
        describe(&by_dn)
    );
    // No account on that host: a valid, empty result.
    let empty = test(&["--username", "joe.user", "--item-type", "ssh", "--host", "10.0.0.77"], &[], cfg);
    assert!(empty.status.success(), "{}", describe(&empty));
    assert!(
        String::from_utf8_lossy(&empty.stdout).contains("no matching credentials"),
        "{}",
        describe(&empty)
    );

    // --retrieve: success, checked in, the password nowhere, not even at DEBUG.
    let mut args = joe_on("10.0.0.5");
    args.extend(["--retrieve".to_string(), id.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let got = test(&args, &[("PORTCULLIS_LOG", "debug")], cfg);
    assert!(got.status.success(), "{}", describe(&got));
    let all = describe(&got);
    assert!(all.contains("Checked in:") && all.contains("Result:        OK"), "{all}");
    assert!(all.contains("vault API call"), "DEBUG lines were written: {all}");
    assert!(!all.contains(PLANTED) && !all.contains(&key), "a secret was printed: {all}");
    let requests: serde_json::Value =
        serde_json::from_str(&ok(&data, &["vault", "request", "list", "--json"], None)).unwrap();
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["status"], "CheckedIn", "{requests:?}");
    assert_eq!(requests[0]["duration_minutes"], 30);
    assert_eq!(requests[0]["user_name"], "joe.user");

    // Failures, classified with what to do; exit status 1.
    let failure = |o: &Output, code: &str, class: &str, hint: &str| {
        let s = describe(o);
        assert_eq!(o.status.code(), Some(1), "{s}");
        assert!(s.contains(&format!("Failure:       {code} {class}")) && s.contains(hint), "{code}: {s}");
        assert!(!s.contains(PLANTED), "{s}");
    };
    let wrong_key = "0".repeat(128);
    failure(
        &test(&args, &[("PORTCULLIS_BROKER_API_KEY", &wrong_key)], cfg),
        "PCB020",
        "authentication",
        "api_key",
    );
    failure(
        &test(&["--username", "outsider", "--item-type", "ssh", "--host", "10.0.0.5"], &[], cfg),
        "PCB050",
        "permission",
        "add-member",
    );
    let mut forged = joe_on("10.0.0.5");
    let hidden_id = ok(&data, &["vault", "account", "list", "--json"], None);
    let hidden_id: serde_json::Value = serde_json::from_str(&hidden_id).unwrap();
    let hidden_id =
        hidden_id.as_array().unwrap().iter().find(|a| a["name"] == "hidden").unwrap()["id"].to_string();
    forged.extend(["--retrieve".to_string(), format!("joe.user\\{hidden_id}\\App01\\hidden")]);
    let forged: Vec<&str> = forged.iter().map(String::as_str).collect();
    failure(&test(&forged, &[], cfg), "PCB052", "permission", "API-enabled");
    failure(
        &test(&["--username", r"A\B\c", "--item-type", "ssh", "--host", "10.0.0.5"], &[], cfg),
        "PCB010",
        "user-mapping",
        "[mapping]",
    );
    let untrusted = write_config(
        tmp.path(),
        "untrusted.toml",
        &format!("[vault]\nurl = {:?}\napi_key = {key:?}\n", serve.api_url),
    );
    failure(&test(&args, &[], untrusted.to_str().unwrap()), "PCB040", "tls-trust", "ca_file");

    // `portcullis broker --config FILE` with no console there: it keeps running and says why.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run_cfg = write_config(
        tmp.path(),
        "run.toml",
        &format!(
            "[vault]\nurl = {:?}\napi_key = {key:?}\nca_file = {ca:?}\n[console]\nurl = \"http://127.0.0.1:{port}\"\nclient_id = \"c1\"\nclient_secret = \"s\"\n",
            serve.api_url
        ),
    );
    let log = tmp.path().join("broker.log");
    let mut running = support::portcullis(PORTCULLIS)
        .args(["broker", "--config"])
        .arg(&run_cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    let still = running.try_wait().unwrap();
    let _ = running.kill();
    let _ = running.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(still.is_none(), "the broker exited: {text}");
    assert!(
        text.contains("PCB081") && text.matches("reconnecting").count() >= 2,
        "it retried with back-off: {text}"
    );

    // Connectivity: the vault stopped.
    drop(serve);
    failure(
        &test(&joe_on("10.0.0.5").iter().map(String::as_str).collect::<Vec<_>>(), &[], cfg),
        "PCB030",
        "connectivity",
        "[vault] url",
    );
}

#[test]
fn broker_help_describes_every_option() {
    let o = support::portcullis(PORTCULLIS).args(["broker", "test", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for option in [
        "--username",
        "--dn",
        "--item-type",
        "--host",
        "--additional-ip",
        "--app",
        "--url",
        "--retrieve",
        "--config",
        "no matching",
        "PORTCULLIS_BROKER_API_KEY",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
    let o = support::portcullis(PORTCULLIS).args(["broker", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for key in ["release_minutes", "global_approver", "ca_file", "run_as", "[console]", "test"] {
        assert!(help.contains(key), "{key} missing from:\n{help}");
    }
}
