//! What the API's handlers take from a request: the signed-in caller (an [`Authority`] for
//! `web::auth::Authorized`, so a handler that needs a session or an Administrator cannot forget
//! the check), the request's audit record, the query with lower-cased names, and JSON bodies
//! whose keys are matched case-insensitively.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{Map, Value};
use web::auth::Authority;

use super::COOKIE;
use crate::error::{forbidden, invalid, not_found, unauthorized, VaultError};
use crate::model::User;
use crate::Vault;

/// The largest JSON body read.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The signed-in vault user of a request (a live session cookie).
#[derive(Debug)]
pub(super) struct ApiUser(pub User);

/// What a caller may need beyond a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Permission {
    /// An Administrator on everything.
    Administer,
}

web::requirements!(Permission {
    /// An Administrator of the vault (a group holding Administrator on everything).
    Administrator => Permission::Administer,
});

impl Authority<Vault> for ApiUser {
    type Permission = Permission;
    type Rejection = VaultError;

    async fn authorize(
        parts: &mut Parts,
        vault: &Vault,
        needed: Option<Permission>,
    ) -> Result<ApiUser, VaultError> {
        let session = web::cookies::read(&parts.headers, COOKIE)
            .ok_or_else(|| unauthorized("not signed in: call Auth/SignAppIn first"))?;
        let user = vault.session_user(session).await?;
        if let Some(audit) = parts.extensions.get::<Audit>() {
            audit.actor(&user.name);
        }
        if needed == Some(Permission::Administer) {
            require_admin(vault, &user).await?;
        }
        Ok(ApiUser(user))
    }
}

/// Refuses a caller who is not an Administrator of the vault.
pub(super) async fn require_admin(vault: &Vault, user: &User) -> Result<(), VaultError> {
    if vault.is_admin(user.id).await? {
        Ok(())
    } else {
        Err(forbidden(format!("user {:?} is not an Administrator of the vault", user.name)))
    }
}

/// What the audit row of a request records besides its action and result, filled in by the
/// handlers as they learn it (who, which account).
#[derive(Debug, Clone)]
pub(super) struct Audit(Arc<Mutex<Record>>);

#[derive(Debug)]
pub(super) struct Record {
    pub actor: String,
    pub account_id: Option<i64>,
    pub source: IpAddr,
}

impl Audit {
    pub(super) fn new(source: IpAddr) -> Audit {
        Audit(Arc::new(Mutex::new(Record { actor: "-".into(), account_id: None, source })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Record) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(super) fn actor(&self, name: &str) {
        self.with(|r| r.actor = name.to_string());
    }

    pub(super) fn account(&self, id: i64) {
        self.with(|r| r.account_id = Some(id));
    }

    pub(super) fn snapshot(&self) -> (String, Option<i64>, IpAddr) {
        self.with(|r| (r.actor.clone(), r.account_id, r.source))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Audit {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Audit, Infallible> {
        // Set by the audit middleware for every request of the API.
        Ok(parts.extensions.get::<Audit>().cloned().unwrap_or_else(|| Audit::new(IpAddr::from([0, 0, 0, 0]))))
    }
}

/// The query string, names lower-cased (unknown parameters such as `version` are ignored by
/// whoever does not ask for them).
#[derive(Debug, Default)]
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(raw: &[u8]) -> Query {
        Query(form_urlencoded::parse(raw).map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned())).collect())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Query, Infallible> {
        Ok(Query::parse(parts.uri.query().unwrap_or("").as_bytes()))
    }
}

/// A parameter by its lower-case name; an empty value counts as absent.
pub(super) fn q<'a>(qs: &'a Query, k: &str) -> Option<&'a str> {
    qs.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// A numeric ID from the path; anything else is a record that does not exist.
pub(super) fn id(seg: &str, what: &str) -> Result<i64, VaultError> {
    seg.parse().map_err(|_| not_found(format!("{what} {seg:?} was not found")))
}

/// Reads a JSON object body (up to 16 MiB), read where the handler needs it so that its checks
/// come first, as they did.
pub(super) async fn read_json(body: Body) -> Result<JsonKeys, VaultError> {
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| invalid(format!("the request body is larger than {BODY_LIMIT} bytes")))?;
    JsonKeys::parse(&bytes)
}

/// JSON object with lower-cased keys.
#[derive(Debug, Default)]
pub(super) struct JsonKeys(Map<String, Value>);

impl JsonKeys {
    pub(super) fn parse(bytes: &[u8]) -> Result<JsonKeys, VaultError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonKeys(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => {
                Ok(JsonKeys(m.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()))
            }
            Ok(_) => Err(invalid("the request body must be a JSON object")),
            Err(e) => Err(invalid(format!("the request body is not valid JSON ({e})"))),
        }
    }
    pub(super) fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }
    pub(super) fn str(&self, k: &str) -> Option<String> {
        self.get(k).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
    pub(super) fn int(&self, k: &str) -> Result<Option<i64>, VaultError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| invalid(format!("{k} must be an integer")))
            }
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| invalid(format!("{k} must be an integer")))
            }
            Some(_) => Err(invalid(format!("{k} must be an integer"))),
        }
    }
    pub(super) fn boolean(&self, k: &str) -> Result<Option<bool>, VaultError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(invalid(format!("{k} must be true or false"))),
        }
    }
}
