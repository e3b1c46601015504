//! Property tests for the HTTP-Redirect and HTTP-POST bindings:
//!
//! - encode → decode is the identity for any message text and RelayState, on the
//!   Redirect binding (unsigned and signed) and the POST binding;
//! - a signed redirect query verifies with the signer's certificate, and changing
//!   any one byte of the signed octets (message, RelayState, SigAlg, or the
//!   separators between them) makes it fail, as does swapping the RelayState or
//!   the SigAlg for another valid value;
//! - the decoders return an error, never a panic, on arbitrary input.

use proptest::prelude::*;
use saml::bindings::{
    decode_post_value, decode_query, post_form, redirect_query, MessageParam, QuerySigner,
    MAX_RELAY_STATE_BYTES,
};
use saml::crypto::{Certificate, SignatureAlgorithm, SigningKey};
use std::sync::OnceLock;

/// One RSA key for the whole file (generation is slow in debug builds).
fn key_and_cert() -> &'static (SigningKey, Certificate) {
    static K: OnceLock<(SigningKey, Certificate)> = OnceLock::new();
    K.get_or_init(|| {
        let key = SigningKey::generate(2048).unwrap();
        let cert =
            Certificate::self_signed(&key, "bindings proptest", time::OffsetDateTime::now_utc(), 30).unwrap();
        (key, cert)
    })
}

fn certs() -> &'static [Certificate] {
    std::slice::from_ref(&key_and_cert().1)
}

fn signer(algorithm: SignatureAlgorithm) -> QuerySigner<'static> {
    QuerySigner { key: &key_and_cert().0, algorithm }
}

fn param() -> impl Strategy<Value = MessageParam> {
    prop_oneof![Just(MessageParam::Request), Just(MessageParam::Response)]
}

fn algorithm() -> impl Strategy<Value = SignatureAlgorithm> {
    prop_oneof![
        Just(SignatureAlgorithm::RsaSha256),
        Just(SignatureAlgorithm::RsaSha384),
        Just(SignatureAlgorithm::RsaSha512)
    ]
}

/// Message text: arbitrary Unicode, plus XML-looking text. The bindings carry
/// text; well-formedness is the XML parser's business.
fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "<samlp:AuthnRequest ID=\"_[a-z0-9]{1,20}\">[ -~\r\n\té€𝄞]{0,400}</samlp:AuthnRequest>",
    ]
}

/// RelayState within the 80-byte limit: arbitrary Unicode, trimmed to fit.
fn relay_state() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>().prop_map(|s| {
        let mut end = s.len().min(MAX_RELAY_STATE_BYTES);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    }))
}

/// Bytes a tampered query may contain at the changed position.
const REPLACEMENTS: &[u8] = b"ABCabc0189+/=%&-._~ ";

