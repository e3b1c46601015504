//! `samlp:Status` (SAML core 3.2.2).

use super::{expect_element, Seq};
use crate::error::{Error, Result};
use crate::xml::{describe, required_attr, text_content, XmlWriter, NS_SAMLP};
use roxmltree::Node;

/// The outcome of a request: a top-level status code, optionally a second-level
/// code that refines it, and an optional human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The top-level `StatusCode/@Value`: one of [`Status::SUCCESS`],
    /// [`Status::REQUESTER`], [`Status::RESPONDER`], [`Status::VERSION_MISMATCH`].
    pub code: String,
    /// The nested (second-level) `StatusCode/@Value`, e.g. [`Status::AUTHN_FAILED`].
    /// Deeper levels are checked for shape but not kept.
    pub sub_code: Option<String>,
    /// `StatusMessage`, for people; never act on its content.
    pub message: Option<String>,
}

impl Status {
    // Top-level codes (SAML core 3.2.2.2).
    pub const SUCCESS: &'static str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    pub const REQUESTER: &'static str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    pub const RESPONDER: &'static str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    pub const VERSION_MISMATCH: &'static str = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch";

    // Second-level codes (SAML core 3.2.2.2).
    pub const AUTHN_FAILED: &'static str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
    pub const INVALID_ATTR_NAME_OR_VALUE: &'static str =
        "urn:oasis:names:tc:SAML:2.0:status:InvalidAttrNameOrValue";
    pub const INVALID_NAMEID_POLICY: &'static str = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
    pub const NO_AUTHN_CONTEXT: &'static str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
    pub const NO_AVAILABLE_IDP: &'static str = "urn:oasis:names:tc:SAML:2.0:status:NoAvailableIDP";
    pub const NO_PASSIVE: &'static str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    pub const NO_SUPPORTED_IDP: &'static str = "urn:oasis:names:tc:SAML:2.0:status:NoSupportedIDP";
    pub const PARTIAL_LOGOUT: &'static str = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";
    pub const PROXY_COUNT_EXCEEDED: &'static str = "urn:oasis:names:tc:SAML:2.0:status:ProxyCountExceeded";
    pub const REQUEST_DENIED: &'static str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    pub const REQUEST_UNSUPPORTED: &'static str = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported";
    pub const REQUEST_VERSION_DEPRECATED: &'static str =
        "urn:oasis:names:tc:SAML:2.0:status:RequestVersionDeprecated";
    pub const REQUEST_VERSION_TOO_HIGH: &'static str =
        "urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh";
    pub const REQUEST_VERSION_TOO_LOW: &'static str =
        "urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooLow";
    pub const RESOURCE_NOT_RECOGNIZED: &'static str =
        "urn:oasis:names:tc:SAML:2.0:status:ResourceNotRecognized";
    pub const TOO_MANY_RESPONSES: &'static str = "urn:oasis:names:tc:SAML:2.0:status:TooManyResponses";
    pub const UNKNOWN_ATTR_PROFILE: &'static str = "urn:oasis:names:tc:SAML:2.0:status:UnknownAttrProfile";
    pub const UNKNOWN_PRINCIPAL: &'static str = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal";
    pub const UNSUPPORTED_BINDING: &'static str = "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding";

    /// The four codes allowed at the top level.
    pub const TOP_LEVEL: [&'static str; 4] =
        [Self::SUCCESS, Self::REQUESTER, Self::RESPONDER, Self::VERSION_MISMATCH];

    /// `Success`, with nothing else.
    pub fn success() -> Self {
        Status::new(Self::SUCCESS)
    }

    /// A status with a top-level code only.
    pub fn new(code: impl Into<String>) -> Self {
        Status { code: code.into(), sub_code: None, message: None }
    }

    /// Adds a second-level code.
    pub fn with_sub_code(mut self, sub_code: impl Into<String>) -> Self {
        self.sub_code = Some(sub_code.into());
        self
    }

    /// Adds a message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// True when the top-level code is exactly `Success`.
    pub fn is_success(&self) -> bool {
        self.code == Self::SUCCESS
    }

    /// Reads a `samlp:Status`. The top-level code must be one of [`Status::TOP_LEVEL`].
    pub fn from_element(node: Node<'_, '_>) -> Result<Self> {
        expect_element(node, NS_SAMLP, "Status")?;
        let mut seq = Seq::new(node)?;
        let top = seq.req(NS_SAMLP, "StatusCode")?;
        let message = seq.opt(NS_SAMLP, "StatusMessage").map(text_content).transpose()?;
        // StatusDetail holds anything; it is not interpreted.
        seq.opt(NS_SAMLP, "StatusDetail");
        seq.end()?;

        let (code, nested) = read_code(top)?;
        if !Self::TOP_LEVEL.contains(&code.as_str()) {
            return Err(Error::InvalidValue {
                what: format!("{} attribute Value", describe(top)),
                value: code,
                reason: "the top-level status code must be Success, Requester, Responder or VersionMismatch"
                    .into(),
            });
        }
        let sub_code = match nested {
            Some(n) => {
                let (sub, mut deeper) = read_code(n)?;
                // Third and further levels: checked, not kept.
                while let Some(d) = deeper {
                    deeper = read_code(d)?.1;
                }
                Some(sub)
            }
            None => None,
        };
        Ok(Status { code, sub_code, message })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.start("samlp:Status");
        w.start("samlp:StatusCode").attr("Value", &self.code);
        if let Some(sub) = &self.sub_code {
            w.start("samlp:StatusCode").attr("Value", sub).end();
        }
        w.end();
        if let Some(m) = &self.message {
            w.leaf("samlp:StatusMessage", m);
        }
        w.end();
    }
}

/// One `StatusCode`: its Value and its nested StatusCode, if any.
fn read_code<'a, 'i>(node: Node<'a, 'i>) -> Result<(String, Option<Node<'a, 'i>>)> {
    let value = required_attr(node, "Value")?.to_string();
    if value.is_empty() {
        return Err(Error::InvalidValue {
            what: format!("{} attribute Value", describe(node)),
            value,
            reason: "a status code must be a URI".into(),
        });
    }
    let mut seq = Seq::new(node)?;
    let nested = seq.opt(NS_SAMLP, "StatusCode");
    seq.end()?;
    Ok((value, nested))
}
