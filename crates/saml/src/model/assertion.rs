//! `saml:Assertion` (SAML core 2.3–2.7) and the parts of it SSO relies on.

use super::{
    attr, check_version, expect_element, found_name, id_attr, opt_time_attr, parse_bool, parse_issuer,
    parse_root, parse_unsigned, req_attr, req_time_attr, standalone_xml, time_attr, write_issuer, NameId,
    Seq,
};
use crate::clock::{check_window, format_time};
use crate::error::{Error, Result};
use crate::xml::{describe, is_element, text_content, Limits, XmlWriter, NS_SAML, NS_XS, NS_XSI};
use roxmltree::Node;
use time::{Duration, OffsetDateTime};

/// A SAML assertion: who (Subject), under which conditions, and what is stated.
///
/// Only the assertion's own statements are read; assertions nested in `saml:Advice`
/// are skipped and never surface here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub id: String,
    pub issue_instant: OffsetDateTime,
    /// The asserting party's entity ID.
    pub issuer: String,
    /// Optional in the schema; required by the SSO profile (the SP checks that).
    pub subject: Option<Subject>,
    pub conditions: Option<Conditions>,
    pub authn_statements: Vec<AuthnStatement>,
    /// Every `saml:Attribute` of every `saml:AttributeStatement`, in document order.
    /// Written back as one AttributeStatement.
    pub attributes: Vec<Attribute>,
}

/// `saml:Subject`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    pub name_id: Option<NameId>,
    /// A `saml:EncryptedID`, kept as self-contained XML (see
    /// [`Response::encrypted_assertions`](super::Response::encrypted_assertions)) until
    /// decryption exists. At most one of `name_id` and `encrypted_id` is set.
    pub encrypted_id: Option<String>,
    pub confirmations: Vec<SubjectConfirmation>,
}

/// `saml:SubjectConfirmation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectConfirmation {
    /// For browser SSO, [`crate::xml::CM_BEARER`].
    pub method: String,
    pub name_id: Option<NameId>,
    pub data: Option<SubjectConfirmationData>,
}

/// `saml:SubjectConfirmationData`. Element content (the holder-of-key `ds:KeyInfo`)
/// is not read, so only bearer confirmation can be checked with this type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectConfirmationData {
    pub not_before: Option<OffsetDateTime>,
    pub not_on_or_after: Option<OffsetDateTime>,
    pub recipient: Option<String>,
    pub in_response_to: Option<String>,
    pub address: Option<String>,
}

/// `saml:Conditions`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conditions {
    pub not_before: Option<OffsetDateTime>,
    pub not_on_or_after: Option<OffsetDateTime>,
    /// One entry per `AudienceRestriction`, each the list of its `Audience` values.
    /// The assertion is for an audience only when *every* restriction lists it.
    pub audience_restrictions: Vec<Vec<String>>,
    pub one_time_use: bool,
    pub proxy_restriction: Option<ProxyRestriction>,
}

/// `saml:ProxyRestriction`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyRestriction {
    pub count: Option<u32>,
    pub audiences: Vec<String>,
}

/// `saml:AuthnStatement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnStatement {
    pub authn_instant: OffsetDateTime,
    pub session_index: Option<String>,
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// `AuthnContext/AuthnContextClassRef`, e.g. [`crate::xml::AC_PASSWORD_PROTECTED`].
    pub authn_context_class_ref: Option<String>,
    /// `AuthnContext/AuthnContextDeclRef`. When neither this nor the class ref is
    /// set, the writer emits the class ref [`crate::xml::AC_UNSPECIFIED`], because
    /// the schema wants one of them.
    pub authn_context_decl_ref: Option<String>,
    pub subject_locality_address: Option<String>,
    pub subject_locality_dns_name: Option<String>,
}

/// `saml:Attribute`, multi-valued.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attribute {
    pub name: String,
    pub name_format: Option<String>,
    pub friendly_name: Option<String>,
    /// The simple values, in document order: each `AttributeValue` without element
    /// children, its text joined across comments and CDATA. `xsi:nil="true"` reads as
    /// the empty string. Values are written with `xsi:type="xs:string"`.
    pub values: Vec<String>,
    /// Values whose content has elements (say a `saml:NameID` in
    /// eduPersonTargetedID): each is the whole `saml:AttributeValue` element as
    /// self-contained XML. They are kept apart from `values` on purpose, so that XML
    /// can never be mistaken for a plain string value; they are written back after
    /// the simple values.
    pub complex_values: Vec<String>,
}

