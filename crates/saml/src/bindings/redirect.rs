//! HTTP-Redirect binding (SAML 2.0 bindings, section 3.4).
//!
//! Producing: the XML is compressed with raw DEFLATE (RFC 1951, no zlib header),
//! base64-encoded (standard alphabet, one line), form-encoded (`+` for a space,
//! upper-case `%XX`, exactly as Python's `quote_plus`) and appended to
//! the endpoint as `SAMLRequest` or `SAMLResponse`, then `RelayState` and, when
//! signing, `SigAlg` and `Signature`. The signature covers exactly the octets
//! `SAMLRequest=…&RelayState=…&SigAlg=…` as they appear in the URL (3.4.4.1).
//! Any `ds:Signature` inside the XML must be left out by the caller: the binding
//! signs the query, not the message.
//!
//! Consuming: [`decode_query`] takes the query string exactly as received and
//! rebuilds the signed octets from the raw, still percent-encoded values, because
//! peers encode differently (`%2f` or `%2F`, `+` or `%20`) and re-encoding would
//! break their signatures. [`RedirectMessage::verify_signature`] then checks them.

use super::{check_endpoint_url, decode_base64, encode_base64, MessageParam, MAX_MESSAGE_BYTES};
use crate::crypto::{Certificate, SignatureAlgorithm, SigningKey};
use crate::error::{Error, Result};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The bindings spec's limit on RelayState (3.4.3): enforced on what we produce.
pub const MAX_RELAY_STATE_BYTES: usize = 80;

/// Largest query string [`decode_query`] looks at: 4 MiB, enough for a
/// [`MAX_MESSAGE_BYTES`] message that does not compress at all, after base64 and
/// percent-encoding. Real servers cap URLs far lower; this only bounds the work.
pub const MAX_QUERY_BYTES: usize = 4 << 20;

/// `SAMLEncoding` value for DEFLATE, the default and the only one we support.
const DEFLATE_ENCODING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE";

/// Characters left as they are in a query value: RFC 3986 unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Form-style encoding, as Python's `quote_plus` and Ruby's `CGI.escape` do it:
/// unreserved characters as they are, space as `+`, every other byte as upper-case
/// `%XX`. Verifiers that re-encode the decoded values before checking the
/// signature (pysaml2, python3-saml, ruby-saml) rebuild exactly these octets.
fn encode_value(value: &str) -> String {
    // '+' itself is encoded as %2B, so turning %20 into '+' is unambiguous.
    utf8_percent_encode(value, QUERY_VALUE).to_string().replace("%20", "+")
}

/// A key and an algorithm to sign a redirect query with.
#[derive(Debug, Clone, Copy)]
pub struct QuerySigner<'k> {
    pub key: &'k SigningKey,
    /// RSA-SHA256 unless a peer needs otherwise. RSA-SHA1 cannot sign.
    pub algorithm: SignatureAlgorithm,
}

/// Builds the query string (without a leading `?`) that carries `xml`.
///
/// Errors: [`Error::RelayStateTooLong`] for a RelayState over 80 bytes, and
/// signing errors ([`Error::Sha1NotAllowed`] when asked to sign with RSA-SHA1).
pub fn redirect_query(
    param: MessageParam,
    xml: &str,
    relay_state: Option<&str>,
    signer: Option<QuerySigner<'_>>,
) -> Result<String> {
    if let Some(rs) = relay_state {
        if rs.len() > MAX_RELAY_STATE_BYTES {
            return Err(Error::RelayStateTooLong { len: rs.len(), limit: MAX_RELAY_STATE_BYTES });
        }
    }
    let message = encode_base64(&deflate(xml.as_bytes())?);
    let mut query = format!("{}={}", param.name(), encode_value(&message));
    if let Some(rs) = relay_state {
        query.push_str("&RelayState=");
        query.push_str(&encode_value(rs));
    }
    if let Some(signer) = signer {
        query.push_str("&SigAlg=");
        query.push_str(&encode_value(signer.algorithm.uri()));
        let signature = signer.key.sign(signer.algorithm, query.as_bytes())?;
        query.push_str("&Signature=");
        query.push_str(&encode_value(&encode_base64(&signature)));
    }
    Ok(query)
}

