//! Channel export tasks [000 Follow-up]: asynchronous, at most 100,000 channels an
//! export and 2,000 a file; credentials are never exported.

use serde::Serialize;

use crate::time::Timestamp;
use crate::ExportId;

pub const MAX_RECORDS_PER_EXPORT: usize = 100_000;
pub const MAX_RECORDS_PER_FILE: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ExportStatus {
    Pending,
    Running,
    Success,
    Failed,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Pending => "pending",
            ExportStatus::Running => "running",
            ExportStatus::Success => "success",
            ExportStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ExportStatus::Pending,
            ExportStatus::Running,
            ExportStatus::Success,
            ExportStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportFile {
    /// Counts from 1.
    pub index: u32,
    pub records: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportTask {
    pub id: ExportId,
    pub status: ExportStatus,
    /// Channels to export; `None` means all channels of the tenant.
    #[serde(skip)]
    pub channel_ids: Option<Vec<crate::ChannelId>>,
    pub total: u32,
    pub files: Vec<ExportFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
}

/// How many files an export of `records` channels fills.
pub fn file_count(records: usize) -> usize {
    records.div_ceil(MAX_RECORDS_PER_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hold_at_most_two_thousand_records() {
        assert_eq!(file_count(0), 0);
        assert_eq!(file_count(2000), 1);
        assert_eq!(file_count(2001), 2);
        assert_eq!(file_count(2500), 2);
        assert_eq!(file_count(100_000), 50);
    }
}
