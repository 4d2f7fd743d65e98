//! `discover` against real backends: the starter profile it writes names the shape each backend
//! really has, and that profile, run through the harness, is green. Against the reference backend
//! (in-process) and the three shapes of the worked examples — Wafer (code and encrypted data in
//! GET-only login headers, a two-header session, refusals as HTTP 200 with `error`), the opaque
//! `Token` header with an acknowledge-only user-info endpoint, and jwt-simple's bare-string JWT
//! in a raw `Authorization` header — the whole catalogue runs with the written profile: nothing
//! fails but what the backend really gets wrong, nothing errors, and every skip has a reason the
//! backend's shape (or a probe discover does not make) explains, named in each test. The written
//! profile also catches the backend's defects. The DRF-style, express-session and header-code
//! backends pass login.happy and token.accepted with theirs. A login path that gives no token is
//! reported as not determined. Where discover started the backend and libfaketime is installed
//! (always in CI), it wrote `clock = "faketime"`, so token.lifetime runs: one-call-login.js's
//! two-hour tokens pass it, jwt-simple's never-expiring token fails it. (The time limit and the
//! clock probe's other outcomes are in discover_limits.rs.)

mod backend_run;

use std::sync::Arc;
use std::time::Instant;

use backend_run::{assert_faketime_found, discover_command, faketime, have, options, script};
use wxmock_harness::discover::{
    discover, protected_paths, CommandLine, DiscoverOptions, Discovery, Target,
};
use wxmock_harness::report::RunReport;
use wxmock_harness::runner::{FakeInfo, LaunchedBackend, Launcher};
use wxmock_harness::{run, HarnessError, Profile, RunOptions};
use wxmock_reference_backend::{start, Config};

fn reference() -> Launcher {
    Box::new(|fake: FakeInfo| {
        Box::pin(async move {
            let mut config = Config::new(&fake.base_url, &fake.appid, &fake.secret);
            config.log = Some(wxmock_reference_backend::LogSink::new(fake.output.sink()));
            let backend = start(config)
                .await
                .map_err(|e| HarnessError::BackendStart(e.to_string()))?;
            Ok(LaunchedBackend {
                base_url: backend.base_url(),
                jwt_secret: Some(backend.jwt_secret().to_owned()),
                clock: None,
                guard: Box::new(backend),
            })
        })
    })
}

/// The two cases' statuses when `toml` is run through the harness.
async fn login_and_token(toml: &str, launcher: Option<Launcher>) -> Vec<(String, String)> {
    login_and_token_with(toml, launcher, None).await
}

/// [`login_and_token`], with the fake served on `listener` when given.
async fn login_and_token_with(
    toml: &str,
    launcher: Option<Launcher>,
    listener: Option<Arc<std::net::TcpListener>>,
) -> Vec<(String, String)> {
    let profile = Profile::from_toml_str(toml, "discovered.toml")
        .unwrap_or_else(|e| panic!("the discovered profile is invalid: {e}\n{toml}"));
    let options = RunOptions {
        seed: Some(5),
        only: vec!["login.happy".into(), "token.accepted".into()],
        fake_listener: listener,
        ..RunOptions::default()
    };
    let report = run(profile, options, launcher, &mut []).await.expect("run");
    report
        .cases
        .iter()
        .map(|c| (c.id.clone(), format!("{} {:?}", c.status, c.reason)))
        .collect()
}

