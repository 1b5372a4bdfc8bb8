//! Comparing two images' merged filesystems (whiteouts and opaque directories applied): which
//! paths one has and the other lacks, which changed and in what (kind, size, mode, owner, link
//! target, device, extended attributes, content hash, optionally mtime), and how the bytes of
//! regular files moved per directory.
//!
//! Modification times are left out by default: every rebuild changes them, so they would drown
//! the changes that matter (container-diff's file analyser does the same).

use std::collections::BTreeMap;

use kasane_image::{ContentHash, FileKind, FileMeta, Image, ImagePath, StackedTree};

/// How to compare.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Also report modification-time changes.
    pub mtime: bool,
    /// Deepest directory level of the per-directory size table (1 = `/usr`, 2 = `/usr/lib`).
    pub depth: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            mtime: false,
            depth: 2,
        }
    }
}

/// One path's state in one image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileState {
    /// What it is; directories no layer names are `directory` with `implied` set.
    pub kind: FileKind,
    /// Bytes of a regular file (0 otherwise).
    pub size: u64,
    /// Permission bits as octal text (`0755`).
    pub mode: String,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Symlink or hard-link target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
    /// Device numbers `major:minor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Content hash of a regular file, or of the file a hard link points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentHash>,
    /// Extended attributes, `name=value` (lossy text).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub xattrs: Vec<String>,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// A directory no layer has an entry for (it exists because something below it does).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub implied: bool,
}

impl FileState {
    fn implied_dir() -> FileState {
        FileState {
            kind: FileKind::Directory,
            size: 0,
            mode: "0755".to_owned(),
            uid: 0,
            gid: 0,
            link_target: None,
            device: None,
            content: None,
            xattrs: Vec::new(),
            mtime: 0,
            implied: true,
        }
    }

    fn of(meta: &FileMeta, linked: Option<&FileMeta>) -> FileState {
        FileState {
            kind: meta.kind,
            size: if meta.kind == FileKind::Regular {
                meta.size
            } else {
                0
            },
            mode: format!("{:04o}", meta.mode),
            uid: meta.uid,
            gid: meta.gid,
            link_target: meta
                .link_target
                .as_deref()
                .map(|t| String::from_utf8_lossy(t).into_owned()),
            device: meta.device.map(|(a, b)| format!("{a}:{b}")),
            content: meta.content.or_else(|| linked.and_then(|l| l.content)),
            xattrs: meta
                .xattrs
                .iter()
                .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v)))
                .collect(),
            mtime: meta.mtime,
            implied: false,
        }
    }
}

/// One difference in one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    /// `kind`, `size`, `mode`, `owner`, `link_target`, `device`, `xattrs`, `content`, `mtime`.
    pub field: &'static str,
    /// The value in image A.
    pub a: String,
    /// The value in image B.
    pub b: String,
}

/// A path only one image has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OneSided {
    /// The path.
    pub path: ImagePath,
    /// Its state in the image that has it.
    #[serde(flatten)]
    pub state: FileState,
}

/// A path both images have, with differences.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Changed {
    /// The path.
    pub path: ImagePath,
    /// What differs.
    pub changes: Vec<FieldChange>,
    /// Regular-file bytes in B minus in A.
    pub size_delta: i64,
}

/// How a directory's regular-file bytes (everything below it) changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DirectoryDelta {
    /// The directory.
    pub path: ImagePath,
    /// Bytes below it in A.
    pub a_bytes: u64,
    /// Bytes below it in B.
    pub b_bytes: u64,
    /// `b_bytes - a_bytes`.
    pub delta: i64,
    /// Paths below it only B has.
    pub added: u64,
    /// Paths below it only A has.
    pub removed: u64,
    /// Paths below it that changed.
    pub changed: u64,
}

/// One image's side of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Side {
    /// Where it was read from.
    pub source: String,
    /// Its name or tag.
    pub name: Option<String>,
    /// Its layers.
    pub layers: usize,
    /// Paths in its merged filesystem.
    pub entries: u64,
    /// Bytes of regular files in its merged filesystem.
    pub bytes: u64,
}

/// Everything `kasane diff` reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageDiff {
    /// Image A.
    pub a: Side,
    /// Image B.
    pub b: Side,
    /// Whether the filesystems are the same (as compared).
    pub identical: bool,
    /// Paths only B has, sorted.
    pub added: Vec<OneSided>,
    /// Paths only A has, sorted.
    pub removed: Vec<OneSided>,
    /// Paths both have that differ, sorted.
    pub changed: Vec<Changed>,
    /// Directories (up to the chosen depth, the root excluded) whose contents changed, largest
    /// change first.
    pub directories: Vec<DirectoryDelta>,
}

/// The merged filesystem of an image, path → state.
fn merged_states(image: &Image) -> BTreeMap<ImagePath, FileState> {
    let tree = StackedTree::build(&image.layers);
    let mut out = BTreeMap::new();
    tree.walk_merged(|_, path, meta| {
        let state = match meta {
            None => FileState::implied_dir(),
            Some(m) if m.kind == FileKind::Hardlink => {
                let linked = m
                    .link_target
                    .as_deref()
                    .and_then(|t| ImagePath::normalize(t).ok())
                    .and_then(|(p, _)| tree.lookup(&p))
                    .and_then(|n| tree.visible_entry(n))
                    .map(|(_, m)| m);
                FileState::of(m, linked)
            }
            Some(m) => FileState::of(m, None),
        };
        out.insert(path.clone(), state);
    });
    out
}

