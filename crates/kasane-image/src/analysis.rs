//! Where every byte of an image went: sizes per layer, the largest files, waste split by cause,
//! dive's efficiency score, and what merging layers would save.

use crate::compression::Compression;
use crate::digest::Digest;
use crate::dive::{DiveFigures, dive_figures, user_size_bytes};
use crate::image::Image;
use crate::layer::{FileKind, LayerOddity};
use crate::path::ImagePath;
use crate::source::ImageFormat;
use crate::tree::{Fate, StackedTree};

/// Why bytes are wasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WasteCause {
    /// A later layer replaced the file with different content.
    Overwritten,
    /// A later layer deleted the file (or a directory above it).
    Deleted,
    /// A later layer stored the same content again only to change metadata (chmod, chown).
    MetadataOnly,
    /// The same content is in the final image at another path too (one copy must stay).
    Duplicate,
}

/// Bytes and files for one cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CauseTotal {
    /// Reclaimable bytes.
    pub bytes: u64,
    /// Files involved (for duplicates: the extra copies).
    pub files: u64,
}

/// Waste totals.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WasteSummary {
    /// Bytes that could go: every shadowed copy, every extra duplicate; never the copy that stays.
    pub reclaimable_bytes: u64,
    /// `reclaimable_bytes` / Σ sizes of layers above layer 0 (dive's user bytes).
    pub user_wasted_percent: f64,
    /// Files replaced by different content later.
    pub overwritten: CauseTotal,
    /// Files deleted later.
    pub deleted: CauseTotal,
    /// Files copied again only to change metadata.
    pub metadata_only: CauseTotal,
    /// Extra copies of identical content at other paths in the final image.
    pub duplicate: CauseTotal,
}

/// One wasted copy of a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WastedFile {
    /// Its path.
    pub path: ImagePath,
    /// The layer holding the wasted bytes.
    pub layer: usize,
    /// Its size.
    pub size: u64,
    /// Why it is waste.
    pub cause: WasteCause,
    /// The layer that overwrote or deleted it.
    pub by_layer: usize,
}

/// Files in the final image with identical content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DuplicateGroup {
    /// Size of each copy.
    pub size: u64,
    /// `(copies - 1) * size`.
    pub reclaimable_bytes: u64,
    /// The paths holding it, with their layers.
    pub files: Vec<LocatedFile>,
}

/// A file and the layer that holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocatedFile {
    /// Its path.
    pub path: ImagePath,
    /// Its size.
    pub size: u64,
    /// The layer it comes from.
    pub layer: usize,
}

/// What merging layers `lower..=upper` would save (duplayer's view): bytes of `lower` that
/// `upper` overwrites or deletes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MergeSaving {
    /// The layer whose files are shadowed.
    pub lower: usize,
    /// The layer that shadows them.
    pub upper: usize,
    /// Whether the two layers are neighbours.
    pub adjacent: bool,
    /// Bytes saved.
    pub bytes: u64,
    /// Files saved.
    pub files: u64,
    /// The largest of those files.
    pub largest: Vec<LocatedFile>,
}

/// One layer, summarised.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LayerSummary {
    /// Position, 0 = bottom.
    pub index: usize,
    /// The cleaned instruction that made it.
    pub instruction: Option<String>,
    /// The raw `created_by`.
    pub created_by: Option<String>,
    /// Σ tar header sizes (dive's layer size).
    pub size: u64,
    /// Bytes as stored.
    pub stored_size: u64,
    /// Compression of the stored blob.
    pub compression: Compression,
    /// sha256 of the stored blob.
    pub digest: Digest,
    /// The config's diff_id.
    pub diff_id: Option<Digest>,
    /// Entries in the layer (whiteouts included).
    pub entries: usize,
    /// Whiteouts and opaque markers.
    pub whiteouts: usize,
    /// Bytes of this layer that are waste.
    pub wasted_bytes: u64,
}

/// A warning about the image that did not stop the analysis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// The layer concerned, if one.
    pub layer: Option<usize>,
    /// What is wrong and what was done about it.
    pub message: String,
}

/// The image as a whole.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageSummary {
    /// Where it was read from.
    pub source: String,
    /// Its name or tag.
    pub name: Option<String>,
    /// The format it was in.
    pub format: ImageFormat,
    /// `os/arch[/variant]` from the config.
    pub platform: String,
    /// The config digest (image ID).
    pub config_digest: Option<Digest>,
    /// The manifest digest.
    pub manifest_digest: Option<Digest>,
    /// Number of layers.
    pub layers: usize,
    /// Σ layer sizes (dive's image size: every copy in every layer).
    pub total_size: u64,
    /// Σ stored blob sizes (what a registry stores, compressed).
    pub stored_size: u64,
    /// Bytes of regular files in the final filesystem.
    pub final_size: u64,
    /// Entries in the final filesystem (implied directories included).
    pub final_entries: u64,
}

