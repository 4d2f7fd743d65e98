//! The typed Rust API on `MockWeChat`: faults, scenarios and expectations that match on
//! openid, js_code and query parameters, with typed errors and failures that name the test's line.

use std::time::Duration;

use serde_json::Value;
use wxmock_server::expect::Expectation;
use wxmock_server::{
    Fault, FaultError, MockWeChat, Path, Scenario, ScenarioApplied, ScenarioError, Step,
    ALICE_OPENID, BOB_OPENID, DEMO_APPID, DEMO_SECRET,
};

async fn exchange(wechat: &MockWeChat, code: &str) -> Value {
    let url = format!(
        "{}/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code={code}&grant_type=authorization_code",
        wechat.base_url()
    );
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn an_errcode_fault_for_two_calls_answers_twice_then_lets_the_same_code_through() {
    let wechat = MockWeChat::start().await;
    let id = wechat
        .fault(Fault::errcode(-1).times(2).on(Path::Code2Session))
        .unwrap();
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(exchange(&wechat, &code).await["errcode"], -1);
    assert_eq!(wechat.fault_hits(&id), Some(1));
    assert_eq!(exchange(&wechat, &code).await["errcode"], -1);
    assert_eq!(exchange(&wechat, &code).await["openid"], ALICE_OPENID);
    // Used up: the rule is gone.
    assert_eq!(wechat.fault_hits(&id), None);
    assert!(!wechat.remove_fault(&id));
}

#[tokio::test]
async fn a_fault_scoped_to_one_user_leaves_the_others_alone() {
    let wechat = MockWeChat::start().await;
    wechat
        .fault(
            Fault::errcode(40226)
                .user(BOB_OPENID)
                .message("blocked for the test"),
        )
        .unwrap();
    let bob = exchange(&wechat, &wechat.login(DEMO_APPID, BOB_OPENID).unwrap()).await;
    assert_eq!(bob["errcode"], 40226);
    assert!(bob["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("blocked for the test"));
    let alice = exchange(&wechat, &wechat.login(DEMO_APPID, ALICE_OPENID).unwrap()).await;
    assert_eq!(alice["openid"], ALICE_OPENID);
}

#[tokio::test]
async fn a_sequence_plays_its_steps_in_order() {
    let wechat = MockWeChat::start().await;
    wechat
        .fault(Fault::sequence([
            Step::Fault(Fault::errcode(45011)),
            Step::Normal,
        ]))
        .unwrap();
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(exchange(&wechat, &code).await["errcode"], 45011);
    assert_eq!(exchange(&wechat, &code).await["openid"], ALICE_OPENID);
}

#[tokio::test]
async fn bad_faults_are_typed_errors() {
    let wechat = MockWeChat::start().await;
    assert_eq!(
        wechat.fault(Fault::errcode(-1).app("wxnosuchapp0000000")),
        Err(FaultError::UnknownApp {
            appid: "wxnosuchapp0000000".into()
        })
    );
    let Err(FaultError::Invalid { reason }) = wechat.fault(Fault::errcode(-1).probability(2.0, 1))
    else {
        panic!("a probability of 2 was accepted")
    };
    assert!(reason.contains("probability"), "{reason}");
    assert!(matches!(
        wechat.fault(Fault::errcode(-1).on(Path::Other("no-slash".into()))),
        Err(FaultError::Invalid { .. })
    ));
    assert!(matches!(
        wechat.fault(Fault::sequence([])),
        Err(FaultError::Invalid { .. })
    ));
    assert!(matches!(
        wechat.fault(Fault::delay(Duration::from_secs(3600))),
        Err(FaultError::Invalid { .. })
    ));
}

#[tokio::test]
async fn the_wechat_busy_scenario_answers_minus_one_once() {
    let wechat = MockWeChat::start().await;
    assert!(matches!(
        wechat.scenario(Scenario::WechatBusy),
        Ok(ScenarioApplied::Fault(_))
    ));
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(exchange(&wechat, &code).await["errcode"], -1);
    assert_eq!(exchange(&wechat, &code).await["openid"], ALICE_OPENID);
}

#[tokio::test]
async fn scenarios_refuse_what_does_not_apply_with_typed_errors() {
    let wechat = MockWeChat::start().await;
    assert_eq!(
        wechat.scenario(Scenario::SessionExpired),
        Err(ScenarioError::NeedsUser {
            scenario: "session-expired"
        })
    );
    assert_eq!(
        wechat.scenario(Scenario::WechatBusy.delay(Duration::from_secs(1))),
        Err(ScenarioError::DelayNotApplicable {
            scenario: "wechat-busy"
        })
    );
    assert_eq!(
        wechat.scenario(Scenario::AccessTokenExpired.times(2)),
        Err(ScenarioError::NotAFault {
            scenario: "access-token-expired",
            field: "times"
        })
    );
    assert_eq!(
        wechat.scenario(Scenario::WechatBusy.app("wxnosuchapp0000000")),
        Err(ScenarioError::UnknownApp {
            appid: "wxnosuchapp0000000".into()
        })
    );
    assert!(matches!(
        wechat.scenario(Scenario::SessionExpired.user("oNobody")),
        Err(ScenarioError::Engine(_))
    ));
}

#[tokio::test]
async fn session_expired_rotates_the_users_key() {
    let wechat = MockWeChat::start().await;
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    let before = exchange(&wechat, &code).await["session_key"].clone();
    assert_eq!(
        wechat.scenario(Scenario::SessionExpired.user(ALICE_OPENID)),
        Ok(ScenarioApplied::RotatedSessionKey {
            appid: DEMO_APPID.into(),
            openid: ALICE_OPENID.into()
        })
    );
    let after = wechat.user(DEMO_APPID, ALICE_OPENID).unwrap().session_key;
    assert_ne!(Some(before.as_str().unwrap().to_owned()), after);
}

#[tokio::test]
async fn expectations_match_on_openid_js_code_and_query() {
    let wechat = MockWeChat::start().await;
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    exchange(&wechat, &code).await;
    wechat.expect(
        Expectation::on(Path::Code2Session)
            .openid(ALICE_OPENID)
            .times(1),
    );
    wechat.expect(
        Expectation::on(Path::Code2Session)
            .js_code(code.clone())
            .times(1),
    );
    wechat.expect(
        Expectation::on(Path::Code2Session)
            .query("grant_type", "authorization_code")
            .query("appid", DEMO_APPID)
            .times(1),
    );
    wechat.expect(
        Expectation::on(Path::Code2Session)
            .openid(BOB_OPENID)
            .never(),
    );
    wechat.expect(
        Expectation::on(Path::Code2Session)
            .js_code("another")
            .never(),
    );
    wechat.expect(
        Expectation::on(Path::Code2Session)
            .query("grant_type", "x")
            .never(),
    );
    assert_eq!(wechat.check_expectations(), Ok(()));
}

#[tokio::test]
async fn an_unmet_expectation_names_the_test_line_that_registered_it() {
    let wechat = MockWeChat::start().await;
    let code = wechat.login(DEMO_APPID, ALICE_OPENID).unwrap();
    exchange(&wechat, &code).await;
    let line = line!() + 1;
    wechat.expect(
        Expectation::on(Path::Code2Session)
            .openid(BOB_OPENID)
            .times(1),
    );
    let failure = wechat.check_expectations().unwrap_err();
    let text = failure.to_string();
    assert!(text.contains(&format!("{}:{line}:", file!())), "{text}");
    assert!(text.contains(&format!("for user {BOB_OPENID}")), "{text}");
    assert!(
        text.contains("secret=***") && !text.contains(DEMO_SECRET),
        "{text}"
    );
    // Bob logs in once: met now, so the drop does not panic.
    exchange(&wechat, &wechat.login(DEMO_APPID, BOB_OPENID).unwrap()).await;
    assert_eq!(wechat.check_expectations(), Ok(()));
}

#[tokio::test]
async fn verify_panics_at_the_callers_line() {
    let wechat = MockWeChat::start().await;
    wechat.expect(Expectation::on(Path::Token).times(1));
    let previous = std::panic::take_hook();
    let (tx, rx) = std::sync::mpsc::channel();
    std::panic::set_hook(Box::new(move |info| {
        let _ = tx.send(info.location().map(|l| (l.file().to_owned(), l.line())));
    }));
    let line = line!() + 1;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wechat.verify()));
    std::panic::set_hook(previous);
    assert!(
        result.is_err(),
        "verify did not panic on an unmet expectation"
    );
    assert_eq!(rx.recv().unwrap(), Some((file!().to_owned(), line)));
    // Met now (one token call), so the drop does not panic.
    reqwest::get(format!(
        "{}/cgi-bin/token?grant_type=client_credential&appid={DEMO_APPID}&secret={DEMO_SECRET}",
        wechat.base_url()
    ))
    .await
    .unwrap();
    wechat.verify();
}
