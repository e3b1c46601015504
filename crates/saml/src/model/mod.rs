//! SAML messages and metadata: typed models, strict reading, schema-valid writing.
//!
//! # Reading
//!
//! Every message type has `from_element(node)`, which reads only inside `node` (pass
//! the element a signature was verified over; nothing here searches from the document
//! root), and `parse(xml)`, which parses untrusted text with [`crate::xml::parse`] and
//! reads its root element. Reading is strict, because a lenient SAML reader is how
//! login bypasses happen:
//!
//! - `Version` must be `2.0`; `ID`, `IssueInstant` and the other required attributes
//!   must be present; times must be UTC with `Z`; booleans are `true`/`false`/`1`/`0`
//!   only; integers are range-checked.
//! - Child elements must come in schema order. An element the schema does not allow
//!   at that point is [`Error::UnexpectedElement`]; a `ds:Signature` anywhere except
//!   its one schema slot (right after `Issuer`, or first when there is no `Issuer`) is
//!   [`Error::SignaturePlacement`]. Elements from other namespaces are accepted only at
//!   extension points (`Extensions`, `Advice`, `SubjectConfirmationData`, complex
//!   `AttributeValue` content, `StatusDetail`), and their content is not interpreted.
//! - Simple-content elements are read with [`crate::xml::text_content`], so a comment
//!   or CDATA section cannot truncate a NameID or attribute value.
//! - Constructs we cannot represent and whose omission would *widen* what a message
//!   grants (an unknown `saml:Condition`, `EncryptedID` in a request subject,
//!   `EncryptedAttribute`, `BaseID`) are rejected rather than ignored. Constructs that
//!   only carry extra information (`AuthzDecisionStatement`, `Scoping`,
//!   `AttributeConsumingService`, third-level status codes) are skipped.
//! - Unknown attributes are ignored (they cannot change the meaning of what we read).
//!
//! # Writing
//!
//! `to_xml()` returns the element without an XML declaration, with its root
//! declaring every namespace it uses (`samlp`, `saml`; `md` and `ds` for metadata),
//! so it can be signed or spliced on its own. It never writes a `ds:Signature`; the
//! [`crate::dsig`] module inserts one after `Issuer`. Times are written with
//! [`crate::clock::format_time`] (whole seconds, `Z`). The output validates against the
//! OASIS schemas provided the values obey the schema's own rules that a Rust type
//! cannot express (IDs are NCNames — use [`new_id`]; an IdP descriptor has at least one
//! SingleSignOnService, an SP descriptor at least one AssertionConsumerService, and an
//! EntityDescriptor at least one of the two).

pub mod assertion;
pub mod authn_request;
pub mod logout;
pub mod metadata;
pub mod response;
pub mod status;

pub use assertion::{
    Assertion, Attribute, AuthnStatement, Conditions, ProxyRestriction, Subject, SubjectConfirmation,
    SubjectConfirmationData,
};
pub use authn_request::{AuthnContextComparison, AuthnRequest, NameIdPolicy, RequestedAuthnContext};
pub use logout::{LogoutRequest, LogoutResponse};
pub use metadata::{
    entities_from_element, parse_metadata, ContactPerson, ContactType, Endpoint, EntityDescriptor,
    IdpSsoDescriptor, IndexedEndpoint, KeyDescriptor, KeyUse, Organization, SpSsoDescriptor,
};
pub use response::Response;
pub use status::Status;

use crate::clock::parse_time;
use crate::error::{Error, Result};
use crate::xml::{
    describe, escape_attr, is_element, text_content, Limits, XmlWriter, NAMEID_ENTITY, NS_DS, NS_MD, NS_SAML,
    NS_SAMLP, NS_XENC, NS_XML,
};
use roxmltree::Node;
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------
// Shared value types

/// A `saml:NameID` (SAML core 2.2.3): the identifier of a principal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameId {
    /// The identifier, exactly as sent (all text nodes joined; never empty).
    pub value: String,
    pub format: Option<String>,
    pub name_qualifier: Option<String>,
    pub sp_name_qualifier: Option<String>,
    pub sp_provided_id: Option<String>,
}

