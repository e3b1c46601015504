//! A client of the Password Safe public API v3, just the calls the broker makes:
//! `Auth/SignAppIn` (`Authorization: PS-Auth key=KEY; runas=USER;`, a session cookie back),
//! `ManagedAccounts`, `Requests` (create, list, approve, check in), `Credentials/{id}` and
//! `Auth/Signout`. JSON keys are read case-insensitively, as Password Safe clients do.
//!
//! Every failure becomes a classified [`BrokerError`]: transport failures by their cause
//! (timeout, TLS trust, connection), HTTP answers by the call and status. Nothing here logs a
//! header or a successful body; DEBUG lines name the call, the status and the time taken.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::config::VaultSettings;
use crate::error::{config, BrokerError, Result};
use crate::secret::Secret;

/// The largest answer read (a `ManagedAccounts` list of 10,000 accounts is about 8 MB).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// A managed account as `GET ManagedAccounts` lists it (the fields matching needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedAccount {
    pub account_id: i64,
    pub account_name: String,
    pub system_id: i64,
    pub system_name: String,
    pub domain_name: Option<String>,
    pub host_name: Option<String>,
    pub ip_address: Option<String>,
    pub dns_name: Option<String>,
    pub application: Option<String>,
}

/// A release request as `GET Requests` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub id: i64,
    pub status: String,
    pub account_name: String,
    pub system_name: String,
}

/// The vault's API: an https client and the registration key.
pub struct VaultClient {
    http: reqwest::Client,
    base: String,
    key: Secret,
    timeout: Duration,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// A signed-in session of one vault user. Sign it out with [`Session::sign_out`].
pub struct Session<'a> {
    client: &'a VaultClient,
    cookie: Secret,
    pub user: String,
}

/// An HTTP answer: status and (bounded) body.
struct Answer {
    status: StatusCode,
    body: Zeroizing<Vec<u8>>,
    cookies: Vec<String>,
}

impl Answer {
    /// The vault's error text: a JSON string, or the raw text, cut to 300 characters.
    fn detail(&self) -> String {
        let text = serde_json::from_slice::<String>(&self.body)
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.body).into_owned());
        let text: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
        if text.is_empty() {
            self.status.canonical_reason().unwrap_or("no detail").to_string()
        } else {
            text
        }
    }

    fn json(&self, what: &str) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|_| BrokerError::VaultAnswer {
            what: what.into(),
            status: self.status.as_u16(),
            detail: "the body is not JSON".into(),
        })
    }

    fn unexpected(&self, what: &str) -> BrokerError {
        BrokerError::VaultAnswer { what: what.into(), status: self.status.as_u16(), detail: self.detail() }
    }
}

