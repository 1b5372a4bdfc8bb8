//! Building blocks of the path tries ([`crate::StackedTree`], dive's figures): walking clean paths
//! into a trie without looking up the components a path shares with the one before it, and flat
//! per-node lists (children, occurrences) instead of a collection per node.

use std::cmp::Ordering;
use std::ops::Range;

/// The trie's root node.
pub(crate) const ROOT: u32 = 0;

/// Walks clean paths (no leading `/`, no empty components) into a trie, remembering the nodes of
/// the previous path: tar entries come grouped by directory, so most paths cost one step.
#[derive(Debug, Default)]
pub(crate) struct PathCursor<'a> {
    path: &'a [u8],
    /// `(end of the component in path, its node)` for the components walked so far.
    walked: Vec<(usize, u32)>,
}

/// Where [`PathCursor::walk`] got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reach {
    /// The deepest node reached.
    pub(crate) node: u32,
    /// Whether that is the path's own node (false: `step` refused a component).
    pub(crate) whole: bool,
}

impl<'a> PathCursor<'a> {
    /// The node of `path` (the root for the empty path). `step(parent, component)` finds or makes
    /// a child, or refuses it (`None`), which ends the walk at the parent.
    pub(crate) fn walk(
        &mut self,
        path: &'a [u8],
        mut step: impl FnMut(u32, &'a [u8]) -> Option<u32>,
    ) -> Reach {
        // Keep the walked components `path` starts with, deepest first (a slice comparison each;
        // usually the first or second one holds).
        while let Some(&(end, _)) = self.walked.last() {
            if path.len() >= end
                && path[..end] == self.path[..end]
                && (end == path.len() || path[end] == b'/')
            {
                break;
            }
            self.walked.pop();
        }
        self.path = path;
        let (mut pos, mut node) = match self.walked.last() {
            Some(&(end, id)) => (end + 1, id),
            None => (0, ROOT),
        };
        while pos < path.len() {
            let end = path[pos..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(path.len(), |i| pos + i);
            let Some(child) = step(node, &path[pos..end]) else {
                return Reach { node, whole: false };
            };
            node = child;
            self.walked.push((end, node));
            pos = end + 1;
        }
        Reach { node, whole: true }
    }
}

/// Items grouped by a key `0..n`, each group keeping the items' order: one flat list with offsets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Groups {
    /// Groups `(key, item)` pairs (a counting sort; stable).
    pub(crate) fn new(n: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> Groups {
        let mut start = vec![0u32; n + 1];
        for (key, _) in pairs.clone() {
            start[key as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; start[n] as usize];
        for (key, item) in pairs {
            items[fill[key as usize] as usize] = item;
            fill[key as usize] += 1;
        }
        Groups { start, items }
    }

    /// Positions of group `key` in [`Groups::items`].
    pub(crate) fn range(&self, key: u32) -> Range<usize> {
        self.start[key as usize] as usize..self.start[key as usize + 1] as usize
    }

    /// The items of group `key`.
    pub(crate) fn get(&self, key: u32) -> &[u32] {
        &self.items[self.range(key)]
    }

    /// All items, group after group.
    pub(crate) fn items(&self) -> &[u32] {
        &self.items
    }

    /// Sorts the items inside every group.
    pub(crate) fn sort_each_by(&mut self, mut cmp: impl FnMut(u32, u32) -> Ordering) {
        for w in self.start.windows(2) {
            self.items[w[0] as usize..w[1] as usize].sort_unstable_by(|&a, &b| cmp(a, b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Walks paths through a cursor and by hand (every component looked up): same nodes.
    #[test]
    fn cursor_finds_the_nodes_a_full_walk_finds() {
        let paths: &[&[u8]] = &[
            b"usr",
            b"usr/lib",
            b"usr/lib/a",
            b"usr/lib/ab",
            b"usr/li",
            b"usr/lib/a/b/c",
            b"",
            b"usr/lib/a/b",
            b"etc/x",
            b"usr/lib/a/b/c",
            b"usr/lib/a/stop/d",
            b"usr/lib/a/stop",
            b"usr",
        ];
        let mut trie: HashMap<(u32, &[u8]), u32> = HashMap::new();
        let mut cursor = PathCursor::default();
        let mut steps = 0;
        for &path in paths {
            let got = cursor.walk(path, |parent, name| {
                steps += 1;
                if name == b"stop" {
                    return None;
                }
                let next = trie.len() as u32 + 1;
                Some(*trie.entry((parent, name)).or_insert(next))
            });
            let mut node = ROOT;
            let mut whole = true;
            for c in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
                if c == b"stop" {
                    whole = false;
                    break;
                }
                node = trie[&(node, c)];
            }
            assert_eq!(
                got,
                Reach { node, whole },
                "{}",
                String::from_utf8_lossy(path)
            );
        }
        // Shared components are not stepped through again.
        let full: usize = paths
            .iter()
            .map(|p| p.split(|&b| b == b'/').filter(|c| !c.is_empty()).count())
            .sum();
        assert!(steps < full, "{steps} steps for {full} components");
    }

    #[test]
    fn groups_keep_order_and_sort() {
        let pairs = [(2u32, 10u32), (0, 11), (2, 12), (2, 9)];
        let mut g = Groups::new(4, pairs.iter().copied());
        assert_eq!(g.get(0), &[11]);
        assert_eq!(g.get(1), &[] as &[u32]);
        assert_eq!(g.get(2), &[10, 12, 9]);
        assert_eq!(g.get(3), &[] as &[u32]);
        g.sort_each_by(|a, b| a.cmp(&b));
        assert_eq!(g.get(2), &[9, 10, 12]);
        assert_eq!(g.items(), &[11, 9, 10, 12]);
    }
}
