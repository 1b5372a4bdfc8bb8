//! `kasane explore`: dive's terminal UI, improved. Layers with their size and instruction; the
//! file tree after any layer, coloured by what that layer (or every layer since the base) added,
//! modified and removed; directories opened and closed; paths filtered; largest first by default
//! or by name; only the changes; wasted space; a file's contents; extraction of a file or
//! directory into a directory the user names.
//!
//! Layers are read on background threads, bottom first, and shown as they arrive: the first
//! layers can be browsed while the rest still load. [`App`] holds all state and handles keys
//! without touching the terminal (tests drive it directly and render it to a test backend);
//! [`run`] connects it to the terminal and restores the terminal however it ends.

mod app;
mod model;
pub mod ui;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

pub use app::{App, Compare, Focus, LayerInfo, Popup, VIEW_LIMIT, render_content};
use kasane_image::streaming::read_layers_streaming;
use kasane_image::{Error, ImageReadOptions, LayerChanges, NoProgress, ResolvedImage, Source};
pub use model::{FsModel, Layout, NodeView, Row, Status, View};
use ratatui::crossterm::event::{self, Event};

/// Why the explorer stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The terminal could not be set up, read or drawn.
    #[error("terminal")]
    Terminal(#[from] std::io::Error),
}

/// How to explore.
#[derive(Debug, Clone)]
pub struct ExploreOptions {
    /// Threads reading layers (at least one).
    pub workers: usize,
    /// Image read options.
    pub read: ImageReadOptions,
    /// Where extracts go unless the user names another directory.
    pub extract_default: std::path::PathBuf,
}

/// Starts reading `resolved`'s layers on background threads; each layer (or its error) arrives
/// on the returned channel as it is read, bottom layers first.
pub fn spawn_loader(
    source: Arc<dyn Source>,
    resolved: ResolvedImage,
    options: &ExploreOptions,
) -> mpsc::Receiver<(usize, Result<LayerChanges, Error>)> {
    let (tx, rx) = mpsc::channel();
    let read = options.read;
    let workers = options.workers;
    std::thread::spawn(move || {
        read_layers_streaming(
            source.as_ref(),
            &resolved,
            read,
            workers,
            &NoProgress,
            &|index, result| tx.send((index, result)).is_ok(),
        );
    });
    rx
}

/// Runs the explorer on the terminal until the user quits. The terminal is restored on every
/// exit path, panics included.
pub fn run(
    source: Box<dyn Source>,
    resolved: ResolvedImage,
    description: String,
    options: ExploreOptions,
) -> Result<(), ExploreError> {
    let source: Arc<dyn Source> = Arc::from(source);
    let loader = spawn_loader(Arc::clone(&source), resolved.clone(), &options);
    let mut app = App::new(source, resolved, description);
    app.extract_default = options.extract_default;
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, &mut app, &loader);
    let restored = ratatui::try_restore();
    result?;
    restored?;
    Ok(())
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    loader: &mpsc::Receiver<(usize, Result<LayerChanges, Error>)>,
) -> Result<(), ExploreError> {
    let mut dirty = true;
    while !app.quit {
        while let Ok((index, result)) = loader.try_recv() {
            app.add_layer(index, result);
            dirty = true;
        }
        if dirty {
            terminal.draw(|frame| ui::draw(frame, app))?;
            dirty = false;
        }
        if event::poll(Duration::from_millis(50))? {
            match event::read()? {
                Event::Key(key) => {
                    app.on_key(key);
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
    }
    Ok(())
}
