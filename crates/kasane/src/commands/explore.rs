//! `kasane explore`: the image in a terminal UI (layers, file tree per layer or aggregated,
//! wasted space, file contents, extraction).

use std::io::IsTerminal;
use std::path::PathBuf;

use kasane_explore::ExploreOptions;
use kasane_image::ImageReadOptions;

use crate::exit::Outcome;
use crate::image_input::ImageArgs;

/// Arguments of `kasane explore`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    image: ImageArgs,
    /// The directory the extract prompt (`x`) offers first; nothing is written until confirmed.
    #[arg(long, value_name = "DIR", default_value = "kasane-extract")]
    extract_to: PathBuf,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "kasane explore needs a terminal; for a report use `kasane analyze`, for a listing \
             `kasane layers`"
        );
    }
    let (source, resolved) = args.image.resolve()?;
    let description = source.describe();
    let options = ExploreOptions {
        workers: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
        read: ImageReadOptions {
            verify_compressed_diff_ids: args.image.verify_diff_ids,
            ..ImageReadOptions::default()
        },
        extract_default: args.extract_to,
    };
    kasane_explore::run(source, resolved, description, options)?;
    Ok(Outcome::Success)
}
