//! End-to-end tests of `wxmock demo`: the reference backend conforms (exit 0, three reports
//! written), a defect switch makes it fail (exit 5), an unknown defect is a usage error (exit 2).

use std::path::PathBuf;
use std::process::{Command, Output};

fn wxmock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wxmock"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run wxmock")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxmock-demo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_demo_conforms_and_writes_the_three_reports() {
    let dir = out_dir("ok");
    let out = wxmock(&["demo", "--out", dir.to_str().expect("utf-8"), "--seed", "5"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("result: the backend conforms"), "{stdout}");
    for f in ["report.json", "junit.xml", "report.html"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("read"))
            .expect("json");
    assert_eq!(report["summary"]["conforms"], true);
    assert_eq!(report["profile"], "reference-backend");
}

#[test]
fn the_demo_with_the_alg_none_defect_exits_5() {
    let dir = out_dir("alg-none");
    let out = wxmock(&[
        "demo",
        "--defect",
        "alg-none",
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{stdout}");
    assert!(stdout.contains("token.alg-none"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("read"))
            .expect("json");
    let failed: Vec<&str> = report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["status"] == "failed")
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(failed, vec!["token.alg-none"]);
}

#[test]
fn an_unknown_defect_is_a_usage_error() {
    let out = wxmock(&[
        "demo",
        "--defect",
        "no-such-defect",
        "--out",
        out_dir("unknown").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-defect"));
}

#[test]
fn the_defects_can_be_listed() {
    let out = wxmock(&["demo", "--list-defects"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("alg-none") && stdout.contains("wedge-on-upstream-reset"),
        "{stdout}"
    );
}
