//! A small WebDriver client for the console tests: Debian's `chromium` driven by `chromedriver`
//! over HTTP (W3C WebDriver), headless, with a fresh profile and every background network
//! feature off (the machine has no network: without those flags Chromium floods refused
//! connections). The browser only ever talks to the fake on loopback.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// W3C WebDriver's element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for the page may take before the test fails (two shared cores, cold start).
const WAIT: Duration = Duration::from_secs(30);

/// `chromium` and `chromedriver`, or the reason they cannot be used.
pub fn tools() -> Result<(PathBuf, PathBuf), String> {
    let find = |name: &str| {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
            .ok_or_else(|| {
                format!("{name} is not on PATH (apt-get install chromium chromium-driver)")
            })
    };
    Ok((find("chromium")?, find("chromedriver")?))
}

/// The tools, or `None` (with the reason printed) outside CI; in CI their absence fails the test.
pub fn tools_or_skip(test: &str) -> Option<(PathBuf, PathBuf)> {
    match tools() {
        Ok(tools) => Some(tools),
        Err(reason) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping {test}: {reason}");
            None
        }
        Err(reason) => panic!("{test} needs Chromium in CI: {reason}"),
    }
}

/// One headless Chromium session; the browser, the driver and the profile go on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    endpoint: String,
    session: String,
    client: reqwest::Client,
    profile: PathBuf,
}

impl Browser {
    pub async fn start(chromium: &std::path::Path, chromedriver: &std::path::Path) -> Self {
        // chromedriver takes a port, not a listener: ask the OS for a free one.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client.get(format!("{endpoint}/status")).send().await;
            if let Ok(answer) = ready {
                let status: Value = answer.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("wxmock-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let answer: Value = client
            .post(format!("{endpoint}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_owned();
        Self {
            driver,
            port,
            endpoint,
            session,
            client,
            profile,
        }
    }

    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.endpoint, self.session);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if let Some(error) = answer["value"]["error"].as_str() {
            let message = answer["value"]["message"].as_str().unwrap_or_default();
            let first = message.lines().next().unwrap_or_default();
            return Err(format!("{error}: {first}"));
        }
        Ok(answer["value"].clone())
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let what = format!("WebDriver {method} {path}");
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"))
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Runs `script` as an async function body (`await` allowed) and returns what it returns.
    pub async fn js_async(&self, script: &str, args: Value) -> Value {
        let wrapped = format!(
            "const done = arguments[arguments.length - 1]; (async () => {{ {script} }})().then(done, (e) => done('error: ' + e));"
        );
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": wrapped, "args": args })),
        )
        .await
    }

    /// Waits until `script` returns something truthy (not null, false, 0 or ""), and returns it.
    pub async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let started = Instant::now();
        loop {
            let value = self.js(script, args.clone()).await;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if started.elapsed() > WAIT {
                let status = self
                    .js("const s = document.querySelector('#status'); return s ? s.textContent : '';", json!([]))
                    .await;
                self.save_screenshot("failure").await;
                panic!("timed out waiting for {what} (page status: {status})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// A real click (WebDriver moves the pointer there), as a user would.
    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        if let Err(err) = self
            .try_call(
                reqwest::Method::POST,
                &format!("/element/{id}/click"),
                Some(json!({})),
            )
            .await
        {
            self.save_screenshot("failure").await;
            let page = self
                .js("return location.href + ' | ' + document.body.dataset.current + ' | ' + JSON.stringify(document.querySelector(arguments[0]).getBoundingClientRect());", json!([css]))
                .await;
            panic!("cannot click {css}: {err} ({page})");
        }
    }

    /// Clears a field and types `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        let typed = async {
            self.try_call(
                reqwest::Method::POST,
                &format!("/element/{id}/clear"),
                Some(json!({})),
            )
            .await?;
            self.try_call(
                reqwest::Method::POST,
                &format!("/element/{id}/value"),
                Some(json!({ "text": text })),
            )
            .await
        };
        if let Err(err) = typed.await {
            panic!("cannot type into {css}: {err}");
        }
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.element(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page as a PNG.
    pub async fn screenshot(&self) -> Vec<u8> {
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 PNG")
    }

    /// Saves a screenshot as `<name>.png` under `$WXMOCK_SCREENSHOTS`, when that is set.
    pub async fn save_screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("WXMOCK_SCREENSHOTS") else {
            return;
        };
        let png = self.screenshot().await;
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
    }

    pub async fn quit(mut self) {
        let url = format!("{}/session/{}", self.endpoint, self.session);
        let _ = self.client.delete(url).send().await;
        self.session.clear();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // A failed test: end the session (which closes Chromium) before stopping the driver,
            // with a plain blocking request since there may be no runtime to run one on.
            use std::io::{Read, Write};
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = write!(
                    stream,
                    "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.session, self.port
                );
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
