// samlify's IdentityProvider over HTTP, as a third-party identity provider for our SP (issue 4).
//
// Usage: node tests/interop/node/idp_samlify.js --dir DIR --key KEY.pem --cert CERT.pem
//            --sp-metadata FILE_OR_URL [--port P] [--entity-id ID] [--sign assertion|response|both]
//            [--want-requests-signed] [--encrypt] --name-id ID [--attr NAME=VALUE]...
//
// What a samlify IdP does for a user who already has a session at it:
// - At start it writes its own metadata (idp.getMetadata()) to DIR/idp-metadata.xml and serves it
//   at GET /metadata; the SP imports it from either. KEY/CERT are its RSA signing key and
//   certificate (Node cannot make an X.509 certificate by itself; the test makes them).
// - The SP's metadata is read at the first SAML request (the SP starts after the IdP, because it
//   needs the IdP's metadata first), from a file or an http:// URL, into samlify's
//   ServiceProvider.
// - GET /sso?SAMLRequest=...&RelayState=...[&SigAlg&Signature] (HTTP-Redirect binding):
//   idp.parseLoginRequest(sp, 'redirect', ...) — with --want-requests-signed the IdP metadata says
//   WantAuthnRequestsSigned="true" and samlify verifies the request's signature against the SP
//   metadata's signing certificate — then idp.createLoginResponse(sp, request, 'post', user,
//   customTagReplacement) with a custom template: persistent NameID, InResponseTo, an
//   AuthnStatement and the --attr attributes (repeated NAME for several values), signed with
//   RSA-SHA256 (samlify's default) where --sign says; answered with an auto-posting form.
//   With --encrypt the (signed) Assertion is encrypted to the SP metadata's encryption
//   certificate (AES-256-GCM content, RSA-OAEP-MGF1P key transport) before the Response is
//   signed (samlify's encryptThenSign).
// - GET /idp-initiated?sp=ENTITY_ID[&RelayState=...]: the same Response without InResponseTo
//   (unsolicited), posted to the SP's HTTP-POST ACS from its metadata.
// Prints "ready PORT" on stdout once it listens (--port 0, the default, lets the system pick).
// A request it cannot answer gets a 400 page with samlify's reason (and a line on stderr).
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const crypto = require("node:crypto");
const { parseArgs } = require("node:util");
const samlify = require("samlify");

// No XSD validator package is installed in tests/interop (samlify ships none), so samlify's schema
// check is skipped. It only ever sees our SP's AuthnRequest here (the IdP side parses requests, it
// never accepts a Response), and samlify still parses the XML and checks the request's signature
// when --want-requests-signed is given.
samlify.setSchemaValidator({ validate: () => Promise.resolve("skipped") });

const PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
const PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

const esc = (s) =>
  String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const oneLine = (s) => String(s).split(/\s+/).filter(Boolean).join(" ");

function usage(msg) {
  process.stderr.write(`usage error: ${oneLine(msg)}\n`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        dir: { type: "string" },
        key: { type: "string" },
        cert: { type: "string" },
        "sp-metadata": { type: "string" },
        port: { type: "string", default: "0" },
        "entity-id": { type: "string" },
        sign: { type: "string", default: "assertion" },
        "want-requests-signed": { type: "boolean", default: false },
        encrypt: { type: "boolean", default: false },
        "name-id": { type: "string" },
        attr: { type: "string", multiple: true, default: [] },
      },
      strict: true,
    }).values;
  } catch (e) {
    usage(e.message);
  }
  for (const name of ["dir", "key", "cert", "sp-metadata", "name-id"]) {
    if (parsed[name] === undefined) usage(`--${name} is required`);
  }
  if (!["assertion", "response", "both"].includes(parsed.sign)) usage("--sign is assertion, response or both");
  const attributes = new Map();
  for (const pair of parsed.attr) {
    const at = pair.indexOf("=");
    if (at < 1) usage(`--attr wants NAME=VALUE, got ${JSON.stringify(pair)}`);
    const name = pair.slice(0, at);
    if (!attributes.has(name)) attributes.set(name, []);
    attributes.get(name).push(pair.slice(at + 1));
  }
  return { ...parsed, attributes };
}

