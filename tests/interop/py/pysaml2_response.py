"""Create a real signed SAML 2.0 Response with pysaml2's IdP (saml2.server.Server).

Usage: .venv/bin/python py/pysaml2_response.py --key KEY.pem --cert CERT.pem
           --sp-entity-id ID --acs-url URL --idp-entity-id ID --name-id VALUE
           [--in-response-to ID] [--sign response|assertion|both] [--attr NAME=VALUE]...

Builds an in-memory IdP configuration (entity ID, key and certificate, crypto_backend "xmlsec1"
driving the xmlsec1 binary on PATH, RSA-SHA256 signatures with SHA-256 digests) and SP metadata
generated on the fly by pysaml2 itself (saml2.metadata.entity_descriptor of an SP config with an
HTTP-POST AssertionConsumerService at URL and a persistent NameIDFormat), then calls
Server.create_authn_response(). The Response has Destination=URL, InResponseTo when given
(otherwise it is IdP-initiated), a persistent NameID (NameQualifier = IdP, SPNameQualifier = SP),
a password-protected-transport AuthnStatement, pysaml2's default validity window (15 minutes
here, via the policy lifetime) and one saml:Attribute per distinct NAME, Name exactly NAME
and NameFormat uri (repeat --attr NAME=... for several values). --sign picks what is signed
(default: assertion). Prints the Response XML to stdout.

Exit: 0 printed, 1 pysaml2 failed (reason on stderr), 2 usage error.
"""

import shutil
import sys

import _peer
from _peer import Failure, UsageError
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256


def sp_metadata(sp_entity_id: str, acs_url: str) -> str:
    sp_conf = SPConfig().load(
        {
            "entityid": sp_entity_id,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]},
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "want_assertions_signed": True,
                }
            },
        }
    )
    return str(entity_descriptor(sp_conf))


def main() -> None:
    ap = _peer.ArgParser(prog="pysaml2_response.py", description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--sp-entity-id", required=True)
    ap.add_argument("--acs-url", required=True)
    ap.add_argument("--idp-entity-id", required=True)
    ap.add_argument("--name-id", required=True)
    ap.add_argument("--in-response-to")
    ap.add_argument("--sign", choices=("response", "assertion", "both"), default="assertion")
    ap.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args()

    identity: dict[str, list[str]] = {}
    for item in args.attr:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--attr wants NAME=VALUE, got {item!r}")
        identity.setdefault(name, []).append(value)
    for path in (args.key, args.cert):
        _peer.read_bytes(path)  # usage error (2) when unreadable
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 is None:
        raise UsageError("xmlsec1 is not on PATH (run scripts/install-test-deps)")

    idp_conf = IdPConfig().load(
        {
            "entityid": args.idp_entity_id,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(f"{args.idp_entity_id.rstrip('/')}/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 15},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
            "key_file": args.key,
            "cert_file": args.cert,
            "metadata": {"inline": [sp_metadata(args.sp_entity_id, args.acs_url)]},
            "crypto_backend": "xmlsec1",
            "xmlsec_binary": xmlsec1,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
        }
    )
    # One converter for the policy's NameFormat (uri) that knows no names: pysaml2 then emits
    # <saml:Attribute Name="NAME" NameFormat="...:uri"> with NAME as given, instead of
    # mapping LDAP-style names (mail, uid, ...) to urn:oid: names.
    converter = AttributeConverter(NAME_FORMAT_URI)
    converter._to, converter._fro = {}, {}
    idp_conf.attribute_converters = [converter]
    server = Server(config=idp_conf)

    name_id = NameID(
        format=NAMEID_FORMAT_PERSISTENT,
        text=args.name_id,
        name_qualifier=args.idp_entity_id,
        sp_name_qualifier=args.sp_entity_id,
    )
    try:
        response = server.create_authn_response(
            identity,
            args.in_response_to,
            args.acs_url,
            args.sp_entity_id,
            name_id=name_id,
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": args.idp_entity_id},
            sign_response=args.sign in ("response", "both"),
            sign_assertion=args.sign in ("assertion", "both"),
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
    except Exception as e:  # pysaml2 raises many unrelated types (SigverError, XmlsecError, ...)
        raise Failure(f"pysaml2: {type(e).__name__}: {e}") from None
    xml = str(response)
    if "StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"" not in xml:
        raise Failure("pysaml2 produced an error Response instead of a successful one")
    sys.stdout.write(xml if xml.endswith("\n") else xml + "\n")


if __name__ == "__main__":
    _peer.run(main, "pysaml2 failed")
