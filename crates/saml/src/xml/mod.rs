//! The one XML parser for everything that comes from outside (`roxmltree`), wrapped
//! with the limits SAML needs: bounded size, depth and node count, no DTDs (so no
//! XXE and no entity expansion), and unique IDs (so a signature reference can name
//! only one element). Also small read helpers and the writer used to serialise.

mod names;
mod pretty;
mod read;
mod write;

pub use names::*;
pub use pretty::pretty;
pub use read::*;
pub use write::{escape_attr, escape_text, XmlWriter};

use crate::error::{Error, Result};
use roxmltree::{Document, ParsingOptions};
use std::collections::HashSet;

/// Bounds applied to untrusted XML before and while it is parsed.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
    /// Most nodes (elements, attributes, text, ...) the parser may create.
    pub max_nodes: u32,
}

impl Limits {
    /// Limits for protocol messages (requests, responses): 1 MiB, depth 48.
    pub const MESSAGE: Limits = Limits { max_bytes: 1 << 20, max_depth: 48, max_nodes: 100_000 };
    /// Limits for metadata, which may aggregate many entities: 64 MiB, depth 64.
    pub const METADATA: Limits = Limits { max_bytes: 64 << 20, max_depth: 64, max_nodes: 20_000_000 };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::MESSAGE
    }
}

/// Parses untrusted XML under `limits`.
///
/// Refuses: input over the size limit, any `<!DOCTYPE` or `<!ENTITY` (even an
/// empty internal subset: SAML never needs one), malformed XML, nesting deeper
/// than the limit, and two elements sharing an `ID`/`Id`/`id`/`xml:id` value.
pub fn parse<'i>(input: &'i str, limits: &Limits) -> Result<Document<'i>> {
    if input.len() > limits.max_bytes {
        return Err(Error::InputTooLarge { size: input.len(), limit: limits.max_bytes });
    }
    if input.contains("<!DOCTYPE") || input.contains("<!ENTITY") {
        return Err(Error::DtdForbidden);
    }
    let opts = ParsingOptions { allow_dtd: false, nodes_limit: limits.max_nodes, ..Default::default() };
    let doc = Document::parse_with_options(input, opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected => Error::DtdForbidden,
        roxmltree::Error::EntityReferenceLoop(_) => Error::DtdForbidden,
        roxmltree::Error::NodesLimitReached => Error::XmlTooManyNodes { limit: limits.max_nodes },
        other => Error::XmlMalformed(other.to_string()),
    })?;
    check_depth_and_ids(&doc, limits.max_depth)?;
    check_names(&doc)?;
    Ok(doc)
}

/// Parses untrusted bytes, which must be UTF-8 (the only encoding SAML uses).
pub fn parse_bytes<'i>(input: &'i [u8], limits: &Limits) -> Result<Document<'i>> {
    if input.len() > limits.max_bytes {
        return Err(Error::InputTooLarge { size: input.len(), limit: limits.max_bytes });
    }
    let s = std::str::from_utf8(input).map_err(|_| Error::NotUtf8)?;
    parse(s, limits)
}

/// roxmltree is lenient in places that would let a document through that other
/// parsers refuse (and that would not survive canonicalisation): an empty
/// namespace prefix (`<:e>`), a prefix bound to the empty namespace
/// (`xmlns:p=""`, XML Namespaces 1.1 only) and a processing instruction named `xml`.
fn check_names(doc: &Document<'_>) -> Result<()> {
    let input = doc.input_text();
    for node in doc.descendants() {
        if let Some(pi) = node.pi() {
            if pi.target.eq_ignore_ascii_case("xml") {
                return Err(Error::XmlMalformed("a processing instruction may not be named 'xml'".into()));
            }
        }
        if node.is_element() {
            if input[node.range().start + 1..].starts_with(':') {
                return Err(Error::XmlMalformed("an element name has an empty namespace prefix".into()));
            }
            if node.attributes().any(|a| input[a.range_qname()].starts_with(':')) {
                return Err(Error::XmlMalformed("an attribute name has an empty namespace prefix".into()));
            }
            if node.namespaces().any(|ns| ns.name().is_some() && ns.uri().is_empty()) {
                return Err(Error::XmlMalformed(
                    "a prefix is bound to the empty namespace (xmlns:p=\"\")".into(),
                ));
            }
        }
    }
    Ok(())
}

