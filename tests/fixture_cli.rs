//! End-to-end tests of `wxmock fixture …`: the real binary, its stdout, stderr and exit codes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
const IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
const APPID: &str = "wx4f4bc4dec97d474b";

fn wxmock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wxmock"))
        .arg("fixture")
        .args(args)
        .env_remove("WXMOCK_SESSION_KEY")
        .env_remove("WXMOCK_APPID")
        .output()
        .expect("the wxmock binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn vector(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/vectors")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap()
}

/// One line on stderr, no panic, no secret.
fn assert_one_line_error(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr: {}",
        stderr(output)
    );
    let err = stderr(output);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err:?}"
    );
    assert!(err.starts_with("wxmock: "), "{err:?}");
    assert!(!err.contains("panicked"), "{err:?}");
    assert!(stdout(output).is_empty());
}

#[test]
fn decrypt_prints_the_official_plaintext_exactly() {
    let official = vector("official-wxbizdatacrypt");
    let output = wxmock(&[
        "decrypt",
        "--session-key",
        KEY,
        "--iv",
        IV,
        "--encrypted-data",
        text(&official, "encryptedData"),
        "--appid",
        APPID,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("{}\n", text(&official, "plaintext"))
    );
}

#[test]
fn decrypt_with_another_appid_exits_3_naming_the_watermark() {
    let official = vector("official-wxbizdatacrypt");
    let output = wxmock(&[
        "decrypt",
        "--session-key",
        KEY,
        "--iv",
        IV,
        "--encrypted-data",
        text(&official, "encryptedData"),
        "--appid",
        "wx0000000000000000",
    ]);
    assert_one_line_error(&output, 3);
    assert!(stderr(&output).contains("watermark appid"));
}

#[test]
fn every_broken_variant_vector_exits_3_with_one_line_and_valid_ones_exit_0() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vectors");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|ext| ext.to_str()) != Some("json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if v["type"] != "open-data" {
            continue;
        }
        seen += 1;
        let mut args = vec![
            "decrypt",
            "--session-key",
            text(&v, "sessionKey"),
            "--iv",
            text(&v, "iv"),
            "--encrypted-data",
            text(&v, "encryptedData"),
            "--appid",
            text(&v, "appid"),
        ];
        if let Some(openid) = v["openid"].as_str() {
            args.extend(["--openid", openid]);
        }
        let output = wxmock(&args);
        match v["expected"]["outcome"].as_str().unwrap() {
            "reject" => assert_one_line_error(&output, 3),
            _ => {
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{}: {}",
                    path.display(),
                    stderr(&output)
                );
                assert_eq!(stdout(&output).trim_end(), text(&v, "plaintext"));
            }
        }
        assert!(
            !stderr(&output).contains(text(&v, "sessionKey")),
            "secret leaked"
        );
    }
    assert!(seen >= 16);
}

#[test]
fn bad_keys_ivs_and_payloads_exit_3_with_one_line() {
    for args in [
        vec![
            "decrypt",
            "--session-key",
            "not-base64",
            "--iv",
            IV,
            "--encrypted-data",
            "AAAA",
        ],
        vec![
            "decrypt",
            "--session-key",
            KEY,
            "--iv",
            "AAAA",
            "--encrypted-data",
            "AAAA",
        ],
        vec![
            "decrypt",
            "--session-key",
            KEY,
            "--iv",
            IV,
            "--encrypted-data",
            "%%%",
        ],
        vec![
            "decrypt",
            "--session-key",
            KEY,
            "--iv",
            IV,
            "--encrypted-data",
            "",
        ],
        vec![
            "encrypt",
            "--session-key",
            KEY,
            "--appid",
            APPID,
            "--json",
            "{",
        ],
        vec![
            "encrypt",
            "--session-key",
            KEY,
            "--appid",
            APPID,
            "--json",
            "[1,2]",
        ],
        vec![
            "encrypt",
            "--session-key",
            "short",
            "--appid",
            APPID,
            "--json",
            "{}",
        ],
        vec![
            "encrypt",
            "--session-key",
            KEY,
            "--appid",
            APPID,
            "--iv",
            "AAAA",
            "--json",
            "{}",
        ],
        vec!["forge", "--session-key", "short", "--appid", APPID],
    ] {
        let output = wxmock(&args);
        assert_one_line_error(&output, 3);
    }
}

