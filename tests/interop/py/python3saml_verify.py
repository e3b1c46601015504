"""Verify an enveloped XML-DSig signature the way python3-saml does (python-xmlsec / libxmlsec1).

Usage: .venv/bin/python py/python3saml_verify.py --cert CERT.pem [--element-id ID] FILE

The document is parsed with python3-saml's own parser (OneLogin_Saml2_XML.to_etree: no DTDs, no
entities). Without --element-id: OneLogin_Saml2_Utils.validate_sign(xml, cert, xpath='/*/ds:Signature')
checks the ds:Signature that is a direct child of the root. With it: the ID attributes are
registered (xmlsec.tree.add_ids(root, ["ID"]), as validate_sign does) and
OneLogin_Saml2_Utils.validate_node_sign(signature, element, cert) checks the ds:Signature that is a
direct child of the one element whose ID attribute is ID. The key is only CERT.pem (python3-saml
loads it as the signing key; KeyInfo is not used to find a key). Like python3-saml's Response
checks, the signature must have exactly one Reference whose URI is "#" + that element's ID ("" is
accepted for the root). libxmlsec1 accepts RSA-SHA1 here; python3-saml refuses it only at the
Response level when its rejectDeprecatedAlgorithm setting is on, which this peer does not model.

Prints {"ok":true,"signed_element":"<local name>","id":"<ID or null>"} on success.
Exit: 0 valid, 1 invalid (one-line reason on stderr), 2 usage error.
"""

import _peer
from _peer import DS_NS, Failure, UsageError
import xmlsec
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML


def main() -> None:
    ap = _peer.ArgParser(prog="python3saml_verify.py", description=__doc__.splitlines()[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--element-id")
    ap.add_argument("file")
    args = ap.parse_args()
    cert = _peer.read_bytes(args.cert).decode("ascii", "replace")
    if "-----BEGIN CERTIFICATE-----" not in cert:
        raise UsageError(f"{args.cert} is not a PEM certificate")
    data = _peer.read_bytes(args.file)
    try:
        root = OneLogin_Saml2_XML.to_etree(data)
    except Exception as e:  # defusedxml-style refusals and lxml syntax errors
        raise Failure(f"python3-saml refused to parse the input: {type(e).__name__}: {e}") from None

    target = _peer.find_by_id(root, args.element_id) if args.element_id else root
    signature = _peer.only_child_signature(target)
    refs = signature.findall(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference")
    if len(refs) != 1:
        raise Failure(f"expected exactly one ds:Reference, found {len(refs)}")
    uri, want_id = refs[0].get("URI"), _peer.element_id(target)
    if not (uri == f"#{want_id}" or (uri == "" and target is root)):
        raise Failure(f"Reference URI {uri!r} does not point at <{_peer.local_name(target)} ID={want_id!r}>")

    try:
        if args.element_id is None:
            OneLogin_Saml2_Utils.validate_sign(data, cert=cert, xpath="/*/ds:Signature", raise_exceptions=True)
        else:
            xmlsec.tree.add_ids(root, ["ID"])
            OneLogin_Saml2_Utils.validate_node_sign(signature, target, cert=cert, raise_exceptions=True)
    except Exception as e:  # OneLogin_Saml2_ValidationError, OneLogin_Saml2_Error, xmlsec.Error
        raise Failure(f"{type(e).__name__}: {e}") from None
    _peer.print_ok(target)


if __name__ == "__main__":
    _peer.run(main)
