"""pysaml2 as an HTTP-Redirect binding peer, for the bindings tests.

pysaml2 (7.5.5, pinned in tests/interop/requirements.txt) encodes with its own code
(saml2.pack.http_redirect_message: raw DEFLATE, base64, urllib's quote_plus, so '+'
for spaces) and signs SAMLRequest=...&RelayState=...&SigAlg=... as it encoded them.
Its verifier (saml2.sigver.verify_redirect_signature) re-encodes the decoded values
with quote_plus before checking, so it accepts only peers that encode the same way.

Usage (run with tests/interop/.venv/bin/python):
  pysaml2_redirect.py sign CERT_OUT ALG...   fresh RSA-2048 key; writes its certificate
                                             to CERT_OUT and prints one signed
                                             AuthnRequest URL per ALG (sha256, sha1)
  pysaml2_redirect.py verify CERT URL        verifies URL's query signature with the
                                             certificate and prints JSON
                                             {"xml": ..., "relay_state": ...}
  pysaml2_redirect.py kat                    rewrites the committed known-answer files
                                             next to this script (pysaml2_cert.pem,
                                             pysaml2_rsa_sha256.url, pysaml2_rsa_sha1.url)
Exit codes: 0 ok, 1 verification failed, 2 usage error.
"""

import datetime
import json
import os
import sys
import warnings
from urllib.parse import parse_qs, urlsplit

warnings.simplefilter("ignore")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from saml2 import BINDING_HTTP_POST, saml, samlp  # noqa: E402
from saml2.pack import http_redirect_message  # noqa: E402
from saml2.s_utils import decode_base64_and_inflate  # noqa: E402
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS  # noqa: E402
from saml2.sigver import RSACrypto, verify_redirect_signature  # noqa: E402
from saml2.xmldsig import SIG_RSA_SHA1, SIG_RSA_SHA256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ALGS = {"sha256": SIG_RSA_SHA256, "sha1": SIG_RSA_SHA1}
# Spaces, '&', '=', '/', '?' and non-ASCII: exercises quote_plus's choices.
RELAY_STATE = "https://sp.example.org/app?x=1&y=two words/é"
LOCATION = "https://idp.example.com/sso?tenant=contoso"


def usage(msg):
    print(f"usage error: {msg}", file=sys.stderr)
    sys.exit(2)


def new_key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pysaml2 redirect peer")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


def signed_url(key, alg):
    request = samlp.AuthnRequest(
        id=f"_pysaml2-{alg}",
        version="2.0",
        issue_instant="2024-01-01T00:00:00Z",
        destination="https://idp.example.com/sso",
        protocol_binding=BINDING_HTTP_POST,
        assertion_consumer_service_url="https://sp.example.org/acs",
        issuer=saml.Issuer(text="https://sp.example.org/metadata"),
        name_id_policy=samlp.NameIDPolicy(format=NAMEID_FORMAT_EMAILADDRESS, allow_create="true"),
    )
    info = http_redirect_message(
        str(request), LOCATION, relay_state=RELAY_STATE, typ="SAMLRequest",
        sigalg=ALGS[alg], sign=True, backend=RSACrypto(key),
    )
    return dict(info["headers"])["Location"]


def verify(cert_path, url):
    with open(cert_path) as f:
        body = "".join(line.strip() for line in f if "-----" not in line)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
    try:
        ok = verify_redirect_signature(params, RSACrypto(None), cert=body)
    except Exception as e:  # pysaml2 raises on unknown algorithms
        ok = False
        print(f"verification failed: {e}", file=sys.stderr)
    if not ok:
        print("verification failed: the query signature does not verify", file=sys.stderr)
        sys.exit(1)
    msg = params.get("SAMLRequest") or params.get("SAMLResponse")
    xml = decode_base64_and_inflate(msg).decode("utf-8")
    print(json.dumps({"xml": xml, "relay_state": params.get("RelayState")}))


def main(argv):
    if len(argv) >= 3 and argv[0] == "sign":
        key, pem = new_key_and_cert()
        with open(argv[1], "wb") as f:
            f.write(pem)
        for alg in argv[2:]:
            if alg not in ALGS:
                usage(f"unknown algorithm {alg}")
            print(signed_url(key, alg))
    elif len(argv) == 3 and argv[0] == "verify":
        verify(argv[1], argv[2])
    elif argv == ["kat"]:
        key, pem = new_key_and_cert()
        with open(os.path.join(HERE, "pysaml2_cert.pem"), "wb") as f:
            f.write(pem)
        for alg in ALGS:
            with open(os.path.join(HERE, f"pysaml2_rsa_{alg}.url"), "w") as f:
                f.write(signed_url(key, alg) + "\n")
    else:
        usage("see the docstring")


if __name__ == "__main__":
    main(sys.argv[1:])
