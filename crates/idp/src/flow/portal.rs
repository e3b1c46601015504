//! What My Apps shows a signed-in user: a tile per app assigned to them (directly or through a
//! group) that is enabled and visible to users.

use super::{Client, Failure};
use crate::service::Idp;
use store::model::User;
use uuid::Uuid;

/// One My Apps tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub app_id: Uuid,
    pub name: String,
}

/// What My Apps shows.
#[derive(Debug)]
pub enum Portal {
    /// The browser has no valid session: the sign-in form (then My Apps).
    NeedSignIn,
    /// The user's tiles, sorted by name.
    Apps {
        user: User,
        tiles: Vec<Tile>,
    },
    Fail(Failure),
}

impl Idp {
    /// My Apps for the browser whose session cookie is `session_cookie`.
    pub async fn my_apps(&self, tenant: Uuid, session_cookie: Option<&str>, client: &Client) -> Portal {
        let Ok(Some((_, user))) = self.signed_in_user(tenant, session_cookie).await else {
            return Portal::NeedSignIn;
        };
        let apps = match self.store.apps_assigned_to(tenant, user.id).await {
            Ok(a) => a,
            Err(e) => return Portal::Fail(self.failure(tenant, Some(&user), None, client, e.into()).await),
        };
        let mut tiles: Vec<Tile> = apps
            .into_iter()
            .filter_map(|app| {
                let config = crate::apps::config_of(&app).ok()?;
                (config.visible && config.enabled).then_some(Tile { app_id: app.id, name: app.name })
            })
            .collect();
        tiles.sort_by_key(|t| t.name.to_lowercase());
        Portal::Apps { user, tiles }
    }
}
