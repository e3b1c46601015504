//! SP-initiated SSO for a user with an existing session, over HTTP on loopback
//! with concurrent clients: AuthnRequest in (HTTP-Redirect), signed Response out
//! (HTTP-POST form). Our IdP and pysaml2's IdP are measured in the same run,
//! with the same client, on the same machine; the raw RSA-2048 signing rate is
//! the physical limit of the step. Also: resident memory idle and after 10,000
//! sessions, and start-up time.
//!
//!     scripts/install-test-deps
//!     cargo run --release -p portcullis-benches --bin idp-bench [-- SECONDS CLIENTS]

use saml::bindings::{redirect, MessageParam};
use saml::crypto::{Certificate, SignatureAlgorithm, SigningKey};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SP_ENTITY: &str = "https://sp.bench.example";
const ACS: &str = "https://sp.bench.example/acs";

fn authn_request_query(i: usize, destination: &str) -> String {
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_bench{i:08}" Version="2.0" IssueInstant="{}" Destination="{destination}" AssertionConsumerServiceURL="{ACS}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{SP_ENTITY}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/></samlp:AuthnRequest>"#,
        saml::clock::format_time(time::OffsetDateTime::now_utc())
    );
    redirect::redirect_query(MessageParam::Request, &xml, Some("bench"), None).expect("encode")
}

/// One keep-alive HTTP/1.1 GET; returns (status, body length, contains SAMLResponse).
fn get(
    stream: &mut BufReader<TcpStream>,
    host: &str,
    path: &str,
    cookie: Option<&str>,
) -> std::io::Result<(u16, bool)> {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    req.push_str("\r\n");
    stream.get_mut().write_all(req.as_bytes())?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line)?;
    let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    let has = body.windows(12).any(|w| w == b"SAMLResponse");
    Ok((status, has))
}

struct LoadResult {
    ok: usize,
    failed: usize,
    seconds: f64,
    latencies_ms: Vec<f64>,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_ms.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_ms[i]
    }
}

fn load(
    addr: SocketAddr,
    paths: Arc<Vec<String>>,
    cookie: Option<String>,
    clients: usize,
    secs: f64,
) -> LoadResult {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let paths = paths.clone();
            let cookie = cookie.clone();
            std::thread::spawn(move || {
                let host = addr.to_string();
                let mut stream = BufReader::new(TcpStream::connect(addr).expect("connect"));
                let (mut ok, mut failed, mut lat) = (0usize, 0usize, Vec::new());
                let mut i = c;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match get(&mut stream, &host, &paths[i % paths.len()], cookie.as_deref()) {
                        Ok((200, true)) => {
                            ok += 1;
                            lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        Ok(_) => failed += 1,
                        Err(_) => {
                            failed += 1;
                            stream = BufReader::new(TcpStream::connect(addr).expect("reconnect"));
                        }
                    }
                    i += clients;
                }
                (ok, failed, lat)
            })
        })
        .collect();
    let mut r = LoadResult { ok: 0, failed: 0, seconds: 0.0, latencies_ms: Vec::new() };
    for h in handles {
        let (ok, failed, lat) = h.join().expect("client");
        r.ok += ok;
        r.failed += failed;
        r.latencies_ms.extend(lat);
    }
    r.seconds = start.elapsed().as_secs_f64();
    r.latencies_ms.sort_by(|a, b| a.total_cmp(b));
    r
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) spent so far by the server's threads: tokio's workers and
/// sqlx's SQLite workers (the client threads have other names). With the load generator on
/// the same machine, responses per server CPU-second is the per-core figure; wall-clock rate
/// divided by the core count also charges the server for the client's work.
fn server_cpu_seconds() -> f64 {
    // Linux reports these in USER_HZ ticks, 100 per second on every architecture it supports.
    const TICKS_PER_SECOND: f64 = 100.0;
    let mut ticks = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return f64::NAN };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = &stat[open + 1..close];
        if !(comm.starts_with("tokio-r") || comm.starts_with("sqlx-sqlite")) {
            continue;
        }
        // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ticks += field(14) + field(15);
    }
    ticks as f64 / TICKS_PER_SECOND
}

