"""Shared helpers for the Python interop peers (not a peer itself).

Exit codes used by every peer: 0 success, 1 verification failure (one-line reason on stderr),
2 usage error (bad arguments, unreadable key/cert/input file).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import NoReturn

# pysaml2 and signxml warn about deprecated cryptography APIs on import; the peers' stderr is
# reserved for the one-line failure reason.
warnings.simplefilter("ignore")

from lxml import etree  # noqa: E402

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ID_ATTRS = ("ID", "Id")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class Failure(Exception):
    """A verification (or signing) failure: exit 1 with the message."""


class UsageError(Exception):
    """Exit 2 with the message."""


class ArgParser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (argparse's default code is already 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: usage error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def run(main, label: str = "verification failed") -> NoReturn:
    """Run main(); map Failure -> 1 and UsageError -> 2 with a one-line reason on stderr."""
    try:
        main()
    except UsageError as e:
        print(f"usage error: {one_line(e)}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except Failure as e:
        print(f"{label}: {one_line(e)}", file=sys.stderr)
        sys.exit(EXIT_FAIL)
    sys.exit(EXIT_OK)


def one_line(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return " ".join(text.split())


def read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None


def safe_parser() -> etree.XMLParser:
    """No entity expansion, no DTD loading, no network; whitespace, comments and PIs kept."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        huge_tree=False,
    )


def parse(data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as e:
        raise Failure(f"input is not well-formed XML: {e}") from None


def element_id(elem: etree._Element) -> str | None:
    for name in ID_ATTRS:
        value = elem.get(name)
        if value is not None:
            return value
    return None


def find_by_id(root: etree._Element, wanted: str) -> etree._Element:
    """The one element whose ID (or Id) attribute equals `wanted`; Failure if none or several."""
    hits = [
        el
        for el in root.iter(etree.Element)
        if any(el.get(name) == wanted for name in ID_ATTRS)
    ]
    if not hits:
        raise Failure(f"no element has ID {wanted!r}")
    if len(hits) > 1:
        raise Failure(f"{len(hits)} elements have ID {wanted!r} (ambiguous)")
    return hits[0]


def local_name(elem: etree._Element) -> str:
    return etree.QName(elem).localname


def child_signatures(elem: etree._Element) -> list[etree._Element]:
    return [c for c in elem if isinstance(c.tag, str) and c.tag == f"{{{DS_NS}}}Signature"]


def only_child_signature(elem: etree._Element) -> etree._Element:
    sigs = child_signatures(elem)
    if not sigs:
        raise Failure(f"<{local_name(elem)}> has no ds:Signature child")
    if len(sigs) > 1:
        raise Failure(f"<{local_name(elem)}> has {len(sigs)} ds:Signature children")
    return sigs[0]


def signature_position(elem: etree._Element) -> int:
    """Index for a new ds:Signature child: right after a saml:Issuer child, else first."""
    for i, child in enumerate(elem):
        if child.tag == f"{{{SAML_NS}}}Issuer":
            return i + 1
    return 0


def print_ok(signed: etree._Element) -> None:
    result = {"ok": True, "signed_element": local_name(signed), "id": element_id(signed)}
    print(json.dumps(result, separators=(",", ":")))
