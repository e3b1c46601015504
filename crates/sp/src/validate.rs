//! The ACS validation: one function, one check per SAML rule, each failure with
//! its own error code (modelled on crewjam/saml's `ParseXMLResponse` and
//! `validateAssertion`). Rules cite SAML 2.0 core, bindings and profiles.

use crate::config::SpConfig;
use crate::error::{Error, Result};
use crate::read::read_response;
use crate::replay::ReplayCache;
use saml::clock::{check_window, format_time, Clock};
use saml::model::assertion::{Assertion, SubjectConfirmationData};
use saml::xml::CM_BEARER;
use time::OffsetDateTime;

/// A login the SP may accept: who, with which attributes, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub name_id: String,
    pub name_id_format: Option<String>,
    /// Attributes in document order, each with all its values; an attribute
    /// named twice has its values merged under the first occurrence.
    pub attributes: Vec<(String, Vec<String>)>,
    /// AuthnStatement SessionNotOnOrAfter (the earliest, when there are several).
    pub session_not_on_or_after: Option<OffsetDateTime>,
    pub session_index: Option<String>,
    pub assertion_id: String,
    pub issuer: String,
    /// Until when the assertion ID must be remembered against replay.
    pub remember_until: OffsetDateTime,
    pub response_signed: bool,
    pub assertion_signed: bool,
    pub encrypted: bool,
}

impl Login {
    /// The values of attribute `name` (empty when absent).
    pub fn attribute(&self, name: &str) -> &[String] {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice()).unwrap_or(&[])
    }
}

/// Validates a SAML Response (XML text) the way the ACS must, without the
/// replay check (see [`accept_response`]). `request_id` is the ID of the
/// AuthnRequest this browser has outstanding, if any.
pub fn validate_response(
    xml: &str,
    cfg: &SpConfig,
    request_id: Option<&str>,
    clock: &dyn Clock,
) -> Result<Login> {
    let now = clock.now();
    let idp = &cfg.idp;

    // Signatures first (per `want`), claims only from signed elements; exactly
    // one assertion; an EncryptedAssertion is decrypted and verified inside.
    let read = read_response(xml, &idp.signing_certs, cfg.want, cfg.allow_sha1, cfg.decryption_key.as_ref())?;
    let response = &read.response;

    // Bindings 3.5.5.2: a signed Response must carry Destination; when present
    // it must be our ACS URL.
    match &response.destination {
        None if read.response_signed => return Err(Error::DestinationMissing),
        None => {}
        Some(d) if d != &cfg.acs_url => {
            return Err(Error::DestinationMismatch { found: d.clone(), expected: cfg.acs_url.clone() })
        }
        Some(_) => {}
    }

    // Profiles 4.1.4.2 / 4.1.5: InResponseTo answers our outstanding request;
    // absent only for an IdP-initiated response, when those are allowed.
    match (&response.in_response_to, request_id) {
        (Some(found), Some(expected)) if found != expected => {
            return Err(Error::InResponseToMismatch { found: found.clone(), expected: expected.into() })
        }
        (Some(_), Some(_)) => {}
        (None, Some(expected)) => return Err(Error::ResponseUnsolicited { expected: expected.into() }),
        (Some(found), None) => return Err(Error::InResponseToUnknown { found: found.clone() }),
        (None, None) if !cfg.allow_unsolicited => return Err(Error::UnsolicitedNotAllowed),
        (None, None) => {}
    }

    // Profiles 4.1.4.2: the Response Issuer, when present, is the IdP.
    if let Some(issuer) = &response.issuer {
        if issuer != &idp.entity_id {
            return Err(Error::ResponseIssuerMismatch {
                found: issuer.clone(),
                expected: idp.entity_id.clone(),
            });
        }
    }

    // Core 3.2.2.2: anything but Success is the IdP's refusal; surface it.
    if !response.status.is_success() {
        return Err(Error::StatusNotSuccess {
            code: response.status.code.clone(),
            sub_code: response.status.sub_code.clone(),
            message: response.status.message.clone(),
        });
    }
    let assertion = read.assertion.as_ref().ok_or(saml::Error::AssertionCount(0))?;

    // Profiles 4.1.4.2: the Assertion Issuer is the IdP.
    if assertion.issuer != idp.entity_id {
        return Err(Error::AssertionIssuerMismatch {
            found: assertion.issuer.clone(),
            expected: idp.entity_id.clone(),
        });
    }

    // Profiles 4.1.4.2: a Subject with a NameID (an EncryptedID is not supported).
    let subject = assertion.subject.as_ref().ok_or_else(|| Error::NameIdMissing("no Subject".into()))?;
    let name_id = match (&subject.name_id, &subject.encrypted_id) {
        (Some(n), _) => n,
        (None, Some(_)) => return Err(Error::NameIdMissing("an EncryptedID is not supported".into())),
        (None, None) => return Err(Error::NameIdMissing("the Subject has no NameID".into())),
    };

    // Profiles 4.1.4.2/4.1.4.3: at least one bearer SubjectConfirmation, and
    // every bearer one valid: Recipient = ACS, NotOnOrAfter in the future,
    // InResponseTo = our request.
    let bearers: Vec<_> = subject.confirmations.iter().filter(|c| c.method == CM_BEARER).collect();
    if bearers.is_empty() {
        return Err(Error::NoBearerConfirmation);
    }
    let mut remember_until = now;
    for c in bearers {
        let data = c.data.as_ref().ok_or(Error::ConfirmationDataMissing("SubjectConfirmationData"))?;
        let noa = check_confirmation(data, cfg, request_id, now)?;
        remember_until = remember_until.max(noa);
    }

    // Core 2.5.1.2: the Conditions time window, with the configured skew.
    let conditions = assertion.conditions.as_ref();
    check_window(
        "Conditions",
        conditions.and_then(|c| c.not_before),
        conditions.and_then(|c| c.not_on_or_after),
        now,
        cfg.skew,
    )
    .map_err(|e| match e {
        saml::Error::NotYetValid { .. } => Error::NotYetValid(e.to_string()),
        saml::Error::Expired { .. } => Error::Expired(e.to_string()),
        other => Error::Saml(other),
    })?;
    if let Some(noa) = conditions.and_then(|c| c.not_on_or_after) {
        remember_until = remember_until.max(noa);
    }

    // Core 2.5.1.4 and profiles 4.1.4.2: an AudienceRestriction naming us, and
    // every AudienceRestriction satisfied.
    let restrictions = conditions.map(|c| c.audience_restrictions.as_slice()).unwrap_or_default();
    if restrictions.is_empty() {
        return Err(Error::AudienceMissing(cfg.entity_id.clone()));
    }
    for audiences in restrictions {
        if !audiences.iter().any(|a| a == &cfg.entity_id) {
            return Err(Error::AudienceMismatch {
                found: audiences.join(", "),
                expected: cfg.entity_id.clone(),
            });
        }
    }

    // Profiles 4.1.4.2: the assertion states an authentication.
    if assertion.authn_statements.is_empty() {
        return Err(Error::AuthnStatementMissing);
    }

    Ok(login(assertion, &read, name_id, remember_until + cfg.skew))
}

