/// Everything the store can fail with. The server maps these to HTTP in one place.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such record")]
    NotFound,
    /// A unique value is already taken; `field` is the API field that holds it.
    #[error("{field} is already in use")]
    Conflict { field: String },
    /// The record cannot be removed while others refer to it.
    #[error("still in use: {reason}")]
    InUse { reason: String },
    /// A rule that depends on other records (checked inside the writing transaction).
    #[error(transparent)]
    Rejected(#[from] switchboard_domain::ValidationError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back; never caused by client input.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("unsupported database URL '{0}': use sqlite:// or postgres://")]
    UnsupportedUrl(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Turns a unique-constraint violation into a conflict on the API field whose column
    /// appears in the constraint (PostgreSQL) or the message (SQLite). `columns` pairs a
    /// column name with its API field, most specific first.
    pub(crate) fn from_unique(err: sqlx::Error, columns: &[(&str, &str)]) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
                if let Some((_, field)) = columns.iter().find(|(column, _)| text.contains(column)) {
                    return StoreError::Conflict {
                        field: (*field).to_owned(),
                    };
                }
            }
        }
        StoreError::Database(err)
    }
}

pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}
