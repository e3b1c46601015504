"""A SAML 2.0 service provider built with pysaml2 (saml2.client.Saml2Client), driven one step at a time.

Usage:
  .venv/bin/python py/sp_pysaml2.py login --idp-metadata FILE --sp-entity-id ID --acs-url URL
      [--relay-state S] [--nameid-format URI] [--binding redirect|post] [--sp-key KEY --sp-cert CERT]
  .venv/bin/python py/sp_pysaml2.py acs --idp-metadata FILE --sp-entity-id ID --acs-url URL
      [--request-id ID] [--want-signed assertion|response|both|either] RESPONSE_B64_FILE

The SP configuration is built in memory from the arguments: entity ID, one HTTP-POST
AssertionConsumerService at URL, the IdP's metadata FILE loaded inline (its signing certificates
are the only trusted keys), crypto_backend "xmlsec1" (the xmlsec1 binary on PATH).

login: Saml2Client.prepare_for_authenticate() with the HTTP-Redirect binding (default) or, with
--binding post, the HTTP-POST binding; NameIDPolicy Format URI when --nameid-format is given (else
none). With --sp-key/--sp-cert the request is signed (RSA-SHA256): over the query for Redirect, an
enveloped XML signature for POST. Prints {"url": "<redirect URL>", "request_id": "<ID>"}; for POST,
"url" is the form's action and "form" holds its fields ({"SAMLRequest": ..., "RelayState": ...}).

acs: Saml2Client.parse_authn_request_response() on the base64 SAMLResponse in the file (as posted:
HTTP-POST binding). With --request-id the Response must answer that request (outstanding queries
{ID: URL}); without it only unsolicited (IdP-initiated) Responses are accepted (allow_unsolicited).
--want-signed (default assertion) sets want_assertions_signed / want_response_signed (both for
"both"; "either": want_assertions_or_response_signed). pysaml2 checks the signatures, Issuer
(must be the IdP of the metadata), Audience (= the SP entity ID), Destination and Recipient (= the
ACS URL), InResponseTo and the time window. Prints
{"name_id": ..., "name_id_format": ..., "attributes": {Name: [values]}, "session_index": ...},
the attributes by their exact Name as pysaml2 parsed them from the validated assertion.

Exit: 0 accepted / printed, 1 rejected (pysaml2's reason on stderr), 2 usage error.
"""

import base64
import json
import logging
import shutil
import sys
import urllib.parse

import _peer
from _peer import Failure, UsageError
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

import lxml.html

# pysaml2 logs every rejection at ERROR through the root logger's last-resort handler; the reason is
# printed once, on one line, by _peer.run.
logging.disable(logging.CRITICAL)


def client(args, want_signed: str, allow_unsolicited: bool, signing: bool = False) -> Saml2Client:
    metadata = _peer.read_bytes(args.idp_metadata).decode("utf-8", "replace")
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 is None:
        raise UsageError("xmlsec1 is not on PATH (run scripts/install-test-deps)")
    conf = {
        "entityid": args.sp_entity_id,
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(args.acs_url, BINDING_HTTP_POST)]},
                "allow_unsolicited": allow_unsolicited,
                "want_assertions_signed": want_signed in ("assertion", "both"),
                "want_response_signed": want_signed in ("response", "both"),
                "want_assertions_or_response_signed": want_signed == "either",
                "authn_requests_signed": signing,
                "allow_unknown_attributes": True,
            }
        },
        "metadata": {"inline": [metadata]},
        "crypto_backend": "xmlsec1",
        "xmlsec_binary": xmlsec1,
    }
    if signing:
        _peer.read_bytes(args.sp_key)  # usage error (2) when unreadable
        _peer.read_bytes(args.sp_cert)
        conf["key_file"] = args.sp_key
        conf["cert_file"] = args.sp_cert
        conf["signing_algorithm"] = SIG_RSA_SHA256
        conf["digest_algorithm"] = DIGEST_SHA256
    try:
        return Saml2Client(config=SPConfig().load(conf))
    except Exception as e:  # pysaml2 raises many types for bad metadata
        raise UsageError(f"pysaml2 cannot load the configuration: {type(e).__name__}: {e}") from None


