//! A target that accepts the connection and then says nothing: each rotator gives up after its
//! timeout with PCR015 ("nothing was changed"), instead of hanging the vault's rotation worker.

use std::time::Duration;

use rotate::{PostgresRotator, Rotator, SshRotator};
use testkit::rotation::request;

/// A TCP listener that accepts connections and never answers; returns its port.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // kept open, never written to
        }
    });
    port
}

#[tokio::test]
async fn a_silent_postgresql_server_times_out_with_nothing_changed() {
    let port = silent_server();
    let rotator = PostgresRotator { timeout: Duration::from_millis(500), ..PostgresRotator::default() };
    let req = request("postgresql", port, "acct", "Cur-pw-1", "New-pw-2", Some(("adm", "Fun-pw-3")));

    let err = rotator.rotate(&req).await.expect_err("silent server");

    assert_eq!(err.code(), "PCR015", "{err}");
    assert!(!err.may_have_changed());
}

#[tokio::test]
async fn a_silent_ssh_server_times_out_with_nothing_changed() {
    let port = silent_server();
    let rotator = SshRotator { timeout: Duration::from_millis(500), ..SshRotator::default() };
    let req = request("linux-ssh", port, "acct", "Cur-pw-1", "New-pw-2", Some(("adm", "Fun-pw-3")));

    let err = rotator.rotate(&req).await.expect_err("silent server");

    assert_eq!(err.code(), "PCR015", "{err}");
    assert!(!err.may_have_changed());
}
