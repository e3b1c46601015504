//! RSA-SHA1 (PKCS#1 v1.5) signing, for the legacy service providers that accept nothing
//! else, when an administrator turns it on explicitly for one app.
//!
//! Why a binding: aws-lc-rs deliberately offers SHA-1 only for verification, and the pure-Rust
//! `rsa` crate's private-key operations are not constant time (RUSTSEC-2023-0071, "Marvin"),
//! which matters for a key that signs on demand for anyone who can start a sign-in. So this
//! calls AWS-LC itself (the library under aws-lc-rs, blinded and constant time) through
//! aws-lc-sys: parse the PKCS#8 key, `RSA_sign(NID_sha1, …)`, free. It is the crate's only
//! unsafe code; each block states what it relies on.
#![allow(unsafe_code)]

use crate::error::{Error, Result};
use aws_lc_rs::digest;
use aws_lc_sys as ffi;

/// Frees an `EVP_PKEY` on drop.
struct PKey(*mut ffi::EVP_PKEY);
impl Drop for PKey {
    fn drop(&mut self) {
        // SAFETY: the pointer came from EVP_parse_private_key, is non-null and freed once here.
        unsafe { ffi::EVP_PKEY_free(self.0) }
    }
}

/// Frees an `RSA` on drop.
struct Rsa(*mut ffi::RSA);
impl Drop for Rsa {
    fn drop(&mut self) {
        // SAFETY: the pointer came from EVP_PKEY_get1_RSA (which took a reference of its own),
        // is non-null and released once here.
        unsafe { ffi::RSA_free(self.0) }
    }
}

/// The RSASSA-PKCS1-v1_5 signature with SHA-1 of `message` under the PKCS#8 DER key.
pub(crate) fn sign(pkcs8_der: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    let failed = || Error::Crypto("RSA-SHA1 signing failed".into());
    let hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, message);
    let mut cbs = std::mem::MaybeUninit::<ffi::CBS>::uninit();
    // SAFETY: CBS_init only writes the two fields of the CBS it is given; the CBS borrows
    // `pkcs8_der`, which outlives every use of it below.
    let pkey = unsafe {
        ffi::CBS_init(cbs.as_mut_ptr(), pkcs8_der.as_ptr(), pkcs8_der.len());
        ffi::EVP_parse_private_key(cbs.as_mut_ptr())
    };
    if pkey.is_null() {
        return Err(Error::Key("not a PKCS#8 RSA private key".into()));
    }
    let pkey = PKey(pkey);
    // SAFETY: pkey.0 is a valid EVP_PKEY; get1 returns a new reference (or null if not RSA).
    let rsa = unsafe { ffi::EVP_PKEY_get1_RSA(pkey.0) };
    if rsa.is_null() {
        return Err(Error::Key("the key is not an RSA key".into()));
    }
    let rsa = Rsa(rsa);
    // SAFETY: rsa.0 is a valid RSA key.
    let size = unsafe { ffi::RSA_size(rsa.0) } as usize;
    let mut out = vec![0u8; size];
    let mut out_len: std::os::raw::c_uint = 0;
    // SAFETY: `out` has RSA_size bytes, the most RSA_sign writes; the digest is 20 bytes as
    // NID_sha1 requires; out_len receives the length written.
    let ok = unsafe {
        ffi::RSA_sign(
            ffi::NID_sha1,
            hash.as_ref().as_ptr(),
            hash.as_ref().len(),
            out.as_mut_ptr(),
            &mut out_len,
            rsa.0,
        )
    };
    if ok != 1 || out_len as usize != size {
        return Err(failed());
    }
    Ok(out)
}
