//! The explorer's state and what each key does. Nothing here draws or touches the terminal, so
//! every interaction can be tested by feeding keys and looking at the state or a rendered buffer.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use kasane_export::{DirSink, Selection, TargetPolicy, plan, write_plan};
use kasane_image::analysis::{Analysis, AnalysisOptions};
use kasane_image::content::read_file;
use kasane_image::spec::History;
use kasane_image::{
    Error, FileKind, FileMeta, Image, ImagePath, LayerChanges, Occurrence, ResolvedImage, Source,
    assemble_layer,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::model::{FsModel, Layout, Row, Status, View};

/// Bytes of a file the viewer reads at most.
pub const VIEW_LIMIT: usize = 256 * 1024;

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The layer list.
    Layers,
    /// The file tree.
    Tree,
}

/// What the file tree compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// The selected layer's own changes (against the layer below it).
    Layer,
    /// Everything layers 1..=selected changed (against layer 0), as dive's aggregated view.
    Aggregated,
}

/// A window over the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    /// Nothing.
    None,
    /// The key list.
    Help,
    /// A file's contents.
    File {
        /// What is shown (path and layer).
        title: String,
        /// Its lines (text, or a hex dump).
        lines: Vec<String>,
        /// First line shown.
        scroll: usize,
    },
    /// Asking where to extract.
    Extract {
        /// The path to extract.
        path: ImagePath,
        /// The directory typed so far.
        input: String,
    },
}

/// One layer as the list shows it before and after it is read.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    /// The cleaned instruction that made it, when history lines up.
    pub instruction: Option<String>,
    /// The blob's digest or location.
    pub blob: String,
    /// The blob's size as the manifest declares it.
    pub stored_size: Option<u64>,
    /// Why it could not be read.
    pub error: Option<String>,
}

/// The explorer.
#[derive(Debug)]
pub struct App {
    source: Arc<dyn Source>,
    resolved: ResolvedImage,
    histories: Vec<Option<History>>,
    /// The image: its layers grow as they are read (always a contiguous bottom prefix).
    pub image: Image,
    pending: BTreeMap<usize, LayerChanges>,
    /// Every layer, read or not.
    pub infos: Vec<LayerInfo>,
    model: Option<FsModel>,
    view: Option<View>,
    /// The tree's lines.
    pub rows: Vec<Row>,
    /// The selected layer.
    pub selected_layer: usize,
    /// The comparison.
    pub compare: Compare,
    /// The pane with the keyboard.
    pub focus: Focus,
    /// Sort, filter, only-changes.
    pub layout: Layout,
    expanded: HashSet<ImagePath>,
    collapsed: HashSet<ImagePath>,
    /// The selected tree line.
    pub cursor: usize,
    /// First tree line on screen (kept by the renderer).
    pub tree_offset: usize,
    /// Tree lines on screen at the last draw (for page keys).
    pub tree_height: usize,
    /// The open window.
    pub popup: Popup,
    /// The filter is being typed.
    pub editing_filter: bool,
    /// Waste analysis, once every layer is read.
    pub analysis: Option<Analysis>,
    /// A message for the status line (cleared by the next key).
    pub message: Option<String>,
    /// Where extracts go unless the user types another directory.
    pub extract_default: PathBuf,
    /// Set when the user quits.
    pub quit: bool,
}

