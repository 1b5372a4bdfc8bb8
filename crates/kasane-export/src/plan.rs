//! What to write, decided before anything is written: the entries of the merged filesystem (or
//! of a layer range's changes), each in the order a writer needs, with every hostile construct
//! refused up front so that a refused image writes nothing at all.

use std::collections::{BTreeMap, HashMap};

use kasane_image::layer::LayerOddity;
use kasane_image::{Change, Fate, FileKind, FileMeta, Image, ImagePath, Layer, NodeId};
use kasane_image::{Occurrence, StackedTree};

use crate::error::ExportError;

/// Which part of an image to write.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The filesystem as it is after this layer (0 = the bottom one); `None` = the last layer.
    pub upto_layer: Option<usize>,
    /// Only this path and what lies below it, written relative to its parent directory (how the
    /// explorer extracts one file or directory). `None` = the whole filesystem.
    pub subtree: Option<ImagePath>,
}

/// One entry that needs no file contents, in path order.
#[derive(Debug, Clone)]
pub enum Item<'a> {
    /// A directory; `None` for directories no layer has an entry for (created as `0755 root`).
    Dir {
        /// Where it goes.
        path: ImagePath,
        /// Its metadata.
        meta: Option<&'a FileMeta>,
    },
    /// A symlink, device, FIFO (or a hard link's inode of that kind).
    Special {
        /// Where it goes.
        path: ImagePath,
        /// Its metadata.
        meta: &'a FileMeta,
    },
    /// A whiteout deleting `path` from the layers below (only in layer-range plans).
    Whiteout {
        /// The deleted path.
        path: ImagePath,
    },
}

impl Item<'_> {
    /// Where the entry goes.
    pub fn path(&self) -> &ImagePath {
        match self {
            Item::Dir { path, .. } | Item::Special { path, .. } | Item::Whiteout { path } => path,
        }
    }
}

/// A regular file whose bytes come from a layer blob.
#[derive(Debug, Clone)]
pub struct FileItem<'a> {
    /// Where it goes.
    pub path: ImagePath,
    /// Its entry index in the layer's changes.
    pub entry: usize,
    /// Its metadata.
    pub meta: &'a FileMeta,
}

/// A hard link to a path written earlier by the same plan.
#[derive(Debug, Clone)]
pub struct LinkItem<'a> {
    /// Where the link goes.
    pub path: ImagePath,
    /// The path it links to.
    pub target: ImagePath,
    /// The inode's metadata.
    pub meta: &'a FileMeta,
}

/// Everything to write, in writing order: `items` (directories first, parents before children),
/// then `files` layer by layer in tar order (so each blob is streamed once), then `links` (their
/// targets all exist by then).
#[derive(Debug, Default)]
pub struct Plan<'a> {
    /// Directories, symlinks, devices, FIFOs and whiteouts, sorted by path.
    pub items: Vec<Item<'a>>,
    /// Regular files by layer, sorted by entry index.
    pub files: BTreeMap<usize, Vec<FileItem<'a>>>,
    /// Hard links, sorted by path.
    pub links: Vec<LinkItem<'a>>,
    /// Entries of kinds that cannot be written (tar type flags kasane does not know), by path.
    pub unsupported: Vec<ImagePath>,
}

impl Plan<'_> {
    /// Number of entries the plan writes.
    pub fn len(&self) -> usize {
        self.items.len() + self.files.values().map(Vec::len).sum::<usize>() + self.links.len()
    }

    /// Whether the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of regular-file contents the plan writes.
    pub fn content_bytes(&self) -> u64 {
        self.files.values().flatten().map(|f| f.meta.size).sum()
    }
}

