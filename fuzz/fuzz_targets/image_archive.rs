//! Any bytes as an image archive: reading and analysing must return an error or a result, never
//! panic or hang.
#![no_main]

use kasane_image::{AnalysisOptions, ImageReadOptions, NoProgress, Selector, analyze, read_image, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, data).unwrap();
    let Ok((src, tag)) = source::open(path.to_str().unwrap()) else { return };
    let selector = Selector { tag, platform: None };
    if let Ok(image) = read_image(src.as_ref(), &selector, ImageReadOptions::default(), &NoProgress) {
        let _ = analyze(&image, AnalysisOptions::default());
    }
});
