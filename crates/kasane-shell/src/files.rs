//! What file tools in a RUN do to the filesystem: downloads (curl, wget), removals (rm),
//! mode and owner changes (chmod, chown, chgrp), directory changes (cd) and the paths that
//! commands create (mkdir, touch, cp, mv, git clone, redirections, download outputs).

use crate::script::{Command, Word};

/// A download tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Downloader {
    /// `curl`
    Curl,
    /// `wget`
    Wget,
}

/// Where a download goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadOutput<'a> {
    /// To standard output (`curl` without `-o`/`-O`, `wget -O -`).
    Stdout,
    /// Into the file `path`, named in `word` (`-o FILE`, or attached as in `-qO/tmp/x`).
    File {
        /// The word holding the path.
        word: &'a Word,
        /// The path.
        path: String,
    },
    /// Into a file named after the URL, in the current directory (or `dir`).
    RemoteName(Option<&'a Word>),
}

/// A curl or wget invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download<'a> {
    /// Which tool.
    pub tool: Downloader,
    /// The tool's word.
    pub program: &'a Word,
    /// URL arguments.
    pub urls: Vec<&'a Word>,
    /// Where the body goes.
    pub output: DownloadOutput<'a>,
    /// All option words.
    pub options: Vec<&'a Word>,
}

/// Reads `cmd` as a curl or wget invocation.
pub fn download(cmd: &Command) -> Option<Download<'_>> {
    let i = cmd.program_index()?;
    let program = &cmd.words[i];
    let tool = match cmd.program()? {
        "curl" => Downloader::Curl,
        "wget" => Downloader::Wget,
        _ => return None,
    };
    // The short option that names the output file, and the one that keeps the remote name.
    let (out_short, remote_short) = match tool {
        Downloader::Curl => ('o', Some('O')),
        Downloader::Wget => ('O', None),
    };
    let mut urls = Vec::new();
    let mut options = Vec::new();
    let mut out_file: Option<(&Word, String)> = None;
    let mut remote_name = false;
    let mut dir = None;
    let mut args = cmd.words[i + 1..].iter();
    while let Some(w) = args.next() {
        let v = w.as_str();
        if v.starts_with("--") {
            options.push(w);
            let (name, attached) = match v.split_once('=') {
                Some((n, val)) => (n, Some(val)),
                None => (v, None),
            };
            let is_output = match tool {
                Downloader::Curl => name == "--output",
                Downloader::Wget => name == "--output-document",
            };
            let is_dir = matches!(name, "--output-dir" | "--directory-prefix");
            if is_output || is_dir {
                let value = match attached {
                    Some(a) => Some((w, a.to_owned())),
                    None => args.next().map(|n| (n, n.value.clone())),
                };
                if is_output {
                    out_file = value;
                } else {
                    dir = value.map(|(w, _)| w);
                }
            } else if matches!(name, "--remote-name" | "--remote-name-all") {
                remote_name = true;
            } else if attached.is_none()
                && match tool {
                    Downloader::Curl => curl_takes_value(name),
                    Downloader::Wget => wget_takes_value(name),
                }
            {
                args.next();
            }
        } else if v.starts_with('-') && v.len() > 1 {
            options.push(w);
            // A bundle of short options; the first one that takes a value takes the rest of
            // the bundle, or the next word.
            for (pos, c) in v[1..].char_indices() {
                let rest = &v[1 + pos + c.len_utf8()..];
                let takes = c == out_short
                    || (tool == Downloader::Wget && c == 'P')
                    || match tool {
                        Downloader::Curl => curl_takes_value(&format!("-{c}")),
                        Downloader::Wget => wget_takes_value(&format!("-{c}")),
                    };
                if Some(c) == remote_short {
                    remote_name = true;
                    continue;
                }
                if !takes {
                    continue;
                }
                let value = if rest.is_empty() {
                    args.next().map(|n| (n, n.value.clone()))
                } else {
                    Some((w, rest.to_owned()))
                };
                if c == out_short {
                    out_file = value;
                } else if tool == Downloader::Wget && c == 'P' {
                    dir = value.map(|(w, _)| w);
                }
                break;
            }
        } else if v.contains("://") || v.starts_with("www.") {
            urls.push(w);
        }
    }
    let output = match out_file {
        Some((_, path)) if path == "-" => DownloadOutput::Stdout,
        Some((word, path)) => DownloadOutput::File { word, path },
        None if tool == Downloader::Curl && !remote_name => DownloadOutput::Stdout,
        None => DownloadOutput::RemoteName(dir),
    };
    Some(Download {
        tool,
        program,
        urls,
        output,
        options,
    })
}

