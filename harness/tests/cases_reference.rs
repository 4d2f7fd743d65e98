//! The token.*, data.* and access-token.* families against the bundled reference backend: all
//! pass (none skips) without defects, and each defect makes exactly its matrix row of these
//! families fail. The whole-catalogue matrix lives in catalogue.rs; this file keeps the three
//! families honest on their own and fast to iterate on.

use std::collections::BTreeMap;

use wxmock_harness::case::{access_token, crypto, token};
use wxmock_harness::profile::REFERENCE_PROFILE;
use wxmock_harness::runner::{FakeInfo, LaunchedBackend, Launcher};
use wxmock_harness::{run, HarnessError, Profile, RunOptions};
use wxmock_reference_backend::{start, Config, Defect};

/// Runs the three families against the reference backend with `defects`; id → (status, reason).
async fn run_families(defects: &[&str], seed: u64) -> BTreeMap<String, (String, String)> {
    let defects: Vec<Defect> = defects
        .iter()
        .map(|d| d.parse().expect("known defect"))
        .collect();
    let profile = Profile::from_toml_str(REFERENCE_PROFILE, "reference.toml")
        .expect("reference profile parses");
    let launcher: Launcher = Box::new(move |fake: FakeInfo| {
        Box::pin(async move {
            let mut config = Config::new(&fake.base_url, &fake.appid, &fake.secret);
            config.upstream_timeout = std::time::Duration::from_secs(1);
            config.defects.extend(defects);
            let clock = config.clock.clone();
            let backend = start(config)
                .await
                .map_err(|e| HarnessError::BackendStart(e.to_string()))?;
            Ok(LaunchedBackend {
                clock: Some(std::sync::Arc::new(move |offset| clock.set_offset(offset))),
                base_url: backend.base_url(),
                // The key it really signs with ("secret" under weak-secret): token.expired-rejected
                // mints tokens with it.
                jwt_secret: Some(backend.jwt_secret().to_owned()),
                guard: Box::new(backend),
            })
        })
    });
    let mut cases = token::cases();
    cases.extend(crypto::cases());
    cases.extend(access_token::cases());
    let options = RunOptions {
        seed: Some(seed),
        cases: Some(cases),
        ..RunOptions::default()
    };
    let report = run(profile, options, Some(launcher), &mut [])
        .await
        .expect("run completes");
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

/// The failed case ids with `defects` (no case may error).
async fn failed_ids(defects: &[&str]) -> Vec<String> {
    let results = run_families(defects, 7).await;
    let errored: Vec<_> = results
        .iter()
        .filter(|(_, (s, _))| s == "errored")
        .collect();
    assert!(
        errored.is_empty(),
        "errored cases with {defects:?}: {errored:#?}"
    );
    results
        .into_iter()
        .filter(|(_, (s, _))| s == "failed")
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_passes_on_the_reference_backend_without_defects() {
    let results = run_families(&[], 1).await;
    // Its credential is one JWT: token.parts-bound has no parts to recombine.
    let (status, reason) = &results
        .iter()
        .find(|(id, _)| id.as_str() == "token.parts-bound")
        .expect("token.parts-bound ran")
        .1;
    assert_eq!(status, "skipped");
    assert!(reason.contains("one part"), "{reason}");
    let not_passed: Vec<_> = results
        .iter()
        .filter(|(id, (s, _))| s != "passed" && id.as_str() != "token.parts-bound")
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    assert_eq!(results.len(), 23);
}

macro_rules! defect_fails_exactly {
    ($name:ident, $defect:literal, [$($case:literal),* $(,)?]) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let expected: Vec<String> = vec![$($case.to_string()),*];
            assert_eq!(failed_ids(&[$defect]).await, expected, "defect {}", $defect);
        }
    };
}

