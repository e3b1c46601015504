//! What an administrator still has to do for an app, as the CLI, the API and the pages show it:
//! the Basic SAML values that are unset and where each comes from (the template's parameter
//! descriptions say whom to ask), the template's notes, and the "Test this application" URL.

use crate::endpoints::TenantEndpoints;
use crate::gallery::{self, Template};
use crate::model::AppConfig;
use serde::Serialize;
use store::model::App;

/// A Basic SAML value the app needs and does not have yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Needed {
    /// `Identifier`, `Reply URL` or `Sign-on URL`.
    pub field: &'static str,
    /// The `idp app set-saml` option and the `PUT /apps/{id}/saml` key that set it.
    pub option: &'static str,
    pub api_key: &'static str,
    /// Where the value comes from.
    pub source: String,
}

/// The guidance for one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guide {
    /// "Test this application": `{base}/{tenant}/myapps/test/{app}`.
    pub test_url: String,
    pub still_needed: Vec<Needed>,
    /// The template's notes for the administrator (where to get values, whom to contact).
    pub notes: Vec<String>,
}

/// Where a value comes from when the template does not say.
const FROM_THE_APP: &str =
    "the application's SAML documentation or its SAML metadata (`idp app import-sp-metadata`)";

/// The guidance for `app` with configuration `config`.
pub fn for_app(endpoints: &TenantEndpoints, app: &App, config: &AppConfig) -> Guide {
    let template = gallery::get(&app.template);
    let source = |field: &str| {
        template
            .as_ref()
            .and_then(|t| parameter_description(t, field))
            .unwrap_or_else(|| FROM_THE_APP.to_string())
    };
    let mut still_needed = Vec::new();
    if config.identifiers.is_empty() {
        still_needed.push(Needed {
            field: "Identifier",
            option: "--identifier",
            api_key: "identifier",
            source: source("Identifier"),
        });
    }
    if config.reply_urls.is_empty() {
        still_needed.push(Needed {
            field: "Reply URL",
            option: "--reply-url",
            api_key: "reply_urls",
            source: source("Reply URL"),
        });
    }
    // Without IdP-initiated sign-on, My Apps and "Test this application" can only send the
    // browser to the Sign-on URL.
    if config.sign_on_url.is_none() && !config.sso_modes.idp_initiated {
        still_needed.push(Needed {
            field: "Sign-on URL",
            option: "--sign-on-url",
            api_key: "sign_on_url",
            source: source("Sign-on URL"),
        });
    }
    Guide {
        test_url: endpoints.test_url(app.id),
        still_needed,
        notes: template.map(|t| t.notes).unwrap_or_default(),
    }
}

/// The description of the parameter a field's pattern is made of, when it has one.
fn parameter_description(t: &Template, field: &str) -> Option<String> {
    let s = &t.saml;
    let patterns: Vec<&String> = match field {
        "Identifier" => s.identifiers.iter().collect(),
        "Reply URL" => s.reply_urls.iter().collect(),
        "Sign-on URL" => s.sign_on_url.iter().collect(),
        _ => Vec::new(),
    };
    let names: Vec<String> = patterns.iter().flat_map(|p| gallery::placeholders(p)).collect();
    let descriptions: Vec<String> =
        t.parameters.iter().filter(|p| names.contains(&p.name)).map(|p| p.description.clone()).collect();
    (!descriptions.is_empty()).then(|| descriptions.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use uuid::Uuid;

    fn app(template: &str, config: &AppConfig) -> App {
        App {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            name: "x".into(),
            template: template.into(),
            config_json: serde_json::to_string(config).unwrap(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn says_which_value_is_missing_and_where_it_comes_from() {
        let t = gallery::find("it-conductor").unwrap();
        let config = t.instantiate(&BTreeMap::new()).unwrap();
        let e = TenantEndpoints::new("https://login.example.com/", Uuid::nil());
        let g = for_app(&e, &app("it-conductor", &config), &config);
        assert_eq!(
            g.test_url,
            format!("https://login.example.com/{}/myapps/test/{}", Uuid::nil(), Uuid::nil())
        );
        let fields: Vec<&str> = g.still_needed.iter().map(|n| n.field).collect();
        assert_eq!(fields, ["Identifier", "Reply URL"], "IdP-initiated: no Sign-on URL needed");
        assert!(g.still_needed.iter().all(|n| n.source.contains("support@itconductor.com")), "{g:?}");
        assert_eq!(g.notes, t.notes);

        let t = gallery::find("generic-saml").unwrap();
        let mut config = t.instantiate(&BTreeMap::new()).unwrap();
        config.sso_modes.idp_initiated = false;
        let g = for_app(&e, &app("generic-saml", &config), &config);
        assert_eq!(g.still_needed.len(), 3);
        assert!(g.still_needed[2].field == "Sign-on URL" && g.still_needed[2].option == "--sign-on-url");
        assert!(g.still_needed[2].source.contains("Sign-on URL"), "the parameter's description: {g:?}");

        let g = for_app(&e, &app("no-longer-in-the-gallery", &config), &config);
        assert!(g.notes.is_empty() && g.still_needed[0].source == FROM_THE_APP);
    }
}