/// Builds the URL to redirect the browser to: `endpoint` plus the query from
/// [`redirect_query`]. The endpoint may already carry a query string (its
/// parameters are kept first, as bindings 3.4.4 allows) but none of the binding's
/// own parameters; it must be an absolute http(s) URL.
pub fn redirect_url(
    endpoint: &str,
    param: MessageParam,
    xml: &str,
    relay_state: Option<&str>,
    signer: Option<QuerySigner<'_>>,
) -> Result<String> {
    check_endpoint_url(endpoint)?;
    // A fragment never reaches the server; keep it after the query where it belongs.
    let (base, fragment) = match endpoint.find('#') {
        Some(i) => endpoint.split_at(i),
        None => (endpoint, ""),
    };
    if let Some((_, existing)) = base.split_once('?') {
        for segment in existing.split('&') {
            let name = segment.split_once('=').map_or(segment, |(n, _)| n);
            if let Some(ours) = binding_param(&percent_decode_lenient(name)) {
                return Err(Error::Url(format!(
                    "endpoint {endpoint:?} already carries the binding parameter {}",
                    ours.name()
                )));
            }
        }
    }
    let query = redirect_query(param, xml, relay_state, signer)?;
    let glue = match base.split_once('?') {
        None => "?",
        Some((_, q)) if q.is_empty() || q.ends_with('&') => "",
        Some(_) => "&",
    };
    Ok(format!("{base}{glue}{query}{fragment}"))
}

/// A message received on the HTTP-Redirect binding, not yet trusted.
#[derive(Clone, PartialEq, Eq)]
pub struct RedirectMessage {
    param: MessageParam,
    xml: String,
    relay_state: Option<String>,
    sig_alg: Option<String>,
    signature: Option<Vec<u8>>,
    signed_octets: Option<String>,
}

impl std::fmt::Debug for RedirectMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedirectMessage")
            .field("param", &self.param)
            .field("xml_len", &self.xml.len())
            .field("relay_state", &self.relay_state)
            .field("sig_alg", &self.sig_alg)
            .field("signed", &self.signature.is_some())
            .finish()
    }
}

impl RedirectMessage {
    /// Whether the message came as `SAMLRequest` or `SAMLResponse`.
    pub fn param(&self) -> MessageParam {
        self.param
    }

    /// The inflated XML. Parse it with [`crate::xml::parse`]; trust nothing in it
    /// before [`Self::verify_signature`] (or another check) has passed.
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The inflated XML, by value.
    pub fn into_xml(self) -> String {
        self.xml
    }

    /// The RelayState, percent-decoded, exactly as the sender gave it.
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }

    /// The `SigAlg` URI, percent-decoded, if the query was signed.
    pub fn sig_alg(&self) -> Option<&str> {
        self.sig_alg.as_deref()
    }

    /// The decoded `Signature` bytes, if the query was signed.
    pub fn signature(&self) -> Option<&[u8]> {
        self.signature.as_deref()
    }

    /// The octets the signature covers, rebuilt from the raw query values:
    /// `SAMLRequest=…[&RelayState=…]&SigAlg=…`. Present when the query was signed.
    pub fn signed_octets(&self) -> Option<&str> {
        self.signed_octets.as_deref()
    }

    /// Whether the query carries a signature (`SigAlg` and `Signature`).
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Checks the query-string signature with the trusted `certs` and returns the
    /// index of the certificate that verified it.
    ///
    /// Errors, in the order checked: [`Error::SignatureMissing`] (unsigned query),
    /// [`Error::SignatureAlgorithm`] (a `SigAlg` we do not know),
    /// [`Error::Sha1NotAllowed`] (RSA-SHA1 without `allow_sha1`),
    /// [`Error::NoTrustedCertificates`] (empty `certs`) and
    /// [`Error::QuerySignatureInvalid`] (no certificate verifies it).
    pub fn verify_signature(&self, certs: &[Certificate], allow_sha1: bool) -> Result<usize> {
        let (Some(sig_alg), Some(signature), Some(octets)) =
            (self.sig_alg.as_deref(), self.signature.as_deref(), self.signed_octets.as_deref())
        else {
            return Err(Error::SignatureMissing);
        };
        let alg = SignatureAlgorithm::from_uri(sig_alg)?;
        if alg.is_sha1() && !allow_sha1 {
            return Err(Error::Sha1NotAllowed("the query-string signature (SigAlg)".into()));
        }
        if certs.is_empty() {
            return Err(Error::NoTrustedCertificates);
        }
        certs
            .iter()
            .position(|cert| cert.verify(alg, octets.as_bytes(), signature))
            .ok_or(Error::QuerySignatureInvalid)
    }
}