fn field_changes(a: &FileState, b: &FileState, options: DiffOptions) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut field = |name: &'static str, x: String, y: String| {
        if x != y {
            out.push(FieldChange {
                field: name,
                a: x,
                b: y,
            });
        }
    };
    let kind = |s: &FileState| {
        let k = serde_json_kind(s.kind);
        if s.implied {
            format!("{k} (implied)")
        } else {
            k.to_owned()
        }
    };
    if a.kind != b.kind {
        field("kind", kind(a), kind(b));
    }
    field("size", a.size.to_string(), b.size.to_string());
    if !(a.implied || b.implied) {
        field("mode", a.mode.clone(), b.mode.clone());
        field(
            "owner",
            format!("{}:{}", a.uid, a.gid),
            format!("{}:{}", b.uid, b.gid),
        );
    }
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    field("link_target", opt(&a.link_target), opt(&b.link_target));
    field("device", opt(&a.device), opt(&b.device));
    field("xattrs", a.xattrs.join(" "), b.xattrs.join(" "));
    let hash =
        |c: &Option<ContentHash>| c.map(|h| format!("xxh3:{:032x}", h.0)).unwrap_or_default();
    field("content", hash(&a.content), hash(&b.content));
    if options.mtime && !(a.implied || b.implied) {
        field("mtime", a.mtime.to_string(), b.mtime.to_string());
    }
    out
}

/// The kind as JSON names it (`regular`, `directory`, `symlink`, ...).
pub fn serde_json_kind(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Regular => "regular",
        FileKind::Directory => "directory",
        FileKind::Symlink => "symlink",
        FileKind::Hardlink => "hardlink",
        FileKind::CharDevice => "char_device",
        FileKind::BlockDevice => "block_device",
        FileKind::Fifo => "fifo",
        FileKind::Other => "other",
    }
}

/// Compares image `a` with image `b`.
pub fn diff(a: &Image, b: &Image, options: DiffOptions) -> ImageDiff {
    let sa = merged_states(a);
    let sb = merged_states(b);
    let side = |image: &Image, states: &BTreeMap<ImagePath, FileState>| Side {
        source: image.source.clone(),
        name: image.name.clone(),
        layers: image.layers.len(),
        entries: states.len() as u64,
        bytes: states.values().map(|s| s.size).sum(),
    };
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    #[derive(Default)]
    struct Acc {
        a: u64,
        b: u64,
        added: u64,
        removed: u64,
        changed: u64,
    }
    let mut dirs: BTreeMap<ImagePath, Acc> = BTreeMap::new();
    let depth = options.depth.max(1);
    let mut account = |path: &ImagePath, f: &dyn Fn(&mut Acc)| {
        // Every ancestor directory up to `depth` (the path itself when it is at most that deep
        // is not its own ancestor).
        let levels = path.depth().saturating_sub(1).min(depth);
        for level in 1..=levels {
            f(dirs.entry(path.truncated(level)).or_default());
        }
    };
    for (path, state) in &sa {
        let size = state.size;
        account(path, &|acc| acc.a += size);
        match sb.get(path) {
            None => {
                account(path, &|acc| acc.removed += 1);
                removed.push(OneSided {
                    path: path.clone(),
                    state: state.clone(),
                });
            }
            Some(other) => {
                let changes = field_changes(state, other, options);
                if !changes.is_empty() {
                    account(path, &|acc| acc.changed += 1);
                    changed.push(Changed {
                        path: path.clone(),
                        changes,
                        size_delta: other.size as i64 - state.size as i64,
                    });
                }
            }
        }
    }
    for (path, state) in &sb {
        let size = state.size;
        account(path, &|acc| acc.b += size);
        if !sa.contains_key(path) {
            account(path, &|acc| acc.added += 1);
            added.push(OneSided {
                path: path.clone(),
                state: state.clone(),
            });
        }
    }
    // The root's row would only repeat the totals of `Side`.
    let mut directories: Vec<DirectoryDelta> = dirs
        .into_iter()
        .filter(|(path, acc)| !path.is_root() && acc.added + acc.removed + acc.changed > 0)
        .map(|(path, acc)| DirectoryDelta {
            path,
            a_bytes: acc.a,
            b_bytes: acc.b,
            delta: acc.b as i64 - acc.a as i64,
            added: acc.added,
            removed: acc.removed,
            changed: acc.changed,
        })
        .collect();
    directories.sort_by(|x, y| {
        y.delta
            .unsigned_abs()
            .cmp(&x.delta.unsigned_abs())
            .then_with(|| x.path.cmp(&y.path))
    });
    let identical = added.is_empty() && removed.is_empty() && changed.is_empty();
    ImageDiff {
        a: side(a, &sa),
        b: side(b, &sb),
        identical,
        added,
        removed,
        changed,
        directories,
    }
}
