//! dlayer's view: for each layer, the files it adds grouped to a directory depth, largest first.

use std::collections::HashMap;

use crate::image::Image;
use crate::layer::{Change, FileKind};
use crate::path::ImagePath;

/// A group of files under one path (a file, or a directory at the depth limit).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathGroup {
    /// The path (truncated to the depth).
    pub path: ImagePath,
    /// Σ sizes of the files below it that the layer adds.
    pub size: u64,
    /// Number of those files.
    pub files: u64,
}

/// One layer, listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerListing {
    /// Position, 0 = bottom.
    pub index: usize,
    /// The cleaned instruction that made it.
    pub instruction: Option<String>,
    /// Σ tar header sizes.
    pub size: u64,
    /// Files (non-directories) the layer adds or replaces.
    pub files: u64,
    /// Whiteouts and opaque markers.
    pub deletions: u64,
    /// The largest groups.
    pub groups: Vec<PathGroup>,
    /// Groups left out by the `top` limit.
    pub more_groups: usize,
}

/// Lists layers the way dlayer does: files grouped to `depth` path components, sorted by size
/// (then name), `top` groups per layer; `only` picks one layer.
pub fn list_layers(
    image: &Image,
    depth: usize,
    top: usize,
    only: Option<usize>,
) -> Vec<LayerListing> {
    image
        .layers
        .iter()
        .filter(|l| only.is_none_or(|i| i == l.index))
        .map(|layer| {
            let mut groups: HashMap<ImagePath, (u64, u64)> = HashMap::new();
            let mut files = 0u64;
            let mut deletions = 0u64;
            for e in &layer.changes.entries {
                match &e.change {
                    Change::Add(m) if m.kind != FileKind::Directory => {
                        files += 1;
                        let g = groups.entry(e.path.truncated(depth.max(1))).or_default();
                        g.0 += m.size;
                        g.1 += 1;
                    }
                    Change::Add(_) => {}
                    Change::Whiteout | Change::Opaque => deletions += 1,
                }
            }
            let mut groups: Vec<PathGroup> = groups
                .into_iter()
                .map(|(path, (size, files))| PathGroup { path, size, files })
                .collect();
            groups.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
            let more_groups = groups.len().saturating_sub(top);
            groups.truncate(top);
            LayerListing {
                index: layer.index,
                instruction: layer.instruction.clone(),
                size: layer.changes.size,
                files,
                deletions,
                groups,
                more_groups,
            }
        })
        .collect()
}
