//! ndr-doctor: explains why a mail message was not delivered and what to do about it.
//!
//! Data flows one way: [`input`] reads and decodes bytes into log buffers, documents and
//! trace records; [`extract`] finds the status codes, failure words and their context in
//! them (`pipeline` runs it on every core, in input order); `deliveries` groups findings
//! into deliveries; [`render`] draws findings and reports in each format. [`catalog`] (the
//! codes, causes and fixes of `data/`), [`reasons`], [`runbook`] and [`sanitize`] are
//! leaves any stage may read. `probe` connects to a mail server as a Microsoft 365
//! connector would and returns a report. Only [`app`] knows the command line (clap) and
//! exit statuses.
//!
//! The binary is `app::run`. The stages the tests and fuzz targets drive directly (input,
//! extract, render, the catalog and its leaves) are public, and documented (a missing
//! doc comment fails the build); the rest is the crate's own.

#![deny(missing_docs)]

pub mod app;
pub mod catalog;
pub(crate) mod deliveries;
pub mod extract;
pub mod input;
pub(crate) mod pipeline;
pub(crate) mod policy;
pub(crate) mod probe;
pub(crate) mod re;
pub mod reasons;
pub(crate) mod redact;
pub mod render;
pub mod runbook;
pub mod sanitize;
pub(crate) mod time;

pub use app::{EXIT_ERROR, EXIT_FINDING, EXIT_OK, run};
