//! SAML 2.0 metadata (SAML metadata 2.3–2.4): EntityDescriptor with the IdP and SP
//! SSO roles, keys, endpoints, Organization and ContactPerson; EntitiesDescriptor
//! aggregates on input.

use super::{attr, bool_attr, expect_element, found_name, opt_id_attr, parse_root, req_attr, time_attr, Seq};
use crate::clock::format_time;
use crate::crypto::Certificate;
use crate::error::{Error, Result};
use crate::xml::{
    children, describe, is_element, text_content, Limits, XmlWriter, NS_DS, NS_MD, NS_SAML, NS_SAMLP, NS_XML,
};
use roxmltree::Node;
use std::collections::HashSet;
use time::OffsetDateTime;

/// The `protocolSupportEnumeration` entry a role must list to be read.
pub const PROTOCOL_SAML2: &str = NS_SAMLP;

/// One entity (an IdP, an SP, or both) as its metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityDescriptor {
    pub entity_id: String,
    pub id: Option<String>,
    /// The earliest `validUntil` that applies: the entity's own, its SAML 2.0 role
    /// descriptors', and (from [`parse_metadata`]) every enclosing
    /// EntitiesDescriptor's. Metadata past this instant must not be used.
    pub valid_until: Option<OffsetDateTime>,
    /// `cacheDuration`, an `xs:duration` such as `PT6H` (checked for syntax, kept as text).
    pub cache_duration: Option<String>,
    /// The IDPSSODescriptor that supports SAML 2.0, if any.
    pub idp: Option<IdpSsoDescriptor>,
    /// The SPSSODescriptor that supports SAML 2.0, if any.
    pub sp: Option<SpSsoDescriptor>,
    pub organization: Option<Organization>,
    pub contacts: Vec<ContactPerson>,
}

/// `md:IDPSSODescriptor`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdpSsoDescriptor {
    pub want_authn_requests_signed: bool,
    pub keys: Vec<KeyDescriptor>,
    pub name_id_formats: Vec<String>,
    /// At least one when read; write at least one for valid output.
    pub single_sign_on_services: Vec<Endpoint>,
    pub single_logout_services: Vec<Endpoint>,
    pub error_url: Option<String>,
}

/// `md:SPSSODescriptor`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpSsoDescriptor {
    pub authn_requests_signed: bool,
    pub want_assertions_signed: bool,
    pub keys: Vec<KeyDescriptor>,
    pub name_id_formats: Vec<String>,
    /// At least one, with distinct indexes, when read; write at least one.
    pub assertion_consumer_services: Vec<IndexedEndpoint>,
    pub single_logout_services: Vec<Endpoint>,
    pub error_url: Option<String>,
}

/// One key of a role: a `md:KeyDescriptor` with an X.509 certificate. A
/// KeyDescriptor holding several certificates becomes several of these; one holding
/// none (a bare KeyName or KeyValue) is skipped, which can only mean fewer trusted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescriptor {
    pub usage: KeyUse,
    pub certificate: Certificate,
}

/// `KeyDescriptor/@use`; `Both` when the attribute is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    Signing,
    Encryption,
    Both,
}

impl KeyUse {
    pub fn for_signing(self) -> bool {
        matches!(self, KeyUse::Signing | KeyUse::Both)
    }

    pub fn for_encryption(self) -> bool {
        matches!(self, KeyUse::Encryption | KeyUse::Both)
    }
}

/// An endpoint (`md:EndpointType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub binding: String,
    pub location: String,
    pub response_location: Option<String>,
}

/// An indexed endpoint (`md:IndexedEndpointType`), e.g. an AssertionConsumerService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEndpoint {
    pub binding: String,
    pub location: String,
    pub index: u16,
    pub is_default: Option<bool>,
}

/// `md:Organization`, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub name: String,
    pub display_name: String,
    pub url: String,
    /// `xml:lang` of all three, e.g. `en`.
    pub lang: String,
}

/// `md:ContactPerson`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPerson {
    pub contact_type: ContactType,
    pub company: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    /// `mailto:` URIs by convention.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

/// `ContactPerson/@contactType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactType {
    Technical,
    Support,
    Administrative,
    Billing,
    Other,
}

