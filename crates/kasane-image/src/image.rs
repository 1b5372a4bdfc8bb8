//! Reading a whole image: resolve it in its source, read every layer (in parallel, one streaming
//! pass each), verify digests, and pair layers with the history entries that made them.

use rayon::prelude::*;

use crate::digest::Digest;
use crate::error::Error;
use crate::layer::{BlobExpectation, LayerChanges, ReadOptions, read_layer};
use crate::progress::Progress;
use crate::source::{ImageFormat, LayerBlob, ResolvedImage, Selector, Source};
use crate::spec::{History, ImageConfig, Platform};

/// How to read an image.
#[derive(Debug, Clone, Copy)]
pub struct ImageReadOptions {
    /// Also verify the diff_id of compressed layers (a second sha256 over the uncompressed
    /// bytes). Uncompressed layers always have it verified: it is the blob digest.
    pub verify_compressed_diff_ids: bool,
    /// Hash file contents (needed for duplicate and metadata-only waste).
    pub hash_contents: bool,
}

impl Default for ImageReadOptions {
    fn default() -> Self {
        ImageReadOptions {
            verify_compressed_diff_ids: false,
            hash_contents: true,
        }
    }
}

/// One layer of an image, read.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Position, 0 = bottom.
    pub index: usize,
    /// Where it was read from.
    pub blob: LayerBlob,
    /// The config's diff_id for it.
    pub diff_id: Option<Digest>,
    /// The history entry that made it, when history and layers line up.
    pub history: Option<History>,
    /// `history.created_by` cleaned for reading (`RUN apt-get ...`, `COPY . /app`).
    pub instruction: Option<String>,
    /// Its changes.
    pub changes: LayerChanges,
}

/// An image, read: its config and every layer's changes.
#[derive(Debug, Clone)]
pub struct Image {
    /// The source, described (`docker-archive:/tmp/app.tar`).
    pub source: String,
    /// The name or tag it was found under.
    pub name: Option<String>,
    /// The format it was read from.
    pub format: ImageFormat,
    /// The manifest digest (OCI formats).
    pub manifest_digest: Option<Digest>,
    /// The config digest (its image ID), when known.
    pub config_digest: Option<Digest>,
    /// The config.
    pub config: ImageConfig,
    /// The layers, bottom first.
    pub layers: Vec<Layer>,
    /// Things worth telling the user that did not stop the read.
    pub notes: Vec<String>,
}

impl Image {
    /// The platform the config declares.
    pub fn platform(&self) -> Platform {
        self.config.platform()
    }
}

/// Reads the image `selector` picks from `source`. Layers are read in parallel (rayon), each in
/// one streaming pass; memory grows with the number of files, not their size.
pub fn read_image(
    source: &dyn Source,
    selector: &Selector,
    options: ImageReadOptions,
    progress: &dyn Progress,
) -> Result<Image, Error> {
    let resolved = source.resolve(selector)?;
    let total: Option<u64> = resolved.layers.iter().map(|l| l.size).sum();
    progress.begin(resolved.layers.len(), total);
    let results: Vec<Result<LayerChanges, Error>> = (0..resolved.layers.len())
        .into_par_iter()
        .map(|index| read_one_layer(source, &resolved, index, options, progress))
        .collect();
    let mut changes = Vec::with_capacity(results.len());
    for result in results {
        changes.push(result?);
    }
    Ok(assemble_image(source.describe(), resolved, changes))
}

/// Reads layer `index` of a resolved image in one streaming pass, checking its digest (and its
/// diff_id when the config's list lines up with the layers), and reports it done to `progress`.
/// [`read_image`] calls this for every layer; front ends that show layers as they arrive call it
/// themselves, in the order they like.
pub fn read_one_layer(
    source: &dyn Source,
    resolved: &ResolvedImage,
    index: usize,
    options: ImageReadOptions,
    progress: &dyn Progress,
) -> Result<LayerChanges, Error> {
    let diff_ids = &resolved.config.rootfs.diff_ids;
    let blob = resolved.layers.get(index).ok_or_else(|| {
        Error::Invalid(format!(
            "layer {index} does not exist (the image has {})",
            resolved.layers.len()
        ))
    })?;
    let expect = BlobExpectation {
        digest: blob.digest.clone(),
        diff_id: if diff_ids.len() == resolved.layers.len() {
            diff_ids.get(index).cloned()
        } else {
            None
        },
        verify_compressed_diff_id: options.verify_compressed_diff_ids,
    };
    let mut reader = source.open_blob(blob).map_err(|e| match e {
        Error::MissingBlob {
            blob, source_name, ..
        } => Error::MissingBlob {
            what: format!("layer {index}"),
            blob,
            source_name,
        },
        other => other,
    })?;
    let read_options = ReadOptions {
        hash_contents: options.hash_contents,
    };
    let changes = read_layer(&mut *reader, &expect, read_options, progress).map_err(|source| {
        Error::Layer {
            index,
            blob: blob.location.clone(),
            source: Box::new(source),
        }
    })?;
    progress.layer_done(index);
    Ok(changes)
}

/// Builds one [`Layer`] from its read changes: pairs it with its history entry (see
/// [`map_history`]) and cleans its instruction.
pub fn assemble_layer(
    resolved: &ResolvedImage,
    histories: &[Option<History>],
    index: usize,
    changes: LayerChanges,
) -> Layer {
    let history = histories.get(index).cloned().flatten();
    // `docker import` leaves only a comment ("Imported from -").
    let instruction = history.as_ref().and_then(|h| {
        h.created_by
            .as_deref()
            .map(clean_instruction)
            .or_else(|| h.comment.clone())
    });
    Layer {
        index,
        blob: resolved.layers[index].clone(),
        diff_id: resolved.config.rootfs.diff_ids.get(index).cloned(),
        history,
        instruction,
        changes,
    }
}

