//! The queries every tenant-scoped record module runs alike: one row by id, one page of
//! rows under a filter, a delete by id. Each binds the tenant as `$1`; table and column
//! names are constants of the calling module, never client input.

use sqlx::any::{AnyQueryResult, AnyRow};
use sqlx::Row;
use switchboard_domain::paging::PageRequest;

use crate::error::{Result, StoreError};
use crate::{Backend, TenantScope};

/// A filter value bound after the tenant (`$2`, `$3`, …).
pub(crate) enum Param<'a> {
    Text(&'a str),
    Int(i64),
}

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_all<'q>(mut query: AnyQuery<'q>, params: &'q [Param<'q>]) -> AnyQuery<'q> {
    for param in params {
        query = match param {
            Param::Text(text) => query.bind(*text),
            Param::Int(n) => query.bind(*n),
        };
    }
    query
}

impl TenantScope<'_> {
    /// The tenant's row `id` of `table`, or `NotFound`.
    pub(crate) async fn row(&self, table: &str, columns: &str, id: i64) -> Result<AnyRow> {
        let sql = format!("SELECT {columns} FROM {table} WHERE tenant_id = $1 AND id = $2");
        sqlx::query(&sql)
            .bind(self.tenant.0)
            .bind(id)
            .fetch_optional(&self.store.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Deletes the tenant's row `id` of `table`, or answers `NotFound`.
    pub(crate) async fn delete_row(&self, table: &str, id: i64) -> Result<()> {
        let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND id = $2");
        found(
            sqlx::query(&sql)
                .bind(self.tenant.0)
                .bind(id)
                .execute(&self.store.write)
                .await?,
        )
    }

    /// One page, in id order, of the rows of `from_where` (`FROM t WHERE tenant_id = $1
    /// AND …`, its parameters `$2…` given in `params`), with the count of all of them.
    pub(crate) async fn page(
        &self,
        from_where: &str,
        columns: &str,
        params: &[Param<'_>],
        page: PageRequest,
    ) -> Result<(Vec<AnyRow>, i64)> {
        self.page_ordered(from_where, columns, params, page, "id")
            .await
    }

    /// [`TenantScope::page`] in another order (`id DESC`: newest first).
    pub(crate) async fn page_ordered(
        &self,
        from_where: &str,
        columns: &str,
        params: &[Param<'_>],
        page: PageRequest,
        order_by: &str,
    ) -> Result<(Vec<AnyRow>, i64)> {
        let count_sql = format!("SELECT COUNT(*) AS n {from_where}");
        let total: i64 = bind_all(sqlx::query(&count_sql).bind(self.tenant.0), params)
            .fetch_one(&self.store.read)
            .await?
            .try_get("n")?;
        let next = params.len() + 2;
        let page_sql = format!(
            "SELECT {columns} {from_where} ORDER BY {order_by} LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let rows = bind_all(sqlx::query(&page_sql).bind(self.tenant.0), params)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.store.read)
            .await?;
        Ok((rows, total))
    }
}

/// `NotFound` when a write touched no row.
pub(crate) fn found(done: AnyQueryResult) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Numbered parameters for PostgreSQL, anonymous ones for SQLite, in the order they
/// appear: SQLite looks a named parameter up by walking a list, which makes binding the
/// thousands of a batch statement quadratic.
pub(crate) struct Placeholders {
    backend: Backend,
    used: usize,
    /// Numbered on SQLite too (`?3`), to follow numbered ones written by hand: an
    /// anonymous `?` takes the number after the highest seen *before it in the text*.
    numbered: bool,
}

impl Placeholders {
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            backend,
            used: 0,
            numbered: false,
        }
    }

    /// Placeholders numbered from `first`, in a statement that has `$1` … `$first-1`.
    pub(crate) fn starting_at(backend: Backend, first: usize) -> Self {
        Self {
            backend,
            used: first.saturating_sub(1),
            numbered: true,
        }
    }

    /// `count` placeholders separated by commas.
    pub(crate) fn list(&mut self, count: usize) -> String {
        let mut list = Vec::with_capacity(count);
        for _ in 0..count {
            self.used += 1;
            list.push(match self.backend {
                Backend::Sqlite if !self.numbered => "?".to_owned(),
                Backend::Sqlite => format!("?{}", self.used),
                Backend::Postgres => format!("${}", self.used),
            });
        }
        list.join(", ")
    }

    /// `rows` parenthesised rows of `width` placeholders, for a VALUES list.
    pub(crate) fn rows(&mut self, rows: usize, width: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(width)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Joins `table` as `alias`, one row on `key`, to each row of a key list before it. On
/// SQLite a join, which its planner makes a lookup in the key's index. On PostgreSQL a
/// lookup per key (the LIMIT keeps it from being folded back into a join): a prepared
/// statement keeps the plan made at its sixth run, and a join planned while the table
/// was small hashes a scan of the whole table for good on a database nobody analyzes.
pub(crate) fn join_by_key(backend: Backend, table: &str, alias: &str, key: &str) -> String {
    match backend {
        Backend::Sqlite => format!("JOIN {table} {alias} ON {key}"),
        Backend::Postgres => format!(
            "CROSS JOIN LATERAL (SELECT * FROM {table} {alias} WHERE {key} LIMIT 1) AS {alias}"
        ),
    }
}

/// [`join_by_key`], keeping each row of the key list: one whose key finds none has the
/// joined columns NULL.
pub(crate) fn left_join_by_key(backend: Backend, table: &str, alias: &str, key: &str) -> String {
    match backend {
        Backend::Sqlite => format!("LEFT JOIN {table} {alias} ON {key}"),
        Backend::Postgres => format!(
            "LEFT JOIN LATERAL (SELECT * FROM {table} {alias} WHERE {key} LIMIT 1) AS {alias} ON TRUE"
        ),
    }
}
