//! Phone codes (`<button open-type="getPhoneNumber">`) and their redemption on
//! `/wxa/business/getuserphonenumber`: five minutes, single use, distinct from login codes.

use super::id;
use super::registry::{find_user, Engine};
use crate::errcode::{WxError, INVALID_APPID, INVALID_CODE};
use crate::error::EngineError;

#[derive(Clone, Debug)]
pub struct PhoneCode {
    pub appid: String,
    pub openid: String,
    pub issued_at: i64,
    pub used: bool,
}

/// What getuserphonenumber reveals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneInfo {
    /// With the country prefix for non-mainland numbers.
    pub phone_number: String,
    /// The number without the country prefix.
    pub pure_phone_number: String,
    /// The country calling code, e.g. `86`.
    pub country_code: String,
    /// When the user authorised (the code was issued).
    pub timestamp: i64,
    /// The app the phone code was issued for (the `watermark.appid`).
    pub appid: String,
}

impl Engine {
    /// A phone code for `openid`, as the getPhoneNumber button would give it.
    pub fn phone_code(&self, appid: &str, openid: &str) -> Result<String, EngineError> {
        let now = self.now();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let user = find_user(&inner.tenants, appid, openid)?;
        if user.phone_number.is_none() {
            return Err(EngineError::NoPhoneNumber {
                appid: appid.to_owned(),
                openid: openid.to_owned(),
            });
        }
        let ttl = self.rules.phone_code_ttl_secs;
        inner.phone_codes.retain(|_, c| c.issued_at + ttl > now);
        let code = id::phone_code(&mut inner.rng);
        inner.phone_codes.insert(
            code.clone(),
            PhoneCode {
                appid: appid.to_owned(),
                openid: openid.to_owned(),
                issued_at: now,
                used: false,
            },
        );
        Ok(code)
    }

    /// Redeems a phone code for the app the access token belongs to. 40013 for another app's
    /// code; 40029 for an unknown, expired, used code, or one of another user than `openid`.
    pub fn redeem_phone_code(
        &self,
        appid: &str,
        code: &str,
        openid: Option<&str>,
    ) -> Result<PhoneInfo, WxError> {
        let now = self.now();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(record) = inner.phone_codes.get_mut(code) else {
            return Err(WxError::new(INVALID_CODE));
        };
        if record.appid != appid {
            return Err(WxError::new(INVALID_APPID));
        }
        if record.used || now >= record.issued_at + self.rules.phone_code_ttl_secs {
            return Err(WxError::new(INVALID_CODE));
        }
        if openid.is_some_and(|o| o != record.openid) {
            return Err(WxError::new(INVALID_CODE));
        }
        let user = inner
            .tenants
            .get(appid)
            .and_then(|t| t.users.get(&record.openid));
        let Some((pure, country_code)) =
            user.and_then(|u| Some((u.phone_number.clone()?, u.country_code.clone())))
        else {
            return Err(WxError::new(INVALID_CODE));
        };
        record.used = true;
        let phone_number = if country_code == "86" {
            pure.clone()
        } else {
            format!("+{country_code} {pure}")
        };
        Ok(PhoneInfo {
            phone_number,
            pure_phone_number: pure,
            country_code,
            timestamp: record.issued_at,
            appid: appid.to_owned(),
        })
    }
}
