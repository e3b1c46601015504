//! vault-bench: credential retrievals per second through the vault's Password Safe v3 API over
//! HTTPS, with concurrent keep-alive clients and 10,000 managed accounts.
//!
//! One retrieval is what a broker does for a session: `POST Requests` (a random account),
//! `GET Credentials/{id}`, `PUT Requests/{id}/Checkin` (no rotation: the accounts do not change
//! their password after release). The server is the vault's own router and TLS stack
//! (`vault::serve`, rustls) in this process on SQLite, as `portcullis vault serve` runs it; every
//! API call also writes its audit row before answering. Printed: setup time, resident memory at
//! idle (after setup, before load), retrievals per second, and p50/p99 of a whole retrieval.
//!
//! ```sh
//! cargo run --release -p portcullis-benches --bin vault-bench [-- SECONDS CLIENTS ACCOUNTS]
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::{CertificateDer, ServerName};
use store::seal::MasterKey;
use store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use vault::admin::{NewAccount, NewPolicy, NewSystem};
use vault::model::{Role, Scope};
use zeroize::Zeroizing;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A keep-alive HTTP/1.1 client over one TLS connection (just what the bench needs).
struct Client {
    tls: TlsStream<TcpStream>,
    cookie: String,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Client {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).ok();
        let name = ServerName::try_from("localhost").expect("name");
        let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.expect("TLS handshake");
        Client { tls, cookie: String::new(), buf: Vec::new() }
    }

    async fn call(
        &mut self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Vec<u8>) {
        let mut req = format!("{method} /BeyondTrust/api/public/v3/{path} HTTP/1.1\r\nHost: localhost\r\n");
        if !self.cookie.is_empty() {
            req.push_str(&format!("Cookie: ASP.NET_SessionId={}\r\n", self.cookie));
        }
        if let Some(a) = auth {
            req.push_str(&format!("Authorization: {a}\r\n"));
        }
        let body = body.unwrap_or("");
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        self.tls.write_all(req.as_bytes()).await.expect("write");
        // Headers.
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.read_more().await;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_string();
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
        let mut len = 0usize;
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            if let Some(v) = line
                .strip_prefix("set-cookie: ASP.NET_SessionId=")
                .or_else(|| line.strip_prefix("Set-Cookie: ASP.NET_SessionId="))
            {
                self.cookie = v.split(';').next().unwrap_or("").to_string();
            }
        }
        while self.buf.len() < head_end + len {
            self.read_more().await;
        }
        let body = self.buf[head_end..head_end + len].to_vec();
        self.buf.drain(..head_end + len);
        (status, body)
    }

    async fn read_more(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = self.tls.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let accounts: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000);

    // --- setup: a vault with ACCOUNTS API-enabled accounts and one requester per client.
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("store");
    let v = vault::Vault::open(store, &MasterKey::from_bytes([5; 32]), Arc::new(vault::SystemClock))
        .await
        .expect("vault");
    v.create_system(NewSystem {
        name: "bench".into(),
        host: "10.0.0.1".into(),
        platform: "generic".into(),
        ..Default::default()
    })
    .await
    .expect("system");
    for i in 0..accounts {
        v.create_account(NewAccount {
            system: "bench".into(),
            name: format!("acct{i:05}"),
            password: Some(Zeroizing::new(format!("Bench-Pw-{i:05}-xyz"))),
            api_enabled: true,
            max_release_minutes: Some(60),
            ..Default::default()
        })
        .await
        .expect("account");
    }
    v.create_policy(NewPolicy {
        name: "auto".into(),
        auto_approve: true,
        approvals_required: 0,
        all_day: true,
        window_start: 0,
        window_end: 1440,
        max_minutes: 60,
    })
    .await
    .expect("policy");
    let (reg, key) = v
        .create_registration(vault::admin::NewRegistration {
            name: "bench".into(),
            ip_rules: vec![],
            token_minutes: 60,
            user_password_required: false,
        })
        .await
        .expect("registration");
    v.create_group("bench").await.expect("group");
    v.set_group("bench", Some(Some("auto".into())), Some(Some(reg.id.to_string()))).await.expect("group set");
    v.grant_role("bench", Scope::All, Role::Requestor).await.expect("grant");
    for c in 0..clients {
        v.create_user(&format!("user{c}"), None, None).await.expect("user");
        v.add_member("bench", &format!("user{c}")).await.expect("member");
    }
    let setup = t0.elapsed();

    // --- the server: the vault's router over rustls, as `vault serve` runs it.
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    let cert = params.self_signed(&ca_key).expect("cert");
    let cert_dir = tempfile::tempdir().expect("temp dir");
    let (cert_pem, key_pem) = (cert_dir.path().join("c.pem"), cert_dir.path().join("k.pem"));
    std::fs::write(&cert_pem, cert.pem()).expect("write cert");
    std::fs::write(&key_pem, ca_key.serialize_pem()).expect("write key");
    let tls = vault::serve::tls_config(&cert_pem, &key_pem).expect("tls");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = vault::web::router(v.clone());
    tokio::spawn(vault::serve::serve(listener, app, Some(tls), std::future::pending()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_rss = rss_kib();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(cert.der().to_vec())).expect("root");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let client_config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );

    // --- load.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let config = client_config.clone();
        let key = key.to_string();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr, config).await;
            let (s, _) = client.call("POST", "Auth/SignAppIn", Some(&format!("PS-Auth key={key}; runas=user{c};")), None).await;
            assert_eq!(s, 200, "sign-in");
            let mut latencies = Vec::new();
            let mut seed: u64 = 0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1);
            while Instant::now() < deadline {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let account = 1 + (seed % accounts as u64);
                let start = Instant::now();
                let body = format!("{{\"SystemID\":1,\"AccountID\":{account},\"DurationMinutes\":5,\"ConflictOption\":\"reuse\"}}");
                let (s, id) = client.call("POST", "Requests", None, Some(&body)).await;
                assert!(s == 201 || s == 200, "request: {s} {}", String::from_utf8_lossy(&id));
                let id = String::from_utf8_lossy(&id).to_string();
                let (s, pw) = client.call("GET", &format!("Credentials/{id}"), None, None).await;
                assert_eq!(s, 200, "credentials: {}", String::from_utf8_lossy(&pw));
                let (s, _) = client.call("PUT", &format!("Requests/{id}/Checkin"), None, Some("{}")).await;
                assert_eq!(s, 204, "check-in");
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    all.sort();
    let n = all.len();
    let pct =
        |p: f64| all.get(((n as f64 * p) as usize).min(n.saturating_sub(1))).copied().unwrap_or_default();
    println!("vault-bench: {accounts} accounts, {clients} clients, {seconds} s, HTTPS (rustls), SQLite");
    println!("  setup:                       {:.1} s", setup.as_secs_f64());
    println!("  resident memory at idle:     {} MiB", idle_rss / 1024);
    println!("  retrievals/s (request + credentials + check-in): {:.0}", n as f64 / seconds as f64);
    println!("  API calls/s:                 {:.0}", 3.0 * n as f64 / seconds as f64);
    println!("  p50 retrieval:               {:.1} ms", pct(0.50).as_secs_f64() * 1e3);
    println!("  p99 retrieval:               {:.1} ms", pct(0.99).as_secs_f64() * 1e3);
    println!("  resident memory after load:  {} MiB", rss_kib() / 1024);
}