impl ContactType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactType::Technical => "technical",
            ContactType::Support => "support",
            ContactType::Administrative => "administrative",
            ContactType::Billing => "billing",
            ContactType::Other => "other",
        }
    }

    fn parse(what: &str, v: &str) -> Result<Self> {
        Ok(match v {
            "technical" => ContactType::Technical,
            "support" => ContactType::Support,
            "administrative" => ContactType::Administrative,
            "billing" => ContactType::Billing,
            "other" => ContactType::Other,
            _ => {
                return Err(Error::InvalidValue {
                    what: what.to_string(),
                    value: v.to_string(),
                    reason: "must be technical, support, administrative, billing or other".into(),
                })
            }
        })
    }
}

// ---------------------------------------------------------------------------------
// Helpers

impl IndexedEndpoint {
    /// The default endpoint of a list (SAML metadata 2.2.3): the first with
    /// `isDefault="true"`, else the first without `isDefault="false"`, else the first.
    pub fn select_default(endpoints: &[IndexedEndpoint]) -> Option<&IndexedEndpoint> {
        endpoints
            .iter()
            .find(|e| e.is_default == Some(true))
            .or_else(|| endpoints.iter().find(|e| e.is_default.is_none()))
            .or_else(|| endpoints.first())
    }
}

fn certs(keys: &[KeyDescriptor], pred: fn(KeyUse) -> bool) -> impl Iterator<Item = &Certificate> {
    keys.iter().filter(move |k| pred(k.usage)).map(|k| &k.certificate)
}

impl IdpSsoDescriptor {
    /// Certificates usable to verify this IdP's signatures (`use` signing or absent).
    pub fn signing_certificates(&self) -> impl Iterator<Item = &Certificate> {
        certs(&self.keys, KeyUse::for_signing)
    }

    /// Certificates usable to encrypt for this IdP (`use` encryption or absent).
    pub fn encryption_certificates(&self) -> impl Iterator<Item = &Certificate> {
        certs(&self.keys, KeyUse::for_encryption)
    }

    /// The first SingleSignOnService with `binding`.
    pub fn sso_service(&self, binding: &str) -> Option<&Endpoint> {
        self.single_sign_on_services.iter().find(|e| e.binding == binding)
    }

    /// The first SingleLogoutService with `binding`.
    pub fn slo_service(&self, binding: &str) -> Option<&Endpoint> {
        self.single_logout_services.iter().find(|e| e.binding == binding)
    }
}

impl SpSsoDescriptor {
    /// Certificates usable to verify this SP's signatures (`use` signing or absent).
    pub fn signing_certificates(&self) -> impl Iterator<Item = &Certificate> {
        certs(&self.keys, KeyUse::for_signing)
    }

    /// Certificates usable to encrypt for this SP (`use` encryption or absent).
    pub fn encryption_certificates(&self) -> impl Iterator<Item = &Certificate> {
        certs(&self.keys, KeyUse::for_encryption)
    }

    /// The default AssertionConsumerService (SAML metadata 2.2.3).
    pub fn default_acs(&self) -> Option<&IndexedEndpoint> {
        IndexedEndpoint::select_default(&self.assertion_consumer_services)
    }

    /// The default AssertionConsumerService among those with `binding`.
    pub fn default_acs_for(&self, binding: &str) -> Option<&IndexedEndpoint> {
        let with: Vec<IndexedEndpoint> =
            self.assertion_consumer_services.iter().filter(|e| e.binding == binding).cloned().collect();
        let chosen = IndexedEndpoint::select_default(&with)?;
        self.assertion_consumer_services.iter().find(|e| e.index == chosen.index)
    }

    /// The AssertionConsumerService with `index`.
    pub fn acs_by_index(&self, index: u16) -> Option<&IndexedEndpoint> {
        self.assertion_consumer_services.iter().find(|e| e.index == index)
    }

    /// The first SingleLogoutService with `binding`.
    pub fn slo_service(&self, binding: &str) -> Option<&Endpoint> {
        self.single_logout_services.iter().find(|e| e.binding == binding)
    }
}

// ---------------------------------------------------------------------------------
// Reading

