//! `discover` against real backends: the starter profile it writes names the shape each backend
//! really has, and that profile, run through the harness, passes login.happy and token.accepted
//! (the reference backend in-process; the jwt-simple, DRF-style and header-code envelope Python
//! backends and the opaque-token and express-session Node backends started as commands). A login
//! path that gives no token is reported as not determined.

use std::process::Command;

use wxmock_harness::discover::{
    command_launcher, discover, url_launcher, CommandLine, DiscoverOptions,
};
use wxmock_harness::runner::{FakeInfo, LaunchedBackend, Launcher};
use wxmock_harness::{run, HarnessError, Profile, RunOptions};
use wxmock_reference_backend::{start, Config};

fn have(tool: &str) -> bool {
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

fn reference() -> Launcher {
    Box::new(|fake: FakeInfo| {
        Box::pin(async move {
            let config = Config::new(&fake.base_url, &fake.appid, &fake.secret);
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

fn options(login_path: &str) -> DiscoverOptions {
    DiscoverOptions {
        login_path: login_path.into(),
        protected: Vec::new(),
        fake_listen: "127.0.0.1:0".parse().unwrap(),
        appid: None,
        secret: None,
    }
}

/// The two cases' statuses when `toml` is run through the harness.
async fn login_and_token(toml: &str, launcher: Option<Launcher>) -> Vec<(String, String)> {
    let profile = Profile::from_toml_str(toml, "discovered.toml")
        .unwrap_or_else(|e| panic!("the discovered profile is invalid: {e}\n{toml}"));
    let options = RunOptions {
        seed: Some(5),
        only: vec!["login.happy".into(), "token.accepted".into()],
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
async fn the_reference_backend_is_found_as_json_code_token_pointer_and_bearer() {
    let found = discover(reference(), &options("/api/login"))
        .await
        .expect("discover");
    let toml = found.to_toml(None);
    assert!(
        toml.contains("code_in = \"json\"\ncode_field = \"code\""),
        "{toml}"
    );
    assert!(toml.contains("token_pointer = \"/token\""), "{toml}");
    assert!(toml.contains("style = \"bearer\""), "{toml}");
    assert!(toml.contains("path = \"/api/me\""), "{toml}");
    assert!(toml.contains("statuses = [401, 403]"), "{toml}");
    assert!(!toml.contains("NOT DETERMINED: no probed shape"), "{toml}");
    assert_eq!(found.login_probes, 1);
    all_passed(&login_and_token(&toml, Some(reference())).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_path_that_gives_no_token_is_reported_not_determined() {
    let found = discover(reference(), &options("/nope"))
        .await
        .expect("discover");
    let toml = found.to_toml(None);
    assert!(found.login.is_none() && found.auth.is_none());
    assert!(
        toml.contains("NOT DETERMINED: no probed shape gave a token"),
        "{toml}"
    );
    assert!(
        toml.contains("- no login shape worked: POST /nope"),
        "{toml}"
    );
    // Every placement and name was tried, each with its own code.
    assert_eq!(found.login_probes, 4 * 3 + 3);
    Profile::from_toml_str(&toml, "discovered.toml").expect("still a valid profile");
}

fn script(name: &str) -> String {
    format!("{}/tests/backends/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_simple_is_found_with_a_raw_authorization_header() {
    if !have("python3") {
        return;
    }
    let command = format!("exec python3 '{}'", script("jwt_simple.py"));
    let env = vec![(
        "JWT_SECRET".to_string(),
        "a-long-random-key-for-tests-7d1e".to_string(),
    )];
    let found = discover(
        command_launcher(command.clone(), env.clone()),
        &options("/login"),
    )
    .await
    .expect("discover");
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
    all_passed(&login_and_token(&toml, None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_token_is_found_with_a_token_header() {
    if !have("node") {
        return;
    }
    let command = format!("exec node '{}'", script("opaque-token.js"));
    let found = discover(
        command_launcher(command.clone(), Vec::new()),
        &options("/api/login"),
    )
    .await
    .expect("discover");
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
    assert!(
        toml.contains("style = \"header\"\nheader = \"Token\""),
        "{toml}"
    );
    assert!(toml.contains("statuses = [401, 403]"), "{toml}");
    all_passed(&login_and_token(&toml, None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_express_session_backend_is_found_with_its_session_cookie() {
    if !have("node") {
        return;
    }
    let command = format!("exec node '{}'", script("session-cookie.js"));
    let found = discover(
        command_launcher(command.clone(), Vec::new()),
        &options("/api/login"),
    )
    .await
    .expect("discover");
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
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
    let found = discover(
        command_launcher(command.clone(), Vec::new()),
        &options("/api/login"),
    )
    .await
    .expect("discover");
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
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
    let found = discover(
        command_launcher(command.clone(), Vec::new()),
        &options("/wx/login"),
    )
    .await
    .expect("discover");
    let toml = found.to_toml(Some(CommandLine {
        command: &command,
        env: &[],
    }));
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (appid, secret) = ("wx00a1b2c3d4e5f607", "0123456789abcdef0123456789abcdef");
    let config = Config::new(format!("http://127.0.0.1:{port}"), appid, secret);
    let backend = start(config).await.expect("reference backend starts");
    let mut opts = options("/api/login");
    opts.fake_listen = format!("127.0.0.1:{port}").parse().unwrap();
    opts.appid = Some(appid.into());
    opts.secret = Some(secret.into());
    let found = discover(url_launcher(backend.base_url()), &opts)
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
    // No launcher: the harness runs its own fake on the written address, with the written app.
    all_passed(&login_and_token(&toml, None).await);
}
