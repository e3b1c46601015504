//! `portcullis idp … delete / remove-member / unassign` against a real data directory (with a
//! running `portcullis up`, which made the first Global Administrator): each command changes the
//! directory as the JSON lists show, doing it again fails with "was not found", unknown IDs
//! fail, the last enabled Global Administrator is kept, and the arguments are checked by clap.

mod support;

use serde_json::Value;
use support::{describe, Server, PORTCULLIS};

fn json(server: &Server, args: &[&str]) -> Value {
    serde_json::from_str(&server.cli(args)).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

/// Runs a command that must fail; returns its standard error.
fn fails(server: &Server, args: &[&str]) -> String {
    let out = server.cli_output(args, None);
    assert!(!out.status.success(), "portcullis {} succeeded\n{}", args.join(" "), describe(&out));
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x[key].as_str().unwrap().to_string()).collect()
}

/// Proves: remove-member (a user, and a nested group with --member-group), unassign (--user and
/// --group), group delete, app delete and user delete each succeed once and fail as "not found"
/// the second time, and the deleted objects leave the `--json` lists.
#[test]
fn cli_removes_and_deletes_directory_objects_and_apps() {
    let server = Server::start(PORTCULLIS);
    let alice = server.create_user("alice@contoso.test", "Alice", "Smith", &[]);
    server.create_user("bob@contoso.test", "Bob", "Jones", &[]);
    let staff = server.cli(&["idp", "group", "create", "--name", "Staff"]);
    let inner = server.cli(&["idp", "group", "create", "--name", "Inner"]);
    server.cli(&["idp", "group", "add-member", "--group", &staff, "--user", "alice@contoso.test"]);
    server.cli(&["idp", "group", "add-member", "--group", "Staff", "--member-group", &inner]);
    let app = server.create_app(
        "generic-saml",
        "CRM",
        &["IDENTIFIER=https://crm.sp.test/saml", "REPLY_URL=https://crm.sp.test/acs"],
    );
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", "bob@contoso.test"]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--group", "Staff"]);

    for args in [
        vec!["idp", "group", "remove-member", "--group", "Staff", "--user", &alice],
        vec!["idp", "group", "remove-member", "--group", &staff, "--member-group", "Inner"],
        vec!["idp", "app", "unassign", "--app", &app, "--user", "bob@contoso.test"],
        vec!["idp", "app", "unassign", "--app", "CRM", "--group", &staff],
    ] {
        server.cli(&args);
        let err = fails(&server, &args);
        assert!(err.contains("was not found"), "{args:?} again: {err}");
    }

    let out = server.cli(&["idp", "group", "delete", "--group", "Inner"]);
    assert!(out.contains(&inner), "{out}");
    assert_eq!(names(&json(&server, &["idp", "group", "list", "--json"]), "name"), ["Staff"]);
    assert!(fails(&server, &["idp", "group", "delete", "--group", &inner]).contains("was not found"));

    server.cli(&["idp", "app", "delete", "--app", &app]);
    assert_eq!(json(&server, &["idp", "app", "list", "--json"]), serde_json::json!([]));
    assert!(fails(&server, &["idp", "app", "delete", "--app", &app]).contains("was not found"));

    let out = server.cli(&["idp", "user", "delete", "--user", "alice@contoso.test"]);
    assert!(out.contains(&alice), "{out}");
    let upns = names(&json(&server, &["idp", "user", "list", "--json"]), "upn");
    assert_eq!(upns, ["admin@portcullis.local", "bob@contoso.test"]);
    assert!(fails(&server, &["idp", "user", "delete", "--user", &alice]).contains("was not found"));
}

/// Proves: the last enabled Global Administrator can be neither deleted nor disabled from the
/// CLI (and stays), while with a second one the first can go.
#[test]
fn cli_keeps_the_last_global_administrator() {
    let server = Server::start(PORTCULLIS);
    let err = fails(&server, &["idp", "user", "delete", "--user", "admin@portcullis.local"]);
    assert!(err.contains("last enabled Global Administrator"), "{err}");
    let err =
        fails(&server, &["idp", "user", "set", "--user", "admin@portcullis.local", "--enabled", "false"]);
    assert!(err.contains("last enabled Global Administrator"), "{err}");
    let users = json(&server, &["idp", "user", "list", "--json"]);
    assert_eq!(
        (users[0]["upn"].as_str(), users[0]["enabled"].as_bool()),
        (Some("admin@portcullis.local"), Some(true))
    );

    server.create_user("second@contoso.test", "Second", "Admin", &[]);
    server.cli(&["idp", "role", "grant", "--user", "second@contoso.test", "--role", "global-administrator"]);
    server.cli(&["idp", "user", "delete", "--user", "admin@portcullis.local"]);
    let roles = json(&server, &["idp", "role", "list", "--json"]);
    assert_eq!(names(&roles, "upn"), ["second@contoso.test"]);
    let err = fails(&server, &["idp", "user", "delete", "--user", "second@contoso.test"]);
    assert!(err.contains("last enabled Global Administrator"), "{err}");
}

/// Proves: the new subcommands document their flags in `--help`, and clap refuses a
/// remove-member or unassign without a target, or with two.
#[test]
fn cli_delete_commands_have_help_and_checked_arguments() {
    let server = Server::start(PORTCULLIS);
    for (args, flags) in [
        (vec!["idp", "user", "delete", "--help"], vec!["--user"]),
        (vec!["idp", "group", "delete", "--help"], vec!["--group"]),
        (vec!["idp", "group", "remove-member", "--help"], vec!["--group", "--user", "--member-group"]),
        (vec!["idp", "app", "delete", "--help"], vec!["--app"]),
        (vec!["idp", "app", "unassign", "--help"], vec!["--app", "--user", "--group"]),
    ] {
        let help = server.cli(&args);
        for f in flags {
            assert!(help.contains(f), "{args:?} lacks {f}:\n{help}");
        }
    }
    let g = server.cli(&["idp", "group", "create", "--name", "G"]);
    let err = fails(&server, &["idp", "group", "remove-member", "--group", &g]);
    assert!(err.contains("--user"), "{err}");
    let err = fails(&server, &["idp", "app", "unassign", "--app", "x", "--user", "a@b.c", "--group", &g]);
    assert!(err.contains("cannot be used with"), "{err}");
}
