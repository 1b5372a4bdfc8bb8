//! Whiteouts, opaque directories, overwrites and duplicates: the merged tree, each cause of waste,
//! and dive's score, on images the tests write.

mod image_builder;

use image_builder::*;
use kasane_image::{
    AnalysisOptions, Fate, ImagePath, ImageReadOptions, NoProgress, Selector, StackedTree, analyze,
    read_image, source,
};

fn image(layers: Vec<Vec<u8>>) -> kasane_image::Image {
    let dir = tempfile::tempdir().unwrap();
    let img = TestImage::new(
        layers
            .into_iter()
            .enumerate()
            .map(|(i, t)| TestLayer::new(t, Comp::Gzip, &format!("RUN step {i}")))
            .collect(),
    );
    oci_layout(&[("latest", &img)]).write_dir(dir.path());
    let (src, _) = source::open(dir.path().to_str().unwrap()).unwrap();
    read_image(
        src.as_ref(),
        &Selector::default(),
        ImageReadOptions::default(),
        &NoProgress,
    )
    .unwrap()
}

fn p(s: &str) -> ImagePath {
    ImagePath::normalize(s.as_bytes()).unwrap().0
}

fn merged(tree: &StackedTree<'_>) -> Vec<String> {
    let mut v = Vec::new();
    tree.walk_merged(|_, path, _| v.push(path.to_string()));
    v
}

fn fate(tree: &StackedTree<'_>, path: &str, layer: usize) -> Fate {
    let id = tree
        .lookup(&p(path))
        .unwrap_or_else(|| panic!("{path} not in tree"));
    tree.occurrences(id)
        .iter()
        .find(|o| o.layer == layer)
        .unwrap()
        .fate
}

