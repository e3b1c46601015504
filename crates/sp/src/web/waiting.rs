//! The administration overview and the waiting room: holders of `users:request` file "new
//! user" access requests for waiting users (one pending request per user), holders of
//! `users:approve` decide them (the user is told by e-mail through the store's outbox).

use super::pages::{AccessRequestsPage, PendingView, RequestRow, SettingsPage, WaitingRoomPage, WaitingUser};
use super::respond::redirect;
use super::{holds, Site, PERMISSION_APPROVE, PERMISSION_REQUEST, PERMISSION_SETTINGS};
use crate::db::{AccessRequest, LocalUser, Policy, RequestStatus};
use crate::web::admin::PERMISSION_SETTINGS_WRITE;
use crate::web::error::{SiteError, SiteResult};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use web::page::render;
use web::token::constant_time_eq;

/// The posted form's fields.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_string())
    }

    /// The form must carry the CSRF token of the signed-in user's session.
    fn check_csrf(&self, csrf: &str) -> SiteResult<()> {
        match self.get(web::csrf::FIELD) {
            Some(given) if constant_time_eq(given.as_bytes(), csrf.as_bytes()) => Ok(()),
            _ => Err(SiteError::Csrf),
        }
    }

    fn id(&self, name: &str, what: &str) -> SiteResult<uuid::Uuid> {
        self.get(name)
            .and_then(|u| uuid::Uuid::parse_str(&u).ok())
            .ok_or_else(|| SiteError::Invalid(format!("the form names no {what}")))
    }
}

impl Site {
    /// The settings page: SP endpoints, providers, policies, group mappings and the
    /// SAML users (who appear only after their first successful login).
    async fn settings(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let (_, saml, local) = self.authorized(headers, PERMISSION_SETTINGS).await?;
        let page = SettingsPage {
            layout: self.user_layout("Administration", "/admin", &saml, &local).wide(),
            app: &self.app.name,
            entity_id: self.entity_id(),
            acs_url: self.acs_url(),
            slo_url: self.slo_url(),
            providers: self.db.providers(self.app.id).await?,
            policies: self.db.policies(self.app.id).await?,
            mappings: self.db.group_policies(self.app.id).await?,
            users: self.db.saml_users(self.app.id).await?,
            may_write: holds(&saml, PERMISSION_SETTINGS_WRITE),
        };
        Ok(render(StatusCode::OK, &page))
    }