/// The merged filesystem after layer `selection.upto_layer` (whiteouts and opaque directories
/// applied), or one subtree of it. Refuses images whose layers hold entries that would be written
/// outside the root or through a symlink, and hard links whose target does not exist.
pub fn merged<'a>(image: &'a Image, selection: &Selection) -> Result<Plan<'a>, ExportError> {
    let upto = last_layer(image, selection.upto_layer)?;
    let layers = &image.layers[..=upto];
    check_layers(layers)?;
    let tree = StackedTree::build(layers);
    check_below_non_directories(&tree)?;
    let (include_root, out_base) = match &selection.subtree {
        None => (ImagePath::root(), ImagePath::root()),
        Some(p) => {
            let exists = tree
                .lookup(p)
                .is_some_and(|n| tree.is_visible(n) && reachable(&tree, n));
            if !exists || p.is_root() {
                return Err(ExportError::NoSuchPath {
                    path: p.to_string(),
                    layer: upto,
                });
            }
            (p.clone(), p.parent().unwrap_or_else(ImagePath::root))
        }
    };
    let out = |p: &ImagePath| relative_to(p, &out_base);
    let mut builder = PlanBuilder::default();
    let mut walk_error = None;
    tree.walk_merged(|node, path, meta| {
        if walk_error.is_some() || !path.starts_with(&include_root) {
            return;
        }
        let result = builder.add_visible(&tree, node, path, meta, &out);
        if let Err(e) = result {
            walk_error = Some(e);
        }
    });
    if let Some(e) = walk_error {
        return Err(e);
    }
    builder.finish(&tree)
}

/// The changes layers `from..=upto` make on top of the layers below `from`, as one layer: every
/// entry those layers leave visible (with its parent directories), explicit whiteouts for every
/// path of the lower layers they removed (opaque directories become whiteouts of each hidden
/// child), and the lower-layer targets of hard links copied up so the layer is self-contained.
pub fn layer_range<'a>(
    image: &'a Image,
    from: usize,
    upto: usize,
) -> Result<Plan<'a>, ExportError> {
    let upto = last_layer(image, Some(upto))?;
    if from > upto {
        return Err(ExportError::NoSuchLayer {
            layer: from,
            layers: upto + 1,
        });
    }
    let layers = &image.layers[..=upto];
    check_layers(layers)?;
    let tree = StackedTree::build(layers);
    check_below_non_directories(&tree)?;
    let mut builder = PlanBuilder::default();
    let identity = |p: &ImagePath| p.clone();
    let mut walk_error = None;
    let mut needed_dirs: Vec<ImagePath> = Vec::new();
    tree.walk_merged(|node, path, meta| {
        if walk_error.is_some() {
            return;
        }
        let from_range = tree
            .visible_entry(node)
            .is_some_and(|(occ, _)| occ.layer >= from);
        if !from_range {
            return;
        }
        if let Some(parent) = path.parent() {
            needed_dirs.push(parent);
        }
        if let Err(e) = builder.add_visible(&tree, node, path, meta, &identity) {
            walk_error = Some(e);
        }
    });
    if let Some(e) = walk_error {
        return Err(e);
    }
    // Hard links of the range whose inode lives in a lower layer: the engine copies the inode
    // up into the same layer (layers are applied one by one, a link cannot reach below), so the
    // squashed layer does too, and the names keep sharing one inode.
    for path in builder.copy_up_visible_sources(&tree) {
        if let Some(parent) = path.parent() {
            needed_dirs.push(parent);
        }
    }
    // Whiteouts: the highest paths present below `from` that are gone after `upto`.
    if from > 0 {
        let mut present = HashMap::new();
        let mut stack = vec![tree.root()];
        while let Some(node) = stack.pop() {
            for (_, child) in tree.children(node) {
                // Only directories are descended into, so visibility is reachability here.
                if !tree.is_visible(child) {
                    if present_at(&tree, child, from - 1, &mut present) {
                        let path = tree.path(child);
                        if let Some(parent) = path.parent() {
                            needed_dirs.push(parent);
                        }
                        builder.items.push(Item::Whiteout { path });
                    }
                    continue;
                }
                let is_dir = tree
                    .visible_entry(child)
                    .is_none_or(|(_, m)| m.kind == FileKind::Directory);
                if is_dir {
                    stack.push(child);
                }
            }
        }
    }
    // Parent directories of everything the layer holds, with their current metadata, as the
    // engine writes them into every layer.
    let mut seen: std::collections::HashSet<ImagePath> = builder
        .items
        .iter()
        .filter(|i| matches!(i, Item::Dir { .. }))
        .map(|i| i.path().clone())
        .collect();
    for dir in needed_dirs {
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.is_root() || !seen.insert(d.clone()) {
                break;
            }
            let meta = tree
                .lookup(&d)
                .and_then(|n| tree.visible_entry(n))
                .map(|(_, m)| m);
            cur = d.parent();
            builder.items.push(Item::Dir { path: d, meta });
        }
    }
    builder.finish(&tree)
}

