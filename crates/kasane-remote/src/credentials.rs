//! Registry credentials the way the Docker CLI stores them: `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`), its `auths` entries, and credential helpers (`credHelpers` per
//! registry, `credsStore` for all) run as `docker-credential-NAME get`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::base64;
use crate::error::RemoteError;
use crate::reference::DOCKER_HUB;

/// The key Docker uses for Docker Hub in `auths` and when asking helpers.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user name and its password or token. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The `Authorization: Basic` value.
    pub(crate) fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            base64::encode(format!("{}:{}", self.username, self.secret).as_bytes())
        )
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

impl fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthEntry(<redacted>)")
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// The directory holding `config.json`: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn default_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker"))
}

/// The host an `auths` key names: `https://reg.io/v1/` → `reg.io`.
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB,
        h => h,
    }
}

/// Finds credentials for `registry` in the config directory `dir` (see [`default_config_dir`]).
/// `Ok(None)` when there is no config file or nothing for this registry.
pub fn lookup(registry: &str, dir: Option<&Path>) -> Result<Option<Credentials>, RemoteError> {
    lookup_in(registry, dir, None)
}

/// [`lookup`], running helpers from `helper_dir` instead of `PATH` when given.
fn lookup_in(
    registry: &str,
    dir: Option<&Path>,
    helper_dir: Option<&Path>,
) -> Result<Option<Credentials>, RemoteError> {
    let Some(dir) = dir else { return Ok(None) };
    let path = dir.join("config.json");
    let bad = |detail: String| RemoteError::Credentials {
        registry: registry.to_owned(),
        detail,
    };
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(format!("{}: {e}", path.display()))),
    };
    // serde_json's message gives line and column only, never the text around it.
    let config: ConfigFile = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("{} is not valid: {e}", path.display())))?;
    let helper = config
        .cred_helpers
        .iter()
        .find(|(k, _)| key_host(k) == registry)
        .map(|(_, v)| v.clone())
        .or(config.creds_store.clone());
    if let Some(helper) = helper
        && let Some(found) = run_helper(&helper, registry, helper_dir)?
    {
        return Ok(Some(found));
    }
    let Some(entry) = config
        .auths
        .iter()
        .find(|(k, _)| key_host(k) == registry)
        .map(|(_, e)| e)
    else {
        return Ok(None);
    };
    if entry
        .identitytoken
        .as_deref()
        .is_some_and(|t| !t.is_empty())
    {
        // An OAuth refresh token (Azure and other registries after `docker login`): using it
        // takes a POST to the token server that kasane does not make yet. Say so rather than
        // fall back to anonymous access and a misleading refusal.
        return Err(bad(format!(
            "{} holds an identity token for it, which kasane cannot use yet; \
             log in with a user name and password or token instead",
            path.display()
        )));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::decode(auth)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                bad(format!(
                    "the `auth` entry in {} is not base64",
                    path.display()
                ))
            })?;
        let (username, secret) = decoded.split_once(':').ok_or_else(|| {
            bad(format!(
                "the `auth` entry in {} is not `user:password`",
                path.display()
            ))
        })?;
        return Ok(Some(Credentials {
            username: username.to_owned(),
            secret: secret.to_owned(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: u.clone(),
            secret: p.clone(),
        })),
        _ => Ok(None),
    }
}

/// Runs `docker-credential-<helper> get` with the registry on stdin.
fn run_helper(
    helper: &str,
    registry: &str,
    helper_dir: Option<&Path>,
) -> Result<Option<Credentials>, RemoteError> {
    let bad = |detail: String| RemoteError::Credentials {
        registry: registry.to_owned(),
        detail,
    };
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(bad(format!(
            "credential helper name `{helper}` is not valid"
        )));
    }
    let program = format!("docker-credential-{helper}");
    let server = if registry == DOCKER_HUB {
        DOCKER_HUB_KEY
    } else {
        registry
    };
    let executable = helper_dir.map_or_else(|| PathBuf::from(&program), |d| d.join(&program));
    let mut child = Command::new(executable)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| bad(format!("cannot run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| bad(format!("{program}: {e}")))?;
    if !out.status.success() {
        // Helpers exit 1 with "credentials not found" when they hold nothing for this host.
        return Ok(None);
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|e| {
        bad(format!(
            "{program} answered something that is not its JSON: {e}"
        ))
    })?;
    Ok(Some(Credentials {
        username: answer.username,
        secret: answer.secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auths_entries_by_host() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOmh1YnB3"},
                "reg.example:5000":{"username":"u","password":"p"}}}"#,
        )
        .unwrap();
        let hub = lookup("docker.io", Some(dir.path())).unwrap().unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.secret.as_str()),
            ("hub", "hubpw")
        );
        let other = lookup("reg.example:5000", Some(dir.path()))
            .unwrap()
            .unwrap();
        assert_eq!(other.basic_header(), "Basic dTpw");
        assert!(lookup("elsewhere.io", Some(dir.path())).unwrap().is_none());
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"acr.example":{"auth":"","identitytoken":"refresh-secret"}}}"#,
        )
        .unwrap();
        let e = lookup("acr.example", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("identity token") && !e.contains("refresh-secret"),
            "{e}"
        );
        assert!(!format!("{hub:?}").contains("hubpw"));
    }

    #[test]
    fn runs_credential_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("docker-credential-kasanetest");
        std::fs::write(
            &bin,
            "#!/bin/sh\nread host\n[ \"$1\" = get ] && [ \"$host\" = reg.example ] || exit 1\n\
             echo '{\"ServerURL\":\"reg.example\",\"Username\":\"h\",\"Secret\":\"s3\"}'\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credHelpers":{"reg.example":"kasanetest"}}"#,
        )
        .unwrap();
        let found = lookup_in("reg.example", Some(dir.path()), Some(dir.path()));
        let c = found.unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.secret.as_str()), ("h", "s3"));
        // A helper that holds nothing for the host leaves the lookup empty.
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credsStore":"kasanetest"}"#,
        )
        .unwrap();
        assert!(
            lookup_in("other.example", Some(dir.path()), Some(dir.path()))
                .unwrap()
                .is_none()
        );
    }
}
