//! Exclusive XML Canonicalization 1.0 (<https://www.w3.org/TR/xml-exc-c14n/>), with
//! and without comments, with the InclusiveNamespaces PrefixList, over a parsed
//! `roxmltree` document. Written here rather than taken from a crate because the
//! signature code must canonicalise exactly the node set it then hands to the
//! caller (the element a Reference names, minus the enveloped Signature), and no
//! maintained Rust crate does that over roxmltree. It is proven byte-identical to
//! libxml2's implementation (through lxml) by a differential test.

use crate::xml::{attr_prefix, element_prefix, NS_XML};
use roxmltree::{Node, NodeId, NodeType};
use std::io::Write as _;

/// What to canonicalise and how.
#[derive(Debug, Clone, Default)]
pub struct C14nOptions {
    /// Keep comments (the `#WithComments` variant).
    pub with_comments: bool,
    /// The InclusiveNamespaces PrefixList: prefixes treated by the inclusive
    /// rules; `#default` names the default namespace.
    pub inclusive_prefixes: Vec<String>,
    /// A subtree left out of the output (the enveloped ds:Signature).
    pub exclude: Option<NodeId>,
}

/// Canonicalises `node`: the whole document when it is the document root, else
/// the subtree of the element `node` (a document subset, as a same-document
/// reference selects it).
pub fn canonicalize(node: Node<'_, '_>, opts: &C14nOptions) -> Vec<u8> {
    let mut c = Canon { out: Vec::with_capacity(node.range().len() + 64), opts, rendered: Vec::new() };
    if node.node_type() == NodeType::Root {
        let mut after_root = false;
        for child in node.children() {
            match child.node_type() {
                NodeType::Element => {
                    c.element(child);
                    after_root = true;
                }
                NodeType::Comment if !opts.with_comments => {}
                NodeType::Comment | NodeType::PI => {
                    if after_root {
                        c.out.push(b'\n');
                    }
                    c.leaf(child);
                    if !after_root {
                        c.out.push(b'\n');
                    }
                }
                _ => {}
            }
        }
    } else if node.is_element() {
        c.element(node);
    }
    c.out
}

struct Canon<'o, 'a> {
    out: Vec<u8>,
    opts: &'o C14nOptions,
    /// Namespace declarations rendered by output ancestors, innermost last:
    /// `(prefix, uri)`, with `None` for the default namespace.
    rendered: Vec<(Option<&'a str>, &'a str)>,
}

impl<'a> Canon<'_, 'a> {
    fn in_effect(&self, prefix: Option<&str>) -> &'a str {
        self.rendered.iter().rev().find(|(p, _)| *p == prefix).map(|(_, u)| *u).unwrap_or("")
    }

    /// Queues `xmlns[:prefix]="uri"` unless the output already has it in effect.
    fn consider(&self, decls: &mut Vec<(Option<&'a str>, &'a str)>, prefix: Option<&'a str>, uri: &'a str) {
        if decls.iter().any(|(p, _)| *p == prefix) {
            return;
        }
        if self.in_effect(prefix) != uri {
            decls.push((prefix, uri));
        }
    }

    fn element(&mut self, node: Node<'a, '_>) {
        if Some(node.id()) == self.opts.exclude {
            return;
        }
        let doc_text = node.document().input_text();
        // Visibly utilised namespaces: the element's own, then its attributes'.
        let mut decls: Vec<(Option<&'a str>, &'a str)> = Vec::new();
        let prefix = element_prefix(node);
        self.consider(&mut decls, prefix, node.tag_name().namespace().unwrap_or(""));
        for attr in node.attributes() {
            if let Some(p) = attr_prefix(node, &attr) {
                if p != "xml" {
                    self.consider(&mut decls, Some(p), attr.namespace().unwrap_or(""));
                }
            }
        }
        // Prefixes named in InclusiveNamespaces follow the inclusive rules.
        for p in &self.opts.inclusive_prefixes {
            if p == "#default" {
                self.consider(&mut decls, None, node.default_namespace().unwrap_or(""));
            } else if p != "xml" {
                if let Some(ns) = node.namespaces().find(|ns| ns.name() == Some(p.as_str())) {
                    self.consider(&mut decls, ns.name(), ns.uri());
                }
            }
        }
        decls
            .sort_by(|a, b| a.0.unwrap_or("").cmp(b.0.unwrap_or("")).then(a.0.is_some().cmp(&b.0.is_some())));

        let qname = qname_text(doc_text, node);
        self.out.push(b'<');
        self.out.extend_from_slice(qname.as_bytes());
        for (p, uri) in &decls {
            match p {
                None => self.out.extend_from_slice(b" xmlns=\""),
                Some(p) => {
                    self.out.extend_from_slice(b" xmlns:");
                    self.out.extend_from_slice(p.as_bytes());
                    self.out.extend_from_slice(b"=\"");
                }
            }
            escape_attr_into(&mut self.out, uri);
            self.out.push(b'"');
        }
        let mut attrs: Vec<_> = node.attributes().collect();
        attrs.sort_by(|a, b| {
            a.namespace().unwrap_or("").cmp(b.namespace().unwrap_or("")).then(a.name().cmp(b.name()))
        });
        for attr in &attrs {
            self.out.push(b' ');
            if attr.namespace() == Some(NS_XML) {
                self.out.extend_from_slice(b"xml:");
                self.out.extend_from_slice(attr.name().as_bytes());
            } else {
                self.out.extend_from_slice(doc_text[attr.range_qname()].as_bytes());
            }
            self.out.extend_from_slice(b"=\"");
            escape_attr_into(&mut self.out, attr.value());
            self.out.push(b'"');
        }
        self.out.push(b'>');

        let mark = self.rendered.len();
        self.rendered.extend(decls);
        for child in node.children() {
            match child.node_type() {
                NodeType::Element => self.element(child),
                NodeType::Text => escape_text_into(&mut self.out, child.text().unwrap_or("")),
                NodeType::Comment if !self.opts.with_comments => {}
                NodeType::Comment | NodeType::PI => self.leaf(child),
                NodeType::Root => {}
            }
        }
        self.rendered.truncate(mark);

        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(qname.as_bytes());
        self.out.push(b'>');
    }

    /// A comment or processing instruction.
    fn leaf(&mut self, node: Node<'_, '_>) {
        if node.is_comment() {
            let _ = write!(self.out, "<!--{}-->", node.text().unwrap_or(""));
        } else if let Some(pi) = node.pi() {
            self.out.extend_from_slice(b"<?");
            self.out.extend_from_slice(pi.target.as_bytes());
            if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                self.out.push(b' ');
                self.out.extend_from_slice(v.as_bytes());
            }
            self.out.extend_from_slice(b"?>");
        }
    }
}

