//! API tests: each starts the real server on a free loopback port with its own SQLite
//! database and talks to it over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod acd;
mod agent;
mod auth;
mod browser;
mod documents;
mod exports;
mod isolation;
mod platform_fake;
mod resources;
mod social;
mod telegram;
mod validation;
mod webchat;