impl App {
    /// An explorer of `resolved` (read from `source`) before any layer is read.
    pub fn new(source: Arc<dyn Source>, resolved: ResolvedImage, description: String) -> App {
        let (histories, history_note) =
            kasane_image::image::map_history(&resolved.config.history, resolved.layers.len());
        let infos = resolved
            .layers
            .iter()
            .zip(&histories)
            .map(|(blob, h)| LayerInfo {
                instruction: h
                    .as_ref()
                    .and_then(|h| h.created_by.as_deref())
                    .map(kasane_image::image::clean_instruction),
                blob: blob.digest.as_ref().map_or_else(
                    || blob.location.clone(),
                    |d| format!("{}:{}", d.algorithm(), d.short()),
                ),
                stored_size: blob.size,
                error: None,
            })
            .collect();
        let mut notes = resolved.notes.clone();
        notes.extend(history_note);
        let image = Image {
            source: description,
            name: resolved.name.clone(),
            format: resolved.format.clone(),
            manifest_digest: resolved.manifest_digest.clone(),
            config_digest: resolved.config_digest.clone(),
            config: resolved.config.clone(),
            layers: Vec::new(),
            notes,
        };
        App {
            source,
            resolved,
            histories,
            image,
            pending: BTreeMap::new(),
            infos,
            model: None,
            view: None,
            rows: Vec::new(),
            selected_layer: 0,
            compare: Compare::Layer,
            focus: Focus::Layers,
            layout: Layout::default(),
            expanded: HashSet::new(),
            collapsed: HashSet::new(),
            cursor: 0,
            tree_offset: 0,
            tree_height: 20,
            popup: Popup::None,
            editing_filter: false,
            analysis: None,
            message: None,
            extract_default: PathBuf::from("kasane-extract"),
            quit: false,
        }
    }

    /// Layers in the image.
    pub fn layer_count(&self) -> usize {
        self.infos.len()
    }

    /// Layers read so far (a bottom prefix).
    pub fn loaded(&self) -> usize {
        self.image.layers.len()
    }

    /// The layer the tree is compared with, for the selected layer and comparison.
    pub fn base_layer(&self) -> Option<usize> {
        match self.compare {
            Compare::Layer => self.selected_layer.checked_sub(1),
            Compare::Aggregated => (self.selected_layer > 0).then_some(0),
        }
    }

    /// The current view (when the selected layer is read).
    pub fn view(&self) -> Option<&View> {
        self.view.as_ref()
    }

    /// Takes a layer the loader read (in any order).
    pub fn add_layer(&mut self, index: usize, result: Result<LayerChanges, Error>) {
        match result {
            Ok(changes) => {
                self.pending.insert(index, changes);
            }
            Err(e) => {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                if let Some(info) = self.infos.get_mut(index) {
                    info.error = Some(text.clone());
                }
                self.message = Some(format!("could not read {text}"));
            }
        }
        let before = self.image.layers.len();
        while let Some(changes) = self.pending.remove(&self.image.layers.len()) {
            let i = self.image.layers.len();
            let layer = assemble_layer(&self.resolved, &self.histories, i, changes);
            self.image.layers.push(layer);
        }
        if self.image.layers.len() != before {
            self.model = Some(FsModel::build(&self.image.layers));
            if self.loaded() == self.layer_count() {
                self.analysis = Some(kasane_image::analyze(
                    &self.image,
                    AnalysisOptions { top: 50 },
                ));
            }
            self.refresh();
        }
    }

    /// Recomputes the view and the tree lines, keeping the cursor on the same path.
    pub fn refresh(&mut self) {
        let keep = self.rows.get(self.cursor).map(|r| r.path.clone());
        self.view = None;
        self.rows.clear();
        if let Some(model) = &self.model
            && self.selected_layer < model.layers()
        {
            let view = model.view(&self.image.layers, self.selected_layer, self.base_layer());
            self.rows = model.rows(
                &self.image.layers,
                &view,
                &self.layout,
                &self.expanded,
                &self.collapsed,
            );
            self.view = Some(view);
        }
        self.cursor = keep
            .and_then(|p| self.rows.iter().position(|r| r.path == p))
            .unwrap_or(self.cursor)
            .min(self.rows.len().saturating_sub(1));
    }

    /// The metadata of a tree line's entry (the base one for removed paths).
    pub fn row_entry(&self, row: &Row) -> Option<(Occurrence, &FileMeta)> {
        let v = self.view.as_ref()?.node(row.node);
        let occ = if v.present { v.entry } else { v.base_entry }?;
        let meta = self
            .image
            .layers
            .get(occ.layer)?
            .changes
            .entries
            .get(occ.entry)?
            .meta()?;
        Some((occ, meta))
    }

