//! No cascades, for the whole catalogue: when the login is broken (`login.happy` fails) or the
//! protected endpoint refuses every credential (`token.accepted` fails), no case errors, every
//! case that needs what is missing is skipped as "blocked by <root>: <its reason>", and the
//! run's warnings name the root once. Run against the reference backend mis-described in one
//! place (so every other case meets a correct backend: any failure besides the root's is a
//! cascade), against the Wafer-style backend (a two-part session, data carried by the login)
//! mis-described the same ways, and against stand-in backends that refuse everything.

mod backend_run;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_harness::case::{catalogue, Needs};
use wxmock_harness::profile::{Profile, REFERENCE_PROFILE};
use wxmock_harness::runner::{run, FakeInfo, LaunchedBackend, Launcher, RunOptions};
use wxmock_harness::{HarnessError, RunReport};
use wxmock_reference_backend::{start, Config};

fn reference_backend() -> Launcher {
    Box::new(move |info: FakeInfo| {
        Box::pin(async move {
            let mut config = Config::new(
                info.base_url.as_str(),
                info.appid.as_str(),
                info.secret.as_str(),
            );
            config.upstream_timeout = Duration::from_secs(1);
            let clock = config.clock.clone();
            let backend = start(config)
                .await
                .map_err(|e| HarnessError::BackendStart(e.to_string()))?;
            Ok(LaunchedBackend {
                clock: Some(std::sync::Arc::new(move |offset| clock.set_offset(offset))),
                base_url: backend.base_url(),
                jwt_secret: Some(backend.jwt_secret().to_string()),
                guard: Box::new(backend),
            })
        })
    })
}

/// The whole catalogue against the reference backend, with its profile changed by `edit`.
async fn reference_with(edit: impl FnOnce(&mut Profile)) -> RunReport {
    let mut profile = Profile::from_toml_str(REFERENCE_PROFILE, "reference.toml")
        .expect("the shipped profile is valid");
    profile.limits.upstream_timeout_secs = 3;
    edit(&mut profile);
    let options = RunOptions {
        seed: Some(8),
        ..RunOptions::default()
    };
    run(profile, options, Some(reference_backend()), &mut [])
        .await
        .expect("the run completes")
}

/// The whole catalogue against a stand-in backend described by a minimal profile.
async fn stand_in(server: &MockServer) -> RunReport {
    let text = format!(
        r#"
[backend]
base_url = "{}"
ready_timeout_secs = 2
[login]
path = "/api/login"
[protected]
path = "/api/me"
identity = "/id"
[user_info]
path = "/api/user-info"
result_pointer = "/data"
[phone]
path = "/api/phone"
code_field = "code"
phone_number_pointer = "/phoneNumber"
[[access_token.operations]]
path = "/api/session-check"
[limits]
upstream_timeout_secs = 2
"#,
        server.uri()
    );
    let profile = Profile::from_toml_str(&text, "stand-in.toml").expect("valid profile");
    let options = RunOptions {
        seed: Some(8),
        ..RunOptions::default()
    };
    run(profile, options, None, &mut [])
        .await
        .expect("the run completes")
}

/// Every case's declared need, by id.
fn needs() -> BTreeMap<&'static str, Needs> {
    catalogue().into_iter().map(|c| (c.id, c.needs)).collect()
}

/// (status, reason) by id.
fn results(report: &RunReport) -> BTreeMap<String, (String, String)> {
    report
        .cases
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                (c.status.clone(), c.reason.clone().unwrap_or_default()),
            )
        })
        .collect()
}

