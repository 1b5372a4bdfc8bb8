//! dive's efficiency score and wasted-bytes figures, computed exactly as dive 0.13 computes them
//! (`dive/filetree/efficiency.go`), so that thresholds written for dive keep their meaning.
//!
//! dive builds one tree per layer from the tar names (whiteouts stay as `.wh.NAME` nodes, opaque
//! markers are dropped, parents missing from the tar become empty nodes), visits each layer's
//! leaves in name order, and charges a whiteout the size of the directory it deletes in the stack
//! of the layers below (a deleted file is charged 0). A whiteout whose target is missing below
//! stops the visit of the rest of that layer. All of that is reproduced here, including the
//! re-stacking of layer 0 onto its own copy; what is not reproduced is the cost: the stack is
//! built once, incrementally, instead of once per whiteout, and every tree is a set of nodes of
//! one trie of all layers' paths, so a path is walked once, not again per tree.

use std::cmp::Ordering;

use crate::image::Layer;
use crate::layer::{Change, Entry};
use crate::trie::{Groups, PathCursor, ROOT, Reach};

const WH: &[u8] = b".wh.";
/// dive never creates a node whose name starts with this (its opaque marker is one).
const WH_WH: &[u8] = b".wh..wh..";

/// A name in dive's trees. dive keeps whiteouts as `.wh.NAME` nodes; storing whether a name has
/// that prefix beside the bytes after it lets every name borrow from the layers' paths. Each byte
/// string has exactly one form (a component `.wh.x` is the same node as the whiteout of `x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Name<'a> {
    whiteout: bool,
    rest: &'a [u8],
}

impl<'a> Name<'a> {
    fn component(bytes: &'a [u8]) -> Name<'a> {
        match bytes.strip_prefix(WH) {
            Some(rest) => Name {
                whiteout: true,
                rest,
            },
            None => Name {
                whiteout: false,
                rest: bytes,
            },
        }
    }

    fn whiteout_of(target: &'a [u8]) -> Name<'a> {
        Name {
            whiteout: true,
            rest: target,
        }
    }

    /// The name dive sees, byte by byte.
    fn bytes(self) -> impl Iterator<Item = u8> + 'a {
        let prefix: &[u8] = if self.whiteout { WH } else { b"" };
        prefix.iter().chain(self.rest).copied()
    }

    /// dive's `AddPath` never creates these.
    fn never_created(self) -> bool {
        self.bytes().take(WH_WH.len()).eq(WH_WH.iter().copied())
    }

    /// The path a whiteout name deletes (its name without `.wh.`).
    fn target(self) -> Name<'a> {
        Name::component(self.rest)
    }

