//! The file tree the explorer shows: every path any loaded layer mentions, with every layer's
//! entry and its fate, so the filesystem after any layer, and what changed against any earlier
//! layer, is one walk away (no rebuild when the user moves through layers).

use std::collections::HashSet;

use kasane_image::{FileKind, FileMeta, ImagePath, Layer, NodeId, Occurrence, StackedTree};

/// How a path compares between the base filesystem and the shown one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Only in the shown filesystem.
    Added,
    /// Only in the base filesystem.
    Removed,
    /// In both, as a different entry (new content or metadata).
    Modified,
    /// In both, the same entry.
    Unmodified,
}

#[derive(Debug)]
struct Node {
    name: Box<[u8]>,
    children: Vec<u32>,
    occurrences: Vec<Occurrence>,
}

/// Every path of the loaded layers (`0..layers`), as an owned trie.
#[derive(Debug)]
pub struct FsModel {
    nodes: Vec<Node>,
    layers: usize,
}

/// What one node looks like for one (shown layer, base layer) pair.
#[derive(Debug, Clone, Copy)]
pub struct NodeView {
    /// The entry alive in the shown filesystem (layer, entry index), if any.
    pub entry: Option<Occurrence>,
    /// The entry alive in the base filesystem, if any.
    pub base_entry: Option<Occurrence>,
    /// Present in the shown filesystem (an entry, or a directory holding something).
    pub present: bool,
    /// Present in the base filesystem.
    pub present_in_base: bool,
    /// The comparison.
    pub status: Status,
    /// Something below it is not unmodified.
    pub changes_below: bool,
    /// Bytes of regular files (for directories: everything below), in the shown filesystem, or
    /// in the base one for removed paths.
    pub size: u64,
}

/// Every node's [`NodeView`] for one (shown, base) pair.
#[derive(Debug)]
pub struct View {
    /// The layer whose filesystem is shown.
    pub shown: usize,
    /// The layer it is compared with (`None`: nothing, everything is added).
    pub base: Option<usize>,
    nodes: Vec<NodeView>,
}

/// One line of the flattened tree.
#[derive(Debug, Clone)]
pub struct Row {
    /// The node.
    pub node: u32,
    /// Its full path.
    pub path: ImagePath,
    /// Nesting level (0 = directly below the root).
    pub depth: usize,
    /// Its name.
    pub name: String,
    /// Whether it is a directory (an entry of that kind, or implied).
    pub is_dir: bool,
    /// Whether its children are shown.
    pub expanded: bool,
    /// Whether it is the last child of its parent (for the tree guides).
    pub last: bool,
    /// For each ancestor level, whether that ancestor was a last child.
    pub guides: Vec<bool>,
}

/// How the tree is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Largest first (the default), or by name.
    pub by_size: bool,
    /// Only added, removed and modified paths (and the directories holding them).
    pub only_changes: bool,
    /// Only paths containing this text (case-sensitive), with their parents.
    pub filter: String,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            by_size: true,
            only_changes: false,
            filter: String::new(),
        }
    }
}

impl FsModel {
    /// The trie of `layers` (a loaded prefix of the image, bottom first).
    pub fn build(layers: &[Layer]) -> FsModel {
        let tree = StackedTree::build(layers);
        let mut nodes = Vec::with_capacity(tree.len());
        // Map the tree's nodes to dense ids in depth-first order.
        let mut stack: Vec<(NodeId, Option<u32>)> = vec![(tree.root(), None)];
        while let Some((id, parent)) = stack.pop() {
            let me = u32::try_from(nodes.len()).expect("fewer than 4 billion paths");
            nodes.push(Node {
                name: tree.name(id).into(),
                children: Vec::new(),
                occurrences: tree.occurrences(id).to_vec(),
            });
            if let Some(p) = parent {
                nodes[p as usize].children.push(me);
            }
            let children: Vec<NodeId> = tree.children(id).map(|(_, c)| c).collect();
            for c in children.into_iter().rev() {
                stack.push((c, Some(me)));
            }
        }
        FsModel {
            nodes,
            layers: layers.len(),
        }
    }

    /// How many layers it covers.
    pub fn layers(&self) -> usize {
        self.layers
    }

    /// The name of a node.
    pub fn name(&self, node: u32) -> &[u8] {
        &self.nodes[node as usize].name
    }

