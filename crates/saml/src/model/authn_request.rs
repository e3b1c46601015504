//! `samlp:AuthnRequest` (SAML core 3.4.1).

use super::{
    attr, bool_attr, check_version, expect_element, id_attr, opt_bool_attr, parse_root, read_message_head,
    req_time_attr, u16_attr, write_issuer, Conditions, NameId, Seq,
};
use crate::clock::format_time;
use crate::error::{Error, Result};
use crate::xml::{describe, text_content, Limits, XmlWriter, NS_SAML, NS_SAMLP};
use roxmltree::Node;
use time::OffsetDateTime;

/// A request to authenticate a principal, sent by an SP to an IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issue_instant: OffsetDateTime,
    pub destination: Option<String>,
    pub consent: Option<String>,
    /// The requesting SP's entity ID (optional in the schema, required by the SSO
    /// profile).
    pub issuer: Option<String>,
    /// The requested subject. A Subject that carries anything besides a plain NameID
    /// (EncryptedID, BaseID, SubjectConfirmation) is refused, since ignoring that
    /// part would widen the request.
    pub subject: Option<NameId>,
    pub name_id_policy: Option<NameIdPolicy>,
    pub conditions: Option<Conditions>,
    pub requested_authn_context: Option<RequestedAuthnContext>,
    pub force_authn: Option<bool>,
    pub is_passive: Option<bool>,
    pub protocol_binding: Option<String>,
    /// Mutually exclusive with `assertion_consumer_service_url` and
    /// `protocol_binding` (core 3.4.1); a request with both is refused.
    pub assertion_consumer_service_index: Option<u16>,
    pub assertion_consumer_service_url: Option<String>,
    pub attribute_consuming_service_index: Option<u16>,
    pub provider_name: Option<String>,
}

/// `samlp:NameIDPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameIdPolicy {
    pub format: Option<String>,
    pub sp_name_qualifier: Option<String>,
    pub allow_create: Option<bool>,
}

/// `samlp:RequestedAuthnContext` with class references (declaration references are
/// refused as unsupported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAuthnContext {
    /// As sent; absent means [`AuthnContextComparison::Exact`].
    pub comparison: Option<AuthnContextComparison>,
    pub class_refs: Vec<String>,
}

/// `Comparison` of a RequestedAuthnContext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthnContextComparison {
    Exact,
    Minimum,
    Maximum,
    Better,
}

impl AuthnContextComparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Minimum => "minimum",
            Self::Maximum => "maximum",
            Self::Better => "better",
        }
    }

    fn parse(what: &str, v: &str) -> Result<Self> {
        Ok(match v {
            "exact" => Self::Exact,
            "minimum" => Self::Minimum,
            "maximum" => Self::Maximum,
            "better" => Self::Better,
            _ => {
                return Err(Error::InvalidValue {
                    what: what.to_string(),
                    value: v.to_string(),
                    reason: "must be exact, minimum, maximum or better".into(),
                })
            }
        })
    }
}

impl RequestedAuthnContext {
    /// The comparison in effect (`exact` when none was sent).
    pub fn effective_comparison(&self) -> AuthnContextComparison {
        self.comparison.unwrap_or(AuthnContextComparison::Exact)
    }
}

