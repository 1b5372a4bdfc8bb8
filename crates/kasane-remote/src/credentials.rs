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

/// The user name Docker stores (and credential helpers answer) with an identity token.
const IDENTITY_TOKEN_USER: &str = "<token>";

/// A user name and its password or token. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub secret: String,
    /// The secret is an identity token: an OAuth2 refresh token that `docker login` stored for
    /// the registry (`identitytoken` in `config.json`, or a helper's answer for the user
    /// `<token>`). It is traded for an access token at the token server, never sent as a
    /// password.
    pub identity_token: bool,
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
    if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credentials {
            username: entry
                .username
                .clone()
                .unwrap_or_else(|| IDENTITY_TOKEN_USER.to_owned()),
            secret: token.to_owned(),
            identity_token: true,
        }));
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
            identity_token: false,
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: u.clone(),
            secret: p.clone(),
            identity_token: false,
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
        identity_token: answer.username == IDENTITY_TOKEN_USER,
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
        let acr = lookup("acr.example", Some(dir.path())).unwrap().unwrap();
        assert!(acr.identity_token);
        assert_eq!(
            (acr.username.as_str(), acr.secret.as_str()),
            ("<token>", "refresh-secret")
        );
        assert!(!format!("{acr:?}").contains("refresh-secret"));
        assert!(!format!("{hub:?}").contains("hubpw"));
    }

    /// Installs `docker-credential-NAME` in `dir`, answering `user` and `secret` for
    /// `reg.example` only.
    fn install_helper(dir: &Path, name: &str, user: &str, secret: &str) {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join(format!("docker-credential-{name}"));
        std::fs::write(
            &bin,
            format!(
                "#!/bin/sh\nread host\n[ \"$1\" = get ] && [ \"$host\" = reg.example ] || exit 1\n\
                 echo '{{\"ServerURL\":\"reg.example\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}'\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn write_config(dir: &Path, json: &str) {
        std::fs::write(dir.join("config.json"), json).unwrap();
    }

    #[test]
    fn runs_credential_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        install_helper(d, "kasanetest", "h", "s3");
        write_config(d, r#"{"credHelpers":{"reg.example":"kasanetest"}}"#);
        let c = lookup_in("reg.example", Some(d), Some(d)).unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.secret.as_str()), ("h", "s3"));
        assert!(!c.identity_token);
        // Docker's convention: a helper answering for the user `<token>` holds an identity
        // token.
        install_helper(d, "kasanetok", "<token>", "rt");
        write_config(d, r#"{"credHelpers":{"reg.example":"kasanetok"}}"#);
        let t = lookup_in("reg.example", Some(d), Some(d)).unwrap().unwrap();
        assert!(t.identity_token && t.secret == "rt");
        // A helper that holds nothing for the host leaves the lookup empty.
        write_config(d, r#"{"credsStore":"kasanetest"}"#);
        assert!(
            lookup_in("other.example", Some(d), Some(d))
                .unwrap()
                .is_none()
        );
    }
}
