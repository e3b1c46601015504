//! Third-party identity providers as real HTTP servers: pysaml2's `Server`
//! (`tests/interop/py/idp_pysaml2.py`) and samlify's `IdentityProvider`
//! (`tests/interop/node/idp_samlify.js`), each with its own key and metadata, reading the SP's
//! metadata from its URL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{node, peer_script, venv_python, xmlsec1_on_path};
use crate::{Browser, PostForm};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerIdp {
    Pysaml2,
    Samlify,
}

/// A running peer IdP, killed when dropped (its log is printed when a test fails).
pub struct Idp {
    pub peer: PeerIdp,
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The peer's own IdP metadata (a file it wrote).
    pub metadata: PathBuf,
    log: PathBuf,
}

/// An RSA key and self-signed certificate for samlify (Node cannot make a certificate).
fn rsa_key_and_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("generate an RSA key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("certificate params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "samlify interop IdP");
    let cert = params.self_signed(&key).expect("self-sign");
    let (key_file, cert_file) = (dir.join("idp-key.pem"), dir.join("idp-cert.pem"));
    std::fs::write(&key_file, key.serialize_pem()).expect("write key");
    std::fs::write(&cert_file, cert.pem()).expect("write certificate");
    (key_file, cert_file)
}

impl Idp {
    /// Starts the peer in `dir` for the SP whose metadata is served at `sp_metadata_url`; it
    /// signs in everyone as `name_id` with `attributes` (name, value; a name may repeat), and
    /// takes the peer's own options `peer_args` (`--sign`, `--encrypt`, …).
    pub fn start(
        peer: PeerIdp,
        dir: &Path,
        sp_metadata_url: &str,
        name_id: &str,
        attributes: &[(&str, &str)],
        peer_args: &[&str],
    ) -> Idp {
        std::fs::create_dir_all(dir).expect("IdP dir");
        let mut cmd = match peer {
            PeerIdp::Pysaml2 => {
                xmlsec1_on_path();
                let mut c = Command::new(venv_python());
                c.arg(peer_script("py/idp_pysaml2.py"));
                c
            }
            PeerIdp::Samlify => {
                let mut c = node("samlify");
                let (key, cert) = rsa_key_and_cert(dir);
                c.arg(peer_script("node/idp_samlify.js")).arg("--key").arg(key).arg("--cert").arg(cert);
                c
            }
        };
        let log = dir.join("idp.log");
        let mut child = cmd
            .arg("--dir")
            .arg(dir)
            .args(["--sp-metadata", sp_metadata_url, "--name-id", name_id])
            .args(
                attributes.iter().flat_map(|(name, value)| ["--attr".to_string(), format!("{name}={value}")]),
            )
            .args(peer_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("IdP log"))
            .spawn()
            .unwrap_or_else(|e| panic!("start the {peer:?} IdP: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let first = BufReader::new(stdout).lines().next().and_then(Result::ok).unwrap_or_default();
        let Some(port) = first.strip_prefix("ready ").and_then(|p| p.trim().parse::<u16>().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the {peer:?} IdP did not start: {first:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Idp {
            peer,
            child,
            base: format!("http://127.0.0.1:{port}"),
            metadata: dir.join("idp-metadata.xml"),
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The peer's unsolicited Response for the SP `sp_entity_id`, as its auto-posting form.
    pub fn idp_initiated(&self, browser: &mut Browser, sp_entity_id: &str) -> PostForm {
        let sp = percent_encoding::utf8_percent_encode(sp_entity_id, percent_encoding::NON_ALPHANUMERIC);
        let page = browser.get(&format!("{}/idp-initiated?sp={sp}", self.base));
        assert_eq!(page.status, 200, "{:?} IdP-initiated:\n{}\n{}", self.peer, page.body, self.log());
        PostForm::from_page(&page)
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- {:?} IdP log ----\n{}", self.peer, self.log());
        }
    }
}
