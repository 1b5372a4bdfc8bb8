//! The partial download beside the output: `.NAME.kasane-part` holds the bytes (written in
//! place at their offsets) and `.NAME.kasane-part.state` records which chunks are complete and
//! which remote file they came from, so an interrupted download can resume safely.
//!
//! The output path itself is only ever touched by the final rename.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::FetchError;

/// First line of a state file; bump the number when the format changes.
const STATE_MAGIC: &str = "kasane-fetch-state 1";

/// Most chunks one download is split into; larger files get larger chunks. This bounds the
/// memory the chunk table takes, whatever length a server claims.
pub(crate) const MAX_CHUNKS: u64 = 1 << 20;

/// The partial file of one output, locked against a second concurrent download.
#[derive(Debug)]
pub(crate) struct Partial {
    pub(crate) path: PathBuf,
    pub(crate) state_path: PathBuf,
    pub(crate) file: File,
    /// True when this run created the partial file (so a failure before any data arrived can
    /// remove it without losing an earlier run's bytes).
    created: bool,
}

impl Partial {
    /// Opens (creating if needed) and locks the partial file for `output`. Nothing is
    /// truncated here: an earlier run's bytes stay until the caller decides they are stale.
    pub(crate) fn open(output: &Path) -> Result<Self, FetchError> {
        if output.file_name().is_none() {
            return Err(FetchError::Io {
                path: output.to_owned(),
                error: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the output path has no file name",
                ),
            });
        }
        let path = crate::partial_path(output);
        let mut state_path = path.clone().into_os_string();
        state_path.push(".state");
        let state_path = PathBuf::from(state_path);
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(FetchError::io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(FetchError::Busy { path }),
            Err(fs::TryLockError::Error(e)) => return Err(FetchError::io(&path)(e)),
        }
        Ok(Self {
            path,
            state_path,
            file,
            created,
        })
    }

    /// Empties the partial file and sizes it to `size` (sparse), forgetting any state.
    pub(crate) fn start_over(&self, size: u64) -> Result<(), FetchError> {
        self.remove_state()?;
        self.file.set_len(0).map_err(FetchError::io(&self.path))?;
        self.file.set_len(size).map_err(FetchError::io(&self.path))
    }

    /// The state left by an earlier run, if any and readable.
    pub(crate) fn load_state(&self) -> Result<Option<ResumeState>, String> {
        match fs::read_to_string(&self.state_path) {
            Ok(text) => ResumeState::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Current length of the partial file.
    pub(crate) fn len(&self) -> Result<u64, FetchError> {
        Ok(self
            .file
            .metadata()
            .map_err(FetchError::io(&self.path))?
            .len())
    }

    /// Records `state` durably: the data it vouches for is flushed first, then the state file
    /// is replaced atomically.
    pub(crate) fn save_state(&self, state: &ResumeState) -> Result<(), FetchError> {
        self.file.sync_data().map_err(FetchError::io(&self.path))?;
        let tmp = self.state_path.with_extension("state.new");
        let mut out = File::create(&tmp).map_err(FetchError::io(&tmp))?;
        out.write_all(state.to_text().as_bytes())
            .and_then(|()| out.sync_data())
            .map_err(FetchError::io(&tmp))?;
        fs::rename(&tmp, &self.state_path).map_err(FetchError::io(&self.state_path))
    }

    fn remove_state(&self) -> Result<(), FetchError> {
        match fs::remove_file(&self.state_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(FetchError::io(&self.state_path)(e)),
        }
    }

    /// Moves the finished file to `output` (replacing what was there) and removes the state.
    pub(crate) fn commit(self, output: &Path) -> Result<(), FetchError> {
        self.file.sync_all().map_err(FetchError::io(&self.path))?;
        fs::rename(&self.path, output).map_err(FetchError::io(output))?;
        self.remove_state()?;
        // Make the rename itself durable.
        if let Some(dir) = output.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }

    /// Removes the partial file and its state (a failed download that cannot be resumed).
    pub(crate) fn discard(self) {
        let _ = fs::remove_file(&self.path);
        let _ = self.remove_state();
    }

    /// Removes the partial file only if this run created it and no state refers to it: what a
    /// failure before any byte arrived should leave behind (nothing new).
    pub(crate) fn release(self) {
        if self.created && !self.state_path.exists() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Which chunks of which remote file are complete in the partial file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeState {
    /// The URL as the user gave it.
    pub url: String,
    /// Size of the remote file.
    pub size: u64,
    /// Chunk size the download was split with.
    pub chunk_size: u64,
    /// The remote `ETag`.
    pub etag: Option<String>,
    /// The remote `Last-Modified`.
    pub last_modified: Option<String>,
    /// One flag per chunk: complete and durable.
    pub done: Vec<bool>,
}

impl ResumeState {
    /// Number of chunks for `size` bytes in chunks of `chunk_size` (both non-zero).
    pub fn chunk_count(size: u64, chunk_size: u64) -> u64 {
        size.div_ceil(chunk_size)
    }

    /// Bytes covered by the complete chunks.
    pub fn done_bytes(&self) -> u64 {
        self.done
            .iter()
            .enumerate()
            .filter(|(_, done)| **done)
            .map(|(i, _)| {
                let first = i as u64 * self.chunk_size;
                self.chunk_size.min(self.size - first)
            })
            .sum()
    }

    /// The text form, one `key value` per line; done chunks as ranges of indices (`0-3,7`).
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{STATE_MAGIC}\nurl {}\nsize {}\nchunk {}\n",
            self.url, self.size, self.chunk_size
        );
        if let Some(etag) = &self.etag {
            text.push_str(&format!("etag {etag}\n"));
        }
        if let Some(lm) = &self.last_modified {
            text.push_str(&format!("last-modified {lm}\n"));
        }
        let mut runs = Vec::new();
        let mut i = 0;
        while i < self.done.len() {
            if self.done[i] {
                let start = i;
                while i + 1 < self.done.len() && self.done[i + 1] {
                    i += 1;
                }
                runs.push(if start == i {
                    start.to_string()
                } else {
                    format!("{start}-{i}")
                });
            }
            i += 1;
        }
        text.push_str(&format!("done {}\n", runs.join(",")));
        text
    }

    /// Reads the text form. Anything unexpected is an error: a state we do not fully
    /// understand is never trusted.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(STATE_MAGIC) {
            return Err("not a kasane fetch state file (or another version)".to_owned());
        }
        let (mut url, mut size, mut chunk, mut etag, mut last_modified, mut done) =
            (None, None, None, None, None, None);
        for line in lines {
            if line.chars().any(char::is_control) {
                return Err("control character in a line".to_owned());
            }
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            let slot_filled = match key {
                "url" => url.replace(value.to_owned()).is_some(),
                "size" => size.replace(number(value)?).is_some(),
                "chunk" => chunk.replace(number(value)?).is_some(),
                "etag" => etag.replace(value.to_owned()).is_some(),
                "last-modified" => last_modified.replace(value.to_owned()).is_some(),
                "done" => done.replace(value.to_owned()).is_some(),
                _ => return Err(format!("unknown line {line:?}")),
            };
            if slot_filled {
                return Err(format!("repeated key {key:?}"));
            }
        }
        let missing = |k: &str| format!("no {k} line");
        let (url, size, chunk_size) = (
            url.ok_or_else(|| missing("url"))?,
            size.ok_or_else(|| missing("size"))?,
            chunk.ok_or_else(|| missing("chunk"))?,
        );
        if size == 0 || chunk_size == 0 {
            return Err("zero size or chunk".to_owned());
        }
        let count = usize::try_from(Self::chunk_count(size, chunk_size))
            .ok()
            .filter(|&c| c as u64 <= MAX_CHUNKS)
            .ok_or("too many chunks")?;
        let mut flags = vec![false; count];
        let done = done.ok_or_else(|| missing("done"))?;
        for run in done.split(',').filter(|r| !r.is_empty()) {
            let (a, b) = run.split_once('-').unwrap_or((run, run));
            let (a, b) = (number(a)?, number(b)?);
            if a > b || b >= count as u64 {
                return Err(format!("chunk run {run:?} out of range"));
            }
            for flag in &mut flags[a as usize..=b as usize] {
                *flag = true;
            }
        }
        Ok(Self {
            url,
            size,
            chunk_size,
            etag,
            last_modified,
            done: flags,
        })
    }
}