    /// dive's (Go's) string order.
    fn cmp_bytes(self, other: Name<'_>) -> Ordering {
        if self.whiteout == other.whiteout {
            self.rest.cmp(other.rest)
        } else {
            self.bytes().cmp(other.bytes())
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Info {
    size: i64,
    is_dir: bool,
}

/// Every path of every layer's dive tree on one trie: a layer's tree, and the stack of the layers
/// below, are each a set of its nodes (closed under parents), so a path is looked up once, when the
/// trie is built, and not again per layer.
#[derive(Debug)]
struct Universe<'a> {
    names: Vec<Name<'a>>,
    parents: Vec<u32>,
    index: foldhash::HashMap<(u32, Name<'a>), u32>,
    /// Children of each node, in dive's order.
    children: Groups,
}

impl<'a> Universe<'a> {
    fn with_capacity(nodes: usize) -> Universe<'a> {
        let mut names = Vec::with_capacity(nodes);
        names.push(Name::component(b""));
        let mut parents = Vec::with_capacity(nodes);
        parents.push(ROOT);
        Universe {
            names,
            parents,
            index: foldhash::HashMap::with_capacity_and_hasher(nodes, Default::default()),
            children: Groups::default(),
        }
    }

    fn get(&self, parent: u32, name: Name<'a>) -> Option<u32> {
        self.index.get(&(parent, name)).copied()
    }

    fn ensure(&mut self, parent: u32, name: Name<'a>) -> u32 {
        let next = u32::try_from(self.names.len()).expect("fewer than 4 billion nodes");
        let id = *self.index.entry((parent, name)).or_insert(next);
        if id == next {
            self.names.push(name);
            self.parents.push(parent);
        }
        id
    }

    /// Sorts every node's children into dive's order (after the last `ensure`).
    fn seal(&mut self) {
        let mut children = Groups::new(
            self.names.len(),
            self.parents
                .iter()
                .enumerate()
                .skip(1)
                .map(|(id, &p)| (p, id as u32)),
        );
        let names = &self.names;
        children.sort_each_by(|a, b| names[a as usize].cmp_bytes(names[b as usize]));
        self.children = children;
    }

    fn children(&self, id: u32) -> &[u32] {
        self.children.get(id)
    }

    /// Each node's position in dive's `VisitDepthChildFirst` order (children by name, then the
    /// node); a layer's tree visited in that order is its nodes sorted by this.
    fn post_order_ranks(&self) -> Vec<u32> {
        let mut rank = vec![0u32; self.names.len()];
        let mut next = 0u32;
        let mut stack: Vec<(u32, bool)> = vec![(ROOT, false)];
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                rank[id as usize] = next;
                next += 1;
                continue;
            }
            stack.push((id, true));
            stack.extend(self.children(id).iter().rev().map(|&c| (c, false)));
        }
        rank
    }

    /// The path as dive prints it, with a leading `/`.
    fn path(&self, id: u32) -> String {
        let mut ids = Vec::new();
        let mut cur = id;
        while cur != ROOT {
            ids.push(cur);
            cur = self.parents[cur as usize];
        }
        let mut bytes = Vec::new();
        for &n in ids.iter().rev() {
            bytes.push(b'/');
            bytes.extend(self.names[n as usize].bytes());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Where dive's `AddPath` takes one entry of a layer.
fn reach<'a>(u: &mut Universe<'a>, cursor: &mut PathCursor<'a>, entry: &'a Entry) -> Reach {
    let path = entry.path.as_bytes();
    let mut walk = |dir: &'a [u8]| {
        cursor.walk(dir, |parent, component| {
            let name = Name::component(component);
            (!name.never_created()).then(|| u.ensure(parent, name))
        })
    };
    if matches!(entry.change, Change::Opaque) {
        // dive drops the marker itself, but its parents are created on the way to it.
        let dir = walk(path);
        return Reach {
            node: dir.node,
            whole: false,
        };
    }
    let (dir, last) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    let parent = walk(dir);
    let name = match entry.change {
        Change::Whiteout => Name::whiteout_of(last),
        _ => Name::component(last),
    };
    if !parent.whole || name.never_created() {
        return Reach {
            node: parent.node,
            whole: false,
        };
    }
    Reach {
        node: u.ensure(parent.node, name),
        whole: true,
    }
}

/// The stack of the layers below the current one (dive's `Stack` result), as a set of nodes.
#[derive(Debug)]
struct Stacked {
    present: Vec<bool>,
    info: Vec<Info>,
}

impl Stacked {
    /// dive's `AddPath` of an upper node: missing parents get empty info, the node gets `info`.
    fn add(&mut self, u: &Universe<'_>, id: u32, info: Info) {
        let mut cur = id;
        while cur != ROOT && !self.present[cur as usize] {
            self.present[cur as usize] = true;
            self.info[cur as usize] = Info::default();
            cur = u.parents[cur as usize];
        }
        self.info[id as usize] = info;
    }

    /// dive's `RemovePath`: the node and everything below it leave the stack.
    fn remove(&mut self, u: &Universe<'_>, id: u32) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            self.present[n as usize] = false;
            stack.extend(u.children(n).iter().filter(|&&c| self.present[c as usize]));
        }
    }

    fn subtree_size(&self, u: &Universe<'_>, id: u32) -> i64 {
        let mut total = 0i64;
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            total = total.wrapping_add(self.info[n as usize].size);
            stack.extend(u.children(n).iter().filter(|&&c| self.present[c as usize]));
        }
        total
    }
}