/// Parses untrusted metadata (metadata limits): either one `md:EntityDescriptor` or an
/// `md:EntitiesDescriptor` aggregate, nested to any depth. Returns every entity, in
/// document order. An entityID that appears twice is an error.
pub fn parse_metadata(xml: &str) -> Result<Vec<EntityDescriptor>> {
    parse_root(xml, &Limits::METADATA, entities_from_element)
}

/// Reads an `md:EntityDescriptor` or `md:EntitiesDescriptor` element (only inside it),
/// e.g. the one a metadata signature was verified over.
pub fn entities_from_element(node: Node<'_, '_>) -> Result<Vec<EntityDescriptor>> {
    let mut out = Vec::new();
    collect(node, None, &mut out)?;
    let mut seen = HashSet::new();
    for e in &out {
        if !seen.insert(e.entity_id.as_str()) {
            return Err(Error::InvalidValue {
                what: "md:EntitiesDescriptor".into(),
                value: e.entity_id.clone(),
                reason: "this entityID is described twice".into(),
            });
        }
    }
    Ok(out)
}

fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn collect(
    node: Node<'_, '_>,
    valid_until: Option<OffsetDateTime>,
    out: &mut Vec<EntityDescriptor>,
) -> Result<()> {
    if is_element(node, NS_MD, "EntityDescriptor") {
        let mut e = EntityDescriptor::from_element(node)?;
        e.valid_until = earliest(e.valid_until, valid_until);
        out.push(e);
        return Ok(());
    }
    if !is_element(node, NS_MD, "EntitiesDescriptor") {
        return Err(Error::UnexpectedElement {
            expected: "md:EntityDescriptor or md:EntitiesDescriptor".into(),
            found: found_name(node),
        });
    }
    opt_id_attr(node)?;
    duration_attr(node)?;
    let valid_until = earliest(time_attr(node, "validUntil")?, valid_until);
    let mut seq = Seq::new(node)?;
    seq.signature();
    seq.extensions(NS_MD)?;
    let mut any = false;
    while let Some(child) = seq
        .next_if(|n| is_element(n, NS_MD, "EntityDescriptor") || is_element(n, NS_MD, "EntitiesDescriptor"))
    {
        collect(child, valid_until, out)?;
        any = true;
    }
    if !any {
        return Err(seq.missing("md:EntityDescriptor"));
    }
    seq.end()
}

fn duration_attr(node: Node<'_, '_>) -> Result<Option<String>> {
    let Some(v) = node.attribute("cacheDuration") else { return Ok(None) };
    if !is_duration(v) {
        return Err(Error::InvalidValue {
            what: format!("{} attribute cacheDuration", describe(node)),
            value: v.to_string(),
            reason: "not an xs:duration such as PT6H or P1D".into(),
        });
    }
    Ok(Some(v.to_string()))
}

/// The `xs:duration` lexical form: `-?PnYnMnDTnHnMnS` with at least one component,
/// and at least one after `T` when `T` is present; only seconds may have a fraction.
fn is_duration(v: &str) -> bool {
    fn components(mut s: &str, mut units: &str, frac_unit: Option<char>) -> Option<usize> {
        let mut count = 0;
        while !s.is_empty() {
            let num_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
            let num = &s[..num_end];
            let unit = s[num_end..].chars().next()?;
            let pos = units.find(unit)?;
            units = &units[pos + 1..];
            let ok = match num.split_once('.') {
                None => !num.is_empty(),
                Some((a, b)) => Some(unit) == frac_unit && !a.is_empty() && !b.is_empty() && !b.contains('.'),
            };
            if !ok {
                return None;
            }
            count += 1;
            s = &s[num_end + unit.len_utf8()..];
        }
        Some(count)
    }
    let s = v.strip_prefix('-').unwrap_or(v);
    let Some(s) = s.strip_prefix('P') else { return false };
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let Some(d) = components(date, "YMD", None) else { return false };
    match time {
        None => d > 0,
        Some(t) => matches!(components(t, "HMS", Some('S')), Some(n) if n > 0),
    }
}

fn supports_saml2(node: Node<'_, '_>) -> Result<bool> {
    let v = crate::xml::required_attr(node, "protocolSupportEnumeration")?;
    Ok(v.split([' ', '\t', '\n', '\r']).any(|p| p == PROTOCOL_SAML2))
}

