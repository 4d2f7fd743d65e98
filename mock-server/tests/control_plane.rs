//! The control plane through `app(state).oneshot`: fault actions and scopes, sequences,
//! probabilities, magic codes, scenarios, the journal, resets and malformed input.

mod control_plane_support;

use std::time::{Duration, Instant};

use control_plane_support::{fake, fake_with, Fake, OTHER_APPID, START};
use serde_json::{json, Value};
use wxmock_server::{Config, ALICE_OPENID, BOB_OPENID, DEMO_APPID};

const JSCODE2SESSION: &str = "/sns/jscode2session";

fn checksession_uri(fake: &Fake, token: &str) -> String {
    let user = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    let sig = wxmock_fixtures::signature::login_state_signature(&user.session_key.unwrap(), "");
    format!("/wxa/checksession?access_token={token}&openid={ALICE_OPENID}&signature={sig}&sig_method=hmac_sha256")
}

// ---- actions ----

#[tokio::test]
async fn an_errcode_fault_answers_wechats_envelope_with_the_default_text() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "errcode": -1}))
        .await;
    let answer = fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/plain");
    assert_eq!(answer.errcode(), -1);
    let errmsg = answer.json()["errmsg"].as_str().unwrap().to_owned();
    assert!(errmsg.starts_with("system error rid: "), "{errmsg}");
}

#[tokio::test]
async fn an_errcode_fault_can_carry_its_own_text() {
    let fake = fake();
    fake.fault(
        json!({"path": JSCODE2SESSION, "errcode": 40029, "errmsg": "invalid code hint: [x]"}),
    )
    .await;
    let answer = fake.exchange("whatever").await;
    assert!(answer.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("invalid code hint: [x], rid: "));
}

#[tokio::test]
async fn an_http_status_fault_answers_a_gateway_html_page() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "fault": "http_status", "status": 502}))
        .await;
    let answer = fake.exchange("c").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.content_type, "text/html");
    assert!(answer.text().contains("<title>502 Bad Gateway</title>"));
    assert!(answer.text().contains("nginx"));
}

#[tokio::test]
async fn an_http_status_fault_can_carry_its_own_body() {
    let fake = fake();
    fake.fault(
        json!({"path": "/cgi-bin/token", "fault": "http_status", "status": 503, "body": "busy"}),
    )
    .await;
    let answer = fake
        .get("/cgi-bin/token?grant_type=client_credential")
        .await;
    assert_eq!((answer.status, answer.text().as_str()), (503, "busy"));
}

#[tokio::test]
async fn a_garbage_fault_answers_200_with_bytes_that_are_not_json() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "fault": "garbage"}))
        .await;
    let answer = fake.exchange("c").await;
    assert_eq!(answer.status, 200);
    assert!(!answer.bytes.is_empty());
    assert!(serde_json::from_slice::<Value>(&answer.bytes).is_err());
}

#[tokio::test]
async fn an_empty_fault_answers_200_with_no_body() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "fault": "empty"}))
        .await;
    let answer = fake.exchange("c").await;
    assert_eq!((answer.status, answer.bytes.len()), (200, 0));
}

#[tokio::test]
async fn a_content_type_fault_gives_the_normal_answer_under_another_type() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "fault": "content_type", "content_type": "text/html; charset=gbk"}))
        .await;
    let answer = fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    assert_eq!(answer.content_type, "text/html; charset=gbk");
    assert_eq!(answer.json()["openid"], ALICE_OPENID);
}

#[tokio::test]
async fn a_delay_fault_gives_the_normal_answer_late() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "fault": "delay", "delay_ms": 60}))
        .await;
    let code = fake.login(DEMO_APPID, ALICE_OPENID);
    let started = Instant::now();
    let answer = fake.exchange(&code).await;
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(answer.json()["openid"], ALICE_OPENID);
}

// ---- how often ----

#[tokio::test]
async fn minus_one_twice_then_success_with_the_same_code() {
    let fake = fake();
    fake.fault(json!({
        "path": JSCODE2SESSION,
        "sequence": [{"errcode": -1}, {"errcode": -1}, "normal"]
    }))
    .await;
    let code = fake.login(DEMO_APPID, ALICE_OPENID);
    assert_eq!(fake.exchange(&code).await.errcode(), -1);
    assert_eq!(fake.exchange(&code).await.errcode(), -1);
    let third = fake.exchange(&code).await;
    assert_eq!(third.json()["openid"], ALICE_OPENID, "{}", third.text());
    // The sequence is over: the rule is gone and the code is now used.
    assert!(fake.faults("").await.is_empty());
    assert_eq!(fake.exchange(&code).await.errcode(), 40163);
}

