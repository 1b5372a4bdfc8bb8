//! `Occurrence::alive_after`: one tree over every layer answers which entry is live in the
//! filesystem after any layer.

mod image_builder;

use image_builder::*;
use kasane_image::{ImagePath, StackedTree};

#[test]
fn each_entry_is_alive_from_its_layer_until_replaced_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (_, image) = layout_image(
        vec![
            LayerTar::new().dir("d/").file("d/f", b"one").finish(),
            LayerTar::new().file("d/f", b"two").finish(),
            LayerTar::new().whiteout("d").finish(),
            LayerTar::new().dir("d/").file("d/f", b"four").finish(),
        ],
        dir.path(),
    );
    let tree = StackedTree::build(&image.layers);
    let f = tree
        .lookup(&ImagePath::normalize(b"d/f").unwrap().0)
        .unwrap();
    let alive = |t: usize| -> Vec<usize> {
        tree.occurrences(f)
            .iter()
            .filter(|o| o.alive_after(t))
            .map(|o| o.layer)
            .collect()
    };
    assert_eq!(alive(0), vec![0]);
    assert_eq!(alive(1), vec![1]);
    assert_eq!(alive(2), Vec::<usize>::new(), "deleted with its directory");
    assert_eq!(alive(3), vec![3]);
    let d = tree.lookup(&ImagePath::normalize(b"d").unwrap().0).unwrap();
    let markers: Vec<bool> = tree
        .occurrences(d)
        .iter()
        .map(|o| o.alive_after(3))
        .collect();
    assert_eq!(
        markers,
        vec![false, false, true],
        "the whiteout itself is never alive"
    );
}
