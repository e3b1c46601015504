//! Enveloped XML signatures for the narrow profile SAML uses.
//!
//! Accepted: one ds:Signature as a direct child of the element it signs, exactly
//! one ds:Reference whose URI is `#` + that element's own `ID`, the
//! enveloped-signature and exclusive-C14N transforms and nothing else, exclusive
//! C14N (with or without comments) for SignedInfo, RSA PKCS#1 v1.5 with SHA-256/384/512
//! (SHA-1 only when the caller allows it), and a key from the caller's trusted
//! certificates only: KeyInfo is never a source of trust.
//!
//! [`verify`] returns the elements the signatures cover. Callers must read
//! claims from those nodes and nothing else: that is the whole defence against
//! XML Signature Wrapping, where an attacker adds unsigned content next to signed
//! content and hopes the reader picks the wrong one.

mod sign;
mod verify;

pub use sign::{sign_element, SignOptions};
pub use verify::{verify, verify_signature, Verified, VerifyOptions};

#[cfg(test)]
mod tests;
