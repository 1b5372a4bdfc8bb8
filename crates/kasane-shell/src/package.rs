//! Package-manager invocations: which manager, what it is asked to do, its options and the
//! packages it names.

use crate::script::{Command, Word, base_name};

/// A package manager kasane recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Manager {
    /// Debian's `apt-get`.
    AptGet,
    /// Debian's interactive `apt`.
    Apt,
    /// Alpine's `apk`.
    Apk,
    /// Fedora/RHEL `dnf` (and `dnf5`).
    Dnf,
    /// RHEL/CentOS `yum`.
    Yum,
    /// `microdnf` (UBI minimal images).
    Microdnf,
    /// openSUSE `zypper`.
    Zypper,
    /// Python's `pip` (also `pip3`, `python -m pip`).
    Pip,
    /// `npm`.
    Npm,
    /// `yarn`.
    Yarn,
    /// `pnpm`.
    Pnpm,
    /// Ruby's `gem`.
    Gem,
    /// Ruby's `bundle`.
    Bundle,
    /// Go's `go` tool.
    Go,
    /// PHP's `composer`.
    Composer,
    /// Rust's `cargo`.
    Cargo,
    /// Python's `poetry`, `pipenv` and `uv`.
    PythonProject,
    /// Java's `mvn` and `gradle`.
    Jvm,
}

impl Manager {
    /// The usual program name.
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::AptGet => "apt-get",
            Manager::Apt => "apt",
            Manager::Apk => "apk",
            Manager::Dnf => "dnf",
            Manager::Yum => "yum",
            Manager::Microdnf => "microdnf",
            Manager::Zypper => "zypper",
            Manager::Pip => "pip",
            Manager::Npm => "npm",
            Manager::Yarn => "yarn",
            Manager::Pnpm => "pnpm",
            Manager::Gem => "gem",
            Manager::Bundle => "bundle",
            Manager::Go => "go",
            Manager::Composer => "composer",
            Manager::Cargo => "cargo",
            Manager::PythonProject => "poetry",
            Manager::Jvm => "mvn",
        }
    }

    /// True for the operating system's package managers.
    pub fn is_os(self) -> bool {
        matches!(
            self,
            Manager::AptGet
                | Manager::Apt
                | Manager::Apk
                | Manager::Dnf
                | Manager::Yum
                | Manager::Microdnf
                | Manager::Zypper
        )
    }
}

/// What the manager is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Install or add packages.
    Install,
    /// Refresh the package index (`apt-get update`, `apk update`, `dnf makecache`).
    Update,
    /// Upgrade installed packages.
    Upgrade,
    /// Remove packages (`remove`, `purge`, `del`, `autoremove`, `uninstall`).
    Remove,
    /// Clean the manager's cache (`apt-get clean`, `yum clean all`, `npm cache clean`).
    CleanCache,
    /// Build or fetch a project's dependencies (`go build`, `cargo build`, `mvn package`).
    Build,
    /// Anything else.
    Other,
}

/// One invocation of a package manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation<'a> {
    /// Which manager.
    pub manager: Manager,
    /// What it does.
    pub action: Action,
    /// The program word (`apt-get`, `/usr/bin/pip3`, or `python` for `python -m pip`).
    pub program: &'a Word,
    /// The subcommand word (`install`), when there is one.
    pub subcommand: Option<&'a Word>,
    /// Every option word (starting with `-`), before and after the subcommand.
    pub options: Vec<&'a Word>,
    /// The positional arguments after the subcommand: package names or specs. Option values
    /// (`-o X`, `-r requirements.txt`, `--virtual .deps`) are not included.
    pub packages: Vec<&'a Word>,
    /// True when the install reads a manifest or lock file (`npm ci`, `pip install -r`,
    /// `pip install .`, `bundle install`, `go mod download`, `yarn` without packages, ...)
    /// rather than naming packages.
    pub from_manifest: bool,
}

