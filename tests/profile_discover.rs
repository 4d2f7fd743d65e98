//! `wxmock profile discover` on the command line: paths that do not start with `/` and a
//! `--base-url` without the fake it must already use are usage errors (exit 2) named in plain
//! words, before anything starts; a backend whose login gives no token still gets its profile
//! written, saying so, with exit 4; one too slow for `--time-limit-secs` gets the profile found
//! so far, with exit 7 and one line on stderr saying where time ran out.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_wxmock");

fn discover(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(["profile", "discover"])
        .args(args)
        .output()
        .expect("wxmock runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_path_flag_without_a_leading_slash_is_a_usage_error_naming_the_flag() {
    for flag in [
        "--login-path",
        "--protected",
        "--user-info",
        "--phone",
        "--access-token",
    ] {
        let (code, _, err) = discover(&["--command", "true", flag, "api/x"]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(
            err.contains(&format!("{flag} must start with `/` (got `api/x`)")),
            "{flag}: {err}"
        );
    }
}

#[test]
fn a_running_backend_needs_the_fixed_fake_it_was_configured_with() {
    let (code, _, err) = discover(&["--base-url", "http://127.0.0.1:9"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--fake-listen with a fixed port, --appid and --secret"),
        "{err}"
    );
}

fn have_python() -> bool {
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !python {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required in CI"
        );
        eprintln!("skipped: python3 is not installed");
    }
    python
}

#[test]
fn a_backend_too_slow_for_the_time_limit_gets_its_profile_exit_7_and_one_line_saying_so() {
    if !have_python() {
        return;
    }
    let trickle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/harness/tests/backends/trickle.py"
    );
    let dir = std::env::temp_dir().join(format!("wxmock-discover-slow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("p.toml");
    let (code, _, err) = discover(&[
        "--command",
        &format!("exec python3 '{trickle}' \"$PORT\""),
        "--time-limit-secs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 7, "{err}");
    let why = "the overall time limit of 2 s ran out while probing the login (POST /api/login";
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(why)).collect();
    assert_eq!(lines.len(), 1, "one line says where time ran out: {err}");
    assert!(
        lines[0].contains(
            "not determined: [login], [auth]/[protected]/[rejected], identity, [backend] clock"
        ) && lines[0].ends_with("(no login shape yet: exit 7)"),
        "{err}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("# Incomplete: the overall time limit of 2 s"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_time_limit_of_zero_is_a_usage_error() {
    let (code, _, err) = discover(&["--command", "true", "--time-limit-secs", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--time-limit-secs"), "{err}");
}

#[test]
fn a_backend_whose_login_gives_no_token_gets_a_profile_saying_so_and_exit_4() {
    if !have_python() {
        return;
    }
    // A server that answers 404 to everything: no login shape can work.
    let command = "exec python3 -c 'import http.server as h, os; h.HTTPServer((\"127.0.0.1\", int(os.environ[\"PORT\"])), h.SimpleHTTPRequestHandler).serve_forever()' >/dev/null 2>&1";
    let dir = std::env::temp_dir().join(format!("wxmock-discover-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("p.toml");
    let (code, _, err) = discover(&[
        "--command",
        &format!("cd '{}' && {command}", dir.display()),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("not determined: no login shape worked"),
        "{err}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("NOT DETERMINED: no probed shape gave a token"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
