//! Secrets Safe: folders, credential, text and file secrets (multipart), lookup by path and
//! title, and file download.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::Value;
use web::auth::{Authenticated, Authorized};
use zeroize::Zeroizing;

use super::extract::{q, read_json, ApiUser, JsonKeys, Query};
use super::shapes::{folder_json, list, secret_json, wants_v32};
use super::{created, ok, Answer};
use crate::error::{invalid, not_found, VaultError};
use crate::model::User;
use crate::secrets_safe::{Secret, SecretValue};
use crate::Vault;

type SignedIn = Authorized<ApiUser, Authenticated>;

/// `GET Secrets-Safe/Folders`.
pub(super) async fn folders(user: SignedIn, State(vault): State<Vault>, qs: Query) -> Answer {
    let data: Vec<Value> = vault.list_folders(&user.0).await?.iter().map(folder_json).collect();
    ok(list(&qs, data))
}

/// `POST Secrets-Safe/Folders`.
pub(super) async fn create_folder(user: SignedIn, State(vault): State<Vault>, body: Body) -> Answer {
    let body = read_json(body).await?;
    let f = vault
        .create_folder(
            &user.0,
            &body.str("name").ok_or_else(|| invalid("Name is required"))?,
            body.str("parentid").as_deref(),
            &body.str("description").unwrap_or_default(),
        )
        .await?;
    created(folder_json(&f))
}

/// `POST Secrets-Safe/Folders/{id}/Secrets`: a credential secret.
pub(super) async fn create_credential(
    user: SignedIn,
    State(vault): State<Vault>,
    Path(folder): Path<String>,
    qs: Query,
    req: Request,
) -> Answer {
    create_secret(&vault, &user.0, &folder, None, req, wants_v32(&qs)).await
}

/// `POST Secrets-Safe/Folders/{id}/Secrets/Text` and `…/File` (multipart).
pub(super) async fn create_of_kind(
    user: SignedIn,
    State(vault): State<Vault>,
    Path((folder, kind)): Path<(String, String)>,
    qs: Query,
    req: Request,
) -> Answer {
    create_secret(&vault, &user.0, &folder, Some(&kind), req, wants_v32(&qs)).await
}

/// `GET Secrets-Safe/Secrets?path=…&title=…&separator=…`, with their values.
pub(super) async fn find(user: SignedIn, State(vault): State<Vault>, qs: Query) -> Answer {
    let sep = q(&qs, "separator").unwrap_or("/");
    let found = vault.find_secrets(&user.0, q(&qs, "path"), sep, q(&qs, "title")).await?;
    let v32 = wants_v32(&qs);
    let mut data = Vec::new();
    for s in &found {
        data.push(secret_with_value(&vault, &user.0, s, v32).await?);
    }
    ok(list(&qs, data))
}

/// `GET Secrets-Safe/Secrets/{id}`.
pub(super) async fn one(
    user: SignedIn,
    State(vault): State<Vault>,
    Path(sid): Path<String>,
    qs: Query,
) -> Answer {
    let s = vault.secret(&user.0, &sid).await?;
    ok(secret_with_value(&vault, &user.0, &s, wants_v32(&qs)).await?)
}

/// `GET Secrets-Safe/Secrets/{id}/File/Download`.
pub(super) async fn download(user: SignedIn, State(vault): State<Vault>, Path(sid): Path<String>) -> Answer {
    let (s, content) = vault.secret_value(&user.0, &sid).await?;
    if s.secret_type != "File" {
        return Err(invalid(format!("secret {} is a {} secret, not a file", s.id, s.secret_type)));
    }
    let name = s.file_name.unwrap_or_else(|| "secret".into()).replace(['"', '\r', '\n'], "_");
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
        .body(Body::from(content.to_vec()))
        .map_err(|_| invalid("cannot build the download"))
}

async fn secret_with_value(vault: &Vault, user: &User, s: &Secret, v32: bool) -> Result<Value, VaultError> {
    if s.secret_type == "File" {
        return Ok(secret_json(s, None, v32));
    }
    let (_, value) = vault.secret_value(user, &s.id).await?;
    let text = Zeroizing::new(String::from_utf8_lossy(&value).into_owned());
    Ok(secret_json(s, Some(&text), v32))
}

async fn create_secret(
    vault: &Vault,
    user: &User,
    folder: &str,
    kind: Option<&str>,
    req: Request,
    v32: bool,
) -> Answer {
    match kind {
        None => {
            let body = read_json(req.into_body()).await?;
            let s = vault
                .create_secret(
                    user,
                    folder,
                    &body.str("title").ok_or_else(|| invalid("Title is required"))?,
                    &body.str("description").unwrap_or_default(),
                    &body.str("notes").unwrap_or_default(),
                    SecretValue::Credential {
                        username: body.str("username").unwrap_or_default(),
                        password: Zeroizing::new(
                            body.str("password").ok_or_else(|| invalid("Password is required"))?,
                        ),
                    },
                )
                .await?;
            created(secret_json(&s, None, v32))
        }
        Some("text") => {
            let body = read_json(req.into_body()).await?;
            let s = vault
                .create_secret(
                    user,
                    folder,
                    &body.str("title").ok_or_else(|| invalid("Title is required"))?,
                    &body.str("description").unwrap_or_default(),
                    &body.str("notes").unwrap_or_default(),
                    SecretValue::Text(Zeroizing::new(
                        body.str("text").ok_or_else(|| invalid("Text is required"))?,
                    )),
                )
                .await?;
            created(secret_json(&s, None, v32))
        }
        Some("file") => {
            let mut mp = Multipart::from_request(req, &())
                .await
                .map_err(|e| invalid(format!("the body must be multipart/form-data ({e})")))?;
            let mut meta = JsonKeys::default();
            let mut file: Option<(String, Zeroizing<Vec<u8>>)> = None;
            while let Some(field) =
                mp.next_field().await.map_err(|e| invalid(format!("malformed multipart body ({e})")))?
            {
                let name = field.name().unwrap_or("").to_ascii_lowercase();
                let file_name = field.file_name().map(str::to_string);
                let data =
                    field.bytes().await.map_err(|e| invalid(format!("malformed multipart body ({e})")))?;
                if name == "secretmetadata" {
                    meta = JsonKeys::parse(&data)?;
                } else if file_name.is_some() || name == "file" || name == "files" {
                    file = Some((file_name.unwrap_or_else(|| "file".into()), Zeroizing::new(data.to_vec())));
                }
            }
            let (fname, content) = file.ok_or_else(|| invalid("the multipart body has no file part"))?;
            let s = vault
                .create_secret(
                    user,
                    folder,
                    &meta.str("title").unwrap_or_else(|| fname.clone()),
                    &meta.str("description").unwrap_or_default(),
                    &meta.str("notes").unwrap_or_default(),
                    SecretValue::File { name: meta.str("filename").unwrap_or(fname), content },
                )
                .await?;
            created(secret_json(&s, None, v32))
        }
        Some(other) => Err(not_found(format!(
            "Secrets-Safe/Folders/{{id}}/Secrets/{other} is not an endpoint of this API"
        ))),
    }
}
