//! Any bytes as what a registry serves: a `Content-Type` line, then the tag's document (index or
//! manifest), then further blobs separated by two NUL bytes, served by their sha256. Media type
//! detection, index walking, platform choice, manifest and config parsing must return an error
//! or an image, never panic. The first line also goes through the reference, challenge and token
//! parsers.
#![no_main]

use std::collections::HashMap;

use kasane_image::source::oci::BlobFetcher;
use kasane_image::spec::Descriptor;
use kasane_image::{Digest, Error, Platform, Selector};
use kasane_remote::registry::{FetchedManifest, manifest_media_type};
use libfuzzer_sys::fuzz_target;

struct Blobs(HashMap<Digest, Vec<u8>>);

impl BlobFetcher for Blobs {
    fn fetch(&self, d: &Descriptor) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.0.get(&d.digest).cloned())
    }
    fn source_name(&self) -> String {
        "fuzz".to_owned()
    }
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 {
            out.push(&data[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    out.push(&data[start.min(data.len())..]);
    out
}

fuzz_target!(|data: &[u8]| {
    let pieces = split(data);
    let first = pieces[0];
    let (line, top) = match first.iter().position(|&b| b == b'\n') {
        Some(i) => (&first[..i], &first[i + 1..]),
        None => (first, &[][..]),
    };
    let line = String::from_utf8_lossy(line);
    let _ = kasane_remote::Reference::parse(&line);
    let _ = kasane_remote::auth::parse_challenge(&line);
    let _ = kasane_remote::auth::parse_token(top);
    let Some(media_type) = manifest_media_type(top, Some(&line)) else { return };
    let fetched = FetchedManifest { bytes: top.to_vec(), media_type, digest: Digest::sha256_of(top) };
    let blobs = Blobs(pieces[1..].iter().map(|p| (Digest::sha256_of(p), p.to_vec())).collect());
    for platform in [None, Platform::parse("linux/arm64/v8")] {
        let selector = Selector { tag: None, platform };
        let _ = kasane_remote::resolve_top(&fetched, &selector, &blobs);
    }
});
