//! WeChat's error codes and their wire texts (docs/wechat-api.md section 2), in one table so the
//! handlers, the fault injector and the magic codes all answer with the same words.

use std::borrow::Cow;

/// An error answer: WeChat's `errcode` and the base text of its `errmsg` (before the rid suffix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WxError {
    /// WeChat's non-zero error code (`40029`, `-1`, …).
    pub errcode: i64,
    /// The base text, before the `rid` suffix the wire adds (WeChat's own texts are borrowed,
    /// so making an error allocates nothing).
    pub errmsg: Cow<'static, str>,
}

impl WxError {
    /// The error with WeChat's default text for `errcode`.
    pub fn new(errcode: i64) -> Self {
        Self {
            errcode,
            errmsg: Cow::Borrowed(default_errmsg(errcode)),
        }
    }

    /// The error with a chosen base text.
    pub fn with_msg(errcode: i64, errmsg: impl Into<String>) -> Self {
        Self {
            errcode,
            errmsg: Cow::Owned(errmsg.into()),
        }
    }
}

/// `-1`: system error.
pub const SYSTEM_ERROR: i64 = -1;
/// `40001`: invalid credential.
pub const INVALID_CREDENTIAL: i64 = 40001;
/// `40002`: invalid grant_type.
pub const INVALID_GRANT_TYPE: i64 = 40002;
/// `40003`: invalid openid.
pub const INVALID_OPENID: i64 = 40003;
/// `40013`: invalid appid.
pub const INVALID_APPID: i64 = 40013;
/// `40014`: invalid access_token.
pub const INVALID_ACCESS_TOKEN: i64 = 40014;
/// `40029`: invalid code.
pub const INVALID_CODE: i64 = 40029;
/// `40066`: invalid url.
pub const INVALID_URL: i64 = 40066;
/// `40125`: invalid appsecret.
pub const INVALID_APPSECRET: i64 = 40125;
/// `40163`: code been used.
pub const CODE_BEEN_USED: i64 = 40163;
/// `40164`: invalid ip, not in whitelist.
pub const INVALID_IP: i64 = 40164;
/// `40226`: code blocked.
pub const CODE_BLOCKED: i64 = 40226;
/// `40243`: appsecret frozen.
pub const APPSECRET_FROZEN: i64 = 40243;
/// `41001`: access_token missing.
pub const ACCESS_TOKEN_MISSING: i64 = 41001;
/// `41002`: appid missing.
pub const APPID_MISSING: i64 = 41002;
/// `41004`: appsecret missing.
pub const APPSECRET_MISSING: i64 = 41004;
/// `41008`: missing code.
pub const MISSING_CODE: i64 = 41008;
/// `42001`: access_token expired.
pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
/// `43002`: require POST method.
pub const REQUIRE_POST: i64 = 43002;
/// `44002`: empty post data.
pub const EMPTY_POST_DATA: i64 = 44002;
/// `45009`: reach max api daily quota limit.
pub const DAILY_QUOTA: i64 = 45009;
/// `45011`: api minute-quota reach limit, must slower, retry next minute.
pub const MINUTE_QUOTA: i64 = 45011;
/// `47001`: data format error.
pub const DATA_FORMAT_ERROR: i64 = 47001;
/// `48001`: api unauthorized.
pub const API_UNAUTHORIZED: i64 = 48001;
/// `50004`: user not allow to use accesstoken, maybe for punishment.
pub const USER_PUNISHED: i64 = 50004;
/// `87008`: invalid sig_method.
pub const INVALID_SIG_METHOD: i64 = 87008;
/// `87009`: invalid signature.
pub const INVALID_SIGNATURE: i64 = 87009;

/// The current (2023+) `/cgi-bin/token` texts carry a pointer to getStableAccessToken.
pub const STABLE_TOKEN_HINT: &str =
    ", could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r";

/// WeChat's base text for an errcode, as seen on the wire. Unknown codes get a neutral text.
pub fn default_errmsg(errcode: i64) -> &'static str {
    match errcode {
        SYSTEM_ERROR => "system error",
        INVALID_CREDENTIAL => "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r",
        INVALID_GRANT_TYPE => "invalid grant_type",
        INVALID_OPENID => "invalid openid",
        INVALID_APPID => "invalid appid",
        INVALID_ACCESS_TOKEN => "invalid access_token",
        INVALID_CODE => "invalid code",
        INVALID_URL => "invalid url",
        INVALID_APPSECRET => "invalid appsecret",
        CODE_BEEN_USED => "code been used",
        INVALID_IP => "invalid ip, not in whitelist",
        CODE_BLOCKED => "code blocked",
        APPSECRET_FROZEN => "appsecret frozen",
        ACCESS_TOKEN_MISSING => "access_token missing",
        APPID_MISSING => "appid missing",
        APPSECRET_MISSING => "appsecret missing",
        MISSING_CODE => "missing code",
        ACCESS_TOKEN_EXPIRED => "access_token expired",
        REQUIRE_POST => "require POST method",
        EMPTY_POST_DATA => "empty post data",
        DAILY_QUOTA => "reach max api daily quota limit",
        MINUTE_QUOTA => "api minute-quota reach limit, must slower, retry next minute",
        DATA_FORMAT_ERROR => "data format error",
        API_UNAUTHORIZED => "api unauthorized",
        USER_PUNISHED => "user not allow to use accesstoken, maybe for punishment",
        61024 => "must use api(api_component_token) to get token for component acct",
        INVALID_SIG_METHOD => "invalid sig_method",
        INVALID_SIGNATURE => "invalid signature",
        89300 => "invalid trade",
        _ => "error",
    }
}

/// How the rid is joined to the base text: WeChat writes `invalid code, rid: …` for some
/// errors and `system error rid: …` for others (docs/wechat-api.md 1.1).
pub fn rid_separator(errcode: i64) -> &'static str {
    match errcode {
        INVALID_CODE | INVALID_APPID | CODE_BEEN_USED | INVALID_APPSECRET | INVALID_CREDENTIAL
        | INVALID_GRANT_TYPE | INVALID_OPENID | INVALID_ACCESS_TOKEN | ACCESS_TOKEN_MISSING
        | APPID_MISSING | APPSECRET_MISSING | MISSING_CODE | ACCESS_TOKEN_EXPIRED | INVALID_URL
        | INVALID_IP | CODE_BLOCKED => ", ",
        _ => " ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_wechat_texts_and_separators() {
        assert_eq!(WxError::new(CODE_BEEN_USED).errmsg, "code been used");
        assert_eq!(rid_separator(INVALID_CODE), ", ");
        assert_eq!(rid_separator(SYSTEM_ERROR), " ");
        assert_eq!(rid_separator(INVALID_SIGNATURE), " ");
        assert!(default_errmsg(INVALID_CREDENTIAL).starts_with("invalid credential"));
    }
}