#[tokio::test]
async fn times_limits_a_rule_to_the_next_n_calls() {
    let fake = fake();
    let rule = fake
        .fault(json!({"path": JSCODE2SESSION, "errcode": 45011, "times": 2}))
        .await;
    assert_eq!(rule["id"], "f-1");
    assert_eq!(rule["remaining"], 2);
    assert_eq!(fake.exchange("a").await.errcode(), 45011);
    assert_eq!(fake.faults("").await[0]["remaining"], 1);
    assert_eq!(fake.exchange("a").await.errcode(), 45011);
    assert_eq!(fake.exchange("a").await.errcode(), 40029);
}

#[tokio::test]
async fn a_rule_without_a_count_applies_until_removed() {
    let fake = fake();
    let rule = fake
        .fault(json!({"path": JSCODE2SESSION, "errcode": -1}))
        .await;
    for _ in 0..5 {
        assert_eq!(fake.exchange("a").await.errcode(), -1);
    }
    let id = rule["id"].as_str().unwrap();
    assert_eq!(fake.faults("").await[0]["hits"], 5);
    assert_eq!(
        fake.delete(&format!("/__admin/faults/{id}")).await.status,
        200
    );
    assert_eq!(fake.exchange("a").await.errcode(), 40029);
    assert_eq!(
        fake.delete(&format!("/__admin/faults/{id}")).await.status,
        404
    );
}

#[tokio::test]
async fn the_same_seed_hits_the_same_calls_on_two_fakes() {
    async fn pattern(seed: u64) -> Vec<i64> {
        let fake = fake();
        fake.fault(
            json!({"path": JSCODE2SESSION, "errcode": -1, "probability": 0.5, "seed": seed}),
        )
        .await;
        let mut seen = Vec::new();
        for _ in 0..40 {
            seen.push(fake.exchange("not-a-code").await.errcode());
        }
        seen
    }
    let first = pattern(42).await;
    assert_eq!(first, pattern(42).await);
    assert!(first.contains(&-1) && first.contains(&40029), "{first:?}");
    assert_ne!(first, pattern(43).await);
}

#[tokio::test]
async fn the_first_installed_matching_rule_answers() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "errcode": 45011, "times": 1}))
        .await;
    fake.fault(json!({"path": JSCODE2SESSION, "errcode": -1, "times": 1}))
        .await;
    assert_eq!(fake.exchange("a").await.errcode(), 45011);
    assert_eq!(fake.exchange("a").await.errcode(), -1);
}

// ---- scopes ----

#[tokio::test]
async fn a_rule_naming_an_app_leaves_other_apps_alone() {
    let fake = fake();
    fake.add_app();
    fake.fault(json!({"path": JSCODE2SESSION, "appid": OTHER_APPID, "errcode": -1}))
        .await;
    let code = fake.login(DEMO_APPID, ALICE_OPENID);
    assert_eq!(fake.exchange(&code).await.json()["openid"], ALICE_OPENID);
    assert_eq!(fake.exchange_for(OTHER_APPID, "x").await.errcode(), -1);
}

#[tokio::test]
async fn a_rule_naming_a_user_hits_only_that_users_codes() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "openid": BOB_OPENID, "errcode": 40226}))
        .await;
    let alice = fake.login(DEMO_APPID, ALICE_OPENID);
    let bob = fake.login(DEMO_APPID, BOB_OPENID);
    assert_eq!(fake.exchange(&alice).await.json()["openid"], ALICE_OPENID);
    assert_eq!(fake.exchange(&bob).await.errcode(), 40226);
}

#[tokio::test]
async fn a_rule_naming_a_code_hits_only_that_code() {
    let fake = fake();
    let first = fake.login(DEMO_APPID, ALICE_OPENID);
    let second = fake.login(DEMO_APPID, BOB_OPENID);
    fake.fault(json!({"path": JSCODE2SESSION, "js_code": second, "errcode": -1}))
        .await;
    assert_eq!(fake.exchange(&first).await.errcode(), 0);
    assert_eq!(fake.exchange(&second).await.errcode(), -1);
}