const o = options();
const read = (file) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    return usage(`cannot read ${file}: ${e.code || e.message}`);
  }
};
const privateKey = read(o.key);
const signingCert = read(o.cert);

// The Response template: samlify's default layout plus an AuthnStatement and the attributes.
// {AttributeStatement} is filled by samlify (see ATTRIBUTES; give at least one --attr, an empty
// AttributeStatement is not valid SAML); {InResponseToAttr} is empty for an unsolicited Response
// (an empty InResponseTo is not an NCName).
const TEMPLATE =
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}"{InResponseToAttr}>' +
  "<saml:Issuer>{Issuer}</saml:Issuer>" +
  '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
  '<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">' +
  "<saml:Issuer>{Issuer}</saml:Issuer>" +
  '<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID>' +
  '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
  '<saml:SubjectConfirmationData NotOnOrAfter="{NotOnOrAfter}" Recipient="{Recipient}"{InResponseToAttr}/>' +
  "</saml:SubjectConfirmation></saml:Subject>" +
  '<saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>' +
  '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{SessionIndex}"><saml:AuthnContext><saml:AuthnContextClassRef>{AuthnContext}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
  "{AttributeStatement}" +
  "</saml:Assertion></samlp:Response>";

// samlify builds the AttributeStatement from loginResponseTemplate.attributes when the IdP is
// constructed: one Attribute per --attr name whose value slot is a tag ({attrV0}, {attrV1}, ...);
// the attribute template has no AttributeValue of its own so that customTagReplacement can put
// one AttributeValue per value there (samlify's default template has room for one value only).
const ATTRIBUTE_TEMPLATE = '<saml:Attribute Name="{Name}" NameFormat="{NameFormat}">{Value}</saml:Attribute>';
const ATTRIBUTES = [...o.attributes.keys()].map((name, i) => ({
  name: esc(name),
  nameFormat: UNSPECIFIED,
  valueTag: `v${i}`,
  valueXsiType: "xs:string",
}));