impl EntityDescriptor {
    /// Reads an `md:EntityDescriptor` element (only inside it).
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_MD, "EntityDescriptor")?;
        let entity_id = req_attr(node, "entityID")?;
        if entity_id.is_empty() || entity_id.chars().count() > 1024 {
            return Err(Error::InvalidValue {
                what: format!("{} attribute entityID", describe(node)),
                value: entity_id.chars().take(80).collect(),
                reason: "an entityID is a URI of 1 to 1024 characters".into(),
            });
        }
        let mut e = EntityDescriptor {
            entity_id,
            id: opt_id_attr(node)?,
            valid_until: time_attr(node, "validUntil")?,
            cache_duration: duration_attr(node)?,
            idp: None,
            sp: None,
            organization: None,
            contacts: Vec::new(),
        };

        let mut seq = Seq::new(node)?;
        seq.signature();
        seq.extensions(NS_MD)?;
        const ROLES: [&str; 6] = [
            "RoleDescriptor",
            "IDPSSODescriptor",
            "SPSSODescriptor",
            "AuthnAuthorityDescriptor",
            "AttributeAuthorityDescriptor",
            "PDPDescriptor",
        ];
        let mut roles = 0;
        while let Some(role) = seq.next_if(|n| ROLES.iter().any(|r| is_element(n, NS_MD, r))) {
            roles += 1;
            let twice = || Error::InvalidValue {
                what: describe(node),
                value: describe(role),
                reason: "more than one SAML 2.0 descriptor of this kind; which one applies is ambiguous"
                    .into(),
            };
            match role.tag_name().name() {
                "IDPSSODescriptor" if supports_saml2(role)? => {
                    if e.idp.is_some() {
                        return Err(twice());
                    }
                    let (d, vu) = IdpSsoDescriptor::from_element(role)?;
                    e.valid_until = earliest(e.valid_until, vu);
                    e.idp = Some(d);
                }
                "SPSSODescriptor" if supports_saml2(role)? => {
                    if e.sp.is_some() {
                        return Err(twice());
                    }
                    let (d, vu) = SpSsoDescriptor::from_element(role)?;
                    e.valid_until = earliest(e.valid_until, vu);
                    e.sp = Some(d);
                }
                // Other roles (attribute authorities, WS-Federation RoleDescriptors with
                // xsi:type, ...) and roles for other protocols are skipped.
                _ => {}
            }
        }
        if roles == 0 && seq.opt(NS_MD, "AffiliationDescriptor").is_none() {
            return Err(seq.missing("md:IDPSSODescriptor or md:SPSSODescriptor"));
        }
        e.organization = seq.opt(NS_MD, "Organization").map(read_organization).transpose()?;
        e.contacts = seq.many(NS_MD, "ContactPerson").into_iter().map(read_contact).collect::<Result<_>>()?;
        seq.many(NS_MD, "AdditionalMetadataLocation");
        seq.end()?;
        Ok(e)
    }

    /// Parses untrusted XML whose root is one `md:EntityDescriptor` (metadata limits).
    /// Use [`parse_metadata`] to accept aggregates too.
    pub fn parse(xml: &str) -> Result<Self> {
        parse_root(xml, &Limits::METADATA, Self::from_element)
    }

    /// Serialises the entity; the root declares `xmlns:md` and `xmlns:ds`.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("md:EntityDescriptor")
            .attr("xmlns:md", NS_MD)
            .attr("xmlns:ds", NS_DS)
            .attr("entityID", &self.entity_id)
            .opt_attr("ID", self.id.as_deref());
        if let Some(t) = self.valid_until {
            w.attr("validUntil", &format_time(t));
        }
        w.opt_attr("cacheDuration", self.cache_duration.as_deref());
        if let Some(idp) = &self.idp {
            w.start("md:IDPSSODescriptor")
                .attr("protocolSupportEnumeration", PROTOCOL_SAML2)
                .opt_attr("errorURL", idp.error_url.as_deref())
                .attr("WantAuthnRequestsSigned", bool_str(idp.want_authn_requests_signed));
            write_keys(&mut w, &idp.keys);
            write_endpoints(&mut w, "md:SingleLogoutService", &idp.single_logout_services);
            write_formats(&mut w, &idp.name_id_formats);
            write_endpoints(&mut w, "md:SingleSignOnService", &idp.single_sign_on_services);
            w.end();
        }
        if let Some(sp) = &self.sp {
            w.start("md:SPSSODescriptor")
                .attr("protocolSupportEnumeration", PROTOCOL_SAML2)
                .opt_attr("errorURL", sp.error_url.as_deref())
                .attr("AuthnRequestsSigned", bool_str(sp.authn_requests_signed))
                .attr("WantAssertionsSigned", bool_str(sp.want_assertions_signed));
            write_keys(&mut w, &sp.keys);
            write_endpoints(&mut w, "md:SingleLogoutService", &sp.single_logout_services);
            write_formats(&mut w, &sp.name_id_formats);
            for acs in &sp.assertion_consumer_services {
                w.start("md:AssertionConsumerService")
                    .attr("Binding", &acs.binding)
                    .attr("Location", &acs.location)
                    .attr("index", &acs.index.to_string());
                if let Some(d) = acs.is_default {
                    w.attr("isDefault", bool_str(d));
                }
                w.end();
            }
            w.end();
        }
        if let Some(o) = &self.organization {
            w.start("md:Organization");
            for (el, text) in [
                ("md:OrganizationName", &o.name),
                ("md:OrganizationDisplayName", &o.display_name),
                ("md:OrganizationURL", &o.url),
            ] {
                w.start(el).attr("xml:lang", &o.lang).text(text).end();
            }
            w.end();
        }
        for c in &self.contacts {
            w.start("md:ContactPerson").attr("contactType", c.contact_type.as_str());
            for (el, v) in
                [("md:Company", &c.company), ("md:GivenName", &c.given_name), ("md:SurName", &c.surname)]
            {
                if let Some(v) = v {
                    w.leaf(el, v);
                }
            }
            for e in &c.emails {
                w.leaf("md:EmailAddress", e);
            }
            for p in &c.phones {
                w.leaf("md:TelephoneNumber", p);
            }
            w.end();
        }
        w.finish()
    }
}

fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn write_keys(w: &mut XmlWriter, keys: &[KeyDescriptor]) {
    for k in keys {
        w.start("md:KeyDescriptor");
        match k.usage {
            KeyUse::Signing => {
                w.attr("use", "signing");
            }
            KeyUse::Encryption => {
                w.attr("use", "encryption");
            }
            KeyUse::Both => {}
        }
        w.start("ds:KeyInfo").start("ds:X509Data");
        w.leaf("ds:X509Certificate", &k.certificate.to_base64());
        w.end().end().end();
    }
}

fn write_endpoints(w: &mut XmlWriter, el: &str, endpoints: &[Endpoint]) {
    for e in endpoints {
        w.start(el)
            .attr("Binding", &e.binding)
            .attr("Location", &e.location)
            .opt_attr("ResponseLocation", e.response_location.as_deref())
            .end();
    }
}

fn write_formats(w: &mut XmlWriter, formats: &[String]) {
    for f in formats {
        w.leaf("md:NameIDFormat", f);
    }
}

/// What every SSO role has (RoleDescriptorType + SSODescriptorType).
struct SsoCommon {
    keys: Vec<KeyDescriptor>,
    single_logout_services: Vec<Endpoint>,
    name_id_formats: Vec<String>,
    error_url: Option<String>,
    valid_until: Option<OffsetDateTime>,
}

fn read_sso_common(node: Node<'_, '_>, seq: &mut Seq<'_, '_>) -> Result<SsoCommon> {
    opt_id_attr(node)?;
    duration_attr(node)?;
    let valid_until = time_attr(node, "validUntil")?;
    seq.signature();
    seq.extensions(NS_MD)?;
    let mut keys = Vec::new();
    for kd in seq.many(NS_MD, "KeyDescriptor") {
        keys.extend(read_key_descriptor(kd)?);
    }
    if let Some(o) = seq.opt(NS_MD, "Organization") {
        read_organization(o)?;
    }
    for c in seq.many(NS_MD, "ContactPerson") {
        read_contact(c)?;
    }
    seq.many(NS_MD, "ArtifactResolutionService");
    let single_logout_services =
        seq.many(NS_MD, "SingleLogoutService").into_iter().map(read_endpoint).collect::<Result<_>>()?;
    seq.many(NS_MD, "ManageNameIDService");
    let name_id_formats =
        seq.many(NS_MD, "NameIDFormat").into_iter().map(text_content).collect::<Result<_>>()?;
    Ok(SsoCommon {
        keys,
        single_logout_services,
        name_id_formats,
        error_url: attr(node, "errorURL"),
        valid_until,
    })
}

