//! `/sns/jscode2session`: one test per rule of docs/wechat-api.md 3.1.

mod support;

use support::{fake, fake_with, rules};
use wxmock_server::{ALICE_OPENID, BOB_OPENID, DEMO_APPID, DEMO_SECRET, MALLORY_OPENID};

#[tokio::test]
async fn a_fresh_code_gives_session_key_openid_and_unionid_in_wechat_order() {
    let fake = fake();
    let code = fake.login(ALICE_OPENID);
    let answer = fake.exchange(&code).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/plain");
    let user = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    let expected = format!(
        r#"{{"session_key":"{}","openid":"{ALICE_OPENID}","unionid":"{}"}}"#,
        user.session_key.unwrap(),
        user.unionid.unwrap()
    );
    assert_eq!(answer.text, expected);
}

#[tokio::test]
async fn a_user_without_unionid_gets_no_unionid_field() {
    let fake = fake();
    let answer = fake.exchange(&fake.login(BOB_OPENID)).await;
    let json = answer.json();
    assert_eq!(json["openid"], BOB_OPENID);
    assert!(json.get("unionid").is_none());
    assert!(json.get("errcode").is_none());
    assert!(json.get("expires_in").is_none());
}

#[tokio::test]
async fn expires_in_can_be_switched_on_like_old_servers() {
    let fake = fake_with(rules("code2session_expires_in = true"));
    let answer = fake.exchange(&fake.login(BOB_OPENID)).await;
    assert_eq!(answer.json()["expires_in"], 7200);
}

#[tokio::test]
async fn missing_parameters_are_reported_in_wechat_order() {
    let fake = fake();
    assert_eq!(fake.get("/sns/jscode2session").await.errcode(), 41002);
    assert_eq!(
        fake.get("/sns/jscode2session?secret=s&js_code=c")
            .await
            .errcode(),
        41002
    );
    assert_eq!(
        fake.get("/sns/jscode2session?appid=a&js_code=c")
            .await
            .errcode(),
        41004
    );
    assert_eq!(
        fake.get("/sns/jscode2session?appid=a&secret=s")
            .await
            .errcode(),
        41008
    );
    assert_eq!(
        fake.get("/sns/jscode2session?appid=a&secret=s&js_code=c")
            .await
            .errcode(),
        40013
    );
}

#[tokio::test]
async fn a_post_with_a_form_body_answers_appid_missing() {
    let fake = fake();
    let body = format!("appid={DEMO_APPID}&secret={DEMO_SECRET}&js_code=x");
    let answer = fake
        .post(
            "/sns/jscode2session",
            "application/x-www-form-urlencoded",
            &body,
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.errcode(), 41002);
}

#[tokio::test]
async fn errmsg_carries_a_rid_after_a_comma() {
    let fake = fake();
    let answer = fake.exchange("nope").await;
    assert_eq!(answer.errcode(), 40029);
    let msg = answer.errmsg();
    assert!(msg.starts_with("invalid code, rid: "), "{msg}");
    let rid = msg.trim_start_matches("invalid code, rid: ");
    assert_eq!(rid.len(), 26);
    assert!(rid.starts_with(&format!("{:08x}", support::START)));
}

#[tokio::test]
async fn a_wrong_secret_answers_40125() {
    let fake = fake();
    let code = fake.login(ALICE_OPENID);
    let answer = fake
        .get(&format!(
            "/sns/jscode2session?appid={DEMO_APPID}&secret=wrong&js_code={code}"
        ))
        .await;
    assert_eq!(answer.errcode(), 40125);
}

#[tokio::test]
async fn a_code_used_up_by_a_failed_exchange_then_answers_40163() {
    let fake = fake();
    let code = fake.login(ALICE_OPENID);
    let uri = format!("/sns/jscode2session?appid={DEMO_APPID}&secret=wrong&js_code={code}");
    assert_eq!(fake.get(&uri).await.errcode(), 40125);
    assert_eq!(fake.exchange(&code).await.errcode(), 40163);
}

#[tokio::test]
async fn a_failed_exchange_leaves_the_code_usable_when_consumption_is_off() {
    let fake = fake_with(rules("consume_code_on_failure = false"));
    let code = fake.login(ALICE_OPENID);
    let uri = format!("/sns/jscode2session?appid={DEMO_APPID}&secret=wrong&js_code={code}");
    assert_eq!(fake.get(&uri).await.errcode(), 40125);
    assert_eq!(fake.exchange(&code).await.errcode(), 0);
}

#[tokio::test]
async fn reused_code_is_rejected_with_40163() {
    let fake = fake();
    let code = fake.login(ALICE_OPENID);
    assert_eq!(fake.exchange(&code).await.errcode(), 0);
    let again = fake.exchange(&code).await;
    assert_eq!(again.errcode(), 40163);
    assert!(again.errmsg().starts_with("code been used, rid: "));
}

