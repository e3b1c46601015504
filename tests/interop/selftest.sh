#!/usr/bin/env bash
# selftest.sh — prove that every interop peer works, against the others and against xmlsec1.
#
# Usage: tests/interop/selftest.sh        (after scripts/install-test-deps)
#
# Makes a throwaway RSA-2048 key + self-signed certificate (and a second, untrusted one) in a
# temp dir, signs a small SAML Response (Assertion first, then Response) with signxml_sign.py and
# xmlcrypto_sign.js, verifies both signatures with signxml_verify.py, python3saml_verify.py,
# xmlcrypto_verify.js and the xmlsec1 CLI, checks that tampered content, a wrong certificate, a
# SHA-1 signature without --allow-sha1 and a signature moved onto another element fail everywhere,
# runs c14n_oracle.py on known answers, verifies pysaml2_response.py output with xmlsec1 and runs
# xmlsec_sign_rate.py briefly. Prints one line per check and "N passed, N failed" at the end;
# exit 0 only when nothing failed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$HERE/.venv/bin/python"
[[ -x "$PY" && -d "$HERE/node_modules" ]] || { echo "run scripts/install-test-deps first" >&2; exit 2; }
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0 fail=0

check() { # check NAME EXPECTED_RC CMD...
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  if [[ $rc -eq $want ]]; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name (exit $rc, wanted $want): $(head -c 300 "$T/err")"
  fi
}

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj "/CN=selftest" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout key2.pem -out cert2.pem -days 30 -subj "/CN=other" 2>/dev/null
cat >resp.xml <<'EOF'
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2025-01-01T00:00:00Z" Destination="https://sp.example/acs">
  <saml:Issuer>https://idp.example</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="_a1" Version="2.0" IssueInstant="2025-01-01T00:00:00Z">
    <saml:Issuer>https://idp.example</saml:Issuer>
    <saml:Subject><saml:NameID>alice&#13;</saml:NameID></saml:Subject>
    <!-- comment -->
    <saml:AttributeStatement><saml:Attribute Name="mail"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>
EOF

XMLSEC=(xmlsec1 --verify --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response
        --id-attr:ID urn:oasis:names:tc:SAML:2.0:assertion:Assertion)
ASSERTION_SIG="//*[local-name()='Assertion']/*[local-name()='Signature']"
VERIFIERS=("$PY $HERE/py/signxml_verify.py" "$PY $HERE/py/python3saml_verify.py" "node $HERE/node/xmlcrypto_verify.js")

# sign: Assertion first, then the Response around it
"$PY" "$HERE/py/signxml_sign.py" --key key.pem --cert cert.pem --element-id _a1 resp.xml >sx1.xml
check "signxml_sign assertion+response" 0 "$PY" "$HERE/py/signxml_sign.py" --key key.pem --cert cert.pem --element-id _r1 sx1.xml
cp "$T/out" signxml.xml
node "$HERE/node/xmlcrypto_sign.js" --key key.pem --cert cert.pem --element-id _a1 resp.xml >xc1.xml
check "xmlcrypto_sign assertion+response" 0 node "$HERE/node/xmlcrypto_sign.js" --key key.pem --cert cert.pem --element-id _r1 xc1.xml
cp "$T/out" xmlcrypto.xml

for signed in signxml xmlcrypto; do
  sed 's/alice@example.com/mallory@example.com/' $signed.xml >$signed-tampered.xml
  for v in "${VERIFIERS[@]}"; do
    name="${v##*/}"
    # shellcheck disable=SC2086
    {
      check "$name response  <- $signed" 0 $v --cert cert.pem $signed.xml
      check "$name assertion <- $signed" 0 $v --cert cert.pem --element-id _a1 $signed.xml
      check "$name tampered response  <- $signed" 1 $v --cert cert.pem $signed-tampered.xml
      check "$name tampered assertion <- $signed" 1 $v --cert cert.pem --element-id _a1 $signed-tampered.xml
      check "$name wrong cert <- $signed" 1 $v --cert cert2.pem $signed.xml
    }
  done
  check "xmlsec1 response  <- $signed" 0 "${XMLSEC[@]}" --pubkey-cert-pem cert.pem $signed.xml
  check "xmlsec1 assertion <- $signed" 0 "${XMLSEC[@]}" --pubkey-cert-pem cert.pem --node-xpath "$ASSERTION_SIG" $signed.xml
  check "xmlsec1 tampered response  <- $signed" 1 "${XMLSEC[@]}" --pubkey-cert-pem cert.pem $signed-tampered.xml
  check "xmlsec1 tampered assertion <- $signed" 1 "${XMLSEC[@]}" --pubkey-cert-pem cert.pem --node-xpath "$ASSERTION_SIG" $signed-tampered.xml
  check "xmlsec1 wrong cert <- $signed" 1 "${XMLSEC[@]}" --pubkey-cert-pem cert2.pem $signed.xml
done

# SHA-1: refused unless --allow-sha1 (signxml, xml-crypto); python3-saml/libxmlsec1 accept it
"$PY" "$HERE/py/signxml_sign.py" --key key.pem --cert cert.pem --element-id _a1 --sha1 resp.xml >sha1.xml
check "signxml_verify refuses SHA-1" 1 "$PY" "$HERE/py/signxml_verify.py" --cert cert.pem --element-id _a1 sha1.xml
check "signxml_verify --allow-sha1" 0 "$PY" "$HERE/py/signxml_verify.py" --cert cert.pem --allow-sha1 --element-id _a1 sha1.xml
check "xmlcrypto_verify refuses SHA-1" 1 node "$HERE/node/xmlcrypto_verify.js" --cert cert.pem --element-id _a1 sha1.xml
check "xmlcrypto_verify --allow-sha1" 0 node "$HERE/node/xmlcrypto_verify.js" --cert cert.pem --allow-sha1 --element-id _a1 sha1.xml
check "python3saml_verify accepts SHA-1" 0 "$PY" "$HERE/py/python3saml_verify.py" --cert cert.pem --element-id _a1 sha1.xml