impl IdpSsoDescriptor {
    fn from_element(node: Node<'_, '_>) -> Result<(Self, Option<OffsetDateTime>)> {
        let mut seq = Seq::new(node)?;
        let common = read_sso_common(node, &mut seq)?;
        let sso = seq.many1(NS_MD, "SingleSignOnService")?;
        let single_sign_on_services = sso.into_iter().map(read_endpoint).collect::<Result<_>>()?;
        seq.many(NS_MD, "NameIDMappingService");
        seq.many(NS_MD, "AssertionIDRequestService");
        seq.many(NS_MD, "AttributeProfile");
        seq.many(NS_SAML, "Attribute");
        seq.end()?;
        let d = IdpSsoDescriptor {
            want_authn_requests_signed: bool_attr(node, "WantAuthnRequestsSigned")?.unwrap_or(false),
            keys: common.keys,
            name_id_formats: common.name_id_formats,
            single_sign_on_services,
            single_logout_services: common.single_logout_services,
            error_url: common.error_url,
        };
        Ok((d, common.valid_until))
    }
}

impl SpSsoDescriptor {
    fn from_element(node: Node<'_, '_>) -> Result<(Self, Option<OffsetDateTime>)> {
        let mut seq = Seq::new(node)?;
        let common = read_sso_common(node, &mut seq)?;
        let acs = seq.many1(NS_MD, "AssertionConsumerService")?;
        let assertion_consumer_services: Vec<IndexedEndpoint> =
            acs.into_iter().map(read_indexed_endpoint).collect::<Result<_>>()?;
        seq.many(NS_MD, "AttributeConsumingService");
        seq.end()?;
        let mut seen = HashSet::new();
        for a in &assertion_consumer_services {
            if !seen.insert(a.index) {
                return Err(Error::InvalidValue {
                    what: format!("{} md:AssertionConsumerService index", describe(node)),
                    value: a.index.to_string(),
                    reason: "two AssertionConsumerServices share this index".into(),
                });
            }
        }
        let d = SpSsoDescriptor {
            authn_requests_signed: bool_attr(node, "AuthnRequestsSigned")?.unwrap_or(false),
            want_assertions_signed: bool_attr(node, "WantAssertionsSigned")?.unwrap_or(false),
            keys: common.keys,
            name_id_formats: common.name_id_formats,
            assertion_consumer_services,
            single_logout_services: common.single_logout_services,
            error_url: common.error_url,
        };
        Ok((d, common.valid_until))
    }
}

fn read_key_descriptor(node: Node<'_, '_>) -> Result<Vec<KeyDescriptor>> {
    let usage = match node.attribute("use") {
        None => KeyUse::Both,
        Some("signing") => KeyUse::Signing,
        Some("encryption") => KeyUse::Encryption,
        Some(v) => {
            return Err(Error::InvalidValue {
                what: format!("{} attribute use", describe(node)),
                value: v.to_string(),
                reason: "must be signing or encryption".into(),
            })
        }
    };
    let mut seq = Seq::new(node)?;
    let key_info = seq.req(NS_DS, "KeyInfo")?;
    seq.many(NS_MD, "EncryptionMethod");
    seq.end()?;
    let mut out = Vec::new();
    for data in children(key_info, NS_DS, "X509Data") {
        for cert in children(data, NS_DS, "X509Certificate") {
            // A certificate we cannot read is an error, not a skipped key: skipping an
            // encryption key could make a peer fall back to sending plaintext.
            out.push(KeyDescriptor { usage, certificate: Certificate::from_base64(&text_content(cert)?)? });
        }
    }
    Ok(out)
}

