//! `samlp:LogoutRequest` and `samlp:LogoutResponse` (SAML core 3.7).

use super::{
    attr, check_version, expect_element, id_attr, opt_time_attr, parse_root, read_message_head,
    req_time_attr, time_attr, write_issuer, NameId, Seq, Status,
};
use crate::clock::format_time;
use crate::error::Result;
use crate::xml::{text_content, Limits, XmlWriter, NS_SAML, NS_SAMLP};
use roxmltree::Node;
use time::OffsetDateTime;

/// A request to end the sessions of a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id: String,
    pub issue_instant: OffsetDateTime,
    pub destination: Option<String>,
    pub consent: Option<String>,
    pub issuer: Option<String>,
    /// The principal. `EncryptedID` and `BaseID` are refused as unsupported.
    pub name_id: NameId,
    pub session_indexes: Vec<String>,
    pub not_on_or_after: Option<OffsetDateTime>,
    /// A URI, e.g. `urn:oasis:names:tc:SAML:2.0:logout:user`.
    pub reason: Option<String>,
}

/// The answer to a LogoutRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutResponse {
    pub id: String,
    pub in_response_to: Option<String>,
    pub issue_instant: OffsetDateTime,
    pub destination: Option<String>,
    pub consent: Option<String>,
    pub issuer: Option<String>,
    pub status: Status,
}

impl LogoutRequest {
    /// Logout reason: the user asked to log out.
    pub const REASON_USER: &'static str = "urn:oasis:names:tc:SAML:2.0:logout:user";
    /// Logout reason: an administrator ended the session.
    pub const REASON_ADMIN: &'static str = "urn:oasis:names:tc:SAML:2.0:logout:admin";

    /// Reads a `samlp:LogoutRequest` element (only inside it).
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_SAMLP, "LogoutRequest")?;
        check_version(node)?;
        let id = id_attr(node)?;
        let issue_instant = req_time_attr(node, "IssueInstant")?;
        let mut seq = Seq::new(node)?;
        let issuer = read_message_head(&mut seq)?;
        let name_id = NameId::from_element(seq.req(NS_SAML, "NameID")?)?;
        let session_indexes =
            seq.many(NS_SAMLP, "SessionIndex").into_iter().map(text_content).collect::<Result<Vec<_>>>()?;
        seq.end()?;
        Ok(LogoutRequest {
            id,
            issue_instant,
            destination: attr(node, "Destination"),
            consent: attr(node, "Consent"),
            issuer,
            name_id,
            session_indexes,
            not_on_or_after: time_attr(node, "NotOnOrAfter")?,
            reason: attr(node, "Reason"),
        })
    }

    /// Parses untrusted XML whose root is a `samlp:LogoutRequest`.
    pub fn parse(xml: &str) -> Result<Self> {
        parse_root(xml, &Limits::MESSAGE, Self::from_element)
    }

    /// Serialises the request; the root declares `xmlns:samlp` and `xmlns:saml`.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("samlp:LogoutRequest")
            .attr("xmlns:samlp", NS_SAMLP)
            .attr("xmlns:saml", NS_SAML)
            .attr("ID", &self.id)
            .attr("Version", "2.0")
            .attr("IssueInstant", &format_time(self.issue_instant))
            .opt_attr("Destination", self.destination.as_deref())
            .opt_attr("Consent", self.consent.as_deref());
        opt_time_attr(&mut w, "NotOnOrAfter", self.not_on_or_after);
        w.opt_attr("Reason", self.reason.as_deref());
        if let Some(i) = &self.issuer {
            write_issuer(&mut w, i);
        }
        self.name_id.write(&mut w);
        for s in &self.session_indexes {
            w.leaf("samlp:SessionIndex", s);
        }
        w.finish()
    }
}

impl LogoutResponse {
    /// Reads a `samlp:LogoutResponse` element (only inside it).
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_SAMLP, "LogoutResponse")?;
        check_version(node)?;
        let id = id_attr(node)?;
        let issue_instant = req_time_attr(node, "IssueInstant")?;
        let mut seq = Seq::new(node)?;
        let issuer = read_message_head(&mut seq)?;
        let status = Status::from_element(seq.req(NS_SAMLP, "Status")?)?;
        seq.end()?;
        Ok(LogoutResponse {
            id,
            in_response_to: attr(node, "InResponseTo"),
            issue_instant,
            destination: attr(node, "Destination"),
            consent: attr(node, "Consent"),
            issuer,
            status,
        })
    }

    /// Parses untrusted XML whose root is a `samlp:LogoutResponse`.
    pub fn parse(xml: &str) -> Result<Self> {
        parse_root(xml, &Limits::MESSAGE, Self::from_element)
    }

    /// Serialises the response; the root declares `xmlns:samlp` and `xmlns:saml`.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("samlp:LogoutResponse")
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
        w.finish()
    }
}