/// One bearer SubjectConfirmationData; returns its NotOnOrAfter.
fn check_confirmation(
    data: &SubjectConfirmationData,
    cfg: &SpConfig,
    request_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime> {
    let recipient = data.recipient.as_ref().ok_or(Error::ConfirmationDataMissing("a Recipient"))?;
    if recipient != &cfg.acs_url {
        return Err(Error::RecipientMismatch { found: recipient.clone(), expected: cfg.acs_url.clone() });
    }
    let noa = data.not_on_or_after.ok_or(Error::ConfirmationDataMissing("a NotOnOrAfter"))?;
    check_window("SubjectConfirmationData", data.not_before, Some(noa), now, cfg.skew).map_err(
        |e| match e {
            saml::Error::NotYetValid { .. } => Error::ConfirmationNotYetValid(e.to_string()),
            saml::Error::Expired { .. } => Error::ConfirmationExpired(e.to_string()),
            other => Error::Saml(other),
        },
    )?;
    if data.in_response_to.as_deref() != request_id {
        return Err(Error::ConfirmationInResponseToMismatch {
            found: data.in_response_to.clone().unwrap_or_else(|| "(none)".into()),
            expected: request_id.unwrap_or("(none: unsolicited)").into(),
        });
    }
    Ok(noa)
}

fn login(
    assertion: &Assertion,
    read: &crate::read::ReadResponse,
    name_id: &saml::model::NameId,
    remember_until: OffsetDateTime,
) -> Login {
    let mut attributes: Vec<(String, Vec<String>)> = Vec::new();
    for a in &assertion.attributes {
        match attributes.iter_mut().find(|(n, _)| n == &a.name) {
            Some((_, values)) => values.extend(a.values.iter().cloned()),
            None => attributes.push((a.name.clone(), a.values.clone())),
        }
    }
    let session_not_on_or_after =
        assertion.authn_statements.iter().filter_map(|s| s.session_not_on_or_after).min();
    Login {
        name_id: name_id.value.clone(),
        name_id_format: name_id.format.clone(),
        attributes,
        session_not_on_or_after,
        session_index: assertion.authn_statements.iter().find_map(|s| s.session_index.clone()),
        assertion_id: assertion.id.clone(),
        issuer: assertion.issuer.clone(),
        remember_until,
        response_signed: read.response_signed,
        assertion_signed: read.assertion_signed,
        encrypted: read.encrypted,
    }
}

/// The full ACS check: [`validate_response`], then one-time use — the assertion
/// ID is remembered in `cache` until it expires (plus skew), so a second use is
/// `SP_REPLAY`.
pub async fn accept_response<C: ReplayCache>(
    xml: &str,
    cfg: &SpConfig,
    request_id: Option<&str>,
    clock: &dyn Clock,
    cache: &C,
) -> Result<Login> {
    let login = validate_response(xml, cfg, request_id, clock)?;
    cache.check_and_remember(&login.assertion_id, login.remember_until, clock.now()).await?;
    Ok(login)
}

/// SAML time text for reports (`2030-01-01T00:00:00Z`).
pub fn time_text(t: OffsetDateTime) -> String {
    format_time(t)
}
