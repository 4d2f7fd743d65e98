//! The built-in demo app and its personas. The demo app is used when no app is configured, so
//! `wxmock serve` and `MockWeChat::start()` give a working fake with no setup; the personas also
//! populate every configured app that lists no users of its own, so `wxmock-as-alice` works with
//! one's own AppID too. The ids are fixed (and readable) so docs and copy-paste examples stay
//! valid.

use crate::config::{AppConfig, UserConfig};

/// The appid of the demo app the fake starts with when no app is configured.
pub const DEMO_APPID: &str = "wxdeadbeef00c0ffee";
/// The demo app's appsecret (32 hex digits, like WeChat's).
pub const DEMO_SECRET: &str = "0123456789abcdef0123456789abcdef";

/// A returning user: unionid, full profile and a phone number.
pub const ALICE_OPENID: &str = "oAlice_wxmockDemoPersona0001";
/// Alice's unionid.
pub const ALICE_UNIONID: &str = "oUnion_AliceWxmockDemo000001";
/// Alice's phone number (mainland China, country code 86).
pub const ALICE_PHONE: &str = "13800138000";
/// A new user: no unionid, no phone number, anonymised profile.
pub const BOB_OPENID: &str = "oBob_wxmockDemoPersona000002";
/// A user WeChat blocks as high-risk: their codes answer 40226.
pub const MALLORY_OPENID: &str = "oMallory_wxmockDemoPersona03";

/// The personas, with a one-line description each (printed by `wxmock serve`).
pub const PERSONAS: &[(&str, &str, &str)] = &[
    (
        "alice",
        ALICE_OPENID,
        "returning user with unionid and phone number",
    ),
    ("bob", BOB_OPENID, "new user, no unionid, no phone number"),
    (
        "mallory",
        MALLORY_OPENID,
        "high-risk user: WeChat blocks her codes (40226)",
    ),
];

/// The openid a persona name stands for (`alice`, any case), or `who` itself: an openid.
pub fn openid_of(who: &str) -> &str {
    PERSONAS
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(who))
        .map_or(who, |(_, openid, _)| openid)
}

/// The persona name of an openid (`alice` for alice's openid), if it is one.
pub fn name_of(openid: &str) -> Option<&'static str> {
    PERSONAS
        .iter()
        .find(|(_, id, _)| *id == openid)
        .map(|(name, _, _)| *name)
}

/// The demo app with alice, bob and mallory.
pub fn demo_app() -> AppConfig {
    AppConfig {
        appid: DEMO_APPID.to_owned(),
        secret: DEMO_SECRET.into(),
        users: users(),
    }
}

/// alice, bob and mallory, as config users (the same openids in every app that has them).
pub fn users() -> Vec<UserConfig> {
    vec![
        UserConfig {
            openid: Some(ALICE_OPENID.to_owned()),
            unionid: Some(ALICE_UNIONID.to_owned()),
            nick_name: Some("Alice".to_owned()),
            avatar_url: Some("https://thirdwx.qlogo.cn/mmopen/vi_32/alice/132".to_owned()),
            gender: Some(2),
            language: Some("zh_CN".to_owned()),
            city: Some("Shenzhen".to_owned()),
            province: Some("Guangdong".to_owned()),
            country: Some("China".to_owned()),
            phone_number: Some(ALICE_PHONE.to_owned()),
            country_code: Some("86".to_owned()),
            blocked: false,
        },
        UserConfig {
            openid: Some(BOB_OPENID.to_owned()),
            ..UserConfig::default()
        },
        UserConfig {
            openid: Some(MALLORY_OPENID.to_owned()),
            nick_name: Some("Mallory".to_owned()),
            blocked: true,
            ..UserConfig::default()
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persona_ids_have_wechat_shapes() {
        for id in [ALICE_OPENID, ALICE_UNIONID, BOB_OPENID, MALLORY_OPENID] {
            assert_eq!(id.len(), 28, "{id}");
            assert!(id.starts_with('o'));
        }
        assert_eq!(DEMO_APPID.len(), 18);
        assert_eq!(DEMO_SECRET.len(), 32);
    }
}
