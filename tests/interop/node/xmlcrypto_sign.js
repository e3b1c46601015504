#!/usr/bin/env node
// Sign one element of an XML document with xml-crypto (enveloped XML-DSig).
//
// Usage: node node/xmlcrypto_sign.js --key KEY.pem --cert CERT.pem --element-id ID [--sha1] FILE
//
// Signs the element whose ID (or Id) attribute is ID with xml-crypto's SignedXml: enveloped
// signature, exclusive c14n (SignedInfo and Reference), RSA-SHA256 + SHA-256 digest (--sha1:
// RSA-SHA1 + SHA-1), Reference URI="#ID", KeyInfo/X509Data with CERT. The ds:Signature goes right
// after the element's saml:Issuer child when it has one (SAML schema order), else it becomes the
// first child. Prints the whole signed document to stdout. Sign an Assertion before its Response.
// Exit: 0 signed, 1 signing failed (reason on stderr), 2 usage error.
"use strict";

const { SignedXml } = require("xml-crypto");
const peer = require("./_peer");

const USAGE = "node xmlcrypto_sign.js --key KEY.pem --cert CERT.pem --element-id ID [--sha1] FILE";

peer.run(() => {
  const { values, file } = peer.args(USAGE, {
    key: { type: "string", required: true },
    cert: { type: "string", required: true },
    "element-id": { type: "string", required: true },
    sha1: { type: "boolean" },
  });
  const key = peer.readText(values.key);
  const cert = peer.readText(values.cert);
  const xml = peer.readText(file);
  const doc = peer.parseXml(xml);
  const target = peer.findById(doc, values["element-id"]);
  const id = peer.elementId(target);
  if (/['"]/.test(id.value)) throw new peer.Failure("an ID with quotes cannot be put in an XPath");
  const targetXpath = `//*[@${id.name}='${id.value}']`;
  const issuer = peer.childElements(target).find((c) => c.localName === "Issuer" && c.namespaceURI === peer.SAML_NS);
  const location = issuer
    ? {
        reference: `${targetXpath}/*[local-name()='Issuer' and namespace-uri()='${peer.SAML_NS}']`,
        action: "after",
      }
    : { reference: targetXpath, action: "prepend" };

  const sha1 = Boolean(values.sha1);
  const sig = new SignedXml({
    privateKey: key,
    publicCert: cert, // published in KeyInfo/X509Data
    signatureAlgorithm: sha1
      ? "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
      : "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    canonicalizationAlgorithm: peer.EXC_C14N,
  });
  sig.addReference({
    xpath: targetXpath,
    transforms: [peer.ENVELOPED, peer.EXC_C14N],
    digestAlgorithm: sha1 ? "http://www.w3.org/2000/09/xmldsig#sha1" : "http://www.w3.org/2001/04/xmlenc#sha256",
  });
  sig.computeSignature(xml, { prefix: "ds", location });
  process.stdout.write(sig.getSignedXml() + "\n");
}, "signing failed");
