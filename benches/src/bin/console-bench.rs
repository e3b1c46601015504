//! console-bench: the console's credential path (issue 9, "Performance"): search latency, and the
//! time from "representative picks a credential" to "SSH session authenticated", beside the bare
//! SSH handshake to the same sshd as the limit.
//!
//! Everything runs in this process except sshd: the vault on SQLite in a temp dir (10,000
//! API-enabled managed accounts, as vault-bench, plus one linux-ssh system on 127.0.0.1 at the
//! sshd's port whose account vault user `joe.user` may request through the Secure Remote Access
//! Requesters group) served over https (`vault::serve`, the test kit's PKI); the console
//! application (`console::app::App` on its SQLite `ConsoleStore`) on a loopback port; the real
//! broker (`broker::channel::run`) connected to it with an ECM API account. The endpoint is
//! Debian's sshd with a throw-away Linux user (testkit), so the program needs root.
//!
//! Figures, N iterations each:
//! 1. search: `Brokers::search` through the console's registry, the broker channel, the broker
//!    and the vault's API;
//! 2. injection: `Brokers::retrieve` (the broker's release request and credential retrieval)
//!    then `SshConnector::open` (TCP, key exchange, host-key pin check, password authentication,
//!    and the PTY and shell it opens before returning). Closing the session and `session_ended`
//!    (the check-in) follow each iteration, untimed. The account is not changed after release,
//!    so every injection uses the same password;
//! 3. bare: TCP, key exchange and password authentication to the same sshd with russh alone
//!    (the limit); and the same with a PTY and a shell, the exact work `open` does.
//!
//! ```sh
//! sudo cargo run --release -p portcullis-benches --bin console-bench [-- ITERATIONS ACCOUNTS]
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use console::accounts::{CommandAccess, Permissions};
use console::app::{App, AppConfig, AppSettings};
use console::ecm::{ConsoleUser, EcmSettings, ItemType, JumpItem, SessionRef};
use console::recording::Recording;
use console::ssh::{Endpoint, SshConnector};
use console::{ConsoleStore, PtyRequest, TermSize};
use testkit::ssh::{LinuxUser, Sshd};
use vault::admin::{NewAccount, NewSystem, SraKey, SraSettings};
use zeroize::Zeroizing;

const USAGE: &str = "\
console-bench: the console's credential path, beside the bare SSH handshake (issue 9)

USAGE:
    console-bench [ITERATIONS [ACCOUNTS]]
    console-bench --help

ARGUMENTS:
    ITERATIONS   measured iterations of each figure (default 200)
    ACCOUNTS     managed accounts in the vault besides the endpoint's (default 10000)

Needs root: it starts Debian's sshd (openssh-server, from scripts/install-test-deps) on a
loopback port and creates a throw-away Linux user (removed at the end). Prints search latency,
injection latency (credential picked -> SSH session authenticated) and the bare russh handshake
with password authentication to the same sshd, p50/p99, with the goals of issue 9.";

/// The endpoint account's password (the vault holds it; the bare figure uses it directly).
const PASSWORD: &str = "Bench-Endpoint-Pw-7c21";
/// The ECM group the broker serves and the console asks.
const GROUP: &str = console::ecm::DEFAULT_GROUP;

fn is_root() -> bool {
    // /proc/self belongs to the process's effective user.
    std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc/self")) == 0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 of `samples` (sorted here).
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let n = samples.len();
    let at =
        |p: f64| samples.get(((n as f64 * p) as usize).min(n.saturating_sub(1))).copied().unwrap_or_default();
    (at(0.50), at(0.99))
}

