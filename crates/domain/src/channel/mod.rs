//! Channels [000, 001, 003, 002 Table 1-5]: where customers reach the tenant. The common
//! settings are here; each type's own settings are in [`settings`], and the write-only
//! credentials in [`secrets`].

mod common;
pub mod secrets;
pub mod settings;

pub use common::*;

#[cfg(test)]
mod tests;
