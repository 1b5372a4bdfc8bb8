//! Any bytes as two layer blobs (split at a position the first two bytes choose): planning and
//! writing the merged filesystem (to a directory and a tar) and a squash either refuse with an
//! error or succeed, never panic, and never create anything outside the target directory.
#![no_main]

use std::io::{Cursor, Read};

use kasane_export::{DirSink, Selection, TarSink, TargetPolicy, plan, write_plan};
use kasane_image::source::{ImageFormat, LayerBlob, ResolvedImage, Selector, Source};
use kasane_image::{Error, ImageReadOptions, NoProgress, read_image};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
struct Blobs(Vec<Vec<u8>>);

impl Source for Blobs {
    fn describe(&self) -> String {
        "fuzz".to_owned()
    }
    fn resolve(&self, _: &Selector) -> Result<ResolvedImage, Error> {
        Ok(ResolvedImage {
            name: None,
            format: ImageFormat::Other("fuzz".to_owned()),
            manifest_digest: None,
            config_digest: None,
            config: Default::default(),
            layers: (0..self.0.len())
                .map(|i| LayerBlob {
                    location: i.to_string(),
                    digest: None,
                    media_type: None,
                    size: None,
                })
                .collect(),
            notes: Vec::new(),
        })
    }
    fn open_blob(&self, blob: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, Error> {
        let i: usize = blob.location.parse().map_err(|_| Error::Invalid("blob".into()))?;
        Ok(Box::new(Cursor::new(&self.0[i][..])))
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let split = (usize::from(data[0]) << 8 | usize::from(data[1])).min(data.len() - 2);
    let rest = &data[2..];
    let source = Blobs(vec![rest[..split].to_vec(), rest[split..].to_vec()]);
    let Ok(image) = read_image(&source, &Selector::default(), ImageReadOptions::default(), &NoProgress) else {
        return;
    };
    let sandbox = tempfile::tempdir().unwrap();
    let target = sandbox.path().join("out");
    std::fs::create_dir(sandbox.path().join("outside")).unwrap();
    if let Ok(plan) = plan::merged(&image, &Selection::default()) {
        if let Ok(mut sink) = DirSink::create(&target, TargetPolicy::Empty, false) {
            let _ = write_plan(&source, &image, &plan, &mut sink);
        }
        let mut tar = TarSink::new(Vec::new());
        let _ = write_plan(&source, &image, &plan, &mut tar);
    }
    let mut names: Vec<_> = std::fs::read_dir(sandbox.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() <= 2, "something was created outside the target: {names:?}");
    assert_eq!(std::fs::read_dir(sandbox.path().join("outside")).unwrap().count(), 0);
    if let Ok(mut scratch) = tempfile::tempfile() {
        let options = kasane_squash::SquashOptions {
            from_layer: 1,
            tag: None,
            created_by: "fuzz".to_owned(),
        };
        let _ = kasane_squash::squash(&source, &image, &options, &mut scratch, Vec::new());
    }
});
