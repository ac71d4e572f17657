//! Switchboard's domain: the types every other crate speaks and the rules that decide
//! whether a configuration is acceptable. Nothing here does IO, reads a clock or awaits;
//! rules that need other records (does this queue exist, what type is it) take them as
//! arguments, looked up by the caller.

pub mod auth_v2;
pub mod channel;
pub mod conversation;
pub mod delivery;
pub mod employee;
pub mod export;
pub mod files;
pub mod ids;
pub mod paging;
pub mod queue;
pub mod route;
pub mod tenant;
pub mod time;
mod validation;
pub mod worktime;

pub use ids::{
    ChannelId, ConversationId, CustomerId, EmployeeId, ExportId, QueueId, RouteId, TenantId,
};
pub use validation::{Rule, ValidationError};
