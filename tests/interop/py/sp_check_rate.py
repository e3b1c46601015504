"""Measure python3-saml's SP validation throughput in-process (strict mode, what its ACS runs).

Usage: .venv/bin/python py/sp_check_rate.py --idp-metadata FILE --sp-entity-id ID --acs-url URL
           --request-id ID --seconds S RESPONSE_B64_FILE

Settings are built once (strict, wantAssertionsSigned, the IdP from FILE through
OneLogin_Saml2_IdPMetadataParser). Each iteration does what python3-saml's ACS does with the posted
value: OneLogin_Saml2_Response(settings, SAMLResponse).is_valid(request_data, request_id) — base64
decoding, parsing, signature verification (libxmlsec1), Issuer, Audience, Destination, Recipient,
InResponseTo and the time window against the real clock — and reads the NameID. The first result is
checked (a rejected response exits 1 with python3-saml's reason). Runs until S seconds (a float,
> 0) have passed, always at least once; prints {"validations_per_second": N}.
Exit: 0 measured, 1 python3-saml rejected the response, 2 usage error.
"""

import json
import time
import urllib.parse

import _peer
from _peer import Failure, UsageError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings


def main() -> None:
    p = _peer.ArgParser(prog="sp_check_rate.py")
    p.add_argument("--idp-metadata", required=True)
    p.add_argument("--sp-entity-id", required=True)
    p.add_argument("--acs-url", required=True)
    p.add_argument("--request-id", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("file")
    args = p.parse_args()
    if not args.seconds > 0:
        raise UsageError("--seconds must be > 0")
    idp = OneLogin_Saml2_IdPMetadataParser.parse(_peer.read_bytes(args.idp_metadata).decode("utf-8"))
    base = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": args.sp_entity_id,
            "assertionConsumerService": {
                "url": args.acs_url,
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            },
        },
        "security": {"wantAssertionsSigned": True, "wantMessagesSigned": False},
    }
    merged = OneLogin_Saml2_IdPMetadataParser.merge_settings(base, idp)
    merged["security"].update(base["security"])
    settings = OneLogin_Saml2_Settings(merged, sp_validation_only=True)
    u = urllib.parse.urlsplit(args.acs_url)
    request = {"https": "on" if u.scheme == "https" else "off", "http_host": u.netloc, "script_name": u.path}
    posted = _peer.read_bytes(args.file).decode("ascii").strip()

    def once() -> str:
        response = OneLogin_Saml2_Response(settings, posted)
        if not response.is_valid(request, args.request_id):
            raise Failure(f"python3-saml: {response.get_error()}")
        return response.get_nameid()

    once()
    start = time.perf_counter()
    n = 0
    while True:
        once()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    print(json.dumps({"validations_per_second": round(n / elapsed, 1)}))


if __name__ == "__main__":
    _peer.run(main, "rejected")
