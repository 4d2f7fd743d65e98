//! `GET /sns/jscode2session`: trading the mini-program's login code for the user's openid and
//! session_key.

use serde_json::{Map, Value};

use super::client::{errcode, UpstreamError, UpstreamFailure, WeChat};
use crate::session::{SessionKey, WeChatIdentity};

impl WeChat {
    /// Calls jscode2session once and returns its answer (HTTP 200, a JSON object).
    pub async fn code_to_session(&self, code: &str) -> Result<Map<String, Value>, UpstreamError> {
        self.code_to_session_detailed(code)
            .await
            .map_err(|f| f.error)
    }

    /// The jscode2session URL with its query, appsecret included (only the defect
    /// `log-secrets` writes it anywhere).
    pub fn session_url(&self, code: &str) -> String {
        format!(
            "{}?appid={}&secret={}&js_code={code}&grant_type=authorization_code",
            self.url("/sns/jscode2session"),
            self.appid,
            self.secret()
        )
    }

    /// [`WeChat::code_to_session`], keeping what the client or WeChat said about a failure.
    pub async fn code_to_session_detailed(
        &self,
        code: &str,
    ) -> Result<Map<String, Value>, UpstreamFailure> {
        let mut query = vec![
            ("appid", self.appid.as_str()),
            ("secret", self.secret()),
            ("js_code", code),
        ];
        if self.send_grant_type {
            query.push(("grant_type", "authorization_code"));
        }
        let request = self.http.get(self.url("/sns/jscode2session")).query(&query);
        self.json_detailed(request).await
    }
}

/// The identity in a jscode2session answer: an `errcode` is an error, and so is an answer
/// without a non-empty openid and session_key.
pub fn identity(answer: &Map<String, Value>) -> Result<WeChatIdentity, UpstreamError> {
    if let Some(code) = errcode(answer) {
        return Err(UpstreamError::Errcode(code));
    }
    let text = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (Some(openid), Some(session_key)) = (text("openid"), text("session_key")) else {
        return Err(UpstreamError::MissingFields);
    };
    Ok(WeChatIdentity {
        openid,
        unionid: text("unionid"),
        session_key: SessionKey::new(session_key),
    })
}

/// What a backend that never looks at `errcode` makes of an answer: whatever openid and
/// session_key it finds, empty when there are none (defects `token-on-errcode` and
/// `accept-garbage-upstream`).
pub fn identity_unchecked(answer: &Map<String, Value>) -> WeChatIdentity {
    let text = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
    WeChatIdentity {
        openid: text("openid").unwrap_or_default(),
        unionid: text("unionid"),
        session_key: SessionKey::new(text("session_key").unwrap_or_default()),
    }
}

/// How a jscode2session errcode is answered to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRejection {
    /// The code is bad, used, blocked or missing: the user must log in again.
    InvalidCode,
    /// WeChat is busy or rate-limiting: retry later.
    Busy,
    /// Anything else (bad appid or secret, unknown codes): our problem, not the user's.
    Other,
}

pub fn classify_errcode(code: i64) -> CodeRejection {
    match code {
        // invalid code, code been used, code blocked (high-risk user), missing code
        40029 | 40163 | 40226 | 41008 => CodeRejection::InvalidCode,
        // system error, daily quota, minute quota
        -1 | 45009 | 45011 => CodeRejection::Busy,
        _ => CodeRejection::Other,
    }
}
