//! Dockerfile lint for kasane: BuildKit's build checks, hadolint's rules that still matter,
//! and the practices that keep images small and builds fast.
//!
//! - [`diagnostic`]: the one model every rule writes ([`Finding`]) and every renderer reads.
//! - [`registry`]: every rule's stable code, name, aliases and explanation.
//! - [`render`]: text (code frames), concise, JSON, SARIF 2.1.0, Checkstyle, GitLab Code
//!   Quality and GitHub Actions annotations.

pub mod config;
pub mod diagnostic;
mod engine;
mod model;
pub mod pragma;
pub mod registry;
pub mod render;
mod rules;

pub use diagnostic::{
    Applicability, Edit, FileReport, Finding, Fix, LineIndex, Location, Note, Position, Severity,
    Span,
};
pub use engine::{LintOptions, lint_bytes, lint_source};
pub use registry::Rule;
