//! Differential proof of our exclusive C14N against libxml2's (through lxml):
//! thousands of generated documents — namespaces declared at many levels, default
//! namespaces and their undeclaration, prefixes used only in attributes, the
//! InclusiveNamespaces PrefixList, entities and CR/LF in text and attributes,
//! attributes in odd orders, comments and processing instructions — must
//! canonicalise to byte-identical output, whole and as element subsets.
//!
//! `C14N_CASES` sets the number of cases (default 3000), `C14N_SEED` the seed.

use saml::c14n::{canonicalize, C14nOptions};
use saml::xml::{parse, Limits};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// A small deterministic PRNG (xorshift64*), so a failing case can be replayed
/// from its seed without any dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn pick_str(rng: &mut Rng, items: &[&'static str]) -> &'static str {
    items[rng.below(items.len())]
}

const PREFIXES: &[&str] = &["a", "b", "c", "saml", "ds", "xs", "n1"];
const URIS: &[&str] = &[
    "urn:a",
    "urn:b",
    "http://example.com/ns",
    "urn:oasis:names:tc:SAML:2.0:assertion",
    "http://www.w3.org/2000/09/xmldsig#",
    "http://www.w3.org/2001/XMLSchema",
];
const NAMES: &[&str] = &["x", "y", "Assertion", "Issuer", "e", "Attr", "z1", "IDx", "Value"];
const TEXT_BITS: &[&str] = &[
    "plain",
    " ",
    "\n",
    "\r\n",
    "\t",
    "&amp;",
    "&lt;",
    "&gt;",
    ">",
    "&#13;",
    "&#xD;",
    "&#10;",
    "&#9;",
    "&quot;",
    "&apos;",
    "\"",
    "'",
    "é",
    "ü€",
    "😀",
    "&#x1F600;",
    "<![CDATA[ <cdata> & ]]>",
    "]]&gt;",
];
const ATTR_BITS: &[&str] =
    &["v", " ", "\t", "\n", "\r\n", "&amp;", "&lt;", ">", "&#9;", "&#10;", "&#13;", "&quot;", "'", "é", "😀"];

struct Gen {
    rng: Rng,
}

impl Gen {
    fn text(&mut self, bits: &[&str], max: usize) -> String {
        let n = self.rng.below(max + 1);
        (0..n).map(|_| *self.rng.pick(bits)).collect()
    }

    fn comment(&mut self) -> String {
        let body = *self.rng.pick(&[" c ", "", "x-y", " a < b & c ", "\n multi\nline "]);
        format!("<!--{body}-->")
    }

    fn pi(&mut self) -> String {
        let target = *self.rng.pick(&["pi", "app", "x-y"]);
        let data = *self.rng.pick(&["", " data", "  two  spaces ", " a=\"1\" ?"]);
        // A PI's data cannot contain "?>"; " ?" is fine.
        format!("<?{target}{data}?>")
    }

    /// One element with its subtree. `scope` holds the prefixes declared by
    /// ancestors (the default namespace is tracked by XML itself).
    fn element(&mut self, depth: usize, scope: &mut Vec<&'static str>, out: &mut String) {
        let mark = scope.len();
        let mut decls: Vec<(String, &str)> = Vec::new();
        for _ in 0..self.rng.below(4) {
            let uri = *self.rng.pick(URIS);
            if self.rng.chance(25) {
                if !decls.iter().any(|(p, _)| p.is_empty()) {
                    let uri = if self.rng.chance(30) { "" } else { uri };
                    decls.push((String::new(), uri));
                }
            } else {
                let p = *self.rng.pick(PREFIXES);
                if !decls.iter().any(|(q, _)| q == p) {
                    decls.push((p.to_string(), uri));
                    scope.push(p);
                }
            }
        }
        let prefix =
            if !scope.is_empty() && self.rng.chance(60) { Some(*self.rng.pick(scope)) } else { None };
        let local = *self.rng.pick(NAMES);
        let qname = match prefix {
            Some(p) => format!("{p}:{local}"),
            None => local.to_string(),
        };
        let mut attrs: Vec<String> = Vec::new();
        let mut seen_local_unprefixed: Vec<&str> = Vec::new();
        let mut seen_prefixed: Vec<&str> = Vec::new(); // one attribute per local name across prefixes
        for (p, uri) in &decls {
            if p.is_empty() {
                attrs.push(format!("xmlns=\"{uri}\""));
            } else {
                attrs.push(format!("xmlns:{p}=\"{uri}\""));
            }
        }
        for _ in 0..self.rng.below(5) {
            let local = *self.rng.pick(NAMES);
            let value = self.text(ATTR_BITS, 4).replace('"', "&quot;");
            if !scope.is_empty() && self.rng.chance(35) {
                // Two prefixes may map to one URI, so keep prefixed local names unique.
                let p = *self.rng.pick(scope);
                if seen_prefixed.contains(&local) {
                    continue;
                }
                seen_prefixed.push(local);
                attrs.push(format!("{p}:{local}=\"{value}\""));
            } else if self.rng.chance(10) {
                if !seen_local_unprefixed.contains(&"xml:lang") {
                    seen_local_unprefixed.push("xml:lang");
                    attrs.push(format!("xml:lang=\"{}\"", self.rng.pick(&["en", "fr-CA", ""])));
                }
            } else {
                if seen_local_unprefixed.contains(&local) {
                    continue;
                }
                seen_local_unprefixed.push(local);
                attrs.push(format!("{local}=\"{value}\""));
            }
        }
        // Odd orders: the generator's order is random; C14N must sort.
        for i in (1..attrs.len()).rev() {
            let j = self.rng.below(i + 1);
            attrs.swap(i, j);
        }
        out.push('<');
        out.push_str(&qname);
        for a in &attrs {
            out.push_str(pick_str(&mut self.rng, &[" ", "  ", "\n", "\t"]));
            out.push_str(a);
        }
        let children = if depth >= 5 { 0 } else { self.rng.below(5) };
        if children == 0 && self.rng.chance(50) {
            out.push_str("/>");
        } else {
            out.push('>');
            for _ in 0..children {
                match self.rng.below(10) {
                    0..=4 => self.element(depth + 1, scope, out),
                    5..=7 => out.push_str(&self.text(TEXT_BITS, 5)),
                    8 => out.push_str(&self.comment()),
                    _ => out.push_str(&self.pi()),
                }
            }
            out.push_str("</");
            out.push_str(&qname);
            out.push('>');
        }
        scope.truncate(mark);
    }

