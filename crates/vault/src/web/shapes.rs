//! The JSON shapes of the Password Safe v3 API's answers (field names and types as its clients
//! read them), and the list envelope of version 3.2.

use serde_json::{json, Value};

use super::extract::{q, Query};
use crate::model::{Account, Policy, Registration, Request, RequestStatus, User};
use crate::secrets_safe::{Folder, Secret};

pub(super) fn date(t: Option<i64>) -> Value {
    match t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()) {
        Some(d) => Value::String(
            d.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
                .trim_end_matches('Z')
                .to_string(),
        ),
        None => Value::Null,
    }
}

// ---------------------------------------------------------------------- shapes

pub(super) fn account_json(a: &Account, host: &str, platform: &str) -> Value {
    json!({
        "PlatformID": platform_id(platform),
        "SystemId": a.system_id,
        "SystemName": a.system_name,
        "DomainName": a.domain,
        "AccountId": a.id,
        "AccountName": a.name,
        "InstanceName": "",
        "UserPrincipalName": null,
        "ApplicationID": null,
        "ApplicationDisplayName": null,
        "DefaultReleaseDuration": a.max_release_minutes.min(120),
        "MaximumReleaseDuration": a.max_release_minutes,
        "LastChangeDate": date(a.password_changed_at),
        "NextChangeDate": date(a.rotation_due_at),
        "IsChanging": a.rotation_pending,
        "ChangeState": if a.rotation_pending { 1 } else { 0 },
        "IsISAAccess": false,
        "PreferredNodeID": null,
        "AccountDescription": a.description,
        "HostName": host,
        "IPAddress": host,
        "ChangePasswordAfterAnyReleaseFlag": a.change_after_release,
    })
}

pub(super) fn platform_id(platform: &str) -> i64 {
    match platform {
        "linux-ssh" => 2,
        "postgresql" => 79,
        _ => 4,
    }
}

pub(super) fn request_json(r: &Request) -> Value {
    json!({
        "RequestID": r.id,
        "RequestorName": r.user_name,
        "SystemID": r.system_id,
        "SystemName": r.system_name,
        "AccountID": r.account_id,
        "AccountName": r.account_name,
        "DomainName": null,
        "AliasID": null,
        "ApplicationID": null,
        "RequestReleaseDate": date(Some(r.created_at)),
        "ApprovedDate": if r.approvals > 0 || r.status != RequestStatus::Pending { date(Some(r.created_at)) } else { Value::Null },
        "ExpiresDate": date(Some(r.expires_at)),
        "Status": r.status.wire(),
        "AccessType": r.access_type,
        "Reason": r.reason,
        "DurationMinutes": r.duration_minutes,
        "RotateOnCheckin": r.rotate_on_checkin,
    })
}

pub(super) fn registration_json(r: &Registration) -> Value {
    json!({
        "Id": r.id,
        "Name": r.name,
        "RegistrationType": "ApiKeyPolicy",
        "Active": r.active,
        "Visible": true,
        "MultiFactorAuthenticationEnforced": false,
        "ClientCertificateRequired": false,
        "UserPasswordRequired": r.user_password_required,
        "VerifyPSRunAsUser": true,
        "AccessTokenDuration": r.token_minutes,
        "IPAuthenticationRules": r.ip_rules,
        "PSRunAsUser": null,
        "XForwardedForAuthenticationRules": [],
    })
}

pub(super) fn policy_json(p: &Policy) -> Value {
    json!({
        "AccessPolicyID": p.id,
        "Name": p.name,
        "Description": "",
        "Schedules": [{
            "ScheduleID": p.id,
            "Type": if p.all_day { "AllDay" } else { "Daily" },
            "StartTime": format!("{:02}:{:02}", p.window_start / 60, p.window_start % 60),
            "EndTime": format!("{:02}:{:02}", (p.window_end / 60) % 24, p.window_end % 60),
            "Sessions": [],
            "AutoApprove": p.auto_approve,
            "RequiredApprovers": if p.auto_approve { 0 } else { p.approvals_required },
            "MaximumDuration": p.max_minutes,
        }],
    })
}

pub(super) fn folder_json(f: &Folder) -> Value {
    json!({ "Id": f.id, "Name": f.name, "Description": f.description, "ParentId": f.parent_id, "UserGroupId": null, "FolderPath": f.path })
}

pub(super) fn secret_json(s: &Secret, password: Option<&str>, v32: bool) -> Value {
    let mut v = json!({
        "Id": s.id,
        "Title": s.title,
        "Description": s.description,
        "Username": s.username,
        "Password": password,
        "FileName": s.file_name,
        "FileHash": null,
        "Text": if s.secret_type == "Text" { password } else { None },
        "SecretType": s.secret_type,
        "FolderId": s.folder_id,
        "CreatedOn": date(Some(s.created_at)),
        "CreatedBy": s.owner_name,
        "ModifiedOn": date(Some(s.modified_at)),
        "ModifiedBy": s.owner_name,
        "Folder": s.folder_path.rsplit('/').next().unwrap_or(""),
        "FolderPath": s.folder_path,
        "Owners": [{"OwnerId": s.owner_id, "Owner": s.owner_name, "UserId": s.owner_id, "Name": s.owner_name}],
        "Notes": s.notes,
        "Urls": [],
        "IsFavorite": false,
    });
    if v32 {
        v["SecretValueModifiedOn"] = date(Some(s.modified_at));
    }
    v
}

/// `version` ≥ 3.2 asks for `{TotalCount, Data}` list envelopes.
pub(super) fn wants_v32(qs: &Query) -> bool {
    q(qs, "version")
        .and_then(|v| {
            let mut it = v.split('.');
            Some((it.next()?.parse::<u32>().ok()?, it.next().unwrap_or("0").parse::<u32>().ok()?))
        })
        .is_some_and(|(maj, min)| (maj, min) >= (3, 2))
}

/// A list, in the 3.2 envelope when the caller asked for it.
pub(super) fn list(qs: &Query, data: Vec<Value>) -> Value {
    if wants_v32(qs) {
        json!({ "TotalCount": data.len(), "Data": data })
    } else {
        Value::Array(data)
    }
}

pub(super) fn user_json(u: &User) -> Value {
    json!({
        "UserId": u.id,
        "SID": null,
        "EmailAddress": u.email,
        "UserName": u.name,
        "Name": u.name,
    })
}

/// Lower-cases the keys of each rule so `type`/`TYPE`/`Type` all read.
pub(super) fn lower_rules(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(m) => Value::Object(
                        m.into_iter()
                            .map(|(k, v)| {
                                let k = match k.to_ascii_lowercase().as_str() {
                                    "type" => "Type".to_string(),
                                    "value" => "Value".to_string(),
                                    "description" => "Description".to_string(),
                                    _ => k,
                                };
                                (k, v)
                            })
                            .collect(),
                    ),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}
