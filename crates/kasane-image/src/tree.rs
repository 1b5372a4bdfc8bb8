//! Every layer's changes on one path trie: what became of each entry (still visible, overwritten,
//! deleted) and the merged filesystem with whiteouts applied, as the OCI layer spec defines it.

use crate::image::Layer;
use crate::layer::{Change, Entry, FileKind, FileMeta};
use crate::path::ImagePath;
use crate::trie::{Groups, PathCursor, ROOT};

/// A node of the trie (a path that some layer mentions, or a parent of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

/// What became of one layer entry once all layers are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "fate", rename_all = "snake_case")]
pub enum Fate {
    /// In the merged filesystem.
    Visible,
    /// Replaced by a different file at the same path in layer `by`.
    Overwritten {
        /// The layer that replaced it.
        by: usize,
    },
    /// Replaced by the same content with different metadata (chmod, chown, touch) in layer `by`.
    MetadataOnly {
        /// The layer that replaced it.
        by: usize,
    },
    /// Removed by a whiteout, an opaque directory or a file replacing a parent directory in layer
    /// `by`.
    Deleted {
        /// The layer that removed it.
        by: usize,
    },
    /// A whiteout or opaque marker: it only acts on lower layers.
    Marker,
}

impl Fate {
    /// The layer that shadowed this entry, if any.
    pub fn by(self) -> Option<usize> {
        match self {
            Fate::Overwritten { by } | Fate::MetadataOnly { by } | Fate::Deleted { by } => Some(by),
            Fate::Visible | Fate::Marker => None,
        }
    }
}

/// One layer's entry at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// The layer.
    pub layer: usize,
    /// The entry's index in that layer's [`crate::LayerChanges::entries`].
    pub entry: usize,
    /// What became of it.
    pub fate: Fate,
}

impl Occurrence {
    /// Whether this entry is the live one at its path in the filesystem after layer `t`: its
    /// layer is at or below `t` and nothing up to `t` replaced or deleted it (its fate names a
    /// later layer, or none). Whiteout and opaque markers are never live. With this, one tree over
    /// all layers answers for the filesystem after any layer (viewers, squash).
    pub fn alive_after(&self, t: usize) -> bool {
        self.layer <= t
            && match self.fate {
                Fate::Visible => true,
                Fate::Marker => false,
                other => other.by().is_some_and(|by| by > t),
            }
    }
}

/// A node of the trie; its name borrows from a layer entry's path.
#[derive(Debug)]
struct Node<'a> {
    name: &'a [u8],
    parent: u32,
    visible: bool,
}

/// A whiteout that deleted nothing (it names a path no lower layer has).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StrayWhiteout {
    /// The layer holding it.
    pub layer: usize,
    /// The path it names.
    pub path: ImagePath,
}

/// All layers of an image on one trie. Built once; answers per-entry fates and the merged tree.
#[derive(Debug)]
pub struct StackedTree<'a> {
    layers: &'a [Layer],
    nodes: Vec<Node<'a>>,
    /// Children of each node, sorted by name.
    children: Groups,
    /// Each node's occurrences: `occurrences[occurrence_groups.range(node)]`.
    occurrence_groups: Groups,
    occurrences: Vec<Occurrence>,
    stray_whiteouts: Vec<StrayWhiteout>,
}

#[derive(Clone, Copy)]
struct Kill {
    layer: usize,
    source: u32,
}