impl Attribute {
    /// An attribute with a URI name format and string values.
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Attribute {
            name: name.into(),
            name_format: Some(crate::xml::ATTRNAME_URI.to_string()),
            values: values.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    fn from_element(node: Node<'_, '_>) -> Result<Self> {
        let name = req_attr(node, "Name")?;
        if name.is_empty() {
            return Err(Error::InvalidValue {
                what: format!("{} attribute Name", describe(node)),
                value: name,
                reason: "an attribute needs a name".into(),
            });
        }
        let mut seq = Seq::new(node)?;
        let mut values = Vec::new();
        let mut complex_values = Vec::new();
        for v in seq.many(NS_SAML, "AttributeValue") {
            let nil = match v.attribute((NS_XSI, "nil")) {
                Some(n) => parse_bool(&format!("{} attribute xsi:nil", describe(v)), n)?,
                None => false,
            };
            if nil {
                if v.children().any(|c| c.is_element() || (c.is_text() && !c.text().unwrap_or("").is_empty()))
                {
                    return Err(Error::InvalidValue {
                        what: describe(v),
                        value: String::new(),
                        reason: "an AttributeValue with xsi:nil=\"true\" must be empty".into(),
                    });
                }
                values.push(String::new());
            } else if v.children().any(|c| c.is_element()) {
                complex_values.push(standalone_xml(v));
            } else {
                values.push(text_content(v)?);
            }
        }
        seq.end()?;
        Ok(Attribute {
            name,
            name_format: attr(node, "NameFormat"),
            friendly_name: attr(node, "FriendlyName"),
            values,
            complex_values,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.start("saml:Attribute")
            .attr("Name", &self.name)
            .opt_attr("NameFormat", self.name_format.as_deref())
            .opt_attr("FriendlyName", self.friendly_name.as_deref());
        for v in &self.values {
            w.start("saml:AttributeValue")
                .attr("xmlns:xs", NS_XS)
                .attr("xmlns:xsi", NS_XSI)
                .attr("xsi:type", "xs:string")
                .text(v)
                .end();
        }
        for raw in &self.complex_values {
            w.raw(raw);
        }
        w.end();
    }
}

impl Assertion {
    /// Reads a `saml:Assertion` element (only inside it).
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_SAML, "Assertion")?;
        check_version(node)?;
        let id = id_attr(node)?;
        let issue_instant = req_time_attr(node, "IssueInstant")?;

        let mut seq = Seq::new(node)?;
        let issuer = parse_issuer(seq.req(NS_SAML, "Issuer")?)?;
        seq.signature();
        let subject = seq.opt(NS_SAML, "Subject").map(Subject::from_element).transpose()?;
        let conditions = seq.opt(NS_SAML, "Conditions").map(Conditions::from_element).transpose()?;
        // Advice may carry other assertions (even signed ones); they are evidence for
        // this one, not statements of it, and are deliberately not read.
        if let Some(advice) = seq.opt(NS_SAML, "Advice") {
            super::no_direct_signature(advice)?;
        }
        let mut authn_statements = Vec::new();
        let mut attributes = Vec::new();
        let mut statements = 0usize;
        while let Some(st) = seq.next_if(|n| {
            ["Statement", "AuthnStatement", "AuthzDecisionStatement", "AttributeStatement"]
                .iter()
                .any(|l| is_element(n, NS_SAML, l))
        }) {
            statements += 1;
            match st.tag_name().name() {
                "AuthnStatement" => authn_statements.push(AuthnStatement::from_element(st)?),
                "AttributeStatement" => {
                    let mut s = Seq::new(st)?;
                    let mut any = false;
                    while let Some(a) = s.opt(NS_SAML, "Attribute") {
                        attributes.push(Attribute::from_element(a)?);
                        any = true;
                    }
                    if !any {
                        return Err(s.missing("saml:Attribute"));
                    }
                    // EncryptedAttribute is not supported: refusing it is safer than
                    // silently dropping attributes a policy may depend on.
                    s.end()?;
                }
                // Authorization decisions and extension statements carry nothing SSO
                // uses; skipping them grants nothing.
                _ => {}
            }
        }
        seq.end()?;
        if statements == 0 && subject.is_none() {
            return Err(Error::MissingElement { parent: describe(node), child: "saml:Subject".into() });
        }
        Ok(Assertion { id, issue_instant, issuer, subject, conditions, authn_statements, attributes })
    }

    /// Parses untrusted XML whose root is a `saml:Assertion`.
    pub fn parse(xml: &str) -> Result<Self> {
        parse_root(xml, &Limits::MESSAGE, Self::from_element)
    }

    /// The first attribute named `name` (compared exactly with `Name`).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Every simple value of every attribute named `name` (an IdP may split one
    /// attribute over several elements).
    pub fn attribute_values(&self, name: &str) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == name)
            .flat_map(|a| a.values.iter().map(String::as_str))
            .collect()
    }

    /// The subject's NameID, if it has a plain one.
    pub fn name_id(&self) -> Option<&NameId> {
        self.subject.as_ref().and_then(|s| s.name_id.as_ref())
    }

    /// Serialises the assertion; the root declares `xmlns:saml`.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        self.write(&mut w);
        w.finish()
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.start("saml:Assertion")
            .attr("xmlns:saml", NS_SAML)
            .attr("ID", &self.id)
            .attr("Version", "2.0")
            .attr("IssueInstant", &format_time(self.issue_instant));
        write_issuer(w, &self.issuer);
        if let Some(s) = &self.subject {
            s.write(w);
        }
        if let Some(c) = &self.conditions {
            c.write(w);
        }
        for st in &self.authn_statements {
            st.write(w);
        }
        if !self.attributes.is_empty() {
            w.start("saml:AttributeStatement");
            for a in &self.attributes {
                a.write(w);
            }
            w.end();
        }
        w.end();
    }
}

