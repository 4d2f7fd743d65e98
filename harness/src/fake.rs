//! A client of the fake WeChat's control API (`/__admin/*`, contract in docs/control-plane.md).
//! The harness only talks HTTP to the fake, so it can judge a backend against an in-process fake
//! or one started elsewhere with a fixed address.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::HarnessError;

/// A user as the fake describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    pub appid: String,
    pub openid: String,
    #[serde(default)]
    pub unionid: Option<String>,
    #[serde(default, rename = "phoneNumber")]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub session_key: Option<String>,
    /// The whole object as the fake sent it.
    #[serde(skip)]
    pub raw: Value,
}

/// A login code minted for a user.
#[derive(Clone, Debug, Deserialize)]
pub struct LoginCode {
    pub code: String,
    pub openid: String,
}

/// Encrypted open data from `/__admin/encrypt`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encrypted {
    pub encrypted_data: String,
    pub iv: String,
    /// The exact JSON text that was encrypted.
    pub plaintext: String,
    pub variant: String,
    #[serde(default)]
    pub raw_data: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
}

/// What to encrypt.
#[derive(Clone, Debug)]
pub struct EncryptRequest {
    pub openid: String,
    /// `userInfo`, `phoneNumber`, `weRun` or `shareInfo`.
    pub kind: String,
    /// Field overrides (e.g. a random nickName).
    pub data: Option<Value>,
    /// A forge variant name (`valid`, `tampered`, `iv-15`, …).
    pub variant: String,
}

/// One request the fake received (its journal).
#[derive(Clone, Debug, Deserialize)]
pub struct JournalEntry {
    pub id: u64,
    #[serde(default)]
    pub time: i64,
    #[serde(default)]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: serde_json::Map<String, Value>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub response_body: Option<String>,
    #[serde(default)]
    pub appid: Option<String>,
    #[serde(default)]
    pub fault: Option<String>,
    /// The whole entry as the fake sent it (for evidence).
    #[serde(skip)]
    pub raw: Value,
}

impl JournalEntry {
    /// A query parameter as text.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.get(name).map(crate::profile::value_text)
    }
    /// The response body parsed as JSON.
    pub fn response_json(&self) -> Option<Value> {
        self.response_body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
    }
}

/// The control-API client of one fake, scoped to the run's app.
#[derive(Clone, Debug)]
pub struct Fake {
    base_url: String,
    appid: String,
    secret: String,
    http: reqwest::Client,
}

