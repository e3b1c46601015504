//! `portcullis vault user|group|policy|registration|oauth-client|request …`: who may use the
//! vault, and how.

use std::process::ExitCode;

use super::{audit_cli, minutes_of, print_json, read_stdin, scope};
use crate::args::vault::*;
use anyhow::Result;
use vault::admin::{NewPolicy, NewRegistration};
use vault::ip::IpRule;
use vault::model::{Actor, Role};
use vault::requests::Queue;
use vault::Vault;

pub(super) async fn user(v: &Vault, c: UserCmd) -> Result<ExitCode> {
    match c {
        UserCmd::Create { name, password_stdin, email } => {
            let pw = if password_stdin { Some(read_stdin("password")?) } else { None };
            let u = v.create_user(&name, pw.as_deref().map(|s| s.as_str()), email.as_deref()).await?;
            audit_cli(v, "user.create", None, &format!("user {}", u.id)).await?;
            println!("{}", u.id);
        }
        UserCmd::List { json } => {
            let list = v.list_users().await?;
            if json {
                print_json(&list)?;
            } else {
                for u in list {
                    println!("{:>5}  {:<30} {}", u.id, u.name, u.email.unwrap_or_default());
                }
            }
        }
        UserCmd::Set { name, password_stdin, email } => {
            let pw = if password_stdin { Some(read_stdin("password")?) } else { None };
            v.set_user(&name, pw.as_deref().map(|s| s.as_str()), email.as_deref()).await?;
            audit_cli(v, "user.set", None, &name).await?;
        }
        UserCmd::Delete { name } => {
            v.delete_user(&name).await?;
            audit_cli(v, "user.delete", None, &name).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn opt_ref(s: Option<String>) -> Option<Option<String>> {
    s.map(|s| if s.eq_ignore_ascii_case("none") { None } else { Some(s) })
}

pub(super) async fn group(v: &Vault, c: GroupCmd) -> Result<ExitCode> {
    match c {
        GroupCmd::Create { name } => {
            let g = v.create_group(&name).await?;
            audit_cli(v, "group.create", None, &name).await?;
            println!("{}", g.id);
        }
        GroupCmd::List { json } => {
            let list = v.list_groups().await?;
            if json {
                print_json(&list)?;
            } else {
                for g in list {
                    println!("{:>5}  {:<36} members: {}", g.id, g.name, g.members.join(", "));
                }
            }
        }
        GroupCmd::Set { name, policy, registration } => {
            v.set_group(&name, opt_ref(policy), opt_ref(registration)).await?;
            audit_cli(v, "group.set", None, &name).await?;
        }
        GroupCmd::Delete { name } => {
            v.delete_group(&name).await?;
            audit_cli(v, "group.delete", None, &name).await?;
        }
        GroupCmd::AddMember { group, user } => {
            v.add_member(&group, &user).await?;
            audit_cli(v, "group.add-member", None, &format!("{user} to {group}")).await?;
        }
        GroupCmd::RemoveMember { group, user } => {
            v.remove_member(&group, &user).await?;
            audit_cli(v, "group.remove-member", None, &format!("{user} from {group}")).await?;
        }
        GroupCmd::Grant { group, role, system, account } => {
            let s = scope(v, system, account).await?;
            v.grant_role(&group, s, Role::parse(&role)?).await?;
            audit_cli(v, "group.grant", None, &format!("{role} to {group}")).await?;
        }
        GroupCmd::Revoke { group, role, system, account } => {
            let s = scope(v, system, account).await?;
            v.revoke_role(&group, s, Role::parse(&role)?).await?;
            audit_cli(v, "group.revoke", None, &format!("{role} from {group}")).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn policy(v: &Vault, c: PolicyCmd) -> Result<ExitCode> {
    match c {
        PolicyCmd::Create { name, approvals, window_start, window_end, max_minutes } => {
            let (all_day, ws, we) = match (window_start, window_end) {
                (Some(s), Some(e)) => (false, minutes_of(&s)?, minutes_of(&e)?),
                _ => (true, 0, 1440),
            };
            let p = v
                .create_policy(NewPolicy {
                    name: name.clone(),
                    auto_approve: approvals == 0,
                    approvals_required: approvals,
                    all_day,
                    window_start: ws,
                    window_end: we,
                    max_minutes,
                })
                .await?;
            audit_cli(v, "policy.create", None, &name).await?;
            println!("{}", p.id);
        }
        PolicyCmd::List { json } => {
            let list = v.list_policies().await?;
            if json {
                print_json(&list)?;
            } else {
                for p in list {
                    println!(
                        "{:>5}  {:<40} {} max={}m",
                        p.id,
                        p.name,
                        if p.auto_approve {
                            "auto-approve".to_string()
                        } else {
                            format!("{} approvals", p.approvals_required)
                        },
                        p.max_minutes
                    );
                }
            }
        }
        PolicyCmd::Set { name, approvals, max_minutes } => {
            v.set_policy(&name, approvals.map(|a| a == 0), approvals, max_minutes).await?;
            audit_cli(v, "policy.set", None, &name).await?;
        }
        PolicyCmd::Delete { name } => {
            v.delete_policy(&name).await?;
            audit_cli(v, "policy.delete", None, &name).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rules(texts: &[String]) -> Result<Vec<IpRule>> {
    Ok(texts.iter().map(|t| IpRule::from_text(t)).collect::<Result<Vec<_>, _>>()?)
}

pub(super) async fn registration(v: &Vault, c: RegistrationCmd) -> Result<ExitCode> {
    match c {
        RegistrationCmd::Create { name, ip_rules, token_minutes, user_password_required } => {
            let (r, key) = v
                .create_registration(NewRegistration {
                    name: name.clone(),
                    ip_rules: rules(&ip_rules)?,
                    token_minutes,
                    user_password_required,
                })
                .await?;
            audit_cli(v, "registration.create", None, &name).await?;
            println!("{}", r.id);
            println!("{}", key.as_str());
        }
        RegistrationCmd::List { json } => {
            let list = v.list_registrations().await?;
            if json {
                print_json(&list)?;
            } else {
                for r in list {
                    let ips: Vec<&str> = r.ip_rules.iter().map(|r| r.value.as_str()).collect();
                    println!(
                        "{:>5}  {:<36} active={} ip-rules={} token={}m",
                        r.id,
                        r.name,
                        r.active,
                        if ips.is_empty() { "any".to_string() } else { ips.join(",") },
                        r.token_minutes
                    );
                }
            }
        }
        RegistrationCmd::Set {
            name,
            active,
            ip_rules,
            clear_ip_rules,
            token_minutes,
            user_password_required,
        } => {
            let new_rules = if clear_ip_rules {
                Some(Vec::new())
            } else if ip_rules.is_empty() {
                None
            } else {
                Some(rules(&ip_rules)?)
            };
            v.set_registration(&name, active, new_rules, token_minutes, user_password_required).await?;
            audit_cli(v, "registration.set", None, &name).await?;
        }
        RegistrationCmd::RotateKey { name } => {
            let key = v.rotate_registration_key(&name).await?;
            audit_cli(v, "registration.rotate-key", None, &name).await?;
            println!("{}", key.as_str());
        }
        RegistrationCmd::Delete { name } => {
            v.delete_registration(&name).await?;
            audit_cli(v, "registration.delete", None, &name).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn oauth(v: &Vault, c: OauthCmd) -> Result<ExitCode> {
    match c {
        OauthCmd::Create { user } => {
            let (id, secret) = v.create_oauth_client(&user).await?;
            audit_cli(v, "oauth-client.create", None, &format!("{id} for {user}")).await?;
            println!("OAuth client for {user} (the secret is shown once):");
            println!("{id} {}", secret.as_str());
        }
        OauthCmd::List { json } => {
            let list = v.list_oauth_clients().await?;
            if json {
                print_json(&list)?;
            } else {
                for c in list {
                    println!("{}  {}", c.client_id, c.user);
                }
            }
        }
        OauthCmd::Delete { client_id } => {
            v.delete_oauth_client(&client_id).await?;
            audit_cli(v, "oauth-client.delete", None, &client_id).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn request(v: &Vault, c: RequestCmd) -> Result<ExitCode> {
    match c {
        RequestCmd::List { status, json } => {
            let list = v.list_requests(None, Queue::All, status.as_deref()).await?;
            if json {
                print_json(&list)?;
            } else {
                for r in list {
                    println!(
                        "{:>6}  {:<20} {:<16}/{:<16} {:<10} {}m",
                        r.id,
                        r.user_name,
                        r.system_name,
                        r.account_name,
                        r.status.as_str(),
                        r.duration_minutes
                    );
                }
            }
        }
        // The domain writes the audit rows of request changes.
        RequestCmd::Approve { id } => {
            v.approve(Actor::Operator, id).await?;
        }
        RequestCmd::Deny { id } => {
            v.deny(Actor::Operator, id).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
