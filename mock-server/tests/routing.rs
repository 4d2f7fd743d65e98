//! What any path or method outside the API gets: always WeChat's envelope, never axum's text.

mod support;

use support::fake;

#[tokio::test]
async fn an_unknown_path_answers_40066_with_http_200() {
    let fake = fake();
    let answer = fake.get("/cgi-bin/nothing").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.errcode(), 40066);
    assert!(answer.errmsg().starts_with("invalid url, rid: "));
}

#[tokio::test]
async fn paths_are_case_sensitive() {
    let fake = fake();
    assert_eq!(fake.get("/sns/jsCode2Session").await.errcode(), 40066);
    assert_eq!(fake.get("/sns/jscode2session/").await.errcode(), 40066);
}

#[tokio::test]
async fn unknown_paths_answer_in_their_familys_content_type() {
    let fake = fake();
    assert_eq!(fake.get("/sns/other").await.content_type, "text/plain");
    assert_eq!(
        fake.get("/wxa/other").await.content_type,
        "application/json; encoding=utf-8"
    );
}

#[tokio::test]
async fn a_get_on_a_post_only_api_answers_43002() {
    let fake = fake();
    let answer = fake.get("/cgi-bin/stable_token").await;
    assert_eq!(answer.errcode(), 43002);
    assert!(answer.errmsg().starts_with("require POST method rid: "));
    let put = axum::http::Request::put("/wxa/business/getuserphonenumber")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(fake.send(put).await.errcode(), 43002);
}

#[tokio::test]
async fn content_types_and_rid_are_switchable() {
    let config = wxmock_server::Config::from_toml(
        "[wire]\nsns_content_type = \"application/json\"\nrid = false",
    )
    .unwrap();
    let fake = support::fake_with(config);
    let answer = fake.exchange("unknown").await;
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.text, r#"{"errcode":40029,"errmsg":"invalid code"}"#);
}

#[tokio::test]
async fn an_unknown_control_api_path_is_a_json_404() {
    let fake = fake();
    let answer = fake.get("/__admin/nothing-here").await;
    assert_eq!(answer.status, 404);
    assert!(answer.json()["error"]
        .as_str()
        .unwrap()
        .contains("/__admin/nothing-here"));
}

#[tokio::test]
async fn a_wrong_method_on_the_control_api_is_a_json_405() {
    let fake = fake();
    let answer = fake
        .send(
            axum::http::Request::delete("/__admin/health")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, 405);
    assert!(answer.json()["error"]
        .as_str()
        .unwrap()
        .contains("/__admin/health"));
}