/// A node of one layer's dive tree, with its payload and whether it is a leaf of that tree.
#[derive(Debug, Clone, Copy)]
struct LayerNode {
    id: u32,
    info: Info,
    leaf: bool,
}

/// One layer's dive tree (its nodes, closed under parents, root excluded) in dive's visiting
/// order, built from its entries' reaches; `seen` (node → stamp, slot) is reused across layers.
fn layer_tree(
    u: &Universe<'_>,
    rank: &[u32],
    layer: &Layer,
    reaches: &[Reach],
    stamp: u32,
    seen: &mut [(u32, u32)],
) -> Vec<LayerNode> {
    let mut nodes: Vec<LayerNode> = Vec::new();
    for (entry, r) in layer.changes.entries.iter().zip(reaches) {
        let mut cur = r.node;
        while cur != ROOT && seen[cur as usize].0 != stamp {
            seen[cur as usize] = (stamp, nodes.len() as u32);
            nodes.push(LayerNode {
                id: cur,
                info: Info::default(),
                leaf: true,
            });
            cur = u.parents[cur as usize];
        }
        if r.whole {
            let info = match &entry.change {
                Change::Add(meta) => Info {
                    size: i64::try_from(meta.size).unwrap_or(i64::MAX),
                    is_dir: meta.is_dir(),
                },
                _ => Info::default(),
            };
            nodes[seen[r.node as usize].1 as usize].info = info;
        }
    }
    for i in 0..nodes.len() {
        let parent = u.parents[nodes[i].id as usize];
        if parent != ROOT {
            nodes[seen[parent as usize].1 as usize].leaf = false;
        }
    }
    nodes.sort_unstable_by_key(|n| rank[n.id as usize]);
    nodes
}

/// A path dive counts in more than one layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiveInefficiency {
    /// The path, with a leading `/`.
    pub path: String,
    /// In how many layers it appears (whiteouts included).
    pub count: usize,
    /// Σ of its sizes over those layers (dive's "wasted space", which includes the kept copy).
    pub cumulative_size: u64,
}

/// dive's figures for an image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DiveFigures {
    /// Σ smallest size per path / Σ all sizes per path (1.0 for an empty image).
    pub efficiency: f64,
    /// Σ cumulative size of the paths in more than one layer (counts the copy that stays).
    pub wasted_bytes: u64,
    /// Σ layer sizes except layer 0.
    pub user_size_bytes: u64,
    /// `wasted_bytes / user_size_bytes` (0 when nothing is wasted, infinite when there are no
    /// user bytes but some waste).
    pub user_wasted_percent: f64,
    /// Paths in more than one layer, largest cumulative size first.
    pub inefficiencies: Vec<DiveInefficiency>,
}

#[derive(Debug, Clone, Copy)]
struct PathData {
    cumulative: i64,
    min: i64,
    count: usize,
}

/// dive's user bytes: Σ layer sizes except layer 0's.
pub(crate) fn user_size_bytes(layers: &[Layer]) -> u64 {
    layers.iter().skip(1).map(|l| l.changes.size).sum()
}

