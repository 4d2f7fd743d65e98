//! `discover` within its time limit and on the backend's clock. A backend too slow for the
//! limit (trickle.py, before any login; a stand-in whose protected paths hang, after one) still
//! gets the profile found so far, every unfinished section listed with where time ran out. A
//! started backend is tried once more under libfaketime: without the library, or when its
//! answers stay dated on real time, the clock line is written commented out with the reason;
//! when `auto`'s monotonic setting breaks it (Node behind a start script), the other one is
//! written, and the catalogue then moves that clock.

mod backend_run;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_harness::discover::{discover, ClockFound, CommandLine, Section, Target};
use wxmock_harness::profile::MonotonicMode;
use wxmock_harness::{run, Profile, RunOptions};

use backend_run::{discover_command, discover_command_with, faketime, have, options, script};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_libfaketime_the_clock_line_is_written_commented_out_with_the_reason() {
    if !have("python3") {
        return;
    }
    let command = format!("exec python3 '{}'", script("django_basic.py"));
    let mut opts = options("/api/login");
    opts.faketime_lib = "/nonexistent/libfaketime.so.1".into();
    let (found, toml) = discover_command_with(&command, &opts).await;
    assert!(
        toml.contains(
            "# NOT DETERMINED: libfaketime is not installed (no /nonexistent/libfaketime.so.1; \
             on Debian or Ubuntu: apt-get install faketime)"
        ) && toml.contains("\n# clock = \"faketime\"\n"),
        "{toml}"
    );
    assert!(
        found.unknown.iter().any(|u| u.starts_with(
            "whether libfaketime moves the backend's clock (`[backend] clock`): libfaketime is not installed"
        ) && u.ends_with("without it token.lifetime is skipped")),
        "{:#?}",
        found.unknown
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_whose_clock_does_not_follow_libfaketime_gets_no_clock_line() {
    if !have("python3") || !faketime() {
        return;
    }
    // The preload is dropped before Python starts (as for a statically linked binary): the
    // login works, but its Date header still reads real time.
    let command = format!(
        "exec env -u LD_PRELOAD python3 '{}'",
        script("django_basic.py")
    );
    let (found, toml) = discover_command(&command, "/api/login").await;
    match &found.clock {
        Some(ClockFound::Not(why)) => assert!(
            why.contains("its Date header still read real time")
                && why.contains("its clock does not follow"),
            "{why}"
        ),
        other => panic!("{other:?}\n{toml}"),
    }
    assert!(
        toml.contains("\n# clock = \"faketime\"\n") && !toml.contains("\nclock = "),
        "{toml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_too_slow_for_the_time_limit_still_gets_its_profile_saying_where_time_ran_out() {
    if !have("python3") {
        return;
    }
    // Answers the readiness probe, then every request at one byte a second.
    let command = format!("exec python3 '{}' \"$PORT\"", script("trickle.py"));
    let mut opts = options("/api/login");
    opts.time_limit = std::time::Duration::from_secs(2);
    let found = discover(Target::command(command.clone(), Vec::new()), &opts)
        .await
        .expect("a profile, not an error");
    let hit = found
        .time_limit
        .clone()
        .expect("the time limit is recorded");
    assert!(found.login.is_none());
    assert_eq!(hit.secs, 2);
    assert!(
        hit.stage.starts_with(
            "the login (POST /api/login, the code goes in the JSON body as `code`; try 1)"
        ),
        "{}",
        hit.stage
    );
    assert_eq!(hit.unfinished.first(), Some(&Section::Login));
    assert!(hit.left(Section::Clock), "{:?}", hit.unfinished);
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
    let why = "the overall time limit of 2 s ran out while probing the login";
    assert!(toml.contains(&format!("# Incomplete: {why}")), "{toml}");
    assert!(
        toml.contains(&format!(
            "# - how the login wants its code and where its answer has the credential (`[login]`): {why}"
        )),
        "{toml}"
    );
    assert!(
        toml.contains("# NOT DETERMINED: not finished within the overall time limit of 2 s (see the top); these are the defaults."),
        "{toml}"
    );
    Profile::from_toml_str(&toml, "discovered.toml").expect("still a valid profile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_limit_after_the_login_keeps_the_login_found_and_lists_the_rest() {
    // A stand-in whose login answers at once and whose every other path takes a minute.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(60)))
        .mount(&server)
        .await;
    let mut opts = options("/api/login");
    opts.time_limit = std::time::Duration::from_secs(3);
    opts.phone = Some("/api/phone".into());
    let found = discover(Target::Url(server.uri()), &opts)
        .await
        .expect("a profile, not an error");
    let hit = found
        .time_limit
        .clone()
        .expect("the time limit is recorded");
    assert!(
        hit.stage.starts_with("the auth style (GET /api/me with "),
        "{}",
        hit.stage
    );
    assert_eq!(
        hit.unfinished,
        [Section::Auth, Section::Identity, Section::Phone],
        "a backend discover did not start has no clock probe to cut short"
    );
    let toml = found.to_toml(None);
    assert!(
        toml.contains("code_in = \"json\"\ncode_field = \"code\"")
            && toml.contains("token_pointer = \"/token\""),
        "the login found is kept: {toml}"
    );
    assert!(
        toml.contains("# NOT DETERMINED: not finished within the overall time limit of 3 s (see the top); Bearer is the default."),
        "{toml}"
    );
    assert!(
        toml.contains("# - the phone endpoint (`[phone]`): the overall time limit of 3 s ran out while probing the auth style (GET /api/me with "),
        "{toml}"
    );
    assert!(!toml.contains("[login]`): the overall"), "{toml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_backend_behind_a_start_script_gets_the_real_monotonic_clock_named() {
    if !have("node") || !faketime() {
        return;
    }
    // `auto` sees `sh start.sh`, not Node, and fakes the monotonic clock: Node aborts when
    // that clock goes back. Discover sees the login fail after the jump, tries the real
    // monotonic clock, and names it.
    let dir = std::env::temp_dir().join(format!("wxmock-discover-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let start = dir.join("start.sh");
    std::fs::write(
        &start,
        format!("exec node '{}'\n", script("one-call-login.js")),
    )
    .unwrap();
    let command = format!("exec sh '{}'", start.display());
    let (found, toml) = discover_command(&command, "/api/wx/login").await;
    match &found.clock {
        Some(ClockFound::Faketime {
            monotonic: Some((MonotonicMode::Real, why)),
            ..
        }) => assert!(
            why.starts_with("after its clock was put back from two days ahead to real time, the login got no answer"),
            "{why}"
        ),
        other => panic!("{other:?}\n{toml}"),
    }
    assert!(
        toml.contains("clock = \"faketime\"\n# `auto` would leave the monotonic clock faked for this command, and then after its clock was put back")
            && toml.contains(":\n# it must be real.\nfaketime_monotonic = \"real\"\n"),
        "{toml}"
    );
    // The runner moves that clock with the setting written: its two-hour tokens expire.
    let profile = Profile::from_toml_str(&toml, "discovered.toml").expect("valid");
    let options = RunOptions {
        seed: Some(5),
        only: vec![
            "login.happy".into(),
            "token.accepted".into(),
            "token.lifetime".into(),
        ],
        ..RunOptions::default()
    };
    let report = run(profile, options, None, &mut []).await.expect("run");
    for c in &report.cases {
        assert_eq!(c.status, "passed", "{}: {:?}\n{toml}", c.id, c.reason);
    }
    assert_eq!(report.cases.len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}
