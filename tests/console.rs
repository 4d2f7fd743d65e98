//! The console end to end: `wxmock serve` in a real headless Chromium (WebDriver), used as a
//! frontend developer would, with a backend-like client redeeming codes beside it. Assertions
//! are on the page's DOM and, for what the page claims, on the fake itself.
//!
//! Needs `chromium` and `chromedriver` (Debian: `chromium chromium-driver`); without them the
//! test fails when `CI` is set and skips with the reason otherwise. With `WXMOCK_SCREENSHOTS=DIR`
//! it saves a PNG of each view there.

mod browser;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use browser::{tools_or_skip, Browser};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_wxmock");
const APPID: &str = "wxdeadbeef00c0ffee";
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const ALICE: &str = "oAlice_wxmockDemoPersona0001";
const BOB: &str = "oBob_wxmockDemoPersona000002";

/// `wxmock serve` on an ephemeral port, stopped on drop.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .split("listening on ")
            .nth(1)
            .unwrap()
            .to_owned();
        Self { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a login backend does with a code: one jscode2session call.
async fn redeem(client: &reqwest::Client, url: &str, code: &str) -> Value {
    let text = client
        .get(format!(
            "{url}/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code={code}&grant_type=authorization_code"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn admin(client: &reqwest::Client, url: &str, path: &str, body: Option<Value>) -> Value {
    let request = match body {
        Some(body) => client.post(format!("{url}/__admin{path}")).json(&body),
        None => client.get(format!("{url}/__admin{path}")),
    };
    request.send().await.unwrap().json().await.unwrap()
}

const TEXT_OF: &str =
    "const n = document.querySelector(arguments[0]); return n ? n.textContent : null;";

#[tokio::test]
async fn a_developer_logs_in_sees_the_exchange_breaks_it_moves_time_and_forges_data() {
    let Some((chromium, chromedriver)) = tools_or_skip("the console test") else {
        return;
    };
    let serve = Serve::start();
    let url = serve.url.clone();
    let client = reqwest::Client::new();
    let browser = Browser::start(&chromium, &chromedriver).await;

    // The home page, for a browser, points at the console.
    browser.goto(&format!("{url}/")).await;
    let link = browser
        .wait_for("the home page", "const a = document.querySelector('#console-link'); return a ? a.getAttribute('href') : null;", json!([]))
        .await;
    assert_eq!(link, "/__admin/console");
    browser.save_screenshot("0-home").await;

    // Personas: the demo app's three, alice picked first.
    browser.goto(&format!("{url}/__admin/console")).await;
    browser
        .wait_for(
            "the console to load",
            "return document.body.dataset.ready === 'true';",
            json!([]),
        )
        .await;
    let names = browser
        .js("return [...document.querySelectorAll('#persona-list .persona')].map(b => b.dataset.name);", json!([]))
        .await;
    assert_eq!(names, json!(["alice", "bob", "mallory"]));
    assert_eq!(
        browser.js(TEXT_OF, json!(["#user-openid"])).await,
        ALICE,
        "alice is shown first"
    );
    assert_eq!(
        browser.js(TEXT_OF, json!(["#user-phone"])).await,
        "13800138000"
    );

    // Log in as alice: a code, with the curl that redeems it.
    browser.click("button.persona[data-name='alice']").await;
    browser.click("#login-as").await;
    let code = browser
        .wait_for("the login code", TEXT_OF, json!(["#login-code"]))
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 32, "{code}");
    let curl = browser.js(TEXT_OF, json!(["#login-curl"])).await;
    let curl = curl.as_str().unwrap();
    assert!(
        curl.contains(&format!(
            "{url}/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code={code}"
        )),
        "{curl}"
    );
    // The session_key shown is the one the fake holds now (the login rotated it).
    let alice = admin(&client, &url, &format!("/apps/{APPID}/users/{ALICE}"), None).await;
    let key = alice["session_key"].as_str().unwrap().to_owned();
    browser
        .wait_for(
            "alice's new session_key",
            "return document.querySelector('#user-session-key').textContent === arguments[0];",
            json!([key]),
        )
        .await;
    browser.save_screenshot("1-personas").await;

    // A backend redeems it; the call shows up in the journal, answered, secrets masked.
    let session = redeem(&client, &url, &code).await;
    assert_eq!(session["openid"], ALICE, "{session}");
    let session_key = session["session_key"].as_str().unwrap().to_owned();
    browser.click("a[data-tab='journal']").await;
    let shown = "const e = document.querySelector(\".entry[data-path='/sns/jscode2session']\"); return e ? e.querySelector('.outcome').textContent : null;";
    assert_eq!(
        browser
            .wait_for("the exchange in the journal", shown, json!([]))
            .await,
        "ok"
    );
    browser
        .click(".entry[data-path='/sns/jscode2session'] summary .path")
        .await;
    let detail = browser
        .text(".entry[data-path='/sns/jscode2session'] .detail")
        .await;
    assert!(detail.contains(ALICE), "the answer names alice: {detail}");
    assert!(detail.contains("secret=***"), "{detail}");
    let page = browser
        .js("return document.body.innerText;", json!([]))
        .await;
    let page = page.as_str().unwrap();
    assert!(!page.contains(SECRET), "the appsecret is masked");
    assert!(
        !page.contains(&session_key),
        "the session_key answered is masked"
    );
    // Filtering by another user's openid hides it; by alice's shows it.
    browser.type_into("#filter-openid", BOB).await;
    browser
        .wait_for(
            "bob's filter to hide alice's exchange",
            "return document.querySelectorAll('.entry').length === 0;",
            json!([]),
        )
        .await;
    browser.type_into("#filter-openid", ALICE).await;
    browser
        .wait_for("alice's filter to show it", "return document.querySelectorAll(\".entry[data-path='/sns/jscode2session']\").length === 1;", json!([]))
        .await;
    browser.save_screenshot("2-journal").await;

    // WeChat busy, for the next two calls: the next exchange answers -1.
    browser.click("a[data-tab='faults']").await;
    browser.type_into("#fault-times", "2").await;
    browser.click("button[data-scenario='wechat-busy']").await;
    let remaining = "const r = document.querySelector('#fault-list tr .remaining'); return r ? r.textContent : null;";
    assert_eq!(
        browser
            .wait_for("the active fault", remaining, json!([]))
            .await,
        "2"
    );
    let code = admin(&client, &url, "/login", Some(json!({"openid": ALICE}))).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(redeem(&client, &url, &code).await["errcode"], -1);
    browser
        .wait_for("the remaining count to drop", "const r = document.querySelector('#fault-list tr .remaining'); return r && r.textContent === '1';", json!([]))
        .await;
    browser.save_screenshot("3-faults").await;
    browser.click("a[data-tab='journal']").await;
    browser.type_into("#filter-openid", "").await;
    browser
        .wait_for("the -1 in the journal", "const e = document.querySelector(\".entry[data-errcode='-1']\"); return e ? e.querySelector('.outcome').textContent : null;", json!([]))
        .await;
    browser
        .click(".entry[data-errcode='-1'] summary .path")
        .await;
    let answer = browser
        .text(".entry[data-errcode='-1'] .detail .answer")
        .await;
    assert!(answer.contains("\"errcode\": -1"), "{answer}");
    browser.save_screenshot("2b-journal-fault").await;
    // Remove it: the list empties and WeChat answers again.
    browser.click("a[data-tab='faults']").await;
    browser.click("#fault-list button[data-remove]").await;
    browser
        .wait_for("the fault list to empty", "return document.querySelectorAll('#fault-list tr').length === 0 && !document.querySelector('#fault-empty').hidden;", json!([]))
        .await;
    assert_eq!(
        admin(&client, &url, "/faults", None).await["faults"],
        json!([])
    );
    assert_eq!(
        redeem(&client, &url, &code).await["openid"],
        ALICE,
        "the same code works once WeChat is back"
    );

    // The clock: +2 h moves the fake's now by 7200 s.
    browser.click("a[data-tab='clock']").await;
    let before: i64 = browser
        .wait_for(
            "the clock",
            "return document.querySelector('#clock-now').dataset.now;",
            json!([]),
        )
        .await
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    browser.click("button[data-advance='7200']").await;
    browser
        .wait_for("the clock to jump", "return Number(document.querySelector('#clock-now').dataset.now) >= arguments[0] + 7200;", json!([before]))
        .await;
    assert_eq!(admin(&client, &url, "/clock", None).await["offset"], 7200);
    browser.save_screenshot("4-clock").await;

    // Encrypted data: alice's phone number under her current session_key, and a broken variant.
    browser.click("a[data-tab='data']").await;
    browser
        .js("const k = document.querySelector('#forge-kind'); k.value = 'phoneNumber'; k.dispatchEvent(new Event('change'));", json!([]))
        .await;
    browser.click("#forge button[type='submit']").await;
    let data = browser
        .wait_for(
            "the forged data",
            TEXT_OF,
            json!(["[data-field='encryptedData']"]),
        )
        .await;
    let iv = browser.js(TEXT_OF, json!(["[data-field='iv']"])).await;
    let key = admin(&client, &url, &format!("/apps/{APPID}/users/{ALICE}"), None).await
        ["session_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = wxmock_fixtures::crypt::decrypt(&key, iv.as_str().unwrap(), data.as_str().unwrap())
        .expect("the console's data decrypts under alice's current key");
    let plain: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(plain["purePhoneNumber"], "13800138000");
    assert_eq!(plain["watermark"]["appid"], APPID);
    browser
        .js("const v = document.querySelector('#forge-variant'); v.value = 'stale-session-key'; v.dispatchEvent(new Event('change'));", json!([]))
        .await;
    browser.click("#forge button[type='submit']").await;
    browser
        .wait_for("the broken variant", "const p = document.querySelector('#forge-result .hint'); return p && p.textContent.startsWith('stale-session-key');", json!([]))
        .await;
    let broken = browser
        .js(TEXT_OF, json!(["[data-field='encryptedData']"]))
        .await;
    let iv = browser.js(TEXT_OF, json!(["[data-field='iv']"])).await;
    assert!(
        wxmock_fixtures::crypt::decrypt(&key, iv.as_str().unwrap(), broken.as_str().unwrap())
            .is_err(),
        "stale-session-key does not decrypt under the current key"
    );
    browser.save_screenshot("5-data").await;

    // Creating a user from the console makes it a user of the app.
    browser.click("a[data-tab='personas']").await;
    browser.click("details.create summary").await;
    browser
        .type_into("#create-user input[name='nickName']", "Carol")
        .await;
    browser
        .type_into("#create-user input[name='phoneNumber']", "13900139000")
        .await;
    browser.click("#create-user button[type='submit']").await;
    let carol = browser
        .wait_for("the new user", "const b = document.querySelector(\"button.persona[data-name='Carol']\"); return b ? b.dataset.openid : null;", json!([]))
        .await;
    let carol = admin(
        &client,
        &url,
        &format!("/apps/{APPID}/users/{}", carol.as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(carol["phoneNumber"], "13900139000", "{carol}");

    // A second app (created at runtime, so without users) is one pick away.
    let other = admin(
        &client,
        &url,
        "/apps",
        Some(json!({"appid": "wx0ther00000000001", "secret": "s2"})),
    )
    .await;
    assert_eq!(other["appid"], "wx0ther00000000001", "{other}");
    browser.click("a[data-tab='personas']").await;
    browser
        .wait_for(
            "the new app in the picker, without a reload",
            "return document.querySelectorAll('#app option').length === 2;",
            json!([]),
        )
        .await;
    browser
        .js("const a = document.querySelector('#app'); a.value = 'wx0ther00000000001'; a.dispatchEvent(new Event('change'));", json!([]))
        .await;
    browser
        .wait_for(
            "the other app's empty user list",
            "return document.querySelector('#persona-list').textContent.includes('no users yet');",
            json!([]),
        )
        .await;
    browser
        .type_into("#create-user input[name='nickName']", "Dora")
        .await;
    browser.click("#create-user button[type='submit']").await;
    browser
        .wait_for(
            "Dora in the other app",
            "return document.querySelector(\"button.persona[data-name='Dora']\") !== null;",
            json!([]),
        )
        .await;
    let users = admin(&client, &url, "/apps/wx0ther00000000001/users", None).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
    browser.quit().await;
}

/// A page's `fetch` of `POST {target}/__admin/login` with a JSON body (so the browser sends a
/// preflight first): the code, or the browser's error.
const CROSS_ORIGIN_LOGIN: &str = "
    const [target] = arguments;
    try {
        const answer = await fetch(target + '/__admin/login', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ openid: 'alice' }),
        });
        return 'status ' + answer.status + ' ' + (await answer.text());
    } catch (e) {
        return 'refused: ' + e.message;
    }";

#[tokio::test]
async fn a_page_on_a_loopback_origin_may_call_the_control_api_and_an_unlisted_origin_may_not() {
    let Some((chromium, chromedriver)) = tools_or_skip("the browser CORS test") else {
        return;
    };
    let open = Serve::start();
    // Only an origin no page here has: the list replaces the loopback default.
    let strict = Serve::start_with(&["--cors-origin", "http://localhost:9"]);
    let browser = Browser::start(&chromium, &chromedriver).await;
    // A page on http://localhost:PORT is another origin than http://127.0.0.1:PORT.
    let page = open.url.replace("127.0.0.1", "localhost");
    browser.goto(&format!("{page}/")).await;
    browser
        .wait_for(
            "the home page",
            "return document.querySelector('#console-link') !== null;",
            json!([]),
        )
        .await;
    let allowed = browser
        .js_async(CROSS_ORIGIN_LOGIN, json!([open.url]))
        .await;
    let allowed = allowed.as_str().unwrap();
    assert!(allowed.starts_with("status 200 "), "{allowed}");
    assert!(allowed.contains(ALICE), "{allowed}");
    let refused = browser
        .js_async(CROSS_ORIGIN_LOGIN, json!([strict.url]))
        .await;
    assert!(
        refused.as_str().unwrap().starts_with("refused: "),
        "{refused}"
    );
    // Refused before the handler: no code was minted on the strict fake.
    let client = reqwest::Client::new();
    let alice = admin(
        &client,
        &strict.url,
        &format!("/apps/{APPID}/users/{ALICE}"),
        None,
    )
    .await;
    assert!(alice["session_key"].is_null(), "{alice}");
    browser.quit().await;
}

#[tokio::test]
async fn with_an_admin_token_the_console_asks_for_it_once_per_tab() {
    let Some((chromium, chromedriver)) = tools_or_skip("the console token test") else {
        return;
    };
    let token = "console-e2e-token-5f1d";
    let serve = Serve::start_with(&["--admin-token", token]);
    let browser = Browser::start(&chromium, &chromedriver).await;
    browser
        .goto(&format!("{}/__admin/console", serve.url))
        .await;
    browser
        .wait_for(
            "the token prompt",
            "return !document.querySelector('#token-form').hidden;",
            json!([]),
        )
        .await;
    browser.save_screenshot("6-token").await;
    browser.type_into("#token-input", "wrong-token").await;
    browser.click("#token-form button[type='submit']").await;
    browser
        .wait_for("the refusal", "const f = document.querySelector('#token-form'); return !f.hidden && f.textContent.includes('refused');", json!([]))
        .await;
    browser.type_into("#token-input", token).await;
    browser.click("#token-form button[type='submit']").await;
    browser
        .wait_for("the console with the token", "return document.body.dataset.ready === 'true' && document.querySelectorAll('#persona-list .persona').length === 3;", json!([]))
        .await;
    let stored = browser
        .js(
            "return sessionStorage.getItem('wxmock.admin-token');",
            json!([]),
        )
        .await;
    assert_eq!(stored, token);
    // A #token= link: no prompt, and the token leaves the address bar.
    browser.js("sessionStorage.clear();", json!([])).await;
    browser.goto(&format!("{}/", serve.url)).await;
    browser
        .goto(&format!("{}/__admin/console#token={token}", serve.url))
        .await;
    browser
        .wait_for(
            "the console from the link",
            "return document.body.dataset.ready === 'true';",
            json!([]),
        )
        .await;
    let hash = browser.js("return location.hash;", json!([])).await;
    assert_eq!(hash, "#personas");
    assert_eq!(
        browser
            .js(
                "return document.querySelector('#token-form').hidden;",
                json!([])
            )
            .await,
        true
    );
    browser.quit().await;
}
