"""pysaml2's IdP over HTTP, as a third-party identity provider for our SP (issue 4).

Usage: tests/interop/.venv/bin/python tests/interop/py/idp_pysaml2.py --dir DIR --sp-metadata FILE_OR_URL
           [--port P] [--entity-id ID] [--sign assertion|response|both] --name-id ID
           [--attr NAME=VALUE]... [--encrypt pysaml2-default|aes256-cbc]

What a real pysaml2 IdP does for a user who already has a session at it:

- At start it makes an RSA-2048 key and a self-signed certificate in DIR, and writes its own
  metadata (saml2.metadata.create_metadata_string) to DIR/idp-metadata.xml; it also serves it at
  GET /metadata. The SP imports it from either.
- The SP's metadata is read at the first SAML request (the SP usually starts after the IdP,
  because it needs the IdP's metadata first), from a file or an http:// URL.
- GET /sso?SAMLRequest=...&RelayState=... (HTTP-Redirect binding): parse_authn_request() (the
  Destination must be this SSO endpoint), response_args() (the ACS URL must be one the SP's
  metadata lists), create_authn_response() with a persistent NameID and the --attr attributes
  (Name as given, NameFormat unspecified, repeated NAME for several values), signed with
  RSA-SHA256 / SHA-256 by the xmlsec1 binary backend; answered with pysaml2's HTTP-POST form.
- --encrypt: the (signed) Assertion is encrypted to the SP metadata's encryption certificate.
  pysaml2 hard-codes its algorithms (3DES-CBC content, RSA-OAEP-MGF1P key transport; no
  configuration setting): "pysaml2-default" keeps them, "aes256-cbc" swaps the content
  algorithm for AES-256-CBC by wrapping pysaml2's own template and xmlsec1 call (see
  use_aes256_cbc), the key transport unchanged.
- GET /idp-initiated?sp=ENTITY_ID[&RelayState=...]: the same Response without InResponseTo
  (unsolicited), posted to the SP's first HTTP-POST ACS from its metadata.

Prints "ready PORT" on stdout once it listens (--port 0, the default, lets the system pick).
A request it cannot answer gets a 400 page with pysaml2's reason (and a line on stderr).
"""

from __future__ import annotations

import datetime
import functools
import os
import shutil
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from _peer import ArgParser, UsageError, one_line  # noqa: E402  (also silences warnings)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAME_FORMAT_UNSPECIFIED, NAMEID_FORMAT_PERSISTENT, NameID
import saml2.entity
import saml2.sigver
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256


