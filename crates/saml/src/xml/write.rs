//! A minimal streaming XML writer for the messages and metadata we produce. It
//! escapes every text and attribute value it is given, so callers cannot create
//! markup by accident; `raw` exists only for splicing already-serialised XML.

use std::borrow::Cow;

/// Escapes character data: `&`, `<`, `>` and CR (which a parser would
/// otherwise normalise away).
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escapes an attribute value for use inside double quotes, including the
/// whitespace characters that attribute-value normalisation would change.
pub fn escape_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>' | '\r') || (attr && matches!(c, '"' | '\t' | '\n'));
    if !s.contains(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            '"' if attr => out.push_str("&quot;"),
            '\t' if attr => out.push_str("&#x9;"),
            '\n' if attr => out.push_str("&#xA;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Builds an XML document element by element.
///
/// ```
/// let mut w = saml::xml::XmlWriter::new();
/// w.start("a:Root").attr("xmlns:a", "urn:x").attr("ID", "_1");
/// w.leaf("a:Name", "O'Brien & Co");
/// w.end();
/// assert_eq!(w.finish(), r#"<a:Root xmlns:a="urn:x" ID="_1"><a:Name>O'Brien &amp; Co</a:Name></a:Root>"#);
/// ```
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    open: Vec<String>,
    in_start_tag: bool,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts with an XML declaration.
    pub fn with_declaration() -> Self {
        let mut w = Self::new();
        w.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        w
    }

    fn close_start_tag(&mut self) {
        if self.in_start_tag {
            self.out.push('>');
            self.in_start_tag = false;
        }
    }

    /// Opens an element.
    pub fn start(&mut self, qname: &str) -> &mut Self {
        self.close_start_tag();
        self.out.push('<');
        self.out.push_str(qname);
        self.open.push(qname.to_string());
        self.in_start_tag = true;
        self
    }

    /// Adds an attribute to the element just opened.
    pub fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        debug_assert!(self.in_start_tag, "attribute {name} written outside a start tag");
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.out.push_str(&escape_attr(value));
        self.out.push('"');
        self
    }

    /// Adds an attribute when `value` is `Some`.
    pub fn opt_attr(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.attr(name, v);
        }
        self
    }

    /// Writes escaped character data.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.close_start_tag();
        self.out.push_str(&escape_text(text));
        self
    }

    /// Writes `<qname>text</qname>`.
    pub fn leaf(&mut self, qname: &str, text: &str) -> &mut Self {
        self.start(qname).text(text).end()
    }

    /// Splices already-serialised XML (for example a signed assertion).
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.close_start_tag();
        self.out.push_str(xml);
        self
    }

    /// Closes the innermost open element (`<x/>` when it is empty).
    pub fn end(&mut self) -> &mut Self {
        let name = self.open.pop().expect("XmlWriter::end without a matching start");
        if self.in_start_tag {
            self.out.push_str("/>");
            self.in_start_tag = false;
        } else {
            self.out.push_str("</");
            self.out.push_str(&name);
            self.out.push('>');
        }
        self
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.end();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip_through_the_parser() {
        let nasty = "a&b<c>d\"e'f\tg\nh\ri";
        let mut w = XmlWriter::new();
        w.start("r").attr("v", nasty).text(nasty).end();
        let xml = w.finish();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().attribute("v"), Some(nasty));
        assert_eq!(doc.root_element().text(), Some(nasty));
    }
}