def login(args) -> None:
    if bool(args.sp_key) != bool(args.sp_cert):
        raise UsageError("--sp-key and --sp-cert go together")
    signing = bool(args.sp_key)
    sp = client(args, "assertion", False, signing)
    binding = BINDING_HTTP_POST if args.binding == "post" else BINDING_HTTP_REDIRECT
    idps = list(sp.metadata.identity_providers())
    if len(idps) != 1:
        raise UsageError(f"the IdP metadata describes {len(idps)} identity providers; want one")
    try:
        request_id, info = sp.prepare_for_authenticate(
            entityid=idps[0],
            relay_state=args.relay_state or "",
            binding=binding,
            nameid_format=args.nameid_format,
            sign=signing,
            sigalg=SIG_RSA_SHA256 if signing else None,
            digest_alg=DIGEST_SHA256 if signing else None,
        )
    except Exception as e:
        raise Failure(f"pysaml2: {type(e).__name__}: {e}") from None
    if binding == BINDING_HTTP_REDIRECT:
        print(json.dumps({"url": dict(info["headers"])["Location"], "request_id": request_id}))
        return
    # The auto-posting HTML form pysaml2 made: its action and hidden fields.
    page = lxml.html.fromstring(info["data"])
    form = page.forms[0]
    fields = {i.name: i.value for i in form.inputs if i.name and i.get("type") == "hidden"}
    print(json.dumps({"url": form.action, "request_id": request_id, "form": fields}))


def acs(args) -> None:
    sp = client(args, args.want_signed, args.request_id is None)
    raw = _peer.read_bytes(args.response_file).decode("ascii", "replace").strip()
    # The file holds the form value as posted (base64); pysaml2's HTTP-POST decoding takes it as is.
    try:
        base64.b64decode(raw, validate=True)
    except ValueError as e:
        raise UsageError(f"{args.response_file} is not base64: {e}") from None
    outstanding = {args.request_id: args.acs_url} if args.request_id else None
    try:
        resp = sp.parse_authn_request_response(raw, BINDING_HTTP_POST, outstanding=outstanding)
    except Exception as e:
        raise Failure(f"pysaml2: {type(e).__name__}: {e}") from None
    if resp is None:
        raise Failure("pysaml2: the Response could not be read (parse_authn_request_response returned None)")
    assertion = resp.assertion
    if assertion is None:
        raise Failure("pysaml2: the Response carries no assertion")
    attributes: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute:
            values = attributes.setdefault(attribute.name, [])
            for v in attribute.attribute_value:
                values.append(v.text if v.text is not None else "")
    session_index = None
    for statement in assertion.authn_statement or []:
        session_index = session_index or statement.session_index
    name_id = resp.name_id
    print(
        json.dumps(
            {
                "name_id": name_id.text if name_id is not None else None,
                "name_id_format": name_id.format if name_id is not None else None,
                "attributes": attributes,
                "session_index": session_index,
                "in_response_to": resp.response.in_response_to,
                "issuer": resp.issuer(),
            }
        )
    )


def main() -> None:
    ap = _peer.ArgParser(prog="sp_pysaml2.py", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_peer.ArgParser)
    for name in ("login", "acs"):
        p = sub.add_parser(name)
        p.add_argument("--idp-metadata", required=True)
        p.add_argument("--sp-entity-id", required=True)
        p.add_argument("--acs-url", required=True)
        if name == "login":
            p.add_argument("--relay-state")
            p.add_argument("--nameid-format")
            p.add_argument("--binding", choices=("redirect", "post"), default="redirect")
            p.add_argument("--sp-key")
            p.add_argument("--sp-cert")
        else:
            p.add_argument("--request-id")
            p.add_argument(
                "--want-signed", choices=("assertion", "response", "both", "either"), default="assertion"
            )
            p.add_argument("response_file", metavar="RESPONSE_B64_FILE")
    args = ap.parse_args()
    if urllib.parse.urlsplit(args.acs_url).scheme not in ("http", "https"):
        raise UsageError("--acs-url must be an http(s) URL")
    (login if args.command == "login" else acs)(args)


if __name__ == "__main__":
    _peer.run(main, "rejected")
