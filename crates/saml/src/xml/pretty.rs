//! Indented rendering of a parsed document, for people reading messages
//! (`portcullis saml decode`, admin pages). Never signed or sent: indentation
//! changes the signed bytes.

use super::read::element_prefix;
use super::write::{escape_attr, escape_text};
use roxmltree::{Node, NodeType};

/// Renders `node` (an element, or the document root) indented by two spaces.
/// Whitespace-only text is dropped; other text is kept as written.
pub fn pretty(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    match node.node_type() {
        NodeType::Root => {
            for child in node.children() {
                write_node(child, 0, &mut out);
            }
        }
        _ => write_node(node, 0, &mut out),
    }
    out
}

fn write_node(node: Node<'_, '_>, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    match node.node_type() {
        NodeType::Element => write_element(node, depth, out),
        NodeType::Text => {
            let t = node.text().unwrap_or("");
            if !t.trim().is_empty() {
                out.push_str(&indent);
                out.push_str(&escape_text(t.trim()));
                out.push('\n');
            }
        }
        NodeType::Comment => {
            out.push_str(&format!("{indent}<!--{}-->\n", node.text().unwrap_or("")));
        }
        NodeType::PI => {
            if let Some(pi) = node.pi() {
                out.push_str(&format!("{indent}<?{} {}?>\n", pi.target, pi.value.unwrap_or("")));
            }
        }
        NodeType::Root => {}
    }
}

fn write_element(node: Node<'_, '_>, depth: usize, out: &mut String) {
    let input = node.document().input_text();
    let indent = "  ".repeat(depth);
    let qname = match element_prefix(node) {
        Some(p) => format!("{p}:{}", node.tag_name().name()),
        None => node.tag_name().name().to_string(),
    };
    out.push_str(&indent);
    out.push('<');
    out.push_str(&qname);
    let parent_ns: Vec<_> = node
        .parent_element()
        .map(|p| p.namespaces().map(|n| (n.name(), n.uri().to_string())).collect())
        .unwrap_or_default();
    for ns in node.namespaces() {
        if parent_ns.iter().any(|(p, u)| *p == ns.name() && u == ns.uri()) {
            continue;
        }
        match ns.name() {
            Some(p) => out.push_str(&format!(" xmlns:{p}=\"{}\"", escape_attr(ns.uri()))),
            None => out.push_str(&format!(" xmlns=\"{}\"", escape_attr(ns.uri()))),
        }
    }
    for a in node.attributes() {
        out.push_str(&format!(" {}=\"{}\"", &input[a.range_qname()], escape_attr(a.value())));
    }
    let kids: Vec<_> =
        node.children().filter(|c| !(c.is_text() && c.text().unwrap_or("").trim().is_empty())).collect();
    match kids.as_slice() {
        [] => out.push_str("/>\n"),
        [only] if only.is_text() => {
            out.push('>');
            out.push_str(&escape_text(only.text().unwrap_or("")));
            out.push_str(&format!("</{qname}>\n"));
        }
        _ => {
            out.push_str(">\n");
            for k in kids {
                write_node(k, depth + 1, out);
            }
            out.push_str(&format!("{indent}</{qname}>\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    #[test]
    fn indents_and_keeps_declarations_where_they_were() {
        let doc = parse("<a:r xmlns:a='urn:a'><a:x k='v'>t</a:x><y/></a:r>", &Limits::MESSAGE).unwrap();
        assert_eq!(pretty(doc.root()), "<a:r xmlns:a=\"urn:a\">\n  <a:x k=\"v\">t</a:x>\n  <y/>\n</a:r>\n");
    }
}