fn read_endpoint(node: Node<'_, '_>) -> Result<Endpoint> {
    // Endpoint content is `##other` extension elements; not read.
    Ok(Endpoint {
        binding: req_attr(node, "Binding")?,
        location: req_attr(node, "Location")?,
        response_location: attr(node, "ResponseLocation"),
    })
}

fn read_indexed_endpoint(node: Node<'_, '_>) -> Result<IndexedEndpoint> {
    let index_text = crate::xml::required_attr(node, "index")?;
    let index =
        super::parse_unsigned(&format!("{} attribute index", describe(node)), index_text, "unsignedShort")?;
    Ok(IndexedEndpoint {
        binding: req_attr(node, "Binding")?,
        location: req_attr(node, "Location")?,
        index,
        is_default: bool_attr(node, "isDefault")?,
    })
}

fn lang_of<'a>(node: Node<'a, '_>) -> Result<&'a str> {
    node.attribute((NS_XML, "lang"))
        .ok_or_else(|| Error::MissingAttribute { element: describe(node), attribute: "xml:lang".into() })
}

/// Reads Organization in one language: that of the first OrganizationName, with the
/// display name and URL in the same language when given in it (else the first).
fn read_organization(node: Node<'_, '_>) -> Result<Organization> {
    let mut seq = Seq::new(node)?;
    seq.extensions(NS_MD)?;
    let names = seq.many1(NS_MD, "OrganizationName")?;
    let displays = seq.many1(NS_MD, "OrganizationDisplayName")?;
    let urls = seq.many1(NS_MD, "OrganizationURL")?;
    seq.end()?;
    for n in names.iter().chain(&displays).chain(&urls) {
        lang_of(*n)?;
    }
    let lang = lang_of(names[0])?.to_string();
    let pick = |list: &[Node<'_, '_>]| -> Result<String> {
        let n =
            list.iter().find(|n| n.attribute((NS_XML, "lang")) == Some(lang.as_str())).unwrap_or(&list[0]);
        text_content(*n)
    };
    Ok(Organization { name: pick(&names)?, display_name: pick(&displays)?, url: pick(&urls)?, lang })
}

fn read_contact(node: Node<'_, '_>) -> Result<ContactPerson> {
    let contact_type = ContactType::parse(
        &format!("{} attribute contactType", describe(node)),
        crate::xml::required_attr(node, "contactType")?,
    )?;
    let mut seq = Seq::new(node)?;
    seq.extensions(NS_MD)?;
    let text = |n: Option<Node<'_, '_>>| n.map(text_content).transpose();
    let company = text(seq.opt(NS_MD, "Company"))?;
    let given_name = text(seq.opt(NS_MD, "GivenName"))?;
    let surname = text(seq.opt(NS_MD, "SurName"))?;
    let emails = seq.many(NS_MD, "EmailAddress").into_iter().map(text_content).collect::<Result<_>>()?;
    let phones = seq.many(NS_MD, "TelephoneNumber").into_iter().map(text_content).collect::<Result<_>>()?;
    seq.end()?;
    Ok(ContactPerson { contact_type, company, given_name, surname, emails, phones })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["PT6H", "P1D", "-P1Y2M3DT4H5M6.5S", "PT0S", "P0Y", "PT1M"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "P", "PT", "6H", "P1H", "PT1D", "P1.5D", "PT1.S", "P1D1Y", "PT1H1H", "P-1D", "pt6h"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    fn ep(index: u16, is_default: Option<bool>) -> IndexedEndpoint {
        IndexedEndpoint { binding: "b".into(), location: format!("https://sp/{index}"), index, is_default }
    }

    #[test]
    fn default_endpoint_follows_metadata_2_2_3() {
        assert_eq!(IndexedEndpoint::select_default(&[]), None);
        let l = [ep(1, Some(false)), ep(2, None), ep(3, Some(true))];
        assert_eq!(IndexedEndpoint::select_default(&l).unwrap().index, 3);
        let l = [ep(1, Some(false)), ep(2, None), ep(3, None)];
        assert_eq!(IndexedEndpoint::select_default(&l).unwrap().index, 2);
        let l = [ep(5, Some(false)), ep(6, Some(false))];
        assert_eq!(IndexedEndpoint::select_default(&l).unwrap().index, 5);
    }
}