#[test]
fn missing_flags_and_unknown_choices_are_usage_errors() {
    assert_eq!(wxmock(&["decrypt"]).status.code(), Some(2));
    assert_eq!(
        wxmock(&["encrypt", "--session-key", KEY]).status.code(),
        Some(2)
    );
    let output = wxmock(&[
        "forge",
        "--session-key",
        KEY,
        "--appid",
        APPID,
        "--variant",
        "nope",
    ]);
    assert_one_line_error(&output, 2);
    assert!(
        stderr(&output).contains("plus-to-space"),
        "lists the valid names"
    );
    assert_one_line_error(
        &wxmock(&[
            "forge",
            "--session-key",
            KEY,
            "--appid",
            APPID,
            "--kind",
            "x",
        ]),
        2,
    );
}

#[test]
fn encrypt_with_the_official_iv_reproduces_the_official_ciphertext() {
    let official = vector("official-wxbizdatacrypt");
    let output = wxmock(&[
        "encrypt",
        "--session-key",
        KEY,
        "--appid",
        APPID,
        "--iv",
        IV,
        "--json",
        text(&official, "plaintext"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let keys: Vec<_> = printed.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["encryptedData", "iv"]);
    assert_eq!(printed["encryptedData"], official["encryptedData"]);
    assert_eq!(printed["iv"], IV);
}

#[test]
fn encrypt_adds_a_watermark_and_decrypt_reads_it_back() {
    let output = wxmock(&[
        "encrypt",
        "--session-key",
        KEY,
        "--appid",
        "wxabc",
        "--timestamp",
        "1700000000",
        "--json",
        r#"{"nickName":"小明🚀","gender":2}"#,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let output = wxmock(&[
        "decrypt",
        "--session-key",
        KEY,
        "--iv",
        text(&printed, "iv"),
        "--encrypted-data",
        text(&printed, "encryptedData"),
        "--appid",
        "wxabc",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "{\"nickName\":\"小明🚀\",\"gender\":2,\"watermark\":{\"timestamp\":1700000000,\"appid\":\"wxabc\"}}\n"
    );
}

#[test]
fn the_session_key_can_come_from_the_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_wxmock"))
        .args(["fixture", "checksession-signature"])
        .env("WXMOCK_SESSION_KEY", "o0q0otL8aEzpcZL/FT9WsQ==")
        .output()
        .unwrap();
    assert_eq!(
        stdout(&output),
        format!("{}\n", text(&vector("checksession-signature"), "signature"))
    );
}

#[test]
fn signatures_match_the_official_vectors() {
    let raw = vector("official-raw-data-signature");
    let output = wxmock(&[
        "sign-raw-data",
        "--session-key",
        text(&raw, "sessionKey"),
        "--raw-data",
        text(&raw, "rawData"),
    ]);
    assert_eq!(
        stdout(&output),
        "75e81ceda165f4ffa64f4068af58c64b8f54b88c\n"
    );
    let hmac = vector("official-login-state-signature");
    let output = wxmock(&[
        "checksession-signature",
        "--session-key",
        text(&hmac, "sessionKey"),
        "--message",
        text(&hmac, "message"),
    ]);
    assert_eq!(
        stdout(&output),
        "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b\n"
    );
}

#[test]
fn variants_lists_every_broken_variant_with_its_outcome() {
    let output = wxmock(&["variants"]);
    assert_eq!(output.status.code(), Some(0));
    let table = stdout(&output);
    for name in [
        "valid",
        "stale-session-key",
        "watermark-appid",
        "stale-watermark",
        "tampered",
        "bad-padding",
        "iv-15",
        "iv-17",
        "length-not-block-multiple",
        "invalid-base64",
        "plus-to-space",
        "truncated",
        "openid-mismatch",
    ] {
        assert!(
            table
                .lines()
                .any(|line| line.starts_with(&format!("{name} "))),
            "{name} missing"
        );
    }
    let json: Value = serde_json::from_str(&stdout(&wxmock(&["variants", "--json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 13);
    assert_eq!(json[1]["error"], "bad-padding");
}

#[test]
fn forge_with_a_seed_is_reproducible_and_its_broken_output_is_rejected_by_decrypt() {
    let args = [
        "forge",
        "--session-key",
        KEY,
        "--appid",
        APPID,
        "--kind",
        "weRun",
        "--variant",
        "truncated",
        "--seed",
        "42",
        "--timestamp",
        "1700000000",
    ];
    let first = wxmock(&args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(stdout(&first), stdout(&wxmock(&args)));
    let forged: Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(forged["variant"], "truncated");
    let output = wxmock(&[
        "decrypt",
        "--session-key",
        KEY,
        "--iv",
        text(&forged, "iv"),
        "--encrypted-data",
        text(&forged, "encryptedData"),
    ]);
    assert_one_line_error(&output, 3);
    assert!(stderr(&output).contains("padding"));
}