def make_key_and_cert(directory: str) -> tuple[str, str]:
    """An RSA-2048 key and a self-signed certificate valid for a day, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pysaml2 interop IdP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = os.path.join(directory, "idp-key.pem"), os.path.join(directory, "idp-cert.pem")
    with open(key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"


def use_aes256_cbc() -> None:
    """pysaml2 encrypts with 3DES-CBC and has no setting for it: its EncryptedData template
    (pre_encryption_part) and xmlsec1's session key type (SecurityContext.encrypt_assertion's
    key_type, "des-192") are both defaults. Swap both for AES-256-CBC."""
    saml2.entity.pre_encryption_part = functools.partial(saml2.sigver.pre_encryption_part, msg_enc=AES256_CBC)
    original = saml2.sigver.SecurityContext.encrypt_assertion

    def encrypt_assertion(self, statement, enc_key, template, key_type="des-192", node_xpath=None):
        return original(self, statement, enc_key, template, key_type="aes-256", node_xpath=node_xpath)

    saml2.sigver.SecurityContext.encrypt_assertion = encrypt_assertion


def parse_attrs(pairs: list[str]) -> dict[str, list[str]]:
    identity: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--attr wants NAME=VALUE, got {pair!r}")
        identity.setdefault(name, []).append(value)
    return identity


def main() -> None:
    ap = ArgParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="where the key, certificate and metadata are written")
    ap.add_argument("--sp-metadata", required=True, help="the SP's metadata: a file or an http:// URL")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--entity-id", help="default: http://127.0.0.1:PORT/metadata")
    ap.add_argument("--sign", choices=["assertion", "response", "both"], default="assertion")
    ap.add_argument("--name-id", required=True, help="the persistent NameID of the signed-in user")
    ap.add_argument("--attr", action="append", default=[], help="NAME=VALUE, repeat for more values")
    ap.add_argument("--encrypt", choices=["pysaml2-default", "aes256-cbc"])
    a = ap.parse_args()
    if a.encrypt == "aes256-cbc":
        use_aes256_cbc()
    identity = parse_attrs(a.attr)
    if not os.path.isdir(a.dir):
        raise UsageError(f"--dir {a.dir} is not a directory")

    httpd = ThreadingHTTPServer(("127.0.0.1", a.port), BaseHTTPRequestHandler)
    port = httpd.server_address[1]
    base = f"http://127.0.0.1:{port}"
    entity_id = a.entity_id or f"{base}/metadata"
    key_file, cert_file = make_key_and_cert(a.dir)

    def config(sp_metadata_file: str | None) -> IdPConfig:
        return IdPConfig().load(
            {
                "entityid": entity_id,
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 15},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_UNSPECIFIED,
                            }
                        },
                    }
                },
                "key_file": key_file,
                "cert_file": cert_file,
                "metadata": {"local": [sp_metadata_file]} if sp_metadata_file else {},
                "crypto_backend": "xmlsec1",
                "xmlsec_binary": shutil.which("xmlsec1"),
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        )

    metadata = create_metadata_string(None, config=config(None), valid=1, sign=False).decode()
    with open(os.path.join(a.dir, "idp-metadata.xml"), "w") as f:
        f.write(metadata)

    lock = threading.Lock()
    state: dict[str, Server] = {}

    def server() -> Server:
        """The pysaml2 Server, built once the SP's metadata can be read."""
        with lock:
            if "server" not in state:
                source = a.sp_metadata
                if source.startswith(("http://", "https://")):
                    with urllib.request.urlopen(source, timeout=10) as r:
                        body = r.read()
                    source = os.path.join(a.dir, "sp-metadata.xml")
                    with open(source, "wb") as f:
                        f.write(body)
                state["server"] = Server(config=config(source))
            return state["server"]

    def respond(srv: Server, relay_state: str, **args) -> bytes:
        resp = srv.create_authn_response(
            identity,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=a.name_id),
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": entity_id},
            sign_assertion=a.sign in ("assertion", "both"),
            sign_response=a.sign in ("response", "both"),
            encrypt_assertion=a.encrypt is not None,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            **args,
        )
        http = srv.apply_binding(BINDING_HTTP_POST, str(resp), args["destination"], relay_state, response=True)
        data = http["data"]
        return data.encode() if isinstance(data, str) else data

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, ctype = 200, "text/html"
            try:
                if url.path == "/metadata":
                    body, ctype = metadata.encode(), "application/samlmetadata+xml"
                elif url.path == "/sso":
                    srv = server()
                    req = srv.parse_authn_request(q["SAMLRequest"], BINDING_HTTP_REDIRECT)
                    args = srv.response_args(req.message, [BINDING_HTTP_POST])
                    args.pop("binding", None)
                    body = respond(srv, q.get("RelayState", ""), **args)
                elif url.path == "/idp-initiated":
                    srv = server()
                    sp = q["sp"]
                    acs = srv.metadata.assertion_consumer_service(sp, BINDING_HTTP_POST)
                    if not acs:
                        raise ValueError(f"the SP {sp!r} has no HTTP-POST ACS in its metadata")
                    body = respond(
                        srv,
                        q.get("RelayState", ""),
                        destination=acs[0]["location"],
                        in_response_to=None,
                        sp_entity_id=sp,
                    )
                else:
                    status, body = 404, b"not found"
            except Exception as e:  # report, keep serving
                print(f"idp_pysaml2: {type(e).__name__}: {one_line(e)}", file=sys.stderr, flush=True)
                status, ctype = 400, "text/plain"
                body = f"error: {type(e).__name__}: {one_line(e)}".encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd.RequestHandlerClass = Handler
    print(f"ready {port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except UsageError as e:
        print(f"usage error: {one_line(e)}", file=sys.stderr)
        sys.exit(2)
