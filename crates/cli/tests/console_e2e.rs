//! The product end to end, as a representative and an administrator use it: `portcullis up`
//! (identity provider and console), the vault served over https from the same data directory,
//! `portcullis broker` as its own process, a real OpenSSH server with throw-away Linux users, and
//! Debian's chromium. The representative signs in to the console through our IdP (the gallery's
//! BeyondTrust Remote Support app, persistent NameID, the groups claim mapped to a console policy),
//! opens the jump item, is offered exactly the credential the vault allows, picks it and runs
//! `whoami` in the web terminal as the vault's account; after the session the vault has rotated
//! the password (the old one no longer logs in) and a second session is still injected.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;
use testkit::ssh::{openssh_login_works, LinuxUser, Sshd};

const PLANTED: &str = "Planted-E2E-Pw-5a81c2";
const FUNCTIONAL: &str = "Functional-E2E-Pw-77d0";
const JOE: &str = "joe.user@contoso.com";

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// `portcullis --data DATA ARGS` on the server's data directory, with `stdin`, that must
/// succeed; its stdout.
fn ok(server: &Server, args: &[&str], stdin: Option<&str>) -> String {
    let out = server.cli_output(args, stdin);
    assert!(out.status.success(), "portcullis {args:?}:\n{}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// A broker process; killed when dropped.
struct BrokerProcess(Child);

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs tests/interop/node/browser_console.js; returns its JSON.
fn browse(args: &[&str]) -> serde_json::Value {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "chromium is not installed: run scripts/install-test-deps"
    );
    let script = repo_root().join("tests/interop/node/browser_console.js");
    let out = Command::new("node").arg(script).args(args).output().expect("run node");
    assert!(out.status.success(), "browser run failed\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).expect("browser JSON")
}

#[test]
#[ignore = "needs root"]
fn a_representative_signs_in_through_the_idp_and_works_with_an_injected_credential_that_is_rotated_after_use()
{
    let sshd = Sshd::start();
    let mut functional = LinuxUser::create("pcef", FUNCTIONAL);
    functional.allow_sudo(false);
    let target = LinuxUser::create("pcet", PLANTED);
    assert!(
        openssh_login_works(sshd.port, &target.name, PLANTED),
        "the account starts with the planted password"
    );

    let server = Server::start(PORTCULLIS);
    let data = server.data();
    let port = sshd.port.to_string();

    // The vault, as the reference document sets it up: a Linux system with its functional
    // account, the account (API-enabled, changed after release), the vault user the broker maps
    // joe.user@contoso.com to, and the remote-access integration.
    ok(
        &server,
        &[
            "vault",
            "system",
            "create",
            "--name",
            "target",
            "--host",
            "127.0.0.1",
            "--platform",
            "linux-ssh",
            "--port",
            &port,
        ],
        None,
    );
    ok(
        &server,
        &[
            "vault",
            "system",
            "set",
            "target",
            "--functional-account",
            &functional.name,
            "--functional-password-stdin",
        ],
        Some(FUNCTIONAL),
    );
    ok(
        &server,
        &[
            "vault",
            "account",
            "create",
            "--system",
            "target",
            "--name",
            &target.name,
            "--password-stdin",
            "--api-enabled",
            "--change-after-release",
        ],
        Some(PLANTED),
    );
    ok(&server, &["vault", "user", "create", "--name", "joe.user"], None);
    let key = last_line(&ok(
        &server,
        &[
            "vault",
            "connect-sra",
            "--host",
            "127.0.0.1",
            "--port",
            "443",
            "--client-id",
            "console",
            "--client-secret-stdin",
            "--release-minutes",
            "60",
        ],
        Some("console-client-secret"),
    ));
    ok(
        &server,
        &["vault", "group", "add-member", "--group", "Secure Remote Access Requesters", "--user", "joe.user"],
        None,
    );
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki::make_pki(tmp.path());
    let vault = VaultServer::start(PORTCULLIS, &data, &pki.cert, &pki.key);

    // The console: the broker's API account, the jump item, the policy that grants its group.
    let credentials =
        last_line(&ok(&server, &["console", "api-account", "create", "--name", "Broker", "--ecm-api"], None));
    let (client_id, client_secret) = credentials.split_once(' ').expect("CLIENT_ID CLIENT_SECRET");
    let item = last_line(&ok(
        &server,
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
            &port,
            "--jump-group",
            "Linux",
        ],
        None,
    ));
    assert!(!item.is_empty());
    ok(&server, &["console", "policy", "set", "--policy", "Helpdesk", "--jump-group", "Linux"], None);

    // The IdP: joe in the Support group; the gallery's BeyondTrust Remote Support app pointed at
    // the console's SP metadata, with the groups claim; the console trusts the IdP and maps the
    // Support group's object ID to the Helpdesk policy.
    server.create_user(JOE, "Joe", "User", &[]);
    let support_group = server.cli(&["idp", "group", "create", "--name", "Support"]);
    server.cli(&["idp", "group", "add-member", "--group", &support_group, "--user", JOE]);
    let app = server.create_app("beyondtrust-remote-support", "Remote Support", &["HOSTNAME=acme"]);
    let sp_metadata = server.write("console-sp.xml", &ok(&server, &["console", "sp", "metadata"], None));
    server.cli(&["idp", "app", "import-sp-metadata", "--app", &app, sp_metadata.to_str().unwrap()]);
    server.cli(&["idp", "app", "groups-claim", "--app", &app, "security_groups"]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--group", &support_group]);
    let idp_metadata = server.metadata(&app);
    ok(
        &server,
        &[
            "console",
            "sp",
            "import-idp-metadata",
            idp_metadata.to_str().unwrap(),
            "--name",
            "Contoso",
            "--map-group",
            &format!("{support_group}={}", "Helpdesk"),
        ],
        None,
    );

    // The broker, its own process, connected to the console and to the vault over https.
    let config = server.write(
        "broker.toml",
        &format!(
            "[vault]\nurl = {:?}\napi_key = {key:?}\nca_file = {:?}\n\n[console]\nurl = {:?}\nclient_id = {client_id:?}\nclient_secret = {client_secret:?}\nname = \"broker-e2e\"\n",
            vault.api_url,
            pki.ca.to_str().unwrap(),
            server.base,
        ),
    );
    let _broker = BrokerProcess(
        support::portcullis(PORTCULLIS)
            .arg("--config")
            .arg(&config)
            .arg("broker")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed: serde_json::Value =
            serde_json::from_str(&ok(&server, &["console", "brokers", "--json"], None)).unwrap();
        if listed.as_array().is_some_and(|a| a.len() == 1) {
            assert_eq!(listed[0]["name"], "broker-e2e", "{listed}");
            break;
        }
        assert!(Instant::now() < deadline, "the broker did not connect:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    }

    // The representative, in a real browser.
    let shots = repo_root().join("target/test-artifacts/console-e2e");
    std::fs::create_dir_all(&shots).unwrap();
    let display = format!(r"target\{}", target.name);
    let session = |shots: &Path| {
        browse(&[
            "--url",
            &format!("{}/console/", server.base),
            "--provider",
            "Contoso",
            "--username",
            JOE,
            "--password",
            PASSWORD,
            "--item",
            "target-01",
            "--credential",
            &display,
            "--command",
            "whoami",
            "--expect",
            &target.name,
            "--shots",
            shots.to_str().unwrap(),
        ])
    };
    let first = session(&shots);
    assert_eq!(
        first["offers"],
        serde_json::json!([format!("Log in as {display}")]),
        "exactly the vault's credential"
    );

    // Checked in at the session's end, the vault rotated the password on the endpoint.
    let deadline = Instant::now() + Duration::from_secs(60);
    while openssh_login_works(sshd.port, &target.name, PLANTED) {
        assert!(
            Instant::now() < deadline,
            "the password was not rotated after the session:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // The next injected session logs in with the rotated password, never shown.
    let second = session(&shots.join("second"));
    assert_ne!(first["session"], second["session"]);

    // The same from a terminal: `portcullis console connect` in a pty, as a local representative
    // with the same policy, through the running server and the same broker.
    ok(
        &server,
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
        Some("Joe-local-password-2026\n"),
    );
    let connect = testkit::terminal::drive(
        &[
            PORTCULLIS,
            "--data",
            data.to_str().unwrap(),
            "console",
            "connect",
            "target-01",
            "--as",
            "joe.user",
        ],
        &target.name,
        true,
        "exit\\n",
    );
    assert!(connect.status.success(), "console connect in a pty:\n{}", describe(&connect));
    let transcript = String::from_utf8_lossy(&connect.stdout);
    assert!(transcript.contains(&format!("\n{}\r\n", target.name)), "{transcript}");

    // The planted password is in no page, log line or recording.
    let log = server.log();
    assert!(!log.contains(PLANTED), "the server log holds the password");
    for entry in std::fs::read_dir(data.join("recordings")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(PLANTED), "a recording holds the password");
        assert!(text.contains(&target.name), "the recording replays the session's output");
    }
}
