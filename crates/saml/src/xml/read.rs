//! Small helpers for reading a parsed document. They keep the rules in one place:
//! element text is the concatenation of all its text children (so a comment in
//! the middle of a NameID cannot truncate it), and an element with element
//! children has no simple text.

use crate::error::{Error, Result};
use roxmltree::{Attribute, Node};

/// True when `node` is an element named `{ns}local`.
pub fn is_element(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(ns)
}

/// The element children of `node`, skipping text, comments and PIs.
pub fn element_children<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|c| c.is_element())
}

/// The first element child named `{ns}local`.
pub fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    element_children(node).find(|c| is_element(*c, ns, local))
}

/// All element children named `{ns}local`.
pub fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    element_children(node).filter(move |c| is_element(*c, ns, local))
}

/// The one element child named `{ns}local`; an error names the missing child.
pub fn required_child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Result<Node<'a, 'i>> {
    child(node, ns, local)
        .ok_or_else(|| Error::MissingElement { parent: describe(node), child: local.to_string() })
}

/// An attribute in no namespace, required.
pub fn required_attr<'a>(node: Node<'a, '_>, name: &str) -> Result<&'a str> {
    node.attribute(name)
        .ok_or_else(|| Error::MissingAttribute { element: describe(node), attribute: name.to_string() })
}

/// The text of a simple-content element: every text child concatenated, comments
/// and processing instructions skipped. An element child is an error, because
/// SAML's simple types never contain one and reading "the first text node"
/// is exactly the comment-truncation bug (CVE-2017-11427 family).
pub fn text_content(node: Node<'_, '_>) -> Result<String> {
    let mut out = String::new();
    for c in node.children() {
        if c.is_element() {
            return Err(Error::InvalidValue {
                what: describe(node),
                value: describe(c),
                reason: "a simple-content element must not contain elements".into(),
            });
        }
        if c.is_text() {
            out.push_str(c.text().unwrap_or(""));
        }
    }
    Ok(out)
}

/// The namespace prefix an element was written with, if any (`samlp` for
/// `<samlp:Response>`). roxmltree resolves prefixes away; C14N needs them back.
pub fn element_prefix<'i>(node: Node<'_, 'i>) -> Option<&'i str> {
    let input = node.document().input_text();
    let start = node.range().start + 1;
    let rest = &input[start..];
    let end = rest.find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>').unwrap_or(rest.len());
    rest[..end].split_once(':').map(|(p, _)| p)
}

/// The namespace prefix an attribute was written with, if any.
pub fn attr_prefix<'i>(node: Node<'_, 'i>, attr: &Attribute<'_, 'i>) -> Option<&'i str> {
    let input = node.document().input_text();
    input[attr.range_qname()].split_once(':').map(|(p, _)| p)
}

/// `<prefix:Local>` as written, for error messages.
pub fn describe(node: Node<'_, '_>) -> String {
    if !node.is_element() {
        return format!("{:?} node", node.node_type());
    }
    match element_prefix(node) {
        Some(p) => format!("<{}:{}>", p, node.tag_name().name()),
        None => format!("<{}>", node.tag_name().name()),
    }
}

/// The `ID` attribute of an element, if it has one.
pub fn id_of<'a>(node: Node<'a, '_>) -> Option<&'a str> {
    node.attribute("ID")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    #[test]
    fn text_is_never_truncated_by_comments_or_cdata() {
        let doc = parse("<n>user@example.com<!---->.evil.com<![CDATA[!]]></n>", &Limits::MESSAGE).unwrap();
        assert_eq!(text_content(doc.root_element()).unwrap(), "user@example.com.evil.com!");
    }

    #[test]
    fn text_with_element_child_is_refused() {
        let doc = parse("<n>a<b/>c</n>", &Limits::MESSAGE).unwrap();
        assert_eq!(text_content(doc.root_element()).unwrap_err().code(), "SAML_INVALID_VALUE");
    }

    #[test]
    fn prefixes_are_recovered() {
        let doc = parse("<p:a xmlns:p='u' xmlns:q='v' q:x='1' y='2'><b/></p:a>", &Limits::MESSAGE).unwrap();
        let r = doc.root_element();
        assert_eq!(element_prefix(r), Some("p"));
        let prefixes: Vec<_> = r.attributes().map(|a| attr_prefix(r, &a)).collect();
        assert_eq!(prefixes, vec![Some("q"), None]);
        assert_eq!(element_prefix(r.first_element_child().unwrap()), None);
        assert_eq!(describe(r), "<p:a>");
    }
}
