//! What the end-to-end tests that run Python test backends share: the python3 check (required
//! under CI), a fresh temporary directory per test, and the path of a backend script.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Whether python3 runs here; under `CI` its absence fails the test instead of skipping it.
pub fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required in CI"
        );
        eprintln!("skipped: python3 is not installed");
    }
    ok
}

/// An empty directory `wxmock-{family}-{name}-{pid}` under the system's temporary directory.
pub fn temp_dir(family: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxmock-{family}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The path of a test backend in `harness/tests/backends/`.
pub fn backend_script(name: &str) -> String {
    format!(
        "{}/harness/tests/backends/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}