fn all_passed(results: &[(String, String)]) {
    assert_eq!(results.len(), 2, "{results:#?}");
    for (id, status) in results {
        assert!(status.starts_with("passed"), "{id}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_path_that_gives_no_token_is_reported_not_determined() {
    let found = discover(Target::Launcher(reference()), &options("/nope"))
        .await
        .expect("discover");
    let toml = found.to_toml(None);
    assert!(found.login.is_none() && found.auth.is_none());
    assert!(
        toml.contains("NOT DETERMINED: no probed shape gave a token"),
        "{toml}"
    );
    assert!(
        toml.contains(
            "- no login shape worked: POST (and GET where POST was refused with 404/405) /nope"
        ),
        "{toml}"
    );
    // Every placement and name was tried, each with its own code: the 12 body and query
    // shapes, 3 headers, Wafer's headers and the one-call body, each POSTed; the path answered
    // 404, so the 8 shapes without a body (query, headers, Wafer) were sent again as GETs.
    assert_eq!(found.login_probes, 4 * 3 + 3 + 2 + 8);
    Profile::from_toml_str(&toml, "discovered.toml").expect("still a valid profile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_express_session_backend_is_found_with_its_session_cookie() {
    if !have("node") {
        return;
    }
    let command = format!("exec node '{}'", script("session-cookie.js"));
    let (_, toml) = discover_command(&command, "/api/login").await;
    assert!(toml.contains("token_cookie = \"sid\""), "{toml}");
    assert!(
        toml.contains("style = \"cookie\"\ncookie = \"sid\""),
        "{toml}"
    );
    all_passed(&login_and_token(&toml, None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drf_style_backend_is_found_with_the_token_scheme() {
    if !have("python3") {
        return;
    }
    let command = format!("exec python3 '{}'", script("django_basic.py"));
    let (_, toml) = discover_command(&command, "/api/login").await;
    assert!(
        toml.contains("style = \"scheme\"\nscheme = \"Token\""),
        "{toml}"
    );
    all_passed(&login_and_token(&toml, None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_code_backend_that_always_answers_200_is_found_with_its_json_signal() {
    if !have("python3") {
        return;
    }
    let command = format!("exec python3 '{}'", script("header_code_envelope.py"));
    let (found, toml) = discover_command(&command, "/wx/login").await;
    assert!(
        toml.contains("code_in = \"header\"\ncode_field = \"X-WX-Code\""),
        "{toml}"
    );
    assert!(toml.contains("token_pointer = \"/data/token\""), "{toml}");
    assert!(
        toml.contains("style = \"header\"\nheader = \"X-Token\""),
        "{toml}"
    );
    assert!(toml.contains("path = \"/user/info\""), "{toml}");
    assert!(
        toml.contains("statuses = [200]\npointer = \"/code\"\nequals = [401]"),
        "{toml}"
    );
    assert!(toml.contains("identity = \"/data/openid\""), "{toml}");
    // Every body placement and name was tried before the header, each with its own code.
    assert_eq!(found.login_probes, 3 * 4 + 1);
    all_passed(&login_and_token(&toml, None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_already_running_is_probed_and_checked_against_the_same_fixed_fake() {
    // The fixed port stays bound by this test from the backend's configuration to the last
    // fake's end: each fake serves on a copy of it, so no other test can take it in between.
    let reserved = Arc::new(std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let port = reserved.local_addr().unwrap().port();
    let (appid, secret) = ("wx00a1b2c3d4e5f607", "0123456789abcdef0123456789abcdef");
    let config = Config::new(format!("http://127.0.0.1:{port}"), appid, secret);
    let backend = start(config).await.expect("reference backend starts");
    let mut opts = options("/api/login");
    opts.fake_listen = format!("127.0.0.1:{port}").parse().unwrap();
    opts.fake_listener = Some(reserved.clone());
    opts.appid = Some(appid.into());
    opts.secret = Some(secret.into());
    let found = discover(Target::Url(backend.base_url()), &opts)
        .await
        .expect("discover");
    let toml = found.to_toml(None);
    assert!(
        toml.contains(&format!("base_url = \"{}\"", backend.base_url())),
        "{toml}"
    );
    assert!(
        toml.contains(&format!(
            "[fake]\nlisten = \"127.0.0.1:{port}\"\nappid = \"{appid}\""
        )),
        "{toml}"
    );
    assert!(toml.contains("style = \"bearer\""), "{toml}");
    // No launcher: the harness runs its own fake on the written address, with the written app
    // (served on the reserved port: the written address must be that very port).
    let profile = Profile::from_toml_str(&toml, "discovered.toml").expect("valid");
    assert_eq!(profile.fake.listen, format!("127.0.0.1:{port}"));
    all_passed(&login_and_token_with(&toml, None, Some(reserved)).await);
}

/// The whole catalogue with `toml` (the backend's `DEFECT` set to `defect`).
async fn full_run(toml: &str, launcher: Option<Launcher>, defect: &str) -> RunReport {
    let mut profile = Profile::from_toml_str(toml, "discovered.toml")
        .unwrap_or_else(|e| panic!("the discovered profile is invalid: {e}\n{toml}"));
    profile.backend.env.insert("DEFECT".into(), defect.into());
    let options = RunOptions {
        seed: Some(11),
        ..RunOptions::default()
    };
    run(profile, options, launcher, &mut []).await.expect("run")
}

/// With libfaketime, the clock the written profile moves let token.lifetime run (and pass).
fn assert_clock_cases_ran(report: &RunReport) {
    if faketime() {
        let lifetime = report.cases.iter().find(|c| c.id == "token.lifetime");
        assert!(
            lifetime.is_some_and(|c| c.status == "passed"),
            "{lifetime:#?}"
        );
    }
}

/// A backend whose credentials live two hours: with libfaketime, discover found its clock
/// movable and the clean backend is green with token.lifetime run (and, when `no_expiry`, its
/// `no-expiry` version fails exactly the two lifetime cases); without it, token.lifetime's skip
/// joins `skips` (which the caller's later runs use).
async fn two_hour_credentials(
    found: &Discovery,
    toml: &str,
    skips: &mut Vec<(&str, &str)>,
    no_expiry: bool,
) {
    if faketime() {
        assert_faketime_found(found, toml);
    } else {
        skips.push(CLOCK);
    }
    let report = full_run(toml, None, "").await;
    assert_green(&report, &[], skips, toml);
    assert_clock_cases_ran(&report);
    if no_expiry && faketime() {
        let report = full_run(toml, None, "no-expiry").await;
        assert_green(
            &report,
            &["token.expired-rejected", "token.lifetime"],
            skips,
            toml,
        );
    }
}

/// Green: nothing errored, exactly `failed` failed, and every skipped case has one of the
/// `skips` reasons: (case id prefix, text of the reason).
fn assert_green(report: &RunReport, failed: &[&str], skips: &[(&str, &str)], toml: &str) {
    let mut got_failed = Vec::new();
    for c in &report.cases {
        let reason = c.reason.clone().unwrap_or_default();
        match c.status.as_str() {
            "passed" => {}
            "failed" => got_failed.push(c.id.clone()),
            "skipped" => assert!(
                skips
                    .iter()
                    .any(|(id, why)| c.id.starts_with(id) && reason.contains(why)),
                "{} skipped for a reason the test does not allow: {reason}\n{toml}",
                c.id
            ),
            other => panic!("{} {other}: {reason}\n{toml}", c.id),
        }
    }
    got_failed.sort();
    assert_eq!(got_failed, failed, "{:#?}\n{toml}", report.cases);
    let passed = report.cases.iter().filter(|c| c.status == "passed").count();
    assert!(passed >= 25, "only {passed} passed:\n{toml}");
}

/// The backend's clock cannot be moved (the in-process reference backend, which discover did
/// not start; or libfaketime missing outside CI), so token.lifetime cannot run.
const CLOCK: (&str, &str) = ("token.lifetime", "clock cannot be moved");
/// An opaque token or session: the JWT cases do not apply.
const NOT_A_JWT: (&str, &str) = ("token.", "is not a JWT");
/// The backend has no phone endpoint and uses no access token: nothing to probe.
const NO_PHONE: (&str, &str) = ("data.phone-number", "no [phone]");
const NO_ACCESS_TOKEN: (&str, &str) = ("access-token.", "no [[access_token.operations]]");
/// A one-part credential (a token or a session cookie): token.parts-bound has nothing to swap.
const ONE_PART: (&str, &str) = ("token.parts-bound", "has one part");

async fn timed_discover(what: &str, target: Target, options: &DiscoverOptions) -> Discovery {
    let started = Instant::now();
    let found = discover(target, options).await.expect("discover");
    // A figure for the record (not asserted: timing belongs to benchmarks).
    eprintln!(
        "discover on {what}: {} ms, {} login probe(s), {} other probe(s)",
        started.elapsed().as_millis(),
        found.login_probes,
        found.other_probes
    );
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_backend_is_found_whole_and_its_discovered_profile_is_green() {
    let mut opts = options("/api/login");
    opts.user_info = Some("/api/user-info".into());
    opts.phone = Some("/api/phone".into());
    opts.access_token = vec!["/api/session-check".into()];
    let found = timed_discover(
        "the reference backend",
        Target::Launcher(reference()),
        &opts,
    )
    .await;
    let toml = found.to_toml(None);
    assert!(
        toml.contains("code_in = \"json\"\ncode_field = \"code\""),
        "{toml}"
    );
    assert!(toml.contains("token_pointer = \"/token\""), "{toml}");
    assert!(toml.contains("style = \"bearer\""), "{toml}");
    assert!(toml.contains("path = \"/api/me\""), "{toml}");
    assert!(toml.contains("statuses = [401, 403]"), "{toml}");
    assert!(
        toml.contains("[user_info]\npath = \"/api/user-info\""),
        "{toml}"
    );
    assert!(toml.contains("result_pointer = \"/data\""), "{toml}");
    assert!(
        toml.contains("phone_number_pointer = \"/phoneNumber\""),
        "{toml}"
    );
    assert!(
        toml.contains(
            "[[access_token.operations]]\nmethod = \"GET\"\npath = \"/api/session-check\""
        ),
        "{toml}"
    );
    assert!(!toml.contains("NOT DETERMINED: no probed shape"), "{toml}");
    assert_eq!(found.login_probes, 1);
    assert!(found.clock.is_none(), "{:?}", found.clock);
    assert!(
        toml.contains(
            "# NOT DETERMINED: the backend's clock (not probed: discover did not start it)"
        ),
        "{toml}"
    );
    // The in-process launcher hands the harness the backend's JWT key, so only the clock and the
    // one-part credential skip.
    assert_green(
        &full_run(&toml, Some(reference()), "").await,
        &[],
        &[CLOCK, ONE_PART],
        &toml,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wafer_backend_is_found_with_data_in_get_login_headers_and_a_two_header_session() {
    if !have("node") {
        return;
    }
    let command = format!("exec node '{}'", script("wafer.js"));
    let found = timed_discover(
        "wafer.js",
        Target::command(command.clone(), Vec::new()),
        &options("/weapp/login"),
    )
    .await;
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
    // POST is answered 405: the login is a GET carrying the code and freshly minted data.
    assert!(
        toml.contains("method = \"GET\"\npath = \"/weapp/login\""),
        "{toml}"
    );
    assert!(
        toml.contains("headers = { X-WX-Code = \"{{code}}\", X-WX-Encrypted-Data = \"{{encrypted_data}}\", X-WX-IV = \"{{iv}}\" }"),
        "{toml}"
    );
    assert!(
        toml.contains("token_parts = { id = \"/session/id\", skey = \"/session/skey\" }"),
        "{toml}"
    );
    assert!(
        toml.contains("headers = { X-WX-Id = \"{{token.id}}\", X-WX-Skey = \"{{token.skey}}\" }"),
        "{toml}"
    );
    assert!(toml.contains("path = \"/weapp/user\""), "{toml}");
    assert!(
        toml.contains("data_read_back = \"/data/userInfo\""),
        "{toml}"
    );
    assert!(
        toml.contains("identity = \"/data/userInfo/openId\""),
        "{toml}"
    );
    assert!(
        toml.contains("statuses = [200]\npointer = \"/error\"\nnot_equals = [\"\"]"),
        "{toml}"
    );
    // 4 JSON and 4 form shapes POSTed (405); 4 query and 3 header shapes POSTed (405), then sent
    // as GETs (no credential); Wafer's headers POSTed (405), then as a GET: a session.
    assert_eq!(found.login_probes, 4 + 4 + 2 * 4 + 2 * 3 + 2);
    // Its sessions live two hours: with the clock discover found movable, token.lifetime runs.
    let mut skips = vec![NOT_A_JWT, NO_PHONE, NO_ACCESS_TOKEN];
    // A session that never expires is caught with the written clock.
    two_hour_credentials(&found, &toml, &mut skips, true).await;
    // The data.* cases go through the login: the watermark defect is caught with it.
    let report = full_run(&toml, None, "any-watermark").await;
    assert_green(&report, &["data.watermark-mismatch"], &skips, &toml);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opaque_token_backend_is_found_with_a_token_header_and_its_ack_only_user_info() {
    if !have("node") {
        return;
    }
    let command = format!("exec node '{}'", script("opaque-token.js"));
    let mut opts = options("/api/login");
    opts.user_info = Some("/api/profile".into());
    let found = timed_discover(
        "opaque-token.js",
        Target::command(command.clone(), Vec::new()),
        &opts,
    )
    .await;
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
    assert!(
        toml.contains("style = \"header\"\nheader = \"Token\""),
        "{toml}"
    );
    assert!(toml.contains("statuses = [401, 403]"), "{toml}");
    assert!(toml.contains("mode = \"ack\""), "{toml}");
    assert!(
        toml.contains("[user_info.read_back]\nmethod = \"GET\"\npath = \"/api/profile\"\nresult_pointer = \"\""),
        "{toml}"
    );
    // Its tokens live two hours: with the clock discover found movable, token.lifetime runs.
    let mut skips = vec![NOT_A_JWT, NO_PHONE, NO_ACCESS_TOKEN, ONE_PART];
    // A token that never expires is caught with the written clock.
    two_hour_credentials(&found, &toml, &mut skips, true).await;
    // The read-back shows the stored fields: a truncated nickName is caught.
    let report = full_run(&toml, None, "truncate-nickname").await;
    assert_green(&report, &["data.roundtrip-property"], &skips, &toml);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_simple_backend_is_found_with_a_raw_authorization_header_and_its_key() {
    if !have("python3") {
        return;
    }
    let command = format!("exec python3 '{}'", script("jwt_simple.py"));
    let env = vec![(
        "JWT_SECRET".to_string(),
        "a-long-random-key-for-tests-7d1e".to_string(),
    )];
    let mut opts = options("/login");
    opts.env = env.clone();
    let found = timed_discover(
        "jwt_simple.py",
        Target::command(command.clone(), env.clone()),
        &opts,
    )
    .await;
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &env,
    }));
    assert!(
        toml.contains("headers = { Authorization = \"{{token}}\" }"),
        "{toml}"
    );
    assert!(toml.contains("path = \"/me\""), "{toml}");
    assert!(toml.contains("identity = \"header:X-User-Id\""), "{toml}");
    assert!(
        toml.contains("[jwt]\nsecret = \"a-long-random-key-for-tests-7d1e\""),
        "{toml}"
    );
    // A bare-string payload has no exp: token.has-expiry fails this shape by design (as with
    // the hand-written profile of docs/harness.md). Under the libfaketime clock discover found,
    // the token is seen to live for ever: still accepted past max_lifetime_secs (token.lifetime)
    // and at login + max_lifetime_secs (token.expired-rejected, which has no exp to aim at).
    // The backend has no user-info endpoint either.
    let mut skips = vec![
        ONE_PART,
        NO_PHONE,
        NO_ACCESS_TOKEN,
        ("data.", "no [user_info]"),
    ];
    let mut failed = vec!["token.has-expiry"];
    if faketime() {
        assert_faketime_found(&found, &toml);
        failed = vec![
            "token.expired-rejected",
            "token.has-expiry",
            "token.lifetime",
        ];
    } else {
        skips.extend([CLOCK, ("token.expired-rejected", "bare JSON string")]);
    }
    let report = full_run(&toml, None, "").await;
    assert_green(&report, &failed, &skips, &toml);
    // The key was found, so the weak-key defect is judged on it.
    let report = full_run(&toml, None, "weak-key").await;
    failed.push("token.weak-secret");
    assert_green(&report, &failed, &skips, &toml);
}

#[test]
fn protected_paths_are_the_usual_names_and_the_same_names_beside_the_login_path_bounded() {
    let paths = protected_paths(&options("/weapp/login"));
    assert!(paths.contains(&"/api/me".to_string()), "{paths:?}");
    assert!(paths.contains(&"/weapp/user".to_string()), "{paths:?}");
    let deep = protected_paths(&options("/api/wx/login"));
    assert!(deep.contains(&"/api/wx/me".to_string()), "{deep:?}");
    assert!(deep.contains(&"/api/user/me".to_string()), "{deep:?}");
    let very_deep = protected_paths(&options("/a/b/c/d/login"));
    assert!(very_deep.len() <= 24, "{very_deep:?}");
    assert_eq!(
        very_deep.iter().filter(|p| p.starts_with("/a/b/c")).count(),
        12,
        "the login's directory and its parent, not further up: {very_deep:?}"
    );
    let mut given = options("/login");
    given.protected = vec!["/only".into()];
    assert_eq!(protected_paths(&given), ["/only"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_call_login_backend_is_found_with_its_body_and_the_protected_path_one_level_up() {
    if !have("node") {
        return;
    }
    let command = format!("exec node '{}'", script("one-call-login.js"));
    let found = timed_discover(
        "one-call-login.js",
        Target::command(command.clone(), Vec::new()),
        &options("/api/wx/login"),
    )
    .await;
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
    assert!(
        toml.contains("json = { code = \"{{code}}\", encryptedData = \"{{encrypted_data}}\", iv = \"{{iv}}\", rawData = \"{{raw_data}}\", signature = \"{{signature}}\" }"),
        "{toml}"
    );
    assert!(toml.contains("path = \"/api/user/me\""), "{toml}");
    // Its answers show only part of the userInfo: no pointer that would fail data.user-info
    // for fields the backend never meant to show.
    assert!(!toml.contains("data_pointer"), "{toml}");
    assert!(
        toml.contains("shows the userInfo at /user but not all of it"),
        "{toml}"
    );
    // Its tokens live two hours: with the clock discover found movable, token.lifetime runs.
    let mut skips = vec![NOT_A_JWT, NO_PHONE, NO_ACCESS_TOKEN, ONE_PART];
    two_hour_credentials(&found, &toml, &mut skips, false).await;
    let report = full_run(&toml, None, "trust-openid").await;
    assert_green(&report, &["data.openid-mismatch"], &skips, &toml);
}
