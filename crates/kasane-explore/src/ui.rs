//! Drawing the explorer: layers, layer details and wasted space on the left, the file tree on the
//! right, a status line, and the help, file and extract windows.

use kasane_image::{FileKind, FileMeta};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::{App, Compare, Focus, Popup};
use crate::model::Status;

pub use kasane_image::size::si as human;

/// The colour of a comparison status.
pub fn status_style(status: Status) -> Style {
    match status {
        Status::Added => Style::new().fg(Color::Green),
        Status::Removed => Style::new().fg(Color::Red),
        Status::Modified => Style::new().fg(Color::Yellow),
        Status::Unmodified => Style::new(),
    }
}

fn focused_block(title: String, focused: bool) -> Block<'static> {
    let block = Block::bordered().title(title);
    if focused {
        block.border_style(Style::new().fg(Color::Cyan))
    } else {
        block
    }
}

/// Draws the whole screen (and keeps the tree scrolled to its cursor).
pub fn draw(frame: &mut Frame<'_>, app: &mut App) {
    let [main, status] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(main);
    let layer_rows = u16::try_from(app.layer_count())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let [layers, details, waste] = Layout::vertical([
        Constraint::Max(layer_rows.max(3)),
        Constraint::Length(7),
        Constraint::Min(5),
    ])
    .areas(left);
    draw_layers(frame, app, layers);
    draw_details(frame, app, details);
    draw_waste(frame, app, waste);
    draw_tree(frame, app, right);
    draw_status(frame, app, status);
    draw_popup(frame, app);
}

fn draw_layers(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let height = area.height.saturating_sub(2) as usize;
    let offset = app.selected_layer.saturating_sub(height.saturating_sub(1));
    let mut lines = Vec::new();
    let (lo, hi) = match app.compare {
        Compare::Layer => (app.selected_layer, app.selected_layer),
        Compare::Aggregated => (app.selected_layer.min(1), app.selected_layer),
    };
    for (i, info) in app.infos.iter().enumerate().skip(offset).take(height) {
        let cmp = if i == app.selected_layer {
            "■"
        } else if (lo..=hi).contains(&i) {
            "□"
        } else {
            " "
        };
        let size = match app.image.layers.get(i) {
            Some(l) => human(l.changes.size),
            None if info.error.is_some() => "error".to_owned(),
            None => "loading…".to_owned(),
        };
        let command = info.instruction.as_deref().unwrap_or("(no history)");
        let command = command.replace('\n', "↵");
        let mut style = Style::new();
        if i == app.selected_layer {
            style = if app.focus == Focus::Layers {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style.add_modifier(Modifier::BOLD)
            };
        }
        if info.error.is_some() {
            style = style.fg(Color::Red);
        }
        lines.push(Line::styled(
            format!("{cmp} {i:>3} {size:>9}  {command}"),
            style,
        ));
    }
    let title = format!(
        "Layers ({}{})",
        app.layer_count(),
        if app.loaded() < app.layer_count() {
            format!(", {} read", app.loaded())
        } else {
            String::new()
        }
    );
    frame.render_widget(
        Paragraph::new(lines).block(focused_block(title, app.focus == Focus::Layers)),
        area,
    );
}

fn draw_details(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let i = app.selected_layer;
    let mut lines = Vec::new();
    if let Some(info) = app.infos.get(i) {
        match app.image.layers.get(i) {
            Some(l) => {
                let d = &l.changes.blob_digest;
                lines.push(Line::raw(format!(
                    "Size: {} in {} entries",
                    human(l.changes.size),
                    l.changes.entries.len()
                )));
                lines.push(Line::raw(format!(
                    "Blob: {}:{}, {} stored ({})",
                    d.algorithm(),
                    d.short(),
                    human(l.changes.stored_bytes),
                    l.changes.compression.name()
                )));
            }
            None => {
                lines.push(Line::raw(match &info.error {
                    Some(e) => format!("Error: {e}"),
                    None => "Size: (not read yet)".to_owned(),
                }));
                lines.push(Line::raw(format!("Blob: {}", info.blob)));
            }
        }
        lines.push(Line::raw(format!(
            "Command: {}",
            info.instruction.as_deref().unwrap_or("(no history)")
        )));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!("Layer {i}"))),
        area,
    );
}