/// Everything `kasane analyze` reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Analysis {
    /// The image.
    pub image: ImageSummary,
    /// dive's efficiency score (same formula, so dive thresholds keep their meaning).
    pub efficiency: f64,
    /// Waste totals by cause.
    pub waste: WasteSummary,
    /// Each layer.
    pub layers: Vec<LayerSummary>,
    /// The largest files in the final image.
    pub largest_files: Vec<LocatedFile>,
    /// The largest wasted copies.
    pub wasted_files: Vec<WastedFile>,
    /// Duplicate content in the final image, most reclaimable first.
    pub duplicates: Vec<DuplicateGroup>,
    /// Savings from merging layers, largest first.
    pub merge_savings: Vec<MergeSaving>,
    /// dive's own figures, for comparison and migration.
    pub dive: DiveFigures,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

/// How much detail to keep.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisOptions {
    /// Length of every list (largest files, wasted files, duplicates, merges, dive's list).
    pub top: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions { top: 20 }
    }
}

/// Analyses an image that has been read.
pub fn analyze(image: &Image, options: AnalysisOptions) -> Analysis {
    let top = options.top;
    // Independent passes over every entry: run them side by side.
    let (found, dive) = rayon::join(
        || TreeFindings::of(image, top),
        || dive_figures(&image.layers),
    );
    let TreeFindings {
        waste,
        layer_waste,
        wasted_files,
        largest,
        final_size,
        duplicates,
        merge_savings,
        final_entries,
        stray_whiteout_warnings,
    } = found;

    let layers = image
        .layers
        .iter()
        .map(|l| LayerSummary {
            index: l.index,
            instruction: l.instruction.clone(),
            created_by: l.history.as_ref().and_then(|h| h.created_by.clone()),
            size: l.changes.size,
            stored_size: l.changes.stored_bytes,
            compression: l.changes.compression,
            digest: l.changes.blob_digest.clone(),
            diff_id: l.diff_id.clone(),
            entries: l.changes.entries.len(),
            whiteouts: l
                .changes
                .entries
                .iter()
                .filter(|e| e.meta().is_none())
                .count(),
            wasted_bytes: layer_waste[l.index],
        })
        .collect();

    let mut warnings: Vec<Warning> = image
        .notes
        .iter()
        .map(|n| Warning {
            layer: None,
            message: n.clone(),
        })
        .collect();
    for l in &image.layers {
        for w in &l.changes.warnings {
            let what = match w.oddity {
                LayerOddity::AbsolutePath => {
                    "entries with absolute paths, read relative to the root"
                }
                LayerOddity::EscapingPath => {
                    "entries whose `..` climbs above the root, skipped (no runtime would place them)"
                }
                LayerOddity::InvalidWhiteout => "whiteouts named just `.wh.`, skipped",
                LayerOddity::EscapingLinkTarget => {
                    "hard links whose target climbs above the root, kept without a target"
                }
                LayerOddity::DuplicatePath => "paths that appear twice, the last entry wins",
            };
            warnings.push(Warning {
                layer: Some(l.index),
                message: format!("{} {what} (first: {})", w.count, w.example),
            });
        }
    }
    warnings.extend(stray_whiteout_warnings);

    let mut dive = dive;
    dive.inefficiencies.truncate(top);
    Analysis {
        image: ImageSummary {
            source: image.source.clone(),
            name: image.name.clone(),
            format: image.format.clone(),
            platform: image.platform().to_string(),
            config_digest: image.config_digest.clone(),
            manifest_digest: image.manifest_digest.clone(),
            layers: image.layers.len(),
            total_size: image.layers.iter().map(|l| l.changes.size).sum(),
            stored_size: image.layers.iter().map(|l| l.changes.stored_bytes).sum(),
            final_size,
            final_entries,
        },
        efficiency: dive.efficiency,
        waste,
        layers,
        largest_files: largest,
        wasted_files,
        duplicates,
        merge_savings,
        dive,
        warnings,
    }
}

/// What the stacked tree tells: waste and its lists, the final filesystem, stray whiteouts.
#[derive(Debug)]
struct TreeFindings {
    waste: WasteSummary,
    layer_waste: Vec<u64>,
    wasted_files: Vec<WastedFile>,
    largest: Vec<LocatedFile>,
    final_size: u64,
    duplicates: Vec<DuplicateGroup>,
    merge_savings: Vec<MergeSaving>,
    final_entries: u64,
    stray_whiteout_warnings: Vec<Warning>,
}

