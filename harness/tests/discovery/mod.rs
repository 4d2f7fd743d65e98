//! What the discover tests share: tool checks that fail in CI instead of skipping (node, python3,
//! libfaketime), the test backends' paths, and the check that discover found the clock movable.
#![allow(dead_code)]

use std::process::Command;

use wxmock_harness::clock::DEBIAN_FAKETIME_LIB;
use wxmock_harness::discover::{ClockFound, DiscoverOptions, Discovery};

pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
        eprintln!("skipped: {tool} is not installed");
    }
    ok
}

/// Whether libfaketime is installed, so discover can be expected to try a started backend
/// under it (required in CI; otherwise the faketime assertions are skipped with a note).
pub fn faketime() -> bool {
    let ok = std::path::Path::new(DEBIAN_FAKETIME_LIB).is_file();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "libfaketime ({DEBIAN_FAKETIME_LIB}) is required in CI"
        );
        eprintln!("faketime assertions skipped: {DEBIAN_FAKETIME_LIB} is not installed");
    }
    ok
}

/// Discover wrote `clock = "faketime"` (the monotonic clock left to `auto`), saying why.
pub fn assert_faketime_found(found: &Discovery, toml: &str) {
    match &found.clock {
        Some(ClockFound::Faketime {
            monotonic: None,
            lib: None,
            seen,
        }) => assert!(seen.contains("two days ahead"), "{seen}"),
        other => panic!("libfaketime should move this backend's clock: {other:?}\n{toml}"),
    }
    assert!(
        toml.contains("\nclock = \"faketime\"\n") && !toml.contains("faketime_monotonic"),
        "{toml}"
    );
}

pub fn script(name: &str) -> String {
    format!("{}/tests/backends/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn options(login_path: &str) -> DiscoverOptions {
    DiscoverOptions::new(login_path)
}
