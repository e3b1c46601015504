"""A SAML 2.0 service provider built with python3-saml (OneLogin_Saml2_Auth), driven one step at a time.

Usage:
  .venv/bin/python py/sp_python3saml.py login --idp-metadata FILE --sp-entity-id ID --acs-url URL
      [--relay-state S] [--nameid-format URI] [--sp-key KEY.pem --sp-cert CERT.pem]
  .venv/bin/python py/sp_python3saml.py acs --idp-metadata FILE --sp-entity-id ID --acs-url URL
      [--request-id ID] [--want-signed assertion|response|both] RESPONSE_B64_FILE
  .venv/bin/python py/sp_python3saml.py metadata --sp-entity-id ID --acs-url URL
      [--sp-key KEY.pem --sp-cert CERT.pem]
  .venv/bin/python py/sp_python3saml.py logout --idp-metadata FILE --sp-entity-id ID --acs-url URL
      --sls-url URL --name-id N [--session-index S] [--relay-state S]
  .venv/bin/python py/sp_python3saml.py sls --idp-metadata FILE --sp-entity-id ID --acs-url URL
      --sls-url URL --request-id ID RESPONSE_URL

The settings are built in memory from the arguments: strict mode, the SP (entity ID, one HTTP-POST
AssertionConsumerService at URL, NameIDPolicy Format URI when given, else python3-saml's default
"unspecified" -- not the IdP metadata's first md:NameIDFormat, which python3-saml's metadata merge
would otherwise copy into the SP settings), and the IdP from FILE through OneLogin_Saml2_IdPMetadataParser.parse (entity ID,
HTTP-Redirect SSO URL, every signing certificate: x509cert, or x509certMulti during a rollover).
The request dict python3-saml reads the current URL from is made from the ACS URL (its scheme,
host[:port] and path), as if the Response had been posted there.

login: OneLogin_Saml2_Auth.login(return_to=S). With --sp-key/--sp-cert the AuthnRequest is signed
(security.authnRequestsSigned: RSA-SHA256 over the redirect query). Prints
{"url": "<redirect URL>", "request_id": "<ID>"}.

acs: OneLogin_Saml2_Auth.process_response(request_id=ID) on the base64 SAMLResponse in the file
(strict=True: signatures, Issuer, Audience, Destination, Recipient, InResponseTo when ID is given,
time window). Without --request-id an unsolicited (IdP-initiated) Response is accepted.
--want-signed (default assertion) sets security.wantAssertionsSigned / wantMessagesSigned.
Prints {"name_id": ..., "name_id_format": ..., "attributes": {Name: [values]}, "session_index": ...}.

metadata: the SP metadata python3-saml generates for these settings (with a signing KeyDescriptor
when --sp-cert is given, and AuthnRequestsSigned="true" with --sp-key).
--sp-cert alone is allowed here: the SP announces its certificate without the key at hand.

logout: OneLogin_Saml2_Auth.logout() — an HTTP-Redirect LogoutRequest for NameID N (and the
session index) to the IdP's SingleLogoutService; prints {"url": ..., "request_id": ...}.

sls: OneLogin_Saml2_Auth.process_slo(request_id=ID) on the LogoutResponse carried by RESPONSE_URL
(the IdP's redirect to --sls-url): strict checks of Issuer, Destination, InResponseTo, status
and the query-string signature against the IdP's certificate. Prints {"ok": true}.

Exit: 0 accepted / printed, 1 rejected (python3-saml's reason on stderr), 2 usage error.
"""

import json
import urllib.parse

import _peer
from _peer import Failure, UsageError
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings


def pem_body(path: str) -> str:
    text = _peer.read_bytes(path).decode("ascii", "replace")
    if "-----BEGIN" not in text:
        raise UsageError(f"{path} is not PEM")
    return text