impl TreeFindings {
    /// Builds the stacked tree and everything the analysis reads from it.
    fn of(image: &Image, top: usize) -> TreeFindings {
        let tree = StackedTree::build(&image.layers);

        // Regular files whose inode stays alive through a visible hard link in the same layer are not
        // waste even when their own name is shadowed.
        let mut kept_by_link: foldhash::HashSet<(usize, &[u8])> = foldhash::HashSet::default();
        for (_, occ) in tree.all_occurrences() {
            if occ.fate != Fate::Visible {
                continue;
            }
            let entry = tree.entry(occ);
            if let Some(m) = entry.meta()
                && m.kind == FileKind::Hardlink
                && let Some(t) = &m.link_target
            {
                kept_by_link.insert((occ.layer, &t[..]));
            }
        }

        // Files are kept by reference, in tree order, and copied only into the lists reported.
        let mut waste = WasteSummary::default();
        let mut wasted: Vec<WastedRef<'_>> = Vec::new();
        let mut layer_waste = vec![0u64; image.layers.len()];
        let mut merges: foldhash::HashMap<(usize, usize), (u64, u64, Vec<u32>)> =
            foldhash::HashMap::default();
        let mut visible: Vec<FileRef<'_>> = Vec::new();
        // (size, content hash, index in `visible`) of the visible files that have content.
        let mut contents: Vec<(u64, u128, u32)> = Vec::new();
        for (_, occ) in tree.all_occurrences() {
            let entry = tree.entry(occ);
            let Some(meta) = entry.meta() else { continue };
            if meta.kind != FileKind::Regular {
                continue;
            }
            let file = FileRef {
                path: &entry.path,
                size: meta.size,
                layer: occ.layer,
            };
            let (cause, by) = match occ.fate {
                Fate::Visible => {
                    if let (Some(h), true) = (meta.content, meta.size > 0) {
                        contents.push((meta.size, h.0, index(visible.len())));
                    }
                    visible.push(file);
                    continue;
                }
                Fate::Marker => continue,
                Fate::Overwritten { by } => (WasteCause::Overwritten, by),
                Fate::MetadataOnly { by } => (WasteCause::MetadataOnly, by),
                Fate::Deleted { by } => (WasteCause::Deleted, by),
            };
            if kept_by_link.contains(&(occ.layer, entry.path.as_bytes())) {
                continue;
            }
            let total = match cause {
                WasteCause::Overwritten => &mut waste.overwritten,
                WasteCause::MetadataOnly => &mut waste.metadata_only,
                _ => &mut waste.deleted,
            };
            total.bytes += meta.size;
            total.files += 1;
            layer_waste[occ.layer] += meta.size;
            let m = merges.entry((occ.layer, by)).or_default();
            m.0 += meta.size;
            m.1 += 1;
            m.2.push(index(wasted.len()));
            wasted.push(WastedRef { file, cause, by });
        }

        // Identical content: runs of equal (size, hash), each file once, in tree order.
        contents.sort_unstable();
        let mut duplicates: Vec<DuplicateGroup> = contents
            .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
            .filter(|group| group.len() > 1)
            .map(|group| {
                let mut files: Vec<LocatedFile> = group
                    .iter()
                    .map(|&(_, _, i)| visible[i as usize].located())
                    .collect();
                files.sort_by(|a, b| a.path.cmp(&b.path));
                let size = files[0].size;
                DuplicateGroup {
                    size,
                    reclaimable_bytes: size * (files.len() as u64 - 1),
                    files,
                }
            })
            .collect();
        for g in &duplicates {
            waste.duplicate.bytes += g.reclaimable_bytes;
            waste.duplicate.files += g.files.len() as u64 - 1;
        }
        duplicates.sort_by(|a, b| {
            b.reclaimable_bytes
                .cmp(&a.reclaimable_bytes)
                .then_with(|| a.files[0].path.cmp(&b.files[0].path))
        });
        duplicates.truncate(top);

        waste.reclaimable_bytes = waste.overwritten.bytes
            + waste.deleted.bytes
            + waste.metadata_only.bytes
            + waste.duplicate.bytes;
        waste.user_wasted_percent = if waste.reclaimable_bytes == 0 {
            0.0
        } else {
            waste.reclaimable_bytes as f64 / user_size_bytes(&image.layers) as f64
        };

        // Largest first, then by path, then in tree order (what a stable sort by size and path gives).
        let by_size = |files: &[FileRef<'_>], a: u32, b: u32| {
            let (fa, fb) = (&files[a as usize], &files[b as usize]);
            fb.size
                .cmp(&fa.size)
                .then_with(|| fa.path.cmp(fb.path))
                .then(a.cmp(&b))
        };
        let wasted_file_refs: Vec<FileRef<'_>> = wasted.iter().map(|w| w.file).collect();
        let wasted_files: Vec<WastedFile> =
            first_sorted((0..index(wasted.len())).collect(), top, |&a, &b| {
                by_size(&wasted_file_refs, a, b)
            })
            .into_iter()
            .map(|i| {
                let w = &wasted[i as usize];
                WastedFile {
                    path: w.file.path.clone(),
                    layer: w.file.layer,
                    size: w.file.size,
                    cause: w.cause,
                    by_layer: w.by,
                }
            })
            .collect();
        let final_size = visible.iter().map(|f| f.size).sum();
        let largest: Vec<LocatedFile> =
            first_sorted((0..index(visible.len())).collect(), top, |&a, &b| {
                by_size(&visible, a, b)
            })
            .into_iter()
            .map(|i| visible[i as usize].located())
            .collect();

        let mut merge_savings: Vec<MergeSaving> = merges
            .into_iter()
            .map(|((lower, upper), (bytes, files, list))| {
                let list = first_sorted(list, 5, |&a, &b| by_size(&wasted_file_refs, a, b))
                    .into_iter()
                    .map(|i| wasted_file_refs[i as usize].located())
                    .collect();
                MergeSaving {
                    lower,
                    upper,
                    adjacent: upper == lower + 1,
                    bytes,
                    files,
                    largest: list,
                }
            })
            .collect();
        merge_savings.sort_by(|a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then_with(|| (a.lower, a.upper).cmp(&(b.lower, b.upper)))
        });
        merge_savings.truncate(top);

