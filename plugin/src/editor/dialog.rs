//! GUI THREAD (the dialog itself runs on a thread of its own): the
//! platform's file dialog, as a child program, so that a modal dialog never
//! blocks the host's GUI thread and no GUI toolkit is linked into the
//! plugin (a second toolkit in a host's process is what breaks plugin
//! windows). Linux: `zenity` (GNOME, most desktops) or `kdialog` (KDE);
//! macOS: `osascript`'s `choose file`/`choose folder`; Windows: PowerShell's
//! `OpenFileDialog`/`FolderBrowserDialog`. Where none exists, the editor's
//! path field is the way.

use std::process::Command;
use std::sync::mpsc::{channel, Receiver, TryRecvError};

/// What to choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// A setlist file (`.toml` or `.json`).
    SetlistFile,
    /// A folder of songs (a setlist made from the folder).
    Folder,
}

/// A dialog running on its own thread.
pub struct PendingDialog {
    rx: Receiver<Result<Option<String>, String>>,
}

/// What a poll of a [`PendingDialog`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum DialogResult {
    /// Still open.
    Open,
    /// The user chose this path.
    Chosen(String),
    /// The user closed the dialog without choosing.
    Cancelled,
    /// No dialog program could run (the message says which were tried).
    Unavailable(String),
}

impl PendingDialog {
    /// Opens the platform's dialog for `pick`, starting in `start_dir` if
    /// given. Returns at once.
    pub fn open(pick: Pick, start_dir: Option<String>) -> Self {
        let (tx, rx) = channel();
        let spawned =
            crate::thread::spawn(crate::thread::TraxThread::FileDialog, false, move || {
                let _ = tx.send(run(pick, start_dir.as_deref()));
            });
        if let Err(e) = spawned {
            let (tx, rx2) = channel();
            let _ = tx.send(Err(format!("cannot start the dialog thread: {e}")));
            return Self { rx: rx2 };
        }
        Self { rx }
    }

    /// Whether the dialog has finished, and how.
    pub fn poll(&self) -> DialogResult {
        match self.rx.try_recv() {
            Ok(Ok(Some(path))) => DialogResult::Chosen(path),
            Ok(Ok(None)) => DialogResult::Cancelled,
            Ok(Err(why)) => DialogResult::Unavailable(why),
            Err(TryRecvError::Empty) => DialogResult::Open,
            Err(TryRecvError::Disconnected) => {
                DialogResult::Unavailable("the dialog thread stopped".into())
            }
        }
    }
}

/// The candidate programs for `pick` on this platform, in order.
fn commands(pick: Pick, start_dir: Option<&str>) -> Vec<Command> {
    let mut out = Vec::new();
    if cfg!(target_os = "macos") {
        let what = match pick {
            Pick::SetlistFile => "choose file with prompt \"Open a Trax setlist\"",
            Pick::Folder => "choose folder with prompt \"Open a folder of songs\"",
        };
        let mut c = Command::new("osascript");
        c.args(["-e", &format!("POSIX path of ({what})")]);
        out.push(c);
    } else if cfg!(target_os = "windows") {
        let script = match pick {
            Pick::SetlistFile => "Add-Type -AssemblyName System.Windows.Forms; $d = New-Object System.Windows.Forms.OpenFileDialog; $d.Filter = 'Setlists (*.toml;*.json)|*.toml;*.json|All files|*.*'; if ($d.ShowDialog() -eq 'OK') { $d.FileName }",
            Pick::Folder => "Add-Type -AssemblyName System.Windows.Forms; $d = New-Object System.Windows.Forms.FolderBrowserDialog; if ($d.ShowDialog() -eq 'OK') { $d.SelectedPath }",
        };
        let mut c = Command::new("powershell");
        c.args(["-NoProfile", "-Command", script]);
        out.push(c);
    } else {
        let dir = start_dir.map(|d| format!("{}/", d.trim_end_matches('/')));
        let mut z = Command::new("zenity");
        z.arg("--file-selection");
        match pick {
            Pick::SetlistFile => {
                z.args([
                    "--title=Open a Trax setlist",
                    "--file-filter=Setlists (toml, json) | *.toml *.json",
                    "--file-filter=All files | *",
                ]);
            }
            Pick::Folder => {
                z.args(["--directory", "--title=Open a folder of songs"]);
            }
        }
        if let Some(dir) = &dir {
            z.arg(format!("--filename={dir}"));
        }
        out.push(z);
        let mut k = Command::new("kdialog");
        let start = dir.unwrap_or_else(|| ".".into());
        match pick {
            Pick::SetlistFile => {
                k.args(["--getopenfilename", &start, "*.toml *.json|Setlists"]);
            }
            Pick::Folder => {
                k.args(["--getexistingdirectory", &start]);
            }
        }
        out.push(k);
    }
    out
}

/// Runs the first dialog program that exists; `Ok(None)` when the user
/// cancelled.
fn run(pick: Pick, start_dir: Option<&str>) -> Result<Option<String>, String> {
    let mut tried = Vec::new();
    for mut command in commands(pick, start_dir) {
        let program = command.get_program().to_string_lossy().into_owned();
        match command.output() {
            Ok(output) => {
                if !output.status.success() {
                    return Ok(None);
                }
                let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
                return Ok((!path.is_empty()).then_some(path));
            }
            Err(e) => tried.push(format!("{program} ({e})")),
        }
    }
    Err(format!(
        "no file dialog program: tried {}; type the path instead",
        tried.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_has_a_candidate_and_linux_offers_two() {
        for pick in [Pick::SetlistFile, Pick::Folder] {
            let c = commands(pick, Some("/music"));
            assert!(!c.is_empty());
            if cfg!(target_os = "linux") {
                let programs: Vec<_> = c.iter().map(|c| c.get_program().to_owned()).collect();
                assert_eq!(programs, ["zenity", "kdialog"]);
            }
        }
    }
}