/// The binding parameters, in the slots `decode_query` keeps them in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Param {
    Message(MessageParam),
    RelayState,
    SigAlg,
    Signature,
    Encoding,
}

impl Param {
    fn slot(self) -> usize {
        match self {
            Param::Message(MessageParam::Request) => 0,
            Param::Message(MessageParam::Response) => 1,
            Param::RelayState => 2,
            Param::SigAlg => 3,
            Param::Signature => 4,
            Param::Encoding => 5,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Param::Message(m) => m.name(),
            Param::RelayState => "RelayState",
            Param::SigAlg => "SigAlg",
            Param::Signature => "Signature",
            Param::Encoding => "SAMLEncoding",
        }
    }
}

fn binding_param(name: &[u8]) -> Option<Param> {
    Some(match name {
        b"SAMLRequest" => Param::Message(MessageParam::Request),
        b"SAMLResponse" => Param::Message(MessageParam::Response),
        b"RelayState" => Param::RelayState,
        b"SigAlg" => Param::SigAlg,
        b"Signature" => Param::Signature,
        b"SAMLEncoding" => Param::Encoding,
        _ => return None,
    })
}

/// Decodes a message received on the HTTP-Redirect binding.
///
/// `raw_query` is the query string exactly as it arrived (with or without the
/// leading `?`), or a whole URL or path with its query (`https://…?SAMLRequest=…`).
/// Parameters other than the binding's own are ignored (an endpoint may carry its
/// own); parameter names are compared after percent-decoding.
///
/// Refused: a query over [`MAX_QUERY_BYTES`] or a message that inflates past
/// [`MAX_MESSAGE_BYTES`] ([`Error::InputTooLarge`], found without inflating the
/// rest), any binding parameter given twice ([`Error::DuplicateParameter`]), both
/// SAMLRequest and SAMLResponse ([`Error::RequestAndResponse`]), neither, or only
/// one of SigAlg/Signature ([`Error::MissingParameter`]), a SAMLEncoding other
/// than DEFLATE ([`Error::UnsupportedEncoding`]), malformed percent-escapes
/// ([`Error::Url`]), bad base64 or DEFLATE ([`Error::Base64`], [`Error::Deflate`])
/// and XML, RelayState or SigAlg that is not UTF-8 ([`Error::NotUtf8`]). The
/// tolerances are listed in the [module documentation](super).
pub fn decode_query(raw_query: &str) -> Result<RedirectMessage> {
    if raw_query.len() > MAX_QUERY_BYTES {
        return Err(Error::InputTooLarge { size: raw_query.len(), limit: MAX_QUERY_BYTES });
    }
    let query = strip_to_query(raw_query);

    let mut raw: [Option<&str>; 6] = [None; 6];
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
        let Some(param) = binding_param(&percent_decode_lenient(name)) else { continue };
        let slot = &mut raw[param.slot()];
        if slot.is_some() {
            return Err(Error::DuplicateParameter(param.name().into()));
        }
        *slot = Some(value);
    }
    let [request, response, relay_state_raw, sig_alg_raw, signature_raw, encoding_raw] = raw;

    let (param, message_raw) = match (request, response) {
        (Some(_), Some(_)) => return Err(Error::RequestAndResponse),
        (Some(v), None) => (MessageParam::Request, v),
        (None, Some(v)) => (MessageParam::Response, v),
        (None, None) => return Err(Error::MissingParameter("SAMLRequest or SAMLResponse".into())),
    };
    if let Some(enc) = encoding_raw {
        let enc = decode_utf8(enc, "SAMLEncoding")?;
        if enc != DEFLATE_ENCODING {
            return Err(Error::UnsupportedEncoding(enc));
        }
    }
    match (sig_alg_raw, signature_raw) {
        (Some(_), None) => return Err(Error::MissingParameter("Signature (SigAlg is present)".into())),
        (None, Some(_)) => return Err(Error::MissingParameter("SigAlg (Signature is present)".into())),
        _ => {}
    }

    let compressed = decode_base64_value(message_raw, param.name())?;
    let xml =
        String::from_utf8(inflate_bounded(&compressed, MAX_MESSAGE_BYTES)?).map_err(|_| Error::NotUtf8)?;
    let relay_state = relay_state_raw.map(|v| decode_utf8(v, "RelayState")).transpose()?;
    let sig_alg = sig_alg_raw.map(|v| decode_utf8(v, "SigAlg")).transpose()?;
    let signature = signature_raw.map(|v| decode_base64_value(v, "Signature")).transpose()?;
    let signed_octets = sig_alg_raw.map(|alg| {
        let mut octets = format!("{}={message_raw}", param.name());
        if let Some(rs) = relay_state_raw {
            octets.push_str("&RelayState=");
            octets.push_str(rs);
        }
        octets.push_str("&SigAlg=");
        octets.push_str(alg);
        octets
    });
    Ok(RedirectMessage { param, xml, relay_state, sig_alg, signature, signed_octets })
}