    fn document(&mut self) -> String {
        let mut out = String::new();
        if self.rng.chance(50) {
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        }
        for _ in 0..self.rng.below(3) {
            let m = if self.rng.chance(50) { self.comment() } else { self.pi() };
            out.push_str(&m);
            out.push_str(pick_str(&mut self.rng, &["", "\n", "\r\n  "]));
        }
        self.element(0, &mut Vec::new(), &mut out);
        for _ in 0..self.rng.below(3) {
            out.push_str(pick_str(&mut self.rng, &["", "\n"]));
            let m = if self.rng.chance(50) { self.comment() } else { self.pi() };
            out.push_str(&m);
        }
        out
    }
}

/// A random path of child-element indexes from the root element.
fn random_path(rng: &mut Rng, doc: &roxmltree::Document) -> Vec<usize> {
    let mut path = Vec::new();
    let mut node = doc.root_element();
    while rng.chance(70) {
        let kids: Vec<_> = node.children().filter(|c| c.is_element()).collect();
        if kids.is_empty() {
            break;
        }
        let i = rng.below(kids.len());
        path.push(i);
        node = kids[i];
    }
    path
}

fn follow<'a, 'i>(doc: &'a roxmltree::Document<'i>, path: &[usize]) -> roxmltree::Node<'a, 'i> {
    let mut node = doc.root_element();
    for &i in path {
        node = node.children().filter(|c| c.is_element()).nth(i).unwrap();
    }
    node
}

struct Case {
    xml: String,
    path: Option<Vec<usize>>,
    opts: C14nOptions,
}

#[test]
fn exclusive_c14n_matches_lxml_byte_for_byte() {
    let cases: usize = std::env::var("C14N_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let seed: u64 = std::env::var("C14N_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_c14e);
    let mut gen = Gen { rng: Rng(seed | 1) };
    let mut all = Vec::with_capacity(cases);
    for _ in 0..cases {
        let xml = gen.document();
        let doc =
            parse(&xml, &Limits::MESSAGE).unwrap_or_else(|e| panic!("generator made bad XML ({e}):\n{xml}"));
        let path = if gen.rng.chance(60) { Some(random_path(&mut gen.rng, &doc)) } else { None };
        let mut prefixes = Vec::new();
        if gen.rng.chance(40) {
            for p in PREFIXES.iter().chain(["#default"].iter()) {
                if gen.rng.chance(30) {
                    prefixes.push(p.to_string());
                }
            }
        }
        let opts =
            C14nOptions { with_comments: gen.rng.chance(40), inclusive_prefixes: prefixes, exclude: None };
        drop(doc);
        all.push(Case { xml, path, opts });
    }

    let mut input = Vec::new();
    for c in &all {
        let prefixes: Value =
            if c.opts.inclusive_prefixes.is_empty() { Value::Null } else { json!(c.opts.inclusive_prefixes) };
        let line = json!({"xml": c.xml, "path": c.path, "with_comments": c.opts.with_comments, "prefixes": prefixes});
        writeln!(input, "{line}").unwrap();
    }
    let mut child = Command::new(testkit::peers::venv_python())
        .arg(testkit::peers::peer_script("py/c14n_oracle.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start lxml oracle");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("lxml oracle");
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "lxml oracle failed");
    let answers: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), all.len(), "oracle answered a different number of cases");

    use base64::Engine as _;
    let mut failures = Vec::new();
    for (i, (case, answer)) in all.iter().zip(&answers).enumerate() {
        let expected = match answer.get("c14n_b64").and_then(Value::as_str) {
            Some(b) => base64::engine::general_purpose::STANDARD.decode(b).unwrap(),
            None => panic!("lxml refused case {i}: {answer}\n{}", case.xml),
        };
        let doc = parse(&case.xml, &Limits::MESSAGE).unwrap();
        let node = match &case.path {
            Some(p) => follow(&doc, p),
            None => doc.root(),
        };
        let ours = canonicalize(node, &case.opts);
        if ours != expected {
            failures.push(format!(
                "case {i} (path {:?}, comments {}, prefixes {:?}):\n--- input\n{}\n--- lxml\n{}\n--- ours\n{}",
                case.path,
                case.opts.with_comments,
                case.opts.inclusive_prefixes,
                case.xml,
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&ours)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from lxml; first:\n{}",
        failures.len(),
        all.len(),
        failures[0]
    );
    eprintln!("{} cases byte-identical to lxml (seed {seed:#x})", all.len());
}