    /// The occurrences of a node, bottom layer first.
    pub fn occurrences(&self, node: u32) -> &[Occurrence] {
        &self.nodes[node as usize].occurrences
    }

    /// The node at `path`.
    pub fn lookup(&self, path: &ImagePath) -> Option<u32> {
        let mut cur = 0u32;
        for comp in path.components() {
            cur = *self.nodes[cur as usize]
                .children
                .iter()
                .find(|&&c| &*self.nodes[c as usize].name == comp)?;
        }
        Some(cur)
    }

    /// Computes every node's view for the filesystem after layer `shown`, compared with the one
    /// after layer `base`.
    pub fn view(&self, layers: &[Layer], shown: usize, base: Option<usize>) -> View {
        let mut out = vec![
            NodeView {
                entry: None,
                base_entry: None,
                present: false,
                present_in_base: false,
                status: Status::Unmodified,
                changes_below: false,
                size: 0,
            };
            self.nodes.len()
        ];
        let meta = |o: &Occurrence| -> Option<&FileMeta> {
            layers
                .get(o.layer)
                .and_then(|l| l.changes.entries.get(o.entry))
                .and_then(|e| e.meta())
        };
        let is_dir = |o: Option<Occurrence>| o.and_then(|o| meta(&o)).is_none_or(FileMeta::is_dir);
        // Pre-order: entries alive at each time, with reachability through directory parents.
        // (node, reachable in shown, reachable in base)
        let mut stack = vec![(0u32, true, base.is_some())];
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some((id, ok_t, ok_b)) = stack.pop() {
            order.push(id);
            let occs = &self.nodes[id as usize].occurrences;
            let at = |t: usize| occs.iter().rev().find(|o| o.alive_after(t)).copied();
            let v = &mut out[id as usize];
            v.entry = if ok_t { at(shown) } else { None };
            v.base_entry = match base {
                Some(b) if ok_b => at(b),
                _ => None,
            };
            let down_t = ok_t && is_dir(v.entry);
            let down_b = ok_b && is_dir(v.base_entry);
            for &c in &self.nodes[id as usize].children {
                stack.push((c, down_t, down_b));
            }
        }
        // Post-order: presence, sizes and statuses bottom up (children come after parents in
        // `order`, so walking it backwards sees children first).
        for &id in order.iter().rev() {
            let (mut present, mut present_b, mut size_t, mut size_b, mut below) =
                (false, false, 0u64, 0u64, false);
            for &c in &self.nodes[id as usize].children {
                let cv = &out[c as usize];
                present |= cv.present;
                present_b |= cv.present_in_base;
                if cv.present {
                    size_t += if cv.status == Status::Removed {
                        0
                    } else {
                        cv.size
                    };
                }
                if cv.present_in_base && !cv.present {
                    size_b += cv.size;
                }
                below |= cv.status != Status::Unmodified || cv.changes_below;
            }
            let v = &mut out[id as usize];
            let own_size = |o: Option<Occurrence>| {
                o.and_then(|o| meta(&o))
                    .filter(|m| m.kind == FileKind::Regular)
                    .map_or(0, |m| m.size)
            };
            v.present = v.entry.is_some() || (present && is_dir(v.entry));
            v.present_in_base = v.base_entry.is_some() || (present_b && is_dir(v.base_entry));
            v.status = match (v.present, v.present_in_base) {
                (true, false) => Status::Added,
                (false, true) => Status::Removed,
                (true, true) if v.entry != v.base_entry => Status::Modified,
                _ => Status::Unmodified,
            };
            // An implied directory is the same directory whatever made it exist.
            if v.status == Status::Modified && v.entry.is_none() && v.base_entry.is_none() {
                v.status = Status::Unmodified;
            }
            // A directory entry rewritten only because something below changed (every layer
            // repeats the parents of what it touches) is not a change of its own.
            if v.status == Status::Modified
                && let (Some(a), Some(b)) = (
                    v.entry.and_then(|o| meta(&o)),
                    v.base_entry.and_then(|o| meta(&o)),
                )
                && a.is_dir()
                && b.is_dir()
                && a.mode == b.mode
                && a.uid == b.uid
                && a.gid == b.gid
                && a.xattrs == b.xattrs
            {
                v.status = Status::Unmodified;
            }
            v.changes_below = below;
            v.size = if v.present {
                own_size(v.entry) + size_t
            } else {
                own_size(v.base_entry) + size_b
            };
        }
        View {
            shown,
            base,
            nodes: out,
        }
    }

