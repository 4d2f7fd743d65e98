//! The whole catalogue against the reference backend: it passes with no defect, and each defect
//! switch makes exactly the cases of its matrix row fail (notes/catalogue.md). Every test starts
//! its own fake and backend on ephemeral ports, so they run in parallel.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use wxmock_harness::profile::{Profile, REFERENCE_PROFILE};
use wxmock_harness::runner::{run, FakeInfo, LaunchedBackend, Launcher, RunOptions};
use wxmock_harness::{HarnessError, RunReport};
use wxmock_reference_backend::{start, Config, Defect};

/// Cases that may be skipped against the reference backend, and why: its credential is one
/// JWT, so token.parts-bound has no parts to recombine (the Wafer-style test backend, with a
/// session id and skey, proves that case in tests/shapes.rs).
const MAY_SKIP: &[&str] = &["token.parts-bound"];

fn launcher(defects: Vec<Defect>) -> Launcher {
    Box::new(move |info: FakeInfo| {
        Box::pin(async move {
            let mut config = Config::new(
                info.base_url.as_str(),
                info.appid.as_str(),
                info.secret.as_str(),
            );
            config.upstream_timeout = Duration::from_secs(1);
            config.defects = defects.into_iter().collect();
            config.log = Some(wxmock_reference_backend::LogSink::new(info.output.sink()));
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

async fn run_with(defects: &[&str]) -> RunReport {
    let mut profile = Profile::from_toml_str(REFERENCE_PROFILE, "reference.toml")
        .expect("the shipped profile is valid");
    profile.limits.upstream_timeout_secs = 3;
    let defects = defects
        .iter()
        .map(|d| d.parse::<Defect>().expect("a known defect"))
        .collect();
    let options = RunOptions {
        seed: Some(20240611),
        ..RunOptions::default()
    };
    run(profile, options, Some(launcher(defects)), &mut [])
        .await
        .expect("the run completes")
}

fn ids_with_status(report: &RunReport, status: &str) -> BTreeSet<String> {
    report
        .cases
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.id.clone())
        .collect()
}

fn describe(report: &RunReport) -> String {
    report
        .cases
        .iter()
        .filter(|c| c.status != "passed")
        .map(|c| {
            format!(
                "{} {}: {}",
                c.status,
                c.id,
                c.reason.clone().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_backend_passes_the_whole_catalogue_quickly() {
    let started = Instant::now();
    let report = run_with(&[]).await;
    let elapsed = started.elapsed();
    eprintln!(
        "whole catalogue against the reference backend: {} cases in {:.2} s",
        report.cases.len(),
        elapsed.as_secs_f64()
    );
    assert!(
        ids_with_status(&report, "failed").is_empty(),
        "failures:\n{}",
        describe(&report)
    );
    assert!(
        ids_with_status(&report, "errored").is_empty(),
        "errors:\n{}",
        describe(&report)
    );
    let skipped = ids_with_status(&report, "skipped");
    let allowed: BTreeSet<String> = MAY_SKIP.iter().map(|s| s.to_string()).collect();
    assert!(
        skipped.is_subset(&allowed),
        "unexpected skips:\n{}",
        describe(&report)
    );
    assert!(report.summary.conforms);
    assert_eq!(report.cases.len(), wxmock_harness::case::catalogue().len());
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

/// Runs the catalogue with one defect and compares the failed set with the matrix row.
async fn defect_fails_exactly(defect: &str, expected: &[&str]) {
    let report = run_with(&[defect]).await;
    let failed = ids_with_status(&report, "failed");
    let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        failed,
        want,
        "defect {defect}: not passed:\n{}",
        describe(&report)
    );
    assert!(
        ids_with_status(&report, "errored").is_empty(),
        "defect {defect}: errors:\n{}",
        describe(&report)
    );
    assert!(!report.summary.conforms);
}

macro_rules! matrix {
    ($($name:ident: $defect:literal => [$($case:literal),* $(,)?];)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                defect_fails_exactly($defect, &[$($case),*]).await;
            }
        )*

        #[test]
        fn every_defect_of_the_reference_backend_has_a_matrix_row() {
            let rows: BTreeSet<&str> = [$($defect),*].into_iter().collect();
            let all: BTreeSet<&str> = Defect::ALL.iter().map(|d| d.name()).collect();
            assert_eq!(rows, all);
        }
    };
}

matrix! {
    session_key_in_jwt_fails_exactly_its_cases: "session-key-in-jwt" => ["token.no-sensitive-claims", "login.no-secret-leak"];
    leak_session_key_fails_exactly_its_cases: "leak-session-key" => ["login.no-secret-leak"];
    no_exp_fails_exactly_its_cases: "no-exp" => ["token.has-expiry", "token.expired-rejected", "token.lifetime"];
    ignore_exp_fails_exactly_its_cases: "ignore-exp" => ["token.expired-rejected", "token.lifetime"];
    predictable_token_fails_exactly_its_cases: "predictable-token" => ["token.unpredictable", "token.expired-rejected", "token.lifetime"];
    alg_none_fails_exactly_its_cases: "alg-none" => ["token.alg-none"];
    weak_secret_fails_exactly_its_cases: "weak-secret" => ["token.weak-secret"];
    accept_tampered_fails_exactly_its_cases: "accept-tampered" => ["token.tampered", "token.alg-none"];
    token_on_errcode_fails_exactly_its_cases: "token-on-errcode" => ["login.upstream-error-status", "login.invalid-code", "login.code-reused", "login.wechat-busy", "login.rate-limited", "login.high-risk"];
    crash_on_errcode_fails_exactly_its_cases: "crash-on-errcode" => ["login.upstream-error-status", "login.invalid-code", "login.code-reused", "login.high-risk"];
    no_upstream_timeout_fails_exactly_its_cases: "no-upstream-timeout" => ["login.upstream-error-status", "login.upstream-timeout"];
    accept_garbage_upstream_fails_exactly_its_cases: "accept-garbage-upstream" => ["login.upstream-error-status", "login.upstream-garbage"];
    no_grant_type_fails_exactly_its_cases: "no-grant-type" => ["login.happy"];
    forward_empty_code_fails_exactly_its_cases: "forward-empty-code" => ["login.missing-code"];
    new_user_every_login_fails_exactly_its_cases: "new-user-every-login" => ["login.returning-user"];
    shared_identity_fails_exactly_its_cases: "shared-identity" => ["login.distinct-users"];
    optional_auth_fails_exactly_its_cases: "optional-auth" => ["token.missing"];
    crash_on_bad_token_fails_exactly_its_cases: "crash-on-bad-token" => ["token.garbage"];
    stack_traces_fails_exactly_its_cases: "stack-traces" => ["robust.no-stack-trace"];
    no_access_token_cache_fails_exactly_its_cases: "no-access-token-cache" => ["access-token.cached"];
    no_token_refresh_fails_exactly_its_cases: "no-token-refresh" => ["access-token.refresh-on-expiry"];
    expose_access_token_fails_exactly_its_cases: "expose-access-token" => ["access-token.not-exposed"];
    no_watermark_check_fails_exactly_its_cases: "no-watermark-check" => ["data.watermark-mismatch"];
    crash_on_bad_data_fails_exactly_its_cases: "crash-on-bad-data" => ["data.bad-iv", "data.tampered"];
    fallback_old_session_key_fails_exactly_its_cases: "fallback-old-session-key" => ["data.stale-session-key"];
    truncate_nickname_fails_exactly_its_cases: "truncate-nickname" => ["data.roundtrip-property"];
    urlsafe_base64_fails_exactly_its_cases: "urlsafe-base64" => ["data.user-info", "data.roundtrip-property"];
    phone_countrycode_number_fails_exactly_its_cases: "phone-countrycode-number" => ["data.phone-number"];
    wedge_on_upstream_reset_fails_exactly_its_cases: "wedge-on-upstream-reset" => ["login.upstream-error-status", "robust.survives"];
    openid_as_password_fails_exactly_its_cases: "openid-as-password" => ["auth.openid-credential"];
    token_in_query_fails_exactly_its_cases: "token-in-query" => ["auth.token-in-query"];
    opaque_token_no_expiry_fails_exactly_its_cases: "opaque-token-no-expiry" => ["token.expired-rejected", "token.lifetime"];
    stale_token_blocks_login_fails_exactly_its_cases: "stale-token-blocks-login" => ["login.stale-credential"];
    shared_response_object_fails_exactly_its_cases: "shared-response-object" => ["login.no-cross-user-leak"];
    no_openid_check_fails_exactly_its_cases: "no-openid-check" => ["data.openid-mismatch"];
    errcode_zero_is_error_fails_exactly_its_cases: "errcode-zero-is-error" => ["login.errcode-zero"];
    upstream_error_500_fails_exactly_its_cases: "upstream-error-500" => ["login.upstream-error-status"];
    internal_detail_fails_exactly_its_cases: "internal-detail" => ["robust.no-internal-detail"];
    refresh_unbounded_fails_exactly_its_cases: "refresh-unbounded" => ["access-token.refresh-bounded"];
    login_needs_access_token_fails_exactly_its_cases: "login-needs-access-token" => ["login.no-access-token-dependency"];
    log_secrets_fails_exactly_its_cases: "log-secrets" => ["robust.no-secret-in-logs"];
}