fn curl_takes_value(v: &str) -> bool {
    matches!(
        v,
        "-d" | "--data"
            | "--data-binary"
            | "--data-raw"
            | "-H"
            | "--header"
            | "-X"
            | "--request"
            | "-u"
            | "--user"
            | "-A"
            | "--user-agent"
            | "-e"
            | "--referer"
            | "-F"
            | "--form"
            | "-T"
            | "--upload-file"
            | "-w"
            | "--write-out"
            | "-m"
            | "--max-time"
            | "-r"
            | "--range"
            | "-C"
            | "--continue-at"
            | "-K"
            | "--config"
            | "-b"
            | "--cookie"
            | "-c"
            | "--cookie-jar"
            | "-U"
            | "--proxy-user"
            | "-x"
            | "--proxy"
            | "-E"
            | "--cert"
            | "--cacert"
            | "--retry"
            | "--retry-delay"
            | "--retry-max-time"
            | "--connect-timeout"
            | "--max-redirs"
            | "--resolve"
            | "--url"
            | "-z"
            | "--time-cond"
            | "-t"
            | "--telnet-option"
    )
}

fn wget_takes_value(v: &str) -> bool {
    matches!(
        v,
        "-o" | "--output-file"
            | "-a"
            | "--append-output"
            | "-t"
            | "--tries"
            | "-T"
            | "--timeout"
            | "-U"
            | "--user-agent"
            | "--header"
            | "--user"
            | "--password"
            | "-e"
            | "--execute"
            | "-i"
            | "--input-file"
            | "-w"
            | "--wait"
            | "-Q"
            | "--quota"
            | "--progress"
            | "--ca-certificate"
            | "--certificate"
    )
}

/// The path words an `rm` (or `unlink`, `rmdir`) removes; empty for other commands.
pub fn removed_paths(cmd: &Command) -> Vec<&Word> {
    match cmd.program() {
        Some("rm" | "unlink" | "rmdir") => operands(cmd),
        _ => Vec::new(),
    }
}

/// The non-option arguments of the program (everything after `--` counts).
pub fn operands(cmd: &Command) -> Vec<&Word> {
    let mut out = Vec::new();
    let mut after_dd = false;
    for w in cmd.program_args() {
        if !after_dd && w.value == "--" {
            after_dd = true;
        } else if after_dd || !w.value.starts_with('-') || w.value == "-" {
            out.push(w);
        }
    }
    out
}

/// chmod, chown or chgrp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeTool {
    /// `chmod`
    Chmod,
    /// `chown`
    Chown,
    /// `chgrp`
    Chgrp,
}

/// A change of mode, owner or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeChange<'a> {
    /// Which tool.
    pub tool: ModeTool,
    /// The mode or owner word (`755`, `app:app`); `None` with `--reference`.
    pub spec: Option<&'a Word>,
    /// The paths changed.
    pub targets: Vec<&'a Word>,
    /// `-R`/`--recursive`.
    pub recursive: bool,
}

/// Reads `cmd` as chmod, chown or chgrp.
pub fn mode_change(cmd: &Command) -> Option<ModeChange<'_>> {
    let tool = match cmd.program()? {
        "chmod" => ModeTool::Chmod,
        "chown" => ModeTool::Chown,
        "chgrp" => ModeTool::Chgrp,
        _ => return None,
    };
    let args = cmd.program_args();
    let recursive = args.iter().any(|w| {
        let v = w.as_str();
        v == "--recursive" || (v.starts_with('-') && !v.starts_with("--") && v.contains('R'))
    });
    let has_reference = args.iter().any(|w| w.value.starts_with("--reference"));
    // chmod modes such as `-x` or `-w` look like options: keep them as operands.
    let mut ops: Vec<&Word> = Vec::new();
    let mut after_dd = false;
    for w in args {
        let v = w.as_str();
        if !after_dd && v == "--" {
            after_dd = true;
            continue;
        }
        let is_mode_like = tool == ModeTool::Chmod
            && ops.is_empty()
            && v.strip_prefix('-')
                .is_some_and(|m| !m.is_empty() && m.chars().all(|c| "rwxXst".contains(c)));
        if after_dd || !v.starts_with('-') || is_mode_like {
            ops.push(w);
        }
    }
    let (spec, targets) = if has_reference || ops.is_empty() {
        (None, ops)
    } else {
        (Some(ops[0]), ops[1..].to_vec())
    };
    Some(ModeChange {
        tool,
        spec,
        targets,
        recursive,
    })
}

