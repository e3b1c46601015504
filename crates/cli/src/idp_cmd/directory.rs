//! `portcullis idp user …` and `portcullis idp group …`.

use super::read_password;
use crate::args::idp::{GroupCommand, UserCommand};
use anyhow::{bail, Result};
use idp::directory::{NewUser, UserChanges};
use idp::service::Idp;
use serde_json::json;
use store::model::PrincipalKind;

pub(super) async fn user(idp: &Idp, tenant: uuid::Uuid, c: UserCommand) -> Result<()> {
    match c {
        UserCommand::Create {
            upn,
            given_name,
            surname,
            mail,
            display_name,
            department,
            job_title,
            employee_id,
            password_stdin,
        } => {
            let password = if password_stdin { Some(read_password()?) } else { None };
            let new = NewUser {
                upn,
                given_name: Some(given_name),
                surname: Some(surname),
                mail,
                display_name,
                department,
                job_title,
                employee_id,
            };
            let u = idp.create_user(tenant, new, password).await?;
            println!("{}", u.id);
        }
        UserCommand::Set {
            user,
            upn,
            mail,
            given_name,
            surname,
            display_name,
            department,
            job_title,
            employee_id,
            enabled,
            password_stdin,
        } => {
            let changes = UserChanges {
                upn,
                given_name,
                surname,
                mail,
                display_name,
                department,
                job_title,
                employee_id,
                enabled,
            };
            let u = idp.set_user(tenant, &user, changes).await?;
            if password_stdin {
                idp.set_password(tenant, &u.id.to_string(), Some(read_password()?)).await?;
            }
            println!("{}", u.id);
        }
        UserCommand::TotpEnroll { user } => println!("{}", idp.enroll_totp(tenant, &user).await?.as_str()),
        UserCommand::TotpRemove { user } => idp.remove_totp(tenant, &user).await?,
        UserCommand::Delete { user } => {
            let u = idp.delete_user(tenant, &user).await?;
            println!("user {} ({}) deleted", u.upn, u.id);
        }
        UserCommand::List { json } => {
            let users = idp.store.list_users(tenant).await?;
            if json {
                let v: Vec<_> = users
                    .iter()
                    .map(|u| json!({"id": u.id, "upn": u.upn, "display_name": u.display_name, "given_name": u.given_name,
                        "surname": u.surname, "mail": u.mail, "enabled": u.enabled}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for u in users {
                    println!(
                        "{}  {}  {}{}",
                        u.id,
                        u.upn,
                        u.display_name,
                        if u.enabled { "" } else { "  (disabled)" }
                    );
                }
            }
        }
    }
    Ok(())
}

pub(super) async fn group(idp: &Idp, tenant: uuid::Uuid, c: GroupCommand) -> Result<()> {
    match c {
        GroupCommand::Create { name, description } => {
            println!("{}", idp.create_group(tenant, &name, description).await?.id)
        }
        GroupCommand::AddMember { group, user, member_group } => match (user, member_group) {
            (Some(u), _) => idp.add_group_member(tenant, &group, &u, PrincipalKind::User).await?,
            (None, Some(g)) => idp.add_group_member(tenant, &group, &g, PrincipalKind::Group).await?,
            (None, None) => bail!("give --user or --member-group"),
        },
        GroupCommand::RemoveMember { group, user, member_group } => match (user, member_group) {
            (Some(u), _) => idp.remove_group_member(tenant, &group, &u, PrincipalKind::User).await?,
            (None, Some(g)) => idp.remove_group_member(tenant, &group, &g, PrincipalKind::Group).await?,
            (None, None) => bail!("give --user or --member-group"),
        },
        GroupCommand::Delete { group } => {
            let g = idp.delete_group(tenant, &group).await?;
            println!("group {} ({}) deleted", g.name, g.id);
        }
        GroupCommand::List { json } => {
            let groups = idp.store.list_groups(tenant).await?;
            if json {
                let v: Vec<_> = groups
                    .iter()
                    .map(|g| json!({"id": g.id, "name": g.name, "description": g.description}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for g in groups {
                    println!("{}  {}", g.id, g.name);
                }
            }
        }
    }
    Ok(())
}
