"""Exclusive XML canonicalization oracle (lxml / libxml2).

Usage: .venv/bin/python py/c14n_oracle.py < cases.jsonl > results.jsonl

Reads JSON Lines on stdin, one case per line:
  {"xml": "<doc…>", "path": [i, j, …] | null, "with_comments": bool,
   "prefixes": ["p1", "#default", …] | null}
and writes one JSON line per case, in order, to stdout:
  {"c14n_b64": "<base64 of the exact canonical bytes>"}   or   {"error": "<reason>"}

`xml` is parsed with lxml without entity expansion, DTD loading or network access, keeping
comments and PIs. `path` null: the whole document (the ElementTree, so comments and PIs outside
the root element are included). Otherwise start at the root element and at each step take the
i-th child *element* (comments, PIs and text are not counted); canonicalize that subtree.
Canonicalization is exclusive c14n (xml-exc-c14n), `with_comments` as given, `prefixes` as the
InclusiveNamespaces PrefixList.

lxml quirk worked around here: lxml passes to libxml2 only the prefixes that already occur as names
in the parser's dictionary, so "#default" (exc-c14n's name for the default namespace) is silently
dropped. Cases whose `prefixes` contain "#default" are therefore canonicalized by calling the very
same libxml2 that lxml bundles (its exported xmlC14NDocDumpMemory, through ctypes) with the prefix
list as given; the document is parsed with the same options and the subtree is selected by XPath.

Entity references to a DTD's entities stay unexpanded, so libxml2 refuses to canonicalize such
a document and the case gets an "error". Blank lines are skipped without output. Output is
buffered and flushed when stdin closes, so write all cases, close stdin, then read. Takes no
arguments (exit 2 if given any); exit 0 even when some cases are errors.
"""

import base64
import ctypes
import json
import sys

from lxml import etree


def parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
    )


class _LibXml2:
    """lxml's own bundled libxml2, called directly (only for "#default" prefix lists)."""

    XML_PARSE_NOERROR, XML_PARSE_NOWARNING, XML_PARSE_NONET, XML_PARSE_NOCDATA = 1 << 5, 1 << 6, 1 << 11, 1 << 14

    def __init__(self) -> None:
        lib = ctypes.CDLL(etree.__file__)
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        self.read = lib.xmlReadMemory
        self.read.restype, self.read.argtypes = vp, [cp, ctypes.c_int, cp, cp, ctypes.c_int]
        self.free_doc = lib.xmlFreeDoc
        self.free_doc.argtypes = [vp]
        self.xp_ctx = lib.xmlXPathNewContext
        self.xp_ctx.restype, self.xp_ctx.argtypes = vp, [vp]
        self.xp_free_ctx = lib.xmlXPathFreeContext
        self.xp_free_ctx.argtypes = [vp]
        self.xp_eval = lib.xmlXPathEvalExpression
        self.xp_eval.restype, self.xp_eval.argtypes = vp, [cp, vp]
        self.xp_free = lib.xmlXPathFreeObject
        self.xp_free.argtypes = [vp]
        self.c14n = lib.xmlC14NDocDumpMemory
        self.c14n.restype = ctypes.c_int
        self.c14n.argtypes = [vp, vp, ctypes.c_int, ctypes.POINTER(cp), ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
        self.xml_free = ctypes.CFUNCTYPE(None, vp).in_dll(lib, "xmlFree")

    def canonicalize(self, xml: bytes, path, with_comments: bool, prefixes) -> bytes:
        opts = self.XML_PARSE_NOERROR | self.XML_PARSE_NOWARNING | self.XML_PARSE_NONET | self.XML_PARSE_NOCDATA
        doc = self.read(xml, len(xml), None, None, opts)
        if not doc:
            raise ValueError("libxml2 could not parse the document")
        ctx = obj = None
        try:
            nodes = None
            if path is not None:
                apex = "/*" + "".join(f"/*[{i + 1}]" for i in path)
                expr = (f"{apex}/descendant-or-self::node() | {apex}/descendant-or-self::*/@*"
                        f" | {apex}/descendant-or-self::*/namespace::*")
                ctx = self.xp_ctx(doc)
                obj = self.xp_eval(expr.encode(), ctx)
                if not obj:
                    raise ValueError("XPath selection of the subtree failed")
                # struct _xmlXPathObject { xmlXPathObjectType type; xmlNodeSetPtr nodesetval; ... }
                nodes = ctypes.c_void_p.from_address(obj + ctypes.sizeof(ctypes.c_void_p)).value
            arr = (ctypes.c_char_p * (len(prefixes) + 1))(*[p.encode() for p in prefixes], None)
            out = ctypes.c_void_p()
            n = self.c14n(doc, nodes, 1, arr, int(with_comments), ctypes.byref(out))
            if n < 0 or not out.value:
                raise ValueError("C14N failed")
            try:
                return ctypes.string_at(out.value, n)
            finally:
                self.xml_free(out.value)
        finally:
            if obj:
                self.xp_free(obj)
            if ctx:
                self.xp_free_ctx(ctx)
            self.free_doc(doc)


_libxml2 = None


def one_case(line: str, xml_parser: etree.XMLParser) -> dict:
    try:
        case = json.loads(line)
    except ValueError as e:
        return {"error": f"case is not JSON: {e}"}
    if not isinstance(case, dict) or not isinstance(case.get("xml"), str):
        return {"error": "case must be an object with a string 'xml'"}
    path = case.get("path")
    with_comments = bool(case.get("with_comments", False))
    prefixes = case.get("prefixes")
    if path is not None and not (
        isinstance(path, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in path)
    ):
        return {"error": "'path' must be null or a list of integers"}
    if prefixes is not None and not (isinstance(prefixes, list) and all(isinstance(p, str) for p in prefixes)):
        return {"error": "'prefixes' must be null or a list of strings"}
    try:
        root = etree.fromstring(case["xml"].encode("utf-8"), xml_parser)
    except (etree.XMLSyntaxError, ValueError) as e:
        return {"error": f"parse: {' '.join(str(e).split())}"}
    if path is None:
        target = root.getroottree()
    else:
        target = root
        for depth, i in enumerate(path):
            children = [c for c in target if isinstance(c.tag, str)]
            if i < 0 or i >= len(children):
                return {"error": f"path step {depth} index {i} out of range ({len(children)} child elements)"}
            target = children[i]
    if prefixes and "#default" in prefixes:
        global _libxml2
        try:
            if _libxml2 is None:
                _libxml2 = _LibXml2()
            out = _libxml2.canonicalize(case["xml"].encode("utf-8"), path, with_comments, prefixes)
        except Exception as e:
            return {"error": f"c14n: {type(e).__name__}: {' '.join(str(e).split())}"}
        return {"c14n_b64": base64.b64encode(out).decode("ascii")}
    try:
        out = etree.tostring(
            target,
            method="c14n",
            exclusive=True,
            with_comments=with_comments,
            inclusive_ns_prefixes=prefixes or None,
        )
    except Exception as e:  # libxml2 reports c14n failures as generic errors
        return {"error": f"c14n: {type(e).__name__}: {' '.join(str(e).split())}"}
    return {"c14n_b64": base64.b64encode(out).decode("ascii")}


def main() -> int:
    if len(sys.argv) > 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        print("usage error: c14n_oracle.py takes no arguments; cases come on stdin", file=sys.stderr)
        return 2
    xml_parser = parser()
    out = []
    for line in sys.stdin.buffer:
        line = line.strip()
        if not line:
            continue
        out.append(json.dumps(one_case(line.decode("utf-8", "replace"), xml_parser)))
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