impl NameId {
    /// A NameID with a value and a format and no qualifiers.
    pub fn new(value: impl Into<String>, format: impl Into<String>) -> Self {
        NameId { value: value.into(), format: Some(format.into()), ..Default::default() }
    }

    /// Reads a `saml:NameID` element.
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_SAML, "NameID")?;
        let value = text_content(node)?;
        if value.is_empty() {
            return Err(Error::InvalidValue {
                what: describe(node),
                value,
                reason: "a NameID must not be empty".into(),
            });
        }
        Ok(NameId {
            value,
            format: attr(node, "Format"),
            name_qualifier: attr(node, "NameQualifier"),
            sp_name_qualifier: attr(node, "SPNameQualifier"),
            sp_provided_id: attr(node, "SPProvidedID"),
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.start("saml:NameID")
            .opt_attr("NameQualifier", self.name_qualifier.as_deref())
            .opt_attr("SPNameQualifier", self.sp_name_qualifier.as_deref())
            .opt_attr("Format", self.format.as_deref())
            .opt_attr("SPProvidedID", self.sp_provided_id.as_deref())
            .text(&self.value)
            .end();
    }
}

/// Reads a `saml:Issuer`. Its Format, when present, must be the entity format
/// (SAML profiles 4.1.4.2 and core 8.3.6): an Issuer is an entity ID, never a user.
pub(crate) fn parse_issuer(node: Node<'_, '_>) -> Result<String> {
    expect_element(node, NS_SAML, "Issuer")?;
    if let Some(f) = node.attribute("Format") {
        if f != NAMEID_ENTITY {
            return Err(Error::InvalidValue {
                what: format!("{} attribute Format", describe(node)),
                value: f.to_string(),
                reason: format!("an Issuer's Format must be omitted or be {NAMEID_ENTITY}"),
            });
        }
    }
    let value = text_content(node)?;
    if value.is_empty() {
        return Err(Error::InvalidValue {
            what: describe(node),
            value,
            reason: "an Issuer must name an entity".into(),
        });
    }
    Ok(value)
}

pub(crate) fn write_issuer(w: &mut XmlWriter, issuer: &str) {
    w.leaf("saml:Issuer", issuer);
}

/// A fresh message ID: `_` followed by 40 random hex digits (160 bits), which is an
/// `xs:ID` (NCName) as the schemas require and unguessable as SAML core 1.3.4 asks.
pub fn new_id() -> Result<String> {
    let mut bytes = [0u8; 20];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Crypto("random ID".into()))?;
    let mut id = String::with_capacity(41);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    Ok(id)
}

// ---------------------------------------------------------------------------------
// Any protocol message, by root element

/// A SAML protocol message of one of the kinds this crate models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    AuthnRequest(Box<AuthnRequest>),
    Response(Box<Response>),
    LogoutRequest(Box<LogoutRequest>),
    LogoutResponse(Box<LogoutResponse>),
}

impl Message {
    /// Reads whichever message `node` is.
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        let kind = if node.is_element() && node.tag_name().namespace() == Some(NS_SAMLP) {
            node.tag_name().name()
        } else {
            ""
        };
        Ok(match kind {
            "AuthnRequest" => Message::AuthnRequest(Box::new(AuthnRequest::from_element(node)?)),
            "Response" => Message::Response(Box::new(Response::from_element(node)?)),
            "LogoutRequest" => Message::LogoutRequest(Box::new(LogoutRequest::from_element(node)?)),
            "LogoutResponse" => Message::LogoutResponse(Box::new(LogoutResponse::from_element(node)?)),
            _ => {
                return Err(Error::UnexpectedElement {
                    expected:
                        "samlp:AuthnRequest, samlp:Response, samlp:LogoutRequest or samlp:LogoutResponse"
                            .into(),
                    found: found_name(node),
                })
            }
        })
    }

    /// The message's `ID`.
    pub fn id(&self) -> &str {
        match self {
            Message::AuthnRequest(m) => &m.id,
            Message::Response(m) => &m.id,
            Message::LogoutRequest(m) => &m.id,
            Message::LogoutResponse(m) => &m.id,
        }
    }

    /// The message's own `Issuer` (not an assertion's), when it has one.
    pub fn issuer(&self) -> Option<&str> {
        match self {
            Message::AuthnRequest(m) => m.issuer.as_deref(),
            Message::Response(m) => m.issuer.as_deref(),
            Message::LogoutRequest(m) => m.issuer.as_deref(),
            Message::LogoutResponse(m) => m.issuer.as_deref(),
        }
    }

    /// The message's `Destination`, when it has one.
    pub fn destination(&self) -> Option<&str> {
        match self {
            Message::AuthnRequest(m) => m.destination.as_deref(),
            Message::Response(m) => m.destination.as_deref(),
            Message::LogoutRequest(m) => m.destination.as_deref(),
            Message::LogoutResponse(m) => m.destination.as_deref(),
        }
    }

    /// Serialises the message (see the module documentation).
    pub fn to_xml(&self) -> String {
        match self {
            Message::AuthnRequest(m) => m.to_xml(),
            Message::Response(m) => m.to_xml(),
            Message::LogoutRequest(m) => m.to_xml(),
            Message::LogoutResponse(m) => m.to_xml(),
        }
    }
}