fn check_depth_and_ids(doc: &Document<'_>, max_depth: usize) -> Result<()> {
    let mut ids: HashSet<&str> = HashSet::new();
    // Iterative walk keeping the depth of each element: recursion here would put
    // the stack at the mercy of the input before the depth check could run.
    let mut stack = vec![(doc.root_element(), 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > max_depth {
            return Err(Error::XmlTooDeep { limit: max_depth });
        }
        for attr in node.attributes() {
            let is_id = match attr.namespace() {
                None => matches!(attr.name(), "ID" | "Id" | "id"),
                Some(ns) => ns == NS_XML && attr.name() == "id",
            };
            if is_id && !ids.insert(attr.value()) {
                return Err(Error::DuplicateId(attr.value().to_string()));
            }
        }
        for child in node.children().filter(|c| c.is_element()) {
            stack.push((child, depth + 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_dtds_and_entities() {
        let cases = [
            "<!DOCTYPE r><r/>",
            "<!DOCTYPE r [<!ENTITY a 'x'>]><r>&a;</r>",
            "<?xml version='1.0'?><!DOCTYPE r SYSTEM 'file:///etc/passwd'><r/>",
        ];
        for c in cases {
            assert_eq!(parse(c, &Limits::MESSAGE).unwrap_err().code(), "XML_DTD_FORBIDDEN", "{c}");
        }
    }

    #[test]
    fn bounds_size_depth_and_nodes() {
        let big = format!("<r>{}</r>", "a".repeat(2 << 20));
        assert_eq!(parse(&big, &Limits::MESSAGE).unwrap_err().code(), "INPUT_TOO_LARGE");
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(parse(&deep, &Limits::MESSAGE).unwrap_err().code(), "XML_TOO_DEEP");
        let many = format!("<r>{}</r>", "<a/>".repeat(200));
        let small = Limits { max_nodes: 100, ..Limits::MESSAGE };
        assert_eq!(parse(&many, &small).unwrap_err().code(), "XML_TOO_MANY_NODES");
    }

    #[test]
    fn refuses_duplicate_ids_across_id_spellings() {
        for c in
            ["<r ID='a'><x ID='a'/></r>", "<r ID='a'><x Id='a'/></r>", "<r><x id='a'/><y xml:id='a'/></r>"]
        {
            assert_eq!(parse(c, &Limits::MESSAGE).unwrap_err().code(), "XML_DUPLICATE_ID", "{c}");
        }
        parse("<r ID='a'><x ID='b'/></r>", &Limits::MESSAGE).unwrap();
    }

    #[test]
    fn refuses_malformed_and_non_utf8() {
        assert_eq!(parse("<r><a></r>", &Limits::MESSAGE).unwrap_err().code(), "XML_MALFORMED");
        assert_eq!(parse("<r/><r/>", &Limits::MESSAGE).unwrap_err().code(), "XML_MALFORMED");
        assert_eq!(parse_bytes(b"<r>\xff</r>", &Limits::MESSAGE).unwrap_err().code(), "INPUT_NOT_UTF8");
        // Found by the c14n fuzz target: roxmltree accepts these, other parsers do not.
        for c in [
            "<r><:e xmlns='urn:d'/></r>",
            "<r :a='1'/>",
            "<?xml!version=\"1.0\"?><r/>",
            "<r><?XmL x?></r>",
            "<a:r xmlns:a=''/>",
            "<r xmlns:a='u'><s xmlns:a=''/></r>",
        ] {
            assert_eq!(parse(c, &Limits::MESSAGE).unwrap_err().code(), "XML_MALFORMED", "{c}");
        }
    }
}