/// The vault over https: `accounts` managed accounts on a generic system, and the endpoint's
/// account on linux-ssh system `target` (127.0.0.1:`port`), requestable by `joe.user` through
/// the SRA requesters group. Returns the broker's configuration and the server's stop sender.
async fn vault(
    dir: &Path,
    port: u16,
    account: &str,
    accounts: usize,
) -> (broker::Config, tokio::sync::oneshot::Sender<()>) {
    let pki = testkit::pki::make_pki(dir);
    let data = dir.join("vault");
    std::fs::create_dir_all(&data).expect("vault dir");
    let v = vault::Vault::open_data_dir(&data, None).await.expect("vault");
    // The endpoint's account first (the bulk accounts' IDs follow it).
    v.create_system(NewSystem {
        name: "target".into(),
        host: "127.0.0.1".into(),
        platform: "linux-ssh".into(),
        port: Some(port),
        workgroup: None,
    })
    .await
    .expect("target system");
    v.create_account(NewAccount {
        system: "target".into(),
        name: account.into(),
        password: Some(Zeroizing::new(PASSWORD.into())),
        api_enabled: true,
        change_after_release: false,
        ..Default::default()
    })
    .await
    .expect("target account");
    v.create_system(NewSystem {
        name: "bulk".into(),
        host: "10.0.0.1".into(),
        platform: "generic".into(),
        ..Default::default()
    })
    .await
    .expect("system");
    for i in 0..accounts {
        if i % 1000 == 0 {
            eprintln!("  vault: account {i} of {accounts}");
        }
        v.create_account(NewAccount {
            system: "bulk".into(),
            name: format!("acct{i:05}"),
            password: Some(Zeroizing::new(format!("Bench-Pw-{i:05}-xyz"))),
            api_enabled: true,
            max_release_minutes: Some(60),
            ..Default::default()
        })
        .await
        .expect("account");
    }
    v.create_user("joe.user", None, None).await.expect("vault user");
    let key = v
        .connect_sra(SraSettings {
            host: "127.0.0.1".into(),
            port: 9,
            client_id: "console-client".into(),
            client_secret: Some(Zeroizing::new("console-secret".into())),
            release_minutes: 60,
            rotate_key: false,
        })
        .await
        .expect("connect-sra");
    let SraKey::Created(key) = key else { panic!("a first connect-sra creates the key") };
    v.add_member(vault::admin::SRA_GROUP, "joe.user").await.expect("SRA member");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let api = format!(
        "https://127.0.0.1:{}/BeyondTrust/api/public/v3",
        listener.local_addr().expect("addr").port()
    );
    let tls = vault::serve::tls_config(&pki.cert, &pki.key).expect("tls");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = vault::web::router(v.clone());
    tokio::spawn(async move {
        let _ = vault::serve::serve(listener, app, Some(tls), async {
            let _ = stopped.await;
        })
        .await;
    });
    let config = broker::Config::parse(&format!(
        "[vault]\nurl = {api:?}\napi_key = {:?}\nca_file = {:?}\ntimeout_seconds = 120\n",
        key.to_string(),
        pki.ca.to_string_lossy()
    ))
    .expect("broker config");
    (config, stop)
}

/// The console application on 127.0.0.1 over its SQLite data directory `dir`, as the console's
/// tests serve it. Returns the app, its store and base URL.
async fn console_app(dir: &Path) -> (App, ConsoleStore, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::fs::create_dir_all(dir).expect("console dir");
    let store = store::Store::open_data_dir(dir).await.expect("console store");
    let master = store::seal::MasterKey::for_data_dir(dir).expect("master key");
    let sealer = store::seal::Sealer::for_store(&store, &master).await.expect("sealer");
    let db = ConsoleStore::open(store).await.expect("console tables");
    let app = App::new(AppConfig {
        db: db.clone(),
        sealer: Some(sealer),
        base_url: base.clone(),
        recordings_dir: dir.join("recordings"),
        clock: Arc::new(console::SystemClock),
        ecm: EcmSettings::default(),
        api: console::api::ApiSettings::default(),
        settings: AppSettings::default(),
    })
    .await
    .expect("console app");
    let router = app.router().expect("console router");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (app, db, base)
}

/// Accepts any host key (the bare figure's client, as the test kit's `ssh_login_works`).
struct AnyKey;

