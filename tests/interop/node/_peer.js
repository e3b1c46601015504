// Shared helpers for the Node interop peers (not a peer itself).
// Exit codes: 0 success, 1 verification/signing failure (one-line reason on stderr), 2 usage error.
"use strict";

const fs = require("node:fs");
const { parseArgs } = require("node:util");
const { DOMParser } = require("@xmldom/xmldom");

const DS_NS = "http://www.w3.org/2000/09/xmldsig#";
const SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion";
const ID_ATTRS = ["ID", "Id"];
const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

class Failure extends Error {}
class UsageError extends Error {}

const oneLine = (s) => String(s).split(/\s+/).filter(Boolean).join(" ");

// Parse argv with node:util parseArgs; any problem is a usage error (exit 2).
function args(usage, options) {
  try {
    const { values, positionals } = parseArgs({ options, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new Error("expected exactly one FILE argument");
    for (const [name, spec] of Object.entries(options)) {
      if (spec.required && values[name] === undefined) throw new Error(`--${name} is required`);
    }
    return { values, file: positionals[0] };
  } catch (e) {
    process.stderr.write(`usage: ${usage}\nusage error: ${oneLine(e.message)}\n`);
    process.exit(2);
  }
}

function readText(path) {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e.code || e.message}`);
  }
}

// xmldom keeps going after many errors; a peer must not.
function parseXml(text) {
  const fail = (msg) => {
    throw new Failure(`input is not well-formed XML: ${oneLine(msg)}`);
  };
  const doc = new DOMParser({ errorHandler: { warning: () => {}, error: fail, fatalError: fail } })
    .parseFromString(text, "text/xml");
  if (!doc || !doc.documentElement) fail("no root element");
  return doc;
}

function* elements(node) {
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === 1) {
      yield c;
      yield* elements(c);
    }
  }
}

const childElements = (el) => Array.from(el.childNodes).filter((c) => c.nodeType === 1);

function elementId(el) {
  for (const name of ID_ATTRS) if (el.hasAttribute(name)) return { name, value: el.getAttribute(name) };
  return null;
}

function findById(doc, wanted) {
  const hits = [];
  for (const el of elements(doc)) {
    if (ID_ATTRS.some((n) => el.hasAttribute(n) && el.getAttribute(n) === wanted)) hits.push(el);
  }
  if (hits.length === 0) throw new Failure(`no element has ID '${wanted}'`);
  if (hits.length > 1) throw new Failure(`${hits.length} elements have ID '${wanted}' (ambiguous)`);
  return hits[0];
}

function childSignatures(el) {
  return childElements(el).filter((c) => c.localName === "Signature" && c.namespaceURI === DS_NS);
}

function onlyChildSignature(el) {
  const sigs = childSignatures(el);
  if (sigs.length === 0) throw new Failure(`<${el.localName}> has no ds:Signature child`);
  if (sigs.length > 1) throw new Failure(`<${el.localName}> has ${sigs.length} ds:Signature children`);
  return sigs[0];
}

function printOk(el) {
  const id = elementId(el);
  process.stdout.write(JSON.stringify({ ok: true, signed_element: el.localName, id: id ? id.value : null }) + "\n");
}

// Run main(); map Failure -> 1, UsageError -> 2, anything else -> 1 (the peer library threw).
function run(main, label = "verification failed") {
  try {
    main();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`usage error: ${oneLine(e.message)}\n`);
      process.exit(2);
    }
    process.stderr.write(`${label}: ${oneLine(e && e.message ? e.message : e)}\n`);
    process.exit(1);
  }
}

module.exports = {
  DS_NS, SAML_NS, EXC_C14N, ENVELOPED, Failure, UsageError, args, readText, parseXml, elements,
  childElements, elementId, findById, childSignatures, onlyChildSignature, printOk, run, oneLine,
};