impl AuthnRequest {
    /// Reads a `samlp:AuthnRequest` element (only inside it).
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_SAMLP, "AuthnRequest")?;
        check_version(node)?;
        let id = id_attr(node)?;
        let issue_instant = req_time_attr(node, "IssueInstant")?;

        let mut seq = Seq::new(node)?;
        let issuer = read_message_head(&mut seq)?;
        let subject = seq.opt(NS_SAML, "Subject").map(read_request_subject).transpose()?;
        let name_id_policy = seq.opt(NS_SAMLP, "NameIDPolicy").map(read_policy).transpose()?;
        let conditions = seq.opt(NS_SAML, "Conditions").map(Conditions::from_element).transpose()?;
        let requested_authn_context =
            seq.opt(NS_SAMLP, "RequestedAuthnContext").map(read_requested_context).transpose()?;
        // Scoping (proxying hints) is accepted and not read.
        seq.opt(NS_SAMLP, "Scoping");
        seq.end()?;

        let req = AuthnRequest {
            id,
            issue_instant,
            destination: attr(node, "Destination"),
            consent: attr(node, "Consent"),
            issuer,
            subject,
            name_id_policy,
            conditions,
            requested_authn_context,
            force_authn: bool_attr(node, "ForceAuthn")?,
            is_passive: bool_attr(node, "IsPassive")?,
            protocol_binding: attr(node, "ProtocolBinding"),
            assertion_consumer_service_index: u16_attr(node, "AssertionConsumerServiceIndex")?,
            assertion_consumer_service_url: attr(node, "AssertionConsumerServiceURL"),
            attribute_consuming_service_index: u16_attr(node, "AttributeConsumingServiceIndex")?,
            provider_name: attr(node, "ProviderName"),
        };
        if req.assertion_consumer_service_index.is_some()
            && (req.assertion_consumer_service_url.is_some() || req.protocol_binding.is_some())
        {
            return Err(Error::InvalidValue {
                what: format!("{} attribute AssertionConsumerServiceIndex", describe(node)),
                value: req.assertion_consumer_service_index.map(|i| i.to_string()).unwrap_or_default(),
                reason:
                    "AssertionConsumerServiceIndex must not be combined with AssertionConsumerServiceURL \
                         or ProtocolBinding (SAML core 3.4.1)"
                        .into(),
            });
        }
        Ok(req)
    }

    /// Parses untrusted XML whose root is a `samlp:AuthnRequest`.
    pub fn parse(xml: &str) -> Result<Self> {
        parse_root(xml, &Limits::MESSAGE, Self::from_element)
    }

    /// Serialises the request; the root declares `xmlns:samlp` and `xmlns:saml`.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("samlp:AuthnRequest")
            .attr("xmlns:samlp", NS_SAMLP)
            .attr("xmlns:saml", NS_SAML)
            .attr("ID", &self.id)
            .attr("Version", "2.0")
            .attr("IssueInstant", &format_time(self.issue_instant))
            .opt_attr("Destination", self.destination.as_deref())
            .opt_attr("Consent", self.consent.as_deref());
        opt_bool_attr(&mut w, "ForceAuthn", self.force_authn);
        opt_bool_attr(&mut w, "IsPassive", self.is_passive);
        w.opt_attr("ProtocolBinding", self.protocol_binding.as_deref());
        if let Some(i) = self.assertion_consumer_service_index {
            w.attr("AssertionConsumerServiceIndex", &i.to_string());
        }
        w.opt_attr("AssertionConsumerServiceURL", self.assertion_consumer_service_url.as_deref());
        if let Some(i) = self.attribute_consuming_service_index {
            w.attr("AttributeConsumingServiceIndex", &i.to_string());
        }
        w.opt_attr("ProviderName", self.provider_name.as_deref());
        if let Some(i) = &self.issuer {
            write_issuer(&mut w, i);
        }
        if let Some(n) = &self.subject {
            w.start("saml:Subject");
            n.write(&mut w);
            w.end();
        }
        if let Some(p) = &self.name_id_policy {
            w.start("samlp:NameIDPolicy")
                .opt_attr("Format", p.format.as_deref())
                .opt_attr("SPNameQualifier", p.sp_name_qualifier.as_deref());
            opt_bool_attr(&mut w, "AllowCreate", p.allow_create);
            w.end();
        }
        if let Some(c) = &self.conditions {
            c.write(&mut w);
        }
        if let Some(r) = &self.requested_authn_context {
            w.start("samlp:RequestedAuthnContext");
            if let Some(c) = r.comparison {
                w.attr("Comparison", c.as_str());
            }
            for c in &r.class_refs {
                w.leaf("saml:AuthnContextClassRef", c);
            }
            w.end();
        }
        w.finish()
    }
}

fn read_request_subject(node: Node<'_, '_>) -> Result<NameId> {
    let mut seq = Seq::new(node)?;
    let Some(n) = seq.opt(NS_SAML, "NameID") else {
        return Err(seq.missing("saml:NameID"));
    };
    let name_id = NameId::from_element(n)?;
    // SubjectConfirmation in a request is not supported: refused, not ignored.
    seq.end()?;
    Ok(name_id)
}

fn read_policy(node: Node<'_, '_>) -> Result<NameIdPolicy> {
    Seq::new(node)?.end()?;
    Ok(NameIdPolicy {
        format: attr(node, "Format"),
        sp_name_qualifier: attr(node, "SPNameQualifier"),
        allow_create: bool_attr(node, "AllowCreate")?,
    })
}

fn read_requested_context(node: Node<'_, '_>) -> Result<RequestedAuthnContext> {
    let comparison = node
        .attribute("Comparison")
        .map(|v| AuthnContextComparison::parse(&format!("{} attribute Comparison", describe(node)), v))
        .transpose()?;
    let mut seq = Seq::new(node)?;
    let refs = seq.many1(NS_SAML, "AuthnContextClassRef")?;
    seq.end()?;
    let class_refs = refs.into_iter().map(text_content).collect::<Result<Vec<_>>>()?;
    Ok(RequestedAuthnContext { comparison, class_refs })
}
