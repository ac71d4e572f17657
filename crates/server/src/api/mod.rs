//! Handlers, one file per resource: extract, check, call the store, respond.

pub mod agent;
pub mod auth;
pub mod called_routes;
pub mod channels;
pub mod employees;
pub mod exports;
pub mod health;
pub mod queues;
pub mod supervision;
pub mod tenants;

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use switchboard_domain::paging::PageRequest;
use switchboard_domain::{Rule, ValidationError};

use crate::error::ApiError;

/// An id from the path. One that does not parse cannot name a record: 404, like any
/// other id the caller may not see.
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: FromStr + Send> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        text.parse().map(IdPath).map_err(|_| ApiError::NotFound)
    }
}

/// Query parameters of every list: paging and the filters each list understands.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Records a page, 1–500 (default 20).
    pub page_size: Option<u32>,
    /// Text the name (or code, or account) contains, any case.
    pub q: Option<String>,
    /// Type filter: queue type, channel type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Role filter (employees).
    pub role: Option<String>,
    /// Skill queue filter (employees, called routes).
    pub queue_id: Option<String>,
}

impl ListQuery {
    pub fn from_request(
        query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    ) -> Result<Self, ApiError> {
        query.map(|Query(q)| q).map_err(|e| ApiError::BadField {
            field: "query".into(),
            message: e.body_text(),
        })
    }

    pub fn paging(&self) -> Result<PageRequest, ApiError> {
        let defaults = PageRequest::default();
        let request = PageRequest {
            page: self.page.unwrap_or(defaults.page),
            page_size: self.page_size.unwrap_or(defaults.page_size),
        };
        request.validate()?;
        Ok(request)
    }

    /// Parses a filter value with `parse`, naming the parameter when it does not fit.
    pub fn filter<T>(
        value: Option<&str>,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        value
            .filter(|v| !v.is_empty())
            .map(|v| {
                parse(v).ok_or_else(|| {
                    ValidationError::new(
                        name,
                        Rule::Invalid {
                            reason: format!("unknown value '{v}'"),
                        },
                    )
                    .into()
                })
            })
            .transpose()
    }
}

/// The body of every error response (for the OpenAPI document).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `conflict`.
    pub code: String,
    pub message: String,
    /// The JSON path of the refused field, when one is to blame.
    pub field: Option<String>,
    /// The rule the field broke (`too_long`, `out_of_range`, `pattern`, …).
    pub rule: Option<String>,
}