impl Subject {
    fn from_element(node: Node<'_, '_>) -> Result<Self> {
        let mut seq = Seq::new(node)?;
        let (name_id, encrypted_id) = read_identifier(&mut seq, true)?;
        let confirmations =
            seq.many(NS_SAML, "SubjectConfirmation").into_iter().map(SubjectConfirmation::from_element);
        let confirmations = confirmations.collect::<Result<Vec<_>>>()?;
        seq.end()?;
        if name_id.is_none() && encrypted_id.is_none() && confirmations.is_empty() {
            return Err(Error::MissingElement { parent: describe(node), child: "saml:NameID".into() });
        }
        Ok(Subject { name_id, encrypted_id, confirmations })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.start("saml:Subject");
        if let Some(n) = &self.name_id {
            n.write(w);
        } else if let Some(raw) = &self.encrypted_id {
            w.raw(raw);
        }
        for c in &self.confirmations {
            c.write(w);
        }
        w.end();
    }
}

/// The optional `(BaseID | NameID | EncryptedID)` choice. BaseID (abstract, needs an
/// xsi:type we cannot understand) is refused; EncryptedID is refused unless allowed.
fn read_identifier(seq: &mut Seq<'_, '_>, allow_encrypted: bool) -> Result<(Option<NameId>, Option<String>)> {
    if let Some(n) = seq.opt(NS_SAML, "NameID") {
        return Ok((Some(NameId::from_element(n)?), None));
    }
    if allow_encrypted {
        if let Some(e) = seq.opt(NS_SAML, "EncryptedID") {
            return Ok((None, Some(standalone_xml(e))));
        }
    }
    if let Some(n) =
        seq.peek().filter(|n| is_element(*n, NS_SAML, "BaseID") || is_element(*n, NS_SAML, "EncryptedID"))
    {
        return Err(Error::UnexpectedElement { expected: "saml:NameID".into(), found: found_name(n) });
    }
    Ok((None, None))
}

