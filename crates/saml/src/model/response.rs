//! `samlp:Response` (SAML core 3.3.3, 3.2.2).

use super::{
    attr, check_version, expect_element, id_attr, parse_root, read_message_head, req_time_attr,
    standalone_xml, write_issuer, Assertion, Seq, Status,
};
use crate::clock::format_time;
use crate::error::{Error, Result};
use crate::xml::{describe, is_element, Limits, XmlWriter, NS_SAML, NS_SAMLP, NS_XENC};
use roxmltree::Node;
use time::OffsetDateTime;

/// A response carrying assertions (or an error status).
///
/// `Version` is not a field: reading refuses anything but `2.0` and writing always
/// writes `2.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub id: String,
    pub in_response_to: Option<String>,
    pub issue_instant: OffsetDateTime,
    pub destination: Option<String>,
    pub consent: Option<String>,
    /// The responder's entity ID (optional in the schema).
    pub issuer: Option<String>,
    pub status: Status,
    /// The `saml:Assertion` children of the Response, in order. Assertions nested
    /// deeper (in `saml:Advice`) are never included.
    pub assertions: Vec<Assertion>,
    /// Each `saml:EncryptedAssertion` child as XML text: the element's bytes from the
    /// input with the namespace declarations it inherits added to its start tag, so
    /// that the text parses on its own. Its content is checked only for shape
    /// (`xenc:EncryptedData` then `xenc:EncryptedKey*`). Written back verbatim after
    /// the plain assertions.
    pub encrypted_assertions: Vec<String>,
}

impl Response {
    /// Reads a `samlp:Response` element (only inside it).
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_SAMLP, "Response")?;
        check_version(node)?;
        let id = id_attr(node)?;
        let issue_instant = req_time_attr(node, "IssueInstant")?;

        let mut seq = Seq::new(node)?;
        let issuer = read_message_head(&mut seq)?;
        let status = Status::from_element(seq.req(NS_SAMLP, "Status")?)?;
        let mut assertions = Vec::new();
        let mut encrypted_assertions = Vec::new();
        while let Some(a) = seq
            .next_if(|n| is_element(n, NS_SAML, "Assertion") || is_element(n, NS_SAML, "EncryptedAssertion"))
        {
            if a.tag_name().name() == "Assertion" {
                assertions.push(Assertion::from_element(a)?);
            } else {
                check_encrypted_element(a)?;
                encrypted_assertions.push(standalone_xml(a));
            }
        }
        seq.end()?;

        Ok(Response {
            id,
            in_response_to: attr(node, "InResponseTo"),
            issue_instant,
            destination: attr(node, "Destination"),
            consent: attr(node, "Consent"),
            issuer,
            status,
            assertions,
            encrypted_assertions,
        })
    }

    /// Parses untrusted XML whose root is a `samlp:Response`.
    pub fn parse(xml: &str) -> Result<Self> {
        parse_root(xml, &Limits::MESSAGE, Self::from_element)
    }

    /// Serialises the response; the root declares `xmlns:samlp` and `xmlns:saml`, and
    /// each Assertion declares `xmlns:saml` again so it can be signed on its own.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("samlp:Response")
            .attr("xmlns:samlp", NS_SAMLP)
            .attr("xmlns:saml", NS_SAML)
            .attr("ID", &self.id)
            .attr("Version", "2.0")
            .attr("IssueInstant", &format_time(self.issue_instant))
            .opt_attr("Destination", self.destination.as_deref())
            .opt_attr("Consent", self.consent.as_deref())
            .opt_attr("InResponseTo", self.in_response_to.as_deref());
        if let Some(i) = &self.issuer {
            write_issuer(&mut w, i);
        }
        self.status.write(&mut w);
        for a in &self.assertions {
            a.write(&mut w);
        }
        for raw in &self.encrypted_assertions {
            w.raw(raw);
        }
        w.finish()
    }
}

/// `EncryptedElementType`: `xenc:EncryptedData`, then `xenc:EncryptedKey*`.
pub(crate) fn check_encrypted_element(node: Node<'_, '_>) -> Result<()> {
    let mut seq = Seq::new(node)?;
    seq.req(NS_XENC, "EncryptedData")?;
    seq.many(NS_XENC, "EncryptedKey");
    seq.end()?;
    if node.attributes().next().is_some() {
        // The schema allows no attributes here; an ID on it would be a second target
        // for signature references.
        return Err(Error::InvalidValue {
            what: describe(node),
            value: node.attributes().map(|a| a.name().to_string()).collect::<Vec<_>>().join(" "),
            reason: "an EncryptedAssertion has no attributes".into(),
        });
    }
    Ok(())
}
