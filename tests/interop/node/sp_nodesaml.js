#!/usr/bin/env node
// A SAML 2.0 service provider built with @node-saml/node-saml (the SAML class), driven one step at a time.
//
// Usage:
//   node node/sp_nodesaml.js login --idp-metadata FILE --sp-entity-id ID --acs-url URL
//       [--relay-state S] [--nameid-format URI]
//   node node/sp_nodesaml.js acs --idp-metadata FILE --sp-entity-id ID --acs-url URL
//       [--request-id ID] [--want-signed assertion|response|both] RESPONSE_B64_FILE
//
// The SAML options come from the arguments: issuer = the SP entity ID, callbackUrl = the ACS URL,
// audience = the SP entity ID, entryPoint = the IdP's HTTP-Redirect SingleSignOnService from FILE,
// idpCert = every signing certificate in FILE (KeyDescriptor use="signing" or without use), and
// identifierFormat = URI when --nameid-format is given (node-saml's default otherwise: emailAddress).
// node-saml has no metadata reader; the metadata is read with @xmldom/xmldom and xpath.
//
// login: SAML.getAuthorizeUrlAsync(RelayState). Prints {"url": "<redirect URL>", "request_id": "<ID>"};
// the ID is read back from the (deflated, base64) SAMLRequest of the URL.
//
// acs: SAML.validatePostResponseAsync({SAMLResponse}) with wantAssertionsSigned /
// wantAuthnResponseSigned from --want-signed (default assertion). With --request-id the request ID
// is put in node-saml's request cache and validateInResponseTo is "always" (the Response must answer
// that request); without it "ifPresent", so an unsolicited (IdP-initiated) Response is accepted.
// node-saml checks the signatures against idpCert only, the time window and the Audience; it does
// not compare the assertion's Issuer for a Response, so this peer also requires the Issuer to be
// the metadata's entityID. Prints
// {"name_id": ..., "name_id_format": ..., "attributes": {Name: [values]}, "session_index": ...}
// (node-saml gives a single value as a string; it is printed as a one-element list).
//
// Exit: 0 accepted / printed, 1 rejected (node-saml's reason on stderr), 2 usage error.
"use strict";

const zlib = require("node:zlib");
const { parseArgs } = require("node:util");
const { SAML, ValidateInResponseTo } = require("@node-saml/node-saml");
const xpath = require("xpath");
const peer = require("./_peer");

const USAGE =
  "node sp_nodesaml.js login --idp-metadata FILE --sp-entity-id ID --acs-url URL [--relay-state S] [--nameid-format URI]\n" +
  "       node sp_nodesaml.js acs --idp-metadata FILE --sp-entity-id ID --acs-url URL [--request-id ID] " +
  "[--want-signed assertion|response|both] RESPONSE_B64_FILE";
const MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata";
const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

function usage(msg) {
  process.stderr.write(`usage: ${USAGE}\nusage error: ${peer.oneLine(msg)}\n`);
  process.exit(2);
}

function cli() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        "idp-metadata": { type: "string" },
        "sp-entity-id": { type: "string" },
        "acs-url": { type: "string" },
        "relay-state": { type: "string" },
        "nameid-format": { type: "string" },
        "request-id": { type: "string" },
        "want-signed": { type: "string" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    usage(e.message);
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (command !== "login" && command !== "acs") usage("the first argument must be login or acs");
  for (const name of ["idp-metadata", "sp-entity-id", "acs-url"]) {
    if (values[name] === undefined) usage(`--${name} is required`);
  }
  if (command === "login") {
    if (positionals.length !== 1) usage("login takes no FILE");
    for (const name of ["request-id", "want-signed"]) if (values[name] !== undefined) usage(`--${name} is for acs`);
  } else {
    if (positionals.length !== 2) usage("acs takes exactly one RESPONSE_B64_FILE");
    for (const name of ["relay-state", "nameid-format"]) if (values[name] !== undefined) usage(`--${name} is for login`);
    const want = values["want-signed"] ?? "assertion";
    if (!["assertion", "response", "both"].includes(want)) usage("--want-signed must be assertion, response or both");
    values["want-signed"] = want;
  }
  return { command, values, file: positionals[1] };
}