/// The rule for the whole catalogue, with `root` failed and leaving `unmet` missing: nothing
/// errors, every case needing `unmet` or more is skipped as blocked by the root (quoting its
/// reason), a case needing less is blocked only when it says so itself, and the warnings name
/// the root once with the number of cases it blocked. Returns the results for further checks.
fn assert_blocked_by(
    report: &RunReport,
    root: &str,
    unmet: Needs,
) -> BTreeMap<String, (String, String)> {
    let results = results(report);
    assert_eq!(results.len(), catalogue().len(), "{results:#?}");
    let errored: Vec<_> = results
        .iter()
        .filter(|(_, (s, _))| s == "errored")
        .collect();
    assert!(errored.is_empty(), "errored cases: {errored:#?}");
    let (status, root_reason) = &results[root];
    assert_eq!(status, "failed", "{root}: {root_reason}");
    let prefix = format!("blocked by {root}: {root_reason}");
    let mut blocked = 0;
    for (id, need) in needs() {
        let (status, reason) = &results[id];
        if need >= unmet {
            assert_eq!(status, "skipped", "{id} needs {need:?}: {reason}");
            assert!(reason.starts_with(&prefix), "{id}: {reason}");
        }
        if reason.starts_with("blocked by ") {
            assert!(reason.starts_with(&prefix), "{id}: {reason}");
            blocked += 1;
        }
    }
    let named: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.contains(&format!("blocked by {root}")))
        .collect();
    assert_eq!(named.len(), 1, "{:#?}", report.warnings);
    assert!(
        named[0].starts_with(&format!("{blocked} case(s) needing a working login were skipped, blocked by {root}: {root_reason}")),
        "{named:?}"
    );
    results
}

/// Against the reference backend every case not blocked meets a correct backend: it passes
/// (or skips for a reason of its own); a failure would be a cascade of the root's.
fn assert_nothing_else_fails(root: &str, results: &BTreeMap<String, (String, String)>) {
    let failed: Vec<_> = results
        .iter()
        .filter(|(id, (s, _))| s == "failed" && id.as_str() != root)
        .collect();
    assert!(failed.is_empty(), "failed after {root}: {failed:#?}");
}

#[tokio::test]
async fn a_login_that_always_fails_blocks_every_case_needing_one_and_nothing_cascades() {
    // The login path is wrong: every login answers 404, everything else is right.
    let report = reference_with(|p| p.login.path = "/api/no-such-login".into()).await;
    let results = assert_blocked_by(&report, "login.happy", Needs::Login);
    assert_nothing_else_fails("login.happy", &results);
    // Judged on less than a login, these still say what they could not judge.
    for id in ["robust.survives", "login.no-secret-leak"] {
        assert!(
            results[id].1.starts_with("blocked by login.happy: "),
            "{id}: {:?}",
            results[id]
        );
    }
    // And the cases that need no login ran.
    for id in ["login.invalid-code", "login.missing-code", "token.missing"] {
        assert_eq!(results[id].0, "passed", "{id}: {:?}", results[id]);
    }
}

#[tokio::test]
async fn a_protected_endpoint_refusing_every_credential_blocks_what_needs_one_and_nothing_cascades()
{
    // The protected path is wrong: every protected call answers 404, the login works.
    let report = reference_with(|p| p.protected.path = "/api/no-such-page".into()).await;
    let results = assert_blocked_by(&report, "token.accepted", Needs::AcceptedToken);
    assert_nothing_else_fails("token.accepted", &results);
    assert!(
        results["robust.survives"]
            .1
            .starts_with("blocked by token.accepted: "),
        "{:?}",
        results["robust.survives"]
    );
    // The cases that need a login and nothing more ran on it.
    for id in [
        "login.code-reused",
        "login.errcode-zero",
        "token.has-expiry",
    ] {
        assert_eq!(results[id].0, "passed", "{id}: {:?}", results[id]);
    }
}

#[tokio::test]
async fn a_stand_in_whose_login_always_fails_errors_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": "db down"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "no"})))
        .mount(&server)
        .await;
    let report = stand_in(&server).await;
    let results = assert_blocked_by(&report, "login.happy", Needs::Login);
    // A 500 for a missing code is that case's own finding, not a cascade.
    assert_eq!(results["login.missing-code"].0, "failed");
}

