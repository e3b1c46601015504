//! The sessions a representative picked a credential for, from the pick to the end: the
//! [`Sessions`] the terminal routes (and `console connect`) open. A picked session waits in
//! `pending` until its WebSocket opens it once; an opened one is `active` until it is closed,
//! when the broker checks the credential in and the session's record is closed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use super::Inner;
use crate::db::EventKind;
use crate::ecm::{ConsoleUser, ReleaseHandle, SessionRef};
use crate::items::JumpItem;
use crate::recording::Recording;
use crate::ssh::Session;
use crate::terminal::{PtyRequest, TermSize};
use crate::web::{SessionInfo, Sessions, SessionsFuture};
use crate::ConsoleError;

/// How long a picked session waits for its terminal.
const PENDING_FOR: Duration = Duration::from_secs(600);

/// A session picked and not yet opened.
pub(crate) struct Pending {
    /// Whose it is ([`super::identity::Representative::owner`]).
    pub owner: String,
    pub user: ConsoleUser,
    pub group: String,
    pub credential_id: String,
    pub display_name: String,
    pub item: JumpItem,
    pub since: Instant,
}

/// An opened session's release, to check in when it ends.
struct Active {
    group: String,
    release: ReleaseHandle,
    session: SessionRef,
}

#[derive(Default)]
pub(crate) struct Live {
    pending: Mutex<HashMap<String, Pending>>,
    active: Mutex<HashMap<String, Active>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Live {
    pub(crate) fn add(&self, id: String, p: Pending) {
        lock(&self.pending).insert(id, p);
    }

    /// Removes the sessions picked too long ago; their IDs.
    pub(crate) fn expired(&self) -> Vec<String> {
        let mut pending = lock(&self.pending);
        let old: Vec<String> = pending
            .iter()
            .filter(|(_, p)| p.since.elapsed() > PENDING_FOR)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &old {
            pending.remove(id);
        }
        old
    }

    fn title(&self, id: &str, owner: &str) -> Option<String> {
        lock(&self.pending).get(id).filter(|p| p.owner == owner).map(|p| p.item.name.clone())
    }

    fn take(&self, id: &str, owner: &str) -> Option<Pending> {
        let mut pending = lock(&self.pending);
        if pending.get(id).is_some_and(|p| p.owner == owner) {
            pending.remove(id)
        } else {
            None
        }
    }
}

/// The [`Sessions`] of the app.
pub(crate) struct AppSessions(pub Arc<Inner>);

impl Inner {
    /// Opens picked session `id` for `owner`: the broker releases the credential, SSH logs in
    /// with it, the recording starts. Any failure is recorded, the credential checked in and the
    /// session closed.
    pub(crate) async fn open_session(
        &self,
        id: &str,
        size: TermSize,
        owner: &str,
    ) -> Result<Session, ConsoleError> {
        let Some(p) = self.live.take(id, owner) else {
            return Err(ConsoleError::UnknownSession { id: id.to_owned() });
        };
        let session = SessionRef { id: id.to_owned(), jump_item: Some(p.item.name.clone()) };
        let (credential, release) =
            match self.brokers.retrieve(&p.group, &p.user, &p.credential_id, &session).await {
                Ok(r) => r,
                Err(e) => {
                    let e = ConsoleError::from(e);
                    self.failed(id, &e).await;
                    return Err(e);
                }
            };
        let request_id = release.request_id;
        lock(&self.live.active)
            .insert(id.to_owned(), Active { group: p.group.clone(), release, session: session.clone() });
        let opened = async {
            self.db.session_credential(id, &p.display_name, Some(request_id), None).await?;
            let (login, method) = (credential.username().to_owned(), credential.method());
            let endpoint = p.item.endpoint()?;
            let pinned_before = self.db.pinned(&p.item.id).await?.is_some();
            let shell = self.connector.open(&endpoint, credential, &PtyRequest::xterm(size)).await?;
            if !pinned_before {
                if let Some(key) = self.db.pinned(&p.item.id).await? {
                    self.db
                        .session_event(
                            id,
                            EventKind::HostKeyPinned,
                            &format!("host key {key} pinned on first use"),
                        )
                        .await?;
                }
            }
            self.db
                .session_event(
                    id,
                    EventKind::CredentialInjected,
                    &format!("logged in as {login:?} ({method})"),
                )
                .await?;
            let path = self.recordings.join(format!("{id}.cast"));
            let recording = Recording::create_file(&path)?
                .title(p.item.name.clone())
                .record_input(self.settings.record_input)
                .clock(self.clock.clone());
            self.db.session_recording(id, &path.to_string_lossy()).await?;
            shell.record(recording)
        };
        match opened.await {
            Ok(s) => {
                tracing::info!(session = %id, jump_item = %p.item.name, credential = %p.display_name, vault_request = request_id, "console session opened");
                Ok(s)
            }
            Err(e) => {
                self.closed_session(id, Err(&e)).await;
                Err(e)
            }
        }
    }