fn last_layer(image: &Image, upto: Option<usize>) -> Result<usize, ExportError> {
    let count = image.layers.len();
    match upto {
        _ if count == 0 => Err(ExportError::NoLayers),
        None => Ok(count - 1),
        Some(n) if n < count => Ok(n),
        Some(n) => Err(ExportError::NoSuchLayer {
            layer: n,
            layers: count,
        }),
    }
}

fn relative_to(path: &ImagePath, base: &ImagePath) -> ImagePath {
    if base.is_root() {
        return path.clone();
    }
    let rest = &path.as_bytes()[base.as_bytes().len() + 1..];
    ImagePath::normalize(rest).map_or_else(|_| path.clone(), |(p, _)| p)
}

/// Whether the merged walk reaches `node` (no ancestor is a non-directory).
fn reachable(tree: &StackedTree<'_>, node: NodeId) -> bool {
    let mut cur = tree.parent(node);
    while let Some(n) = cur {
        if tree
            .visible_entry(n)
            .is_some_and(|(_, m)| m.kind != FileKind::Directory)
        {
            return false;
        }
        cur = tree.parent(n);
    }
    true
}

/// Whether `node` exists once layer `t` is applied: an entry of its own is alive, or (for
/// directories no layer names) something below it exists.
fn present_at(
    tree: &StackedTree<'_>,
    node: NodeId,
    t: usize,
    memo: &mut HashMap<NodeId, bool>,
) -> bool {
    if let Some(&known) = memo.get(&node) {
        return known;
    }
    let own = tree.occurrences(node).iter().any(|o| o.alive_after(t));
    let result = own
        || tree
            .children(node)
            .map(|(_, c)| c)
            .collect::<Vec<_>>()
            .into_iter()
            .any(|c| present_at(tree, c, t, memo));
    memo.insert(node, result);
    result
}

/// Refuses layers the reader had to work around in ways an export must not paper over.
fn check_layers(layers: &[Layer]) -> Result<(), ExportError> {
    for layer in layers {
        for w in &layer.changes.warnings {
            let what = match w.oddity {
                LayerOddity::EscapingPath => "climbs above the image root (`..`)",
                LayerOddity::AbsolutePath => "is an absolute path",
                LayerOddity::EscapingLinkTarget => {
                    "is a hard link whose target climbs above the image root"
                }
                LayerOddity::InvalidWhiteout | LayerOddity::DuplicatePath => continue,
            };
            return Err(ExportError::UnsafeEntry {
                layer: layer.index,
                name: w.example.clone(),
                what,
                count: w.count,
            });
        }
        for (i, entry) in layer.changes.entries.iter().enumerate() {
            if let Some(m) = entry.meta()
                && m.kind == FileKind::Hardlink
                && m.link_target.is_none()
            {
                return Err(ExportError::UnsafeEntry {
                    layer: layer.index,
                    name: format!("{} (entry {i})", entry.path),
                    what: "is a hard link without a target",
                    count: 1,
                });
            }
        }
    }
    Ok(())
}

