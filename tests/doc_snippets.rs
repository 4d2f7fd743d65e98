//! Every shell snippet in README.md and docs/*.md fenced as ```` ```sh runnable ```` is run, and
//! must exit 0 under `bash -euo pipefail`: the docs' examples stay true.
//!
//! Each snippet gets its own `wxmock serve` (demo app and personas, port 0) with every
//! `127.0.0.1:7070` / `localhost:7070` in the snippet pointed at it, the built `wxmock` first on
//! `PATH`, a fresh `$TMPDIR`, and the repository root as its working directory. The snippets
//! call `curl`: without it the test fails when `CI` is set and is skipped otherwise.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_wxmock");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const MARKER: &str = "```sh runnable";

struct Snippet {
    origin: String,
    code: String,
}

fn documents() -> Vec<PathBuf> {
    let mut paths = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    paths.extend(docs);
    paths
}

fn snippets() -> Vec<Snippet> {
    let mut found = Vec::new();
    for path in documents() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(ROOT).unwrap().display().to_string();
        let mut lines = text.lines().enumerate();
        while let Some((number, line)) = lines.next() {
            if line.trim_end() != MARKER {
                continue;
            }
            let mut code = String::new();
            let mut closed = false;
            for (_, line) in lines.by_ref() {
                if line.trim_start().starts_with("```") {
                    closed = true;
                    break;
                }
                code.push_str(line);
                code.push('\n');
            }
            assert!(closed, "{name}:{}: unclosed runnable snippet", number + 1);
            found.push(Snippet {
                origin: format!("{name}:{}", number + 1),
                code,
            });
        }
    }
    found
}

struct Fake {
    child: Child,
    address: String,
}

impl Fake {
    fn start() -> Fake {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--seed", "1"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let address = first
            .trim()
            .split("listening on http://")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        Fake { child, address }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl_available() -> bool {
    match Command::new("curl").arg("--version").output() {
        Ok(out) if out.status.success() => true,
        _ if std::env::var_os("CI").is_some() => {
            panic!("curl is needed by the runnable doc snippets and CI must provide it")
        }
        _ => {
            eprintln!("skipping the runnable doc snippets: curl is not installed");
            false
        }
    }
}

#[test]
fn every_runnable_snippet_in_the_docs_exits_zero() {
    let snippets = snippets();
    assert!(
        snippets.len() >= 4,
        "only {} runnable snippets found; was the {MARKER:?} marker renamed?",
        snippets.len()
    );
    if !curl_available() {
        return;
    }
    let bin_dir = Path::new(BIN).parent().unwrap().to_owned();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let mut failures = Vec::new();
    for (index, snippet) in snippets.iter().enumerate() {
        let fake = Fake::start();
        let code = snippet
            .code
            .replace("127.0.0.1:7070", &fake.address)
            .replace("localhost:7070", &fake.address);
        let tmp =
            std::env::temp_dir().join(format!("wxmock-doc-snippet-{}-{index}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &code])
            .current_dir(ROOT)
            .env("PATH", &path)
            .env("TMPDIR", &tmp)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&tmp);
        if !output.status.success() {
            failures.push(format!(
                "{} exited {:?}\n--- snippet\n{}--- stdout\n{}--- stderr\n{}",
                snippet.origin,
                output.status.code(),
                snippet.code,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_failing_snippet_would_be_caught() {
    // The runner's own premise: `bash -euo pipefail` turns a failing step into a non-zero exit,
    // even in the middle of a pipeline.
    let status = Command::new("bash")
        .args(["-euo", "pipefail", "-c", "false | cat\necho unreachable"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
}