/// Builds an [`Image`] from a resolved image and every layer's changes (bottom first), as
/// [`read_image`] returns it. `source` describes where it came from.
pub fn assemble_image(
    source: String,
    resolved: ResolvedImage,
    changes: Vec<LayerChanges>,
) -> Image {
    let (histories, history_note) = map_history(&resolved.config.history, resolved.layers.len());
    let layers = changes
        .into_iter()
        .enumerate()
        .map(|(index, c)| assemble_layer(&resolved, &histories, index, c))
        .collect();
    let mut notes = resolved.notes.clone();
    let diff_ids = resolved.config.rootfs.diff_ids.len();
    if diff_ids != resolved.layers.len() {
        notes.push(format!(
            "the config lists {diff_ids} diff_ids for {} layers; diff_ids were not checked",
            resolved.layers.len()
        ));
    }
    notes.extend(history_note);
    Image {
        source,
        name: resolved.name,
        format: resolved.format,
        manifest_digest: resolved.manifest_digest,
        config_digest: resolved.config_digest,
        config: resolved.config,
        layers,
        notes,
    }
}

/// Pairs layers with the history entries that made them: entries marked `empty_layer` are
/// skipped, the rest are taken in order. When the counts disagree (history missing, squashed or
/// hand-made images, tools that omit `empty_layer`), no layer gets an entry: pairing them anyway
/// would show the wrong command against a layer.
pub fn map_history(history: &[History], layers: usize) -> (Vec<Option<History>>, Option<String>) {
    let made: Vec<&History> = history.iter().filter(|h| !h.empty_layer).collect();
    if made.len() == layers {
        return (made.into_iter().cloned().map(Some).collect(), None);
    }
    let note = (!history.is_empty()).then(|| {
        format!(
            "the config's history has {} steps that made layers but the image has {layers} layers; \
             layers are shown without their instructions",
            made.len()
        )
    });
    (vec![None; layers], note)
}

/// Makes a history `created_by` readable: the shell prefix of `RUN` steps and the `#(nop)`
/// marker of metadata steps are dropped, BuildKit's `# buildkit` suffix too.
pub fn clean_instruction(created_by: &str) -> String {
    let s = created_by.trim();
    let s = s.strip_suffix("# buildkit").map_or(s, str::trim_end);
    if let Some(rest) = s.strip_prefix("RUN ") {
        let rest = strip_build_args(rest);
        return match rest.strip_prefix("/bin/sh -c ") {
            Some(cmd) => format!("RUN {}", cmd.trim()),
            None => format!("RUN {}", rest.trim()),
        };
    }
    let rest = strip_build_args(s);
    if let Some(cmd) = rest.strip_prefix("/bin/sh -c ") {
        let cmd = cmd.trim_start();
        if let Some(nop) = cmd.strip_prefix("#(nop)") {
            return nop.trim().to_owned();
        }
        return format!("RUN {}", cmd.trim());
    }
    s.to_owned()
}

/// Drops the `|N K=V ...` prefix the builders put before RUN commands that saw build args.
fn strip_build_args(s: &str) -> &str {
    let Some(rest) = s.strip_prefix('|') else {
        return s;
    };
    let Some((count, mut rest)) = rest.split_once(' ') else {
        return s;
    };
    let Ok(count) = count.parse::<usize>() else {
        return s;
    };
    for _ in 0..count {
        match rest.split_once(' ') {
            Some((_, r)) => rest = r,
            None => return s,
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_created_by() {
        assert_eq!(
            clean_instruction("/bin/sh -c #(nop)  ENV PATH=/usr/bin"),
            "ENV PATH=/usr/bin"
        );
        assert_eq!(
            clean_instruction("/bin/sh -c #(nop) ADD file:abc in / "),
            "ADD file:abc in /"
        );
        assert_eq!(
            clean_instruction("/bin/sh -c apt-get update"),
            "RUN apt-get update"
        );
        assert_eq!(
            clean_instruction("RUN /bin/sh -c apt-get update # buildkit"),
            "RUN apt-get update"
        );
        assert_eq!(
            clean_instruction("RUN |2 A=1 B=2 /bin/sh -c echo $A # buildkit"),
            "RUN echo $A"
        );
        assert_eq!(clean_instruction("|1 V=3 /bin/sh -c make"), "RUN make");
        assert_eq!(clean_instruction("COPY . /app # buildkit"), "COPY . /app");
        assert_eq!(clean_instruction("WORKDIR /app"), "WORKDIR /app");
    }

    #[test]
    fn history_pairs_skip_empty_layers_and_refuse_to_guess() {
        let h = |by: &str, empty: bool| History {
            created_by: Some(by.into()),
            empty_layer: empty,
            ..History::default()
        };
        let history = vec![h("a", false), h("env", true), h("b", false)];
        let (m, note) = map_history(&history, 2);
        assert!(note.is_none());
        assert_eq!(m[1].as_ref().unwrap().created_by.as_deref(), Some("b"));
        let (m, note) = map_history(&history, 3);
        assert!(m.iter().all(Option::is_none));
        assert!(note.unwrap().contains("2 steps"));
        let (m, note) = map_history(&[], 2);
        assert_eq!(m.len(), 2);
        assert!(note.is_none());
    }
}