/// The query part of `input`: everything after the first `?` when `input` is an
/// http(s) URL or a path, or when what precedes the `?` has no `=` or `&`; else
/// `input` itself (a `?` may legitimately appear unencoded inside a query value).
/// A fragment is dropped.
fn strip_to_query(input: &str) -> &str {
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    let is_url = lower.starts_with("https://") || lower.starts_with("http://") || input.starts_with('/');
    let input = match input.split_once('?') {
        Some((prefix, rest)) if is_url || !prefix.contains(['=', '&']) => rest,
        _ => input,
    };
    input.split_once('#').map_or(input, |(q, _)| q)
}

/// Base64 in a query value: form-decoded first; CR/LF ignored, space read as '+'.
fn decode_base64_value(raw: &str, what: &str) -> Result<Vec<u8>> {
    let text = form_decode(raw, what)?;
    let text = String::from_utf8(text).map_err(|_| Error::Base64(format!("{what}: not ASCII")))?;
    decode_base64(&text, what, true, |b| b == b'\r' || b == b'\n')
}

fn decode_utf8(raw: &str, what: &str) -> Result<String> {
    String::from_utf8(form_decode(raw, what)?).map_err(|_| Error::NotUtf8)
}

/// `application/x-www-form-urlencoded` value decoding: `+` is a space and `%XX`
/// a byte; a `%` not followed by two hex digits is an error.
fn form_decode(raw: &str, what: &str) -> Result<Vec<u8>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|&b| char::from(b).to_digit(16));
                let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(Error::Url(format!("{what} has a malformed percent-escape at offset {i}")));
                };
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

/// Decoding for parameter names: like [`form_decode`] but keeps malformed escapes
/// as they are (such a name is simply not one of ours).
fn percent_decode_lenient(raw: &str) -> Vec<u8> {
    let plus_as_space: String = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space).collect()
}

fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = c.total_in() as usize;
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(256));
        }
        let status = c
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)
            .map_err(|e| Error::Deflate(format!("compression failed: {e}")))?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
    }
}