/// The element's qualified name exactly as written in its start tag.
fn qname_text<'i>(doc_text: &'i str, node: Node<'_, '_>) -> &'i str {
    let rest = &doc_text[node.range().start + 1..];
    let end = rest.find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>').unwrap_or(rest.len());
    &rest[..end]
}

fn escape_text_into(out: &mut Vec<u8>, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

/// Escapes an attribute value the canonical way (C14N 1.0 section 2.3).
pub(crate) fn escape_attr_into(out: &mut Vec<u8>, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    fn c14n_doc(xml: &str, opts: &C14nOptions) -> String {
        let doc = parse(xml, &Limits::MESSAGE).unwrap();
        String::from_utf8(canonicalize(doc.root(), opts)).unwrap()
    }

    fn c14n_first_child(xml: &str, opts: &C14nOptions) -> String {
        let doc = parse(xml, &Limits::MESSAGE).unwrap();
        let sub = doc.root_element().first_element_child().unwrap();
        String::from_utf8(canonicalize(sub, opts)).unwrap()
    }

    #[test]
    fn spec_example_empty_elements_attribute_order_and_escaping() {
        let xml = "<?xml version=\"1.0\"?>\n<!-- c --><doc b='2' a=\"1&#9;&amp;&lt;&quot;\"><e/>t&gt;\r\nx</doc><?pi  data?>";
        assert_eq!(
            c14n_doc(xml, &C14nOptions::default()),
            "<doc a=\"1&#x9;&amp;&lt;&quot;\" b=\"2\"><e></e>t&gt;\nx</doc>\n<?pi data?>"
        );
        let with = C14nOptions { with_comments: true, ..Default::default() };
        assert!(c14n_doc(xml, &with).starts_with("<!-- c -->\n<doc"));
    }

    #[test]
    fn exclusive_renders_only_visibly_used_namespaces() {
        let xml = "<r xmlns:a='urn:a' xmlns:b='urn:b' xmlns='urn:d'><a:x b:y='1'><z/></a:x></r>";
        assert_eq!(
            c14n_first_child(xml, &C14nOptions::default()),
            "<a:x xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" b:y=\"1\"><z xmlns=\"urn:d\"></z></a:x>"
        );
    }

    #[test]
    fn inclusive_prefix_list_pulls_in_unused_namespaces() {
        let xml = "<r xmlns:a='urn:a' xmlns:xs='urn:xs' xmlns='urn:d'><a:x/></r>";
        let opts =
            C14nOptions { inclusive_prefixes: vec!["xs".into(), "#default".into()], ..Default::default() };
        assert_eq!(
            c14n_first_child(xml, &opts),
            "<a:x xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:xs=\"urn:xs\"></a:x>"
        );
    }

    #[test]
    fn default_namespace_is_undeclared_when_needed() {
        let xml = "<r xmlns='urn:d'><x xmlns=''><y/></x></r>";
        assert_eq!(
            c14n_doc(xml, &C14nOptions::default()),
            "<r xmlns=\"urn:d\"><x xmlns=\"\"><y></y></x></r>"
        );
        // As a subset, nothing rendered the default namespace, so no xmlns="" either.
        assert_eq!(c14n_first_child(xml, &C14nOptions::default()), "<x><y></y></x>");
    }

    #[test]
    fn excluded_subtree_is_left_out() {
        let xml = "<r ID='a'><s><t/></s><u/></r>";
        let doc = parse(xml, &Limits::MESSAGE).unwrap();
        let s = doc.root_element().first_element_child().unwrap();
        let opts = C14nOptions { exclude: Some(s.id()), ..Default::default() };
        assert_eq!(
            String::from_utf8(canonicalize(doc.root_element(), &opts)).unwrap(),
            "<r ID=\"a\"><u></u></r>"
        );
    }
}