/// Parses untrusted XML (message limits) and reads its root element as a message.
pub fn parse_message(xml: &str) -> Result<Message> {
    let doc = crate::xml::parse(xml, &Limits::MESSAGE)?;
    Message::from_element(doc.root_element())
}

// ---------------------------------------------------------------------------------
// Reading helpers

/// Parses untrusted `xml` under `limits` and hands its root element to `read`.
pub(crate) fn parse_root<T>(
    xml: &str,
    limits: &Limits,
    read: impl FnOnce(Node<'_, '_>) -> Result<T>,
) -> Result<T> {
    let doc = crate::xml::parse(xml, limits)?;
    read(doc.root_element())
}

/// `samlp:Local` for the namespaces we know, Clark notation `{uri}Local` otherwise.
pub(crate) fn qname(ns: &str, local: &str) -> String {
    let prefix = match ns {
        NS_SAMLP => "samlp",
        NS_SAML => "saml",
        NS_MD => "md",
        NS_DS => "ds",
        NS_XENC => "xenc",
        _ => return format!("{{{ns}}}{local}"),
    };
    format!("{prefix}:{local}")
}

/// The expanded name of a node, for error messages (independent of the prefix the
/// sender chose, so a look-alike prefix bound to another namespace is visible).
pub(crate) fn found_name(node: Node<'_, '_>) -> String {
    if !node.is_element() {
        return format!("{:?} node", node.node_type());
    }
    qname(node.tag_name().namespace().unwrap_or(""), node.tag_name().name())
}

/// Errors unless `node` is the element `{ns}local`.
pub(crate) fn expect_element(node: Node<'_, '_>, ns: &str, local: &str) -> Result<()> {
    if is_element(node, ns, local) {
        Ok(())
    } else {
        Err(Error::UnexpectedElement { expected: qname(ns, local), found: found_name(node) })
    }
}

fn attr_what(node: Node<'_, '_>, name: &str) -> String {
    format!("{} attribute {name}", describe(node))
}

/// An optional unqualified attribute, owned.
pub(crate) fn attr(node: Node<'_, '_>, name: &str) -> Option<String> {
    node.attribute(name).map(str::to_string)
}

/// A required unqualified attribute, owned.
pub(crate) fn req_attr(node: Node<'_, '_>, name: &str) -> Result<String> {
    crate::xml::required_attr(node, name).map(str::to_string)
}

/// An `xs:boolean` value: only the four lexical forms, no surrounding whitespace.
pub(crate) fn parse_bool(what: &str, value: &str) -> Result<bool> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Error::InvalidValue {
            what: what.to_string(),
            value: value.to_string(),
            reason: "a boolean must be true, false, 1 or 0".into(),
        }),
    }
}

pub(crate) fn bool_attr(node: Node<'_, '_>, name: &str) -> Result<Option<bool>> {
    node.attribute(name).map(|v| parse_bool(&attr_what(node, name), v)).transpose()
}