#[tokio::test]
async fn an_access_token_names_its_app_for_fault_rules() {
    let fake = fake();
    fake.add_app();
    fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    let token = fake.state.engine.mint_access_token(DEMO_APPID).unwrap();
    let other_token = fake.state.engine.mint_access_token(OTHER_APPID).unwrap();
    fake.fault(json!({"path": "/wxa/checksession", "appid": DEMO_APPID, "errcode": 45011}))
        .await;
    let answer = fake.get(&checksession_uri(&fake, &token)).await;
    assert_eq!(answer.errcode(), 45011);
    assert_eq!(answer.content_type, "application/json; encoding=utf-8");
    let other = fake.get(&checksession_uri(&fake, &other_token)).await;
    assert_ne!(other.errcode(), 45011, "{}", other.text());
}

#[tokio::test]
async fn a_json_body_names_its_app_for_fault_rules() {
    let fake = fake();
    fake.fault(json!({"path": "/cgi-bin/stable_token", "appid": DEMO_APPID, "errcode": -1}))
        .await;
    let answer = fake
        .post(
            "/cgi-bin/stable_token",
            json!({"grant_type": "client_credential", "appid": DEMO_APPID, "secret": "x"}),
        )
        .await;
    assert_eq!(answer.errcode(), -1);
    let other = fake
        .post(
            "/cgi-bin/stable_token",
            json!({"grant_type": "client_credential", "appid": OTHER_APPID, "secret": "x"}),
        )
        .await;
    assert_ne!(other.errcode(), -1);
}

// ---- magic codes ----

#[tokio::test]
async fn a_magic_code_answers_its_errcode_without_any_setup() {
    let fake = fake();
    let answer = fake.exchange("wxmock-err-40226").await;
    assert_eq!(answer.errcode(), 40226);
    assert!(answer.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("code blocked, rid: "));
    let journal = fake.journal("").await;
    assert_eq!(journal[0]["fault"], "magic-code");
}

#[tokio::test]
async fn a_magic_code_with_an_unknown_number_gets_the_generic_text() {
    let fake = fake();
    let answer = fake.exchange("wxmock-err-12345").await;
    assert_eq!(answer.errcode(), 12345);
    assert!(answer.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("error rid: "));
}

#[tokio::test]
async fn a_magic_prefix_without_a_number_is_just_an_invalid_code() {
    let fake = fake();
    assert_eq!(fake.exchange("wxmock-err-busy").await.errcode(), 40029);
}

// ---- the faults API ----

#[tokio::test]
async fn faults_are_listed_and_cleared_per_app() {
    let fake = fake();
    fake.add_app();
    fake.fault(json!({"path": JSCODE2SESSION, "appid": DEMO_APPID, "errcode": -1}))
        .await;
    fake.fault(json!({"path": JSCODE2SESSION, "appid": OTHER_APPID, "errcode": -1}))
        .await;
    fake.fault(json!({"path": JSCODE2SESSION, "errcode": -1}))
        .await;
    assert_eq!(fake.faults("").await.len(), 3);
    let mine = fake.faults(&format!("?appid={DEMO_APPID}")).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], "f-1");
    let cleared = fake
        .delete(&format!("/__admin/faults?appid={OTHER_APPID}"))
        .await;
    assert_eq!(cleared.json()["removed"], 1);
    assert_eq!(fake.faults("").await.len(), 2);
    assert_eq!(fake.delete("/__admin/faults").await.json()["removed"], 2);
    assert!(fake.faults("").await.is_empty());
}

