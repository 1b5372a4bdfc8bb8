//! The explorer driven by keys and drawn on ratatui's test backend: snapshots of each screen,
//! colours of added/modified/removed paths, the file viewer, extraction, and layers arriving
//! while the user already browses the first ones.

#[path = "../../kasane-image/tests/image_builder/mod.rs"]
mod image_builder;

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use image_builder::*;
use kasane_explore::{App, ExploreOptions, Focus, Popup, spawn_loader, ui};
use kasane_image::{
    Error, ImageReadOptions, LayerBlob, NoProgress, ResolvedImage, Selector, Source, read_one_layer,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;

fn layers() -> Vec<TestLayer> {
    let l0 = LayerTar::new()
        .dir("etc/")
        .file("etc/motd", b"hello from layer 0\n")
        .file("etc/hostname", b"box\n")
        .dir("var/")
        .dir("var/cache/")
        .file("var/cache/big.bin", &vec![0u8; 40_000])
        .file("var/cache/small", b"s")
        .dir("usr/")
        .dir("usr/bin/")
        .file_with(
            "usr/bin/tool",
            &[0x7f, b'E', b'L', b'F', 0, 1, 2, 3],
            0o755,
            0,
            0,
        )
        .symlink("bin", "usr/bin")
        .finish();
    let l1 = LayerTar::new()
        .dir("app/")
        .file("app/server.py", b"print('hi')\n\tindented\n")
        .file("app/data.json", &vec![b'x'; 5000])
        .hardlink("app/data-link.json", "app/data.json")
        .finish();
    let l2 = LayerTar::new()
        .dir("etc/")
        .file("etc/motd", b"hello from layer 2, longer\n")
        .whiteout("etc/hostname")
        .dir("var/")
        .whiteout("var/cache")
        .dir("app/")
        .file("app/new.txt", b"new")
        .finish();
    vec![
        TestLayer::new(l0, Comp::Gzip, "/bin/sh -c #(nop) ADD file:base in / "),
        TestLayer::new(l1, Comp::Zstd, "COPY app /app # buildkit"),
        TestLayer::new(
            l2,
            Comp::None,
            "RUN /bin/sh -c rm -rf /var/cache /etc/hostname # buildkit",
        ),
    ]
}

struct Fixture {
    _dir: tempfile::TempDir,
    source: Arc<dyn Source>,
    resolved: ResolvedImage,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let img = TestImage::new(layers());
    oci_layout(&[("latest", &img)]).write_dir(dir.path());
    let (src, _) = kasane_image::source::open(dir.path().to_str().unwrap()).unwrap();
    let source: Arc<dyn Source> = Arc::from(src);
    let resolved = source.resolve(&Selector::default()).unwrap();
    Fixture {
        _dir: dir,
        source,
        resolved,
    }
}

#[allow(clippy::result_large_err)] // the engine's error type, as the loader hands it over
fn read(f: &Fixture, i: usize) -> Result<kasane_image::LayerChanges, Error> {
    read_one_layer(
        f.source.as_ref(),
        &f.resolved,
        i,
        ImageReadOptions::default(),
        &NoProgress,
    )
}

fn app_with(f: &Fixture, loaded: usize) -> App {
    let mut app = App::new(
        Arc::clone(&f.source),
        f.resolved.clone(),
        "test-image".into(),
    );
    for i in 0..loaded {
        app.add_layer(i, read(f, i));
    }
    app
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn render(app: &mut App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(130, 30)).unwrap();
    terminal.draw(|f| ui::draw(f, app)).unwrap();
    terminal
}

fn screen(app: &mut App) -> String {
    render(app).backend().to_string()
}

/// The foreground colour of the tree line naming `name`.
fn colour_of(app: &mut App, name: &str) -> Color {
    let terminal = render(app);
    let buf = terminal.backend().buffer();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_owned())
            .collect();
        if let Some(col) = line.find(&format!(" {name}")) {
            // `find` gives a byte offset; count characters up to it.
            let x = line[..col].chars().count() as u16 + 1;
            return buf[(x, y)].fg;
        }
    }
    panic!("{name} is not on screen:\n{}", terminal.backend());
}

#[test]
fn first_screen_shows_layers_and_the_bottom_layer_largest_first() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    insta::assert_snapshot!("first_screen", screen(&mut app));
}

