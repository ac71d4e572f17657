use serde::{Deserialize, Serialize};

use crate::validation::{in_range, Checked};

/// Which page of a list to return; pages count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct PageRequest {
    #[serde(default = "first_page")]
    pub page: u32,
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

pub const MAX_PAGE_SIZE: u32 = 500;

fn first_page() -> u32 {
    1
}

fn default_page_size() -> u32 {
    20
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: first_page(),
            page_size: default_page_size(),
        }
    }
}

impl PageRequest {
    pub fn validate(&self) -> Checked {
        in_range("page", self.page.into(), 1, 1_000_000)?;
        in_range("pageSize", self.page_size.into(), 1, MAX_PAGE_SIZE.into())
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.page_size)
    }

    pub fn limit(&self) -> i64 {
        self.page_size.into()
    }
}

/// One page of a list, with the total count of matching records.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: i64, request: PageRequest) -> Self {
        Self {
            items,
            total,
            page: request.page,
            page_size: request.page_size,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            page_size: self.page_size,
        }
    }
}