/// Computes dive's efficiency and waste figures for `layers`.
pub fn dive_figures(layers: &[Layer]) -> DiveFigures {
    // Nearly every entry is a node of its own; parents only tar entries imply are few.
    let mut u = Universe::with_capacity(layers.iter().map(|l| l.changes.entries.len()).sum());
    let mut cursor = PathCursor::default();
    let reaches: Vec<Vec<Reach>> = layers
        .iter()
        .map(|l| {
            l.changes
                .entries
                .iter()
                .map(|e| reach(&mut u, &mut cursor, e))
                .collect()
        })
        .collect();
    u.seal();
    let rank = u.post_order_ranks();
    let n = u.names.len();
    let mut seen = vec![(u32::MAX, 0u32); n];
    let mut stacked = Stacked {
        present: vec![false; n],
        info: vec![Info::default(); n],
    };
    let mut data = vec![
        PathData {
            cumulative: 0,
            min: -1,
            count: 0,
        };
        n
    ];
    for (i, (layer, reaches)) in layers.iter().zip(&reaches).enumerate() {
        let tree = layer_tree(&u, &rank, layer, reaches, i as u32, &mut seen);
        if i == 0 {
            // dive starts from a copy of layer 0's tree and stacks layer 0 onto it again.
            for n in &tree {
                stacked.present[n.id as usize] = true;
                stacked.info[n.id as usize] = n.info;
            }
        }
        for &LayerNode { id, info, leaf } in &tree {
            if !leaf {
                continue;
            }
            let name = u.names[id as usize];
            let (key, size) = if name.whiteout {
                let target = u
                    .get(u.parents[id as usize], name.target())
                    .filter(|&t| stacked.present[t as usize]);
                match target {
                    // dive returns an error from its visitor here: the rest of the layer is skipped.
                    None => break,
                    Some(t) if stacked.info[t as usize].is_dir => (t, stacked.subtree_size(&u, t)),
                    Some(t) => (t, 0),
                }
            } else {
                (id, info.size)
            };
            let d = &mut data[key as usize];
            d.cumulative = d.cumulative.wrapping_add(size);
            if d.min < 0 || size < d.min {
                d.min = size;
            }
            d.count += 1;
        }
        // dive's `Stack`: every node of the layer, children first.
        for &LayerNode { id, info, .. } in &tree {
            let name = u.names[id as usize];
            if name.whiteout {
                if let Some(t) = u.get(u.parents[id as usize], name.target())
                    && stacked.present[t as usize]
                {
                    stacked.remove(&u, t);
                }
            } else {
                stacked.add(&u, id, info);
            }
        }
    }
    let (mut min_sum, mut cum_sum) = (0i64, 0i64);
    let mut inefficiencies = Vec::new();
    for (id, d) in data.iter().enumerate().filter(|(_, d)| d.count > 0) {
        min_sum = min_sum.wrapping_add(d.min);
        cum_sum = cum_sum.wrapping_add(d.cumulative);
        if d.count >= 2 {
            inefficiencies.push(DiveInefficiency {
                path: u.path(id as u32),
                count: d.count,
                cumulative_size: u64::try_from(d.cumulative).unwrap_or(0),
            });
        }
    }
    inefficiencies.sort_by(|a, b| {
        b.cumulative_size
            .cmp(&a.cumulative_size)
            .then_with(|| a.path.cmp(&b.path))
    });
    let efficiency = if cum_sum == 0 {
        1.0
    } else {
        min_sum as f64 / cum_sum as f64
    };
    let wasted_bytes: u64 = inefficiencies.iter().map(|i| i.cumulative_size).sum();
    let user_size_bytes = user_size_bytes(layers);
    let user_wasted_percent = if wasted_bytes == 0 {
        0.0
    } else {
        wasted_bytes as f64 / user_size_bytes as f64
    };
    DiveFigures {
        efficiency,
        wasted_bytes,
        user_size_bytes,
        user_wasted_percent,
        inefficiencies,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_layers::layers;

    /// dive's algorithm as first written here, one tree of owned names per layer and the stack
    /// rebuilt by path lookups: the oracle the trie version must match bit for bit.
    mod reference {
        use std::collections::{BTreeMap, HashMap};

        use crate::dive::{DiveFigures, DiveInefficiency};
        use crate::image::Layer;
        use crate::layer::Change;

        const WH: &[u8] = b".wh.";

        #[derive(Debug, Clone, Copy, Default)]
        struct Info {
            size: i64,
            is_dir: bool,
        }

        #[derive(Debug, Clone)]
        struct DNode {
            name: Box<[u8]>,
            parent: u32,
            children: BTreeMap<Box<[u8]>, u32>,
            info: Info,
        }

        #[derive(Debug, Clone)]
        struct DTree {
            nodes: Vec<DNode>,
        }

        impl DTree {
            fn new() -> DTree {
                DTree {
                    nodes: vec![DNode {
                        name: Box::default(),
                        parent: 0,
                        children: BTreeMap::new(),
                        info: Info::default(),
                    }],
                }
            }

            fn child(&self, id: u32, name: &[u8]) -> Option<u32> {
                self.nodes[id as usize].children.get(name).copied()
            }

            fn push(&mut self, parent: u32, name: &[u8]) -> u32 {
                let id = u32::try_from(self.nodes.len()).expect("fewer than 4 billion nodes");
                self.nodes.push(DNode {
                    name: name.into(),
                    parent,
                    children: BTreeMap::new(),
                    info: Info::default(),
                });
                self.nodes[parent as usize].children.insert(name.into(), id);
                id
            }

            /// dive's `AddPath`: create missing parents with empty info (but stop silently at a new
            /// `.wh..wh..` name), then set the payload on the last node, keeping its children.
            fn add_path(&mut self, comps: &[&[u8]], info: Option<Info>) {
                let mut cur = 0u32;
                for (i, name) in comps.iter().enumerate() {
                    cur = match self.child(cur, name) {
                        Some(c) => c,
                        None => {
                            if name.starts_with(b".wh..wh..") {
                                return;
                            }
                            self.push(cur, name)
                        }
                    };
                    if i + 1 == comps.len()
                        && let Some(info) = info
                    {
                        self.nodes[cur as usize].info = info;
                    }
                }
            }

            fn get(&self, comps: &[&[u8]]) -> Option<u32> {
                let mut cur = 0u32;
                for name in comps {
                    cur = self.child(cur, name)?;
                }
                Some(cur)
            }

            fn remove(&mut self, comps: &[&[u8]]) {
                if let Some(id) = self.get(comps)
                    && id != 0
                {
                    let p = self.nodes[id as usize].parent as usize;
                    let name = self.nodes[id as usize].name.clone();
                    self.nodes[p].children.remove(&name);
                }
            }

            fn subtree_size(&self, id: u32) -> i64 {
                let mut total = 0i64;
                let mut stack = vec![id];
                while let Some(n) = stack.pop() {
                    total = total.wrapping_add(self.nodes[n as usize].info.size);
                    stack.extend(self.nodes[n as usize].children.values());
                }
                total
            }

            /// Path components of a node, root first.
            fn comps(&self, id: u32) -> Vec<&[u8]> {
                let mut v = Vec::new();
                let mut cur = id;
                while cur != 0 {
                    v.push(&self.nodes[cur as usize].name[..]);
                    cur = self.nodes[cur as usize].parent;
                }
                v.reverse();
                v
            }

            /// Nodes in dive's `VisitDepthChildFirst` order: children by name, then the node (root
            /// excluded).
            fn post_order(&self) -> Vec<u32> {
                let mut out = Vec::with_capacity(self.nodes.len());
                let mut stack: Vec<(u32, bool)> = vec![(0, false)];
                while let Some((id, expanded)) = stack.pop() {
                    if expanded {
                        if id != 0 {
                            out.push(id);
                        }
                        continue;
                    }
                    stack.push((id, true));
                    for &c in self.nodes[id as usize].children.values().rev() {
                        stack.push((c, false));
                    }
                }
                out
            }

            /// dive's `Stack`: apply `upper` onto `self`, visiting every node of `upper` children first.
            fn stack(&mut self, upper: &DTree) {
                for id in upper.post_order() {
                    let mut comps = upper.comps(id);
                    let name = &upper.nodes[id as usize].name;
                    if name.starts_with(WH) {
                        let last = comps.len() - 1;
                        comps[last] = &name[WH.len()..];
                        self.remove(&comps);
                    } else {
                        self.add_path(&comps, Some(upper.nodes[id as usize].info));
                    }
                }
            }
        }

        fn layer_tree(layer: &Layer) -> DTree {
            let mut tree = DTree::new();
            let mut wh_name = Vec::new();
            for entry in &layer.changes.entries {
                let mut comps: Vec<&[u8]> = entry.path.components().collect();
                match &entry.change {
                    Change::Add(meta) => tree.add_path(
                        &comps,
                        Some(Info {
                            size: i64::try_from(meta.size).unwrap_or(i64::MAX),
                            is_dir: meta.is_dir(),
                        }),
                    ),
                    Change::Whiteout => {
                        let Some(last) = comps.pop() else { continue };
                        wh_name.clear();
                        wh_name.extend_from_slice(WH);
                        wh_name.extend_from_slice(last);
                        comps.push(&wh_name);
                        tree.add_path(&comps, Some(Info::default()));
                    }
                    Change::Opaque => {
                        // dive drops the marker itself, but its parents are created on the way to it.
                        comps.push(b".wh..wh..opq");
                        tree.add_path(&comps, None);
                    }
                }
            }
            tree
        }

        struct PathData {
            cumulative: i64,
            min: i64,
            count: usize,
        }

        pub(super) fn dive_figures(layers: &[Layer]) -> DiveFigures {
            let trees: Vec<DTree> = layers.iter().map(layer_tree).collect();
            let mut data: HashMap<Vec<u8>, PathData> = HashMap::new();
            let mut stacked = trees.first().cloned().unwrap_or_else(DTree::new);
            let mut key = Vec::new();
            for tree in &trees {
                for id in tree.post_order() {
                    let node = &tree.nodes[id as usize];
                    if !node.children.is_empty() {
                        continue;
                    }
                    let mut comps = tree.comps(id);
                    let whiteout = node.name.starts_with(WH);
                    if whiteout {
                        let last = comps.len() - 1;
                        comps[last] = &node.name[WH.len()..];
                    }
                    let size = if whiteout {
                        match stacked.get(&comps) {
                            // dive returns an error from its visitor here: the rest of the layer is skipped.
                            None => break,
                            Some(m) if stacked.nodes[m as usize].info.is_dir => {
                                stacked.subtree_size(m)
                            }
                            Some(_) => 0,
                        }
                    } else {
                        node.info.size
                    };
                    key.clear();
                    for c in &comps {
                        key.push(b'/');
                        key.extend_from_slice(c);
                    }
                    let d = data.entry(key.clone()).or_insert(PathData {
                        cumulative: 0,
                        min: -1,
                        count: 0,
                    });
                    d.cumulative = d.cumulative.wrapping_add(size);
                    if d.min < 0 || size < d.min {
                        d.min = size;
                    }
                    d.count += 1;
                }
                stacked.stack(tree);
            }
            let (mut min_sum, mut cum_sum) = (0i64, 0i64);
            let mut inefficiencies = Vec::new();
            for (path, d) in &data {
                min_sum = min_sum.wrapping_add(d.min);
                cum_sum = cum_sum.wrapping_add(d.cumulative);
                if d.count >= 2 {
                    inefficiencies.push(DiveInefficiency {
                        path: String::from_utf8_lossy(path).into_owned(),
                        count: d.count,
                        cumulative_size: u64::try_from(d.cumulative).unwrap_or(0),
                    });
                }
            }
            inefficiencies.sort_by(|a, b| {
                b.cumulative_size
                    .cmp(&a.cumulative_size)
                    .then_with(|| a.path.cmp(&b.path))
            });
            let efficiency = if cum_sum == 0 {
                1.0
            } else {
                min_sum as f64 / cum_sum as f64
            };
            let wasted_bytes: u64 = inefficiencies.iter().map(|i| i.cumulative_size).sum();
            let user_size_bytes: u64 = layers.iter().skip(1).map(|l| l.changes.size).sum();
            let user_wasted_percent = if wasted_bytes == 0 {
                0.0
            } else {
                wasted_bytes as f64 / user_size_bytes as f64
            };
            DiveFigures {
                efficiency,
                wasted_bytes,
                user_size_bytes,
                user_wasted_percent,
                inefficiencies,
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn same_figures_as_the_reference(layers in layers()) {
            let got = dive_figures(&layers);
            let want = reference::dive_figures(&layers);
            prop_assert_eq!(got.efficiency.to_bits(), want.efficiency.to_bits());
            prop_assert_eq!(got, want);
        }
    }
}