#[test]
fn a_layer_shows_what_it_added_modified_and_removed() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "+");
    insta::assert_snapshot!("layer_2_changes", screen(&mut app));
    assert_eq!(colour_of(&mut app, "new.txt"), Color::Green);
    assert_eq!(colour_of(&mut app, "motd"), Color::Yellow);
    assert_eq!(colour_of(&mut app, "hostname"), Color::Red);
    assert_eq!(colour_of(&mut app, "big.bin"), Color::Red);
    assert_eq!(colour_of(&mut app, "server.py"), Color::Reset);
}

#[test]
fn aggregated_view_compares_with_the_base_layer() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    keys(&mut app, "G");
    keys(&mut app, "a");
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "c");
    insta::assert_snapshot!("aggregated_only_changes", screen(&mut app));
    // Layer 1's files are changes since layer 0 too.
    assert_eq!(colour_of(&mut app, "server.py"), Color::Green);
}

#[test]
fn filter_sort_and_collapse() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "/cache");
    assert!(app.editing_filter);
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("filter_cache", screen(&mut app));
    let names: Vec<String> = app.rows.iter().map(|r| r.path.to_string()).collect();
    assert_eq!(
        names,
        vec![
            "/var",
            "/var/cache",
            "/var/cache/big.bin",
            "/var/cache/small"
        ]
    );
    // Esc clears the filter; `s` sorts by name.
    key(&mut app, KeyCode::Esc);
    keys(&mut app, "s");
    let names: Vec<String> = app.rows.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, vec!["bin", "etc", "usr", "var"]);
    keys(&mut app, "s");
    let names: Vec<String> = app.rows.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, vec!["var", "etc", "usr", "bin"], "largest first");
    // Open /var with →, close it with ←, go to the parent with ←.
    key(&mut app, KeyCode::Right);
    assert_eq!(app.rows.len(), 5);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.rows[app.cursor].path.to_string(), "/var/cache/big.bin");
    key(&mut app, KeyCode::Left);
    assert_eq!(app.rows[app.cursor].path.to_string(), "/var/cache");
    key(&mut app, KeyCode::Left);
    assert_eq!(app.rows.len(), 5);
    keys(&mut app, "-");
    assert_eq!(app.rows.len(), 4);
}

#[test]
fn views_text_and_binary_files() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    keys(&mut app, "j");
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "/server");
    key(&mut app, KeyCode::Enter);
    keys(&mut app, "jj");
    assert_eq!(app.rows[app.cursor].path.to_string(), "/app/server.py");
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("view_text", screen(&mut app));
    assert!(
        matches!(&app.popup, Popup::File { lines, .. } if lines == &vec!["print('hi')".to_owned(), "    indented".to_owned()])
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.popup, Popup::None);
    // A hard link shows its inode's file.
    key(&mut app, KeyCode::Esc);
    keys(&mut app, "/data-link");
    key(&mut app, KeyCode::Enter);
    keys(&mut app, "jj");
    keys(&mut app, "v");
    assert!(matches!(&app.popup, Popup::File { lines, .. } if lines[0].starts_with("xxxxx")));
    key(&mut app, KeyCode::Esc);
    // A binary file is a hex dump.
    key(&mut app, KeyCode::Esc);
    keys(&mut app, "/tool");
    key(&mut app, KeyCode::Enter);
    keys(&mut app, "jj");
    keys(&mut app, "v");
    let Popup::File { lines, .. } = &app.popup else {
        panic!("no viewer: {:?}", app.message)
    };
    assert_eq!(lines[0], "(binary file: hex dump of the first 4 kB)");
    assert!(
        lines[1].starts_with("00000000  7f 45 4c 46 00 01 02 03"),
        "{}",
        lines[1]
    );
}

#[test]
fn help_lists_the_keys() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    keys(&mut app, "?");
    insta::assert_snapshot!("help", screen(&mut app));
    keys(&mut app, "x");
    assert_eq!(app.popup, Popup::None, "any key closes the help");
    assert!(!app.quit);
}

#[test]
fn extracts_into_a_named_directory_and_never_overwrites() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    let dest = tempfile::tempdir().unwrap();
    keys(&mut app, "G");
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "/app");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.rows[app.cursor].path.to_string(), "/app");
    keys(&mut app, "x");
    // The prompt starts with the default; replace it with the test directory.
    let Popup::Extract { input, .. } = &app.popup else {
        panic!("no prompt")
    };
    for _ in 0..input.len() {
        key(&mut app, KeyCode::Backspace);
    }
    keys(&mut app, dest.path().to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    let msg = app.message.clone().unwrap();
    assert!(msg.starts_with("extracted /app to "), "{msg}");
    assert_eq!(
        std::fs::read(dest.path().join("app/server.py")).unwrap(),
        b"print('hi')\n\tindented\n"
    );
    assert_eq!(
        std::fs::read(dest.path().join("app/data-link.json"))
            .unwrap()
            .len(),
        5000
    );
    // Again: refused, nothing overwritten.
    std::fs::write(dest.path().join("app/server.py"), b"mine").unwrap_or(());
    keys(&mut app, "x");
    key(&mut app, KeyCode::Enter);
    let msg = app.message.clone().unwrap();
    assert!(
        msg.contains("already exists; kasane never overwrites"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(dest.path().join("app/server.py")).unwrap(),
        b"mine"
    );
    // Esc cancels.
    keys(&mut app, "x");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.popup, Popup::None);
}