#[test]
fn file_and_directory_whiteouts() {
    let img = image(vec![
        LayerTar::new()
            .dir("a/")
            .file("a/keep", &[1; 10])
            .file("a/gone", &[2; 20])
            .dir("d/")
            .dir("d/sub/")
            .file("d/sub/x", &[3; 30])
            .file("d/y", &[4; 40])
            .finish(),
        LayerTar::new()
            .dir("a/")
            .whiteout("a/gone")
            .whiteout("d")
            .finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    assert_eq!(merged(&tree), ["/a", "/a/keep"]);
    assert_eq!(fate(&tree, "/a/gone", 0), Fate::Deleted { by: 1 });
    assert_eq!(fate(&tree, "/d/sub/x", 0), Fate::Deleted { by: 1 });
    assert!(!tree.is_visible(tree.lookup(&p("/d")).unwrap()));
    let a = analyze(&img, AnalysisOptions::default());
    assert_eq!((a.waste.deleted.bytes, a.waste.deleted.files), (90, 3));
    assert_eq!(a.waste.reclaimable_bytes, 90);
    assert_eq!(a.layers[0].wasted_bytes, 90);
    // dive: the deleted file costs its size, the deleted directory is charged to /d once
    // (numerator and denominator alike), its children count once each: no waste there.
    // paths: a(0,0) a/keep 10, a/gone 20+0 (min 0), d 70(min 70), d/sub/x 30, d/y 40 ... leaves only.
    let dive = &a.dive;
    let cum = 10 + 20 + 30 + 40 + 70;
    let min = 10 + 30 + 40 + 70;
    assert!(
        (a.efficiency - min as f64 / cum as f64).abs() < 1e-12,
        "{}",
        a.efficiency
    );
    assert_eq!(dive.wasted_bytes, 20 /* /a/gone */);
    assert_eq!(a.merge_savings[0].bytes, 90);
    assert!(a.merge_savings[0].adjacent);
}

#[test]
fn opaque_directory_hides_lower_children_and_keeps_its_own() {
    let img = image(vec![
        LayerTar::new()
            .dir("etc/")
            .dir("etc/conf/")
            .file("etc/conf/old", &[1; 100])
            .finish(),
        // Deleted and recreated in one step: overlay2 writes an opaque marker.
        LayerTar::new()
            .dir("etc/conf/")
            .opaque("etc/conf")
            .file("etc/conf/new", &[2; 5])
            .finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    assert_eq!(merged(&tree), ["/etc", "/etc/conf", "/etc/conf/new"]);
    assert_eq!(fate(&tree, "/etc/conf/old", 0), Fate::Deleted { by: 1 });
    assert_eq!(fate(&tree, "/etc/conf/new", 1), Fate::Visible);
    let a = analyze(&img, AnalysisOptions::default());
    assert_eq!(a.waste.deleted.bytes, 100);
    // dive ignores opaque markers: for dive nothing was deleted.
    assert_eq!(a.dive.wasted_bytes, 0);
    assert_eq!(a.efficiency, 1.0);
}

#[test]
fn opaque_marker_without_a_directory_entry_keeps_the_lower_directory() {
    // The upper layer has only the marker and a new child, no entry for the directory itself.
    let img = image(vec![
        LayerTar::new()
            .dir("etc/")
            .file("etc/old", &[1; 6])
            .finish(),
        LayerTar::new().opaque("etc").file("etc/new", b"n").finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    assert_eq!(merged(&tree), ["/etc", "/etc/new"]);
    assert_eq!(fate(&tree, "/etc", 0), Fate::Visible);
    assert_eq!(fate(&tree, "/etc/old", 0), Fate::Deleted { by: 1 });
}

#[test]
fn opaque_marker_placed_after_siblings_still_applies_first() {
    let img = image(vec![
        LayerTar::new().file("c/lower", &[1; 3]).finish(),
        LayerTar::new()
            .file("c/upper", &[2; 4])
            .opaque("c")
            .finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    assert_eq!(merged(&tree), ["/c", "/c/upper"]);
}

#[test]
fn deleted_then_recreated_and_whiteout_of_missing_path() {
    let img = image(vec![
        LayerTar::new().file("f", &[1; 8]).finish(),
        LayerTar::new()
            .whiteout("f")
            .whiteout("never-existed")
            .file("g", b"g")
            .finish(),
        LayerTar::new().file("f", &[9; 3]).finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    assert_eq!(merged(&tree), ["/f", "/g"]);
    assert_eq!(fate(&tree, "/f", 0), Fate::Deleted { by: 1 });
    assert_eq!(fate(&tree, "/f", 2), Fate::Visible);
    assert_eq!(tree.stray_whiteouts().len(), 1);
    let a = analyze(&img, AnalysisOptions::default());
    assert_eq!(a.waste.deleted.bytes, 8);
    assert!(
        a.warnings
            .iter()
            .any(|w| w.layer == Some(1) && w.message.contains("/never-existed")),
        "{:?}",
        a.warnings
    );
    // dive stops layer 1 at the stray whiteout (visited in name order: `.wh.f`, `.wh.never-existed`
    // and then `g` is never reached).
    let f_cum = 8 + 3; // layer 1 charges the deleted file 0
    let (min, cum) = (0, f_cum);
    assert!(
        (a.efficiency - min as f64 / cum as f64).abs() < 1e-12,
        "{}",
        a.efficiency
    );
}

#[test]
fn overwritten_metadata_only_and_duplicates() {
    let big = vec![5u8; 1000];
    let img = image(vec![
        LayerTar::new()
            .file("app/lib.so", &big)
            .file("app/conf", b"v1")
            .finish(),
        LayerTar::new()
            .file_with("app/lib.so", &big, 0o755, 0, 0) // chmod: same bytes copied again
            .file("app/conf", b"v2") // edited
            .file("opt/lib-copy.so", &big) // cp to another path
            .finish(),
    ]);
    let a = analyze(&img, AnalysisOptions::default());
    assert_eq!(
        (a.waste.metadata_only.bytes, a.waste.metadata_only.files),
        (1000, 1)
    );
    assert_eq!(
        (a.waste.overwritten.bytes, a.waste.overwritten.files),
        (2, 1)
    );
    assert_eq!(
        (a.waste.duplicate.bytes, a.waste.duplicate.files),
        (1000, 1)
    );
    assert_eq!(a.waste.reclaimable_bytes, 2002);
    assert_eq!(a.duplicates[0].files.len(), 2);
    // dive counts both copies of lib.so and conf as waste; its score keeps the smaller copy.
    assert_eq!(a.dive.wasted_bytes, 2000 + 4);
    let cum = 2000 + 4 + 1000;
    let min = 1000 + 2 + 1000;
    assert!((a.efficiency - min as f64 / cum as f64).abs() < 1e-12);
}

#[test]
fn hard_links_count_once_and_keep_deleted_names_alive() {
    let img = image(vec![
        LayerTar::new()
            .file("bin/a", &[1; 500])
            .hardlink("bin/b", "bin/a")
            .finish(),
        LayerTar::new().whiteout("bin/a").finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    assert_eq!(merged(&tree), ["/bin", "/bin/b"]);
    let a = analyze(&img, AnalysisOptions::default());
    assert_eq!(
        a.waste.reclaimable_bytes, 0,
        "the inode lives on through bin/b"
    );
    assert_eq!(a.waste.duplicate.bytes, 0);
}

#[test]
fn a_file_replacing_a_directory_deletes_its_children() {
    let img = image(vec![
        LayerTar::new().dir("x/").file("x/inner", &[1; 7]).finish(),
        LayerTar::new().file("x", b"now a file").finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    assert_eq!(merged(&tree), ["/x"]);
    assert_eq!(fate(&tree, "/x/inner", 0), Fate::Deleted { by: 1 });
}

#[test]
fn duplicate_paths_in_one_layer_last_wins() {
    let img = image(vec![
        LayerTar::new()
            .file("dup", &[1; 4])
            .file("dup", &[2; 6])
            .finish(),
    ]);
    let tree = StackedTree::build(&img.layers);
    let id = tree.lookup(&p("/dup")).unwrap();
    assert_eq!(tree.visible_entry(id).unwrap().1.size, 6);
    let a = analyze(&img, AnalysisOptions::default());
    assert_eq!(a.waste.overwritten.bytes, 4);
    assert!(
        a.warnings
            .iter()
            .any(|w| w.message.contains("appear twice"))
    );
}