        let stray = tree.stray_whiteouts();
        let stray_whiteout_warnings = group_by_layer(stray.iter().map(|s| (s.layer, &s.path)))
            .into_iter()
            .map(|(layer, group)| Warning {
                layer: Some(layer),
                message: format!(
                    "{} whiteouts name paths no lower layer has, ignored (first: {}); dive stops analysing the layer there",
                    group.len(),
                    group[0]
                ),
            })
            .collect();

        TreeFindings {
            waste,
            layer_waste,
            wasted_files,
            largest,
            final_size,
            duplicates,
            merge_savings,
            final_entries: tree.merged_len() as u64,
            stray_whiteout_warnings,
        }
    }
}

/// A regular file of some layer, by reference until it makes a list.
#[derive(Debug, Clone, Copy)]
struct FileRef<'a> {
    path: &'a ImagePath,
    size: u64,
    layer: usize,
}

impl FileRef<'_> {
    fn located(&self) -> LocatedFile {
        LocatedFile {
            path: self.path.clone(),
            size: self.size,
            layer: self.layer,
        }
    }
}

/// A wasted copy, by reference.
#[derive(Debug, Clone, Copy)]
struct WastedRef<'a> {
    file: FileRef<'a>,
    cause: WasteCause,
    by: usize,
}

/// A position in a list of files (fewer than 4 billion: every one is a tar entry in memory).
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 4 billion files")
}

/// The first `n` of `items` in `cmp` order (a total order), sorted; the rest is never sorted.
fn first_sorted<T>(
    mut items: Vec<T>,
    n: usize,
    mut cmp: impl FnMut(&T, &T) -> std::cmp::Ordering,
) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    if items.len() > n {
        items.select_nth_unstable_by(n - 1, &mut cmp);
        items.truncate(n);
    }
    items.sort_unstable_by(cmp);
    items
}

fn group_by_layer<'a>(
    items: impl Iterator<Item = (usize, &'a ImagePath)>,
) -> Vec<(usize, Vec<&'a ImagePath>)> {
    let mut out: Vec<(usize, Vec<&ImagePath>)> = Vec::new();
    for (layer, path) in items {
        match out.last_mut() {
            Some((l, v)) if *l == layer => v.push(path),
            _ => out.push((layer, vec![path])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// What a full stable sort and a cut give, ties included.
        #[test]
        fn first_sorted_is_a_stable_sort_cut_short(
            keys in prop::collection::vec(0u8..4, 0..40),
            n in 0usize..45,
        ) {
            let by_key_then_position = |a: &u32, b: &u32| {
                keys[*a as usize].cmp(&keys[*b as usize]).then(a.cmp(b))
            };
            let got = first_sorted((0..keys.len() as u32).collect(), n, by_key_then_position);
            let mut want: Vec<u32> = (0..keys.len() as u32).collect();
            want.sort_by_key(|&i| keys[i as usize]);
            want.truncate(n);
            prop_assert_eq!(got, want);
        }
    }
}
