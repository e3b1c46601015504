#!/usr/bin/env node
// Verify an enveloped XML-DSig signature with xml-crypto, trusting only the given certificate.
//
// Usage: node node/xmlcrypto_verify.js --cert CERT.pem [--allow-sha1] [--element-id ID] FILE
//
// Without --element-id: the ds:Signature that is a direct child of the root element. With it: the
// ds:Signature that is a direct child of the one element whose ID (or Id) attribute is ID. That
// node goes to SignedXml.loadSignature(), then checkSignature(<whole file>) runs with
// publicCert = CERT and getCertFromKeyInfo = () => null, so KeyInfo is never a trust source.
// It fails when xml-crypto finds no signature, the check throws or returns false, the signature
// has other than one Reference, or the one reference that getSignedReferences() returns is not the
// chosen element (same namespace, local name and ID). RSA-SHA1 and SHA-1 (which xml-crypto
// accepts by default) are removed from its algorithm tables unless --allow-sha1, to match signxml.
//
// Prints {"ok":true,"signed_element":"<local name>","id":"<ID or null>"} on success.
// Exit: 0 valid, 1 invalid (one-line reason on stderr), 2 usage error.
"use strict";

const { SignedXml } = require("xml-crypto");
const { DOMParser } = require("@xmldom/xmldom");
const peer = require("./_peer");

const USAGE = "node xmlcrypto_verify.js --cert CERT.pem [--allow-sha1] [--element-id ID] FILE";

peer.run(() => {
  const { values, file } = peer.args(USAGE, {
    cert: { type: "string", required: true },
    "allow-sha1": { type: "boolean" },
    "element-id": { type: "string" },
  });
  const cert = peer.readText(values.cert);
  if (!cert.includes("-----BEGIN CERTIFICATE-----")) {
    throw new peer.UsageError(`${values.cert} is not a PEM certificate`);
  }
  const xml = peer.readText(file);
  const doc = peer.parseXml(xml);
  const target = values["element-id"] === undefined ? doc.documentElement : peer.findById(doc, values["element-id"]);
  const signature = peer.onlyChildSignature(target);

  const sig = new SignedXml({ publicCert: cert, getCertFromKeyInfo: () => null });
  if (!values["allow-sha1"]) {
    delete sig.SignatureAlgorithms["http://www.w3.org/2000/09/xmldsig#rsa-sha1"];
    delete sig.HashAlgorithms["http://www.w3.org/2000/09/xmldsig#sha1"];
  }
  sig.loadSignature(signature);
  if (sig.checkSignature(xml) !== true) {
    // Only for the message: the reference that failed carries its reason.
    const failed = (sig.references || []).find((r) => r.validationError);
    throw new peer.Failure(`xml-crypto: ${failed ? failed.validationError.message : "checkSignature returned false"}`);
  }

  const signed = sig.getSignedReferences();
  if (signed.length !== 1) throw new peer.Failure(`expected exactly one signed reference, got ${signed.length}`);
  const signedRoot = new DOMParser().parseFromString(signed[0], "text/xml").documentElement;
  const want = peer.elementId(target);
  const got = signedRoot ? peer.elementId(signedRoot) : null;
  if (
    !signedRoot ||
    signedRoot.localName !== target.localName ||
    signedRoot.namespaceURI !== target.namespaceURI ||
    (got && got.value) !== (want && want.value)
  ) {
    const what = signedRoot ? `<${signedRoot.localName} ID=${got && got.value}>` : "nothing";
    const chosen = `<${target.localName} ID=${want && want.value}>`;
    throw new peer.Failure(`the signature covers ${what}, not the chosen ${chosen}`);
  }
  peer.printOk(target);
});
