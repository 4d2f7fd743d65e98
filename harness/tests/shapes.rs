//! The worked examples of docs/harness.md, run as written against a backend of each shape
//! (harness/tests/backends/): Wafer headers with a two-part session (each part dropped, malformed,
//! altered and swapped by the token.* cases; also as a header + cookie pair), an opaque `Token` header
//! with an acknowledge-only user-info endpoint, a jwt-simple bare-string JWT, and a backend that
//! dies on an upstream error. Each clean backend passes every applicable case; each defect fails
//! exactly the cases it should, and nothing errors. Every other TOML snippet of the page is
//! checked to be a valid part of a profile.

mod backend_run;

use backend_run::have;
use wxmock_harness::profile::{CommandSpec, Profile};
use wxmock_harness::report::RunReport;
use wxmock_harness::runner::{run, RunOptions};

const DOC: &str = include_str!("../../docs/harness.md");

/// The TOML blocks of the page: (info string after ```toml, body).
fn toml_blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```toml") else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.trim_start().starts_with("```"))
            .collect();
        out.push((info.trim().to_string(), body.join("\n")));
    }
    out
}

fn snippet(name: &str) -> String {
    toml_blocks()
        .into_iter()
        .find(|(info, _)| *info == format!("profile={name}"))
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("docs/harness.md has no ```toml profile={name} block"))
}

/// The documented profile with its command pointed at the test backend, in a scratch directory.
fn profile(name: &str, program: &str, script: &str, defect: &str) -> Profile {
    profile_from(&snippet(name), name, program, script, defect)
}

/// A profile's text with its command pointed at the test backend, in a scratch directory.
fn profile_from(text: &str, name: &str, program: &str, script: &str, defect: &str) -> Profile {
    let mut p = Profile::from_toml_str(text, &format!("docs/harness.md ({name})"))
        .expect("the documented profile is valid");
    let script = format!("{}/tests/backends/{script}", env!("CARGO_MANIFEST_DIR"));
    p.backend.command = Some(CommandSpec::Argv(vec![program.into(), script]));
    p.backend.env.insert("DEFECT".into(), defect.into());
    p.backend.cwd = Some(std::env::temp_dir());
    p.backend.ready_timeout_secs = 20;
    p
}

/// Runs the whole catalogue; nothing may error and at least 15 cases must pass.
async fn report(p: Profile) -> RunReport {
    let options = RunOptions {
        seed: Some(21),
        ..RunOptions::default()
    };
    let report: RunReport = run(p, options, None, &mut []).await.expect("run");
    let errored: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.status == "errored")
        .map(|c| format!("{}: {:?}", c.id, c.reason))
        .collect();
    assert!(errored.is_empty(), "errored: {errored:#?}");
    let passed = report.cases.iter().filter(|c| c.status == "passed").count();
    assert!(passed >= 15, "only {passed} passed: {:#?}", report.cases);
    report
}

/// The ids of the failed cases, in run order.
async fn failing(p: Profile) -> Vec<String> {
    report(p)
        .await
        .cases
        .iter()
        .filter(|c| c.status == "failed")
        .map(|c| c.id.clone())
        .collect()
}

#[tokio::test]
async fn the_wafer_example_passes_clean_and_catches_each_defect() {
    if !have("node") {
        return;
    }
    let run = |d: &'static str| failing(profile("wafer", "node", "wafer.js", d));
    assert_eq!(run("").await, Vec::<String>::new());
    assert_eq!(run("any-watermark").await, ["data.watermark-mismatch"]);
    assert_eq!(run("stack-trace").await, ["robust.no-stack-trace"]);
}

/// The cases that take a multi-part credential apart.
const PART_CASES: [&str; 4] = [
    "token.missing",
    "token.garbage",
    "token.tampered",
    "token.parts-bound",
];

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn the_clean_wafer_backend_passes_every_case_on_each_part() {
    if !have("node") {
        return;
    }
    let report = report(profile("wafer", "node", "wafer.js", "")).await;
    for id in PART_CASES {
        let case = report.cases.iter().find(|c| c.id == id).expect(id);
        assert_eq!(case.status, "passed", "{id}: {:?}", case.reason);
    }
}

#[tokio::test]
async fn a_wafer_backend_that_never_checks_the_skey_fails_every_part_case() {
    if !have("node") {
        return;
    }
    let failed = failing(profile("wafer", "node", "wafer.js", "id-only")).await;
    assert_eq!(
        sorted(failed),
        sorted(PART_CASES.map(String::from).to_vec())
    );
}

#[tokio::test]
async fn a_wafer_backend_that_finds_the_session_by_skey_alone_fails_every_part_case() {
    if !have("node") {
        return;
    }
    let failed = failing(profile("wafer", "node", "wafer.js", "skey-only")).await;
    assert_eq!(
        sorted(failed),
        sorted(PART_CASES.map(String::from).to_vec())
    );
}