    /// Records a failure before anything was released, and closes the session.
    async fn failed(&self, id: &str, e: &ConsoleError) {
        let detail = e.to_string();
        if let Err(err) = self.db.session_event(id, EventKind::Failed, &detail).await {
            tracing::warn!(session = %id, code = err.code(), error = %err, "session event not recorded");
        }
        if let Err(err) = self.db.end_session(id, &format!("failed: {}", e.code())).await {
            tracing::warn!(session = %id, code = err.code(), error = %err, "session end not recorded");
        }
    }

    /// The end of an opened session: the broker checks the release in, the record is closed.
    pub(crate) async fn closed_session(&self, id: &str, outcome: Result<(), &ConsoleError>) {
        let active = lock(&self.live.active).remove(id);
        if let Err(e) = outcome {
            let kind = match e {
                ConsoleError::HostKeyChanged { .. } => EventKind::HostKeyRefused,
                _ => EventKind::Failed,
            };
            if let Err(err) = self.db.session_event(id, kind, &e.to_string()).await {
                tracing::warn!(session = %id, code = err.code(), error = %err, "session event not recorded");
            }
        }
        if let Some(a) = active {
            let checked = match self.brokers.session_ended(&a.group, &a.release, &a.session).await {
                Ok(()) => {
                    (EventKind::CheckedIn, format!("vault request {} checked in", a.release.request_id))
                }
                Err(e) => {
                    tracing::warn!(session = %id, code = e.code(), error = %e, "the credential was not checked in");
                    (EventKind::Failed, format!("check-in of vault request {}: {e}", a.release.request_id))
                }
            };
            if let Err(err) = self.db.session_event(id, checked.0, &checked.1).await {
                tracing::warn!(session = %id, code = err.code(), error = %err, "session event not recorded");
            }
        }
        let detail = match outcome {
            Ok(()) => "the session ended".to_owned(),
            Err(e) => format!("the session failed: {}", e.code()),
        };
        if let Err(err) = self.db.end_session(id, &detail).await {
            tracing::warn!(session = %id, code = err.code(), error = %err, "session end not recorded");
        }
    }
}

impl Sessions for AppSessions {
    fn describe<'a>(&'a self, id: &'a str, caller: &'a HeaderMap) -> SessionsFuture<'a, SessionInfo> {
        Box::pin(async move {
            let rep = self.0.representative(caller).await?;
            let title = rep.and_then(|r| self.0.live.title(id, &r.owner));
            title
                .map(|title| SessionInfo { title })
                .ok_or_else(|| ConsoleError::UnknownSession { id: id.to_owned() })
        })
    }

    fn open<'a>(&'a self, id: &'a str, size: TermSize, caller: &'a HeaderMap) -> SessionsFuture<'a, Session> {
        Box::pin(async move {
            let Some(rep) = self.0.representative(caller).await? else {
                return Err(ConsoleError::UnknownSession { id: id.to_owned() });
            };
            self.0.open_session(id, size, &rep.owner).await
        })
    }

    fn closed<'a>(&'a self, id: &'a str, outcome: Result<(), &'a ConsoleError>) -> SessionsFuture<'a, ()> {
        Box::pin(async move {
            self.0.closed_session(id, outcome).await;
            Ok(())
        })
    }
}