# A valid Assertion signature moved under the Response must not count as the Response's signature
"$PY" - sx1.xml >moved.xml <<'EOF'
import sys
from lxml import etree
root = etree.parse(sys.argv[1]).getroot()
a = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
sig = a.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
a.remove(sig)
root.insert(1, sig)
sys.stdout.write(etree.tostring(root).decode())
EOF
for v in "${VERIFIERS[@]}"; do
  # shellcheck disable=SC2086
  check "${v##*/} rejects a moved signature" 1 $v --cert cert.pem moved.xml
done

# usage errors
check "signxml_verify usage error" 2 "$PY" "$HERE/py/signxml_verify.py" signxml.xml
check "xmlcrypto_verify usage error" 2 node "$HERE/node/xmlcrypto_verify.js" signxml.xml
check "python3saml_verify missing cert file" 2 "$PY" "$HERE/py/python3saml_verify.py" --cert nope.pem signxml.xml

# c14n oracle known answers
"$PY" - >cases.jsonl <<'EOF'
import json
cases = [
    ('<a:r xmlns:a="urn:a" xmlns:u="urn:u" z="1" a="2"><a:c/></a:r>', None, False, None),
    ('<!--x--><?p d?><r><!--i-->t</r><!--y-->', None, True, None),
    ('<!--x--><r><!--i-->t</r>', None, False, None),
    ('<r a="x&#13;y&#9;&#10;">t&#13;u\r\nv</r>', None, False, None),
    ('<r xmlns="urn:d" xmlns:a="urn:a"><x>t<!--c--><y/></x></r>', [0, 0], False, None),
    ('<r xmlns:xs="urn:xs" xmlns:xsi="urn:xsi"><v xsi:type="xs:string"/></r>', [0], False, ["xs"]),
    ('<r xmlns="urn:d" xmlns:a="urn:a"><a:c/></r>', [0], False, ["#default"]),
    ('<r xmlns="urn:d" xmlns:a="urn:a"><a:c/></r>', [0], False, None),
    ('<r><a/></r>', [5], False, None),
]
for xml, path, wc, pre in cases:
    print(json.dumps({"xml": xml, "path": path, "with_comments": wc, "prefixes": pre}))
EOF
"$PY" "$HERE/py/c14n_oracle.py" <cases.jsonl >c14n.jsonl
check "c14n_oracle known answers" 0 "$PY" - c14n.jsonl <<'EOF'
import base64, json, sys
want = [
    '<a:r xmlns:a="urn:a" a="2" z="1"><a:c></a:c></a:r>',
    '<!--x-->\n<?p d?>\n<r><!--i-->t</r>\n<!--y-->',
    '<r>t</r>',
    '<r a="x&#xD;y&#x9;&#xA;">t&#xD;u\nv</r>',
    '<y xmlns="urn:d"></y>',
    '<v xmlns:xs="urn:xs" xmlns:xsi="urn:xsi" xsi:type="xs:string"></v>',
    '<a:c xmlns="urn:d" xmlns:a="urn:a"></a:c>',
    '<a:c xmlns:a="urn:a"></a:c>',
    None,
]
got = [json.loads(line) for line in open(sys.argv[1])]
assert len(got) == len(want), got
for i, (g, w) in enumerate(zip(got, want)):
    if w is None:
        assert "error" in g, (i, g)
    else:
        assert base64.b64decode(g["c14n_b64"]).decode() == w, (i, g, w)
EOF

# pysaml2 IdP output, verified by xmlsec1 and the other peers
check "pysaml2_response --sign both" 0 "$PY" "$HERE/py/pysaml2_response.py" --key key.pem --cert cert.pem \
  --sp-entity-id https://sp.example --acs-url https://sp.example/acs --idp-entity-id https://idp.example \
  --name-id alice-1 --in-response-to _req1 --sign both --attr mail=alice@example.com --attr groups=g1 --attr groups=g2
cp "$T/out" pysaml2.xml
check "xmlsec1 response  <- pysaml2" 0 "${XMLSEC[@]}" --pubkey-cert-pem cert.pem pysaml2.xml
check "xmlsec1 assertion <- pysaml2" 0 "${XMLSEC[@]}" --pubkey-cert-pem cert.pem --node-xpath "$ASSERTION_SIG" pysaml2.xml
check "signxml_verify response <- pysaml2" 0 "$PY" "$HERE/py/signxml_verify.py" --cert cert.pem pysaml2.xml
check "xmlcrypto_verify response <- pysaml2" 0 node "$HERE/node/xmlcrypto_verify.js" --cert cert.pem pysaml2.xml

# libxmlsec1 throughput, briefly
check "xmlsec_sign_rate sign" 0 "$PY" "$HERE/py/xmlsec_sign_rate.py" --key key.pem --cert cert.pem --element-id _a1 --seconds 0.2 resp.xml
check "xmlsec_sign_rate verify" 0 "$PY" "$HERE/py/xmlsec_sign_rate.py" --verify --cert cert.pem --element-id _a1 --seconds 0.2 signxml.xml
check "xmlsec_sign_rate verify tampered" 1 "$PY" "$HERE/py/xmlsec_sign_rate.py" --verify --cert cert.pem --element-id _a1 --seconds 0.2 signxml-tampered.xml

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
