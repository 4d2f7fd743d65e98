//! `POST /__admin/encrypt`: open data (userInfo, phoneNumber, weRun, shareInfo) encrypted the
//! way WeChat would give it to the mini-program, under the user's CURRENT session_key, or one
//! of the forge's broken variants on purpose (`stale-session-key` uses the previous key).

use std::str::FromStr;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};
use wxmock_fixtures::forge::{forge, ForgeInput, Forged, Variant};
use wxmock_fixtures::payload::Kind;

use super::apps::{named_or_only, user_or_persona};
use super::{AdminError, AdminJson};
use crate::engine::UserView;
use crate::state::AppState;

/// The body of `POST /__admin/encrypt`: encrypts a payload under a user's session_key, as `wx.getUserInfo` and friends hand it to the mini-program.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptRequest {
    /// May be left out when only one app exists.
    #[serde(default)]
    pub appid: Option<String>,
    /// The user whose session_key encrypts the payload (they must have logged in).
    pub openid: String,
    /// Which payload to build (user info, phone number, share info, …).
    pub kind: Kind,
    /// Payload fields that override the user's own (keys as in the payload).
    #[serde(default)]
    pub data: Option<Map<String, Value>>,
    /// A forge variant name (kebab-case); default `valid`.
    #[serde(default)]
    pub variant: Option<String>,
}

/// `POST /encrypt` (forge an encrypted payload) and `GET /encrypt` (the kinds and variants), under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/encrypt", post(encrypt).get(choices))
}

/// What `POST /__admin/encrypt` accepts: the kinds and the variants, each with what it is.
async fn choices() -> Json<Value> {
    Json(choices_json())
}

/// The kinds and variants as `GET /__admin/encrypt` lists them.
pub fn choices_json() -> Value {
    let kinds: Vec<Value> = Kind::ALL.iter().map(|k| k.name().into()).collect();
    let variants: Vec<Value> = Variant::ALL
        .iter()
        .map(|v| serde_json::json!({ "name": v.name(), "description": v.description() }))
        .collect();
    serde_json::json!({ "kinds": kinds, "variants": variants })
}

async fn encrypt(
    State(state): State<AppState>,
    AdminJson(request): AdminJson<EncryptRequest>,
) -> Result<Json<Forged>, AdminError> {
    let variant = match request.variant.as_deref() {
        None => Variant::Valid,
        Some(name) => {
            Variant::from_str(name).map_err(|err| AdminError::bad_request(err.to_string()))?
        }
    };
    let appid = named_or_only(&state, request.appid)?;
    let openid = user_or_persona(&state, &appid, request.openid);
    let user = state.engine.user(&appid, &openid)?;
    let (session_key, previous) = state.engine.session_keys(&appid, &openid)?;
    let mut fields = user_fields(&user);
    let data_open_id = request
        .data
        .as_ref()
        .and_then(|d| d.get("openId").or_else(|| d.get("openid")))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(data) = request.data {
        fields.extend(data);
    }
    // openid-mismatch names a real other user of the app when it can: the openId given in
    // `data`, else another user the app has; only without one does the forge draw a sibling.
    let mut forged_variant = variant;
    if variant == Variant::OpenidMismatch && request.kind == Kind::UserInfo {
        let other = match data_open_id.filter(|o| *o != user.openid) {
            Some(given) => Some((given, None)),
            None => state
                .engine
                .users(&appid)?
                .into_iter()
                .find(|u| u.openid != user.openid)
                .map(|u| (u.openid, u.unionid)),
        };
        if let Some((openid, unionid)) = other {
            fields.insert("openId".into(), openid.into());
            fields.remove("unionId");
            if let Some(unionid) = unionid {
                fields.insert("unionId".into(), unionid.into());
            }
            forged_variant = Variant::Valid;
        }
    }
    let input = ForgeInput {
        kind: request.kind,
        fields: &fields,
        appid: &appid,
        session_key: &session_key,
        previous_session_key: previous.as_deref(),
        timestamp: state.clock.now(),
        variant: forged_variant,
    };
    let mut forged = state
        .engine
        .with_rng(|rng| forge(&input, rng))
        .map_err(|err| AdminError::conflict(format!("cannot encrypt: {err}")))?;
    forged.variant = variant;
    Ok(Json(forged))
}

/// The user's data under the payload's key names.
fn user_fields(user: &UserView) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("openId".into(), user.openid.clone().into());
    fields.insert("nickName".into(), user.nick_name.clone().into());
    fields.insert("gender".into(), user.gender.into());
    fields.insert("language".into(), user.language.clone().into());
    fields.insert("city".into(), user.city.clone().into());
    fields.insert("province".into(), user.province.clone().into());
    fields.insert("country".into(), user.country.clone().into());
    fields.insert("avatarUrl".into(), user.avatar_url.clone().into());
    if let Some(unionid) = &user.unionid {
        fields.insert("unionId".into(), unionid.clone().into());
    }
    if let Some(pure) = &user.phone_number {
        let full = if user.country_code == "86" {
            pure.clone()
        } else {
            format!("+{} {pure}", user.country_code)
        };
        fields.insert("phoneNumber".into(), full.into());
        fields.insert("purePhoneNumber".into(), pure.clone().into());
        fields.insert("countryCode".into(), user.country_code.clone().into());
    }
    fields
}