#[tokio::test]
async fn malformed_fault_rules_are_refused_with_a_reason_and_change_nothing() {
    let fake = fake();
    for (body, needle) in [
        ("{not json", "invalid JSON"),
        (
            r#"{"path":"/sns/jscode2session","errcode":-1,"tiems":2}"#,
            "tiems",
        ),
        (r#"{"errcode":-1}"#, "path"),
        (r#"{"path":"/sns/jscode2session"}"#, "needs an action"),
        (
            r#"{"path":"/sns/jscode2session","fault":"explode"}"#,
            "explode",
        ),
        (
            r#"{"path":"/sns/jscode2session","errcode":"-1"}"#,
            "invalid",
        ),
        (
            r#"{"path":"/sns/jscode2session","errcode":-1,"probability":1.5}"#,
            "between 0 and 1",
        ),
        (
            r#"{"path":"/sns/jscode2session","sequence":[{"errcode":-1},"later"]}"#,
            "sequence[1]",
        ),
        (r#"[1,2]"#, "object"),
    ] {
        let answer = fake.post_raw("/__admin/faults", body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text());
        let error = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(needle), "{body}: {error}");
    }
    assert!(fake.faults("").await.is_empty());
    let bad_query = fake.get("/__admin/journal?since=yesterday").await;
    assert_eq!(bad_query.status, 400);
    assert!(bad_query.json()["error"].is_string());
}

// ---- scenarios ----

#[tokio::test]
async fn scenarios_are_listed_with_what_they_reproduce() {
    let fake = fake();
    let answer = fake.get("/__admin/scenarios").await;
    let list = answer.json()["scenarios"].as_array().unwrap().clone();
    assert_eq!(list.len(), 13);
    for item in &list {
        assert!(!item["description"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn each_code_scenario_answers_its_errcode_once_and_keeps_the_code_redeemable() {
    for (name, errcode) in [
        ("invalid-code", 40029),
        ("code-reused", 40163),
        ("wechat-busy", -1),
        ("rate-limited", 45011),
        ("high-risk", 40226),
    ] {
        let fake = fake();
        let answer = fake.scenario(name, json!({"appid": DEMO_APPID})).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.text());
        assert_eq!(answer.json()["scenario"], name);
        assert_eq!(answer.json()["applied"]["fault"]["times"], 1);
        let code = fake.login(DEMO_APPID, ALICE_OPENID);
        assert_eq!(fake.exchange(&code).await.errcode(), errcode, "{name}");
        assert_eq!(fake.exchange(&code).await.errcode(), 0, "{name}");
    }
}

#[tokio::test]
async fn the_broken_transport_scenarios_install_their_faults() {
    let fake = fake();
    let slow = fake
        .scenario("slow-wechat", json!({"appid": DEMO_APPID, "delay_ms": 10}))
        .await;
    assert_eq!(slow.json()["applied"]["fault"]["fault"], "delay");
    let garbage = fake
        .scenario(
            "garbage-body",
            json!({"appid": DEMO_APPID, "path": "/cgi-bin/token"}),
        )
        .await;
    assert_eq!(garbage.json()["applied"]["fault"]["path"], "/cgi-bin/token");
    let reset = fake
        .scenario("connection-reset", json!({"appid": DEMO_APPID, "times": 3}))
        .await;
    assert_eq!(reset.json()["applied"]["fault"]["fault"], "reset");
    assert_eq!(reset.json()["applied"]["fault"]["remaining"], 3);
    assert_eq!(fake.faults("").await.len(), 3);
}

#[tokio::test]
async fn the_errcode_zero_scenario_adds_errcode_0_to_the_next_success_only() {
    let fake = fake();
    let answer = fake
        .scenario("errcode-zero", json!({"appid": DEMO_APPID}))
        .await;
    assert_eq!(answer.json()["applied"]["fault"]["fault"], "errcode_zero");
    let first = fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    assert_eq!(first.content_type, "text/plain");
    let body = first.json();
    assert_eq!(
        (body["errcode"].clone(), body["errmsg"].clone()),
        (json!(0), json!("ok"))
    );
    assert!(
        body["session_key"].is_string() && body["openid"] == ALICE_OPENID,
        "{body}"
    );
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.last().unwrap().as_str(),
        "errmsg",
        "appended after the session fields"
    );
    let second = fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
    assert!(second.json().get("errcode").is_none(), "{}", second.text());
}

#[tokio::test]
async fn an_errcode_zero_fault_leaves_an_error_answer_alone() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "fault": "errcode_zero", "times": 1}))
        .await;
    let answer = fake.exchange("not-a-code").await;
    assert_ne!(answer.errcode(), 0, "{}", answer.text());
    assert!(answer.json()["errmsg"].as_str().unwrap() != "ok");
}

#[tokio::test]
async fn the_wire_switch_adds_errcode_0_to_every_success() {
    let mut config = Config::default();
    config.wire.success_errcode = true;
    let fake = fake_with(config);
    for _ in 0..2 {
        let body = fake
            .exchange(&fake.login(DEMO_APPID, ALICE_OPENID))
            .await
            .json();
        assert_eq!(
            (body["errcode"].clone(), body["errmsg"].clone()),
            (json!(0), json!("ok"))
        );
    }
    let bad = fake.exchange("not-a-code").await;
    assert_eq!(bad.errcode(), 40029, "{}", bad.text());
}