    /// The waiting users: a request form for each, or the request already pending for them.
    async fn waiting_room(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let (csrf, saml, local) = self.authorized(headers, PERMISSION_REQUEST).await?;
        let users: Vec<_> =
            self.db.saml_users(self.app.id).await?.into_iter().filter(|(s, _)| s.waiting).collect();
        let policies = self.db.policies(self.app.id).await?;
        let pending = self.db.access_requests(self.app.id, Some(RequestStatus::Pending)).await?;
        let users = users
            .iter()
            .map(|(s, u)| WaitingUser {
                saml: s,
                local: u,
                pending: pending
                    .iter()
                    .find(|r| r.saml_user_id == s.id)
                    .map(|r| PendingView { policy: policy_name(&policies, r), sites: r.sites.join(", ") }),
            })
            .collect();
        let page = WaitingRoomPage {
            layout: self.user_layout("Waiting room", "/admin/waiting-room", &saml, &local),
            users,
            policies: &policies,
            csrf: &csrf,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn request_access(&self, headers: &HeaderMap, form: Fields) -> SiteResult<Response> {
        let (csrf, requester, _) = self.authorized(headers, PERMISSION_REQUEST).await?;
        form.check_csrf(&csrf)?;
        let subject = self.db.saml_user_by_id(form.id("user", "user")?).await?;
        let provider = self.db.provider(subject.provider_id).await?;
        if provider.app_id != self.app.id {
            return Err(SiteError::Invalid("the user belongs to another application".into()));
        }
        let policy_name = form.get("policy").unwrap_or_default();
        let policy =
            self.db.policy_by_name(self.app.id, &policy_name).await?.ok_or_else(|| {
                SiteError::Invalid(format!("no access level (policy) named {policy_name:?}"))
            })?;
        let sites: Vec<String> = form
            .get("sites")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let request = AccessRequest {
            id: uuid::Uuid::new_v4(),
            app_id: self.app.id,
            saml_user_id: subject.id,
            requested_by: requester.id,
            policy_id: policy.id,
            sites,
            status: RequestStatus::Pending,
            created_at: self.clock.now().unix_timestamp(),
            decided_by: None,
            decided_at: None,
        };
        self.db.create_access_request(&request).await?;
        tracing::info!(request = %request.id, user = %subject.id, policy = %policy.name, "access request filed");
        Ok(redirect("/admin/waiting-room"))
    }

    async fn access_requests(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let (csrf, saml, local) = self.authorized(headers, PERMISSION_APPROVE).await?;
        let policies = self.db.policies(self.app.id).await?;
        let users = self.db.saml_users(self.app.id).await?;
        let requests = self
            .db
            .access_requests(self.app.id, Some(RequestStatus::Pending))
            .await?
            .into_iter()
            .map(|r| RequestRow {
                id: r.id,
                user: users
                    .iter()
                    .find(|(s, _)| s.id == r.saml_user_id)
                    .map(|(_, u)| u.username.clone())
                    .unwrap_or_else(|| r.saml_user_id.to_string()),
                policy: policy_name(&policies, &r),
                sites: r.sites.join(", "),
            })
            .collect();
        let page = AccessRequestsPage {
            layout: self.user_layout("Access requests", "/admin/access-requests", &saml, &local),
            requests,
            csrf: &csrf,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn decide(&self, headers: &HeaderMap, form: Fields) -> SiteResult<Response> {
        let (csrf, admin, _) = self.authorized(headers, PERMISSION_APPROVE).await?;
        form.check_csrf(&csrf)?;
        let id = form.id("id", "request")?;
        let approve = match form.get("decision").as_deref() {
            Some("approve") => true,
            Some("reject") => false,
            _ => return Err(SiteError::Invalid("the decision must be approve or reject".into())),
        };
        let now = self.clock.now().unix_timestamp();
        // Only this application's requests.
        let mine = self.db.access_requests(self.app.id, None).await?.into_iter().any(|r| r.id == id);
        if !mine {
            return Err(SiteError::Invalid(format!("access request {id} is not one of this application's")));
        }
        let decided = self.db.decide_access_request(id, approve, admin.id, now).await?;
        let user = self.db.saml_user_by_id(decided.saml_user_id).await?;
        let local = self.db.local_user(user.local_user_id).await?;
        let verdict = if approve { "approved" } else { "rejected" };
        if !local.email.is_empty() {
            let policies = self.db.policies(self.app.id).await?;
            let body =
                decision_mail(&self.app.name, &self.app.base_url, &local, &decided, &policies, approve);
            self.db
                .store()
                .enqueue_mail(&store::model::Mail {
                    id: uuid::Uuid::new_v4(),
                    created_at: now,
                    recipient: local.email.clone(),
                    subject: format!("Your access request for {} was {verdict}", self.app.name),
                    body,
                    dedup_key: Some(format!("sp/access-request/{id}")),
                    sent_at: None,
                    attempts: 0,
                    last_error: None,
                })
                .await?;
        }
        tracing::info!(request = %id, user = %local.username, verdict, "access request decided");
        Ok(redirect("/admin/access-requests"))
    }
}

/// The name of the request's policy (its ID when the policy is gone).
fn policy_name(policies: &[Policy], r: &AccessRequest) -> String {
    policies
        .iter()
        .find(|p| p.id == r.policy_id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| r.policy_id.to_string())
}

/// The e-mail that tells the user the decision. Every sentence names only what is known: the
/// greeting falls back to the username, the sites are named only when some were granted.
fn decision_mail(
    app: &str,
    base_url: &str,
    user: &LocalUser,
    decided: &AccessRequest,
    policies: &[Policy],
    approved: bool,
) -> String {
    let name = if user.first_name.is_empty() { &user.username } else { &user.first_name };
    if !approved {
        return format!(
            "Hello {name},\n\nYour access request for {app} was rejected. Ask your administrator if you \
             think this is a mistake.\n"
        );
    }
    let sites = match decided.sites.as_slice() {
        [] => String::new(),
        sites => format!(", sites {}", sites.join(", ")),
    };
    format!(
        "Hello {name},\n\nYour access request for {app} was approved: access level {}{sites}.\n\
         Sign in again to use it: {base_url}/\n",
        policy_name(policies, decided)
    )
}

type FormResult = Result<Form<Vec<(String, String)>>, FormRejection>;

fn fields(form: FormResult) -> SiteResult<Fields> {
    form.map(|Form(v)| Fields(v)).map_err(|e| SiteError::Invalid(format!("the form cannot be read ({e})")))
}

async fn settings(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.settings(&headers).await.unwrap_or_else(|e| site.refused("settings", &e))
}

async fn waiting_room(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.waiting_room(&headers).await.unwrap_or_else(|e| site.refused("waiting-room", &e))
}

async fn access_requests(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.access_requests(&headers).await.unwrap_or_else(|e| site.refused("access-requests", &e))
}

async fn request_access(State(site): State<Arc<Site>>, headers: HeaderMap, form: FormResult) -> Response {
    let result = match fields(form) {
        Ok(f) => site.request_access(&headers, f).await,
        Err(e) => Err(e),
    };
    result.unwrap_or_else(|e| site.refused("request-access", &e))
}

async fn decide(State(site): State<Arc<Site>>, headers: HeaderMap, form: FormResult) -> Response {
    let result = match fields(form) {
        Ok(f) => site.decide(&headers, f).await,
        Err(e) => Err(e),
    };
    result.unwrap_or_else(|e| site.refused("decide", &e))
}

/// The overview and waiting-room routes (merged into the site's router).
pub(super) fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/admin", get(settings))
        .route("/admin/waiting-room", get(waiting_room))
        .route("/admin/access-requests", get(access_requests).post(request_access))
        .route("/admin/access-requests/decide", post(decide))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(sites: &[&str]) -> AccessRequest {
        AccessRequest {
            id: uuid::Uuid::new_v4(),
            app_id: uuid::Uuid::nil(),
            saml_user_id: uuid::Uuid::nil(),
            requested_by: uuid::Uuid::nil(),
            policy_id: uuid::Uuid::nil(),
            sites: sites.iter().map(|s| s.to_string()).collect(),
            status: RequestStatus::Approved,
            created_at: 0,
            decided_by: None,
            decided_at: None,
        }
    }

    /// Issue 14 item 7: no sentence with an empty value, in the e-mail either.
    #[test]
    fn the_decision_mail_names_only_what_is_known() {
        let user = LocalUser {
            id: uuid::Uuid::nil(),
            app_id: uuid::Uuid::nil(),
            username: "bob".into(),
            first_name: String::new(),
            last_name: String::new(),
            email: "bob@contoso.test".into(),
            created_at: 0,
        };
        let policies = [Policy {
            id: uuid::Uuid::nil(),
            app_id: uuid::Uuid::nil(),
            name: "Support".into(),
            permissions: vec![],
        }];
        let mail = decision_mail("CRM", "https://crm.test", &user, &request(&[]), &policies, true);
        assert!(mail.starts_with("Hello bob,") && mail.contains("access level Support."), "{mail}");
        assert!(!mail.contains("sites") && !mail.contains(" ,"), "{mail}");
        let mail = decision_mail("CRM", "https://crm.test", &user, &request(&["a", "b"]), &policies, true);
        assert!(mail.contains("access level Support, sites a, b."), "{mail}");
        let mail = decision_mail("CRM", "https://crm.test", &user, &request(&[]), &policies, false);
        assert!(mail.starts_with("Hello bob,") && mail.contains("was rejected"), "{mail}");
    }
}
