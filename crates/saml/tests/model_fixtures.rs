//! Realistic, fully populated model values shared by `model_roundtrip.rs` and
//! `xsd_validation.rs` (included there with `#[path]`). As a test target of its own
//! it only checks that the fixtures are internally consistent.
#![allow(dead_code)]

use saml::crypto::Certificate;
use saml::model::*;
use saml::xml::*;
use std::path::PathBuf;
use time::OffsetDateTime;

pub fn t(s: &str) -> OffsetDateTime {
    saml::clock::parse_time("fixture", s).unwrap()
}

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(data(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

pub fn cert(name: &str) -> Certificate {
    Certificate::load(read(&format!("metadata/{name}")).as_bytes()).unwrap()
}

pub const SP: &str = "https://app.example.com/saml/metadata";
pub const ACS: &str = "https://app.example.com/saml/acs";
pub const IDP: &str = "https://idp.portcullis.example/tenant/7f3c";
pub const SSO: &str = "https://idp.portcullis.example/tenant/7f3c/saml2";

pub fn authn_request() -> AuthnRequest {
    AuthnRequest {
        id: "_a8d1d6f0c3b34e6f9d1b2c3d4e5f6a7b8c9d0e1f".into(),
        issue_instant: t("2024-05-06T07:08:09Z"),
        destination: Some(SSO.into()),
        consent: Some("urn:oasis:names:tc:SAML:2.0:consent:current-implicit".into()),
        issuer: Some(SP.into()),
        subject: Some(NameId {
            value: "alice@example.com".into(),
            format: Some(NAMEID_EMAIL.into()),
            ..Default::default()
        }),
        name_id_policy: Some(NameIdPolicy {
            format: Some(NAMEID_PERSISTENT.into()),
            sp_name_qualifier: Some(SP.into()),
            allow_create: Some(true),
        }),
        conditions: Some(Conditions {
            not_before: None,
            not_on_or_after: Some(t("2024-05-06T07:18:09Z")),
            audience_restrictions: vec![vec![SP.into()]],
            one_time_use: false,
            proxy_restriction: None,
        }),
        requested_authn_context: Some(RequestedAuthnContext {
            comparison: Some(AuthnContextComparison::Minimum),
            class_refs: vec![
                AC_PASSWORD_PROTECTED.into(),
                "urn:oasis:names:tc:SAML:2.0:ac:classes:X509".into(),
            ],
        }),
        force_authn: Some(false),
        is_passive: Some(false),
        protocol_binding: Some(BINDING_HTTP_POST.into()),
        assertion_consumer_service_index: None,
        assertion_consumer_service_url: Some(ACS.into()),
        attribute_consuming_service_index: Some(1),
        provider_name: Some("Example App & Co <prod>".into()),
    }
}

pub fn assertion() -> Assertion {
    let name_id = NameId {
        value: "7d3a1f0e-58b2-4b7e-a2b1-9f6d0c1e2a3b".into(),
        format: Some(NAMEID_PERSISTENT.into()),
        name_qualifier: Some(IDP.into()),
        sp_name_qualifier: Some(SP.into()),
        sp_provided_id: Some("alice".into()),
    };
    Assertion {
        id: "_3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e".into(),
        issue_instant: t("2024-05-06T07:08:10Z"),
        issuer: IDP.into(),
        subject: Some(Subject {
            name_id: Some(name_id.clone()),
            encrypted_id: None,
            confirmations: vec![SubjectConfirmation {
                method: CM_BEARER.into(),
                name_id: None,
                data: Some(SubjectConfirmationData {
                    not_before: None,
                    not_on_or_after: Some(t("2024-05-06T07:13:10Z")),
                    recipient: Some(ACS.into()),
                    in_response_to: Some("_a8d1d6f0c3b34e6f9d1b2c3d4e5f6a7b8c9d0e1f".into()),
                    address: Some("203.0.113.7".into()),
                }),
            }],
        }),
        conditions: Some(Conditions {
            not_before: Some(t("2024-05-06T07:03:10Z")),
            not_on_or_after: Some(t("2024-05-06T08:08:10Z")),
            audience_restrictions: vec![vec![SP.into()], vec![SP.into(), "https://other.example.com".into()]],
            one_time_use: true,
            proxy_restriction: Some(ProxyRestriction { count: Some(0), audiences: vec![SP.into()] }),
        }),
        authn_statements: vec![AuthnStatement {
            authn_instant: t("2024-05-06T07:08:00Z"),
            session_index: Some("_be9967abd904ddcae3c0eb4189adbe3f71e327cf93".into()),
            session_not_on_or_after: Some(t("2024-05-06T15:08:10Z")),
            authn_context_class_ref: Some(AC_PASSWORD_PROTECTED.into()),
            authn_context_decl_ref: None,
            subject_locality_address: Some("203.0.113.7".into()),
            subject_locality_dns_name: Some("client.example.net".into()),
        }],
        attributes: vec![
            Attribute {
                name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress".into(),
                name_format: Some(ATTRNAME_URI.into()),
                friendly_name: Some("mail".into()),
                values: vec!["alice@example.com".into()],
                complex_values: vec![],
            },
            Attribute {
                name: "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups".into(),
                name_format: Some(ATTRNAME_URI.into()),
                friendly_name: None,
                values: vec![
                    "0a1b2c3d-0000-4000-8000-000000000001".into(),
                    "0a1b2c3d-0000-4000-8000-000000000002".into(),
                    "0a1b2c3d-0000-4000-8000-000000000003".into(),
                ],
                complex_values: vec![],
            },
            Attribute {
                name: "displayName".into(),
                name_format: Some(ATTRNAME_BASIC.into()),
                friendly_name: None,
                // Characters that need escaping, leading/trailing spaces and an empty value.
                values: vec!["  Alice <O'Brien> & \"Co\"  ".into(), "".into()],
                complex_values: vec![],
            },
        ],
    }
}

pub fn response() -> Response {
    Response {
        id: "_9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b".into(),
        in_response_to: Some("_a8d1d6f0c3b34e6f9d1b2c3d4e5f6a7b8c9d0e1f".into()),
        issue_instant: t("2024-05-06T07:08:10Z"),
        destination: Some(ACS.into()),
        consent: None,
        issuer: Some(IDP.into()),
        status: Status::success(),
        assertions: vec![assertion()],
        encrypted_assertions: vec![],
    }
}

pub fn error_response() -> Response {
    Response {
        status: Status::new(Status::RESPONDER)
            .with_sub_code(Status::AUTHN_FAILED)
            .with_message("The user is not assigned to this application."),
        assertions: vec![],
        ..response()
    }
}

pub fn logout_request() -> LogoutRequest {
    LogoutRequest {
        id: "_5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b".into(),
        issue_instant: t("2024-05-06T09:00:00Z"),
        destination: Some(format!("{IDP}/logout")),
        consent: None,
        issuer: Some(SP.into()),
        name_id: NameId {
            value: "7d3a1f0e-58b2-4b7e-a2b1-9f6d0c1e2a3b".into(),
            format: Some(NAMEID_PERSISTENT.into()),
            name_qualifier: Some(IDP.into()),
            sp_name_qualifier: Some(SP.into()),
            sp_provided_id: None,
        },
        session_indexes: vec!["_be9967abd904ddcae3c0eb4189adbe3f71e327cf93".into(), "_second".into()],
        not_on_or_after: Some(t("2024-05-06T09:05:00Z")),
        reason: Some(LogoutRequest::REASON_USER.into()),
    }
}

pub fn logout_response() -> LogoutResponse {
    LogoutResponse {
        id: "_0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6".into(),
        in_response_to: Some("_5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b".into()),
        issue_instant: t("2024-05-06T09:00:01Z"),
        destination: Some(format!("{SP}/slo")),
        consent: Some("urn:oasis:names:tc:SAML:2.0:consent:unspecified".into()),
        issuer: Some(IDP.into()),
        status: Status::success().with_sub_code(Status::PARTIAL_LOGOUT).with_message("1 of 2 sessions ended"),
    }
}

pub fn organization() -> Organization {
    Organization {
        name: "Example Corp".into(),
        display_name: "Example Corp & Sons".into(),
        url: "https://www.example.com/".into(),
        lang: "en".into(),
    }
}

pub fn contacts() -> Vec<ContactPerson> {
    vec![
        ContactPerson {
            contact_type: ContactType::Technical,
            company: Some("Example Corp".into()),
            given_name: Some("Ada".into()),
            surname: Some("Lovelace".into()),
            emails: vec!["mailto:sso@example.com".into(), "mailto:ada@example.com".into()],
            phones: vec!["+1 555 0101".into()],
        },
        ContactPerson {
            contact_type: ContactType::Support,
            company: None,
            given_name: None,
            surname: None,
            emails: vec!["mailto:help@example.com".into()],
            phones: vec![],
        },
    ]
}

pub fn idp_entity() -> EntityDescriptor {
    EntityDescriptor {
        entity_id: IDP.into(),
        id: Some("_idp-metadata-1".into()),
        valid_until: Some(t("2034-05-06T00:00:00Z")),
        cache_duration: Some("PT6H".into()),
        idp: Some(IdpSsoDescriptor {
            want_authn_requests_signed: true,
            keys: vec![
                KeyDescriptor { usage: KeyUse::Signing, certificate: cert("idp-signing-cert.pem") },
                KeyDescriptor { usage: KeyUse::Encryption, certificate: cert("idp-encryption-cert.pem") },
                KeyDescriptor { usage: KeyUse::Both, certificate: cert("adfs-signing-cert.pem") },
            ],
            name_id_formats: vec![NAMEID_PERSISTENT.into(), NAMEID_EMAIL.into(), NAMEID_TRANSIENT.into()],
            single_sign_on_services: vec![
                Endpoint {
                    binding: BINDING_HTTP_REDIRECT.into(),
                    location: SSO.into(),
                    response_location: None,
                },
                Endpoint { binding: BINDING_HTTP_POST.into(), location: SSO.into(), response_location: None },
            ],
            single_logout_services: vec![Endpoint {
                binding: BINDING_HTTP_REDIRECT.into(),
                location: format!("{IDP}/logout"),
                response_location: Some(format!("{IDP}/logout/response")),
            }],
            error_url: Some("https://idp.portcullis.example/error".into()),
        }),
        sp: None,
        organization: Some(organization()),
        contacts: contacts(),
    }
}

pub fn sp_entity() -> EntityDescriptor {
    EntityDescriptor {
        entity_id: SP.into(),
        id: None,
        valid_until: None,
        cache_duration: Some("P1DT12H".into()),
        idp: None,
        sp: Some(SpSsoDescriptor {
            authn_requests_signed: true,
            want_assertions_signed: true,
            keys: vec![
                KeyDescriptor { usage: KeyUse::Signing, certificate: cert("sp-cert.pem") },
                KeyDescriptor { usage: KeyUse::Encryption, certificate: cert("sp-cert.pem") },
            ],
            name_id_formats: vec![NAMEID_PERSISTENT.into()],
            assertion_consumer_services: vec![
                IndexedEndpoint {
                    binding: BINDING_HTTP_POST.into(),
                    location: ACS.into(),
                    index: 0,
                    is_default: Some(true),
                },
                IndexedEndpoint {
                    binding: BINDING_HTTP_REDIRECT.into(),
                    location: format!("{ACS}/redirect"),
                    index: 1,
                    is_default: None,
                },
                IndexedEndpoint {
                    binding: BINDING_HTTP_POST.into(),
                    location: format!("{ACS}/legacy"),
                    index: 65535,
                    is_default: Some(false),
                },
            ],
            single_logout_services: vec![Endpoint {
                binding: BINDING_HTTP_POST.into(),
                location: format!("{SP}/slo"),
                response_location: None,
            }],
            error_url: None,
        }),
        organization: Some(organization()),
        contacts: contacts(),
    }
}

/// An entity that is both IdP and SP (as AD FS publishes itself).
pub fn dual_entity() -> EntityDescriptor {
    EntityDescriptor { idp: idp_entity().idp, organization: None, contacts: vec![], ..sp_entity() }
}

#[test]
fn fixtures_are_consistent() {
    assert!(response().status.is_success());
    assert!(!error_response().status.is_success());
    assert_eq!(idp_entity().idp.unwrap().signing_certificates().count(), 2);
}