impl VaultClient {
    pub fn new(settings: &VaultSettings) -> Result<VaultClient> {
        let tls = crate::tls::client_config(settings.ca_file.as_deref(), "[vault] ca_file")?;
        let timeout = Duration::from_secs(settings.timeout_seconds);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("portcullis-broker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| config(format!("the HTTP client cannot be built ({e})")))?;
        let key = settings.api_key.clone().ok_or_else(|| config("[vault] api_key is not set"))?;
        Ok(VaultClient { http, base: settings.url.trim().trim_end_matches('/').to_string(), key, timeout })
    }

    /// The API's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&Secret>,
        auth: Option<&Secret>,
        body: Option<Value>,
    ) -> Result<Answer> {
        let url = format!("{}/{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(c) = cookie {
            req = req.header(COOKIE, sensitive(c)?);
        }
        if let Some(a) = auth {
            req = req.header(AUTHORIZATION, sensitive(a)?);
        }
        if let Some(b) = body {
            req = req.header(CONTENT_TYPE, "application/json").body(b.to_string());
        }
        let started = Instant::now();
        let mut resp = req.send().await.map_err(|e| self.transport(&e))?;
        let status = resp.status();
        let cookies = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(|v| v.trim().to_string())
            .collect();
        let mut body = Zeroizing::new(Vec::new());
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(&e))? {
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(BrokerError::VaultAnswer {
                    what: format!("{method} {path}"),
                    status: status.as_u16(),
                    detail: format!("the answer is larger than {BODY_LIMIT} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(method = %method, path, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "vault API call");
        Ok(Answer { status, body, cookies })
    }

    /// Classifies a transport failure: timeout, TLS trust or other TLS failure, connectivity.
    fn transport(&self, e: &reqwest::Error) -> BrokerError {
        let url = self.base.clone();
        if e.is_timeout() {
            return BrokerError::Timeout { url, seconds: self.timeout.as_secs() };
        }
        if let Some(tls) = rustls_error(e) {
            return match tls {
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature,
                ) => BrokerError::UntrustedCertificate { url, detail: tls.to_string() },
                other => BrokerError::TlsFailure { url, detail: other.to_string() },
            };
        }
        BrokerError::Unreachable { url, detail: innermost(e) }
    }

    /// `Auth/SignAppIn` as `runas`. A refusal is classified: the IP rules, else a second
    /// sign-in without `runas` tells a refused key (refused the same way) from a refused user
    /// (the key got past the check the user then failed).
    pub async fn sign_in(&self, runas: &str) -> Result<Session<'_>> {
        let header = Secret::new(format!("PS-Auth key={}; runas={runas};", self.key.expose()));
        let a = self.call(Method::POST, "Auth/SignAppIn", None, Some(&header), None).await?;
        if a.status.is_success() {
            let cookie = Secret::new(a.cookies.join("; "));
            if cookie.is_empty() {
                return Err(a.unexpected("Auth/SignAppIn (no session cookie)"));
            }
            return Ok(Session { client: self, cookie, user: runas.to_string() });
        }
        if a.status != StatusCode::UNAUTHORIZED && a.status != StatusCode::FORBIDDEN {
            return Err(a.unexpected("Auth/SignAppIn"));
        }
        let detail = a.detail();
        if detail.to_ascii_lowercase().contains("ip rule") {
            return Err(BrokerError::IpRuleRefused { detail });
        }
        let key_only = Secret::new(format!("PS-Auth key={};", self.key.expose()));
        let probe = self.call(Method::POST, "Auth/SignAppIn", None, Some(&key_only), None).await?;
        if probe.status.is_success() {
            let s =
                Session { client: self, cookie: Secret::new(probe.cookies.join("; ")), user: String::new() };
            s.sign_out().await;
        }
        if probe.status == a.status && probe.detail() == detail {
            Err(BrokerError::KeyRefused { detail })
        } else {
            Err(BrokerError::NotARequester { vault_user: runas.to_string() })
        }
    }
}

/// A header value marked sensitive (hyper then keeps it out of its own debug output).
fn sensitive(s: &Secret) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(s.expose())
        .map_err(|_| config("the API key or session cookie holds a character an HTTP header cannot carry"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// The rustls error somewhere in the chain. An `io::Error` hides the error it wraps from
/// `source()` (it answers the wrapped error's source), so its `get_ref()` is followed as well.
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(r) = e.downcast_ref::<rustls::Error>() {
        return Some(r);
    }
    if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
        let inner: &(dyn std::error::Error + 'static) = inner;
        if let Some(r) = rustls_error(inner) {
            return Some(r);
        }
    }
    e.source().and_then(rustls_error)
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A key of a JSON object, case-insensitively.
fn field<'v>(o: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v).filter(|v| !v.is_null())
}

fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    field(o, key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

fn int(o: &Map<String, Value>, key: &str) -> Option<i64> {
    field(o, key).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
}

impl ManagedAccount {
    fn from_json(v: &Value) -> Option<ManagedAccount> {
        let o = v.as_object()?;
        Some(ManagedAccount {
            account_id: int(o, "AccountId")?,
            account_name: text(o, "AccountName")?,
            system_id: int(o, "SystemId")?,
            system_name: text(o, "SystemName")?,
            domain_name: text(o, "DomainName"),
            host_name: text(o, "HostName"),
            ip_address: text(o, "IPAddress"),
            dns_name: text(o, "DnsName"),
            application: text(o, "ApplicationDisplayName"),
        })
    }
}

impl Session<'_> {
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> impl std::future::Future<Output = Result<Answer>> + '_ {
        let path = path.to_string();
        async move { self.client.call(method, &path, Some(&self.cookie), None, body).await }
    }

    /// `GET ManagedAccounts`: the API-enabled accounts this user may request. A record without
    /// its IDs or names is skipped (and counted at DEBUG).
    pub async fn managed_accounts(&self) -> Result<Vec<ManagedAccount>> {
        let a = self.call(Method::GET, "ManagedAccounts", None).await?;
        match a.status {
            StatusCode::OK => {}
            // Password Safe answers 404 when no account is requestable.
            StatusCode::NOT_FOUND => return Ok(Vec::new()),
            _ => return Err(a.unexpected("GET ManagedAccounts")),
        }
        let v = a.json("GET ManagedAccounts")?;
        let list = v.as_array().ok_or_else(|| a.unexpected("GET ManagedAccounts (not a list)"))?;
        let accounts: Vec<ManagedAccount> = list.iter().filter_map(ManagedAccount::from_json).collect();
        if accounts.len() != list.len() {
            tracing::debug!(
                skipped = list.len() - accounts.len(),
                "managed accounts without IDs or names were skipped"
            );
        }
        Ok(accounts)
    }

    /// `POST Requests` with `ConflictOption: renew` (a retrieval always gets its own request).
    pub async fn create_request(&self, account_id: i64, minutes: u32, reason: &str) -> Result<i64> {
        let body = json!({
            "AccountID": account_id,
            "DurationMinutes": minutes,
            "Reason": reason,
            "AccessType": "View",
            "ConflictOption": "renew",
        });
        let a = self.call(Method::POST, "Requests", Some(body)).await?;
        match a.status {
            StatusCode::OK | StatusCode::CREATED => {
                a.json("POST Requests")?.as_i64().ok_or_else(|| a.unexpected("POST Requests (no request ID)"))
            }
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => Err(BrokerError::AccountNotRequestable {
                vault_user: self.user.clone(),
                account_id,
                detail: a.detail(),
            }),
            _ => Err(a.unexpected("POST Requests")),
        }
    }

    /// The caller's request `id` from `GET Requests`.
    pub async fn request(&self, id: i64) -> Result<RequestInfo> {
        let a = self.call(Method::GET, "Requests", None).await?;
        if a.status != StatusCode::OK {
            return Err(a.unexpected("GET Requests"));
        }
        let v = a.json("GET Requests")?;
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .find(|o| int(o, "RequestID") == Some(id))
            .map(|o| RequestInfo {
                id,
                status: text(o, "Status").unwrap_or_default(),
                account_name: text(o, "AccountName").unwrap_or_default(),
                system_name: text(o, "SystemName").unwrap_or_default(),
            })
            .ok_or_else(|| BrokerError::VaultAnswer {
                what: "GET Requests".into(),
                status: 200,
                detail: format!("request {id} is not in the requester's list"),
            })
    }

    /// `PUT Requests/{id}/Approve`.
    pub async fn approve(&self, id: i64) -> Result<()> {
        let a = self
            .call(
                Method::PUT,
                &format!("Requests/{id}/Approve"),
                Some(json!({ "Reason": "approved by the credential broker's global approver" })),
            )
            .await?;
        match a.status {
            s if s.is_success() => Ok(()),
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::CONFLICT => {
                Err(BrokerError::ApprovalRequired { request_id: id, detail: a.detail() })
            }
            _ => Err(a.unexpected("PUT Requests/{id}/Approve")),
        }
    }

    /// `GET Credentials/{id}?type=password`: the released password.
    pub async fn credential(&self, id: i64) -> Result<Secret> {
        let a = self.call(Method::GET, &format!("Credentials/{id}?type=password"), None).await?;
        if a.status != StatusCode::OK {
            return Err(a.unexpected("GET Credentials/{id}"));
        }
        let text: Zeroizing<String> =
            Zeroizing::new(serde_json::from_slice::<String>(&a.body).map_err(|_| {
                BrokerError::VaultAnswer {
                    what: "GET Credentials/{id}".into(),
                    status: 200,
                    detail: "the body is not a JSON string".into(),
                }
            })?);
        Ok(Secret::new(text.as_str()))
    }

    /// `PUT Requests/{id}/Checkin`.
    pub async fn check_in(&self, id: i64, reason: &str) -> Result<()> {
        let a = self
            .call(Method::PUT, &format!("Requests/{id}/Checkin"), Some(json!({ "Reason": reason })))
            .await?;
        if a.status.is_success() {
            Ok(())
        } else {
            Err(a.unexpected("PUT Requests/{id}/Checkin"))
        }
    }

    /// `Auth/Signout`; a failure is only logged (the session expires on its own).
    pub async fn sign_out(self) {
        match self.call(Method::POST, "Auth/Signout", None).await {
            Ok(a) if a.status.is_success() => {}
            Ok(a) => tracing::debug!(status = a.status.as_u16(), "the vault refused Auth/Signout"),
            Err(e) => tracing::debug!(code = e.code(), "Auth/Signout failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_managed_accounts_in_any_key_case() {
        let v = json!({"accountid": 7, "AccountName": "rob", "SYSTEMID": "3", "SystemName": "bi server", "HostName": "10.0.0.5", "IPAddress": null, "DomainName": ""});
        let a = ManagedAccount::from_json(&v).unwrap();
        assert_eq!((a.account_id, a.system_id, a.account_name.as_str()), (7, 3, "rob"));
        assert_eq!((a.host_name.as_deref(), a.ip_address, a.domain_name), (Some("10.0.0.5"), None, None));
        assert!(ManagedAccount::from_json(&json!({"AccountName": "x"})).is_none());
    }
}