    /// The flattened rows for `view` and `layout`; `expanded` holds the paths the user opened
    /// (with a filter or "only changes" everything matching is open unless in `collapsed`).
    pub fn rows(
        &self,
        layers: &[Layer],
        view: &View,
        layout: &Layout,
        expanded: &HashSet<ImagePath>,
        collapsed: &HashSet<ImagePath>,
    ) -> Vec<Row> {
        let meta = |o: Option<Occurrence>| -> Option<&FileMeta> {
            let o = o?;
            layers
                .get(o.layer)
                .and_then(|l| l.changes.entries.get(o.entry))
                .and_then(|e| e.meta())
        };
        let shown = |id: u32| {
            let v = &view.nodes[id as usize];
            v.present || v.status == Status::Removed
        };
        // Filter matches, bottom up.
        let filtering = !layout.filter.is_empty();
        let mut matches = vec![!filtering; self.nodes.len()];
        if filtering {
            let mut stack: Vec<(u32, ImagePath)> = vec![(0, ImagePath::root())];
            let mut order = Vec::new();
            while let Some((id, path)) = stack.pop() {
                if id != 0 && path.to_string().contains(&layout.filter) {
                    matches[id as usize] = true;
                }
                order.push(id);
                for &c in &self.nodes[id as usize].children {
                    stack.push((c, path.join(&self.nodes[c as usize].name)));
                }
            }
            for &id in order.iter().rev() {
                if matches[id as usize] {
                    continue;
                }
                matches[id as usize] = self.nodes[id as usize]
                    .children
                    .iter()
                    .any(|&c| matches[c as usize] && shown(c));
            }
        }
        let auto_open = filtering || layout.only_changes;
        let keep = |id: u32| {
            let v = &view.nodes[id as usize];
            shown(id)
                && matches[id as usize]
                && (!layout.only_changes || v.status != Status::Unmodified || v.changes_below)
        };
        let sorted = |id: u32| {
            let mut kids: Vec<u32> = self.nodes[id as usize]
                .children
                .iter()
                .copied()
                .filter(|&c| keep(c))
                .collect();
            if layout.by_size {
                kids.sort_by(|&a, &b| {
                    view.nodes[b as usize]
                        .size
                        .cmp(&view.nodes[a as usize].size)
                        .then_with(|| {
                            self.nodes[a as usize]
                                .name
                                .cmp(&self.nodes[b as usize].name)
                        })
                });
            }
            kids
        };
        let mut rows = Vec::new();
        // (node, path, depth, last, guides)
        let mut stack: Vec<(u32, ImagePath, usize, bool, Vec<bool>)> = Vec::new();
        let top = sorted(0);
        let n = top.len();
        for (i, &c) in top.iter().enumerate().rev() {
            stack.push((
                c,
                ImagePath::root().join(&self.nodes[c as usize].name),
                0,
                i + 1 == n,
                Vec::new(),
            ));
        }
        while let Some((id, path, depth, last, guides)) = stack.pop() {
            let v = &view.nodes[id as usize];
            let entry = if v.present { v.entry } else { v.base_entry };
            let is_dir = meta(entry).is_none_or(FileMeta::is_dir);
            let open = is_dir
                && if auto_open {
                    !collapsed.contains(&path)
                } else {
                    expanded.contains(&path)
                };
            if open {
                let kids = sorted(id);
                let k = kids.len();
                let mut child_guides = guides.clone();
                child_guides.push(last);
                for (i, &c) in kids.iter().enumerate().rev() {
                    stack.push((
                        c,
                        path.join(&self.nodes[c as usize].name),
                        depth + 1,
                        i + 1 == k,
                        child_guides.clone(),
                    ));
                }
            }
            rows.push(Row {
                node: id,
                name: String::from_utf8_lossy(&self.nodes[id as usize].name).into_owned(),
                path,
                depth,
                is_dir,
                expanded: open,
                last,
                guides,
            });
        }
        rows
    }
}

impl View {
    /// The view of one node.
    pub fn node(&self, id: u32) -> &NodeView {
        &self.nodes[id as usize]
    }

    /// The root's view (its size is the whole filesystem's).
    pub fn root(&self) -> &NodeView {
        &self.nodes[0]
    }
}
