//! The vault's records as the library hands them out. None carries a secret: passwords, keys and
//! secret values are only returned by the calls whose job that is.

use serde::Serialize;

use crate::error::{invalid, Result};
use crate::ip::IpRule;

/// The platforms a managed system can be; the name picks the rotator.
pub const PLATFORMS: &[&str] = &["generic", "linux-ssh", "postgresql"];

#[derive(Debug, Clone, Serialize)]
pub struct System {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub platform: String,
    pub port: Option<i64>,
    pub workgroup: Option<String>,
    pub functional_user: Option<String>,
    pub has_functional_password: bool,
    pub created_at: i64,
}

/// Length and classes of the passwords generated for an account: the rotator's own type, since
/// the rotator is what generates them.
pub use rotate::PasswordPolicy;

/// The stored form of a policy's classes (the `policy_classes` column, `--password-classes`): a
/// subset of "luds" (lower, upper, digits, symbols).
pub fn policy_classes(p: &PasswordPolicy) -> String {
    [(p.lowercase, 'l'), (p.uppercase, 'u'), (p.digits, 'd'), (p.symbols, 's')]
        .into_iter()
        .filter_map(|(on, c)| on.then_some(c))
        .collect()
}

/// A policy from its stored form (a length and a subset of "luds"), checked by the rotator's rules.
pub fn parse_policy(length: i64, classes: &str) -> Result<PasswordPolicy> {
    let p = PasswordPolicy {
        length: u16::try_from(length).unwrap_or(0),
        lowercase: classes.contains('l'),
        uppercase: classes.contains('u'),
        digits: classes.contains('d'),
        symbols: classes.contains('s'),
    };
    check_policy(&p)?;
    Ok(p)
}

/// Whether passwords can be generated under `p` (length 8..=128, at least one class).
pub fn check_policy(p: &PasswordPolicy) -> Result<()> {
    p.validate().map_err(|e| invalid(e.to_string()))
}

/// The JSON form of a policy (`vault account list --json`).
fn policy_json<S: serde::Serializer>(p: &PasswordPolicy, s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("PasswordPolicy", 5)?;
    st.serialize_field("length", &p.length)?;
    st.serialize_field("lowercase", &p.lowercase)?;
    st.serialize_field("uppercase", &p.uppercase)?;
    st.serialize_field("digits", &p.digits)?;
    st.serialize_field("symbols", &p.symbols)?;
    st.end()
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: i64,
    pub system_id: i64,
    pub system_name: String,
    pub name: String,
    pub domain: Option<String>,
    pub description: Option<String>,
    pub api_enabled: bool,
    pub change_after_release: bool,
    pub max_release_minutes: i64,
    #[serde(serialize_with = "policy_json")]
    pub password_policy: PasswordPolicy,
    pub rotation_days: Option<i64>,
    pub has_password: bool,
    pub rotation_pending: bool,
    pub password_changed_at: Option<i64>,
    pub rotation_due_at: Option<i64>,
    pub rotation_attempts: i64,
    pub rotation_error: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub has_password: bool,
    pub created_at: i64,
}

/// What a group may do on a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    Requestor,
    RequestorApprover,
    Approver,
    Administrator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requestor => "Requestor",
            Role::RequestorApprover => "Requestor/Approver",
            Role::Approver => "Approver",
            Role::Administrator => "Administrator",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s.to_ascii_lowercase().replace([' ', '_', '-'], "").as_str() {
            "requestor" => Ok(Role::Requestor),
            "requestor/approver" | "requestorapprover" => Ok(Role::RequestorApprover),
            "approver" => Ok(Role::Approver),
            "administrator" | "admin" => Ok(Role::Administrator),
            _ => Err(invalid(format!(
                "role {s:?} is not one of Requestor, Requestor/Approver, Approver, Administrator"
            ))),
        }
    }

    pub fn may_request(self) -> bool {
        matches!(self, Role::Requestor | Role::RequestorApprover)
    }

    pub fn may_approve(self) -> bool {
        matches!(self, Role::Approver | Role::RequestorApprover | Role::Administrator)
    }
}

/// Where a role applies: everything, one system (its accounts), or one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scope {
    All,
    System(i64),
    Account(i64),
}

impl Scope {
    pub(crate) fn parts(self) -> (&'static str, i64) {
        match self {
            Scope::All => ("all", 0),
            Scope::System(id) => ("system", id),
            Scope::Account(id) => ("account", id),
        }
    }

