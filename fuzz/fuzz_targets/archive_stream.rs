//! Any bytes as an image archive read from a stream in one pass (the Docker engine's export):
//! an image or an error, never a panic or a hang.
#![no_main]

use kasane_image::source::read_archive_stream;
use kasane_image::{ImageReadOptions, NoProgress, Selector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_archive_stream(data, "fuzz", &Selector::default(), ImageReadOptions::default(), &NoProgress);
});