#[tokio::test]
async fn an_unknown_code_answers_40029() {
    let fake = fake();
    assert_eq!(
        fake.exchange("051v0m000ObAyK19vV1005SDWf0v0m0s")
            .await
            .errcode(),
        40029
    );
}

#[tokio::test]
async fn a_code_expires_after_five_minutes() {
    let fake = fake();
    let code = fake.login(ALICE_OPENID);
    fake.advance(299);
    let fresh = fake.login(BOB_OPENID);
    assert_eq!(fake.exchange(&fresh).await.errcode(), 0);
    assert_eq!(fake.exchange(&code).await.errcode(), 0);
    let late = fake.login(ALICE_OPENID);
    fake.advance(300);
    assert_eq!(fake.exchange(&late).await.errcode(), 40029);
}

#[tokio::test]
async fn a_code_of_another_app_answers_40029() {
    let fake = fake();
    fake.state
        .engine
        .upsert_app("wxother0000000001", "other-secret".into())
        .unwrap();
    let code = fake.login(ALICE_OPENID);
    let answer = fake
        .get(&format!(
            "/sns/jscode2session?appid=wxother0000000001&secret=other-secret&js_code={code}"
        ))
        .await;
    assert_eq!(answer.errcode(), 40029);
}

#[tokio::test]
async fn a_blocked_user_gets_40226() {
    let fake = fake();
    let answer = fake.exchange(&fake.login(MALLORY_OPENID)).await;
    assert_eq!(answer.errcode(), 40226);
    assert!(answer.errmsg().starts_with("code blocked"));
}

#[tokio::test]
async fn one_user_past_the_minute_limit_gets_45011() {
    let fake = fake_with(rules("code2session_user_per_minute = 3"));
    for _ in 0..3 {
        assert_eq!(fake.exchange(&fake.login(ALICE_OPENID)).await.errcode(), 0);
    }
    assert_eq!(fake.exchange(&fake.login(BOB_OPENID)).await.errcode(), 0);
    let answer = fake.exchange(&fake.login(ALICE_OPENID)).await;
    assert_eq!(answer.errcode(), 45011);
    assert!(answer
        .errmsg()
        .starts_with("api minute-quota reach limit, must slower, retry next minute rid: "));
    fake.advance(60);
    assert_eq!(fake.exchange(&fake.login(ALICE_OPENID)).await.errcode(), 0);
}

#[tokio::test]
async fn the_default_minute_limit_is_one_hundred_calls_per_user() {
    let fake = fake();
    for _ in 0..100 {
        assert_eq!(fake.exchange(&fake.login(BOB_OPENID)).await.errcode(), 0);
    }
    assert_eq!(
        fake.exchange(&fake.login(BOB_OPENID)).await.errcode(),
        45011
    );
}

#[tokio::test]
async fn an_app_past_its_daily_quota_gets_45009() {
    let fake = fake_with(rules("code2session_daily_quota = 1"));
    assert_eq!(fake.exchange(&fake.login(ALICE_OPENID)).await.errcode(), 0);
    assert_eq!(
        fake.exchange(&fake.login(BOB_OPENID)).await.errcode(),
        45009
    );
    fake.advance(86_400);
    assert_eq!(fake.exchange(&fake.login(BOB_OPENID)).await.errcode(), 0);
}

#[tokio::test]
async fn grant_type_may_be_missing_but_not_wrong_by_default() {
    let fake = fake();
    let code = fake.login(ALICE_OPENID);
    let base = format!("/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}");
    assert_eq!(
        fake.get(&format!(
            "{base}&js_code={code}&grant_type=client_credential"
        ))
        .await
        .errcode(),
        40002
    );
    assert_eq!(
        fake.get(&format!("{base}&js_code={code}")).await.errcode(),
        0
    );
}

#[tokio::test]
async fn grant_type_can_be_required_or_ignored() {
    let strict = fake_with(rules("jscode2session_grant_type = \"require\""));
    let code = strict.login(ALICE_OPENID);
    let base = format!("/sns/jscode2session?appid={DEMO_APPID}&secret={DEMO_SECRET}");
    assert_eq!(
        strict
            .get(&format!("{base}&js_code={code}"))
            .await
            .errcode(),
        40002
    );
    let lax = fake_with(rules("jscode2session_grant_type = \"ignore\""));
    let code = lax.login(ALICE_OPENID);
    assert_eq!(
        lax.get(&format!("{base}&js_code={code}&grant_type=whatever"))
            .await
            .errcode(),
        0
    );
}

#[tokio::test]
async fn every_login_rotates_the_session_key_by_default() {
    let fake = fake();
    let first = fake.exchange(&fake.login(ALICE_OPENID)).await.json();
    let second = fake.exchange(&fake.login(ALICE_OPENID)).await.json();
    assert_ne!(first["session_key"], second["session_key"]);
    let user = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(
        user.previous_session_key.as_deref(),
        first["session_key"].as_str()
    );
}