/// The directory a top-level `cd` changes to (`None` for other commands or `cd` alone).
pub fn cd_target(cmd: &Command) -> Option<&Word> {
    if cmd.program()? != "cd" {
        return None;
    }
    operands(cmd).into_iter().next()
}

/// True when `cmd` changes shell state that later commands of the same shell see: `cd`,
/// `pushd`, `popd`, `export`, `set`, `source`/`.`, `umask`, `alias`, `unset`, `shopt`, or a
/// bare variable assignment.
pub fn changes_shell_state(cmd: &Command) -> bool {
    if cmd.words.is_empty() && !cmd.assignments.is_empty() {
        return true;
    }
    matches!(
        cmd.program(),
        Some(
            "cd" | "pushd"
                | "popd"
                | "export"
                | "set"
                | "source"
                | "."
                | "umask"
                | "alias"
                | "unset"
                | "shopt"
                | "trap"
                | "ulimit"
                | "exec"
                | "declare"
                | "typeset"
                | "readonly"
                | "local"
        )
    )
}

/// Paths a command creates or writes, as written (possibly relative): mkdir and touch
/// operands, the destination of cp/mv/ln/install, `git clone`'s directory, output
/// redirections, download output files and `tar -C`/`unzip -d` directories.
pub fn created_paths(cmd: &Command) -> Vec<&Word> {
    let mut out: Vec<&Word> = cmd
        .redirects
        .iter()
        .filter(|r| {
            let op = r.op.trim_start_matches(|c: char| c.is_ascii_digit());
            matches!(op, ">" | ">>" | ">|" | "&>" | "&>>")
        })
        .filter_map(|r| r.target.as_ref())
        .filter(|t| t.value != "/dev/null" && !t.value.starts_with("/dev/"))
        .collect();
    if let Some(d) = download(cmd) {
        if let DownloadOutput::File { word, .. } = d.output {
            out.push(word);
        }
        return out;
    }
    let ops = operands(cmd);
    match cmd.program() {
        Some("mkdir" | "touch") => out.extend(ops),
        Some("cp" | "mv" | "ln" | "install" | "rsync") => out.extend(ops.last()),
        Some("git") if ops.first().is_some_and(|w| w.value == "clone") => {
            let url = ops.iter().position(|w| {
                w.value.contains("://") || w.value.starts_with("git@") || w.value.ends_with(".git")
            });
            if let Some(dir) = url.and_then(|u| ops.get(u + 1)) {
                out.push(dir);
            }
        }
        Some("tar") => {
            let args = cmd.program_args();
            if let Some(p) = args
                .iter()
                .position(|w| w.value == "-C" || w.value == "--directory")
            {
                out.extend(args.get(p + 1));
            }
        }
        Some("unzip") => {
            let args = cmd.program_args();
            if let Some(p) = args.iter().position(|w| w.value == "-d") {
                out.extend(args.get(p + 1));
            }
        }
        // `python3 -m venv DIR` / `virtualenv DIR`: the environment's directory.
        Some(p) if p.starts_with("python") => {
            let args = cmd.program_args();
            if args.len() >= 2 && args[0].value == "-m" && args[1].value == "venv" {
                out.extend(args[2..].iter().find(|w| !w.value.starts_with('-')));
            }
        }
        Some("virtualenv") => out.extend(ops.first()),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn first(text: &str) -> Command {
        parse(text).commands.remove(0)
    }

    #[test]
    fn curl_outputs() {
        let c = first("curl -fsSL https://x/y.tgz");
        assert_eq!(download(&c).unwrap().output, DownloadOutput::Stdout);
        let c = first("curl -fsSLo /tmp/y.tgz https://x/y.tgz");
        let d = download(&c).unwrap();
        assert!(matches!(&d.output, DownloadOutput::File { path, .. } if path == "/tmp/y.tgz"));
        assert_eq!(d.urls[0].value, "https://x/y.tgz");
        let c = first("curl -H 'A: b' -O https://x/y.tgz");
        assert_eq!(
            download(&c).unwrap().output,
            DownloadOutput::RemoteName(None)
        );
    }

    #[test]
    fn wget_outputs() {
        let c = first("wget -qO- https://x/y | tar xz");
        assert_eq!(download(&c).unwrap().output, DownloadOutput::Stdout);
        let c = first("wget -O /tmp/a.zip https://x/a.zip");
        assert!(
            matches!(download(&c).unwrap().output, DownloadOutput::File { path, .. } if path == "/tmp/a.zip")
        );
        let c = first("wget -qO/tmp/b https://x/b");
        assert!(
            matches!(download(&c).unwrap().output, DownloadOutput::File { path, .. } if path == "/tmp/b")
        );
        let c = first("wget --output-document=/tmp/c https://x/c");
        assert!(
            matches!(download(&c).unwrap().output, DownloadOutput::File { path, .. } if path == "/tmp/c")
        );
        let c = first("wget https://x/a.zip");
        assert_eq!(
            download(&c).unwrap().output,
            DownloadOutput::RemoteName(None)
        );
    }

    #[test]
    fn removals_and_modes() {
        let c = first("rm -rf -- /tmp/a /var/lib/apt/lists/*");
        let r: Vec<_> = removed_paths(&c).iter().map(|w| w.value.clone()).collect();
        assert_eq!(r, ["/tmp/a", "/var/lib/apt/lists/*"]);
        let c = first("chmod -R 755 /app /bin/x");
        let m = mode_change(&c).unwrap();
        assert!(m.recursive);
        assert_eq!(m.spec.unwrap().value, "755");
        assert_eq!(m.targets.len(), 2);
        let c = first("chmod -x /app/script");
        let m = mode_change(&c).unwrap();
        assert_eq!(m.spec.unwrap().value, "-x");
        let c = first("chown --reference=/a /b");
        assert!(mode_change(&c).unwrap().spec.is_none());
    }

    #[test]
    fn modes_with_multibyte_words_do_not_split_characters() {
        // Found by fuzzing: the mode test sliced words at byte 1.
        let c = first("chmod \u{426} -- -n x");
        let m = mode_change(&c).unwrap();
        assert_eq!(m.spec.unwrap().value, "\u{426}");
        assert_eq!(m.targets.len(), 2);
        let c = first("chmod -\u{426} x");
        let m = mode_change(&c).unwrap();
        assert_eq!(m.spec.unwrap().value, "x");
    }

    #[test]
    fn created_paths_from_common_tools() {
        let vals = |t: &str| -> Vec<String> {
            created_paths(&first(t))
                .iter()
                .map(|w| w.value.clone())
                .collect()
        };
        assert_eq!(vals("mkdir -p /a /b"), ["/a", "/b"]);
        assert_eq!(vals("cp -r src /opt/x"), ["/opt/x"]);
        assert_eq!(
            vals("git clone --depth 1 https://g/r.git /src/r"),
            ["/src/r"]
        );
        assert_eq!(vals("echo hi > /etc/motd 2>/dev/null"), ["/etc/motd"]);
        assert_eq!(vals("curl -o /tmp/x https://a"), ["/tmp/x"]);
        assert_eq!(vals("tar -xzf a.tgz -C /opt"), ["/opt"]);
        assert_eq!(vals("python3 -m venv --copies /opt/venv"), ["/opt/venv"]);
        assert_eq!(vals("virtualenv /opt/env"), ["/opt/env"]);
        assert!(vals("python3 -m pip install x").is_empty());
    }

    #[test]
    fn shell_state() {
        assert!(changes_shell_state(&first("cd /x")));
        assert!(changes_shell_state(&first("export A=1")));
        assert!(changes_shell_state(&first("A=1")));
        assert!(!changes_shell_state(&first("A=1 make")));
        assert_eq!(cd_target(&first("cd -- /x")).unwrap().value, "/x");
    }
}