/// An unsigned decimal integer: ASCII digits only (no sign, no spaces), in range.
pub(crate) fn parse_unsigned<T: std::str::FromStr>(what: &str, value: &str, type_name: &str) -> Result<T> {
    let bad =
        |reason: String| Error::InvalidValue { what: what.to_string(), value: value.to_string(), reason };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("an {type_name} must be written with decimal digits only")));
    }
    value.parse::<T>().map_err(|_| bad(format!("out of range for an {type_name}")))
}

pub(crate) fn u16_attr(node: Node<'_, '_>, name: &str) -> Result<Option<u16>> {
    node.attribute(name).map(|v| parse_unsigned(&attr_what(node, name), v, "unsignedShort")).transpose()
}

pub(crate) fn time_attr(node: Node<'_, '_>, name: &str) -> Result<Option<OffsetDateTime>> {
    node.attribute(name).map(|v| parse_time(&attr_what(node, name), v)).transpose()
}

pub(crate) fn req_time_attr(node: Node<'_, '_>, name: &str) -> Result<OffsetDateTime> {
    parse_time(&attr_what(node, name), crate::xml::required_attr(node, name)?)
}

/// `Version` must be present and exactly `2.0`.
pub(crate) fn check_version(node: Node<'_, '_>) -> Result<()> {
    let v = crate::xml::required_attr(node, "Version")?;
    if v != "2.0" {
        return Err(Error::UnsupportedVersion(v.to_string()));
    }
    Ok(())
}

/// The required `ID`, which must look like an `xs:ID` (an NCName).
pub(crate) fn id_attr(node: Node<'_, '_>) -> Result<String> {
    let id = crate::xml::required_attr(node, "ID")?;
    check_ncname(&attr_what(node, "ID"), id)?;
    Ok(id.to_string())
}

/// An optional `ID` attribute (metadata), checked like [`id_attr`].
pub(crate) fn opt_id_attr(node: Node<'_, '_>) -> Result<Option<String>> {
    match node.attribute("ID") {
        Some(id) => check_ncname(&attr_what(node, "ID"), id).map(|()| Some(id.to_string())),
        None => Ok(None),
    }
}

/// An approximation of the NCName production: starts with a letter or `_`, continues
/// with letters, digits, `.`, `-`, `_` (Unicode letters and digits included).
fn check_ncname(what: &str, value: &str) -> Result<()> {
    let mut chars = value.chars();
    let ok = match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {
            chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '\u{B7}'))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            what: what.to_string(),
            value: value.to_string(),
            reason: "an ID must be an XML name (NCName): a letter or '_' first, no spaces or colons".into(),
        })
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Reads the element children of an element-only element in schema order.
///
/// Each `opt`/`req`/`many` call consumes matching children at the current position;
/// [`Seq::end`] fails when anything is left. A child that does not fit is
/// [`Error::UnexpectedElement`], or [`Error::SignaturePlacement`] when it is a
/// `ds:Signature` (a signature out of its slot is the stuff of wrapping attacks).
pub(crate) struct Seq<'a, 'i> {
    parent: Node<'a, 'i>,
    items: Vec<Node<'a, 'i>>,
    pos: usize,
}

impl<'a, 'i> Seq<'a, 'i> {
    /// Collects the element children; text other than whitespace is refused, since
    /// these elements have element-only content.
    pub(crate) fn new(parent: Node<'a, 'i>) -> Result<Self> {
        let mut items = Vec::new();
        for c in parent.children() {
            if c.is_element() {
                items.push(c);
            } else if c.is_text() {
                let t = c.text().unwrap_or("");
                if !t.chars().all(is_xml_space) {
                    return Err(Error::InvalidValue {
                        what: describe(parent),
                        value: t.chars().take(40).collect(),
                        reason: "this element holds only elements; text is not allowed in it".into(),
                    });
                }
            }
        }
        Ok(Seq { parent, items, pos: 0 })
    }

    pub(crate) fn peek(&self) -> Option<Node<'a, 'i>> {
        self.items.get(self.pos).copied()
    }

    pub(crate) fn next_if(&mut self, pred: impl Fn(Node<'a, 'i>) -> bool) -> Option<Node<'a, 'i>> {
        let n = self.peek().filter(|n| pred(*n))?;
        self.pos += 1;
        Some(n)
    }