#[tokio::test]
async fn a_stand_in_refusing_every_credential_errors_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"token": "stand-in-token-0123456789"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "no"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "no"})))
        .mount(&server)
        .await;
    let report = stand_in(&server).await;
    assert_blocked_by(&report, "token.accepted", Needs::AcceptedToken);
}

fn have_node() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "node is required in CI");
        eprintln!("skipped: node is not installed");
    }
    ok
}

/// The whole catalogue against the Wafer-style backend (a two-part session the token cases take
/// apart, data carried by the login), with its login or protected path given as `login` and
/// `protected`.
async fn wafer(login: &str, protected: &str) -> RunReport {
    let rest = format!(
        r#"
[login]
method = "GET"
path = "{login}"
headers = {{ X-WX-Code = "{{{{code}}}}", X-WX-Encrypted-Data = "{{{{encrypted_data}}}}", X-WX-IV = "{{{{iv}}}}" }}
token_parts = {{ id = "/session/id", skey = "/session/skey" }}
data_read_back = "/data/userInfo"
[auth]
headers = {{ X-WX-Id = "{{{{token.id}}}}", X-WX-Skey = "{{{{token.skey}}}}" }}
[protected]
path = "{protected}"
identity = "/data/userInfo/openId"
[rejected]
statuses = [401, 403, 404]
[[rejected.rules]]
pointer = "/error"
not_equals = [""]
[limits]
upstream_timeout_secs = 3
"#
    );
    let profile = backend_run::profile("node", "wafer.js", "", "", &rest);
    let options = RunOptions {
        seed: Some(8),
        ..RunOptions::default()
    };
    run(profile, options, None, &mut [])
        .await
        .expect("the run completes")
}

#[tokio::test]
async fn a_multi_part_session_backend_mis_described_either_way_cascades_nothing() {
    if !have_node() {
        return;
    }
    let report = wafer("/weapp/no-such-login", "/weapp/user").await;
    let results = assert_blocked_by(&report, "login.happy", Needs::Login);
    assert_nothing_else_fails("login.happy", &results);
    let report = wafer("/weapp/login", "/weapp/no-such-page").await;
    let results = assert_blocked_by(&report, "token.accepted", Needs::AcceptedToken);
    assert_nothing_else_fails("token.accepted", &results);
    // Leaving out or breaking one part means nothing while the whole credential is refused.
    for id in ["token.missing", "token.garbage"] {
        assert!(
            results[id].1.starts_with("blocked by token.accepted: "),
            "{id}: {:?}",
            results[id]
        );
    }
}

/// The case ids named in the docs' bullet about what cases need that starts with `head`.
fn documented(docs: &str, head: &str) -> Vec<String> {
    let start = docs
        .find(&format!("  - {head}"))
        .unwrap_or_else(|| panic!("docs/harness.md has no bullet `  - {head}`"));
    let rest = &docs[start + 4..];
    let end = rest
        .find("\n  - ")
        .or_else(|| rest.find("\n  A "))
        .unwrap_or(rest.len());
    rest[..end]
        .split(|c: char| !(c.is_ascii_lowercase() || c == '.' || c == '-'))
        .filter(|w| w.contains('.') && !w.starts_with('.') && !w.ends_with('.'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_docs_say_what_every_case_needs() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/harness.md"))
        .expect("docs/harness.md");
    let mut nothing = documented(&docs, "nothing");
    nothing.extend(documented(&docs, "`robust.survives`"));
    nothing.sort();
    nothing.dedup();
    let mut login = documented(&docs, "a working login only");
    login.sort();
    login.dedup();
    let declared = |need: Needs| -> Vec<String> {
        let mut ids: Vec<String> = needs()
            .into_iter()
            .filter(|(_, n)| *n == need)
            .map(|(id, _)| id.to_owned())
            .filter(|id| id != "login.happy")
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(nothing, declared(Needs::Nothing), "the `nothing` bullet");
    assert_eq!(
        login,
        declared(Needs::Login),
        "the `a working login only` bullet"
    );
}