/// Reads back a hidden input's value the way an HTML parser decodes the
/// character references `post_form` emits.
fn input_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let raw = &page[start..start + page[start..].find('"')?];
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#xD;", "\r")
            .replace("&#xA;", "\n")
            .replace("&#x9;", "\t")
            .replace("&amp;", "&"),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn redirect_unsigned_round_trip(p in param(), xml in message(), rs in relay_state()) {
        let q = redirect_query(p, &xml, rs.as_deref(), None).unwrap();
        let m = decode_query(&q).unwrap();
        prop_assert_eq!(m.param(), p);
        prop_assert_eq!(m.xml(), xml.as_str());
        prop_assert_eq!(m.relay_state(), rs.as_deref());
        prop_assert!(!m.is_signed());
        prop_assert_eq!(m.verify_signature(certs(), false).unwrap_err().code(), "SIG_MISSING");
    }

    #[test]
    fn redirect_signed_round_trip_verifies(
        p in param(), xml in message(), rs in relay_state(), alg in algorithm()
    ) {
        let q = redirect_query(p, &xml, rs.as_deref(), Some(signer(alg))).unwrap();
        let m = decode_query(&q).unwrap();
        prop_assert_eq!(m.xml(), xml.as_str());
        prop_assert_eq!(m.relay_state(), rs.as_deref());
        prop_assert_eq!(m.sig_alg(), Some(alg.uri()));
        prop_assert!(q.starts_with(m.signed_octets().unwrap()));
        prop_assert_eq!(m.verify_signature(certs(), false).unwrap(), 0);
    }

    #[test]
    fn redirect_any_changed_signed_byte_fails(
        p in param(), xml in message(), rs in relay_state(), at in any::<prop::sample::Index>(),
        with in prop::sample::select(REPLACEMENTS),
    ) {
        let q = redirect_query(p, &xml, rs.as_deref(), Some(signer(SignatureAlgorithm::RsaSha256))).unwrap();
        let signed_len = decode_query(&q).unwrap().signed_octets().unwrap().len();
        let i = at.index(signed_len);
        prop_assume!(q.as_bytes()[i] != with);
        let mut bytes = q.into_bytes();
        bytes[i] = with;
        let tampered = String::from_utf8(bytes).unwrap();
        // Either the query no longer decodes, or its signature no longer verifies.
        if let Ok(m) = decode_query(&tampered) {
            prop_assert!(m.verify_signature(certs(), true).is_err(), "verified after changing byte {}", i);
        }
    }

    #[test]
    fn redirect_changed_relay_state_or_sig_alg_fails(
        xml in message(), rs in relay_state(), other_rs in relay_state(), alg in algorithm(),
        other_alg in algorithm(),
    ) {
        let q = redirect_query(MessageParam::Request, &xml, rs.as_deref(), Some(signer(alg))).unwrap();
        let m = decode_query(&q).unwrap();
        let octets = m.signed_octets().unwrap();
        let message_part = octets.split('&').next().unwrap();
        let signature_part = &q[octets.len()..];
        // Rebuild the query with another RelayState (or none) and/or another SigAlg,
        // keeping the message and the signature.
        let other = redirect_query(MessageParam::Request, "x", other_rs.as_deref(), Some(signer(other_alg))).unwrap();
        let other_octets = decode_query(&other).unwrap().signed_octets().unwrap().to_string();
        let rest = other_octets.split_once('&').map(|(_, r)| r).unwrap();
        let tampered = format!("{message_part}&{rest}{signature_part}");
        let changed = (rs != other_rs) || (alg != other_alg);
        let result = decode_query(&tampered).unwrap().verify_signature(certs(), false);
        if changed {
            prop_assert_eq!(result.unwrap_err().code(), "BINDING_QUERY_SIGNATURE_INVALID");
        } else {
            prop_assert_eq!(result.unwrap(), 0);
        }
    }

    #[test]
    fn post_round_trip(p in param(), xml in message(), rs in proptest::option::of(any::<String>())) {
        let page = post_form("https://sp.example.org/acs?x=1&y=2", p, &xml, rs.as_deref()).unwrap();
        let value = input_value(&page, p.name()).unwrap();
        prop_assert_eq!(decode_post_value(&value).unwrap(), xml);
        prop_assert_eq!(input_value(&page, "RelayState"), rs);
        prop_assert_eq!(page.matches("<script").count(), 1);
    }

    #[test]
    fn post_decode_tolerates_any_line_wrapping(xml in message(), width in 1usize..100, crlf in any::<bool>()) {
        let page = post_form("https://sp.example.org/acs", MessageParam::Response, &xml, None).unwrap();
        let value = input_value(&page, "SAMLResponse").unwrap();
        let sep = if crlf { "\r\n" } else { "\n" };
        let wrapped: Vec<&str> = value.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect();
        prop_assert_eq!(decode_post_value(&wrapped.join(sep)).unwrap(), xml);
    }

    #[test]
    fn decoders_never_panic(s in any::<String>(), query in "[A-Za-z0-9%+/=&?#~._-]{0,300}") {
        let _ = decode_query(&s);
        let _ = decode_query(&query);
        let _ = decode_query(&format!("SAMLRequest={query}"));
        let _ = decode_post_value(&s);
        let _ = decode_post_value(&query);
    }
}
