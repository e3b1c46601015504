"""pysaml2's IdP as an HTTP server, for the side-by-side SSO benchmark.

Usage: tests/interop/.venv/bin/python benches/peers/pysaml2_idp_server.py --port P --key KEY.pem
           --cert CERT.pem --idp-entity-id ID --sp-metadata FILE

GET /sso?SAMLRequest=...&RelayState=... (HTTP-Redirect binding) answers what a real pysaml2 IdP
answers for a user who already has a session: parse_authn_request(), create_authn_response()
with a persistent NameID and a few attributes, the Assertion signed (RSA-SHA256, SHA-256, the
xmlsec1 binary backend pysaml2 uses by default), wrapped in pysaml2's HTTP-POST form. Prints
"ready PORT" on stdout once it listens. Threaded, like a WSGI server with threads.
"""

import argparse
import shutil
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--idp-entity-id", required=True)
    ap.add_argument("--sp-metadata", required=True)
    a = ap.parse_args()
    conf = IdPConfig().load(
        {
            "entityid": a.idp_entity_id,
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(f"http://127.0.0.1:{a.port}/sso", BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None, "name_form": NAME_FORMAT_URI}},
                }
            },
            "key_file": a.key,
            "cert_file": a.cert,
            "metadata": {"local": [a.sp_metadata]},
            "crypto_backend": "xmlsec1",
            "xmlsec_binary": shutil.which("xmlsec1"),
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
        }
    )
    server = Server(config=conf)
    identity = {"mail": ["alice@contoso.example"], "givenName": ["Alice"], "sn": ["Liddell"], "uid": ["alice"]}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            q = parse_qs(urlparse(self.path).query)
            try:
                req = server.parse_authn_request(q["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
                msg = req.message
                resp = server.create_authn_response(
                    identity,
                    msg.id,
                    msg.assertion_consumer_service_url,
                    msg.issuer.text,
                    name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="3f1c9b2e0d7a4c5b8e6f"),
                    authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": a.idp_entity_id},
                    sign_assertion=True,
                    sign_alg=SIG_RSA_SHA256,
                    digest_alg=DIGEST_SHA256,
                )
                http = server.apply_binding(
                    BINDING_HTTP_POST, str(resp), msg.assertion_consumer_service_url,
                    q.get("RelayState", [""])[0], response=True,
                )
                body = http["data"].encode() if isinstance(http["data"], str) else http["data"]
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
            except Exception as e:  # report, keep serving
                body = f"error: {type(e).__name__}: {e}".encode()
                self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print(f"ready {a.port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
