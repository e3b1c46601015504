//! Issuing a signed SAML Response for a signed-in user (SAML profiles 4.1.4.2).
//! Pure: everything it needs comes in as arguments, time included.

use crate::model::{SigningAlgorithm, SigningOption};
use saml::crypto::{Certificate, DigestAlgorithm, SignatureAlgorithm, SigningKey};
use saml::dsig::{sign_element, SignOptions};
use saml::model::{
    new_id, Assertion, Attribute, AuthnStatement, Conditions, NameId, Response, Status, Subject,
    SubjectConfirmation, SubjectConfirmationData,
};
use saml::xml::{AC_PASSWORD_PROTECTED, CM_BEARER};
use time::{Duration, OffsetDateTime};

/// How long the assertion's Conditions are valid after issue (as the large
/// directories do: a little before, about an hour after).
pub const ASSERTION_LIFETIME: Duration = Duration::minutes(70);
/// How long the bearer confirmation may be used: the browser posts at once.
pub const CONFIRMATION_LIFETIME: Duration = Duration::minutes(5);
/// Backdating of NotBefore, for SPs whose clocks run slightly behind.
pub const NOT_BEFORE_MARGIN: Duration = Duration::minutes(5);

/// Everything a Response is built from.
#[derive(Debug)]
pub struct ResponseParams<'a> {
    /// The IdP's entity ID (the Issuer).
    pub issuer: &'a str,
    /// The app's Identifier (the Audience).
    pub audience: &'a str,
    /// The ACS URL the Response is posted to (Destination and Recipient).
    pub acs_url: &'a str,
    /// The AuthnRequest's ID; `None` for IdP-initiated SSO.
    pub in_response_to: Option<&'a str>,
    pub name_id: NameId,
    pub attributes: Vec<Attribute>,
    /// When the user authenticated, and the session's index (for single logout).
    pub authn_instant: OffsetDateTime,
    pub session_index: &'a str,
    pub authn_context: Option<&'a str>,
    pub now: OffsetDateTime,
    pub signing: SigningOption,
    pub algorithm: SigningAlgorithm,
}

/// Builds and signs the Response. Errors only come from signing.
pub fn signed_response(p: &ResponseParams<'_>, key: &SigningKey, cert: &Certificate) -> saml::Result<String> {
    let response_id = new_id()?;
    let assertion_id = new_id()?;
    let assertion = Assertion {
        id: assertion_id.clone(),
        issue_instant: p.now,
        issuer: p.issuer.to_string(),
        subject: Some(Subject {
            name_id: Some(p.name_id.clone()),
            encrypted_id: None,
            confirmations: vec![SubjectConfirmation {
                method: CM_BEARER.to_string(),
                name_id: None,
                data: Some(SubjectConfirmationData {
                    not_before: None,
                    not_on_or_after: Some(p.now + CONFIRMATION_LIFETIME),
                    recipient: Some(p.acs_url.to_string()),
                    in_response_to: p.in_response_to.map(str::to_string),
                    address: None,
                }),
            }],
        }),
        conditions: Some(Conditions {
            not_before: Some(p.now - NOT_BEFORE_MARGIN),
            not_on_or_after: Some(p.now + ASSERTION_LIFETIME),
            audience_restrictions: vec![vec![p.audience.to_string()]],
            one_time_use: false,
            proxy_restriction: None,
        }),
        authn_statements: vec![AuthnStatement {
            authn_instant: p.authn_instant,
            session_index: Some(p.session_index.to_string()),
            session_not_on_or_after: None,
            authn_context_class_ref: Some(p.authn_context.unwrap_or(AC_PASSWORD_PROTECTED).to_string()),
            authn_context_decl_ref: None,
            subject_locality_address: None,
            subject_locality_dns_name: None,
        }],
        attributes: p.attributes.clone(),
    };
    let response = Response {
        id: response_id.clone(),
        in_response_to: p.in_response_to.map(str::to_string),
        issue_instant: p.now,
        destination: Some(p.acs_url.to_string()),
        consent: None,
        issuer: Some(p.issuer.to_string()),
        status: Status::success(),
        assertions: vec![assertion],
        encrypted_assertions: Vec::new(),
    };
    let opts = sign_options(p.algorithm);
    let mut xml = response.to_xml();
    if matches!(p.signing, SigningOption::Assertion | SigningOption::Both) {
        xml = sign_element(&xml, &assertion_id, key, Some(cert), &opts)?;
    }
    if matches!(p.signing, SigningOption::Response | SigningOption::Both) {
        xml = sign_element(&xml, &response_id, key, Some(cert), &opts)?;
    }
    Ok(xml)
}

/// What an error Response (no assertion) is built from.
#[derive(Debug)]
pub struct ErrorParams<'a> {
    pub issuer: &'a str,
    pub acs_url: &'a str,
    pub in_response_to: Option<&'a str>,
    pub status: Status,
    pub now: OffsetDateTime,
    pub algorithm: SigningAlgorithm,
}