#[tokio::test]
async fn session_expired_rotates_the_users_session_key_now() {
    let fake = fake();
    let code = fake.login(DEMO_APPID, ALICE_OPENID);
    fake.exchange(&code).await;
    let before = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    let answer = fake
        .scenario(
            "session-expired",
            json!({"appid": DEMO_APPID, "openid": ALICE_OPENID}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let after = fake.state.engine.user(DEMO_APPID, ALICE_OPENID).unwrap();
    assert_ne!(before.session_key, after.session_key);
    let missing = fake
        .scenario("session-expired", json!({"appid": DEMO_APPID}))
        .await;
    assert_eq!(missing.status, 400);
    assert!(missing.json()["error"].as_str().unwrap().contains("openid"));
}

#[tokio::test]
async fn access_token_scenarios_answer_42001_and_40001() {
    for (name, errcode) in [
        ("access-token-expired", 42001),
        ("access-token-superseded", 40001),
    ] {
        let fake = fake();
        fake.exchange(&fake.login(DEMO_APPID, ALICE_OPENID)).await;
        let token = fake.state.engine.mint_access_token(DEMO_APPID).unwrap();
        assert_eq!(
            fake.get(&checksession_uri(&fake, &token)).await.errcode(),
            0
        );
        let answer = fake.scenario(name, json!({"appid": DEMO_APPID})).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let after = fake.get(&checksession_uri(&fake, &token)).await;
        assert_eq!(after.errcode(), errcode, "{name}: {}", after.text());
    }
}

#[tokio::test]
async fn scenarios_refuse_unknown_names_apps_and_misplaced_fields() {
    let fake = fake();
    let unknown = fake
        .scenario("sunny-day", json!({"appid": DEMO_APPID}))
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"]
        .as_str()
        .unwrap()
        .contains("wechat-busy"));
    assert_eq!(
        fake.scenario("wechat-busy", json!({"appid": "wxnobody"}))
            .await
            .status,
        404
    );
    assert_eq!(
        fake.scenario(
            "access-token-expired",
            json!({"appid": DEMO_APPID, "times": 2})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        fake.scenario("wechat-busy", json!({"appid": DEMO_APPID, "delay_ms": 2}))
            .await
            .status,
        400
    );
    // Without an appid only when one app exists (see one_app.rs): with two it is required.
    fake.add_app();
    assert_eq!(fake.scenario("wechat-busy", json!({})).await.status, 400);
    assert!(fake.faults("").await.is_empty());
}

// ---- the journal ----

#[tokio::test]
async fn the_journal_records_request_and_answer_with_the_app() {
    let fake = fake();
    let rule = fake
        .fault(json!({"path": JSCODE2SESSION, "errcode": -1, "times": 1}))
        .await;
    fake.exchange("a%2Bb").await;
    let entries = fake.journal("").await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["path"], JSCODE2SESSION);
    assert_eq!(entry["query"]["js_code"], "a+b");
    assert_eq!(entry["query"]["appid"], DEMO_APPID);
    assert_eq!(entry["time"], START);
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["appid"], DEMO_APPID);
    assert_eq!(entry["fault"], rule["id"]);
    let answered: Value = serde_json::from_str(entry["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(answered["errcode"], -1);
}

#[tokio::test]
async fn the_journal_keeps_post_bodies_and_files_token_calls_under_their_app() {
    let fake = fake();
    let token = fake.state.engine.mint_access_token(DEMO_APPID).unwrap();
    fake.post(
        &format!("/wxa/business/getuserphonenumber?access_token={token}"),
        json!({"code": "nope"}),
    )
    .await;
    let entry = &fake.journal("").await[0];
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["body"], r#"{"code":"nope"}"#);
    assert_eq!(entry["appid"], DEMO_APPID);
    assert!(entry["fault"].is_null());
}

#[tokio::test]
async fn the_journal_filters_by_path_app_and_since() {
    let fake = fake();
    fake.add_app();
    fake.exchange("a").await;
    fake.exchange_for(OTHER_APPID, "b").await;
    fake.get("/cgi-bin/token?grant_type=client_credential&appid=wx0ther00000000001&secret=x")
        .await;
    fake.exchange("c").await;
    assert_eq!(fake.journal("").await.len(), 4);
    assert_eq!(fake.journal("?path=/sns/jscode2session").await.len(), 3);
    let other = fake.journal(&format!("?appid={OTHER_APPID}")).await;
    assert_eq!(other.len(), 2);
    let combined = fake
        .journal(&format!("?appid={OTHER_APPID}&path=/cgi-bin/token"))
        .await;
    assert_eq!(combined.len(), 1);
    let since = fake.journal("?since=2").await;
    let ids: Vec<u64> = since.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![3, 4]);
    let last = fake.get("/__admin/journal").await.json()["last_id"].clone();
    assert_eq!(last, 4);
}

#[tokio::test]
async fn the_journal_is_bounded_and_drops_the_oldest() {
    let fake = fake_with(Config {
        journal_capacity: Some(3),
        ..Config::default()
    });
    for i in 0..5 {
        fake.exchange(&format!("code-{i}")).await;
    }
    let entries = fake.journal("").await;
    let codes: Vec<&str> = entries
        .iter()
        .map(|e| e["query"]["js_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["code-2", "code-3", "code-4"]);
}

#[tokio::test]
async fn the_journal_is_cleared_whole_or_per_app() {
    let fake = fake();
    fake.add_app();
    fake.exchange("a").await;
    fake.exchange_for(OTHER_APPID, "b").await;
    let cleared = fake
        .delete(&format!("/__admin/journal?appid={OTHER_APPID}"))
        .await;
    assert_eq!(cleared.json()["removed"], 1);
    assert_eq!(fake.journal("").await.len(), 1);
    fake.delete("/__admin/journal").await;
    assert!(fake.journal("").await.is_empty());
    // Ids keep counting, so a reader's `since` stays meaningful.
    fake.exchange("c").await;
    assert_eq!(fake.journal("").await[0]["id"], 3);
}

#[tokio::test]
async fn control_api_calls_are_not_journaled() {
    let fake = fake();
    fake.get("/__admin/faults").await;
    fake.get("/__admin/journal").await;
    assert!(fake.journal("").await.is_empty());
}

// ---- resets ----

#[tokio::test]
async fn a_full_reset_clears_faults_journal_codes_and_clock() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "errcode": -1}))
        .await;
    let code = fake.login(DEMO_APPID, ALICE_OPENID);
    fake.exchange("x").await;
    fake.state.clock.advance(600);
    let answer = fake.post("/__admin/reset", json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["faults_removed"], 1);
    assert!(fake.faults("").await.is_empty());
    assert!(fake.journal("").await.is_empty());
    assert_eq!(fake.state.clock.now(), START);
    // Codes minted before the reset are gone.
    assert_eq!(fake.exchange(&code).await.errcode(), 40029);
}

