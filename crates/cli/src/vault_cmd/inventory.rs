//! `portcullis vault system …` and `portcullis vault account …`: the managed systems and accounts.

use std::process::ExitCode;

use super::{audit_cli, policy_from, print_json, read_stdin};
use crate::args::vault::*;
use anyhow::Result;
use vault::admin::{AccountChanges, NewAccount, NewSystem};
use vault::model::{Actor, PasswordPolicy, Role, Scope};
use vault::Vault;

pub(super) async fn system(v: &Vault, c: SystemCmd) -> Result<ExitCode> {
    match c {
        SystemCmd::Create { name, host, platform, port, workgroup } => {
            let s = v
                .create_system(NewSystem { name, host, platform: platform.name().into(), port, workgroup })
                .await?;
            audit_cli(v, "system.create", None, &format!("system {}", s.id)).await?;
            println!("{}", s.id);
        }
        SystemCmd::List { json } => {
            let list = v.list_systems().await?;
            if json {
                print_json(&list)?;
            } else {
                for s in list {
                    println!(
                        "{:>5}  {:<24} {:<24} {:<10} {}",
                        s.id,
                        s.name,
                        s.host,
                        s.platform,
                        s.functional_user.unwrap_or_default()
                    );
                }
            }
        }
        SystemCmd::Set { system, host, port, workgroup, functional_account, functional_password_stdin } => {
            let s = v.system(&system).await?;
            v.update_system(s.id, host, port, workgroup).await?;
            if let (Some(user), true) = (functional_account, functional_password_stdin) {
                let pw = read_stdin("functional account's password")?;
                v.set_functional_account(s.id, &user, &pw).await?;
            }
            audit_cli(v, "system.set", None, &format!("system {}", s.id)).await?;
        }
        SystemCmd::Delete { system } => {
            v.delete_system(&system).await?;
            audit_cli(v, "system.delete", None, &system).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn account(v: &Vault, c: AccountCmd) -> Result<ExitCode> {
    match c {
        AccountCmd::Create {
            system,
            name,
            password_stdin,
            api_enabled,
            change_after_release,
            max_release_minutes,
            domain,
            description,
            password_length,
            password_classes,
            rotation_days,
        } => {
            let password = if password_stdin { Some(read_stdin("password")?) } else { None };
            let policy =
                policy_from(password_length, password_classes.as_deref(), PasswordPolicy::default())?;
            let a = v
                .create_account(NewAccount {
                    system,
                    name,
                    password,
                    domain,
                    description,
                    api_enabled,
                    change_after_release,
                    max_release_minutes,
                    policy,
                    rotation_days,
                })
                .await?;
            // Accounts made API-enabled later join the SRA group's scope through `account set`.
            grant_sra_if_connected(v, &a).await?;
            audit_cli(v, "account.create", Some(a.id), "").await?;
            println!("{}", a.id);
        }
        AccountCmd::List { system, json } => {
            let sys = match system {
                Some(s) => Some(v.system(&s).await?.id),
                None => None,
            };
            let list = v.list_accounts(sys).await?;
            if json {
                print_json(&list)?;
            } else {
                for a in list {
                    println!(
                        "{:>5}  {:<20} {:<20} api={} rotate-after-release={} max={}m{}",
                        a.id,
                        a.system_name,
                        a.name,
                        a.api_enabled,
                        a.change_after_release,
                        a.max_release_minutes,
                        a.rotation_error.map(|e| format!(" last-rotation-error: {e}")).unwrap_or_default()
                    );
                }
            }
        }
        AccountCmd::Set {
            account,
            system,
            api_enabled,
            change_after_release,
            max_release_minutes,
            description,
            password_length,
            password_classes,
            password_stdin,
            rotate_now,
        } => {
            let a = v.find_account(system.as_deref(), &account).await?;
            let policy = policy_from(password_length, password_classes.as_deref(), a.password_policy)?;
            let a = v
                .update_account(
                    a.id,
                    AccountChanges {
                        api_enabled,
                        change_after_release,
                        max_release_minutes,
                        description,
                        policy,
                        ..Default::default()
                    },
                )
                .await?;
            grant_sra_if_connected(v, &a).await?;
            if password_stdin {
                let pw = read_stdin("password")?;
                v.set_account_password(a.id, &pw).await?;
            }
            if rotate_now {
                v.rotate_account(Actor::Operator, a.id, None).await?;
            }
            audit_cli(v, "account.set", Some(a.id), "").await?;
        }
        AccountCmd::Delete { account, system } => {
            let a = v.find_account(system.as_deref(), &account).await?;
            v.delete_account(a.id).await?;
            audit_cli(v, "account.delete", Some(a.id), "").await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Once Secure Remote Access is connected, its requesters group holds Requestor on every
/// API-enabled account, including ones enabled later.
async fn grant_sra_if_connected(v: &Vault, a: &vault::model::Account) -> Result<()> {
    if a.api_enabled && v.group(vault::admin::SRA_GROUP).await.is_ok() {
        v.grant_role(vault::admin::SRA_GROUP, Scope::Account(a.id), Role::Requestor).await?;
    }
    Ok(())
}
