//! A one-screen summary of a SAML message for people debugging SSO. It reads the
//! document leniently, to show whatever is there, and says that nothing in it is
//! verified: trust decisions belong to `saml verify` and the SP/IdP code, which
//! read only signed elements.

use roxmltree::{Document, Node};
use saml::xml::{self, NS_DS, NS_SAML, NS_SAMLP};
use serde_json::{json, Map, Value};

fn first<'a, 'i>(root: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    root.descendants().find(|n| xml::is_element(*n, ns, local))
}

fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    node.map(|n| xml::text_content(n).unwrap_or_else(|_| "(complex content)".into()))
}

/// The summary as JSON (also the source of the text rendering).
pub fn summarize(doc: &Document<'_>) -> Value {
    let root = doc.root_element();
    let mut s = Map::new();
    s.insert("type".into(), json!(root.tag_name().name()));
    for (key, attr) in [
        ("id", "ID"),
        ("issue_instant", "IssueInstant"),
        ("destination", "Destination"),
        ("in_response_to", "InResponseTo"),
        ("assertion_consumer_service_url", "AssertionConsumerServiceURL"),
        ("protocol_binding", "ProtocolBinding"),
    ] {
        if let Some(v) = root.attribute(attr) {
            s.insert(key.into(), json!(v));
        }
    }
    let issuer = xml::child(root, NS_SAML, "Issuer").or_else(|| first(root, NS_SAML, "Issuer"));
    s.insert("issuer".into(), json!(text(issuer)));
    if let Some(status) = xml::child(root, NS_SAMLP, "Status") {
        let codes: Vec<&str> = status
            .descendants()
            .filter(|n| xml::is_element(*n, NS_SAMLP, "StatusCode"))
            .filter_map(|n| n.attribute("Value"))
            .collect();
        s.insert("status".into(), json!(codes));
        if let Some(m) = text(xml::child(status, NS_SAMLP, "StatusMessage")) {
            s.insert("status_message".into(), json!(m));
        }
    }
    if let Some(policy) = first(root, NS_SAMLP, "NameIDPolicy") {
        s.insert("name_id_policy".into(), json!(policy.attribute("Format")));
    }
    if let Some(name_id) = first(root, NS_SAML, "NameID") {
        s.insert("name_id".into(), json!(text(Some(name_id))));
        s.insert("name_id_format".into(), json!(name_id.attribute("Format")));
    }
    let assertions = root.descendants().filter(|n| xml::is_element(*n, NS_SAML, "Assertion")).count();
    let encrypted = root.descendants().filter(|n| xml::is_element(*n, NS_SAML, "EncryptedAssertion")).count();
    if assertions + encrypted > 0 || root.tag_name().name() == "Response" {
        s.insert("assertions".into(), json!(assertions));
        s.insert("encrypted_assertions".into(), json!(encrypted));
    }
    let audiences: Vec<String> = root
        .descendants()
        .filter(|n| xml::is_element(*n, NS_SAML, "Audience"))
        .filter_map(|n| text(Some(n)))
        .collect();
    if !audiences.is_empty() {
        s.insert("audiences".into(), json!(audiences));
    }
    let mut validity = Map::new();
    if let Some(c) = first(root, NS_SAML, "Conditions") {
        validity.insert("conditions_not_before".into(), json!(c.attribute("NotBefore")));
        validity.insert("conditions_not_on_or_after".into(), json!(c.attribute("NotOnOrAfter")));
    }
    if let Some(d) = first(root, NS_SAML, "SubjectConfirmationData") {
        validity.insert("subject_confirmation_not_on_or_after".into(), json!(d.attribute("NotOnOrAfter")));
        validity.insert("recipient".into(), json!(d.attribute("Recipient")));
    }
    if let Some(a) = first(root, NS_SAML, "AuthnStatement") {
        validity.insert("session_not_on_or_after".into(), json!(a.attribute("SessionNotOnOrAfter")));
        validity.insert("session_index".into(), json!(a.attribute("SessionIndex")));
    }
    if !validity.is_empty() {
        s.insert("validity".into(), Value::Object(validity));
    }
    let mut attributes = Map::new();
    for a in root.descendants().filter(|n| xml::is_element(*n, NS_SAML, "Attribute")) {
        let name = a.attribute("Name").unwrap_or("(no Name)").to_string();
        let values: Vec<Value> =
            xml::children(a, NS_SAML, "AttributeValue").map(|v| json!(text(Some(v)))).collect();
        match attributes.get_mut(&name) {
            Some(Value::Array(existing)) => existing.extend(values),
            _ => {
                attributes.insert(name, Value::Array(values));
            }
        }
    }
    if !attributes.is_empty() {
        s.insert("attributes".into(), Value::Object(attributes));
    }
    let signed: Vec<Value> = root
        .descendants()
        .filter(|n| xml::is_element(*n, NS_DS, "Signature"))
        .map(|sig| {
            let parent = sig.parent_element();
            let method = first(sig, NS_DS, "SignatureMethod").and_then(|m| m.attribute("Algorithm"));
            json!({
                "element": parent.map(|p| p.tag_name().name()),
                "id": parent.and_then(|p| p.attribute("ID")),
                "reference": first(sig, NS_DS, "Reference").and_then(|r| r.attribute("URI")),
                "algorithm": method,
            })
        })
        .collect();
    s.insert("signatures".into(), json!(signed));
    Value::Object(s)
}

/// The summary as aligned text lines.
pub fn render_text(summary: &Value) -> String {
    let mut out = String::new();
    let Value::Object(map) = summary else { return out };
    for (key, value) in map {
        match (key.as_str(), value) {
            ("attributes", Value::Object(attrs)) => {
                out.push_str("attributes:\n");
                for (name, values) in attrs {
                    let vals: Vec<String> = values
                        .as_array()
                        .map(|a| a.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect())
                        .unwrap_or_default();
                    out.push_str(&format!("  {name} = {}\n", vals.join(" | ")));
                }
            }
            ("validity", Value::Object(v)) => {
                out.push_str("validity:\n");
                for (k, val) in v.iter().filter(|(_, val)| !val.is_null()) {
                    out.push_str(&format!("  {k}: {}\n", val.as_str().unwrap_or("")));
                }
            }
            ("signatures", Value::Array(sigs)) => {
                if sigs.is_empty() {
                    out.push_str("signatures: none\n");
                }
                for sig in sigs {
                    out.push_str(&format!(
                        "signature: on <{}> ID={} reference={} algorithm={} (NOT verified here; use `portcullis saml verify --cert`)\n",
                        sig["element"].as_str().unwrap_or("?"),
                        sig["id"].as_str().unwrap_or("-"),
                        sig["reference"].as_str().unwrap_or("-"),
                        sig["algorithm"].as_str().unwrap_or("-"),
                    ));
                }
            }
            (_, Value::Null) => {}
            (_, Value::String(s)) => out.push_str(&format!("{key}: {s}\n")),
            (_, other) => out.push_str(&format!("{key}: {other}\n")),
        }
    }
    out
}