    /// A tree line's comparison status and size.
    pub fn row_status(&self, row: &Row) -> (Status, bool, u64) {
        match &self.view {
            Some(v) => {
                let n = v.node(row.node);
                (n.status, n.changes_below, n.size)
            }
            None => (Status::Unmodified, false, 0),
        }
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        self.message = None;
        match &mut self.popup {
            Popup::Help => {
                self.popup = Popup::None;
                return;
            }
            Popup::File { lines, scroll, .. } => {
                let max = lines.len().saturating_sub(1);
                let page = self.tree_height.max(1);
                match key.code {
                    KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('v') | KeyCode::Enter => {
                        self.popup = Popup::None;
                    }
                    KeyCode::Down | KeyCode::Char('j') => *scroll = (*scroll + 1).min(max),
                    KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                    KeyCode::PageDown | KeyCode::Char(' ') => *scroll = (*scroll + page).min(max),
                    KeyCode::PageUp => *scroll = scroll.saturating_sub(page),
                    KeyCode::Home | KeyCode::Char('g') => *scroll = 0,
                    KeyCode::End | KeyCode::Char('G') => *scroll = max,
                    _ => {}
                }
                return;
            }
            Popup::Extract { path, input } => {
                match key.code {
                    KeyCode::Esc => self.popup = Popup::None,
                    KeyCode::Enter => {
                        let (path, dir) = (path.clone(), PathBuf::from(input.trim()));
                        self.popup = Popup::None;
                        self.extract(&path, &dir);
                    }
                    KeyCode::Backspace => {
                        input.pop();
                    }
                    KeyCode::Char(c) if !ctrl => input.push(c),
                    _ => {}
                }
                return;
            }
            Popup::None => {}
        }
        if self.editing_filter {
            match key.code {
                KeyCode::Enter => self.editing_filter = false,
                KeyCode::Esc => {
                    self.editing_filter = false;
                    self.layout.filter.clear();
                    self.refresh();
                }
                KeyCode::Backspace => {
                    self.layout.filter.pop();
                    self.refresh();
                }
                KeyCode::Char(c) if !ctrl => {
                    self.layout.filter.push(c);
                    self.cursor = 0;
                    self.refresh();
                }
                _ => {}
            }
            return;
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.popup = Popup::Help,
            KeyCode::Tab | KeyCode::BackTab => {
                self.focus = match self.focus {
                    Focus::Layers => Focus::Tree,
                    Focus::Tree => Focus::Layers,
                };
            }
            KeyCode::Char('/') => {
                self.focus = Focus::Tree;
                self.editing_filter = true;
            }
            KeyCode::Esc if !self.layout.filter.is_empty() => {
                self.layout.filter.clear();
                self.refresh();
            }
            KeyCode::Char('s') => {
                self.layout.by_size = !self.layout.by_size;
                self.refresh();
            }
            KeyCode::Char('c') => {
                self.layout.only_changes = !self.layout.only_changes;
                self.refresh();
            }
            KeyCode::Char('a') => {
                self.compare = match self.compare {
                    Compare::Layer => Compare::Aggregated,
                    Compare::Aggregated => Compare::Layer,
                };
                self.refresh();
            }
            KeyCode::Char('v') => self.view_selected(),
            KeyCode::Char('x') => self.ask_extract(),
            _ => match self.focus {
                Focus::Layers => self.layers_key(key.code),
                Focus::Tree => self.tree_key(key.code),
            },
        }
    }

    fn layers_key(&mut self, code: KeyCode) {
        let last = self.layer_count().saturating_sub(1);
        let page = 5;
        let next = match code {
            KeyCode::Down | KeyCode::Char('j') => (self.selected_layer + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') => self.selected_layer.saturating_sub(1),
            KeyCode::PageDown => (self.selected_layer + page).min(last),
            KeyCode::PageUp => self.selected_layer.saturating_sub(page),
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => last,
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
                self.focus = Focus::Tree;
                return;
            }
            _ => return,
        };
        if next != self.selected_layer {
            self.selected_layer = next;
            self.refresh();
        }
    }

    fn selected_row(&self) -> Option<&Row> {
        self.rows.get(self.cursor)
    }