fn draw_waste(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let mut lines = Vec::new();
    let name = app
        .image
        .name
        .clone()
        .unwrap_or_else(|| app.image.source.clone());
    lines.push(Line::raw(format!("Image: {name}")));
    match &app.analysis {
        None => {
            lines.push(Line::raw(format!(
                "Wasted space: computed once every layer is read ({}/{})",
                app.loaded(),
                app.layer_count()
            )));
        }
        Some(a) => {
            lines.push(Line::raw(format!(
                "Total: {}  Wasted: {}  Efficiency: {:.1} %",
                human(a.image.total_size),
                human(a.waste.reclaimable_bytes),
                a.efficiency * 100.0
            )));
            lines.push(Line::styled(
                format!("{:>9} {:>5}  {:<9} Path", "Wasted", "Layer", "Cause"),
                Style::new().add_modifier(Modifier::BOLD),
            ));
            if a.wasted_files.is_empty() {
                lines.push(Line::raw("(no wasted files)"));
            }
            for w in &a.wasted_files {
                let cause = match w.cause {
                    kasane_image::WasteCause::Overwritten => "overwrite",
                    kasane_image::WasteCause::Deleted => "deleted",
                    kasane_image::WasteCause::MetadataOnly => "metadata",
                    kasane_image::WasteCause::Duplicate => "duplicate",
                };
                lines.push(Line::raw(format!(
                    "{:>9} {:>5}  {cause:<9} {}",
                    human(w.size),
                    w.layer,
                    w.path
                )));
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title("Image and wasted space")),
        area,
    );
}

/// `drwxr-xr-x` from a kind and mode.
pub fn permissions(meta: Option<&FileMeta>) -> String {
    let Some(m) = meta else {
        return "drwxr-xr-x".to_owned();
    };
    let kind = match m.kind {
        FileKind::Directory => 'd',
        FileKind::Symlink => 'l',
        FileKind::CharDevice => 'c',
        FileKind::BlockDevice => 'b',
        FileKind::Fifo => 'p',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(kind);
    for (shift, special, chars) in [
        (6, 0o4000, ['r', 'w', 'x', 's', 'S']),
        (3, 0o2000, ['r', 'w', 'x', 's', 'S']),
        (0, 0o1000, ['r', 'w', 'x', 't', 'T']),
    ] {
        let bits = (m.mode >> shift) & 7;
        s.push(if bits & 4 != 0 { chars[0] } else { '-' });
        s.push(if bits & 2 != 0 { chars[1] } else { '-' });
        let x = bits & 1 != 0;
        s.push(match (m.mode & special != 0, x) {
            (true, true) => chars[3],
            (true, false) => chars[4],
            (false, true) => chars[2],
            (false, false) => '-',
        });
    }
    s
}

fn draw_tree(frame: &mut Frame<'_>, app: &mut App, area: Rect) {
    let i = app.selected_layer;
    let mut title = match app.compare {
        Compare::Layer if i == 0 => "Layer 0 contents".to_owned(),
        Compare::Layer => format!("Layer {i} contents, its changes over layer {}", i - 1),
        Compare::Aggregated if i == 0 => "Aggregated contents after layer 0".to_owned(),
        Compare::Aggregated => format!("Aggregated contents, layers 1..{i} over layer 0"),
    };
    let mut flags = vec![if app.layout.by_size { "size" } else { "name" }.to_owned()];
    if app.layout.only_changes {
        flags.push("changes only".to_owned());
    }
    if !app.layout.filter.is_empty() {
        flags.push(format!("filter `{}`", app.layout.filter));
    }
    title.push_str(&format!(" [{}]", flags.join(", ")));
    let block = focused_block(title, app.focus == Focus::Tree);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    app.tree_height = height;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(
                "{:<10} {:>11} {:>9}  Filetree   ",
                "Permission", "UID:GID", "Size"
            ),
            bold,
        ),
        Span::styled("added ", status_style(Status::Added)),
        Span::styled("modified ", status_style(Status::Modified)),
        Span::styled("removed", status_style(Status::Removed)),
    ])];
    if app.view().is_none() {
        let why = if let Some(e) = app.infos.get(i).and_then(|l| l.error.clone()) {
            format!("layer {i} could not be read: {e}")
        } else if i >= app.loaded() {
            format!(
                "reading layers… ({} of {} read; layer {i} is shown once layers 0..{i} are read)",
                app.loaded(),
                app.layer_count()
            )
        } else {
            "nothing to show".to_owned()
        };
        lines.push(Line::raw(why));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    if app.cursor < app.tree_offset {
        app.tree_offset = app.cursor;
    } else if height > 0 && app.cursor >= app.tree_offset + height {
        app.tree_offset = app.cursor + 1 - height;
    }
    if app.rows.is_empty() {
        lines.push(Line::raw(if app.layout.filter.is_empty() {
            "(nothing here)".to_owned()
        } else {
            format!("(no path contains `{}`)", app.layout.filter)
        }));
    }
    for (n, row) in app
        .rows
        .iter()
        .enumerate()
        .skip(app.tree_offset)
        .take(height)
    {
        let entry = app.row_entry(row);
        let meta = entry.map(|(_, m)| m);
        let (status, below, size) = app.row_status(row);
        let mut style = status_style(status);
        if status == Status::Unmodified && below {
            style = style.fg(Color::Yellow).add_modifier(Modifier::DIM);
        }
        let owner = meta.map_or_else(|| "0:0".to_owned(), |m| format!("{}:{}", m.uid, m.gid));
        let size = if row.is_dir || meta.is_some_and(|m| m.kind == FileKind::Regular) {
            human(size)
        } else {
            String::new()
        };
        let mut guide = String::new();
        for &last in &row.guides {
            guide.push_str(if last { "    " } else { "│   " });
        }
        guide.push_str(if row.last { "└── " } else { "├── " });
        let marker = if row.is_dir {
            if row.expanded { "▾ " } else { "▸ " }
        } else {
            ""
        };
        let mut name = format!("{marker}{}", row.name);
        if let Some(m) = meta
            && matches!(m.kind, FileKind::Symlink | FileKind::Hardlink)
        {
            let arrow = if m.kind == FileKind::Symlink {
                "→"
            } else {
                "⇒"
            };
            name.push_str(&format!(
                " {arrow} {}",
                String::from_utf8_lossy(m.link_target.as_deref().unwrap_or_default())
            ));
        }
        let text = format!(
            "{:<10} {owner:>11} {size:>9}  {guide}{name}",
            permissions(meta)
        );
        if n == app.cursor {
            style = if app.focus == Focus::Tree {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style.add_modifier(Modifier::UNDERLINED)
            };
        }
        lines.push(Line::styled(text, style));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_status(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let line = if app.editing_filter {
        Line::from(vec![
            Span::styled(" Filter: ", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(format!("{}█", app.layout.filter)),
            Span::raw("  (Enter keeps it, Esc clears it)"),
        ])
    } else if let Some(m) = &app.message {
        Line::styled(format!(" {m}"), Style::new().fg(Color::Cyan))
    } else {
        let loading = if app.loaded() < app.layer_count() {
            format!(" reading {}/{} │", app.loaded(), app.layer_count())
        } else {
            String::new()
        };
        Line::raw(format!(
            "{loading} Tab pane · ↑↓ move · a aggregate · / filter · s sort · c changes · v view · x extract · ? help · q quit"
        ))
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The key list shown by `?`.
pub const HELP: &[(&str, &str)] = &[
    ("Tab", "switch between the layer list and the file tree"),
    ("↑ ↓ / k j", "move; PgUp PgDn, Home End (g G) jump"),
    (
        "a",
        "compare: this layer's changes ↔ aggregated changes since layer 0",
    ),
    (
        "→ / l, ← / h",
        "open a directory, close it or go to its parent",
    ),
    (
        "Space, Enter",
        "open or close a directory (Enter on a file views it)",
    ),
    ("+ / -", "open all / close all directories"),
    ("/", "filter paths by text (Enter keeps, Esc clears)"),
    ("s", "sort by size (largest first, the default) or by name"),
    ("c", "show only added, modified and removed paths"),
    ("v", "view the selected file's contents"),
    (
        "x",
        "extract the selected file or directory to a directory you name",
    ),
    ("?", "this help"),
    ("q, Ctrl+C", "quit"),
];

fn draw_popup(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    match &app.popup {
        Popup::None => {}
        Popup::Help => {
            let lines: Vec<Line<'_>> = HELP
                .iter()
                .map(|(k, what)| {
                    Line::from(vec![
                        Span::styled(
                            format!("{k:>14}  "),
                            Style::new().add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(*what),
                    ])
                })
                .collect();
            let rect = centered(area, 86, HELP.len() as u16 + 2);
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title("Keys (any key closes)")),
                rect,
            );
        }
        Popup::File {
            title,
            lines,
            scroll,
        } => {
            let rect = centered(
                area,
                area.width.saturating_sub(8),
                area.height.saturating_sub(4),
            );
            let text: Text<'_> = lines
                .iter()
                .skip(*scroll)
                .take(rect.height as usize)
                .map(|l| Line::raw(l.as_str()))
                .collect();
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(text).block(Block::bordered().title(format!(
                    "{title} — line {}/{} (↑↓ PgUp PgDn scroll, Esc closes)",
                    (scroll + 1).min(lines.len()),
                    lines.len()
                ))),
                rect,
            );
        }
        Popup::Extract { path, input } => {
            let rect = centered(area, 80, 5);
            frame.render_widget(Clear, rect);
            let lines = vec![
                Line::raw(format!(
                    "Extract {path} (as after layer {}) into directory:",
                    app.selected_layer
                )),
                Line::raw(format!("{input}█")),
                Line::styled(
                    "Enter extracts (nothing existing is overwritten), Esc cancels",
                    Style::new().add_modifier(Modifier::DIM),
                ),
            ];
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title("Extract")),
                rect,
            );
        }
    }
}
