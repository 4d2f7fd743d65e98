//! The engine calls the control plane builds on: resets, peeks, forced rotations and token
//! states, plus the session_key policies.

mod support;

use support::{fake, fake_with, rules};
use wxmock_server::{UserConfig, ALICE_OPENID, BOB_OPENID, DEMO_APPID};

#[tokio::test]
async fn reset_all_goes_back_to_the_configured_apps_and_users() {
    let fake = fake();
    let engine = &fake.state.engine;
    engine.upsert_app("wxruntime00000001", "s".into()).unwrap();
    let carol = engine.add_user(DEMO_APPID, &UserConfig::default()).unwrap();
    let code = fake.login(ALICE_OPENID);
    engine.reset_all();
    assert!(!engine.has_app("wxruntime00000001"));
    assert!(engine.user(DEMO_APPID, &carol.openid).is_err());
    let alice = engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_eq!(alice.session_key, None);
    assert_eq!(engine.code_owner(DEMO_APPID, &code), None);
    assert_eq!(fake.exchange(&code).await.errcode(), 40029);
}

#[tokio::test]
async fn reset_app_restores_a_configured_app_and_removes_a_runtime_one() {
    let fake = fake();
    let engine = &fake.state.engine;
    engine.upsert_app(DEMO_APPID, "changed".into()).unwrap();
    engine.upsert_app("wxruntime00000001", "s".into()).unwrap();
    let token = engine.mint_access_token(DEMO_APPID).unwrap();
    assert!(engine.reset_app(DEMO_APPID));
    assert_eq!(
        engine.app_secret(DEMO_APPID).unwrap().expose(),
        wxmock_server::DEMO_SECRET
    );
    assert_eq!(engine.appid_of_access_token(&token), None);
    assert!(engine.reset_app("wxruntime00000001"));
    assert!(!engine.has_app("wxruntime00000001"));
    assert!(!engine.reset_app("wxnever"));
}

#[tokio::test]
async fn code_owner_peeks_without_using_the_code() {
    let fake = fake();
    let code = fake.login(BOB_OPENID);
    let engine = &fake.state.engine;
    assert_eq!(
        engine.code_owner(DEMO_APPID, &code).as_deref(),
        Some(BOB_OPENID)
    );
    assert_eq!(engine.code_owner("wxother", &code), None);
    assert_eq!(fake.exchange(&code).await.errcode(), 0);
    assert_eq!(engine.code_owner(DEMO_APPID, &code), None);
}

#[tokio::test]
async fn a_forced_rotation_kills_the_old_key_and_keeps_it_as_previous() {
    let fake = fake();
    fake.login(ALICE_OPENID);
    let (old_key, old_sig) = fake.alice_signature();
    fake.state
        .engine
        .rotate_session_key(DEMO_APPID, ALICE_OPENID)
        .unwrap();
    let user = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_ne!(user.session_key.as_deref(), Some(old_key.as_str()));
    assert_eq!(user.previous_session_key.as_deref(), Some(old_key.as_str()));
    assert!(fake
        .state
        .engine
        .check_session(DEMO_APPID, ALICE_OPENID, &old_sig)
        .is_err());
    assert!(fake
        .state
        .engine
        .rotate_session_key(DEMO_APPID, "oNobody")
        .is_err());
}

#[tokio::test]
async fn never_rotating_keeps_the_key_until_it_expires() {
    let fake = fake_with(rules(
        "session_key_rotation = \"never\"\nsession_key_ttl_secs = 1000",
    ));
    fake.login(ALICE_OPENID);
    let (first, _) = fake.alice_signature();
    fake.advance(999);
    fake.login(ALICE_OPENID);
    assert_eq!(fake.alice_signature().0, first);
    fake.advance(1);
    fake.login(ALICE_OPENID);
    assert_ne!(fake.alice_signature().0, first);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_generated_openids_after_a_reset() {
    let config = wxmock_server::Config::from_toml(
        "seed = 3\n[[apps]]\nappid = \"wxa\"\nsecret = \"s\"\n[[apps.users]]\nnickName = \"Gen\"\n",
    )
    .unwrap();
    let fake = fake_with(config);
    let before = fake.state.engine.users("wxa").unwrap()[0].openid.clone();
    assert_eq!(before.len(), 28);
    fake.state.engine.reset_all();
    assert_eq!(fake.state.engine.users("wxa").unwrap()[0].openid, before);
}

mod boundaries {
    use proptest::prelude::*;
    use wxmock_server::{AppState, Clock, Config, ALICE_OPENID, DEMO_APPID, DEMO_SECRET};

    fn state(ttl: i64) -> AppState {
        let config = Config::from_toml(&format!("[rules]\ncode_ttl_secs = {ttl}")).unwrap();
        AppState::new(&config, Clock::fixed(1_700_000_000))
    }

    proptest! {
        #[test]
        fn a_code_is_accepted_exactly_while_younger_than_its_ttl(ttl in 1i64..1000, age in 0u64..2000) {
            let state = state(ttl);
            let code = state.engine.login(DEMO_APPID, ALICE_OPENID).unwrap();
            state.clock.advance(age);
            let result = state.engine.code2session(DEMO_APPID, DEMO_SECRET, &code);
            prop_assert_eq!(result.is_ok(), (age as i64) < ttl, "{:?}", result);
            if let Err(err) = result {
                prop_assert_eq!(err.errcode, 40029);
            }
        }

        #[test]
        fn an_access_token_works_exactly_for_7200_seconds(age in 0u64..10_000) {
            let state = state(300);
            let token = state.engine.mint_access_token(DEMO_APPID).unwrap();
            state.clock.advance(age);
            match state.engine.authorize(&token) {
                Ok(appid) => prop_assert!(age < 7200 && appid == DEMO_APPID),
                Err(err) => prop_assert!(age >= 7200 && err.errcode == 42001),
            }
        }
    }
}