impl Fake {
    /// A client for the fake at `base_url`, acting for `appid`.
    pub fn new(base_url: &str, appid: &str, secret: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            // Only fails when the TLS backend cannot initialise; this client has no TLS at all.
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base_url: base_url.trim_end_matches('/').into(),
            appid: appid.into(),
            secret: secret.into(),
            http,
        }
    }

    /// The fake's base URL (what the backend uses as WeChat's API base).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    pub fn appid(&self) -> &str {
        &self.appid
    }
    pub fn secret(&self) -> &str {
        &self.secret
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, HarnessError> {
        let what = format!("{method} /__admin{path}");
        let control = |message: String| HarnessError::Control {
            what: what.clone(),
            message,
        };
        let mut req = self
            .http
            .request(method.clone(), format!("{}/__admin{path}", self.base_url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| control(e.to_string()))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| control(e.to_string()))?;
        if !status.is_success() {
            return Err(control(format!(
                "HTTP {}: {}",
                status.as_u16(),
                crate::exchange::truncate(&text, 300)
            )));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| {
            control(format!(
                "answer is not JSON ({e}): {}",
                crate::exchange::truncate(&text, 200)
            ))
        })
    }

    /// Waits until `/__admin/health` answers (an externally started fake may still be booting).
    pub async fn health(&self) -> Result<(), HarnessError> {
        self.call(reqwest::Method::GET, "/health", None)
            .await
            .map(|_| ())
    }

    /// Creates (or replaces) the run's app.
    pub async fn create_app(&self) -> Result<(), HarnessError> {
        self.call(
            reqwest::Method::POST,
            "/apps",
            Some(json!({"appid": self.appid, "secret": self.secret})),
        )
        .await
        .map(|_| ())
    }

    /// Creates a user; `fields` may set openid, unionid, nickName, phoneNumber, … (appid is added).
    pub async fn create_user(&self, fields: Value) -> Result<User, HarnessError> {
        let mut body = match fields {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        body.insert("appid".into(), json!(self.appid));
        let v = self
            .call(reqwest::Method::POST, "/users", Some(Value::Object(body)))
            .await?;
        parse_user(v, "POST /__admin/users")
    }

    /// The user as the fake holds it now (with the current session_key).
    pub async fn user(&self, openid: &str) -> Result<User, HarnessError> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/apps/{}/users/{openid}", self.appid),
                None,
            )
            .await?;
        parse_user(v, "GET /__admin/apps/{appid}/users/{openid}")
    }

    /// A fresh login code for the user (what wx.login would give).
    pub async fn login_code(&self, openid: &str) -> Result<String, HarnessError> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/login",
                Some(json!({"appid": self.appid, "openid": openid})),
            )
            .await?;
        let code: LoginCode = serde_json::from_value(v).map_err(|e| HarnessError::Control {
            what: "POST /__admin/login".into(),
            message: e.to_string(),
        })?;
        Ok(code.code)
    }

    /// A fresh getuserphonenumber code for the user.
    pub async fn phone_code(&self, openid: &str) -> Result<String, HarnessError> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/phone-code",
                Some(json!({"appid": self.appid, "openid": openid})),
            )
            .await?;
        v.get("code")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| HarnessError::Control {
                what: "POST /__admin/phone-code".into(),
                message: format!("no code in {v}"),
            })
    }

    /// Encrypted open data under the user's current session_key (or a broken variant).
    pub async fn encrypt(&self, req: &EncryptRequest) -> Result<Encrypted, HarnessError> {
        let mut body = json!({"appid": self.appid, "openid": req.openid, "kind": req.kind, "variant": req.variant});
        if let Some(d) = &req.data {
            body["data"] = d.clone();
        }
        let v = self
            .call(reqwest::Method::POST, "/encrypt", Some(body))
            .await?;
        serde_json::from_value(v).map_err(|e| HarnessError::Control {
            what: "POST /__admin/encrypt".into(),
            message: e.to_string(),
        })
    }

    /// Installs a fault rule (the run's appid is added unless the rule names one); returns its id.
    pub async fn add_fault(&self, rule: Value) -> Result<String, HarnessError> {
        let mut rule = match rule {
            Value::Object(m) => m,
            other => {
                return Err(HarnessError::Control {
                    what: "POST /__admin/faults".into(),
                    message: format!("rule must be an object, got {other}"),
                })
            }
        };
        rule.entry("appid").or_insert_with(|| json!(self.appid));
        let v = self
            .call(reqwest::Method::POST, "/faults", Some(Value::Object(rule)))
            .await?;
        Ok(v.get("id")
            .map(crate::profile::value_text)
            .unwrap_or_default())
    }

    pub async fn remove_fault(&self, id: &str) -> Result<(), HarnessError> {
        self.call(reqwest::Method::DELETE, &format!("/faults/{id}"), None)
            .await
            .map(|_| ())
    }

    /// Removes every fault rule of the run's app.
    pub async fn clear_faults(&self) -> Result<(), HarnessError> {
        self.call(
            reqwest::Method::DELETE,
            &format!("/faults?appid={}", self.appid),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Applies a named scenario (`invalid-code`, `wechat-busy`, …) to the run's app.
    pub async fn scenario(&self, name: &str, extra: Value) -> Result<Value, HarnessError> {
        let mut body = match extra {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        body.insert("appid".into(), json!(self.appid));
        self.call(
            reqwest::Method::POST,
            &format!("/scenarios/{name}"),
            Some(Value::Object(body)),
        )
        .await
    }

    /// The journal of the run's app, optionally for one path, entries with id > `after_id`.
    pub async fn journal(
        &self,
        path: Option<&str>,
        after_id: u64,
    ) -> Result<Vec<JournalEntry>, HarnessError> {
        self.journal_query(Some(&self.appid), path, after_id).await
    }

    /// The journal of every app the fake serves (a backend sending another appid shows here).
    pub async fn journal_all_apps(
        &self,
        path: Option<&str>,
        after_id: u64,
    ) -> Result<Vec<JournalEntry>, HarnessError> {
        self.journal_query(None, path, after_id).await
    }

    async fn journal_query(
        &self,
        appid: Option<&str>,
        path: Option<&str>,
        after_id: u64,
    ) -> Result<Vec<JournalEntry>, HarnessError> {
        let mut q = String::from("/journal?");
        if let Some(appid) = appid {
            q.push_str("appid=");
            q.push_str(appid);
        }
        if let Some(p) = path {
            q.push_str("&path=");
            q.push_str(p);
        }
        let v = self.call(reqwest::Method::GET, &q, None).await?;
        let entries = v
            .get("entries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::with_capacity(entries.len());
        for raw in entries {
            let mut e: JournalEntry =
                serde_json::from_value(raw.clone()).map_err(|e| HarnessError::Control {
                    what: "GET /__admin/journal".into(),
                    message: e.to_string(),
                })?;
            e.raw = raw;
            // Filtered here rather than with `since=`, so the harness does not depend on how the
            // fake interprets `since` (time or id).
            if e.id > after_id {
                out.push(e);
            }
        }
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    /// The highest journal id so far for the run's app (0 when empty).
    pub async fn journal_mark(&self) -> Result<u64, HarnessError> {
        // `last_id` (the newest id over all apps) avoids downloading the journal; ids only grow,
        // so it is a valid mark for this app too. Older fakes without it: the newest entry's id.
        let q = format!("/journal?appid={}&path=/__wxmock-harness-mark", self.appid);
        let v = self.call(reqwest::Method::GET, &q, None).await?;
        match v.get("last_id").and_then(Value::as_u64) {
            Some(id) => Ok(id),
            None => Ok(self
                .journal(None, 0)
                .await?
                .iter()
                .map(|e| e.id)
                .max()
                .unwrap_or(0)),
        }
    }

    /// Moves the fake's clock forward; returns its new time (unix seconds).
    pub async fn advance_clock(&self, secs: u64) -> Result<i64, HarnessError> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/clock",
                Some(json!({"advance_secs": secs})),
            )
            .await?;
        Ok(v.get("now").and_then(Value::as_i64).unwrap_or_default())
    }

    /// The fake's current time (unix seconds).
    pub async fn now(&self) -> Result<i64, HarnessError> {
        let v = self.call(reqwest::Method::GET, "/clock", None).await?;
        Ok(v.get("now").and_then(Value::as_i64).unwrap_or_default())
    }

    /// Any other control call (escape hatch for cases that need an endpoint this client lacks).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, HarnessError> {
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| HarnessError::Internal(format!("bad method {method}: {e}")))?;
        self.call(m, path, body).await
    }
}

fn parse_user(v: Value, what: &str) -> Result<User, HarnessError> {
    let mut u: User = serde_json::from_value(v.clone()).map_err(|e| HarnessError::Control {
        what: what.into(),
        message: e.to_string(),
    })?;
    u.raw = v;
    Ok(u)
}
