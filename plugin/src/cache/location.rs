//! ANY THREAD: where the chunk cache lives by default.
//!
//! | platform | folder |
//! | --- | --- |
//! | Linux and other Unix | `$XDG_CACHE_HOME/trax/chunks`, else `~/.cache/trax/chunks` |
//! | macOS | `~/Library/Caches/trax/chunks` |
//! | Windows | `%LOCALAPPDATA%\trax\chunks` |
//!
//! As the XDG spec says, a relative `XDG_CACHE_HOME` is ignored. The folder
//! is a setting: [`super::ChunkStore::open`] takes any path.

use std::path::PathBuf;

/// Which platform's convention to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Platform {
    Xdg,
    MacOs,
    Windows,
}

impl Platform {
    fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Xdg
        }
    }
}

/// The default cache folder on this machine, from the environment; `None`
/// when the variables it needs are unset (no home folder).
pub fn default_dir() -> Option<PathBuf> {
    default_dir_for(Platform::current(), |name| std::env::var_os(name))
}

/// [`default_dir`] for `platform`, reading variables through `var`.
fn default_dir_for(
    platform: Platform,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    // An empty or relative variable is as good as unset.
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let base = match platform {
        Platform::Xdg => {
            absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")))?
        }
        Platform::MacOs => absolute("HOME")?.join("Library").join("Caches"),
        Platform::Windows => absolute("LOCALAPPDATA")?,
    };
    Some(base.join("trax").join("chunks"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::Path;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[cfg(unix)]
    #[test]
    fn xdg_rules() {
        let dir = |vars: &[(&str, &str)]| default_dir_for(Platform::Xdg, env(vars));
        assert_eq!(
            dir(&[("XDG_CACHE_HOME", "/x/cache"), ("HOME", "/home/u")]).as_deref(),
            Some(Path::new("/x/cache/trax/chunks"))
        );
        assert_eq!(
            dir(&[("HOME", "/home/u")]).as_deref(),
            Some(Path::new("/home/u/.cache/trax/chunks"))
        );
        assert_eq!(
            dir(&[("XDG_CACHE_HOME", "relative"), ("HOME", "/home/u")]).as_deref(),
            Some(Path::new("/home/u/.cache/trax/chunks"))
        );
        assert_eq!(
            dir(&[("XDG_CACHE_HOME", ""), ("HOME", "/home/u")]).as_deref(),
            Some(Path::new("/home/u/.cache/trax/chunks"))
        );
        assert_eq!(dir(&[]), None);
    }

    #[cfg(unix)]
    #[test]
    fn macos_rules() {
        let dir = |vars: &[(&str, &str)]| default_dir_for(Platform::MacOs, env(vars));
        assert_eq!(
            dir(&[("HOME", "/Users/u"), ("XDG_CACHE_HOME", "/x")]).as_deref(),
            Some(Path::new("/Users/u/Library/Caches/trax/chunks"))
        );
        assert_eq!(dir(&[]), None);
    }

    #[test]
    fn windows_rules() {
        let local = if cfg!(windows) {
            r"C:\Users\u\AppData\Local"
        } else {
            "/appdata/local"
        };
        let got = default_dir_for(Platform::Windows, env(&[("LOCALAPPDATA", local)]));
        assert_eq!(got, Some(Path::new(local).join("trax").join("chunks")));
        assert_eq!(
            default_dir_for(Platform::Windows, env(&[("HOME", "/h")])),
            None
        );
    }

    #[test]
    fn this_machine_has_one() {
        if std::env::var_os("HOME").is_some() || std::env::var_os("LOCALAPPDATA").is_some() {
            let dir = default_dir().expect("a default dir");
            assert!(
                dir.ends_with(Path::new("trax").join("chunks")),
                "{}",
                dir.display()
            );
        }
    }
}
