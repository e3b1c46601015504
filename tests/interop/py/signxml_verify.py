"""Verify an enveloped XML-DSig signature with signxml, trusting only the given certificate.

Usage: .venv/bin/python py/signxml_verify.py --cert CERT.pem [--allow-sha1] [--element-id ID] FILE

Without --element-id: verifies the ds:Signature that is a direct child of the root element. With
it: the ds:Signature that is a direct child of the one element whose ID (or Id) attribute is ID
(that element is what is handed to signxml's XMLVerifier). KeyInfo is never a trust source: the
key is CERT.pem (x509_cert=...); signxml still checks the certificate's validity period and that any
KeyValue in KeyInfo matches it. The signature must have exactly one Reference, and it must resolve
to the chosen element itself (URI="#ID", or "" for the root) - a signature over something else is
a failure. SHA-1 signature and digest methods are refused unless --allow-sha1 (signxml's default).

Prints {"ok":true,"signed_element":"<local name>","id":"<ID or null>"} on success.
Exit: 0 valid, 1 invalid (one-line reason on stderr), 2 usage error.
"""

from cryptography import x509

import _peer
from _peer import Failure, UsageError
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import SignXMLException


def main() -> None:
    ap = _peer.ArgParser(prog="signxml_verify.py", description=__doc__.splitlines()[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--allow-sha1", action="store_true")
    ap.add_argument("--element-id")
    ap.add_argument("file")
    args = ap.parse_args()
    try:
        cert = x509.load_pem_x509_certificate(_peer.read_bytes(args.cert))
    except ValueError as e:
        raise UsageError(f"{args.cert} is not a PEM certificate: {e}") from None
    root = _peer.parse(_peer.read_bytes(args.file))
    target = _peer.find_by_id(root, args.element_id) if args.element_id else root
    _peer.only_child_signature(target)

    config = SignatureConfiguration(location="./", expect_references=1)  # a direct child of `target`
    if args.allow_sha1:
        config = SignatureConfiguration(
            location="./",
            expect_references=1,
            signature_methods=frozenset(SignatureMethod),
            digest_algorithms=frozenset(DigestAlgorithm),
        )
    try:
        result = XMLVerifier().verify(target, x509_cert=cert, expect_config=config)
    except SignXMLException as e:
        raise Failure(f"{type(e).__name__}: {e}") from None
    except ValueError as e:  # e.g. an unknown algorithm URI
        raise Failure(f"{type(e).__name__}: {e}") from None

    signed = result.signed_xml
    want_id = _peer.element_id(target)
    if signed is None or signed.tag != target.tag or _peer.element_id(signed) != want_id:
        got = "nothing" if signed is None else f"<{_peer.local_name(signed)} ID={_peer.element_id(signed)!r}>"
        raise Failure(f"the signature covers {got}, not the chosen <{_peer.local_name(target)} ID={want_id!r}>")
    _peer.print_ok(signed)


if __name__ == "__main__":
    _peer.run(main)
