//! Dockerfile parser that reads every Dockerfile as BuildKit does, losslessly.

pub mod expand;
pub mod scope;
pub mod stage;
