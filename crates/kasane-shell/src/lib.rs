//! Reads the shell commands of a Dockerfile RUN the way a linter needs them: words with
//! quotes removed, operators (`&&`, `||`, `;`, `|`), nesting, and the invocations of package
//! managers and file tools, each word mapped back to its exact bytes in the Dockerfile.
//!
//! - [`ShellText`]: the logical text a shell sees (continuation lines joined as BuildKit joins
//!   them) with a map back to file offsets.
//! - [`parse`] gives a [`Script`] of [`Command`]s; it never fails.
//! - [`package`] recognises apt-get, apt, apk, dnf, yum, microdnf, zypper, pip, npm, yarn,
//!   pnpm, gem, go and friends; [`files`] reads what curl, wget, rm, chmod, chown, cd, mkdir and
//!   export do.

pub mod files;
pub mod package;
mod script;
mod source;

pub use script::{
    Command, Connector, Redirect, Script, Word, base_name, is_assignment, parse, quotes_balanced,
};
pub use source::ShellText;
