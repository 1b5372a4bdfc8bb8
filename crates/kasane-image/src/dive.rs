//! dive's efficiency score and wasted-bytes figures, computed exactly as dive 0.13 computes them
//! (`dive/filetree/efficiency.go`), so that thresholds written for dive keep their meaning.
//!
//! dive builds one tree per layer from the tar names (whiteouts stay as `.wh.NAME` nodes, opaque
//! markers are dropped, parents missing from the tar become empty nodes), visits each layer's
//! leaves in name order, and charges a whiteout the size of the directory it deletes in the stack
//! of the layers below (a deleted file is charged 0). A whiteout whose target is missing below
//! stops the visit of the rest of that layer. All of that is reproduced here, including the
//! re-stacking of layer 0 onto its own copy; what is not reproduced is the cost: the stack is
//! built once, incrementally, instead of once per whiteout.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

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

#[derive(Default)]
struct PathData {
    cumulative: i64,
    min: i64,
    count: usize,
}

/// Computes dive's efficiency and waste figures for `layers`.
pub fn dive_figures(layers: &[Layer]) -> DiveFigures {
    let trees: Vec<DTree> = layers.par_iter().map(layer_tree).collect();
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
                    Some(m) if stacked.nodes[m as usize].info.is_dir => stacked.subtree_size(m),
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
