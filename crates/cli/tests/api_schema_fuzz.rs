//! Schema-driven fuzzing of the admin REST API with schemathesis (tests/interop/.venv, pinned in
//! tests/interop/requirements.txt): against a real `portcullis up`, with a Global Administrator
//! token, every operation of `/api/v1/openapi.json` gets generated valid and invalid requests
//! (examples, coverage, fuzzing and stateful phases; a fixed seed and a bounded number of
//! examples per operation), and each response is checked: no 5xx (`not_a_server_error`), the
//! status code, content type, headers and body are the documented ones, a request the document
//! calls invalid is refused (`negative_data_rejection`: "bad input gets a clear error"), a
//! missing or ignored token is refused, an undocumented method gets 405 with `Allow`, and what
//! was deleted stays gone. Not checked: `positive_data_acceptance`, because the directory's
//! rules (a UPN that is name@domain, unique names, a known gallery template) are more than a
//! JSON schema says. A failure prints schemathesis's report with a `curl` line to reproduce it.

mod support;

use std::process::Command;
use support::peers::venv_bin;
use support::{describe, Server, PORTCULLIS};

/// Proves: schemathesis finds no server error, no undocumented status code or content type and
/// no response that breaks its schema, over every documented operation; and that the fuzzing
/// (which may disable, delete or demote anything it can name) could not remove the last
/// enabled Global Administrator.
#[test]
fn schemathesis_finds_no_server_error_or_schema_violation_in_the_admin_api() {
    let server = Server::start(PORTCULLIS);
    let out = server.cli(&["idp", "token", "create", "--user", "admin@portcullis.local", "--name", "fuzz"]);
    let token = out.lines().last().unwrap_or_default().trim().to_string();
    assert!(token.starts_with("pat_"), "{out}");
    // Something to find: an app, a user and a group (the stateful phase also follows the
    // Location headers of what it creates itself).
    server.create_app(
        "generic-saml",
        "Fuzz target",
        &["IDENTIFIER=https://fuzz.sp.test/e", "REPLY_URL=https://fuzz.sp.test/acs"],
    );
    server.create_user("fuzz@contoso.test", "Fuzz", "Target", &[]);
    server.cli(&["idp", "group", "create", "--name", "Fuzzers"]);

    let work = tempfile::tempdir().unwrap();
    let doc: serde_json::Value = serde_json::from_str(idp::web::api::OPENAPI_JSON).unwrap();
    let operations: usize =
        doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    let run = Command::new(venv_bin("schemathesis"))
        .current_dir(work.path())
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .args(["run", &format!("{}/api/v1/openapi.json", server.base), "--url", &server.base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,\
             response_headers_conformance,negative_data_rejection,missing_required_header,unsupported_method,\
             allow_header_conformance,use_after_free,ensure_resource_availability,ignored_auth",
        ])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", "15", "--seed", "20261123", "--workers", "2"])
        .args(["--generation-database", "none", "--suppress-health-check", "all"])
        .args(["--request-timeout", "20", "--no-color", "--output-truncate", "false"])
        .output()
        .expect("run schemathesis");
    let report = describe(&run);
    assert!(
        run.status.success(),
        "schemathesis found problems:\n{report}\n--- server log:\n{}",
        server.log()
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    // "Selected: N/M" and "Tested: N": every operation schemathesis loaded was exercised. Loaded
    // from its own URL, the document's `GET /api/v1/openapi.json` is not counted, hence `- 1`.
    let number_after = |label: &str| -> usize {
        let rest = stdout.split(label).nth(1).unwrap_or_else(|| panic!("no {label:?} in:\n{report}"));
        rest.trim_start().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let (selected, total) =
        (number_after("Selected:"), number_after(&format!("Selected: {}/", number_after("Selected:"))));
    let tested = number_after("Tested:");
    assert!(
        selected == total && tested == total && total >= operations - 1,
        "of the {operations} documented operations, {total} were loaded, {selected} selected and {tested} tested:\n{report}"
    );
    assert!(!stdout.contains(" 0 generated"), "{report}");

    let roles: serde_json::Value =
        serde_json::from_str(&server.cli(&["idp", "role", "list", "--json"])).unwrap();
    let users: serde_json::Value =
        serde_json::from_str(&server.cli(&["idp", "user", "list", "--json"])).unwrap();
    let enabled_global =
        roles.as_array().unwrap().iter().filter(|r| r["role"] == "global_administrator").any(|r| {
            users.as_array().unwrap().iter().any(|u| u["id"] == r["user_id"] && u["enabled"] == true)
        });
    assert!(enabled_global, "no enabled Global Administrator is left after fuzzing:\n{roles}\n{users}");
}