#[tokio::test]
async fn a_tenant_reset_leaves_the_other_tenants_alone() {
    let fake = fake();
    fake.add_app();
    fake.fault(json!({"path": JSCODE2SESSION, "appid": DEMO_APPID, "errcode": -1}))
        .await;
    fake.fault(json!({"path": JSCODE2SESSION, "appid": OTHER_APPID, "errcode": -1}))
        .await;
    fake.exchange("a").await;
    fake.exchange_for(OTHER_APPID, "b").await;
    let code = fake.login(DEMO_APPID, ALICE_OPENID);
    fake.state.clock.advance(10);

    let answer = fake
        .post(&format!("/__admin/apps/{DEMO_APPID}/reset"), json!({}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["faults_removed"], 1);
    assert_eq!(answer.json()["journal_entries_removed"], 1);
    let faults = fake.faults("").await;
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0]["appid"], OTHER_APPID);
    let journal = fake.journal("").await;
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0]["appid"], OTHER_APPID);
    assert_eq!(fake.state.clock.now(), START + 10);
    assert_eq!(fake.exchange(&code).await.errcode(), 40029);
}

#[tokio::test]
async fn resetting_an_unknown_app_is_404_and_changes_nothing() {
    let fake = fake();
    fake.fault(json!({"path": JSCODE2SESSION, "appid": "wxnobody", "errcode": -1}))
        .await;
    let answer = fake.post("/__admin/apps/wxnobody/reset", json!({})).await;
    assert_eq!(answer.status, 404);
    assert!(answer.json()["error"]
        .as_str()
        .unwrap()
        .contains("wxnobody"));
    assert_eq!(fake.faults("").await.len(), 1);
}

#[tokio::test]
async fn a_fault_can_target_a_path_the_fake_does_not_serve() {
    let fake = fake();
    assert_eq!(fake.get("/wxa/getpaidunionid").await.errcode(), 40066);
    fake.fault(json!({"path": "/wxa/getpaidunionid", "errcode": 89300}))
        .await;
    assert_eq!(fake.get("/wxa/getpaidunionid").await.errcode(), 89300);
}