/// Inflates raw DEFLATE, refusing output over `limit` bytes as soon as it
/// appears: at most `limit + 1` bytes are ever produced, however much the input
/// would expand to. The stream must end exactly at the end of `data`.
fn inflate_bounded(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut d = Decompress::new(false);
    let mut out: Vec<u8> =
        Vec::with_capacity(data.len().saturating_mul(4).max(1024).min(limit.saturating_add(1)));
    loop {
        if out.len() > limit {
            // The true size is unknown (we stopped); report the bytes we produced.
            return Err(Error::InputTooLarge { size: out.len(), limit });
        }
        if out.len() == out.capacity() {
            out.reserve_exact(out.capacity().min(limit + 1 - out.len()));
        }
        let (in_before, out_before) = (d.total_in(), out.len());
        let input = &data[in_before as usize..];
        let status = d
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| Error::Deflate(format!("not a raw DEFLATE stream ({e})")))?;
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                if d.total_in() == in_before && out.len() == out_before {
                    // No progress with output room left: the input ran out.
                    return Err(Error::Deflate("the stream is truncated (no final block)".into()));
                }
            }
        }
    }
    if out.len() > limit {
        return Err(Error::InputTooLarge { size: out.len(), limit });
    }
    let trailing = data.len() - d.total_in() as usize;
    if trailing != 0 {
        return Err(Error::Deflate(format!("{trailing} bytes follow the end of the stream")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use std::sync::OnceLock;

    const XML: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://sp.example.org/é</saml:Issuer></samlp:AuthnRequest>"#;

    fn key_and_cert() -> &'static (SigningKey, Certificate) {
        static K: OnceLock<(SigningKey, Certificate)> = OnceLock::new();
        K.get_or_init(|| {
            let key = SigningKey::generate(2048).unwrap();
            let cert =
                Certificate::self_signed(&key, "redirect test", time::OffsetDateTime::now_utc(), 30).unwrap();
            (key, cert)
        })
    }

    fn certs() -> &'static [Certificate] {
        std::slice::from_ref(&key_and_cert().1)
    }

    fn signer() -> QuerySigner<'static> {
        QuerySigner { key: &key_and_cert().0, algorithm: SignatureAlgorithm::RsaSha256 }
    }

    fn b64(bytes: &[u8]) -> String {
        encode_value(&encode_base64(bytes))
    }

    fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
        r.unwrap_err().code()
    }

    #[test]
    fn unsigned_round_trip_with_relay_state() {
        let q = redirect_query(MessageParam::Request, XML, Some("a b&c=d/é"), None).unwrap();
        assert!(q.starts_with("SAMLRequest="));
        assert!(q.ends_with("&RelayState=a+b%26c%3Dd%2F%C3%A9"), "{q}");
        let m = decode_query(&q).unwrap();
        assert_eq!(m.param(), MessageParam::Request);
        assert_eq!(m.xml(), XML);
        assert_eq!(m.relay_state(), Some("a b&c=d/é"));
        assert!(!m.is_signed() && m.sig_alg().is_none() && m.signed_octets().is_none());
        assert_eq!(code(m.verify_signature(certs(), false)), "SIG_MISSING");
    }

    #[test]
    fn message_is_raw_deflate_then_standard_base64() {
        let q = redirect_query(MessageParam::Response, XML, None, None).unwrap();
        let value = q.strip_prefix("SAMLResponse=").unwrap();
        let b64 = percent_encoding::percent_decode_str(value).decode_utf8().unwrap();
        let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64.as_bytes()).unwrap();
        // A zlib stream would start with 0x78; raw DEFLATE from flate2 at level 6 does not.
        assert_ne!(raw[0], 0x78);
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut flate2::read::DeflateDecoder::new(&raw[..]), &mut xml).unwrap();
        assert_eq!(xml, XML);
    }

    #[test]
    fn signed_octets_are_the_spec_order_and_verify() {
        let q = redirect_query(MessageParam::Request, XML, Some("rs"), Some(signer())).unwrap();
        let m = decode_query(&q).unwrap();
        let octets = m.signed_octets().unwrap();
        assert!(q.starts_with(octets));
        assert!(octets.starts_with("SAMLRequest="));
        assert!(octets.ends_with(
            "&RelayState=rs&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"
        ));
        assert_eq!(m.sig_alg(), Some(crate::xml::ALG_RSA_SHA256));
        assert_eq!(m.verify_signature(certs(), false).unwrap(), 0);

        // Without RelayState, it is left out of the signed octets.
        let q = redirect_query(MessageParam::Response, XML, None, Some(signer())).unwrap();
        let m = decode_query(&q).unwrap();
        assert!(!m.signed_octets().unwrap().contains("RelayState"));
        assert_eq!(m.verify_signature(certs(), false).unwrap(), 0);
    }

    #[test]
    fn verification_errors_in_order() {
        let (key, cert) = key_and_cert();
        let certs = [cert.clone()];
        let q = redirect_query(MessageParam::Request, XML, None, Some(signer())).unwrap();
        let m = decode_query(&q).unwrap();
        assert_eq!(code(m.verify_signature(&[], false)), "SIG_NO_TRUSTED_CERTIFICATES");

        // A wrong key.
        let other_key = SigningKey::generate(2048).unwrap();
        let other = Certificate::self_signed(&other_key, "o", time::OffsetDateTime::now_utc(), 1).unwrap();
        assert_eq!(
            code(m.verify_signature(std::slice::from_ref(&other), false)),
            "BINDING_QUERY_SIGNATURE_INVALID"
        );
        assert_eq!(m.verify_signature(&[other, cert.clone()], false).unwrap(), 1);

        // Unknown SigAlg, and SHA-1 without permission: both refused before any RSA work.
        let unsigned = redirect_query(MessageParam::Request, XML, None, None).unwrap();
        let sig = b64(&key.sign(SignatureAlgorithm::RsaSha256, b"x").unwrap());
        let q = format!("{unsigned}&SigAlg=urn%3Ax-unknown&Signature={sig}");
        assert_eq!(code(decode_query(&q).unwrap().verify_signature(&certs, true)), "SIG_ALGORITHM");
        let sha1 = encode_value(crate::xml::ALG_RSA_SHA1);
        let q = format!("{unsigned}&SigAlg={sha1}&Signature={sig}");
        let m = decode_query(&q).unwrap();
        assert_eq!(code(m.verify_signature(&certs, false)), "SIG_SHA1_NOT_ALLOWED");
        assert_eq!(code(m.verify_signature(&certs, true)), "BINDING_QUERY_SIGNATURE_INVALID");
        // SHA-1 signing happens only when a caller asks for it (a legacy peer), and what it
        // signs verifies only where SHA-1 is allowed.
        let sha1_signer = QuerySigner { key, algorithm: SignatureAlgorithm::RsaSha1 };
        let legacy =
            decode_query(&redirect_query(MessageParam::Request, XML, None, Some(sha1_signer)).unwrap())
                .unwrap();
        assert_eq!(code(legacy.verify_signature(&certs, false)), "SIG_SHA1_NOT_ALLOWED");
        legacy.verify_signature(&certs, true).unwrap();
    }

    #[test]
    fn raw_octets_are_verified_not_re_encoded() {
        // A peer that uses '+' for spaces and lower-case hex: the signature covers
        // exactly those octets, so we must not normalise them.
        let (key, cert) = key_and_cert();
        let message = b64(&deflate(XML.as_bytes()).unwrap());
        let octets = format!(
            "SAMLRequest={message}&RelayState=a+b%2fc&SigAlg={}",
            encode_value(crate::xml::ALG_RSA_SHA256).to_ascii_lowercase()
        );
        let sig = b64(&key.sign(SignatureAlgorithm::RsaSha256, octets.as_bytes()).unwrap());
        let m = decode_query(&format!("{octets}&Signature={sig}")).unwrap();
        assert_eq!(m.relay_state(), Some("a b/c"));
        assert_eq!(m.signed_octets(), Some(octets.as_str()));
        assert_eq!(m.verify_signature(std::slice::from_ref(cert), false).unwrap(), 0);
        // The same values encoded another way are different octets: not verified.
        let ours = octets.replace("a+b%2fc", "a%20b%2Fc");
        let m = decode_query(&format!("{ours}&Signature={sig}")).unwrap();
        assert_eq!(
            code(m.verify_signature(std::slice::from_ref(cert), false)),
            "BINDING_QUERY_SIGNATURE_INVALID"
        );
    }

    #[test]
    fn parameters_may_come_in_any_order_among_others_and_as_a_url() {
        let q = redirect_query(MessageParam::Request, XML, Some("r"), Some(signer())).unwrap();
        let mut parts: Vec<&str> = q.split('&').collect();
        parts.reverse();
        let shuffled = format!("foo=bar&{}&&x", parts.join("&"));
        for input in [
            shuffled.clone(),
            format!("?{shuffled}"),
            format!("https://idp.example.com/sso?{shuffled}"),
            format!("/sso?{shuffled}#frag"),
        ] {
            let m = decode_query(&input).unwrap();
            assert_eq!(m.xml(), XML);
            assert_eq!(m.verify_signature(certs(), false).unwrap(), 0, "{input}");
        }
        // A raw '?' inside a value does not make the query look like a URL.
        let m = decode_query(&format!("{}&RelayState=https://x/?a", q.split("&RelayState").next().unwrap()))
            .unwrap();
        assert_eq!(m.relay_state(), Some("https://x/?a"));
    }

    #[test]
    fn redirect_url_appends_to_an_existing_query_and_keeps_the_fragment() {
        let url =
            redirect_url("https://idp.example.com/sso", MessageParam::Request, XML, None, None).unwrap();
        assert!(url.starts_with("https://idp.example.com/sso?SAMLRequest="));
        let url =
            redirect_url("https://idp.example.com/sso?tenant=a", MessageParam::Request, XML, None, None)
                .unwrap();
        assert!(url.starts_with("https://idp.example.com/sso?tenant=a&SAMLRequest="));
        let url =
            redirect_url("https://idp.example.com/sso?", MessageParam::Request, XML, None, None).unwrap();
        assert!(url.starts_with("https://idp.example.com/sso?SAMLRequest="));
        let url =
            redirect_url("https://h/sso?a=1#top", MessageParam::Request, XML, Some("r"), Some(signer()))
                .unwrap();
        assert!(url.starts_with("https://h/sso?a=1&SAMLRequest=") && url.ends_with("#top"));
        let m = decode_query(&url).unwrap();
        assert_eq!(m.verify_signature(certs(), false).unwrap(), 0);

        for bad in ["javascript:alert(1)", "https://h/sso?SAMLRequest=x", "https://h/?a=1&Signat%75re=x"] {
            assert_eq!(
                code(redirect_url(bad, MessageParam::Request, XML, None, None)),
                "URL_INVALID",
                "{bad}"
            );
        }
    }

    #[test]
    fn relay_state_over_80_bytes_is_refused_when_we_produce_it() {
        let rs80 = "é".repeat(40);
        redirect_query(MessageParam::Request, XML, Some(&rs80), None).unwrap();
        let rs81 = format!("{rs80}x");
        assert_eq!(
            code(redirect_query(MessageParam::Request, XML, Some(&rs81), None)),
            "BINDING_RELAY_STATE_TOO_LONG"
        );
        // Received ones are accepted as they are.
        let unsigned = redirect_query(MessageParam::Request, XML, None, None).unwrap();
        let long = "x".repeat(500);
        assert_eq!(
            decode_query(&format!("{unsigned}&RelayState={long}")).unwrap().relay_state(),
            Some(&*long)
        );
    }

    #[test]
    fn duplicates_conflicts_and_missing_parameters_are_refused() {
        let req = redirect_query(MessageParam::Request, XML, None, None).unwrap();
        let resp = redirect_query(MessageParam::Response, XML, None, None).unwrap();
        let signed = redirect_query(MessageParam::Request, XML, None, Some(signer())).unwrap();
        let sig_alg = signed.split('&').find(|p| p.starts_with("SigAlg=")).unwrap();
        let sig = signed.split('&').find(|p| p.starts_with("Signature=")).unwrap();
        let cases = [
            (format!("{req}&{req}"), "BINDING_DUPLICATE_PARAMETER"),
            (format!("{req}&RelayState=a&RelayState=a"), "BINDING_DUPLICATE_PARAMETER"),
            (format!("{signed}&{sig_alg}"), "BINDING_DUPLICATE_PARAMETER"),
            (format!("{signed}&{sig}"), "BINDING_DUPLICATE_PARAMETER"),
            // A percent-encoded name is the same parameter.
            (format!("{req}&SAML%52equest=x"), "BINDING_DUPLICATE_PARAMETER"),
            (format!("{req}&{resp}"), "BINDING_REQUEST_AND_RESPONSE"),
            ("RelayState=a".to_string(), "BINDING_MISSING_PARAMETER"),
            (String::new(), "BINDING_MISSING_PARAMETER"),
            (format!("{req}&{sig_alg}"), "BINDING_MISSING_PARAMETER"),
            (format!("{req}&{sig}"), "BINDING_MISSING_PARAMETER"),
            (format!("{req}&SAMLEncoding=urn%3Aother"), "BINDING_UNSUPPORTED_ENCODING"),
        ];
        for (q, want) in cases {
            assert_eq!(code(decode_query(&q)), want, "{q}");
        }
        let ok = format!("{req}&SAMLEncoding={}", encode_value(DEFLATE_ENCODING));
        assert_eq!(decode_query(&ok).unwrap().xml(), XML);
        // Unknown parameters may repeat.
        decode_query(&format!("a=1&{req}&a=2")).unwrap();
    }

    #[test]
    fn malformed_encodings_are_typed_errors() {
        let deflated = deflate(XML.as_bytes()).unwrap();
        let mut zlib = vec![0x78, 0x9c];
        zlib.extend_from_slice(&deflated);
        let mut trailing = deflated.clone();
        trailing.extend_from_slice(b"\0\0\0\0");
        let latin1 = deflate(b"<r>\xe9</r>").unwrap();
        let cases = [
            ("SAMLRequest=%%%".to_string(), "URL_INVALID"),
            ("SAMLRequest=ab%4".to_string(), "URL_INVALID"),
            ("SAMLRequest=%+1".to_string(), "URL_INVALID"),
            ("SAMLRequest=ab*d".to_string(), "BASE64_INVALID"),
            ("SAMLRequest=%FF%FE".to_string(), "BASE64_INVALID"),
            ("SAMLRequest=".to_string(), "DEFLATE_INVALID"),
            (format!("SAMLRequest={}", b64(&deflated[..deflated.len() - 3])), "DEFLATE_INVALID"),
            (format!("SAMLRequest={}", b64(&zlib)), "DEFLATE_INVALID"),
            (format!("SAMLRequest={}", b64(&trailing)), "DEFLATE_INVALID"),
            (format!("SAMLRequest={}", b64(b"\xff\xff\xff")), "DEFLATE_INVALID"),
            (format!("SAMLRequest={}", b64(&latin1)), "INPUT_NOT_UTF8"),
            (format!("SAMLRequest={}&RelayState=%C3", b64(&deflated)), "INPUT_NOT_UTF8"),
            (format!("SAMLRequest={}&SigAlg=%FF&Signature=AA", b64(&deflated)), "INPUT_NOT_UTF8"),
            (format!("SAMLRequest={}&SigAlg=x&Signature=A", b64(&deflated)), "BASE64_INVALID"),
        ];
        for (q, want) in cases {
            assert_eq!(code(decode_query(&q)), want, "{q}");
        }
    }

    #[test]
    fn base64_with_line_breaks_missing_padding_or_unencoded_plus_is_accepted() {
        // Find a message whose base64 has '+' and padding, then mangle it the ways peers do.
        let (xml, text) = (0..200)
            .map(|i| {
                let xml = format!("{XML}<!-- {i} -->");
                let text = encode_base64(&deflate(xml.as_bytes()).unwrap());
                (xml, text)
            })
            .find(|(_, t)| t.contains('+') && t.ends_with('='))
            .unwrap();
        let wrapped: String = text
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        for value in [
            encode_value(&wrapped),                       // MIME line breaks, percent-encoded
            encode_value(text.trim_end_matches('=')),     // no padding
            text.replace('/', "%2F").replace('=', "%3D"), // '+' not encoded: arrives as a space
        ] {
            assert_eq!(decode_query(&format!("SAMLRequest={value}")).unwrap().xml(), xml, "{value}");
        }
    }

    #[test]
    fn oversized_queries_are_refused_before_decoding() {
        let q = format!("SAMLRequest={}", "A".repeat(MAX_QUERY_BYTES));
        assert_eq!(code(decode_query(&q)), "INPUT_TOO_LARGE");
    }

    /// A hand-made DEFLATE bomb: one fixed-Huffman block holding a literal 0 and
    /// `pairs` copies of (length 258, distance 1), so it inflates to
    /// `1 + 258 * pairs` zero bytes from about 13 bits per 258 bytes.
    fn deflate_bomb(pairs: usize) -> Vec<u8> {
        struct Bits {
            out: Vec<u8>,
            acc: u64,
            n: u32,
        }
        impl Bits {
            fn put(&mut self, value: u64, bits: u32) {
                self.acc |= value << self.n;
                self.n += bits;
                while self.n >= 8 {
                    self.out.push(self.acc as u8);
                    self.acc >>= 8;
                    self.n -= 8;
                }
            }
            /// Huffman codes are packed most significant bit first.
            fn code(&mut self, code: u64, bits: u32) {
                let reversed = (0..bits).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
                self.put(reversed, bits);
            }
        }
        let mut b = Bits { out: Vec::with_capacity(pairs * 13 / 8 + 16), acc: 0, n: 0 };
        b.put(1, 1); // BFINAL
        b.put(1, 2); // BTYPE = fixed Huffman
        b.code(0b0011_0000, 8); // literal 0
        for _ in 0..pairs {
            b.code(0b1100_0101, 8); // length code 285 = 258
            b.code(0, 5); // distance code 0 = 1
        }
        b.code(0, 7); // end of block
        b.put(0, 7); // flush
        b.out
    }

    #[test]
    fn deflate_bomb_stops_at_the_limit_without_inflating_the_rest() {
        let small = deflate_bomb(10);
        assert_eq!(inflate_bounded(&small, 10_000).unwrap(), vec![0u8; 2581]);

        // 256 MiB of zeros from ~1.7 MB of input.
        let bomb = deflate_bomb((256 << 20) / 258);
        let q = format!("SAMLRequest={}", b64(&bomb));
        assert!(q.len() < MAX_QUERY_BYTES);
        let err = decode_query(&q).unwrap_err();
        assert_eq!(err, Error::InputTooLarge { size: MAX_MESSAGE_BYTES + 1, limit: MAX_MESSAGE_BYTES });
        // Proof that the rest is never read: the first 2% of the stream already
        // decides (a truncated stream that fit would be a DEFLATE error instead).
        let prefix = &bomb[..bomb.len() / 50];
        assert_eq!(code(inflate_bounded(prefix, MAX_MESSAGE_BYTES)), "INPUT_TOO_LARGE");
        assert_eq!(code(inflate_bounded(prefix, usize::MAX / 4)), "DEFLATE_INVALID");
        // Exactly at the limit is fine.
        let exact = deflate_bomb(3);
        assert_eq!(inflate_bounded(&exact, 775).unwrap().len(), 775);
        assert_eq!(code(inflate_bounded(&exact, 774)), "INPUT_TOO_LARGE");
    }
}
