//! A test CA and a server certificate signed by it (rcgen), for the https servers the tests talk
//! to (`vault serve`, the in-process vault of the broker's tests).

use std::path::{Path, PathBuf};

/// A test CA and a server certificate for 127.0.0.1 and localhost signed by it; a second CA that
/// signed nothing (to trust the wrong CA).
pub fn make_pki(dir: &Path) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca = |cn: &str| {
        let key = KeyPair::generate().expect("test PKI");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("test PKI");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, cn);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p.self_signed(&key).expect("test PKI");
        (cert, Issuer::new(p, key))
    };
    let (ca_cert, issuer) = ca("Portcullis broker test CA");
    let (other_cert, _) = ca("Some other CA");
    let leaf_key = KeyPair::generate().expect("test PKI");
    let mut leaf =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("test PKI");
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("test PKI");
    let pki = Pki {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    std::fs::write(&pki.ca, ca_cert.pem()).expect("test PKI");
    std::fs::write(&pki.other_ca, other_cert.pem()).expect("test PKI");
    std::fs::write(&pki.cert, leaf_cert.pem()).expect("test PKI");
    std::fs::write(&pki.key, leaf_key.serialize_pem()).expect("test PKI");
    pki
}

pub struct Pki {
    pub ca: PathBuf,
    pub other_ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}
