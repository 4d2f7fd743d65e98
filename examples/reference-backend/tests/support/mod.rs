//! A wiremock WeChat and a reference backend pointed at it, plus small request helpers.
//! Each test gets its own pair on ephemeral ports.
#![allow(dead_code)]

use std::time::Duration;

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wxmock_reference_backend::{start, Config, Defect, RunningBackend};

/// The official WXBizDataCrypt vector (docs/wechat-api.md 7.1).
pub const APPID: &str = "wx4f4bc4dec97d474b";
pub const SESSION_KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
pub const OPENID: &str = "oGZUI0egBJY1zhBYw2KhdUfwVJJE";
pub const VECTOR_IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
pub const VECTOR_DATA: &str = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==";
pub const VECTOR_PLAINTEXT: &str = r#"{"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0","unionId":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}}"#;
pub const SECRET: &str = "test-app-secret-0123456789abcdef";
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_millis(400);

pub struct Setup {
    pub wechat: MockServer,
    pub backend: RunningBackend,
    pub http: reqwest::Client,
}

/// A backend with `defects` in front of a wiremock WeChat with no mocks yet.
pub async fn setup(defects: &[Defect]) -> Setup {
    setup_with(defects, |_| {}).await
}

/// [`setup`], with the configuration changed by `change` before the backend starts.
pub async fn setup_with(defects: &[Defect], change: impl FnOnce(&mut Config)) -> Setup {
    let wechat = MockServer::start().await;
    let mut config = Config::new(wechat.uri(), APPID, SECRET);
    config.upstream_timeout = UPSTREAM_TIMEOUT;
    config.defects = defects.iter().copied().collect();
    change(&mut config);
    let backend = start(config).await.expect("backend starts");
    Setup {
        wechat,
        backend,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

/// jscode2session answers `body` (as WeChat does: HTTP 200, text/plain) for `code`.
pub async fn mount_jscode(wechat: &MockServer, code: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .and(query_param("js_code", code))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_string(), "text/plain"))
        .mount(wechat)
        .await;
}

/// `code` logs in `openid` with `session_key`.
pub async fn mount_user(wechat: &MockServer, code: &str, openid: &str, session_key: &str) {
    mount_jscode(
        wechat,
        code,
        json!({ "session_key": session_key, "openid": openid }),
    )
    .await;
}

/// `/cgi-bin/token` hands out `token` for 7200 s.
pub async fn mount_access_token(wechat: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/cgi-bin/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "access_token": token, "expires_in": 7200 })),
        )
        .mount(wechat)
        .await;
}

/// getuserphonenumber resolves any code to +86 13800138000 for `token`.
pub async fn mount_phone(wechat: &MockServer, token: &str) {
    Mock::given(method("POST"))
        .and(path("/wxa/business/getuserphonenumber"))
        .and(query_param("access_token", token))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "errcode": 0, "errmsg": "ok",
            "phone_info": {
                "phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86",
                "watermark": { "timestamp": 1637744274, "appid": APPID }
            }
        })))
        .mount(wechat)
        .await;
}

impl Setup {
    pub fn url(&self, p: &str) -> String {
        format!("{}{}", self.backend.base_url(), p)
    }

    pub async fn login(&self, code: &str) -> (StatusCode, Value) {
        self.post("/api/login", None, json!({ "code": code })).await
    }

    /// Logs in `openid` with `session_key` through a fresh code; returns the token.
    pub async fn login_as(&self, code: &str, openid: &str, session_key: &str) -> String {
        mount_user(&self.wechat, code, openid, session_key).await;
        let (status, body) = self.login(code).await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn get(&self, p: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.get(self.url(p));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.expect("backend answers")).await
    }

    pub async fn post(&self, p: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.post(self.url(p)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.expect("backend answers")).await
    }

    /// The requests WeChat received on `p`.
    pub async fn calls(&self, p: &str) -> Vec<wiremock::Request> {
        self.wechat
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == p)
            .collect()
    }
}

/// Status and body (JSON, or the text as a JSON string).
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The JSON payload of a JWT, without checking anything.
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("jwt has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// An HS256 JWT with `claims`, signed with `key`.
pub fn mint(claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// WXBizDataCrypt encryption of `plaintext` under `session_key`: (encryptedData, iv).
pub fn encrypt(session_key: &str, plaintext: &str) -> (String, String) {
    let key: [u8; 16] = STANDARD.decode(session_key).unwrap().try_into().unwrap();
    let iv = [0x5au8; 16];
    let ciphertext = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext.as_bytes());
    (STANDARD.encode(ciphertext), STANDARD.encode(iv))
}

/// A userInfo plaintext with `nick_name` and the watermark of `appid`.
pub fn user_info(nick_name: &str, appid: &str) -> String {
    json!({
        "openId": OPENID, "nickName": nick_name, "gender": 0, "language": "", "city": "",
        "province": "", "country": "", "avatarUrl": "",
        "watermark": { "timestamp": 1700000000, "appid": appid }
    })
    .to_string()
}

/// A TCP server that accepts connections and drops them without answering, as a reset does.
pub async fn resetting_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            drop(stream);
        }
    });
    format!("http://{addr}")
}

/// A WeChat that drops the first `resets` connections without answering, then answers every
/// request with `body` (HTTP 200, text/plain, connection closed after each answer).
pub async fn flaky_wechat(resets: usize, body: Value) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = body.to_string();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            seen += 1;
            if seen <= resets {
                drop(stream);
                continue;
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                body
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    format!("http://{addr}")
}

/// A backend with `defects` whose phone lookups work with access token `AT-1`, and a logged-in
/// user's token.
pub async fn phone_setup(defects: &[Defect]) -> (Setup, String) {
    let s = setup(defects).await;
    mount_access_token(&s.wechat, "AT-1").await;
    mount_phone(&s.wechat, "AT-1").await;
    let token = s.login_as("c", OPENID, SESSION_KEY).await;
    (s, token)
}
