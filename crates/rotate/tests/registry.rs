//! The registry: the built-in platforms, unknown platforms (and `generic`, which has no rotator)
//! refused with PCR003, and registration replacing a built-in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rotate::{Registry, RotateFuture, RotationRequest, Rotator};
use testkit::free_port;
use testkit::rotation::request;

#[test]
fn builtin_serves_postgresql_and_linux_ssh_only() {
    let r = Registry::builtin();
    assert_eq!(r.platforms(), vec!["postgresql", "linux-ssh"]);
    for p in ["postgresql", "linux-ssh"] {
        assert_eq!(r.get(p).map(|x| x.platform()), Some(p));
    }
    assert!(r.get("windows").is_none());
    assert!(r.get("generic").is_none(), "no rotator pretends to change a system it cannot reach");
}

#[tokio::test]
async fn an_unknown_platform_is_refused_with_pcr003() {
    let req = request("mainframe", 1, "acct", "a", "b", None);
    let err = Registry::builtin().rotate(&req).await.expect_err("unknown platform");
    assert_eq!(err.code(), "PCR003");
    assert!(err.to_string().contains("mainframe"), "{err}");
}

/// `generic` used to "succeed" without changing anything, so the vault recorded rotations that
/// never reached the system and then handed out a password the system did not have: it is
/// refused like any platform without a rotator.
#[tokio::test]
async fn generic_is_refused_rather_than_rotated_without_a_target() {
    let req = request("generic", free_port(), "acct", "a", "b", None);
    let err = Registry::builtin().rotate(&req).await.expect_err("generic has no rotator");
    assert_eq!(err.code(), "PCR003");
}

struct Counting(Arc<AtomicUsize>);

impl Rotator for Counting {
    fn platform(&self) -> &'static str {
        "postgresql"
    }
    fn rotate<'a>(&'a self, _req: &'a RotationRequest) -> RotateFuture<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_registered_rotator_replaces_the_builtin_for_its_platform() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut r = Registry::builtin();
    r.register(Box::new(Counting(calls.clone())));
    assert_eq!(r.platforms().iter().filter(|p| **p == "postgresql").count(), 1);
    r.rotate(&request("postgresql", 1, "acct", "a", "b", None)).await.expect("rotate");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
