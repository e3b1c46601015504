//! The test kit of the broker's tests: a real vault (the `vault` crate's Password Safe API)
//! served in-process over https with a certificate from a test CA made here, filled the way the
//! reference document sets up the integration (`connect-sra`, the requesters group, API-enabled
//! accounts), and a broker configuration pointing at it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use tokio::sync::oneshot;
use vault::admin::{NewAccount, NewPolicy, NewSystem, SraSettings};
use vault::model::{Role, Scope};
use vault::Vault;
use zeroize::Zeroizing;

pub use testkit::pki::{make_pki, Pki};

/// The password planted on `App01\helpdesk-01`.
pub const PLANTED: &str = "Planted-Broker-Pw-6c1d9e";
pub const SRA_GROUP: &str = vault::admin::SRA_GROUP;

/// What the seeded vault holds, by the names the tests use.
pub struct Seeded {
    pub key: Zeroizing<String>,
    pub helpdesk_01: i64,
    pub helpdesk_02: i64,
    pub hidden: i64,
    pub late: i64,
    pub app02_admin: i64,
    pub gated: i64,
}

/// Fills the vault:
/// - `App01` (host 10.0.0.5): `helpdesk-01` (API-enabled, the planted password), `helpdesk-02`
///   (API-enabled), `hidden` (not API-enabled), and `late-01` (API-enabled after connect-sra, so
///   the requesters group has no role on it);
/// - `App02` (host app02.acme-inc.com): `admin` (API-enabled);
/// - `App03` (host 10.0.0.7): `gated` (API-enabled), requestable by joe.user only through the
///   group "Gated Requesters", whose access policy needs one approval; `approver` approves there;
/// - vault users `joe.user` (in the requesters group), `outsider` (in no group), `approver`.
pub async fn seed(v: &Vault) -> Seeded {
    for (name, host) in [("App01", "10.0.0.5"), ("App02", "app02.acme-inc.com"), ("App03", "10.0.0.7")] {
        v.create_system(NewSystem {
            name: name.into(),
            host: host.into(),
            platform: "generic".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let account = |system: &str, name: &str, pw: &str, api: bool| NewAccount {
        system: system.into(),
        name: name.into(),
        password: Some(Zeroizing::new(pw.into())),
        api_enabled: api,
        ..Default::default()
    };
    let helpdesk_01 = v.create_account(account("App01", "helpdesk-01", PLANTED, true)).await.unwrap().id;
    let helpdesk_02 = v.create_account(account("App01", "helpdesk-02", "pw-02", true)).await.unwrap().id;
    let hidden = v.create_account(account("App01", "hidden", "pw-hidden", false)).await.unwrap().id;
    let app02_admin = v.create_account(account("App02", "admin", "pw-app02", true)).await.unwrap().id;
    for user in ["joe.user", "outsider", "approver"] {
        v.create_user(user, None, None).await.unwrap();
    }
    let key = v
        .connect_sra(SraSettings {
            host: "127.0.0.1".into(),
            port: 9,
            client_id: "console-client".into(),
            client_secret: Some(Zeroizing::new("console-secret".into())),
            release_minutes: 360,
            rotate_key: false,
        })
        .await
        .unwrap();
    let vault::admin::SraKey::Created(key) = key else { panic!("a first connect-sra creates the key") };
    v.add_member(SRA_GROUP, "joe.user").await.unwrap();
    let late = v.create_account(account("App01", "late-01", "pw-late", true)).await.unwrap().id;
    let gated = v.create_account(account("App03", "gated", "pw-gated", true)).await.unwrap().id;
    v.create_policy(NewPolicy {
        name: "One approval".into(),
        auto_approve: false,
        approvals_required: 1,
        all_day: true,
        window_start: 0,
        window_end: 1440,
        max_minutes: 1440,
    })
    .await
    .unwrap();
    for (group, member, role) in
        [("Gated Requesters", "joe.user", Role::Requestor), ("Gated Approvers", "approver", Role::Approver)]
    {
        v.create_group(group).await.unwrap();
        v.set_group(
            group,
            Some(Some("One approval".into())),
            Some(Some(vault::admin::SRA_REGISTRATION.into())),
        )
        .await
        .unwrap();
        v.grant_role(group, Scope::Account(gated), role).await.unwrap();
        v.add_member(group, member).await.unwrap();
    }
    Seeded { key, helpdesk_01, helpdesk_02, hidden, late, app02_admin, gated }
}

/// The vault served over https on a free loopback port until dropped (or [`Served::stop`]).
pub struct Served {
    pub vault: Vault,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Served {
    pub async fn start(data: &Path, pki: &Pki) -> Served {
        std::fs::create_dir_all(data).unwrap();
        let vault = Vault::open_data_dir(data, None).await.unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = vault::serve::tls_config(&pki.cert, &pki.key).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = vault::web::router(vault.clone());
        let task = tokio::spawn(async move {
            vault::serve::serve(listener, app, Some(tls), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Served { vault, addr, stop: Some(stop), task: Some(task) }
    }

    pub fn api_url(&self) -> String {
        format!("https://127.0.0.1:{}/BeyondTrust/api/public/v3", self.addr.port())
    }

    /// Stops serving and waits until the port is closed.
    pub async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A broker configuration for the served vault, trusting the test CA.
pub fn config_text(api_url: &str, key: &str, ca: Option<&Path>, extra: &str) -> String {
    let ca = ca.map(|c| format!("ca_file = {:?}\n", c.to_str().unwrap())).unwrap_or_default();
    format!("[vault]\nurl = {api_url:?}\napi_key = {key:?}\n{ca}timeout_seconds = 10\n{extra}")
}

pub fn broker(api_url: &str, key: &str, ca: Option<&Path>, extra: &str) -> broker::Broker {
    let c = broker::Config::parse(&config_text(api_url, key, ca, extra)).unwrap();
    broker::Broker::new(&c).unwrap()
}

pub fn user(name: &str) -> broker::protocol::ConsoleUser {
    broker::protocol::ConsoleUser { username: name.into(), dn: None }
}

pub fn ssh(host: &str) -> broker::protocol::JumpItem {
    broker::protocol::JumpItem {
        item_type: broker::protocol::ItemType::Ssh,
        host: host.into(),
        additional_ips: vec![],
        application: None,
        url: None,
    }
}

pub fn session(id: &str) -> broker::protocol::SessionRef {
    broker::protocol::SessionRef { id: id.into(), jump_item: Some("App01 over SSH".into()) }
}
