//! The `wxa/*` business calls that need an access token: getuserphonenumber and checksession.

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::access_token::AccessToken;
use super::client::{UpstreamError, WeChat};

impl WeChat {
    /// `POST /wxa/business/getuserphonenumber?access_token=…` with `{"code"}`.
    pub async fn phone_number(
        &self,
        token: &AccessToken,
        code: &str,
    ) -> Result<Map<String, Value>, UpstreamError> {
        let request = self
            .http
            .post(self.url("/wxa/business/getuserphonenumber"))
            .query(&[("access_token", token.expose())])
            .json(&json!({ "code": code }));
        self.json(request).await
    }

    /// `GET /wxa/checksession`: is `session_key` still the user's current one?
    pub async fn check_session(
        &self,
        token: &AccessToken,
        openid: &str,
        session_key: &str,
    ) -> Result<Map<String, Value>, UpstreamError> {
        let request = self.http.get(self.url("/wxa/checksession")).query(&[
            ("access_token", token.expose()),
            ("openid", openid),
            ("signature", &login_state_signature(session_key)),
            ("sig_method", "hmac_sha256"),
        ]);
        self.json(request).await
    }
}

/// `hex(hmac_sha256(key = session_key as its base64 text, message = ""))`, the login-state
/// signature checksession wants (docs/wechat-api.md 3.4: the key is NOT base64-decoded).
pub fn login_state_signature(session_key: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mac = Hmac::<Sha256>::new_from_slice(session_key.as_bytes()).expect("hmac takes any key");
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_state_signature_uses_the_key_text() {
        // Same construction as the doc vector in docs/wechat-api.md 3.4, with the empty message.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"o0q0otL8aEzpcZL/FT9WsQ==").unwrap();
        mac.update(br#"{"foo":"bar"}"#);
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b"
        );
        assert_eq!(login_state_signature("k").len(), 64);
    }
}