def base_settings(args, want_signed: str = "assertion") -> dict:
    sp = {
        "entityId": args.sp_entity_id,
        "assertionConsumerService": {
            "url": args.acs_url,
            "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
        },
    }
    if getattr(args, "nameid_format", None):
        sp["NameIDFormat"] = args.nameid_format
    if getattr(args, "sls_url", None):
        sp["singleLogoutService"] = {"url": args.sls_url, "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT}
    signing = bool(getattr(args, "sp_key", None))
    if signing and not getattr(args, "sp_cert", None):
        raise UsageError("--sp-key needs --sp-cert")
    if getattr(args, "sp_cert", None):
        sp["x509cert"] = pem_body(args.sp_cert)
    if signing:
        sp["privateKey"] = pem_body(args.sp_key)
    return {
        "strict": True,
        "debug": False,
        "sp": sp,
        "security": {
            "authnRequestsSigned": signing,
            "wantAssertionsSigned": want_signed in ("assertion", "both"),
            "wantMessagesSigned": want_signed in ("response", "both"),
            "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
        },
    }


def settings_with_idp(args, want_signed: str = "assertion") -> dict:
    metadata = _peer.read_bytes(args.idp_metadata).decode("utf-8", "replace")
    try:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(metadata)
    except Exception as e:
        raise UsageError(f"python3-saml cannot parse the IdP metadata: {type(e).__name__}: {e}") from None
    if "idp" not in idp:
        raise UsageError("the IdP metadata has no IDPSSODescriptor with an HTTP-Redirect SSO service")
    base = base_settings(args, want_signed)
    merged = OneLogin_Saml2_IdPMetadataParser.merge_settings(base, idp)
    # The parser turns the IdP's WantAuthnRequestsSigned into security.authnRequestsSigned and the
    # IdP's first md:NameIDFormat into sp.NameIDFormat; whether this SP signs, and which format it
    # asks for, are its own settings (--nameid-format, else python3-saml's default "unspecified").
    merged["security"].update(base["security"])
    merged["sp"]["NameIDFormat"] = base["sp"].get("NameIDFormat", OneLogin_Saml2_Constants.NAMEID_UNSPECIFIED)
    return merged


def request_data(acs_url: str, post_data: dict | None = None) -> dict:
    u = urllib.parse.urlsplit(acs_url)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise UsageError("--acs-url must be an absolute http(s) URL")
    return {
        "https": "on" if u.scheme == "https" else "off",
        "http_host": u.netloc,
        "script_name": u.path,
        "get_data": {},
        "post_data": post_data or {},
    }


def make_auth(req: dict, settings: dict) -> OneLogin_Saml2_Auth:
    try:
        return OneLogin_Saml2_Auth(req, settings)
    except Exception as e:  # OneLogin_Saml2_Error for invalid settings
        raise UsageError(f"python3-saml rejects the settings: {type(e).__name__}: {e}") from None


def login(args) -> None:
    auth = make_auth(request_data(args.acs_url), settings_with_idp(args))
    try:
        url = auth.login(return_to=args.relay_state)
    except Exception as e:
        raise Failure(f"python3-saml: {type(e).__name__}: {e}") from None
    print(json.dumps({"url": url, "request_id": auth.get_last_request_id()}))


def acs(args) -> None:
    raw = _peer.read_bytes(args.response_file).decode("ascii", "replace").strip()
    auth = make_auth(
        request_data(args.acs_url, {"SAMLResponse": raw}), settings_with_idp(args, args.want_signed)
    )
    try:
        auth.process_response(request_id=args.request_id)
    except Exception as e:
        raise Failure(f"python3-saml: {type(e).__name__}: {e}") from None
    errors = auth.get_errors()
    if errors or not auth.is_authenticated():
        raise Failure(f"python3-saml: {', '.join(errors) or 'not authenticated'}: {auth.get_last_error_reason()}")
    print(
        json.dumps(
            {
                "name_id": auth.get_nameid(),
                "name_id_format": auth.get_nameid_format(),
                "attributes": auth.get_attributes(),
                "session_index": auth.get_session_index(),
                "in_response_to": auth.get_last_response_in_response_to(),
            }
        )
    )


def logout(args) -> None:
    auth = make_auth(request_data(args.acs_url), settings_with_idp(args))
    try:
        url = auth.logout(return_to=args.relay_state, name_id=args.name_id, session_index=args.session_index)
    except Exception as e:
        raise Failure(f"python3-saml: {type(e).__name__}: {e}") from None
    print(json.dumps({"url": url, "request_id": auth.get_last_request_id()}))


def sls(args) -> None:
    u = urllib.parse.urlsplit(args.response_url)
    # python3-saml re-encodes the decoded values to check the query signature.
    get_data = {k: v for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)}
    req = request_data(args.sls_url)
    req["get_data"] = get_data
    auth = make_auth(req, settings_with_idp(args))
    try:
        auth.process_slo(keep_local_session=True, request_id=args.request_id)
    except Exception as e:
        raise Failure(f"python3-saml: {type(e).__name__}: {e}") from None
    errors = auth.get_errors()
    if errors:
        raise Failure(f"python3-saml: {', '.join(errors)}: {auth.get_last_error_reason()}")
    print(json.dumps({"ok": True}))


def metadata(args) -> None:
    request_data(args.acs_url)  # usage error (2) when the ACS URL is not absolute http(s)
    settings = base_settings(args)
    # The SP-only view of the settings: no IdP needed to describe the SP.
    try:
        s = OneLogin_Saml2_Settings(settings, sp_validation_only=True)
        xml = s.get_sp_metadata()
        errors = s.validate_metadata(xml)
    except Exception as e:
        raise Failure(f"python3-saml: {type(e).__name__}: {e}") from None
    if errors:
        raise Failure(f"python3-saml: invalid SP metadata: {', '.join(errors)}")
    print(xml.decode() if isinstance(xml, bytes) else xml)


def main() -> None:
    ap = _peer.ArgParser(prog="sp_python3saml.py", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_peer.ArgParser)
    for name in ("login", "acs", "metadata", "logout", "sls"):
        p = sub.add_parser(name)
        if name != "metadata":
            p.add_argument("--idp-metadata", required=True)
        p.add_argument("--sp-entity-id", required=True)
        p.add_argument("--acs-url", required=True)
        if name in ("login", "metadata"):
            p.add_argument("--sp-key")
            p.add_argument("--sp-cert")
        if name == "login":
            p.add_argument("--relay-state")
            p.add_argument("--nameid-format")
        if name in ("logout", "sls"):
            p.add_argument("--sls-url", required=True)
        if name == "logout":
            p.add_argument("--name-id", required=True)
            p.add_argument("--session-index")
            p.add_argument("--relay-state")
        if name == "sls":
            p.add_argument("--request-id", required=True)
            p.add_argument("response_url", metavar="RESPONSE_URL")
        if name == "acs":
            p.add_argument("--request-id")
            p.add_argument("--want-signed", choices=("assertion", "response", "both"), default="assertion")
            p.add_argument("response_file", metavar="RESPONSE_B64_FILE")
    args = ap.parse_args()
    {"login": login, "acs": acs, "metadata": metadata, "logout": logout, "sls": sls}[args.command](args)


if __name__ == "__main__":
    _peer.run(main, "rejected")
