//! No document cites a file the repository does not have: every relative Markdown link and every
//! file path written in backticks in README.md, docs/ and the other READMEs must exist. A path
//! may be written from the repository root, from the document's folder, or from a crate's folder
//! (`tests/vectors.rs` in the fixtures docs); outputs wxmock writes (`wxmock-report/…`) are not
//! files of the repository and are left alone.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Folders a path in backticks may be relative to, besides the root and the document's own.
const CRATE_DIRS: &[&str] = &[
    "fixtures",
    "mock-server",
    "harness",
    "harness/profiles",
    "examples/reference-backend",
];

/// File endings that make a backticked word a file path.
const EXTENSIONS: &[&str] = &[
    ".rs", ".md", ".toml", ".json", ".js", ".mjs", ".py", ".txt", ".sh", ".xml", ".xsd", ".html",
    ".yml", ".yaml",
];

fn documents() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut paths = vec![
        root.join("README.md"),
        root.join("fixtures/vectors/README.md"),
    ];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
}

fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        found.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    found
}

fn backticked_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| {
            !word.contains(char::is_whitespace)
                && !word.contains(['{', '}', '*', '<', '>', '$', '='])
                && word.contains('/')
                && !word.starts_with('/')
                && !word.contains("://")
                && EXTENSIONS.iter().any(|ext| word.ends_with(ext))
        })
        .map(str::to_owned)
        .collect()
}

fn exists_from(path: &str, doc_dir: &Path) -> bool {
    let root = Path::new(ROOT);
    root.join(path).exists()
        || doc_dir.join(path).exists()
        || CRATE_DIRS
            .iter()
            .any(|dir| root.join(dir).join(path).exists())
}

#[test]
fn every_cited_file_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let dir = doc.parent().unwrap();
        let name = doc.strip_prefix(ROOT).unwrap().display().to_string();
        for link in links(&text) {
            if link.contains("://") || link.starts_with('#') || link.starts_with("mailto:") {
                continue;
            }
            let target = link.split('#').next().unwrap();
            checked += 1;
            if !dir.join(target).exists() {
                missing.push(format!("{name}: link ({link}) points at nothing"));
            }
        }
        for path in backticked_paths(&text) {
            if path.starts_with("wxmock-report") || path.starts_with("target/") {
                continue;
            }
            checked += 1;
            if !exists_from(&path, dir) {
                missing.push(format!("{name}: `{path}` is not a file of the repository"));
            }
        }
    }
    assert!(checked > 30, "only {checked} citations found");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn no_document_points_at_notes_outside_the_repository() {
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        assert!(
            !text.contains("WECHAT-API"),
            "{} cites WECHAT-API.md, which is not part of the repository; cite docs/wechat-api.md",
            doc.display()
        );
    }
}

#[test]
fn the_path_finder_sees_what_a_reader_sees() {
    let text = "see `docs/nope.md` and [x](../gone.md), not `a b/c.rs` or `http://x/y.json`";
    assert_eq!(backticked_paths(text), vec!["docs/nope.md"]);
    assert_eq!(links(text), vec!["../gone.md"]);
}
