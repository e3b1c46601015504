"""Measure libxmlsec1 signing / verification throughput in-process (python-xmlsec binding).

Usage: .venv/bin/python py/xmlsec_sign_rate.py --key KEY.pem --cert CERT.pem --element-id ID --seconds S FILE
       .venv/bin/python py/xmlsec_sign_rate.py --verify --cert CERT.pem --element-id ID --seconds S FILE

Sign mode: FILE is an unsigned document. Each iteration does what a signer does with bytes in and
bytes out: parse FILE's bytes (lxml), register ID attributes, add a signature template to the
element whose ID attribute is ID (placed after its saml:Issuer child, else first; exclusive c14n,
RSA-SHA256, one Reference URI="#ID" with enveloped + exclusive-c14n transforms and SHA-256,
KeyInfo/X509Data), sign it with libxmlsec1 and serialize the document. The key is loaded once.
Prints {"signatures_per_second": N}.

--verify mode: FILE is already signed. Each iteration parses FILE, registers IDs, and verifies the
ds:Signature that is a direct child of the element with that ID against CERT's key. Prints
{"verifications_per_second": N}. The first result is checked (a verification failure, or a
signature that our own verification rejects in sign mode, exits 1).

Runs iterations until S seconds (a float, > 0) have passed, always at least one; N is
iterations / elapsed wall-clock seconds, rounded to one decimal.
Exit: 0 measured, 1 signing/verification failed, 2 usage error.
"""

import json
import time

import _peer
from _peer import DS_NS, Failure, UsageError
import xmlsec
from lxml import etree


def sign_once(data: bytes, element_id: str, key: xmlsec.Key) -> bytes:
    root = etree.fromstring(data, _peer.safe_parser())
    xmlsec.tree.add_ids(root, ["ID"])
    target = _peer.find_by_id(root, element_id)
    c = xmlsec.constants
    sig = xmlsec.template.create(target, c.TransformExclC14N, c.TransformRsaSha256, ns="ds")
    target.insert(_peer.signature_position(target), sig)
    ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha256, uri=f"#{element_id}")
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    key_info = xmlsec.template.ensure_key_info(sig)
    xmlsec.template.add_x509_data(key_info)
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.sign(sig)
    return etree.tostring(root)


def verify_once(data: bytes, element_id: str, key: xmlsec.Key) -> None:
    root = etree.fromstring(data, _peer.safe_parser())
    xmlsec.tree.add_ids(root, ["ID"])
    target = _peer.find_by_id(root, element_id)
    sig = _peer.only_child_signature(target)
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.verify(sig)  # raises xmlsec.VerificationError


def main() -> None:
    ap = _peer.ArgParser(prog="xmlsec_sign_rate.py", description=__doc__.splitlines()[0])
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--key")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--element-id", required=True)
    ap.add_argument("--seconds", required=True, type=float)
    ap.add_argument("file")
    args = ap.parse_args()
    if not args.seconds > 0:
        ap.error("--seconds must be > 0")
    if not args.verify and not args.key:
        ap.error("--key is required unless --verify")
    data = _peer.read_bytes(args.file)
    cert = _peer.read_bytes(args.cert)
    try:
        verify_key = xmlsec.Key.from_memory(cert, xmlsec.constants.KeyDataFormatCertPem, None)
        if not args.verify:
            sign_key = xmlsec.Key.from_memory(_peer.read_bytes(args.key), xmlsec.constants.KeyDataFormatPem, None)
            sign_key.load_cert_from_memory(cert, xmlsec.constants.KeyDataFormatCertPem)
    except xmlsec.Error as e:
        raise UsageError(f"cannot load key/cert: {e}") from None

    try:
        if args.verify:
            verify_once(data, args.element_id, verify_key)  # fail fast, outside the timing
        else:
            signed = sign_once(data, args.element_id, sign_key)
            verify_once(signed, args.element_id, verify_key)
    except (xmlsec.Error, etree.XMLSyntaxError) as e:
        raise Failure(f"{type(e).__name__}: {e}") from None

    count, start = 0, time.perf_counter()
    deadline = start + args.seconds
    while True:
        if args.verify:
            verify_once(data, args.element_id, verify_key)
        else:
            sign_once(data, args.element_id, sign_key)
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    rate = round(count / (now - start), 1)
    print(json.dumps({"verifications_per_second" if args.verify else "signatures_per_second": rate}))


if __name__ == "__main__":
    _peer.run(main)
