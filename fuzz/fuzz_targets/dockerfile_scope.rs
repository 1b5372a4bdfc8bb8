//! Any Dockerfile that parses, resolved for ARG/ENV scoping and expansion: never a panic.
#![no_main]

use kasane_dockerfile::scope::{BuildArgs, resolve};
use kasane_dockerfile::{ParseOptions, parse_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(dockerfile) = parse_with(text, ParseOptions::default()) else { return };
    let resolved = resolve(&dockerfile, &BuildArgs::new().arg("A", "1").target("b"));
    // Touch every result so nothing is optimised away.
    let _ = resolved.stages.iter().map(|s| s.instructions.len() + s.triggers.len()).sum::<usize>();
});