    pub(crate) fn opt(&mut self, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
        self.next_if(|n| is_element(n, ns, local))
    }

    pub(crate) fn many(&mut self, ns: &str, local: &str) -> Vec<Node<'a, 'i>> {
        std::iter::from_fn(|| self.opt(ns, local)).collect()
    }

    /// One or more.
    pub(crate) fn many1(&mut self, ns: &str, local: &str) -> Result<Vec<Node<'a, 'i>>> {
        let v = self.many(ns, local);
        if v.is_empty() {
            return Err(self.missing(&qname(ns, local)));
        }
        Ok(v)
    }

    pub(crate) fn req(&mut self, ns: &str, local: &str) -> Result<Node<'a, 'i>> {
        match self.opt(ns, local) {
            Some(n) => Ok(n),
            None => Err(self.missing(&qname(ns, local))),
        }
    }

    /// The error for "`expected` is required here".
    pub(crate) fn missing(&self, expected: &str) -> Error {
        match self.peek() {
            Some(n) => self.unexpected(n, expected),
            None => Error::MissingElement { parent: describe(self.parent), child: expected.to_string() },
        }
    }

    /// The ds:Signature in its schema slot, if there is one.
    pub(crate) fn signature(&mut self) -> Option<Node<'a, 'i>> {
        self.opt(NS_DS, "Signature")
    }

    /// An optional `Extensions` element in namespace `ns`. Its content is not read,
    /// but it must be elements from other namespaces (`##other`), as the schema says.
    pub(crate) fn extensions(&mut self, ns: &str) -> Result<Option<Node<'a, 'i>>> {
        let Some(ext) = self.opt(ns, "Extensions") else { return Ok(None) };
        no_direct_signature(ext)?;
        for c in ext.children().filter(|c| c.is_element()) {
            let cns = c.tag_name().namespace();
            if cns.is_none() || cns == Some(ns) {
                return Err(Error::UnexpectedElement {
                    expected: format!("an element from another namespace inside {}", qname(ns, "Extensions")),
                    found: found_name(c),
                });
            }
        }
        Ok(Some(ext))
    }

    /// Fails when children remain.
    pub(crate) fn end(self) -> Result<()> {
        match self.peek() {
            Some(n) => Err(self.unexpected(n, &format!("the end of {}", describe(self.parent)))),
            None => Ok(()),
        }
    }

    fn unexpected(&self, n: Node<'_, '_>, expected: &str) -> Error {
        if is_element(n, NS_DS, "Signature") {
            Error::SignaturePlacement(format!(
                "a ds:Signature inside {} is not in the one position the schema allows (expected {expected})",
                describe(self.parent)
            ))
        } else {
            Error::UnexpectedElement { expected: expected.to_string(), found: found_name(n) }
        }
    }
}

/// Refuses a `ds:Signature` directly inside an extension point (`Extensions`,
/// `Advice`): the schema's `##other` wildcard would admit one, but a signature there
/// signs nothing we read and only gives signature-wrapping tricks a place to hide.
pub(crate) fn no_direct_signature(node: Node<'_, '_>) -> Result<()> {
    if crate::xml::child(node, NS_DS, "Signature").is_some() {
        return Err(Error::SignaturePlacement(format!(
            "a ds:Signature directly inside {} signs nothing; signatures belong right after Issuer",
            describe(node)
        )));
    }
    Ok(())
}

/// The common head of protocol messages: `Issuer? ds:Signature? Extensions?`.
/// A Signature before the Issuer is a placement error, not just an order error.
pub(crate) fn read_message_head(seq: &mut Seq<'_, '_>) -> Result<Option<String>> {
    let issuer = seq.opt(NS_SAML, "Issuer").map(parse_issuer).transpose()?;
    if seq.signature().is_some() && issuer.is_none() {
        if let Some(n) = seq.peek().filter(|n| is_element(*n, NS_SAML, "Issuer")) {
            return Err(Error::SignaturePlacement(format!(
                "ds:Signature must come after saml:Issuer in {}",
                describe(n.parent().unwrap_or(n))
            )));
        }
    }
    seq.extensions(NS_SAMLP)?;
    Ok(issuer)
}