impl Invocation<'_> {
    /// True when an option word equals one of `names` (`--yes`), or a bundle of short options
    /// contains one of the single letters in `short` (`-qy` has `y`).
    pub fn has_option(&self, names: &[&str], short: &[char]) -> bool {
        self.options.iter().any(|o| {
            let v = o.as_str();
            let bare = v.split_once('=').map_or(v, |(k, _)| k);
            names.contains(&bare)
                || (v.starts_with('-')
                    && !v.starts_with("--")
                    && v[1..].chars().any(|c| short.contains(&c)))
        })
    }

    /// The option word equal to one of `names` (or starting with `name=`).
    pub fn option(&self, names: &[&str]) -> Option<&Word> {
        self.options.iter().copied().find(|o| {
            let v = o.as_str();
            names
                .iter()
                .any(|n| v == *n || (v.starts_with(n) && v[n.len()..].starts_with('=')))
        })
    }
}

/// Options that take the next word as their value, per manager.
fn takes_value(manager: Manager, option: &str) -> bool {
    if option.contains('=') || !option.starts_with('-') {
        return false;
    }
    let list: &[&str] = match manager {
        Manager::AptGet | Manager::Apt => &[
            "-o",
            "--option",
            "-t",
            "--target-release",
            "-c",
            "--config-file",
            "-a",
            "--host-architecture",
        ],
        Manager::Apk => &[
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "-t",
            "--virtual",
            "--keys-dir",
            "--cache-dir",
            "--repositories-file",
        ],
        Manager::Dnf | Manager::Yum | Manager::Microdnf => &[
            "-c",
            "--config",
            "--installroot",
            "--releasever",
            "-x",
            "--exclude",
            "--repo",
            "--repoid",
            "--enablerepo",
            "--disablerepo",
            "--setopt",
            "--nodocs-x",
            "-d",
            "--debuglevel",
            "-e",
            "--errorlevel",
        ],
        Manager::Zypper => &[
            "-r", "--repo", "--root", "-R", "--from", "-t", "--type", "-c", "--config",
        ],
        Manager::Pip => &[
            "-r",
            "--requirement",
            "-c",
            "--constraint",
            "-e",
            "--editable",
            "-i",
            "--index-url",
            "--extra-index-url",
            "-f",
            "--find-links",
            "-t",
            "--target",
            "--prefix",
            "--root",
            "--src",
            "--trusted-host",
            "--platform",
            "--python-version",
            "--implementation",
            "--abi",
            "--progress-bar",
            "--cache-dir",
            "--log",
            "--proxy",
            "--retries",
            "--timeout",
            "--exists-action",
            "--cert",
            "--client-cert",
            "--upgrade-strategy",
            "--no-binary",
            "--only-binary",
            "--config-settings",
            "-C",
            "--global-option",
            "--report",
            "--python",
        ],
        Manager::Npm | Manager::Pnpm => &[
            "--prefix",
            "--registry",
            "-w",
            "--workspace",
            "--cache",
            "--loglevel",
            "-C",
            "--dir",
            "--filter",
        ],
        Manager::Yarn => &[
            "--cwd",
            "--registry",
            "--cache-folder",
            "--modules-folder",
            "--network-timeout",
            "--mutex",
        ],
        Manager::Gem => &[
            "-v",
            "--version",
            "-i",
            "--install-dir",
            "-n",
            "--bindir",
            "--source",
            "-s",
            "--platform",
        ],
        Manager::Bundle => &[
            "--path",
            "--jobs",
            "-j",
            "--gemfile",
            "--retry",
            "--without",
            "--with",
            "--deployment-x",
        ],
        Manager::Go => &["-o", "-C", "-tags", "-ldflags", "-gcflags", "-mod", "-p"],
        Manager::Composer => &["-d", "--working-dir"],
        Manager::Cargo => &[
            "--root",
            "--version",
            "--target",
            "-p",
            "--package",
            "--features",
            "-F",
            "--bin",
            "--manifest-path",
            "-j",
            "--jobs",
            "--path",
            "--git",
            "--branch",
            "--tag",
            "--rev",
            "--profile",
        ],
        Manager::PythonProject | Manager::Jvm => &[
            "--only",
            "--with",
            "--without",
            "-E",
            "--extras",
            "-f",
            "-s",
            "-P",
            "-pl",
            "-D",
        ],
    };
    list.contains(&option)
}