impl SubjectConfirmation {
    fn from_element(node: Node<'_, '_>) -> Result<Self> {
        let method = req_attr(node, "Method")?;
        let mut seq = Seq::new(node)?;
        let (name_id, _) = read_identifier(&mut seq, false)?;
        let data = seq.opt(NS_SAML, "SubjectConfirmationData").map(SubjectConfirmationData::from_element);
        let data = data.transpose()?;
        seq.end()?;
        Ok(SubjectConfirmation { method, name_id, data })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.start("saml:SubjectConfirmation").attr("Method", &self.method);
        if let Some(n) = &self.name_id {
            n.write(w);
        }
        if let Some(d) = &self.data {
            d.write(w);
        }
        w.end();
    }
}

impl SubjectConfirmationData {
    fn from_element(node: Node<'_, '_>) -> Result<Self> {
        // Content is `any` (mixed): the holder-of-key KeyInfo and extensions; not read.
        Ok(SubjectConfirmationData {
            not_before: time_attr(node, "NotBefore")?,
            not_on_or_after: time_attr(node, "NotOnOrAfter")?,
            recipient: attr(node, "Recipient"),
            in_response_to: attr(node, "InResponseTo"),
            address: attr(node, "Address"),
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.start("saml:SubjectConfirmationData");
        opt_time_attr(w, "NotBefore", self.not_before);
        opt_time_attr(w, "NotOnOrAfter", self.not_on_or_after);
        w.opt_attr("Recipient", self.recipient.as_deref())
            .opt_attr("InResponseTo", self.in_response_to.as_deref())
            .opt_attr("Address", self.address.as_deref())
            .end();
    }

    /// Checks `now` against `[NotBefore, NotOnOrAfter)` with `skew` on both ends.
    pub fn check_time(&self, now: OffsetDateTime, skew: Duration) -> Result<()> {
        check_window("SubjectConfirmationData", self.not_before, self.not_on_or_after, now, skew)
    }
}

impl Conditions {
    pub(crate) fn from_element(node: Node<'_, '_>) -> Result<Self> {
        let mut c = Conditions {
            not_before: time_attr(node, "NotBefore")?,
            not_on_or_after: time_attr(node, "NotOnOrAfter")?,
            ..Default::default()
        };
        let mut seq = Seq::new(node)?;
        let once = |what: &str| Error::InvalidValue {
            what: describe(node),
            value: what.to_string(),
            reason: format!("{what} may appear at most once (SAML core 2.5.1.5, 2.5.1.6)"),
        };
        while let Some(child) = seq.peek() {
            if is_element(child, NS_SAML, "AudienceRestriction") {
                c.audience_restrictions.push(read_audiences(child, true)?);
            } else if is_element(child, NS_SAML, "OneTimeUse") {
                if c.one_time_use {
                    return Err(once("saml:OneTimeUse"));
                }
                Seq::new(child)?.end()?;
                c.one_time_use = true;
            } else if is_element(child, NS_SAML, "ProxyRestriction") {
                if c.proxy_restriction.is_some() {
                    return Err(once("saml:ProxyRestriction"));
                }
                let count = child
                    .attribute("Count")
                    .map(|v| parse_unsigned(&format!("{} attribute Count", describe(child)), v, "integer"))
                    .transpose()?;
                c.proxy_restriction =
                    Some(ProxyRestriction { count, audiences: read_audiences(child, false)? });
            } else {
                // Includes the abstract saml:Condition: a condition we do not understand
                // makes the assertion Indeterminate (core 2.5.1), so it is refused.
                return Err(seq.missing("saml:AudienceRestriction, saml:OneTimeUse or saml:ProxyRestriction"));
            }
            seq.next_if(|_| true);
        }
        Ok(c)
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.start("saml:Conditions");
        opt_time_attr(w, "NotBefore", self.not_before);
        opt_time_attr(w, "NotOnOrAfter", self.not_on_or_after);
        for r in &self.audience_restrictions {
            w.start("saml:AudienceRestriction");
            for a in r {
                w.leaf("saml:Audience", a);
            }
            w.end();
        }
        if self.one_time_use {
            w.start("saml:OneTimeUse").end();
        }
        if let Some(p) = &self.proxy_restriction {
            w.start("saml:ProxyRestriction");
            if let Some(c) = p.count {
                w.attr("Count", &c.to_string());
            }
            for a in &p.audiences {
                w.leaf("saml:Audience", a);
            }
            w.end();
        }
        w.end();
    }

    /// Checks `now` against `[NotBefore, NotOnOrAfter)` with `skew` on both ends.
    pub fn check_time(&self, now: OffsetDateTime, skew: Duration) -> Result<()> {
        check_window("Conditions", self.not_before, self.not_on_or_after, now, skew)
    }

    /// True when every AudienceRestriction lists `audience` (SAML core 2.5.1.4:
    /// restrictions are ANDed, the audiences inside one are ORed). No restriction at
    /// all is true; an SP that requires one checks `audience_restrictions` itself.
    pub fn audience_allowed(&self, audience: &str) -> bool {
        self.audience_restrictions.iter().all(|r| r.iter().any(|a| a == audience))
    }
}

/// The `Audience` children of an AudienceRestriction (one or more) or a
/// ProxyRestriction (zero or more).
fn read_audiences(node: Node<'_, '_>, at_least_one: bool) -> Result<Vec<String>> {
    let mut seq = Seq::new(node)?;
    let nodes = if at_least_one { seq.many1(NS_SAML, "Audience")? } else { seq.many(NS_SAML, "Audience") };
    seq.end()?;
    nodes.into_iter().map(text_content).collect()
}

impl AuthnStatement {
    fn from_element(node: Node<'_, '_>) -> Result<Self> {
        let mut seq = Seq::new(node)?;
        let locality = seq.opt(NS_SAML, "SubjectLocality");
        let ctx = seq.req(NS_SAML, "AuthnContext")?;
        seq.end()?;
        if let Some(l) = locality {
            Seq::new(l)?.end()?;
        }

        let mut cs = Seq::new(ctx)?;
        let class_ref = cs.opt(NS_SAML, "AuthnContextClassRef").map(text_content).transpose()?;
        // AuthnContextDecl (an inline declaration of any shape) is accepted, not read.
        let decl = cs.opt(NS_SAML, "AuthnContextDecl");
        let decl_ref = match decl {
            Some(_) => None,
            None => cs.opt(NS_SAML, "AuthnContextDeclRef").map(text_content).transpose()?,
        };
        if class_ref.is_none() && decl.is_none() && decl_ref.is_none() {
            return Err(cs.missing("saml:AuthnContextClassRef"));
        }
        for a in cs.many(NS_SAML, "AuthenticatingAuthority") {
            text_content(a)?;
        }
        cs.end()?;

        Ok(AuthnStatement {
            authn_instant: req_time_attr(node, "AuthnInstant")?,
            session_index: attr(node, "SessionIndex"),
            session_not_on_or_after: time_attr(node, "SessionNotOnOrAfter")?,
            authn_context_class_ref: class_ref,
            authn_context_decl_ref: decl_ref,
            subject_locality_address: locality.and_then(|l| attr(l, "Address")),
            subject_locality_dns_name: locality.and_then(|l| attr(l, "DNSName")),
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.start("saml:AuthnStatement").attr("AuthnInstant", &format_time(self.authn_instant));
        w.opt_attr("SessionIndex", self.session_index.as_deref());
        opt_time_attr(w, "SessionNotOnOrAfter", self.session_not_on_or_after);
        if self.subject_locality_address.is_some() || self.subject_locality_dns_name.is_some() {
            w.start("saml:SubjectLocality")
                .opt_attr("Address", self.subject_locality_address.as_deref())
                .opt_attr("DNSName", self.subject_locality_dns_name.as_deref())
                .end();
        }
        w.start("saml:AuthnContext");
        match (&self.authn_context_class_ref, &self.authn_context_decl_ref) {
            (None, None) => {
                w.leaf("saml:AuthnContextClassRef", crate::xml::AC_UNSPECIFIED);
            }
            (class, decl) => {
                if let Some(c) = class {
                    w.leaf("saml:AuthnContextClassRef", c);
                }
                if let Some(d) = decl {
                    w.leaf("saml:AuthnContextDeclRef", d);
                }
            }
        }
        w.end().end();
    }
}