#[tokio::test]
async fn a_rotation_period_keeps_the_same_key_within_it() {
    let fake = fake_with(rules("session_key_rotation = 600"));
    let first = fake.exchange(&fake.login(ALICE_OPENID)).await.json();
    fake.advance(599);
    let second = fake.exchange(&fake.login(ALICE_OPENID)).await.json();
    assert_eq!(first["session_key"], second["session_key"]);
    fake.advance(1);
    let third = fake.exchange(&fake.login(ALICE_OPENID)).await.json();
    assert_ne!(first["session_key"], third["session_key"]);
}

#[tokio::test]
async fn slashes_are_escaped_when_switched_on() {
    let config = wxmock_server::Config::from_toml("[wire]\nescape_slashes = true").unwrap();
    let fake = fake_with(config);
    let answer = fake.exchange("x/y").await;
    assert!(!answer.text.contains('/') || answer.text.contains("\\/"));
    let ok = fake.exchange(&fake.login(ALICE_OPENID)).await;
    let key = fake
        .state
        .engine
        .user(DEMO_APPID, ALICE_OPENID)
        .unwrap()
        .session_key
        .unwrap();
    assert!(ok.text.contains(&key.replace('/', "\\/")));
    assert_eq!(ok.json()["session_key"], key);
}

/// A code as the real `wx.login` gives it, never issued by the fake.
const DEVTOOLS_CODE: &str = "0e1aBcDeFgHiJkLmNoPqRsTuVwXyZ012";

#[tokio::test]
async fn a_persona_magic_code_logs_that_persona_in_with_a_fresh_code_each_time() {
    let fake = fake();
    let first = fake.exchange("wxmock-as-alice").await;
    assert_eq!(first.json()["openid"], ALICE_OPENID, "{:?}", first.json());
    assert!(first.json()["unionid"].is_string());
    // Like wx.login: every use is a new login (a new code, a rotated session_key), never 40163.
    let second = fake.exchange("wxmock-as-ALICE").await;
    assert_eq!(second.json()["openid"], ALICE_OPENID);
    assert_ne!(first.json()["session_key"], second.json()["session_key"]);
    // An openid works as well as a persona name.
    let by_openid = fake.exchange(&format!("wxmock-as-{BOB_OPENID}")).await;
    assert_eq!(by_openid.json()["openid"], BOB_OPENID);
}

#[tokio::test]
async fn a_persona_magic_code_keeps_the_personas_rules() {
    let fake = fake();
    assert_eq!(fake.exchange("wxmock-as-mallory").await.errcode(), 40226);
    assert_eq!(fake.exchange("wxmock-as-nobody").await.errcode(), 40029);
}

#[tokio::test]
async fn with_an_unknown_code_user_a_code_the_fake_never_issued_logs_that_user_in_once() {
    let fake = fake_with(rules(r#"unknown_code_user = "bob""#));
    let answer = fake.exchange(DEVTOOLS_CODE).await;
    assert_eq!(answer.json()["openid"], BOB_OPENID, "{:?}", answer.json());
    // Adopted, the code follows the rules of any code: single use.
    assert_eq!(fake.exchange(DEVTOOLS_CODE).await.errcode(), 40163);
    // Codes the fake issued keep their own user.
    let code = fake.login(ALICE_OPENID);
    assert_eq!(fake.exchange(&code).await.json()["openid"], ALICE_OPENID);
}

#[test]
fn an_unknown_code_user_who_does_not_exist_is_a_config_error() {
    let err = wxmock_server::Config::from_toml(
        "[rules]\nunknown_code_user = \"oNobody_000000000000000000000\"",
    )
    .unwrap_err();
    assert!(err.to_string().contains("rules.unknown_code_user"), "{err}");
}

#[tokio::test]
async fn an_unknown_code_user_missing_from_an_app_leaves_that_apps_unknown_codes_invalid() {
    // oZed is a user of the first app only; the second has the personas.
    let config = wxmock_server::Config::from_toml(
        "[rules]\nunknown_code_user = \"oZed_ownUser000000000000001\"\n\
         [[apps]]\nappid = \"wxfirst00000000001\"\nsecret = \"s1\"\n\
         [[apps.users]]\nopenid = \"oZed_ownUser000000000000001\"\n\
         [[apps]]\nappid = \"wxsecond0000000001\"\nsecret = \"s2\"\n",
    )
    .unwrap();
    let fake = fake_with(config);
    let exchange = |appid: &str, secret: &str| {
        format!("/sns/jscode2session?appid={appid}&secret={secret}&js_code={DEVTOOLS_CODE}&grant_type=authorization_code")
    };
    assert_eq!(
        fake.get(&exchange("wxsecond0000000001", "s2"))
            .await
            .errcode(),
        40029
    );
    assert_eq!(
        fake.get(&exchange("wxfirst00000000001", "s1")).await.json()["openid"],
        "oZed_ownUser000000000000001"
    );
}