    fn tree_key(&mut self, code: KeyCode) {
        let last = self.rows.len().saturating_sub(1);
        let page = self.tree_height.max(1);
        match code {
            KeyCode::Down | KeyCode::Char('j') => self.cursor = (self.cursor + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::PageDown => self.cursor = (self.cursor + page).min(last),
            KeyCode::PageUp => self.cursor = self.cursor.saturating_sub(page),
            KeyCode::Home | KeyCode::Char('g') => self.cursor = 0,
            KeyCode::End | KeyCode::Char('G') => self.cursor = last,
            KeyCode::Right | KeyCode::Char('l') => {
                if let Some(row) = self.selected_row().cloned()
                    && row.is_dir
                {
                    if row.expanded {
                        self.cursor = (self.cursor + 1).min(last);
                    } else {
                        self.set_open(&row.path, true);
                    }
                }
            }
            KeyCode::Left | KeyCode::Char('h') => {
                if let Some(row) = self.selected_row().cloned() {
                    if row.is_dir && row.expanded {
                        self.set_open(&row.path, false);
                    } else if let Some(parent) = row.path.parent()
                        && let Some(i) = self.rows.iter().position(|r| r.path == parent)
                    {
                        self.cursor = i;
                    }
                }
            }
            KeyCode::Char(' ') => {
                if let Some(row) = self.selected_row().cloned()
                    && row.is_dir
                {
                    self.set_open(&row.path, !row.expanded);
                }
            }
            KeyCode::Enter => match self.selected_row().cloned() {
                Some(row) if row.is_dir => self.set_open(&row.path, !row.expanded),
                Some(_) => self.view_selected(),
                None => {}
            },
            KeyCode::Char('+') => self.open_all(true),
            KeyCode::Char('-') => self.open_all(false),
            _ => {}
        }
    }

    fn auto_open(&self) -> bool {
        !self.layout.filter.is_empty() || self.layout.only_changes
    }

    fn set_open(&mut self, path: &ImagePath, open: bool) {
        if self.auto_open() {
            if open {
                self.collapsed.remove(path);
            } else {
                self.collapsed.insert(path.clone());
            }
        } else if open {
            self.expanded.insert(path.clone());
        } else {
            self.expanded.remove(path);
        }
        self.refresh();
    }

    fn open_all(&mut self, open: bool) {
        if open {
            self.collapsed.clear();
            // Open every directory of the current filesystem.
            loop {
                let closed: Vec<ImagePath> = self
                    .rows
                    .iter()
                    .filter(|r| r.is_dir && !r.expanded)
                    .map(|r| r.path.clone())
                    .collect();
                if closed.is_empty() {
                    break;
                }
                self.expanded.extend(closed);
                self.refresh();
            }
        } else {
            self.expanded.clear();
            let open: Vec<ImagePath> = self
                .rows
                .iter()
                .filter(|r| r.is_dir && r.expanded)
                .map(|r| r.path.clone())
                .collect();
            self.collapsed.extend(open);
            self.cursor = 0;
        }
        self.refresh();
    }

    /// Opens the viewer on the selected file (a hard link shows its inode's file).
    fn view_selected(&mut self) {
        let Some(row) = self.selected_row().cloned() else {
            return;
        };
        let Some((occ, meta)) = self.row_entry(&row) else {
            self.message = Some(format!("{}: a directory no layer names", row.path));
            return;
        };
        let (occ, meta) = match meta.kind {
            FileKind::Regular => (occ, meta.clone()),
            FileKind::Hardlink => match self.hardlink_file(meta) {
                Some(found) => found,
                None => {
                    self.message = Some(format!("{}: its hard-link target is gone", row.path));
                    return;
                }
            },
            FileKind::Symlink => {
                self.message = Some(format!(
                    "{} is a symlink to {}",
                    row.path,
                    String::from_utf8_lossy(meta.link_target.as_deref().unwrap_or_default())
                ));
                return;
            }
            FileKind::Directory => {
                self.set_open(&row.path, !row.expanded);
                return;
            }
            other => {
                self.message = Some(format!("{} is a {other:?} with no contents", row.path));
                return;
            }
        };
        let layer = &self.image.layers[occ.layer];
        match read_file(self.source.as_ref(), layer, occ.entry, VIEW_LIMIT) {
            Ok((bytes, truncated)) => {
                let mut lines = render_content(&bytes);
                if truncated {
                    lines.push(format!(
                        "… (the first {} of {} shown)",
                        crate::ui::human(VIEW_LIMIT as u64),
                        crate::ui::human(meta.size)
                    ));
                }
                self.popup = Popup::File {
                    title: format!(
                        "{} (layer {}, {})",
                        row.path,
                        occ.layer,
                        crate::ui::human(meta.size)
                    ),
                    lines,
                    scroll: 0,
                };
            }
            Err(e) => self.message = Some(format!("could not read {}: {e}", row.path)),
        }
    }

    /// The regular file a hard link shares its inode with, as the shown filesystem has it.
    fn hardlink_file(&self, meta: &FileMeta) -> Option<(Occurrence, FileMeta)> {
        let target = ImagePath::normalize(meta.link_target.as_deref()?).ok()?.0;
        let model = self.model.as_ref()?;
        let node = model.lookup(&target)?;
        let v = self.view.as_ref()?.node(node);
        let occ = v.entry?;
        let m = self.image.layers[occ.layer].changes.entries[occ.entry].meta()?;
        (m.kind == FileKind::Regular).then(|| (occ, m.clone()))
    }

    fn ask_extract(&mut self) {
        let Some(row) = self.selected_row().cloned() else {
            return;
        };
        if self
            .view
            .as_ref()
            .is_some_and(|v| !v.node(row.node).present)
        {
            self.message = Some(format!(
                "{} does not exist after layer {}: nothing to extract",
                row.path, self.selected_layer
            ));
            return;
        }
        self.popup = Popup::Extract {
            path: row.path,
            input: self.extract_default.display().to_string(),
        };
    }

    /// Extracts `path` as it is after the selected layer into `dir` (created if missing; nothing
    /// existing is overwritten, nothing is written outside it).
    pub fn extract(&mut self, path: &ImagePath, dir: &std::path::Path) {
        if dir.as_os_str().is_empty() {
            self.message = Some("no directory given: nothing extracted".to_owned());
            return;
        }
        let selection = Selection {
            upto_layer: Some(self.selected_layer),
            subtree: Some(path.clone()),
        };
        let result = plan::merged(&self.image, &selection).and_then(|plan| {
            let mut sink = DirSink::create(
                dir,
                TargetPolicy::NewNamesOnly,
                kasane_export::running_as_root(),
            )?;
            write_plan(self.source.as_ref(), &self.image, &plan, &mut sink)
        });
        self.message = Some(match result {
            Ok(report) => format!(
                "extracted {} to {}: {} entries, {}",
                path,
                dir.join(String::from_utf8_lossy(path.file_name()).as_ref())
                    .display(),
                report.entries(),
                crate::ui::human(report.bytes)
            ),
            Err(e) => format!("extract failed: {e}"),
        });
    }
}

/// A file's bytes as lines: text when it looks like text, a hex dump otherwise.
pub fn render_content(bytes: &[u8]) -> Vec<String> {
    let head = &bytes[..bytes.len().min(8192)];
    let text = !head.contains(&0) && std::str::from_utf8(bytes).is_ok_or_truncated();
    if text {
        let s = String::from_utf8_lossy(bytes);
        return s.lines().map(|l| l.replace('\t', "    ")).collect();
    }
    let mut lines = vec!["(binary file: hex dump of the first 4 kB)".to_owned()];
    for (i, chunk) in bytes[..bytes.len().min(4096)].chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        lines.push(format!("{:08x}  {:<47}  {ascii}", i * 16, hex.join(" ")));
    }
    lines
}

/// UTF-8 that is valid except for a character cut at the end of a truncated read.
trait Utf8Ok {
    fn is_ok_or_truncated(&self) -> bool;
}

impl Utf8Ok for Result<&str, std::str::Utf8Error> {
    fn is_ok_or_truncated(&self) -> bool {
        match self {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
    }
}