impl<'a> StackedTree<'a> {
    /// Applies `layers` bottom to top.
    pub fn build(layers: &'a [Layer]) -> StackedTree<'a> {
        let total: usize = layers.iter().map(|l| l.changes.entries.len()).sum();
        let mut nodes = vec![Node {
            name: b"",
            parent: ROOT,
            visible: true,
        }];
        let mut index: foldhash::HashMap<(u32, &'a [u8]), u32> =
            foldhash::HashMap::with_capacity_and_hasher(total, Default::default());
        let mut cursor = PathCursor::default();
        // Every entry's node and occurrence, in layer and tar order.
        let mut at: Vec<(u32, Occurrence)> = Vec::with_capacity(total);
        for layer in layers {
            for (e, entry) in layer.changes.entries.iter().enumerate() {
                let reach = cursor.walk(entry.path.as_bytes(), |parent, name| {
                    let next = u32::try_from(nodes.len()).expect("fewer than 4 billion paths");
                    let id = *index.entry((parent, name)).or_insert(next);
                    if id == next {
                        nodes.push(Node {
                            name,
                            parent,
                            visible: false,
                        });
                    }
                    Some(id)
                });
                let fate = match entry.change {
                    Change::Add(_) => Fate::Visible,
                    _ => Fate::Marker,
                };
                at.push((
                    reach.node,
                    Occurrence {
                        layer: layer.index,
                        entry: e,
                        fate,
                    },
                ));
            }
        }
        drop(index);
        let n = nodes.len();
        let mut children = Groups::new(
            n,
            nodes
                .iter()
                .enumerate()
                .skip(1)
                .map(|(id, node)| (node.parent, id as u32)),
        );
        children.sort_each_by(|a, b| nodes[a as usize].name.cmp(nodes[b as usize].name));
        let occurrence_groups = Groups::new(
            n,
            at.iter()
                .enumerate()
                .map(|(i, (node, _))| (*node, i as u32)),
        );
        let occurrences = occurrence_groups
            .items()
            .iter()
            .map(|&i| at[i as usize].1)
            .collect();
        let mut tree = StackedTree {
            layers,
            nodes,
            children,
            occurrence_groups,
            occurrences,
            stray_whiteouts: Vec::new(),
        };
        tree.compute_fates();
        tree.compute_visibility();
        tree
    }

    /// The entry an occurrence refers to.
    pub fn entry(&self, occ: &Occurrence) -> &'a Entry {
        &self.layers[occ.layer].changes.entries[occ.entry]
    }

    fn meta(&self, occ: &Occurrence) -> Option<&'a FileMeta> {
        self.entry(occ).meta()
    }

    fn own_occurrences(&self, id: u32) -> &[Occurrence] {
        &self.occurrences[self.occurrence_groups.range(id)]
    }

