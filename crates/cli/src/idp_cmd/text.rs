//! The IdP's guidance as text for people at a terminal: a gallery template in full
//! (`idp app templates --details`), and what an app still needs after `idp app create` and
//! `idp app import-sp-metadata` ([`idp::guide`]).

use idp::gallery::{SsoSupport, Template};
use idp::guide::Guide;
use std::fmt::Write as _;
use store::model::App;

/// `idp app templates --details NAME`.
pub fn template(t: &Template) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}), published by {}", t.display_name, t.name, t.publisher);
    let _ = writeln!(out, "{}", t.description);
    let _ = writeln!(out, "Source: {}", t.reference);
    let modes = match t.sso_modes {
        SsoSupport::SpInitiated => "SP-initiated only (My Apps sends the browser to the Sign-on URL)",
        SsoSupport::IdpInitiated => "IdP-initiated only (start from My Apps or \"Test this application\")",
        SsoSupport::Both => "SP- and IdP-initiated",
    };
    let _ = writeln!(out, "Sign-on: {modes}");
    if t.pre_integrated {
        let _ = writeln!(
            out,
            "Pre-integrated: the vendor's document leaves Basic SAML values out (see the notes)."
        );
    }
    let _ = writeln!(out, "\nBasic SAML Configuration it fills in:");
    let s = &t.saml;
    for (label, values) in [
        ("Identifier", s.identifiers.clone()),
        ("Reply URL", s.reply_urls.clone()),
        ("Sign-on URL", s.sign_on_url.iter().cloned().collect()),
        ("Relay State", s.relay_state.iter().cloned().collect()),
        ("Logout URL", s.logout_url.iter().cloned().collect()),
    ] {
        for v in values {
            let _ = writeln!(out, "  {label:<12} {v}");
        }
    }
    if s.fixed_identifier {
        let _ = writeln!(out, "  (a fixed identifier: a tenant can have this app once)");
    }
    if t.parameters.is_empty() {
        let _ = writeln!(out, "\nParameters: none (`idp app create --template {}` needs no --param)", t.name);
    } else {
        let _ = writeln!(out, "\nParameters (--param NAME=VALUE):");
        for p in &t.parameters {
            let need = if p.required { "required" } else { "optional" };
            let example = p.example.as_ref().map(|e| format!(" Example: {e}.")).unwrap_or_default();
            let _ = writeln!(out, "  {} ({need}): {}{example}", p.name, p.description);
        }
    }
    notes(&mut out, &t.notes);
    out
}

fn notes(out: &mut String, notes: &[String]) {
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNotes for the administrator:");
        for n in notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
}

/// The values `app` still needs, with where each comes from and the command that sets it.
pub fn still_needed(app: &App, guide: &Guide) -> String {
    let mut out = String::new();
    if guide.still_needed.is_empty() {
        return out;
    }
    let _ = writeln!(out, "Still to set before sign-in works:");
    for n in &guide.still_needed {
        let _ = writeln!(out, "  {}: from {}", n.field, n.source);
        let _ = writeln!(out, "      portcullis idp app set-saml --app {} {} VALUE", app.id, n.option);
    }
    let _ = writeln!(
        out,
        "  (or import the application's SAML metadata: portcullis idp app import-sp-metadata --app {} FILE)",
        app.id
    );
    out
}

/// After `idp app create`: what is still to set, the template's notes, and how to test.
pub fn guide(app: &App, guide: &Guide) -> String {
    let mut out = still_needed(app, guide);
    notes(&mut out, &guide.notes);
    let _ = writeln!(out, "\nTest this application (signed in as an administrator): {}", guide.test_url);
    out
}

/// How an SP metadata import changed the Sign-on URL the template had derived.
pub fn sign_on_url_change(app: &App, before: Option<&str>, after: Option<&str>) -> String {
    match (before, after) {
        (Some(b), Some(a)) => format!("Sign-on URL of {}: {b} -> {a} (follows the imported metadata)", app.name),
        (Some(b), None) => format!(
            "Sign-on URL of {}: {b} came from the template's placeholder and the imported metadata does not \
             confirm it, so it is now unset; set it with `portcullis idp app set-saml --app {} --sign-on-url URL`",
            app.name, app.id
        ),
        (None, Some(a)) => format!("Sign-on URL of {}: now {a}", app.name),
        (None, None) => String::new(),
    }
}
