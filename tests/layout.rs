//! The tree says which thread runs what (docs/ARCHITECTURE.md, Layout):
//! every module's first line starts with one of the fixed thread tags,
//! `lib.rs` maps every top-level module, and every source path the README
//! names exists.

use std::path::{Path, PathBuf};

/// The thread tags a module's first line starts with.
const TAGS: [&str; 7] = [
    "AUDIO THREAD",
    "LOADER THREADS",
    "ANALYSIS THREAD",
    "CONTROL THREAD",
    "GUI THREAD",
    "REMOTE THREAD",
    "ANY THREAD",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` is `//! TAG: …` or `//! TAG (qualifier): …`.
fn tagged(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("//! ") else {
        return false;
    };
    TAGS.iter().any(|tag| {
        rest.strip_prefix(tag)
            .is_some_and(|after| after.starts_with(": ") || after.starts_with(" ("))
    })
}

#[test]
fn every_module_says_its_thread_with_a_fixed_tag() {
    let mut files = Vec::new();
    rust_files(&root().join("plugin/src"), &mut files);
    rust_files(&root().join("standalone/src"), &mut files);
    assert!(files.len() > 80, "found {} files", files.len());
    let untagged: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).expect("read a source file");
            let first = text.lines().next().unwrap_or_default();
            (!tagged(first)).then(|| format!("{}: {first}", f.display()))
        })
        .collect();
    assert!(
        untagged.is_empty(),
        "first lines without one of {TAGS:?}:\n{}",
        untagged.join("\n")
    );
    assert!(tagged("//! AUDIO THREAD: the engine."));
    assert!(tagged("//! ANY THREAD (never the audio thread): a value."));
    assert!(!tagged("//! Audio thread: the engine."));
    assert!(!tagged("//! AUDIO THREADS: the engine."));
}

#[test]
fn lib_rs_maps_every_module_with_its_thread() {
    let lib = std::fs::read_to_string(root().join("plugin/src/lib.rs")).expect("lib.rs");
    let map: Vec<&str> = lib.lines().filter(|l| l.starts_with("//! - ")).collect();
    let modules: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .collect();
    assert!(modules.len() >= 12, "{modules:?}");
    for m in modules {
        let entry = map.iter().find(|l| l.contains(&format!("[`{m}`]")));
        let entry = entry.unwrap_or_else(|| panic!("lib.rs's map leaves out `{m}`"));
        assert!(
            TAGS.iter().any(|t| entry.contains(t)),
            "lib.rs maps `{m}` without its thread: {entry}"
        );
    }
}

#[test]
fn every_source_path_the_readme_names_exists() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut missing = Vec::new();
    for word in readme.split(|c: char| !(c.is_alphanumeric() || "_/.-".contains(c))) {
        let word = word.trim_end_matches('.');
        if !word.ends_with(".rs") || !word.contains('/') {
            continue;
        }
        let candidates = [
            root().join(word),
            root().join("plugin/src").join(word),
            root().join("tests").join(word),
        ];
        if !candidates.iter().any(|p| p.exists()) {
            missing.push(word.to_string());
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "the README names paths that are not in the tree: {missing:?}"
    );
}