    fn compute_fates(&mut self) {
        // (node, layer) of the whiteouts, opaque markers and files that deleted something.
        let mut deleted: foldhash::HashSet<(u32, usize)> = foldhash::HashSet::default();
        // Iterative DFS (paths can be deep); `kills` holds ancestors' kill events.
        let mut kills: Vec<Kill> = Vec::new();
        let mut stack: Vec<(u32, usize)> = vec![(ROOT, 0)]; // (node, kills length to restore)
        let mut fates = Vec::new();
        while let Some((id, restore)) = stack.pop() {
            kills.truncate(restore);
            let occs = self.own_occurrences(id);
            fates.clear();
            for (k, o) in occs.iter().enumerate() {
                if o.fate == Fate::Marker {
                    fates.push(Fate::Marker);
                    continue;
                }
                // The next own change that replaces or deletes this entry: a later layer's entry or
                // whiteout, or a later entry of the same layer (duplicate path in one tar).
                // An opaque marker at this node hides its children, not the node itself.
                let own = occs[k + 1..]
                    .iter()
                    .find(|n2| match &self.entry(n2).change {
                        Change::Opaque => false,
                        Change::Whiteout => n2.layer > o.layer,
                        Change::Add(_) => n2.layer >= o.layer,
                    });
                let ancestor = kills
                    .iter()
                    .filter(|kl| kl.layer > o.layer)
                    .min_by_key(|kl| kl.layer)
                    .copied();
                let fate = match (own, ancestor) {
                    (Some(own), anc) if anc.is_none_or(|a| own.layer <= a.layer) => {
                        match &self.entry(own).change {
                            Change::Add(newer) => {
                                let older = self.meta(o).expect("additions have metadata");
                                if older.same_content(newer) {
                                    Fate::MetadataOnly { by: own.layer }
                                } else {
                                    Fate::Overwritten { by: own.layer }
                                }
                            }
                            Change::Whiteout => {
                                deleted.insert((id, own.layer));
                                Fate::Deleted { by: own.layer }
                            }
                            Change::Opaque => Fate::Visible, // excluded by the search above
                        }
                    }
                    (_, Some(a)) => {
                        deleted.insert((a.source, a.layer));
                        Fate::Deleted { by: a.layer }
                    }
                    (None, None) => Fate::Visible,
                    (Some(_), None) => unreachable!("handled by the first arm"),
                };
                fates.push(fate);
            }
            // Kills this node's own occurrences place on its descendants.
            kills.extend(
                occs.iter()
                    .filter(|o| match &self.entry(o).change {
                        Change::Whiteout | Change::Opaque => true,
                        Change::Add(m) => !m.is_dir(),
                    })
                    .map(|o| Kill {
                        layer: o.layer,
                        source: id,
                    }),
            );
            let range = self.occurrence_groups.range(id);
            for (o, f) in self.occurrences[range].iter_mut().zip(&fates) {
                o.fate = *f;
            }
            for &c in self.children.get(id).iter().rev() {
                stack.push((c, kills.len()));
            }
            // Children restore to the length including this node's kills; this node's siblings
            // restore to their parent's length through their own stack entries.
        }
        // Whiteouts that removed nothing.
        let mut stray: Vec<StrayWhiteout> = self
            .all_occurrences()
            .filter(|(id, o)| {
                matches!(self.entry(o).change, Change::Whiteout)
                    && !deleted.contains(&(id.0, o.layer))
            })
            .map(|(id, o)| StrayWhiteout {
                layer: o.layer,
                path: self.path(id),
            })
            .collect();
        stray.sort_by(|a, b| (a.layer, &a.path).cmp(&(b.layer, &b.path)));
        self.stray_whiteouts = stray;
    }

    fn compute_visibility(&mut self) {
        // Children always have larger ids than parents, so a reverse sweep is a post-order.
        for id in (1..self.nodes.len()).rev() {
            let own = self
                .own_occurrences(id as u32)
                .iter()
                .any(|o| o.fate == Fate::Visible);
            let below = self.nodes[id].visible;
            if own || below {
                self.nodes[id].visible = true;
                let p = self.nodes[id].parent as usize;
                self.nodes[p].visible = true;
            }
        }
    }