/// CPU seconds (user + system) this thread has used.
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else { return f64::NAN };
    let Some(close) = stat.rfind(')') else { return f64::NAN };
    let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (field(14) + field(15)) as f64 / 100.0
}

/// RSA-2048 signatures per CPU-second of one thread (CPU time, not wall time, so that other
/// load on the machine does not lower the limit the IdP is compared with).
fn raw_rsa_rate(secs: f64) -> f64 {
    let key = SigningKey::generate(2048).expect("key");
    let msg = [0x5au8; 700];
    let start = Instant::now();
    let cpu_start = thread_cpu_seconds();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        std::hint::black_box(key.sign(SignatureAlgorithm::RsaSha256, &msg).expect("sign"));
        n += 1;
    }
    n as f64 / (thread_cpu_seconds() - cpu_start)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let clients: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    // ---- our IdP, in this process ------------------------------------------------
    let rss_before = rss_kib();
    let started = Instant::now();
    let (idp, addr, tenant) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let idp = idp::service::Idp::open_data_dir(&dir.path().join("data"), &format!("http://{addr}"))
            .await
            .expect("idp");
        let tenant = idp.ensure_default_tenant().await.expect("tenant").id;
        let router = idp::web::router(idp.clone());
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .expect("serve")
        });
        (idp, addr, tenant)
    });
    let startup = started.elapsed();
    let cookie = rt.block_on(async {
        let user = idp
            .create_user(
                tenant,
                idp::directory::NewUser {
                    upn: "alice@contoso.example".into(),
                    given_name: Some("Alice".into()),
                    surname: Some("Liddell".into()),
                    mail: Some("alice@contoso.example".into()),
                    ..Default::default()
                },
                None,
            )
            .await
            .expect("user");
        let mut params = BTreeMap::new();
        params.insert("IDENTIFIER".to_string(), SP_ENTITY.to_string());
        params.insert("REPLY_URL".to_string(), ACS.to_string());
        let app = idp.create_app(tenant, "generic-saml", Some("Bench SP"), &params).await.expect("app");
        idp.assign(tenant, &app.id.to_string(), &user.upn, store::model::PrincipalKind::User, None)
            .await
            .expect("assign");
        let session = idp.start_session(&user, false).await.expect("session");
        format!("{}={}", idp::web::SESSION_COOKIE, session.secret())
    });
    let rss_idle = rss_kib();
    let destination = idp.endpoints(tenant).sso_url();
    let ours_paths: Arc<Vec<String>> = Arc::new(
        (0..2000).map(|i| format!("/{tenant}/saml2?{}", authn_request_query(i, &destination))).collect(),
    );
    // Warm up, then measure.
    load(addr, ours_paths.clone(), Some(cookie.clone()), clients, 0.5);
    let cpu_before = server_cpu_seconds();
    let ours = load(addr, ours_paths, Some(cookie), clients, secs);
    let server_cpu = server_cpu_seconds() - cpu_before;

    // 10,000 sessions, then resident memory again.
    rt.block_on(async {
        let user = idp.find_user(tenant, "alice@contoso.example").await.expect("user");
        for _ in 0..10_000 {
            idp.start_session(&user, false).await.expect("session");
        }
    });
    let rss_sessions = rss_kib();

    // ---- pysaml2's IdP, in its own process, same client ------------------------------
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let py = root.join("tests/interop/.venv/bin/python");
    let peer = if py.exists() {
        let key = SigningKey::generate(2048).expect("key");
        let cert = Certificate::self_signed(&key, "pysaml2 bench", time::OffsetDateTime::now_utc(), 30)
            .expect("cert");
        let (kp, cp, mp) = (dir.path().join("k.pem"), dir.path().join("c.pem"), dir.path().join("sp.xml"));
        std::fs::write(&kp, key.to_pkcs8_pem().as_bytes()).expect("write");
        std::fs::write(&cp, cert.to_pem()).expect("write");
        let sp = saml::model::EntityDescriptor {
            entity_id: SP_ENTITY.into(),
            id: None,
            valid_until: None,
            cache_duration: None,
            idp: None,
            sp: Some(saml::model::SpSsoDescriptor {
                authn_requests_signed: false,
                want_assertions_signed: true,
                keys: vec![],
                name_id_formats: vec![saml::xml::NAMEID_PERSISTENT.into()],
                assertion_consumer_services: vec![saml::model::IndexedEndpoint {
                    binding: saml::xml::BINDING_HTTP_POST.into(),
                    location: ACS.into(),
                    index: 0,
                    is_default: Some(true),
                }],
                single_logout_services: vec![],
                error_url: None,
            }),
            organization: None,
            contacts: vec![],
        };
        std::fs::write(&mp, sp.to_xml()).expect("write");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(18999);
        let mut child = Command::new(&py)
            .arg(root.join("benches/peers/pysaml2_idp_server.py"))
            .args(["--port", &port.to_string(), "--idp-entity-id", "http://pysaml2.bench/idp"])
            .arg("--key")
            .arg(&kp)
            .arg("--cert")
            .arg(&cp)
            .arg("--sp-metadata")
            .arg(&mp)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start pysaml2 IdP");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
        let paddr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let paths: Arc<Vec<String>> = Arc::new(
            (0..2000)
                .map(|i| format!("/sso?{}", authn_request_query(i, &format!("http://127.0.0.1:{port}/sso"))))
                .collect(),
        );
        load(paddr, paths.clone(), None, clients, 0.5);
        let r = load(paddr, paths, None, clients, secs);
        let _ = child.kill();
        let _ = child.wait();
        Some(r)
    } else {
        eprintln!("pysaml2 peer missing: run scripts/install-test-deps to measure it side by side");
        None
    };
    let raw = raw_rsa_rate(2.0);

    println!("SP-initiated SSO with an existing session, {clients} clients, {secs} s, {cores} cores");
    println!(
        "{:<34} {:>10} {:>12} {:>9} {:>9} {:>7}",
        "IdP", "resp/s", "resp/s/core", "p50 ms", "p99 ms", "errors"
    );
    let row = |name: &str, r: &LoadResult| {
        println!(
            "{:<34} {:>10.0} {:>12.0} {:>9.2} {:>9.2} {:>7}",
            name,
            r.rate(),
            r.rate() / cores as f64,
            r.pct(0.5),
            r.pct(0.99),
            r.failed
        )
    };
    row("portcullis", &ours);
    if let Some(p) = &peer {
        row("pysaml2 (xmlsec1 backend)", p);
    }
    println!();
    println!("raw RSA-2048 signing, one core:    {raw:.0}/CPU-s");
    let per_server_cpu_second = ours.ok as f64 / server_cpu;
    println!(
        "portcullis responses per server CPU-second: {per_server_cpu_second:.0} \
         ({server_cpu:.1} CPU-s for {} responses; the client's CPU not counted)",
        ours.ok
    );
    println!(
        "portcullis per core / raw RSA limit: {:.0}% per server CPU-second (target >= 60%), \
         {:.0}% as wall rate / {cores} cores (the in-process client's CPU charged to the server)",
        100.0 * per_server_cpu_second / raw,
        100.0 * ours.rate() / cores as f64 / raw
    );
    if let Some(p) = &peer {
        println!("portcullis / pysaml2:               {:.1}x  (target >= 20x)", ours.rate() / p.rate());
    }
    println!("start-up (open store, migrate, listen): {:.0} ms", startup.as_secs_f64() * 1000.0);
    println!(
        "resident memory: {} MiB before start, {} MiB idle, {} MiB after 10,000 sessions",
        rss_before / 1024,
        rss_idle / 1024,
        rss_sessions / 1024
    );
}