// The IdP's entity ID, HTTP-Redirect SSO URL and signing certificates (base64 DER bodies).
function readIdpMetadata(path) {
  let doc;
  try {
    doc = peer.parseXml(peer.readText(path));
  } catch (e) {
    throw new peer.UsageError(`${path}: ${e.message}`);
  }
  const select = xpath.useNamespaces({ md: MD_NS, ds: peer.DS_NS });
  const entity = select("/md:EntityDescriptor", doc)[0];
  const idp = select("/md:EntityDescriptor/md:IDPSSODescriptor", doc);
  if (!entity || idp.length !== 1) throw new peer.UsageError(`${path} is not the metadata of one IdP`);
  const sso = select(`md:SingleSignOnService[@Binding='${REDIRECT}']/@Location`, idp[0]);
  if (sso.length === 0) throw new peer.UsageError(`${path} has no HTTP-Redirect SingleSignOnService`);
  const certs = select(
    "md:KeyDescriptor[not(@use) or @use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate",
    idp[0],
  ).map((n) => n.textContent.replace(/\s+/g, ""));
  if (certs.length === 0) throw new peer.UsageError(`${path} has no signing certificate`);
  return { entityId: entity.getAttribute("entityID"), ssoUrl: sso[0].value, certs };
}

function saml(values, extra) {
  const idp = readIdpMetadata(values["idp-metadata"]);
  const options = {
    issuer: values["sp-entity-id"],
    audience: values["sp-entity-id"],
    callbackUrl: values["acs-url"],
    entryPoint: idp.ssoUrl,
    idpCert: idp.certs,
    ...extra,
  };
  if (values["nameid-format"] !== undefined) options.identifierFormat = values["nameid-format"];
  try {
    return { sp: new SAML(options), idp };
  } catch (e) {
    throw new peer.UsageError(`node-saml rejects the options: ${e.message}`);
  }
}

async function login(values) {
  const { sp } = saml(values, {});
  const url = await sp.getAuthorizeUrlAsync(values["relay-state"] ?? "", undefined, {});
  const request = zlib
    .inflateRawSync(Buffer.from(new URL(url).searchParams.get("SAMLRequest"), "base64"))
    .toString("utf8");
  const doc = peer.parseXml(request);
  const id = doc.documentElement.getAttribute("ID");
  if (!id) throw new peer.Failure("node-saml produced an AuthnRequest without an ID");
  process.stdout.write(JSON.stringify({ url, request_id: id }) + "\n");
}

async function acs(values, file) {
  const want = values["want-signed"];
  const requestId = values["request-id"];
  const { sp, idp } = saml(values, {
    wantAssertionsSigned: want === "assertion" || want === "both",
    wantAuthnResponseSigned: want === "response" || want === "both",
    validateInResponseTo: requestId ? ValidateInResponseTo.always : ValidateInResponseTo.ifPresent,
  });
  if (requestId) await sp.cacheProvider.saveAsync(requestId, new Date().toISOString());
  const SAMLResponse = peer.readText(file).trim();
  let result;
  try {
    result = await sp.validatePostResponseAsync({ SAMLResponse });
  } catch (e) {
    throw new peer.Failure(`node-saml: ${e && e.message ? e.message : e}`);
  }
  const profile = result.profile;
  if (!profile || result.loggedOut) throw new peer.Failure("node-saml: the Response signs no one in");
  if (profile.issuer !== idp.entityId) {
    throw new peer.Failure(`the assertion's Issuer ${JSON.stringify(profile.issuer)} is not the IdP ${idp.entityId}`);
  }
  const attributes = {};
  for (const [name, value] of Object.entries(profile.attributes || {})) {
    attributes[name] = (Array.isArray(value) ? value : [value]).map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
  }
  process.stdout.write(
    JSON.stringify({
      name_id: profile.nameID ?? null,
      name_id_format: profile.nameIDFormat ?? null,
      attributes,
      session_index: profile.sessionIndex ?? null,
      in_response_to: profile.inResponseTo ?? null,
      issuer: profile.issuer,
    }) + "\n",
  );
}

async function main() {
  const { command, values, file } = cli();
  try {
    if (command === "login") await login(values);
    else await acs(values, file);
  } catch (e) {
    if (e instanceof peer.UsageError) {
      process.stderr.write(`usage error: ${peer.oneLine(e.message)}\n`);
      process.exit(2);
    }
    process.stderr.write(`rejected: ${peer.oneLine(e && e.message ? e.message : e)}\n`);
    process.exit(1);
  }
}

main();
