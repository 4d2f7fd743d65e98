//! No dead ends with one's own AppID: an app without users has the personas (so
//! `wxmock-as-alice` and `unknown_code_user = "alice"` work), and with one app the control API
//! needs no `appid`.

mod control_plane_support;

use control_plane_support::{fake, fake_with, Fake};
use serde_json::json;
use wxmock_server::{Config, ALICE_OPENID, BOB_OPENID};

const OWN: &str = "wx0wnApp0000000001";
const OWN_SECRET: &str = "own-secret-from-my-file";

fn own_app(extra: &str) -> Fake {
    fake_with(
        Config::from_toml(&format!(
            "{extra}\n[[apps]]\nappid = '{OWN}'\nsecret = '{OWN_SECRET}'\n"
        ))
        .unwrap(),
    )
}

async fn exchange(fake: &Fake, code: &str) -> serde_json::Value {
    fake.get(&format!(
        "/sns/jscode2session?appid={OWN}&secret={OWN_SECRET}&js_code={code}&grant_type=authorization_code"
    ))
    .await
    .json()
}

#[tokio::test]
async fn an_own_app_without_users_has_the_personas_and_their_magic_codes_work() {
    let fake = own_app("");
    let users = fake.get(&format!("/__admin/apps/{OWN}/users")).await.json();
    let openids: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["openid"].as_str().unwrap())
        .collect();
    assert!(
        openids.contains(&ALICE_OPENID) && openids.contains(&BOB_OPENID),
        "{openids:?}"
    );
    assert_eq!(
        exchange(&fake, "wxmock-as-alice").await["openid"],
        ALICE_OPENID
    );
    assert_eq!(exchange(&fake, "wxmock-as-mallory").await["errcode"], 40226);
}

#[tokio::test]
async fn unknown_code_user_adopts_real_codes_in_an_own_app() {
    let fake = own_app("[rules]\nunknown_code_user = 'bob'");
    let real = "0c3Xyz000aBcDeF1gHiJkL2mNoPq3rSt";
    assert_eq!(exchange(&fake, real).await["openid"], BOB_OPENID);
    assert_eq!(
        exchange(&fake, real).await["errcode"],
        40163,
        "still single use"
    );
}

#[tokio::test]
async fn an_own_app_with_its_own_users_keeps_them_only() {
    let fake = fake_with(
        Config::from_toml(&format!(
            "[[apps]]\nappid = '{OWN}'\nsecret = '{OWN_SECRET}'\n[[apps.users]]\nopenid = 'oZed_ownUser000000000000001'\n"
        ))
        .unwrap(),
    );
    let users = fake.get(&format!("/__admin/apps/{OWN}/users")).await.json();
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    assert_eq!(exchange(&fake, "wxmock-as-alice").await["errcode"], 40029);
    assert_eq!(
        exchange(&fake, "wxmock-as-oZed_ownUser000000000000001").await["openid"],
        "oZed_ownUser000000000000001"
    );
}

#[tokio::test]
async fn with_one_app_control_api_calls_may_leave_out_the_appid() {
    let fake = own_app("");
    let login = fake
        .post("/__admin/login", json!({"openid": ALICE_OPENID}))
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let code = login.json()["code"].as_str().unwrap().to_owned();
    let phone = fake
        .post("/__admin/phone-code", json!({"openid": ALICE_OPENID}))
        .await;
    assert_eq!(phone.status, 200, "{}", phone.text());
    let busy = fake.scenario("wechat-busy", json!({})).await;
    assert_eq!(busy.status, 200, "{}", busy.text());
    assert_eq!(
        busy.json()["applied"]["fault"]["appid"],
        OWN,
        "scoped to the one app"
    );
    assert_eq!(exchange(&fake, &code).await["errcode"], -1);
    let rotated = fake
        .scenario("session-expired", json!({"openid": ALICE_OPENID}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let encrypted = fake
        .post(
            "/__admin/encrypt",
            json!({"openid": ALICE_OPENID, "kind": "userInfo"}),
        )
        .await;
    assert_eq!(encrypted.status, 200, "{}", encrypted.text());
    let created = fake
        .post("/__admin/users", json!({"nickName": "Carol"}))
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    assert_eq!(created.json()["appid"], OWN);
}

#[tokio::test]
async fn a_persona_name_stands_for_its_openid_in_control_api_calls() {
    let fake = own_app("");
    let login = fake
        .post("/__admin/login", json!({"openid": "alice"}))
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    assert_eq!(login.json()["openid"], ALICE_OPENID);
    let code = login.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(exchange(&fake, &code).await["openid"], ALICE_OPENID);
    let rotated = fake
        .scenario("session-expired", json!({"openid": "Bob"}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    assert_eq!(
        rotated.json()["applied"]["rotated_session_key"]["openid"],
        BOB_OPENID
    );
    // A user whose openid is literally a persona's name stays that user.
    fake.post("/__admin/users", json!({"openid": "mallory"}))
        .await;
    let own = fake
        .post("/__admin/login", json!({"openid": "mallory"}))
        .await;
    assert_eq!(own.json()["openid"], "mallory", "{}", own.text());
    assert_eq!(
        fake.post("/__admin/login", json!({"openid": "zed"}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn with_several_apps_the_appid_is_required_and_the_error_names_them() {
    let fake = fake();
    fake.add_app();
    for (path, body) in [
        ("/__admin/login", json!({"openid": ALICE_OPENID})),
        ("/__admin/scenarios/wechat-busy", json!({})),
        (
            "/__admin/encrypt",
            json!({"openid": ALICE_OPENID, "kind": "userInfo"}),
        ),
        ("/__admin/users", json!({})),
    ] {
        let answer = fake.post(path, body).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.text());
        let error = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("\"appid\" is required"), "{path}: {error}");
        assert!(
            error.contains(control_plane_support::OTHER_APPID),
            "{path}: {error}"
        );
    }
    assert!(fake.faults("").await.is_empty(), "nothing was installed");
}