/// The element's source text, made self-contained: the namespace declarations it
/// inherits from its ancestors are added to its start tag, so the result parses on
/// its own (used for `EncryptedAssertion`, `EncryptedID` and complex attribute values,
/// which we keep as XML). Everything else is the input's bytes unchanged.
pub(crate) fn standalone_xml(node: Node<'_, '_>) -> String {
    let input = node.document().input_text();
    let text = &input[node.range()];
    let bytes = text.as_bytes();
    // The start tag: '<' qname (attribute)* ('>' | '/>'). The input is well-formed, so
    // a scan that skips quoted values finds its end.
    let name_end = 1 + bytes[1..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>')
        .unwrap_or(bytes.len() - 1);
    let mut declared: Vec<&str> = Vec::new();
    let mut i = name_end;
    while i < bytes.len() {
        match bytes[i] {
            b'>' | b'/' => break,
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
                    i += 1;
                }
                declared.push(&text[start..i]);
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\'' {
                    i += 1;
                }
                let quote = bytes.get(i).copied().unwrap_or(b'"');
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i += 1;
            }
        }
    }
    let mut decls = String::new();
    for ns in node.namespaces() {
        let attr_name = match ns.name() {
            Some("xml") => continue,
            Some(p) => format!("xmlns:{p}"),
            None => "xmlns".to_string(),
        };
        if ns.uri() == NS_XML || declared.contains(&attr_name.as_str()) {
            continue;
        }
        decls.push(' ');
        decls.push_str(&attr_name);
        decls.push_str("=\"");
        decls.push_str(&escape_attr(ns.uri()));
        decls.push('"');
    }
    let mut out = String::with_capacity(text.len() + decls.len());
    out.push_str(&text[..name_end]);
    out.push_str(&decls);
    out.push_str(&text[name_end..]);
    out
}

// ---------------------------------------------------------------------------------
// Writing helpers

pub(crate) fn opt_time_attr(w: &mut XmlWriter, name: &str, t: Option<OffsetDateTime>) {
    if let Some(t) = t {
        w.attr(name, &crate::clock::format_time(t));
    }
}

pub(crate) fn opt_bool_attr(w: &mut XmlWriter, name: &str, b: Option<bool>) {
    if let Some(b) = b {
        w.attr(name, if b { "true" } else { "false" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn standalone_xml_adds_inherited_namespaces_only() {
        let xml = r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><b:x xmlns:c='urn:c' c:k="v>"><c:y/></b:x></a:r>"#;
        let doc = parse(xml, &Limits::MESSAGE).unwrap();
        let x = doc.root_element().first_element_child().unwrap();
        let s = standalone_xml(x);
        assert!(
            s.starts_with("<b:x xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" xmlns=\"urn:d\" xmlns:c='urn:c'"),
            "{s}"
        );
        let again = roxmltree::Document::parse(&s).unwrap();
        assert_eq!(again.root_element().tag_name().namespace(), Some("urn:b"));
        assert_eq!(again.root_element().attribute(("urn:c", "k")), Some("v>"));
    }

    #[test]
    fn ids_and_numbers_are_checked() {
        assert!(check_ncname("t", "_abc-1.2").is_ok());
        assert!(check_ncname("t", "id\u{e9}").is_ok());
        for bad in ["", "1abc", "a b", "a:b", "-a"] {
            assert_eq!(check_ncname("t", bad).unwrap_err().code(), "SAML_INVALID_VALUE", "{bad}");
        }
        assert_eq!(parse_unsigned::<u16>("t", "65535", "unsignedShort").unwrap(), 65535);
        for bad in ["65536", "-1", "+1", " 1", "", "1e3"] {
            assert!(parse_unsigned::<u16>("t", bad, "unsignedShort").is_err(), "{bad}");
        }
        for bad in ["TRUE", "yes", " true", ""] {
            assert!(parse_bool("t", bad).is_err(), "{bad}");
        }
        let id = new_id().unwrap();
        assert_eq!(id.len(), 41);
        check_ncname("t", &id).unwrap();
    }
}
