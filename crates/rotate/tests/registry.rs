//! The registry: the built-in platforms, unknown platforms refused with PCR003, registration
//! replacing a built-in, and `generic` succeeding without touching anything.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rotate::{Registry, RotateFuture, RotationRequest, Rotator};
use testkit::free_port;
use testkit::rotation::request;

#[test]
fn builtin_serves_postgresql_linux_ssh_and_generic() {
    let r = Registry::builtin();
    assert_eq!(r.platforms(), vec!["postgresql", "linux-ssh", "generic"]);
    for p in ["postgresql", "linux-ssh", "generic"] {
        assert_eq!(r.get(p).map(|x| x.platform()), Some(p));
    }
    assert!(r.get("windows").is_none());
}

#[tokio::test]
async fn an_unknown_platform_is_refused_with_pcr003() {
    let req = request("mainframe", 1, "acct", "a", "b", None);
    let err = Registry::builtin().rotate(&req).await.expect_err("unknown platform");
    assert_eq!(err.code(), "PCR003");
    assert!(err.to_string().contains("mainframe"), "{err}");
}

/// `generic` stores nothing remotely: it succeeds even for an address where nothing listens.
#[tokio::test]
async fn generic_succeeds_without_contacting_the_target() {
    let req = request("generic", free_port(), "acct", "a", "b", None);
    Registry::builtin().rotate(&req).await.expect("generic");
}

struct Counting(Arc<AtomicUsize>);

impl Rotator for Counting {
    fn platform(&self) -> &'static str {
        "generic"
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
    assert_eq!(r.platforms().iter().filter(|p| **p == "generic").count(), 1);
    r.rotate(&request("generic", 1, "acct", "a", "b", None)).await.expect("rotate");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