impl russh::client::Handler for AnyKey {
    type Error = russh::Error;
    async fn check_server_key(
        &mut self,
        _: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// The bare login with russh alone: connect, key exchange, password authentication; with
/// `shell`, also a session channel, a PTY and a shell, as `SshConnector::open` does. Returns the
/// time until then (the disconnect is not timed).
async fn bare(port: u16, user: &str, shell: bool) -> Duration {
    let config = Arc::new(russh::client::Config { nodelay: true, ..Default::default() });
    let start = Instant::now();
    let mut h = russh::client::connect(config, ("127.0.0.1", port), AnyKey).await.expect("connect to sshd");
    let auth = h.authenticate_password(user, PASSWORD).await.expect("auth exchange");
    assert!(auth.success(), "the endpoint refused the password");
    if shell {
        let mut channel = h.channel_open_session().await.expect("session channel");
        channel.request_pty(true, "xterm-256color", 80, 24, 0, 0, &[]).await.expect("pty-req");
        channel.request_shell(true).await.expect("shell");
        let mut answered = 0;
        while answered < 2 {
            match channel.wait().await {
                Some(russh::ChannelMsg::Success) => answered += 1,
                Some(russh::ChannelMsg::Failure) | None => {
                    panic!("the endpoint refused the PTY or the shell")
                }
                Some(_) => {}
            }
        }
    }
    let elapsed = start.elapsed();
    let _ = h.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    elapsed
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    let number = |i: usize, default: usize, what: &str| match args.get(i) {
        None => default,
        Some(s) => s.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| {
            eprintln!("console-bench: {what} must be a positive whole number, not {s:?} (see --help)");
            std::process::exit(2)
        }),
    };
    let iterations = number(0, 200, "ITERATIONS");
    let accounts = number(1, 10_000, "ACCOUNTS");
    if args.len() > 2 {
        eprintln!("console-bench: at most two arguments (see --help)");
        std::process::exit(2);
    }
    if !is_root() {
        eprintln!(
            "console-bench: needs root (it starts sshd on a loopback port and creates a throw-away Linux user); \
             run it as root, e.g. sudo -E cargo run --release -p portcullis-benches --bin console-bench"
        );
        std::process::exit(1);
    }

    // --- setup.
    let t0 = Instant::now();
    eprintln!("console-bench: setting up (sshd, a Linux user, the vault with {accounts} accounts, the console, the broker)");
    let sshd = Sshd::start();
    let user = LinuxUser::create("pcbn", PASSWORD);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (config, _stop_vault) = vault(tmp.path(), sshd.port, &user.name, accounts).await;
    let (app, db, base) = console_app(&tmp.path().join("console")).await;
    let p = Permissions {
        command_api: CommandAccess::None,
        reporting_api: false,
        ecm_api: true,
        ecm_group: None,
    };
    let issued = db.create_api_account("ecm-bench", &p).await.expect("ECM API account");
    let settings = broker::config::ConsoleSettings {
        url: base,
        client_id: issued.account.client_id.clone(),
        client_secret: Some(broker::Secret::new(issued.client_secret.as_str())),
        ca_file: None,
        name: Some("broker-bench".into()),
        ecm_group: GROUP.into(),
        keepalive_seconds: 30,
    };
    let (stop_broker, broker_stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(broker::channel::run(
        Arc::new(broker::Broker::new(&config).expect("broker")),
        settings,
        async {
            let _ = broker_stopped.await;
        },
    ));
    let registered = async {
        while app.registry().list().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), registered)
        .await
        .expect("the broker registers within 30 s");
    let setup = t0.elapsed();

    let brokers = app.registry().brokers();
    let rep = ConsoleUser { username: "joe.user".into(), dn: None };
    let item = JumpItem {
        item_type: ItemType::Ssh,
        host: "127.0.0.1".into(),
        additional_ips: vec![],
        application: None,
        url: None,
    };
    let first = Instant::now();
    let offers = brokers.search(GROUP, &rep, &item).await.expect("search");
    eprintln!("console-bench: first search in {:.1} ms", ms(first.elapsed()));
    let [offer] = offers.as_slice() else { panic!("one offer expected, the vault offered {offers:?}") };
    eprintln!("console-bench: set up in {:.1} s; offered {}", setup.as_secs_f64(), offer.display_name);

    // The console's own connector; host-key pins in memory (pinned on the warm-up, compared
    // afterwards): the console's store keeps pins only for jump items it holds.
    let connector = SshConnector::new(Arc::new(console::ssh::MemoryPins::default()));
    let endpoint = Endpoint::new("bench-item", "127.0.0.1", sshd.port).expect("endpoint");
    let pty = PtyRequest::xterm(TermSize::new(80, 24).expect("size"));
    let warmup = (iterations / 10).clamp(1, 20);

    // --- 1. search.
    eprintln!("console-bench: search, {warmup} warm-up + {iterations}");
    let mut search = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let start = Instant::now();
        let offers = brokers.search(GROUP, &rep, &item).await.expect("search");
        let elapsed = start.elapsed();
        assert_eq!(offers.len(), 1, "the same offer every time");
        if i >= warmup {
            search.push(elapsed);
        }
        if (i + 1) % 10 == 0 {
            eprintln!("  search {} of {} ({:.1} ms)", i + 1, warmup + iterations, ms(elapsed));
        }
    }