    /// The layers the tree was built from.
    pub fn layers(&self) -> &'a [Layer] {
        self.layers
    }

    /// The root directory.
    pub fn root(&self) -> NodeId {
        NodeId(0)
    }

    /// Number of nodes (every path any layer mentions, plus their parents).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree has only the root.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// The node at `path`, if any layer mentions it (visible or not).
    pub fn lookup(&self, path: &ImagePath) -> Option<NodeId> {
        let mut cur = ROOT;
        for comp in path.components() {
            let children = self.children.get(cur);
            let i = children
                .binary_search_by(|&c| self.nodes[c as usize].name.cmp(comp))
                .ok()?;
            cur = children[i];
        }
        Some(NodeId(cur))
    }

    /// The node's name (empty for the root).
    pub fn name(&self, id: NodeId) -> &'a [u8] {
        self.nodes[id.0 as usize].name
    }

    /// The node's parent (`None` for the root).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        (id.0 != 0).then(|| NodeId(self.nodes[id.0 as usize].parent))
    }

    /// The node's full path.
    pub fn path(&self, id: NodeId) -> ImagePath {
        let mut names = Vec::new();
        let mut cur = id.0;
        while cur != 0 {
            names.push(self.nodes[cur as usize].name);
            cur = self.nodes[cur as usize].parent;
        }
        let mut bytes = Vec::new();
        for (i, n) in names.iter().rev().enumerate() {
            if i > 0 {
                bytes.push(b'/');
            }
            bytes.extend_from_slice(n);
        }
        ImagePath::from_clean(bytes)
    }

    /// Children sorted by name (bytewise), visible or not.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = (&[u8], NodeId)> + '_ {
        self.children
            .get(id.0)
            .iter()
            .map(|&c| (self.nodes[c as usize].name, NodeId(c)))
    }

    /// Every layer's entries at this node, bottom layer first, each with its fate.
    pub fn occurrences(&self, id: NodeId) -> &[Occurrence] {
        self.own_occurrences(id.0)
    }

    /// Whether the path exists in the merged filesystem (as an entry or an implied directory).
    pub fn is_visible(&self, id: NodeId) -> bool {
        self.nodes[id.0 as usize].visible
    }

    /// The entry the merged filesystem shows at this node; `None` for implied directories (no
    /// layer has an entry for them) and hidden paths.
    pub fn visible_entry(&self, id: NodeId) -> Option<(&Occurrence, &'a FileMeta)> {
        let occ = self
            .own_occurrences(id.0)
            .iter()
            .rev()
            .find(|o| o.fate == Fate::Visible)?;
        Some((occ, self.meta(occ)?))
    }

    /// Whiteouts that named a path no lower layer has (dive stops analysing the layer there).
    pub fn stray_whiteouts(&self) -> &[StrayWhiteout] {
        &self.stray_whiteouts
    }

    /// Visits the merged filesystem depth-first in name order: `f(node, path, entry)` where
    /// `entry` is `None` for implied directories.
    pub fn walk_merged(&self, mut f: impl FnMut(NodeId, &ImagePath, Option<&'a FileMeta>)) {
        let mut stack: Vec<(u32, ImagePath)> = vec![(ROOT, ImagePath::root())];
        while let Some((id, path)) = stack.pop() {
            let entry = self.visible_entry(NodeId(id)).map(|(_, m)| m);
            if id != ROOT {
                f(NodeId(id), &path, entry);
            }
            for c in self.merged_children_rev(id, entry) {
                stack.push((c, path.join(self.nodes[c as usize].name)));
            }
        }
    }

    /// Number of entries in the merged filesystem, implied directories included (the nodes
    /// [`StackedTree::walk_merged`] visits).
    pub fn merged_len(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![ROOT];
        while let Some(id) = stack.pop() {
            count += usize::from(id != ROOT);
            let entry = self.visible_entry(NodeId(id)).map(|(_, m)| m);
            stack.extend(self.merged_children_rev(id, entry));
        }
        count
    }

    /// The visible children of a node of the merged filesystem whose entry is `entry`, in
    /// reverse name order (for a stack); none below a non-directory.
    fn merged_children_rev(
        &self,
        id: u32,
        entry: Option<&FileMeta>,
    ) -> impl Iterator<Item = u32> + '_ {
        let below = entry.is_none_or(|m| m.kind == FileKind::Directory);
        let children = if below { self.children.get(id) } else { &[] };
        children
            .iter()
            .rev()
            .copied()
            .filter(|&c| self.nodes[c as usize].visible)
    }

    /// Every occurrence with its node, in node order.
    pub fn all_occurrences(&self) -> impl Iterator<Item = (NodeId, &Occurrence)> + '_ {
        (0..self.nodes.len() as u32).flat_map(|id| {
            self.own_occurrences(id)
                .iter()
                .map(move |o| (NodeId(id), o))
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_layers::layers;

    /// The tree as first written here, a sorted map of owned names per node: the oracle the
    /// flat trie must match node for node (both number nodes in the order paths first appear).
    mod reference {
        use std::collections::{BTreeMap, HashMap};

        use crate::image::Layer;
        use crate::layer::{Change, Entry, FileKind, FileMeta};
        use crate::path::ImagePath;
        use crate::tree::{Fate, NodeId, Occurrence, StrayWhiteout};

        #[derive(Debug)]
        struct Node {
            name: Box<[u8]>,
            parent: u32,
            children: BTreeMap<Box<[u8]>, u32>,
            occurrences: Vec<Occurrence>,
            visible: bool,
        }

        /// All layers of an image on one trie. Built once; answers per-entry fates and the merged tree.
        #[derive(Debug)]
        pub(super) struct RefTree<'a> {
            layers: &'a [Layer],
            nodes: Vec<Node>,
            stray_whiteouts: Vec<StrayWhiteout>,
        }

        #[derive(Clone, Copy)]
        struct Kill {
            layer: usize,
            source: u32,
        }

        impl<'a> RefTree<'a> {
            /// Applies `layers` bottom to top.
            pub(super) fn build(layers: &'a [Layer]) -> RefTree<'a> {
                let mut tree = RefTree {
                    layers,
                    nodes: vec![Node {
                        name: Box::default(),
                        parent: 0,
                        children: BTreeMap::new(),
                        occurrences: Vec::new(),
                        visible: true,
                    }],
                    stray_whiteouts: Vec::new(),
                };
                for layer in layers {
                    for (e, entry) in layer.changes.entries.iter().enumerate() {
                        let id = tree.ensure(&entry.path);
                        let fate = match entry.change {
                            Change::Add(_) => Fate::Visible,
                            _ => Fate::Marker,
                        };
                        tree.nodes[id as usize].occurrences.push(Occurrence {
                            layer: layer.index,
                            entry: e,
                            fate,
                        });
                    }
                }
                tree.compute_fates();
                tree.compute_visibility();
                tree
            }

            fn ensure(&mut self, path: &ImagePath) -> u32 {
                let mut cur = 0u32;
                for comp in path.components() {
                    cur = match self.nodes[cur as usize].children.get(comp) {
                        Some(&c) => c,
                        None => {
                            let id = u32::try_from(self.nodes.len())
                                .expect("fewer than 4 billion paths");
                            self.nodes.push(Node {
                                name: comp.into(),
                                parent: cur,
                                children: BTreeMap::new(),
                                occurrences: Vec::new(),
                                visible: false,
                            });
                            self.nodes[cur as usize].children.insert(comp.into(), id);
                            id
                        }
                    };
                }
                cur
            }

            /// The entry an occurrence refers to.
            pub(super) fn entry(&self, occ: &Occurrence) -> &'a Entry {
                &self.layers[occ.layer].changes.entries[occ.entry]
            }

            fn meta(&self, occ: &Occurrence) -> Option<&'a FileMeta> {
                self.entry(occ).meta()
            }

            /// Kills a node's own occurrences place on its descendants.
            fn kills_below(&self, id: u32) -> Vec<Kill> {
                self.nodes[id as usize]
                    .occurrences
                    .iter()
                    .filter(|o| match &self.entry(o).change {
                        Change::Whiteout | Change::Opaque => true,
                        Change::Add(m) => !m.is_dir(),
                    })
                    .map(|o| Kill {
                        layer: o.layer,
                        source: id,
                    })
                    .collect()
            }

            fn compute_fates(&mut self) {
                let mut deleted_count: HashMap<(u32, usize), usize> = HashMap::new();
                // Iterative DFS (paths can be deep); `kills` holds ancestors' kill events.
                let mut kills: Vec<Kill> = Vec::new();
                let mut stack: Vec<(u32, usize)> = vec![(0, 0)]; // (node, kills length to restore)
                let mut order = Vec::with_capacity(self.nodes.len());
                while let Some((id, restore)) = stack.pop() {
                    kills.truncate(restore);
                    order.push(id);
                    let n = id as usize;
                    let occs = self.nodes[n].occurrences.clone();
                    let mut fates = Vec::with_capacity(occs.len());
                    for (k, o) in occs.iter().enumerate() {
                        if o.fate == Fate::Marker {
                            fates.push(Fate::Marker);
                            continue;
                        }
                        // The next own change that replaces or deletes this entry: a later layer's entry or
                        // whiteout, or a later entry of the same layer (duplicate path in one tar).
                        // An opaque marker at this node hides its children, not the node itself.
                        let own = occs[k + 1..].iter().find(|n2| {
                            let change = &self.layers[n2.layer].changes.entries[n2.entry].change;
                            match change {
                                Change::Opaque => false,
                                Change::Whiteout => n2.layer > o.layer,
                                Change::Add(_) => n2.layer >= o.layer,
                            }
                        });
                        let ancestor = kills
                            .iter()
                            .filter(|kl| kl.layer > o.layer)
                            .min_by_key(|kl| kl.layer)
                            .copied();
                        let fate = match (own, ancestor) {
                            (Some(own), anc) if anc.is_none_or(|a| own.layer <= a.layer) => {
                                match &self.layers[own.layer].changes.entries[own.entry].change {
                                    Change::Add(newer) => {
                                        let older = self.meta(o).expect("additions have metadata");
                                        if older.same_content(newer) {
                                            Fate::MetadataOnly { by: own.layer }
                                        } else {
                                            Fate::Overwritten { by: own.layer }
                                        }
                                    }
                                    Change::Whiteout => {
                                        *deleted_count.entry((id, own.layer)).or_default() += 1;
                                        Fate::Deleted { by: own.layer }
                                    }
                                    Change::Opaque => Fate::Visible, // excluded by the search above
                                }
                            }
                            (_, Some(a)) => {
                                *deleted_count.entry((a.source, a.layer)).or_default() += 1;
                                Fate::Deleted { by: a.layer }
                            }
                            (None, None) => Fate::Visible,
                            (Some(_), None) => unreachable!("handled by the first arm"),
                        };
                        fates.push(fate);
                    }
                    for (o, f) in self.nodes[n].occurrences.iter_mut().zip(fates) {
                        o.fate = f;
                    }
                    kills.extend(self.kills_below(id));
                    let children: Vec<u32> = self.nodes[n].children.values().copied().collect();
                    for c in children.into_iter().rev() {
                        stack.push((c, kills.len()));
                    }
                    // Children restore to the length including this node's kills; this node's siblings
                    // restore to their parent's length through their own stack entries.
                }
                // Whiteouts that removed nothing.
                for id in order {
                    for o in &self.nodes[id as usize].occurrences {
                        if matches!(self.entry(o).change, Change::Whiteout)
                            && !deleted_count.contains_key(&(id, o.layer))
                        {
                            self.stray_whiteouts.push(StrayWhiteout {
                                layer: o.layer,
                                path: self.path(NodeId(id)),
                            });
                        }
                    }
                }
                self.stray_whiteouts
                    .sort_by(|a, b| (a.layer, &a.path).cmp(&(b.layer, &b.path)));
            }

            fn compute_visibility(&mut self) {
                // Children always have larger ids than parents, so a reverse sweep is a post-order.
                for id in (1..self.nodes.len()).rev() {
                    let own = self.nodes[id]
                        .occurrences
                        .iter()
                        .any(|o| o.fate == Fate::Visible);
                    let below = self.nodes[id].visible;
                    if own || below {
                        self.nodes[id].visible = true;
                        let p = self.nodes[id].parent as usize;
                        self.nodes[p].visible = true;
                    }
                }
            }

            /// Number of nodes (every path any layer mentions, plus their parents).
            pub(super) fn len(&self) -> usize {
                self.nodes.len()
            }

            /// The node's name (empty for the root).
            pub(super) fn name(&self, id: NodeId) -> &[u8] {
                &self.nodes[id.0 as usize].name
            }

            /// The node's parent (`None` for the root).
            pub(super) fn parent(&self, id: NodeId) -> Option<NodeId> {
                (id.0 != 0).then(|| NodeId(self.nodes[id.0 as usize].parent))
            }

            /// The node's full path.
            pub(super) fn path(&self, id: NodeId) -> ImagePath {
                let mut names = Vec::new();
                let mut cur = id.0;
                while cur != 0 {
                    names.push(&self.nodes[cur as usize].name);
                    cur = self.nodes[cur as usize].parent;
                }
                let mut bytes = Vec::new();
                for (i, n) in names.iter().rev().enumerate() {
                    if i > 0 {
                        bytes.push(b'/');
                    }
                    bytes.extend_from_slice(n);
                }
                ImagePath::from_clean(bytes)
            }

            /// Children sorted by name (bytewise), visible or not.
            pub(super) fn children(
                &self,
                id: NodeId,
            ) -> impl Iterator<Item = (&[u8], NodeId)> + '_ {
                self.nodes[id.0 as usize]
                    .children
                    .iter()
                    .map(|(k, v)| (&k[..], NodeId(*v)))
            }

            /// Every layer's entries at this node, bottom layer first, each with its fate.
            pub(super) fn occurrences(&self, id: NodeId) -> &[Occurrence] {
                &self.nodes[id.0 as usize].occurrences
            }

            /// Whether the path exists in the merged filesystem (as an entry or an implied directory).
            pub(super) fn is_visible(&self, id: NodeId) -> bool {
                self.nodes[id.0 as usize].visible
            }

            /// The entry the merged filesystem shows at this node; `None` for implied directories (no
            /// layer has an entry for them) and hidden paths.
            pub(super) fn visible_entry(&self, id: NodeId) -> Option<(&Occurrence, &'a FileMeta)> {
                let occ = self.nodes[id.0 as usize]
                    .occurrences
                    .iter()
                    .rev()
                    .find(|o| o.fate == Fate::Visible)?;
                Some((occ, self.meta(occ)?))
            }

            /// Whiteouts that named a path no lower layer has (dive stops analysing the layer there).
            pub(super) fn stray_whiteouts(&self) -> &[StrayWhiteout] {
                &self.stray_whiteouts
            }

            /// Visits the merged filesystem depth-first in name order: `f(node, path, entry)` where
            /// `entry` is `None` for implied directories.
            pub(super) fn walk_merged(
                &self,
                mut f: impl FnMut(NodeId, &ImagePath, Option<&'a FileMeta>),
            ) {
                let mut stack: Vec<(u32, ImagePath)> = vec![(0, ImagePath::root())];
                while let Some((id, path)) = stack.pop() {
                    if id != 0 {
                        f(
                            NodeId(id),
                            &path,
                            self.visible_entry(NodeId(id)).map(|(_, m)| m),
                        );
                    }
                    let node = &self.nodes[id as usize];
                    // Below a non-directory nothing is reachable.
                    if let Some((_, m)) = self.visible_entry(NodeId(id))
                        && m.kind != FileKind::Directory
                    {
                        continue;
                    }
                    for (name, &c) in node.children.iter().rev() {
                        if self.nodes[c as usize].visible {
                            stack.push((c, path.join(name)));
                        }
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn same_tree_as_the_reference(layers in layers()) {
            let got = StackedTree::build(&layers);
            let want = reference::RefTree::build(&layers);
            prop_assert_eq!(got.len(), want.len());
            for id in (0..got.len() as u32).map(NodeId) {
                prop_assert_eq!(got.name(id), want.name(id));
                prop_assert_eq!(got.parent(id), want.parent(id));
                prop_assert_eq!(got.occurrences(id), want.occurrences(id));
                prop_assert_eq!(got.is_visible(id), want.is_visible(id));
                prop_assert_eq!(
                    got.children(id).collect::<Vec<_>>(),
                    want.children(id).collect::<Vec<_>>()
                );
                let path = got.path(id);
                prop_assert_eq!(&path, &want.path(id));
                prop_assert_eq!(got.lookup(&path), Some(id));
                prop_assert_eq!(got.visible_entry(id), want.visible_entry(id));
            }
            prop_assert_eq!(got.stray_whiteouts(), want.stray_whiteouts());
            let mut walked = Vec::new();
            got.walk_merged(|id, path, meta| walked.push((id, path.clone(), meta)));
            let mut expected = Vec::new();
            want.walk_merged(|id, path, meta| expected.push((id, path.clone(), meta)));
            prop_assert_eq!(got.merged_len(), walked.len());
            prop_assert_eq!(walked, expected);
        }
    }
}