#[test]
fn the_first_layers_can_be_browsed_while_the_rest_load() {
    let f = fixture();
    let mut app = app_with(&f, 1);
    insta::assert_snapshot!("loading", screen(&mut app));
    keys(&mut app, "G");
    assert!(
        screen(&mut app)
            .contains("reading layers… (1 of 3 read; layer 2 is shown once layers 0..2 are read)")
    );
    assert!(app.analysis.is_none());
    // Layer 2 arrives before layer 1: still waiting for layer 1.
    app.add_layer(2, read(&f, 2));
    assert_eq!(app.loaded(), 1);
    app.add_layer(1, read(&f, 1));
    assert_eq!(app.loaded(), 3);
    assert!(app.analysis.is_some());
    assert!(app.view().is_some());
}

#[test]
fn a_layer_that_cannot_be_read_is_reported() {
    let f = fixture();
    let mut app = app_with(&f, 1);
    app.add_layer(1, Err(Error::Invalid("boom".into())));
    keys(&mut app, "j");
    let s = screen(&mut app);
    assert!(s.contains("layer 1 could not be read: boom"), "{s}");
    assert!(s.contains("error"));
}

#[test]
fn q_and_ctrl_c_quit() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    keys(&mut app, "q");
    assert!(app.quit);
    let mut app = app_with(&f, 3);
    keys(&mut app, "/");
    app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit, "Ctrl+C quits even while typing a filter");
    assert_eq!(app.focus, Focus::Tree);
}

/// A source whose layers above the first are held back until the test lets them go.
#[derive(Debug)]
struct HeldBack {
    inner: Arc<dyn Source>,
    gate: Mutex<mpsc::Receiver<()>>,
    bottom: String,
}

impl Source for HeldBack {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn resolve(&self, s: &Selector) -> Result<ResolvedImage, Error> {
        self.inner.resolve(s)
    }
    fn open_blob(&self, blob: &LayerBlob) -> Result<Box<dyn std::io::Read + Send + '_>, Error> {
        if blob.location != self.bottom {
            let _ = self
                .gate
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(30));
        }
        self.inner.open_blob(blob)
    }
}

#[test]
fn the_loader_hands_over_the_bottom_layer_while_others_are_still_being_read() {
    let f = fixture();
    let (open, gate) = mpsc::channel();
    let held: Arc<dyn Source> = Arc::new(HeldBack {
        inner: Arc::clone(&f.source),
        gate: Mutex::new(gate),
        bottom: f.resolved.layers[0].location.clone(),
    });
    let options = ExploreOptions {
        workers: 2,
        read: ImageReadOptions::default(),
        extract_default: "x".into(),
    };
    let rx = spawn_loader(Arc::clone(&held), f.resolved.clone(), &options);
    let mut app = App::new(held, f.resolved.clone(), "held".into());
    let (i, r) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(
        i, 0,
        "the bottom layer comes first while the others are held"
    );
    app.add_layer(i, r);
    assert_eq!(app.loaded(), 1);
    assert!(!app.rows.is_empty(), "layer 0 is browsable");
    assert!(rx.try_recv().is_err(), "nothing else has arrived");
    open.send(()).unwrap();
    open.send(()).unwrap();
    for _ in 0..2 {
        let (i, r) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        app.add_layer(i, r);
    }
    assert_eq!(app.loaded(), 3);
}

#[test]
fn tiny_and_odd_terminal_sizes_do_not_panic() {
    let f = fixture();
    let mut app = app_with(&f, 3);
    keys(&mut app, "?");
    for (w, h) in [(1, 1), (10, 3), (20, 6), (40, 10), (300, 80)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|frame| ui::draw(frame, &mut app)).unwrap();
    }
    keys(&mut app, "q");
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "v");
    for (w, h) in [(1, 1), (12, 4)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|frame| ui::draw(frame, &mut app)).unwrap();
    }
}
