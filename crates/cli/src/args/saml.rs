//! The clap definitions of `portcullis saml …` (implemented in `crate::saml_cmd`).

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SamlCommand {
    /// Decode a SAMLRequest/SAMLResponse and print it as indented XML plus a summary.
    ///
    /// INPUT may be raw XML, base64 (HTTP-POST), base64+DEFLATE (HTTP-Redirect), a
    /// whole redirect URL or query string, or a POST form body; given as the argument
    /// itself, as a file path, or on standard input (no argument, or `-`).
    Decode(DecodeArgs),
    /// Verify the XML signatures (and a redirect URL's query-string signature) of a
    /// message against trusted certificates, and say which element each covers.
    ///
    /// Exit code 0 only when every signature verifies and a signature covers the
    /// Response or every Assertion (for other messages: the message itself);
    /// 1 when not; 2 on a usage error.
    Verify(VerifyArgs),
    /// Generate an RSA signing key (PKCS#8 PEM) and a self-signed certificate.
    Keygen(KeygenArgs),
}

#[derive(Args)]
pub struct DecodeArgs {
    /// The message, a file holding it, or `-` for standard input (the default).
    pub input: Option<String>,
    /// Print the summary as JSON (with the XML under "xml") instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Trusted signing certificate (PEM, DER or bare base64), or IdP/SP metadata XML
    /// whose signing certificates are then trusted. Repeat for rollover.
    #[arg(long, required = true)]
    pub cert: Vec<PathBuf>,
    /// Accept RSA-SHA1 signatures and SHA-1 digests (refused by default).
    #[arg(long)]
    pub allow_sha1: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The message, a file holding it, or `-` for standard input (the default).
    pub input: Option<String>,
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Subject common name of the certificate (e.g. "Portcullis SAML Signing").
    #[arg(long)]
    pub cn: String,
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long)]
    pub out_key: PathBuf,
    /// Where to write the certificate (PEM).
    #[arg(long)]
    pub out_cert: PathBuf,
    /// RSA key size: 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048)]
    pub bits: usize,
    /// Certificate validity in days (default: 3 years).
    #[arg(long, default_value_t = 1095)]
    pub days: u32,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}
