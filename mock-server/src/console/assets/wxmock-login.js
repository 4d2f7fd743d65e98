/**
 * wxmock-login.js: makes wx.login resolve to a `wxmock-as-<persona>` code in a mini-program's
 * development build, so the dev backend (pointed at wxmock instead of api.weixin.qq.com) logs
 * in the persona you chose, with no real AppID, test account or QR scan. See docs/frontend.md.
 *
 *   // app.js, before anything calls wx.login
 *   require('./utils/wxmock-login').install({ persona: 'alice' })
 *
 * Which persona (first match wins):
 *   1. the storage key `wxmock.persona`, switchable at runtime from the DevTools console:
 *      wx.setStorageSync('wxmock.persona', 'bob')   ('off' restores the real wx.login)
 *   2. `options.persona` given to install()
 * A persona is a name (alice, bob, mallory) or any openid the fake knows.
 *
 * Active only when the mini-program runs as the development version (envVersion "develop"),
 * so a trial or release build always calls the real wx.login; `options.anyEnv: true` lifts that.
 */
'use strict';

var PREFIX = 'wxmock-as-';
var STORAGE_KEY = 'wxmock.persona';
var PERSONA = /^[A-Za-z0-9_-]{1,64}$/;

/** The code the fake exchanges as `persona`: `wxmock-as-alice`, `wxmock-as-<openid>`. */
function codeFor(persona) {
  if (typeof persona !== 'string' || !PERSONA.test(persona)) {
    throw new Error('wxmock-login: persona must be a name or an openid (letters, digits, _ and -, at most 64), not ' + JSON.stringify(persona));
  }
  return PREFIX + persona;
}

function envVersion(wxApi) {
  try {
    return wxApi.getAccountInfoSync().miniProgram.envVersion;
  } catch (e) {
    return undefined;
  }
}

function storedPersona(wxApi) {
  try {
    var value = wxApi.getStorageSync(STORAGE_KEY);
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch (e) {
    return undefined;
  }
}

/**
 * Replaces wx.login. Returns a function that puts the real one back. Does nothing (and returns
 * a no-op) outside the development version unless `anyEnv` is set.
 */
function install(options) {
  options = options || {};
  var wxApi = options.wx || (typeof wx !== 'undefined' ? wx : undefined);
  if (!wxApi || typeof wxApi.login !== 'function') {
    throw new Error('wxmock-login: no wx.login to replace (pass options.wx outside a mini-program)');
  }
  if (!options.anyEnv && envVersion(wxApi) !== 'develop') {
    return function uninstall() {};
  }
  if (options.persona !== undefined) codeFor(options.persona);
  var realLogin = wxApi.login;

  function persona() {
    return storedPersona(wxApi) || options.persona;
  }

  wxApi.login = function login(args) {
    args = args || {};
    var who = persona();
    if (who === undefined || who === 'off') {
      return realLogin.call(wxApi, args);
    }
    var hasCallback = typeof args.success === 'function' || typeof args.fail === 'function' || typeof args.complete === 'function';
    var result;
    var failure;
    try {
      result = { code: codeFor(who), errMsg: 'login:ok' };
    } catch (e) {
      failure = { errMsg: 'login:fail ' + e.message };
    }
    // Asynchronous, as the real wx.login is: callers that read state set after the call still work.
    var settle = new Promise(function (resolve) { setTimeout(resolve, 0); }).then(function () {
      if (failure) {
        if (typeof args.fail === 'function') args.fail(failure);
      } else if (typeof args.success === 'function') {
        args.success(result);
      }
      if (typeof args.complete === 'function') args.complete(failure || result);
      if (failure) throw failure;
      return result;
    });
    if (hasCallback) {
      settle.catch(function () {});
      return undefined;
    }
    return settle;
  };

  return function uninstall() {
    wxApi.login = realLogin;
  };
}

module.exports = { install: install, codeFor: codeFor, PREFIX: PREFIX, STORAGE_KEY: STORAGE_KEY };
