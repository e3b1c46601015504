"""Sign one element of an XML document with signxml (enveloped XML-DSig).

Usage: .venv/bin/python py/signxml_sign.py --key KEY.pem --cert CERT.pem --element-id ID [--sha1] FILE

Signs the element whose ID (or Id) attribute is ID: enveloped signature, exclusive c14n, RSA-SHA256
and SHA-256 digest (--sha1: RSA-SHA1 and SHA-1, which signxml refuses by default; this peer
unlocks them the way signxml's docs say, by subclassing XMLSigner). Reference URI="#ID", KeyInfo
carries the certificate. The ds:Signature is placed as the element's child right after its
saml:Issuer child when it has one (SAML schema order), else as its first child. Prints the whole
signed document to stdout (no XML declaration; comments/PIs outside the root are not kept).

To sign an Assertion and its Response, sign the inner element first, then feed the output back in.
Exit: 0 signed, 1 signing failed (reason on stderr), 2 usage error.
"""

import sys

import _peer
from _peer import DS_NS, Failure, UsageError
from lxml import etree
from signxml import XMLSigner, methods
from signxml.exceptions import SignXMLException

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


class SHA1Signer(XMLSigner):
    """signxml refuses SHA-1 in check_deprecated_methods(); its docs say to override it."""

    def check_deprecated_methods(self):
        pass


def main() -> None:
    ap = _peer.ArgParser(prog="signxml_sign.py", description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--element-id", required=True)
    ap.add_argument("--sha1", action="store_true")
    ap.add_argument("file")
    args = ap.parse_args()
    key = _peer.read_bytes(args.key)
    cert = _peer.read_bytes(args.cert).decode("ascii", "replace")
    root = _peer.parse(_peer.read_bytes(args.file))
    target = _peer.find_by_id(root, args.element_id)

    # signxml fills a <ds:Signature Id="placeholder"/> wherever it finds one.
    placeholder = etree.Element(f"{{{DS_NS}}}Signature", nsmap={"ds": DS_NS}, Id="placeholder")
    target.insert(_peer.signature_position(target), placeholder)

    cls, alg, digest = (SHA1Signer, "rsa-sha1", "sha1") if args.sha1 else (XMLSigner, "rsa-sha256", "sha256")
    signer = cls(method=methods.enveloped, signature_algorithm=alg, digest_algorithm=digest, c14n_algorithm=EXC_C14N)
    try:
        signed = signer.sign(root, key=key, cert=cert, reference_uri=f"#{args.element_id}")
    except (SignXMLException, ValueError, TypeError) as e:
        # ValueError/TypeError: cryptography could not load the key or certificate.
        if isinstance(e, (ValueError, TypeError)) and not isinstance(e, SignXMLException):
            raise UsageError(f"cannot use key/cert: {e}") from None
        raise Failure(str(e)) from None
    sys.stdout.buffer.write(etree.tostring(signed))
    sys.stdout.buffer.write(b"\n")


if __name__ == "__main__":
    _peer.run(main, "signing failed")