/// Refuses entries that a runtime would write through a symlink (or into a regular file): an
/// entry of layer L below a non-directory that is alive when layer L is applied, or that comes
/// earlier in layer L's own tar.
fn check_below_non_directories(tree: &StackedTree<'_>) -> Result<(), ExportError> {
    // (node, ancestors' non-directory occurrences)
    let mut stack: Vec<(NodeId, Vec<(NodeId, Occurrence)>)> = vec![(tree.root(), Vec::new())];
    while let Some((node, ancestors)) = stack.pop() {
        for occ in tree.occurrences(node) {
            if tree.entry(occ).meta().is_none() {
                continue;
            }
            for (anc, k) in &ancestors {
                let shadows = (k.layer < occ.layer && k.alive_after(occ.layer))
                    || (k.layer == occ.layer && k.entry < occ.entry);
                if shadows {
                    let meta = tree.entry(k).meta().expect("non-directory additions only");
                    return Err(ExportError::BelowNonDirectory {
                        layer: occ.layer,
                        path: tree.path(node).to_string(),
                        ancestor: tree.path(*anc).to_string(),
                        ancestor_kind: describe_kind(meta),
                    });
                }
            }
        }
        let mut below = ancestors;
        for occ in tree.occurrences(node) {
            if let Change::Add(m) = &tree.entry(occ).change
                && m.kind != FileKind::Directory
            {
                below.push((node, *occ));
            }
        }
        for (_, child) in tree.children(node) {
            stack.push((child, below.clone()));
        }
    }
    Ok(())
}

fn describe_kind(meta: &FileMeta) -> String {
    match meta.kind {
        FileKind::Symlink => format!(
            "symlink to `{}`",
            String::from_utf8_lossy(meta.link_target.as_deref().unwrap_or_default())
        ),
        FileKind::Regular => "regular file".to_owned(),
        FileKind::Hardlink => "hard link".to_owned(),
        FileKind::CharDevice => "character device".to_owned(),
        FileKind::BlockDevice => "block device".to_owned(),
        FileKind::Fifo => "FIFO".to_owned(),
        _ => "non-directory".to_owned(),
    }
}

/// The entry a hard link of layer `link.layer` points to when that layer is applied: the last
/// earlier entry of the same layer at the target path, else the target's entry alive after the
/// layer below. Chains of hard links are followed to the inode's first entry.
fn link_source<'a>(
    tree: &StackedTree<'a>,
    link: &Occurrence,
    path: &ImagePath,
) -> Result<Occurrence, ExportError> {
    let mut link = *link;
    for _ in 0..64 {
        let meta = tree.entry(&link).meta().expect("hard links are additions");
        let target = ImagePath::normalize(meta.link_target.as_deref().unwrap_or_default())
            .map(|(p, _)| p)
            .unwrap_or_else(|_| ImagePath::root());
        let missing = || ExportError::HardLinkTargetMissing {
            layer: link.layer,
            path: path.to_string(),
            target: target.to_string(),
        };
        let node = tree.lookup(&target).ok_or_else(missing)?;
        let occs = tree.occurrences(node);
        let same_layer = occs
            .iter()
            .rev()
            .find(|o| o.layer == link.layer && o.entry < link.entry && o.fate != Fate::Marker);
        let found = match same_layer {
            Some(o) => Some(*o),
            None if link.layer == 0 => None,
            None => occs
                .iter()
                .rev()
                .find(|o| o.layer < link.layer && o.alive_after(link.layer - 1))
                .copied(),
        };
        let found = found.ok_or_else(missing)?;
        let found_meta = tree
            .entry(&found)
            .meta()
            .expect("alive entries are additions");
        match found_meta.kind {
            FileKind::Hardlink => link = found,
            FileKind::Directory => {
                return Err(ExportError::HardLinkToDirectory {
                    layer: link.layer,
                    path: path.to_string(),
                    target: target.to_string(),
                });
            }
            _ => return Ok(found),
        }
    }
    Err(ExportError::HardLinkTargetMissing {
        layer: link.layer,
        path: path.to_string(),
        target: "(a chain of more than 64 hard links)".to_owned(),
    })
}

/// An inode with several names: its first entry and every visible name that is a hard link to it.
#[derive(Debug)]
struct LinkGroup {
    source: Occurrence,
    source_visible: bool,
    names: Vec<ImagePath>,
}