fn number(text: &str) -> Result<u64, String> {
    crate::content_range::parse_digits(text.as_bytes()).map_err(|_| format!("bad number {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn state(done: Vec<bool>) -> ResumeState {
        ResumeState {
            url: "http://example.invalid/f?x=1 2".to_owned(),
            size: 10 * done.len() as u64 - 3,
            chunk_size: 10,
            etag: Some("\"abc\"".to_owned()),
            last_modified: None,
            done,
        }
    }

    #[test]
    fn text_form_round_trips() {
        let s = state(vec![true, true, false, true, false, true, true, true]);
        let text = s.to_text();
        assert!(text.ends_with("done 0-1,3,5-7\n"), "{text}");
        assert_eq!(ResumeState::parse(&text), Ok(s));
    }

    #[test]
    fn done_bytes_counts_the_short_last_chunk() {
        let s = state(vec![false, false, true]);
        assert_eq!(s.size, 27);
        assert_eq!(s.done_bytes(), 7);
        assert_eq!(state(vec![true, true, true]).done_bytes(), 27);
    }

    #[test]
    fn distrusts_anything_odd() {
        let good = state(vec![true, false]).to_text();
        for bad in [
            String::new(),
            good.replace("state 1", "state 2"),
            good.replace("done 0", "done 2"),
            good.replace("done 0", "done 1-0"),
            good.replace("size 17", "size x"),
            good.replace("size 17", "size 0"),
            format!("{good}size 17\n"),
            format!("{good}extra line\n"),
            good.replace("chunk 10\n", ""),
            good.replace("url http", "url \rhttp"),
        ] {
            assert!(ResumeState::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partial_file_is_locked_and_named_beside_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("file.bin");
        let p = Partial::open(&out).unwrap();
        assert_eq!(p.path, dir.path().join(".file.bin.kasane-part"));
        assert!(matches!(Partial::open(&out), Err(FetchError::Busy { .. })));
        p.start_over(5).unwrap();
        p.save_state(&state(vec![true])).unwrap();
        assert_eq!(p.load_state().unwrap(), Some(state(vec![true])));
        p.commit(&out).unwrap();
        assert_eq!(fs::read(&out).unwrap(), vec![0; 5]);
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the output remains");
    }

    #[test]
    fn release_keeps_an_earlier_runs_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("f");
        Partial::open(&out).unwrap().release();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let p = Partial::open(&out).unwrap();
        p.save_state(&state(vec![true])).unwrap();
        p.release();
        let again = Partial::open(&out).unwrap();
        assert!(again.load_state().unwrap().is_some());
        again.discard();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = ResumeState::parse(&text);
        }

        #[test]
        fn any_done_set_round_trips(done in proptest::collection::vec(any::<bool>(), 1..40)) {
            let s = state(done);
            prop_assert_eq!(ResumeState::parse(&s.to_text()), Ok(s));
        }
    }
}
