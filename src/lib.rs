//! ndr-doctor: explains why a mail message was not delivered and what to do about it.
//!
//! Data flows one way: [`input`] reads and decodes bytes into log buffers, documents and
//! trace records; [`extract`] finds the status codes, failure words and their context in
//! them ([`pipeline`] runs it on every core, in input order); [`deliveries`] groups findings
//! into deliveries; [`render`] draws findings and reports in each format. [`catalog`] (the
//! codes, causes and fixes of `data/`), [`reasons`], [`runbook`] and [`sanitize`] are
//! leaves any stage may read. [`probe`] connects to a mail server as a Microsoft 365
//! connector would and returns a report. Only [`app`] knows the command line (clap) and
//! exit statuses.
//!
//! The binary is `app::run`; the library modules are public for the tests, the fuzz
//! targets and the benchmarks.

pub mod app;
pub mod catalog;
pub mod deliveries;
pub mod extract;
pub mod input;
pub mod pipeline;
pub mod policy;
pub mod probe;
pub mod re;
pub mod reasons;
pub mod redact;
pub mod render;
pub mod runbook;
pub mod sanitize;
pub mod time;

pub use app::{EXIT_ERROR, EXIT_FINDING, EXIT_OK, run};
