//! Any bytes as a layer blob (sniffed as gzip, zstd or tar): an error or changes, never a panic.
#![no_main]

use kasane_image::{BlobExpectation, NoProgress, ReadOptions, read_layer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = data;
    let _ = read_layer(&mut reader, &BlobExpectation::default(), ReadOptions::default(), &NoProgress);
});
