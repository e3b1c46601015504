#!/usr/bin/env node
// Measure @node-saml/node-saml's SP validation throughput in-process.
//
// Usage: node node/sp_check_rate.js --idp-metadata FILE --sp-entity-id ID --acs-url URL
//            --request-id ID --seconds S RESPONSE_B64_FILE
//
// One SAML instance (issuer/audience = the SP entity ID, callbackUrl = the ACS URL, idpCert = the
// metadata's signing certificates, wantAssertionsSigned, validateInResponseTo "always"). Each
// iteration puts the request ID in node-saml's request cache (a validation consumes it) and runs
// SAML.validatePostResponseAsync({SAMLResponse}) on the posted value: base64, parsing, signature
// (xml-crypto), Audience, InResponseTo and the time window against the real clock. The first result
// is checked (a rejected response exits 1 with node-saml's reason). Runs until S seconds have
// passed, always at least once; prints {"validations_per_second": N}.
// Exit: 0 measured, 1 node-saml rejected the response, 2 usage error.
"use strict";

const { SAML, ValidateInResponseTo } = require("@node-saml/node-saml");
const xpath = require("xpath");
const peer = require("./_peer");

const USAGE =
  "node sp_check_rate.js --idp-metadata FILE --sp-entity-id ID --acs-url URL --request-id ID --seconds S RESPONSE_B64_FILE";
const MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata";

async function main() {
  const { values, file } = peer.args(USAGE, {
    "idp-metadata": { type: "string", required: true },
    "sp-entity-id": { type: "string", required: true },
    "acs-url": { type: "string", required: true },
    "request-id": { type: "string", required: true },
    seconds: { type: "string", required: true },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new peer.UsageError("--seconds must be > 0");
  const doc = peer.parseXml(peer.readText(values["idp-metadata"]));
  const select = xpath.useNamespaces({ md: MD_NS, ds: peer.DS_NS });
  const certs = select(
    "/md:EntityDescriptor/md:IDPSSODescriptor/md:KeyDescriptor[not(@use) or @use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate",
    doc,
  ).map((n) => n.textContent.replace(/\s+/g, ""));
  if (certs.length === 0) throw new peer.UsageError("the metadata has no signing certificate");
  const sp = new SAML({
    issuer: values["sp-entity-id"],
    audience: values["sp-entity-id"],
    callbackUrl: values["acs-url"],
    entryPoint: "https://idp.invalid/sso",
    idpCert: certs,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
  });
  const SAMLResponse = peer.readText(file).trim();
  const once = async () => {
    await sp.cacheProvider.saveAsync(values["request-id"], new Date().toISOString());
    let result;
    try {
      result = await sp.validatePostResponseAsync({ SAMLResponse });
    } catch (e) {
      throw new peer.Failure(`node-saml: ${e && e.message ? e.message : e}`);
    }
    if (!result.profile || !result.profile.nameID) throw new peer.Failure("node-saml: no profile");
  };
  await once();
  const start = process.hrtime.bigint();
  let n = 0;
  let elapsed = 0;
  for (;;) {
    await once();
    n += 1;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (elapsed >= seconds) break;
  }
  process.stdout.write(JSON.stringify({ validations_per_second: Math.round((n / elapsed) * 10) / 10 }) + "\n");
}

main().catch((e) => {
  if (e instanceof peer.UsageError) {
    process.stderr.write(`usage error: ${peer.oneLine(e.message)}\n`);
    process.exit(2);
  }
  process.stderr.write(`rejected: ${peer.oneLine(e && e.message ? e.message : e)}\n`);
  process.exit(1);
});