    // --- 2. injection.
    eprintln!("console-bench: injection, {warmup} warm-up + {iterations}");
    let mut inject = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let session = SessionRef { id: format!("bench-{i}"), jump_item: Some("bench-item".into()) };
        let start = Instant::now();
        let (credential, release) =
            brokers.retrieve(GROUP, &rep, &offer.id, &session).await.expect("retrieve");
        let shell = connector.open(&endpoint, credential, &pty).await.expect("SSH session");
        let elapsed = start.elapsed();
        let (_output, input) = shell.record(Recording::new(std::io::sink())).expect("recording").split();
        input.close().await.expect("close");
        brokers.session_ended(GROUP, &release, &session).await.expect("check-in");
        if i >= warmup {
            inject.push(elapsed);
        }
        if (i + 1) % 50 == 0 {
            eprintln!("  injection {} of {}", i + 1, warmup + iterations);
        }
    }

    // --- 3. bare russh to the same sshd.
    eprintln!(
        "console-bench: bare russh handshake + password, {warmup} warm-up + {iterations} (and with a shell)"
    );
    let mut handshake = Vec::with_capacity(iterations);
    let mut with_shell = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let a = bare(sshd.port, &user.name, false).await;
        let b = bare(sshd.port, &user.name, true).await;
        if i >= warmup {
            handshake.push(a);
            with_shell.push(b);
        }
    }

    stop_broker.send(()).ok();
    let _ = tokio::time::timeout(Duration::from_secs(10), running).await;

    let (s50, s99) = percentiles(&mut search);
    let (i50, i99) = percentiles(&mut inject);
    let (h50, h99) = percentiles(&mut handshake);
    let (w50, w99) = percentiles(&mut with_shell);
    println!(
        "console-bench: {accounts} + 1 vault accounts (SQLite, https), 1 broker, loopback sshd, {iterations} iterations each"
    );
    println!("  setup: {:.1} s", setup.as_secs_f64());
    println!();
    println!("| figure | p50 | p99 | goal (p50) |");
    println!("|---|---:|---:|---:|");
    println!("| search (console -> broker -> vault) | {:.2} ms | {:.2} ms | < 5 ms |", ms(s50), ms(s99));
    println!(
        "| injection (retrieve + SshConnector::open) | {:.2} ms | {:.2} ms | < 50 ms |",
        ms(i50),
        ms(i99)
    );
    println!("| bare russh: handshake + password (the limit) | {:.2} ms | {:.2} ms | |", ms(h50), ms(h99));
    println!("| bare russh: handshake + password + pty + shell | {:.2} ms | {:.2} ms | |", ms(w50), ms(w99));
    println!();
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!("  injection / bare handshake: {:.2}x at p50, {:.2}x at p99", ratio(i50, h50), ratio(i99, h99));
    println!("  injection / bare with shell: {:.2}x at p50, {:.2}x at p99", ratio(i50, w50), ratio(i99, w99));
    println!(
        "  goals: injection p50 {} 50 ms, search p50 {} 5 ms (goals, not assertions)",
        if i50 < Duration::from_millis(50) { "<" } else { ">=" },
        if s50 < Duration::from_millis(5) { "<" } else { ">=" }
    );
}