// The tag values of the attributes: {attrV0: "<saml:AttributeValue ...>...</...>...", ...}.
function attributeValues() {
  const out = {};
  [...o.attributes.values()].forEach((values, i) => {
    out[`attrV${i}`] = values
      .map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`)
      .join("");
  });
  return out;
}

async function main() {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(o.port), "127.0.0.1", resolve);
  });
  const port = server.address().port;
  const base = `http://127.0.0.1:${port}`;
  const entityID = o["entity-id"] || `${base}/metadata`;
  const idp = samlify.IdentityProvider({
    entityID,
    privateKey,
    signingCert,
    requestSignatureAlgorithm: RSA_SHA256,
    wantAuthnRequestsSigned: o["want-requests-signed"],
    isAssertionEncrypted: o.encrypt,
    dataEncryptionAlgorithm: "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    keyEncryptionAlgorithm: "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
    nameIDFormat: [PERSISTENT],
    singleSignOnService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: `${base}/sso` }],
    loginResponseTemplate: {
      context: TEMPLATE,
      attributes: ATTRIBUTES,
      additionalTemplates: { attributeTemplate: { context: ATTRIBUTE_TEMPLATE } },
    },
  });
  const metadata = idp.getMetadata();
  fs.writeFileSync(path.join(o.dir, "idp-metadata.xml"), metadata);

  let sp = null;
  async function serviceProvider() {
    if (sp) return sp;
    const source = o["sp-metadata"];
    let xml;
    if (/^https?:\/\//.test(source)) {
      const r = await fetch(source);
      if (!r.ok) throw new Error(`GET ${source}: ${r.status}`);
      xml = await r.text();
      fs.writeFileSync(path.join(o.dir, "sp-metadata.xml"), xml);
    } else {
      xml = read(source);
    }
    // wantMessageSigned: whether samlify signs the Response (it signs the Assertion when the SP's
    // metadata says WantAssertionsSigned="true", or when the Response is not signed).
    sp = samlify.ServiceProvider({ metadata: xml, wantMessageSigned: o.sign !== "assertion" });
    if (o.sign === "response" && sp.entityMeta.isWantAssertionsSigned()) {
      throw new Error("--sign response: the SP's metadata asks for signed assertions");
    }
    if (o.sign !== "response" && !sp.entityMeta.isWantAssertionsSigned()) {
      // samlify signs the Assertion only when the SP's metadata asks for it.
      throw new Error(`--sign ${o.sign}: the SP's metadata does not set WantAssertionsSigned="true"`);
    }
    return sp;
  }

  // idp.createLoginResponse with the custom template filled in by customTagReplacement.
  async function loginResponse(sp, requestId, relayState) {
    const now = new Date();
    const later = new Date(now.getTime() + 5 * 60 * 1000);
    const acs = sp.entityMeta.getAssertionConsumerService(samlify.Constants.wording.binding.post);
    const acsUrl = Array.isArray(acs) ? acs[0] : acs;
    const id = `_${crypto.randomBytes(20).toString("hex")}`;
    const values = {
      ID: id,
      AssertionID: `_${crypto.randomBytes(20).toString("hex")}`,
      SessionIndex: `_${crypto.randomBytes(20).toString("hex")}`,
      IssueInstant: now.toISOString(),
      NotBefore: now.toISOString(),
      NotOnOrAfter: later.toISOString(),
      Destination: acsUrl,
      Recipient: acsUrl,
      Audience: sp.entityMeta.getEntityID(),
      Issuer: entityID,
      NameIDFormat: PERSISTENT,
      NameID: o["name-id"],
      InResponseToAttr: requestId ? ` InResponseTo="${esc(requestId)}"` : "",
      AuthnContext: PASSWORD_PROTECTED,
    };
    const replace = (template) => {
      let xml = template;
      for (const [k, v] of Object.entries(values)) {
        xml = xml.split(`{${k}}`).join(k === "InResponseToAttr" ? v : esc(v));
      }
      for (const [tag, xmlValues] of Object.entries(attributeValues())) {
        xml = xml.split(`{${tag}}`).join(xmlValues);
      }
      return { id, context: xml };
    };
    // encryptThenSign: otherwise samlify signs the Response before it encrypts the Assertion
    // inside it, which breaks the Response's signature.
    const r = await idp.createLoginResponse(sp, {}, "post", {}, replace, o.encrypt, relayState);
    let form =
      `<!DOCTYPE html><html><body onload="document.forms[0].submit()">` +
      `<form method="post" action="${esc(r.entityEndpoint)}">` +
      `<input type="hidden" name="SAMLResponse" value="${esc(r.context)}"/>`;
    if (relayState) form += `<input type="hidden" name="RelayState" value="${esc(relayState)}"/>`;
    return form + `<input type="submit" value="Continue"/></form></body></html>`;
  }

  server.on("request", async (req, res) => {
    const url = new URL(req.url, base);
    const q = Object.fromEntries(url.searchParams);
    let status = 200;
    let type = "text/html";
    let body;
    try {
      if (url.pathname === "/metadata") {
        body = metadata;
        type = "application/samlmetadata+xml";
      } else if (url.pathname === "/sso") {
        const s = await serviceProvider();
        // The signed octets of the Redirect binding are the query string as sent.
        const raw = req.url.slice(req.url.indexOf("?") + 1);
        const octetString = raw
          .split("&")
          .filter((p) => /^(SAMLRequest|RelayState|SigAlg)=/.test(p))
          .join("&");
        const parsed = await idp.parseLoginRequest(s, "redirect", { query: q, octetString });
        const requestId = parsed.extract.request.id;
        if (!requestId) throw new Error("the AuthnRequest has no ID");
        body = await loginResponse(s, requestId, q.RelayState || "");
      } else if (url.pathname === "/idp-initiated") {
        const s = await serviceProvider();
        if (q.sp !== s.entityMeta.getEntityID()) throw new Error(`unknown SP ${JSON.stringify(q.sp)}`);
        body = await loginResponse(s, null, q.RelayState || "");
      } else {
        status = 404;
        body = "not found";
      }
    } catch (e) {
      const msg = oneLine(e && e.message ? e.message : e);
      process.stderr.write(`idp_samlify: ${msg}\n`);
      status = 400;
      type = "text/plain";
      body = `error: ${msg}`;
    }
    res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
  process.stdout.write(`ready ${port}\n`);
}

main().catch((e) => {
  process.stderr.write(`idp_samlify: ${oneLine(e && e.stack ? e.stack : e)}\n`);
  process.exit(1);
});
