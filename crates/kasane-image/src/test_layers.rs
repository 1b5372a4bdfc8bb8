//! Random layer stacks for the property tests of the tries: few names, so that paths collide
//! across layers, with dive's awkward ones (`.wh.` directory names, whiteouts of `.wh.` names,
//! names that sort before and after `.wh.`).

use proptest::prelude::*;

use crate::compression::Compression;
use crate::digest::Digest;
use crate::image::Layer;
use crate::layer::{Change, ContentHash, Entry, FileKind, FileMeta, LayerChanges};
use crate::path::ImagePath;
use crate::source::LayerBlob;

/// A layer at `index` holding `entries` (its size is the Σ of their sizes, as a tar's would be).
pub(crate) fn layer(index: usize, entries: Vec<Entry>) -> Layer {
    let size = entries
        .iter()
        .filter_map(|e| e.meta())
        .map(|m| m.size)
        .sum();
    Layer {
        index,
        blob: LayerBlob {
            location: format!("layer{index}"),
            digest: None,
            media_type: None,
            size: None,
        },
        diff_id: None,
        history: None,
        instruction: None,
        changes: LayerChanges {
            entries,
            size,
            tar_bytes: 0,
            stored_bytes: 0,
            compression: Compression::None,
            blob_digest: Digest::sha256_of(b""),
            diff_id: None,
            warnings: Vec::new(),
        },
    }
}

fn path(components: &[&str]) -> ImagePath {
    ImagePath::normalize(components.join("/").as_bytes())
        .expect("clean names")
        .0
}

fn meta(kind: FileKind, size: u64, content: u8) -> FileMeta {
    FileMeta {
        kind,
        typeflag: b'0',
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        link_target: None,
        device: None,
        xattrs: Box::default(),
        content: (kind == FileKind::Regular).then_some(ContentHash(u128::from(content))),
    }
}

fn entry() -> impl Strategy<Value = Entry> {
    let dir = prop::collection::vec(
        prop::sample::select(vec!["a", "b", ".wh.a", ".wh..wh..x", "-a", ".x"]),
        0..3,
    );
    // A tar name's last component never starts with `.wh.` unless it is a whiteout.
    let name = prop::sample::select(vec!["a", "b", "c", "-a", ".x"]);
    let target = prop::sample::select(vec!["a", "b", "-a", ".x", ".wh.a", ".wh..x"]);
    let kind = prop::sample::select(vec![
        FileKind::Regular,
        FileKind::Regular,
        FileKind::Directory,
        FileKind::Directory,
        FileKind::Symlink,
    ]);
    prop_oneof![
        4 => (dir.clone(), name, kind, 0u64..4, 0u8..2).prop_map(|(mut d, n, k, size, content)| {
            d.push(n);
            let size = if k == FileKind::Regular { size } else { 0 };
            Entry { path: path(&d), change: Change::Add(meta(k, size, content)) }
        }),
        1 => (dir.clone(), target).prop_map(|(mut d, t)| {
            d.push(t);
            Entry { path: path(&d), change: Change::Whiteout }
        }),
        1 => dir.prop_map(|d| Entry { path: path(&d), change: Change::Opaque }),
    ]
}

/// One to four layers of up to twelve entries each.
pub(crate) fn layers() -> impl Strategy<Value = Vec<Layer>> {
    prop::collection::vec(prop::collection::vec(entry(), 0..12), 1..5).prop_map(|ls| {
        ls.into_iter()
            .enumerate()
            .map(|(i, entries)| layer(i, entries))
            .collect()
    })
}