// Every defect of the matrix: the failed cases of these three families are exactly its row
// restricted to them (sorted); defects aimed at login.*/robust.* fail none of them.
defect_fails_exactly!(
    session_key_in_jwt_fails_exactly_its_row,
    "session-key-in-jwt",
    ["token.no-sensitive-claims"]
);
defect_fails_exactly!(
    leak_session_key_fails_exactly_its_row,
    "leak-session-key",
    []
);
// A token without exp is judged against the declared lifetime on the backend's clock.
defect_fails_exactly!(
    no_exp_fails_exactly_its_row,
    "no-exp",
    ["token.expired-rejected", "token.has-expiry"]
);
defect_fails_exactly!(
    ignore_exp_fails_exactly_its_row,
    "ignore-exp",
    ["token.expired-rejected"]
);
defect_fails_exactly!(
    predictable_token_fails_exactly_its_row,
    "predictable-token",
    ["token.expired-rejected", "token.unpredictable"]
);
defect_fails_exactly!(
    alg_none_fails_exactly_its_row,
    "alg-none",
    ["token.alg-none"]
);
defect_fails_exactly!(
    weak_secret_fails_exactly_its_row,
    "weak-secret",
    ["token.weak-secret"]
);
defect_fails_exactly!(
    accept_tampered_fails_exactly_its_row,
    "accept-tampered",
    ["token.alg-none", "token.tampered"]
);
defect_fails_exactly!(
    token_on_errcode_fails_exactly_its_row,
    "token-on-errcode",
    []
);
defect_fails_exactly!(
    crash_on_errcode_fails_exactly_its_row,
    "crash-on-errcode",
    []
);
defect_fails_exactly!(
    no_upstream_timeout_fails_exactly_its_row,
    "no-upstream-timeout",
    []
);
defect_fails_exactly!(
    accept_garbage_upstream_fails_exactly_its_row,
    "accept-garbage-upstream",
    []
);
defect_fails_exactly!(no_grant_type_fails_exactly_its_row, "no-grant-type", []);
defect_fails_exactly!(
    forward_empty_code_fails_exactly_its_row,
    "forward-empty-code",
    []
);
defect_fails_exactly!(
    new_user_every_login_fails_exactly_its_row,
    "new-user-every-login",
    []
);
defect_fails_exactly!(shared_identity_fails_exactly_its_row, "shared-identity", []);
defect_fails_exactly!(
    optional_auth_fails_exactly_its_row,
    "optional-auth",
    ["token.missing"]
);
defect_fails_exactly!(
    crash_on_bad_token_fails_exactly_its_row,
    "crash-on-bad-token",
    ["token.garbage"]
);
defect_fails_exactly!(stack_traces_fails_exactly_its_row, "stack-traces", []);
defect_fails_exactly!(
    no_access_token_cache_fails_exactly_its_row,
    "no-access-token-cache",
    ["access-token.cached"]
);
defect_fails_exactly!(
    no_token_refresh_fails_exactly_its_row,
    "no-token-refresh",
    ["access-token.refresh-on-expiry"]
);
defect_fails_exactly!(
    expose_access_token_fails_exactly_its_row,
    "expose-access-token",
    ["access-token.not-exposed"]
);
defect_fails_exactly!(
    refresh_unbounded_fails_exactly_its_row,
    "refresh-unbounded",
    ["access-token.refresh-bounded"]
);
defect_fails_exactly!(
    no_watermark_check_fails_exactly_its_row,
    "no-watermark-check",
    ["data.watermark-mismatch"]
);
defect_fails_exactly!(
    crash_on_bad_data_fails_exactly_its_row,
    "crash-on-bad-data",
    ["data.bad-iv", "data.tampered"]
);
defect_fails_exactly!(
    fallback_old_session_key_fails_exactly_its_row,
    "fallback-old-session-key",
    ["data.stale-session-key"]
);
defect_fails_exactly!(
    truncate_nickname_fails_exactly_its_row,
    "truncate-nickname",
    ["data.roundtrip-property"]
);
defect_fails_exactly!(
    urlsafe_base64_fails_exactly_its_row,
    "urlsafe-base64",
    ["data.roundtrip-property", "data.user-info"]
);
defect_fails_exactly!(
    phone_countrycode_number_fails_exactly_its_row,
    "phone-countrycode-number",
    ["data.phone-number"]
);
defect_fails_exactly!(
    wedge_on_upstream_reset_fails_exactly_its_row,
    "wedge-on-upstream-reset",
    []
);