#[derive(Debug, Default)]
struct PlanBuilder<'a> {
    items: Vec<Item<'a>>,
    groups: Vec<LinkGroup>,
    group_of: HashMap<(usize, usize), usize>,
    unsupported: Vec<ImagePath>,
}

impl<'a> PlanBuilder<'a> {
    fn group(&mut self, source: Occurrence) -> &mut LinkGroup {
        let key = (source.layer, source.entry);
        let next = self.groups.len();
        let index = *self.group_of.entry(key).or_insert(next);
        if index == next {
            self.groups.push(LinkGroup {
                source,
                source_visible: false,
                names: Vec::new(),
            });
        }
        &mut self.groups[index]
    }

    fn add_visible(
        &mut self,
        tree: &StackedTree<'a>,
        node: NodeId,
        path: &ImagePath,
        meta: Option<&'a FileMeta>,
        out: &dyn Fn(&ImagePath) -> ImagePath,
    ) -> Result<(), ExportError> {
        let Some(meta) = meta else {
            self.items.push(Item::Dir {
                path: out(path),
                meta: None,
            });
            return Ok(());
        };
        let (occ, _) = tree
            .visible_entry(node)
            .expect("meta comes from the visible entry");
        match meta.kind {
            FileKind::Directory => self.items.push(Item::Dir {
                path: out(path),
                meta: Some(meta),
            }),
            FileKind::Regular
            | FileKind::Symlink
            | FileKind::CharDevice
            | FileKind::BlockDevice
            | FileKind::Fifo => {
                let occ = *occ;
                let group = self.group(occ);
                group.source_visible = true;
                group.names.insert(0, out(path));
            }
            FileKind::Hardlink => {
                let occ = *occ;
                let source = link_source(tree, &occ, path)?;
                self.group(source).names.push(out(path));
            }
            FileKind::Other => self.unsupported.push(out(path)),
        }
        Ok(())
    }

    /// Makes every link group whose inode is still visible at its own path (but was not planned,
    /// being in a lower layer) carry that path too; returns those paths.
    fn copy_up_visible_sources(&mut self, tree: &StackedTree<'a>) -> Vec<ImagePath> {
        let mut added = Vec::new();
        for group in &mut self.groups {
            if !group.source_visible && group.source.fate == Fate::Visible {
                let path = tree.entry(&group.source).path.clone();
                group.source_visible = true;
                group.names.insert(0, path.clone());
                added.push(path);
            }
        }
        added
    }

    fn finish(mut self, tree: &StackedTree<'a>) -> Result<Plan<'a>, ExportError> {
        let mut files: BTreeMap<usize, Vec<FileItem<'a>>> = BTreeMap::new();
        let mut links = Vec::new();
        for group in self.groups {
            let meta = tree
                .entry(&group.source)
                .meta()
                .expect("link sources are additions");
            let mut names = group.names;
            // The inode's own name first when it is still visible; otherwise the smallest of
            // its remaining names carries the content and the others link to it.
            if !group.source_visible {
                names.sort();
            }
            let Some((primary, others)) = names.split_first() else {
                continue;
            };
            if meta.kind == FileKind::Regular {
                files.entry(group.source.layer).or_default().push(FileItem {
                    path: primary.clone(),
                    entry: group.source.entry,
                    meta,
                });
            } else {
                self.items.push(Item::Special {
                    path: primary.clone(),
                    meta,
                });
            }
            for other in others {
                links.push(LinkItem {
                    path: other.clone(),
                    target: primary.clone(),
                    meta,
                });
            }
        }
        for list in files.values_mut() {
            list.sort_by_key(|f| f.entry);
        }
        self.items.sort_by(|a, b| a.path().cmp(b.path()));
        self.items.dedup_by(|a, b| a.path() == b.path());
        links.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Plan {
            items: self.items,
            files,
            links,
            unsupported: self.unsupported,
        })
    }
}
