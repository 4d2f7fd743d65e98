//! `POST /__admin/users` creates a user (openid generated in WeChat's format when absent);
//! `GET /__admin/apps/{appid}/users[/{openid}]` shows them with their current session_key.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::apps::named_or_only;
use super::{AdminError, AdminJson};
use crate::config::UserConfig;
use crate::engine::UserView;
use crate::state::AppState;

/// A user to create, with WeChat's (camelCase) profile field names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserRequest {
    /// May be left out when only one app exists.
    pub appid: Option<String>,
    /// Generated in WeChat's format (28 chars, starting with `o`) when absent.
    pub openid: Option<String>,
    /// Only users of apps bound to an open-platform account have one.
    pub unionid: Option<String>,
    /// Profile nickname (`nickName`).
    pub nick_name: Option<String>,
    /// Profile picture URL (`avatarUrl`).
    pub avatar_url: Option<String>,
    /// 0 unknown, 1 male, 2 female.
    pub gender: Option<i64>,
    /// Profile language, e.g. `zh_CN`.
    pub language: Option<String>,
    /// Profile city.
    pub city: Option<String>,
    /// Profile province.
    pub province: Option<String>,
    /// Profile country.
    pub country: Option<String>,
    /// Without the country prefix (`purePhoneNumber`); the user has no phone number when absent.
    pub phone_number: Option<String>,
    /// Defaults to `86`.
    pub country_code: Option<String>,
    /// A high-risk user: WeChat refuses their codes with 40226. Default false.
    #[serde(default)]
    pub blocked: bool,
}

impl UserRequest {
    fn into_parts(self) -> (Option<String>, UserConfig) {
        let user = UserConfig {
            openid: self.openid,
            unionid: self.unionid,
            nick_name: self.nick_name,
            avatar_url: self.avatar_url,
            gender: self.gender,
            language: self.language,
            city: self.city,
            province: self.province,
            country: self.country,
            phone_number: self.phone_number,
            country_code: self.country_code,
            blocked: self.blocked,
        };
        (self.appid, user)
    }
}

/// `POST /users` (create), `GET /apps/{appid}/users` (list) and `GET /apps/{appid}/users/{openid}` (show), under `/__admin`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", post(create))
        .route("/apps/{appid}/users", get(list))
        .route("/apps/{appid}/users/{openid}", get(show))
}

async fn create(
    State(state): State<AppState>,
    AdminJson(request): AdminJson<UserRequest>,
) -> Result<Json<UserView>, AdminError> {
    let (appid, user) = request.into_parts();
    let appid = named_or_only(&state, appid)?;
    Ok(Json(state.engine.add_user(&appid, &user)?))
}

async fn show(
    State(state): State<AppState>,
    Path((appid, openid)): Path<(String, String)>,
) -> Result<Json<UserView>, AdminError> {
    Ok(Json(state.engine.user(&appid, &openid)?))
}

async fn list(
    State(state): State<AppState>,
    Path(appid): Path<String>,
) -> Result<Json<Value>, AdminError> {
    Ok(Json(json!({ "users": state.engine.users(&appid)? })))
}