fn manager_of(name: &str) -> Option<Manager> {
    let m = match name {
        "apt-get" => Manager::AptGet,
        "apt" => Manager::Apt,
        "apk" => Manager::Apk,
        "dnf" | "dnf5" | "dnf4" => Manager::Dnf,
        "yum" => Manager::Yum,
        "microdnf" => Manager::Microdnf,
        "zypper" => Manager::Zypper,
        "npm" => Manager::Npm,
        "yarn" | "yarnpkg" => Manager::Yarn,
        "pnpm" => Manager::Pnpm,
        "gem" => Manager::Gem,
        "bundle" | "bundler" => Manager::Bundle,
        "go" => Manager::Go,
        "composer" | "composer.phar" => Manager::Composer,
        "cargo" => Manager::Cargo,
        "poetry" | "pipenv" | "uv" => Manager::PythonProject,
        "mvn" | "mvnw" | "gradle" | "gradlew" => Manager::Jvm,
        n if is_pip(n) => Manager::Pip,
        _ => return None,
    };
    Some(m)
}

/// `pip`, `pip3`, `pip3.12`.
fn is_pip(name: &str) -> bool {
    name.strip_prefix("pip")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `python`, `python3`, `python3.12`.
fn is_python(name: &str) -> bool {
    name.strip_prefix("python")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn action_of(manager: Manager, sub: &str) -> Action {
    use Action::*;
    match manager {
        Manager::AptGet | Manager::Apt => match sub {
            "install" | "reinstall" | "build-dep" => Install,
            "update" => Update,
            "upgrade" | "dist-upgrade" | "full-upgrade" => Upgrade,
            "remove" | "purge" | "autoremove" | "autopurge" => Remove,
            "clean" | "autoclean" | "distclean" => CleanCache,
            _ => Other,
        },
        Manager::Apk => match sub {
            "add" => Install,
            "update" => Update,
            "upgrade" => Upgrade,
            "del" => Remove,
            "cache" => CleanCache,
            _ => Other,
        },
        Manager::Dnf | Manager::Yum | Manager::Microdnf => match sub {
            "install" | "reinstall" | "groupinstall" | "localinstall" => Install,
            "makecache" | "check-update" => Update,
            "upgrade" | "update" | "distro-sync" => Upgrade,
            "remove" | "erase" | "autoremove" | "groupremove" => Remove,
            "clean" => CleanCache,
            _ => Other,
        },
        Manager::Zypper => match sub {
            "install" | "in" | "source-install" | "si" => Install,
            "refresh" | "ref" => Update,
            "update" | "up" | "dist-upgrade" | "dup" | "patch" => Upgrade,
            "remove" | "rm" => Remove,
            "clean" | "cc" => CleanCache,
            _ => Other,
        },
        Manager::Pip => match sub {
            "install" | "download" | "wheel" => Install,
            "uninstall" => Remove,
            "cache" => CleanCache,
            _ => Other,
        },
        Manager::Npm => match sub {
            "install" | "i" | "ci" | "add" | "isntall" | "in" => Install,
            "uninstall" | "rm" | "remove" | "un" => Remove,
            "cache" => CleanCache,
            "update" | "up" => Upgrade,
            "run" | "run-script" => Build,
            _ => Other,
        },
        Manager::Yarn | Manager::Pnpm => match sub {
            "" | "install" | "i" | "add" => Install,
            "remove" => Remove,
            "cache" | "store" => CleanCache,
            "upgrade" | "up" | "update" => Upgrade,
            "build" | "run" => Build,
            "global" => Install,
            _ => Other,
        },
        Manager::Gem => match sub {
            "install" | "i" => Install,
            "uninstall" => Remove,
            "update" => Upgrade,
            "cleanup" => CleanCache,
            _ => Other,
        },
        Manager::Bundle => match sub {
            "" | "install" => Install,
            "update" => Upgrade,
            "clean" => CleanCache,
            _ => Other,
        },
        Manager::Go => match sub {
            "install" | "get" => Install,
            "mod" => Install,
            "build" | "test" | "generate" | "run" | "vet" => Build,
            "clean" => CleanCache,
            _ => Other,
        },
        Manager::Composer => match sub {
            "install" | "require" => Install,
            "update" => Upgrade,
            "clear-cache" | "clearcache" | "cc" => CleanCache,
            _ => Other,
        },
        Manager::Cargo => match sub {
            "install" | "fetch" => Install,
            "build" | "b" | "test" | "t" | "run" | "check" => Build,
            _ => Other,
        },
        Manager::PythonProject => match sub {
            "install" | "sync" | "add" => Install,
            "cache" => CleanCache,
            _ => Other,
        },
        Manager::Jvm => match sub {
            "clean" => CleanCache,
            _ => Build,
        },
    }
}

/// Reads `cmd` as a package-manager invocation.
pub fn invocation(cmd: &Command) -> Option<Invocation<'_>> {
    let start = cmd.program_index()?;
    let words = &cmd.words[start..];
    let program = &words[0];
    let name = base_name(&program.value);
    let (manager, mut rest) = if is_python(name) {
        // python -m pip ...
        let m = words.iter().position(|w| w.value == "-m")?;
        let module = words.get(m + 1)?;
        if !is_pip(&module.value) && module.value != "pipenv" && module.value != "poetry" {
            return None;
        }
        (manager_of(&module.value)?, &words[m + 2..])
    } else {
        (manager_of(name)?, &words[1..])
    };
    // yarn/pnpm `global add x`: treat `global` as part of the subcommand.
    let mut options = Vec::new();
    let mut subcommand = None;
    let mut packages = Vec::new();
    let mut after_double_dash = false;
    while let Some((w, tail)) = rest.split_first() {
        rest = tail;
        let v = w.as_str();
        if !after_double_dash && v == "--" {
            after_double_dash = true;
            continue;
        }
        if !after_double_dash && v.starts_with('-') && v.len() > 1 {
            options.push(w);
            if takes_value(manager, v)
                && let Some((_, tail)) = rest.split_first()
            {
                rest = tail;
            }
            continue;
        }
        if subcommand.is_none() {
            subcommand = Some(w);
            if matches!(manager, Manager::Yarn | Manager::Pnpm) && v == "global" {
                // the real verb follows
                if let Some((verb, tail)) = rest.split_first() {
                    rest = tail;
                    subcommand = Some(verb);
                }
            }
            continue;
        }
        packages.push(w);
    }
    let sub = subcommand.map_or("", |w| w.as_str());
    let action = action_of(manager, sub);
    let mut inv = Invocation {
        manager,
        action,
        program,
        subcommand,
        options,
        packages,
        from_manifest: false,
    };
    inv.from_manifest = reads_manifest(&inv, sub);
    Some(inv)
}

fn reads_manifest(inv: &Invocation<'_>, sub: &str) -> bool {
    match inv.manager {
        Manager::Npm => inv.action == Action::Install && (sub == "ci" || inv.packages.is_empty()),
        Manager::Yarn | Manager::Pnpm => {
            inv.action == Action::Install && sub != "add" && inv.packages.is_empty()
        }
        Manager::Pip => {
            inv.action == Action::Install
                && (inv.option(&["-r", "--requirement"]).is_some()
                    || inv.packages.iter().any(|p| {
                        p.value == "." || p.value.starts_with("./") || p.value.starts_with('/')
                    })
                    || inv.option(&["-e", "--editable"]).is_some())
        }
        Manager::Bundle | Manager::Composer => inv.action == Action::Install && sub != "require",
        Manager::Go => sub == "mod" || inv.action == Action::Build,
        Manager::Cargo => matches!(sub, "fetch" | "build" | "b" | "test" | "t"),
        Manager::PythonProject => matches!(sub, "install" | "sync"),
        Manager::Jvm => true,
        _ => false,
    }
}

/// Every package-manager invocation in `commands`, with the index of its command.
pub fn invocations<'a>(
    commands: impl IntoIterator<Item = &'a Command>,
) -> impl Iterator<Item = (usize, Invocation<'a>)> {
    commands
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| invocation(c).map(|inv| (i, inv)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn inv(text: &str) -> (Manager, Action, Vec<String>, Vec<String>, bool) {
        let s = parse(text);
        let i = invocation(&s.commands[0]).expect("an invocation");
        (
            i.manager,
            i.action,
            i.options.iter().map(|w| w.value.clone()).collect(),
            i.packages.iter().map(|w| w.value.clone()).collect(),
            i.from_manifest,
        )
    }

    #[test]
    fn apt_get_with_options_before_the_verb() {
        let (m, a, o, p, _) = inv(
            "DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Options::=--force-confnew -qy install --no-install-recommends curl=7.88 git",
        );
        assert_eq!((m, a), (Manager::AptGet, Action::Install));
        assert_eq!(o, ["-o", "-qy", "--no-install-recommends"]);
        assert_eq!(p, ["curl=7.88", "git"]);
    }

    #[test]
    fn apk_virtual_is_not_a_package() {
        let (m, a, _, p, _) = inv("apk add --no-cache --virtual .build-deps gcc musl-dev");
        assert_eq!((m, a), (Manager::Apk, Action::Install));
        assert_eq!(p, ["gcc", "musl-dev"]);
    }

    #[test]
    fn pip_forms() {
        let (m, a, _, p, manifest) =
            inv("python3 -m pip install --no-cache-dir -r requirements.txt");
        assert_eq!((m, a), (Manager::Pip, Action::Install));
        assert!(p.is_empty());
        assert!(manifest);
        let (m, _, _, p, manifest) = inv("pip3.12 install 'requests>=2' flask");
        assert_eq!(m, Manager::Pip);
        assert_eq!(p, ["requests>=2", "flask"]);
        assert!(!manifest);
        assert!(
            parse("python3 setup.py install")
                .commands
                .iter()
                .all(|c| invocation(c).is_none())
        );
    }

    #[test]
    fn node_managers() {
        assert!(inv("npm ci").4);
        assert!(inv("npm install").4);
        assert!(!inv("npm install -g typescript").4);
        assert_eq!(inv("npm cache clean --force").1, Action::CleanCache);
        assert!(inv("yarn").4);
        assert!(inv("yarn install --frozen-lockfile").4);
        let (_, a, _, p, m) = inv("yarn global add serve");
        assert_eq!(
            (a, p, m),
            (Action::Install, vec!["serve".to_owned()], false)
        );
    }

    #[test]
    fn os_managers() {
        assert_eq!(inv("yum -y install httpd").1, Action::Install);
        assert_eq!(inv("dnf clean all").1, Action::CleanCache);
        assert_eq!(inv("zypper --non-interactive in curl").1, Action::Install);
        assert_eq!(inv("apt-get update").1, Action::Update);
        assert_eq!(inv("apt-get purge -y gcc").1, Action::Remove);
        assert_eq!(inv("sudo apt install vim").0, Manager::Apt);
    }

    #[test]
    fn has_option_reads_bundles_and_long_forms() {
        let s = parse("apt-get -qy install x");
        let i = invocation(&s.commands[0]).unwrap();
        assert!(i.has_option(&["--yes", "--assume-yes"], &['y']));
        let s = parse("apt-get install --assume-yes x");
        let i = invocation(&s.commands[0]).unwrap();
        assert!(i.has_option(&["--yes", "--assume-yes"], &['y']));
        let s = parse("apt-get install x");
        let i = invocation(&s.commands[0]).unwrap();
        assert!(!i.has_option(&["--yes", "--assume-yes"], &['y']));
    }

    #[test]
    fn build_tools_read_manifests() {
        assert!(inv("go mod download").4);
        assert!(inv("go build -o /app ./cmd").4);
        assert!(inv("bundle install --jobs 4").4);
        assert!(inv("./mvnw -B package").4);
        assert!(!inv("cargo install ripgrep").4);
    }
}
