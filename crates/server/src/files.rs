//! Files in conversations, for the widget and the agent API alike. An upload is accepted
//! only if its content is of an allowed type (see `switchboard_domain::files`); a message
//! carrying an image or a file must name a file stored in the same conversation, whose
//! stored name, type and size replace whatever the client claimed. Downloads never let a
//! browser interpret a file as a page: `nosniff`, a sandboxing policy, and only images
//! shown inline.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use switchboard_domain::conversation::Content;
use switchboard_domain::files::{check_file_id, classify, clean_name, StoredFile};
use switchboard_domain::{ConversationId, Rule, ValidationError};
use switchboard_store::{StoreError, TenantScope};

use crate::auth::new_token;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn upload(
    scope: &TenantScope<'_>,
    conversation: ConversationId,
    name: &str,
    content: &[u8],
) -> Result<StoredFile, FileError> {
    let name = clean_name(name);
    let mime_type = classify(&name, content)?;
    Ok(scope
        .store_file(&new_token(), conversation, &name, mime_type, content)
        .await?)
}

/// The content to store for a message: text as sent, media as the stored file says.
pub async fn resolve(
    scope: &TenantScope<'_>,
    conversation: ConversationId,
    content: Content,
) -> Result<Content, FileError> {
    let file_id = match &content {
        Content::Text { .. } | Content::Location { .. } => return Ok(content),
        Content::Image { file_id, .. } | Content::File { file_id, .. } => file_id.clone(),
    };
    check_file_id(&file_id).map_err(|e| e.within("content"))?;
    let (file, _) = scope
        .file(conversation, &file_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => FileError::Invalid(ValidationError::new(
                "content.fileId",
                Rule::Invalid {
                    reason: "no such file in this conversation; upload it first".into(),
                },
            )),
            other => FileError::Store(other),
        })?;
    Ok(content_of(file))
}

/// The content of a message carrying a stored file: an image, or any other file.
pub fn content_of(file: StoredFile) -> Content {
    if file.is_image() {
        Content::Image {
            file_id: file.file_id,
            name: file.name,
        }
    } else {
        Content::File {
            file_id: file.file_id,
            name: file.name,
            size: file.size,
            mime_type: file.mime_type,
        }
    }
}

pub fn download(file: &StoredFile, content: Vec<u8>) -> Response {
    let mut response = content.into_response();
    let headers = response.headers_mut();
    let (content_type, disposition) = if file.is_image() {
        (file.mime_type.as_str(), "inline")
    } else {
        ("application/octet-stream", "attachment")
    };
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    let encoded: String = file
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename*=UTF-8''{encoded}"))
    {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response
}

/// How long a public link to a file works: long enough for a customer to open an image
/// days after it was sent.
const PUBLIC_LINK_SECONDS: i64 = 30 * 24 * 3600;

#[derive(serde::Deserialize)]
pub struct LinkQuery {
    expires: i64,
    signature: String,
}

fn link_signature(
    key: &[u8],
    tenant: switchboard_domain::TenantId,
    conversation: ConversationId,
    file_id: &str,
    expires: i64,
) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{tenant}/{conversation}/{file_id}/{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A URL that serves a conversation's file to anyone holding it, until it expires: for
/// platforms that take files only by URL (LINE). `None` when the server has no public URL.
pub fn public_link(
    state: &crate::AppState,
    tenant: switchboard_domain::TenantId,
    conversation: ConversationId,
    file_id: &str,
) -> Option<String> {
    let base = state.config.public_url.as_deref()?.trim_end_matches('/');
    let expires = switchboard_store::ids::now_millis() / 1000 + PUBLIC_LINK_SECONDS;
    let key = state.store.file_link_key();
    let signature = link_signature(key, tenant, conversation, file_id, expires);
    Some(format!(
        "{base}/files/{tenant}/{conversation}/{file_id}?expires={expires}&signature={signature}"
    ))
}

/// `GET /files/{tenant}/{conversation}/{file}?expires=…&signature=…`: a file behind a
/// public link; a link altered or expired finds nothing.
pub async fn public_download(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    axum::extract::Path((tenant, conversation, file_id)): axum::extract::Path<(
        String,
        String,
        String,
    )>,
    axum::extract::Query(link): axum::extract::Query<LinkQuery>,
) -> Response {
    let not_found = || crate::ApiError::NotFound.into_response();
    let (Ok(tenant), Ok(conversation)) = (
        tenant.parse::<switchboard_domain::TenantId>(),
        conversation.parse::<ConversationId>(),
    ) else {
        return not_found();
    };
    let expected = link_signature(
        state.store.file_link_key(),
        tenant,
        conversation,
        &file_id,
        link.expires,
    );
    let genuine: bool =
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), link.signature.as_bytes()).into();
    if !genuine || link.expires < switchboard_store::ids::now_millis() / 1000 {
        return not_found();
    }
    match state
        .store
        .tenant(tenant)
        .file(conversation, &file_id)
        .await
    {
        Ok((file, content)) => download(&file, content),
        Err(_) => not_found(),
    }
}