    pub(crate) fn from_parts(kind: &str, id: i64) -> Scope {
        match kind {
            "system" => Scope::System(id),
            "account" => Scope::Account(id),
            _ => Scope::All,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupRole {
    pub scope: Scope,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub policy_id: Option<i64>,
    pub registration_id: Option<i64>,
    pub members: Vec<String>,
    pub roles: Vec<GroupRole>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub auto_approve: bool,
    pub approvals_required: i64,
    pub all_day: bool,
    pub window_start: i64,
    pub window_end: i64,
    pub max_minutes: i64,
}

impl Policy {
    /// Whether `now` (unix seconds) is inside the policy's daily window (UTC).
    pub fn open_at(&self, now: i64) -> bool {
        if self.all_day {
            return true;
        }
        let minute = now.rem_euclid(86_400) / 60;
        if self.window_start <= self.window_end {
            (self.window_start..self.window_end).contains(&minute)
        } else {
            minute >= self.window_start || minute < self.window_end
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub id: i64,
    pub name: String,
    pub ip_rules: Vec<IpRule>,
    pub token_minutes: i64,
    pub user_password_required: bool,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OAuthClient {
    pub client_id: String,
    pub user: String,
    pub created_at: i64,
}

/// The state of a release request as it is reported: the stored status, except that a pending or
/// approved request whose time is over reads `Expired` (the background pass stores it later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    CheckedIn,
    Expired,
}

impl RequestStatus {
    /// What it is, for people (`vault request list`, error sentences).
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Denied => "denied",
            RequestStatus::CheckedIn => "checked in",
            RequestStatus::Expired => "expired",
        }
    }

    /// The word Password Safe's API uses (`Status` of `GET Requests`): a checked-in request reads
    /// `Released` there, and clients written against it expect that.
    pub fn wire(self) -> &'static str {
        match self {
            RequestStatus::Pending => "Pending",
            RequestStatus::Approved => "Approved",
            RequestStatus::Denied => "Denied",
            RequestStatus::CheckedIn => "Released",
            RequestStatus::Expired => "Expired",
        }
    }

    /// Whether `filter` (`--status`, `?status=`) names this status: its own words, the API's, or
    /// `checked-in`/`checkedin`.
    pub fn matches(self, filter: &str) -> bool {
        let f = filter.trim().to_ascii_lowercase().replace(['-', '_', ' '], "");
        f == self.as_str().replace(' ', "") || f == self.wire().to_ascii_lowercase()
    }
}

/// Who makes a change: named in its audit row, and deciding which checks apply.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in vault user (through the API): their roles decide.
    User(&'a User),
    /// The operator on the data directory (the CLI): an administrator of the host.
    Operator,
    /// The vault itself (expiry, rotation after release or on schedule).
    System,
}

impl Actor<'_> {
    /// The name in the audit log: the user's name, `cli` or `vault`.
    pub fn name(&self) -> &str {
        match self {
            Actor::User(u) => &u.name,
            Actor::Operator => "cli",
            Actor::System => "vault",
        }
    }

    /// Where it acts from, for the audit log (the API's own row of the call has the peer address).
    pub fn source(&self) -> &'static str {
        match self {
            Actor::User(_) => "api",
            Actor::Operator => "cli",
            Actor::System => "vault",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub system_id: i64,
    pub system_name: String,
    pub account_id: i64,
    pub account_name: String,
    pub duration_minutes: i64,
    pub reason: String,
    pub access_type: String,
    pub status: RequestStatus,
    pub approvals: i64,
    pub rotate_on_checkin: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub closed_at: Option<i64>,
}

impl Request {
    /// Approved and neither checked in nor expired: its credential may be read.
    pub fn is_active(&self) -> bool {
        self.status == RequestStatus::Approved
    }

    /// Open: pending or approved, not yet over (one such request per account and user).
    pub fn is_open(&self) -> bool {
        matches!(self.status, RequestStatus::Pending | RequestStatus::Approved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_round_trips_through_its_stored_form_and_is_checked_by_the_rotator() {
        let p =
            PasswordPolicy { length: 20, lowercase: true, uppercase: false, digits: true, symbols: false };
        assert_eq!(policy_classes(&p), "ld");
        assert_eq!(parse_policy(20, "ld").unwrap(), p);
        assert_eq!(policy_classes(&PasswordPolicy::default()), "luds");
        assert!(
            matches!(parse_policy(7, "luds"), Err(crate::VaultError::Invalid(m)) if m.contains("PCR001"))
        );
        assert!(parse_policy(32, "").is_err(), "no class");
        assert!(parse_policy(i64::MAX, "l").is_err(), "a length beyond u16 is refused, not wrapped");
    }
}
