//! `kasane --help`, `--version` and usage errors.

use crate::{kasane, run};

#[test]
fn help_lists_every_subcommand() {
    insta::assert_snapshot!(run(&["--help"]));
}

#[test]
fn version() {
    let out = kasane().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("kasane {}\n", env!("CARGO_PKG_VERSION"))
    );
    insta::with_settings!({filters => vec![(env!("CARGO_PKG_VERSION"), "[VERSION]")]}, {
        insta::assert_snapshot!(run(&["--version"]));
    });
}

/// The subcommand names in `kasane --help`, each checked to fit on one line.
fn subcommands() -> Vec<String> {
    let out = kasane().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let section = help
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands: section");
    section
        .lines()
        .map(|line| {
            // "  name  one line of help": a wrapped description would start with spaces only.
            let name = line.split_whitespace().next().unwrap_or_default();
            assert!(
                line.starts_with("  ") && !line.starts_with("   ") && line.len() > name.len() + 2,
                "subcommand help must be one line: {line:?}"
            );
            name.to_owned()
        })
        .collect()
}

#[test]
fn every_subcommand_has_its_own_help() {
    let names = subcommands();
    assert!(names.iter().any(|name| name == "help"), "{names:?}");
    for name in names.iter().filter(|name| *name != "help") {
        let out = kasane().args([name, "--help"]).output().unwrap();
        assert!(out.status.success(), "kasane {name} --help failed");
        let usage = format!("Usage: kasane {name}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&usage),
            "kasane {name} --help shows no usage line"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [&[][..], &["no-such-command"], &["--no-such-flag"]] {
        let out = kasane().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "kasane {args:?}");
        assert!(out.stdout.is_empty(), "kasane {args:?} wrote to stdout");
    }
}