/// An error Response, for a request that cannot be honoured but whose reply URL
/// is trusted (for example a passive request without a session).
pub fn error_response(p: &ErrorParams<'_>, key: &SigningKey, cert: &Certificate) -> saml::Result<String> {
    let response = Response {
        id: new_id()?,
        in_response_to: p.in_response_to.map(str::to_string),
        issue_instant: p.now,
        destination: Some(p.acs_url.to_string()),
        consent: None,
        issuer: Some(p.issuer.to_string()),
        status: p.status.clone(),
        assertions: Vec::new(),
        encrypted_assertions: Vec::new(),
    };
    sign_element(&response.to_xml(), &response.id, key, Some(cert), &sign_options(p.algorithm))
}

fn sign_options(algorithm: SigningAlgorithm) -> SignOptions {
    match algorithm {
        SigningAlgorithm::Sha256 => SignOptions::default(),
        // Legacy apps only, set explicitly by an administrator (saml::legacy_sha1 signs).
        SigningAlgorithm::Sha1 => SignOptions {
            algorithm: SignatureAlgorithm::RsaSha1,
            digest: DigestAlgorithm::Sha1,
            include_certificate: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml::signed::{read_signed_response, Want};
    use saml::xml::NAMEID_PERSISTENT;

    /// The fixed instant the tests issue at.
    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
    }

    fn params(signing: SigningOption) -> ResponseParams<'static> {
        let now = at();
        ResponseParams {
            issuer: "https://idp.example.com/t/",
            audience: "https://sp.example.com",
            acs_url: "https://sp.example.com/acs",
            in_response_to: Some("_req1"),
            name_id: NameId::new("opaque-1", NAMEID_PERSISTENT),
            attributes: vec![Attribute::new("Groups", ["g1", "g2"])],
            authn_instant: now,
            session_index: "_s1",
            authn_context: None,
            now,
            signing,
            algorithm: SigningAlgorithm::Sha256,
        }
    }

    #[test]
    fn each_signing_option_signs_what_it_says_and_reads_back() {
        let key = SigningKey::generate(2048).unwrap();
        let cert = Certificate::self_signed(&key, "t", at(), 1).unwrap();
        for (option, want, response_signed, assertion_signed) in [
            (SigningOption::Assertion, Want::SignedAssertion, false, true),
            (SigningOption::Response, Want::SignedResponse, true, false),
            (SigningOption::Both, Want::Both, true, true),
        ] {
            let xml = signed_response(&params(option), &key, &cert).unwrap();
            let r = read_signed_response(&xml, std::slice::from_ref(&cert), want, false).unwrap();
            assert_eq!(
                (r.response_signed, r.assertion_signed),
                (response_signed, assertion_signed),
                "{option:?}"
            );
            let a = r.assertion.unwrap();
            assert_eq!(a.name_id().unwrap().value, "opaque-1");
            assert_eq!(a.attribute_values("Groups"), ["g1", "g2"]);
            assert_eq!(r.response.in_response_to.as_deref(), Some("_req1"));
            let scd = a.subject.unwrap().confirmations[0].data.clone().unwrap();
            assert_eq!(scd.recipient.as_deref(), Some("https://sp.example.com/acs"));
            assert!(a.conditions.unwrap().audience_allowed("https://sp.example.com"));
        }
    }

    /// An app set to SHA-1 gets RSA-SHA1 over a SHA-1 digest, which verifiers accept only
    /// when they allow SHA-1; the default stays SHA-256.
    #[test]
    fn sha1_signing_only_when_set() {
        let key = SigningKey::generate(2048).unwrap();
        let cert = Certificate::self_signed(&key, "t", at(), 1).unwrap();
        let certs = std::slice::from_ref(&cert);
        let default = signed_response(&params(SigningOption::Response), &key, &cert).unwrap();
        assert!(default.contains("xmldsig-more#rsa-sha256") && !default.contains("xmldsig#rsa-sha1"));
        let legacy = ResponseParams { algorithm: SigningAlgorithm::Sha1, ..params(SigningOption::Response) };
        let xml = signed_response(&legacy, &key, &cert).unwrap();
        assert!(xml.contains("http://www.w3.org/2000/09/xmldsig#rsa-sha1"));
        assert!(xml.contains("http://www.w3.org/2000/09/xmldsig#sha1"));
        let refused = read_signed_response(&xml, certs, Want::SignedResponse, false).unwrap_err();
        assert_eq!(refused.code(), "SIG_SHA1_NOT_ALLOWED");
        let r = read_signed_response(&xml, certs, Want::SignedResponse, true).unwrap();
        assert!(r.response_signed);
    }
}
