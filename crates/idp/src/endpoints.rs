//! The IdP's public URLs, per tenant, in one place (they appear in metadata, in
//! every Response's Issuer, and in the router).

use uuid::Uuid;

/// URLs of one tenant's IdP under a public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEndpoints {
    base: String,
    tenant: Uuid,
}

impl TenantEndpoints {
    pub fn new(base_url: &str, tenant: Uuid) -> Self {
        TenantEndpoints { base: base_url.trim_end_matches('/').to_string(), tenant }
    }

    /// The IdP's entity ID (the Issuer of every Response): `{base}/{tenant}/`.
    pub fn entity_id(&self) -> String {
        format!("{}/{}/", self.base, self.tenant)
    }

    /// The SAML endpoint (AuthnRequest in, over Redirect or POST; LogoutRequest too).
    pub fn sso_url(&self) -> String {
        format!("{}/{}/saml2", self.base, self.tenant)
    }

    /// Where an app's federation metadata is published.
    pub fn metadata_url(&self, app: Uuid) -> String {
        format!("{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={app}", self.base, self.tenant)
    }

    /// The sign-in page.
    pub fn login_url(&self) -> String {
        format!("{}/{}/login", self.base, self.tenant)
    }

    /// The sign-in page's second step (the TOTP code).
    pub fn otp_url(&self) -> String {
        format!("{}/{}/login/otp", self.base, self.tenant)
    }

    /// My Apps, as a path on this host (where the browser goes after signing in).
    pub fn my_apps_path(&self) -> String {
        format!("/{}/myapps", self.tenant)
    }

    /// A My Apps tile: IdP-initiated SSO to `app`.
    pub fn launch_path(&self, app: Uuid) -> String {
        format!("/{}/myapps/launch/{app}", self.tenant)
    }

    /// An administrator's "Test this application" for `app`.
    pub fn test_path(&self, app: Uuid) -> String {
        format!("/{}/myapps/test/{app}", self.tenant)
    }

    /// "Test this application" for `app`, as a full URL (what `idp app show` and the API list).
    pub fn test_url(&self, app: Uuid) -> String {
        format!("{}{}", self.base, self.test_path(app))
    }

    /// The signed-in user's account page: password change and TOTP enrolment.
    pub fn account_path(&self) -> String {
        format!("/{}/account", self.tenant)
    }

    /// [`Self::account_path`] as a full URL (what the first administrator is told).
    pub fn account_url(&self) -> String {
        format!("{}{}", self.base, self.account_path())
    }

    /// Signing out of the IdP.
    pub fn logout_path(&self) -> String {
        format!("/{}/logout", self.tenant)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn tenant(&self) -> Uuid {
        self.tenant
    }
}