#[tokio::test]
async fn a_wafer_backend_that_takes_any_live_skey_fails_only_parts_bound() {
    if !have("node") {
        return;
    }
    let failed = failing(profile("wafer", "node", "wafer.js", "any-skey")).await;
    assert_eq!(failed, ["token.parts-bound"]);
}

#[tokio::test]
async fn a_wafer_backend_that_crashes_without_its_skey_fails_only_token_missing() {
    if !have("node") {
        return;
    }
    let failed = failing(profile(
        "wafer",
        "node",
        "wafer.js",
        "crash-on-missing-part",
    ))
    .await;
    assert_eq!(failed, ["token.missing"]);
}

/// The Wafer profile with the skey moved into a cookie, as docs/harness.md's
/// `fragment=wafer-cookie` block says (its `[auth]` replaces the header pair).
fn wafer_cookie(defect: &str) -> Profile {
    let fragment = toml_blocks()
        .into_iter()
        .find(|(info, _)| info == "fragment=wafer-cookie")
        .map(|(_, body)| body)
        .expect("docs/harness.md has a ```toml fragment=wafer-cookie block");
    let mut fragment: toml::Table = toml::from_str(&fragment).expect("the fragment parses");
    let mut whole: toml::Table = toml::from_str(&snippet("wafer")).expect("the profile parses");
    if let Some(auth) = fragment.remove("auth") {
        whole.insert("auth".into(), auth);
    }
    merge(&mut whole, fragment);
    let text = toml::to_string(&whole).expect("serialise");
    let mut p = profile_from(&text, "wafer-cookie", "node", "wafer.js", defect);
    p.backend.env.insert("SKEY_COOKIE".into(), "wx_skey".into());
    p
}

#[tokio::test]
async fn a_header_and_cookie_credential_is_taken_apart_too() {
    if !have("node") {
        return;
    }
    assert_eq!(failing(wafer_cookie("")).await, Vec::<String>::new());
    let failed = failing(wafer_cookie("id-only")).await;
    assert_eq!(
        sorted(failed),
        sorted(PART_CASES.map(String::from).to_vec())
    );
}

#[tokio::test]
async fn the_opaque_token_example_passes_clean_and_catches_each_defect() {
    if !have("node") {
        return;
    }
    let run = |d: &'static str| failing(profile("opaque-token", "node", "opaque-token.js", d));
    assert_eq!(run("").await, Vec::<String>::new());
    assert_eq!(run("any-watermark").await, ["data.watermark-mismatch"]);
    assert_eq!(run("truncate-nickname").await, ["data.roundtrip-property"]);
}

#[tokio::test]
async fn the_jwt_simple_example_fails_only_has_expiry_clean_and_catches_each_defect() {
    if !have("python3") {
        return;
    }
    let run = |d: &'static str| failing(profile("jwt-simple", "python3", "jwt_simple.py", d));
    assert_eq!(run("").await, ["token.has-expiry"]);
    let mut weak = run("weak-key").await;
    weak.sort();
    assert_eq!(weak, ["token.has-expiry", "token.weak-secret"]);
    let mut none = run("alg-none").await;
    none.sort();
    assert_eq!(none, ["token.alg-none", "token.has-expiry"]);
}

#[tokio::test]
async fn the_dying_backend_example_is_restarted_and_fails_only_where_it_died() {
    if !have("python3") {
        return;
    }
    let run = |d: &'static str| failing(profile("dies", "python3", "dies_on_upstream_error.py", d));
    assert_eq!(run("").await, Vec::<String>::new());
    let mut died = run("die-on-garbage").await;
    died.sort();
    assert_eq!(
        died,
        [
            "login.upstream-error-status",
            "login.upstream-garbage",
            // It sends WeChat's garbage again, and the backend dies during it.
            "robust.no-internal-detail",
            "robust.survives"
        ]
    );
}

/// Merges `fragment` into `base` (tables recursively, other values replaced).
fn merge(base: &mut toml::Table, fragment: toml::Table) {
    for (k, v) in fragment {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(f)) => merge(b, f),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[test]
fn every_other_toml_snippet_is_a_valid_part_of_a_profile() {
    const BASE: &str = "[backend]\nbase_url = \"http://127.0.0.1:3000\"\n[login]\npath = \"/l\"\n[protected]\npath = \"/p\"\n";
    let mut checked = 0;
    for (info, body) in toml_blocks() {
        if info.starts_with("profile=") {
            continue;
        }
        let fragment: toml::Table = toml::from_str(&body)
            .unwrap_or_else(|e| panic!("a ```toml snippet does not parse: {e}\n{body}"));
        let mut whole: toml::Table = toml::from_str(BASE).expect("base");
        merge(&mut whole, fragment);
        let text = toml::to_string(&whole).expect("serialise");
        Profile::from_toml_str(&text, "docs snippet")
            .unwrap_or_else(|e| panic!("a ```toml snippet is not valid in a profile: {e}\n{body}"));
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} snippets found");
}
