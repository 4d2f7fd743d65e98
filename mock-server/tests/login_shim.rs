//! The `wx.login` shim (`/__admin/console/wxmock-login.js`) run by Node against a stand-in `wx`:
//! the codes it produces, that the fake logs in exactly the persona they name, and that it keeps
//! away from anything but a development build.
//!
//! Without `node`: fails when `CI` is set, otherwise skips with the reason printed.

mod control_plane_support;

use std::process::Command;

use control_plane_support::fake;
use serde_json::Value;
use wxmock_server::console::LOGIN_SHIM;
use wxmock_server::{ALICE_OPENID, BOB_OPENID, MALLORY_OPENID};

/// A stand-in `wx` (storage, account info, a real login that says it was called), the shim
/// installed on it in several ways, and every outcome printed as one JSON object.
const SCRIPT: &str = r#"
const shim = require(process.argv[1]);
function fakeWx(envVersion) {
  const storage = {};
  return {
    realCalls: 0,
    login(args) { this.realCalls += 1; if (args && args.success) args.success({ code: 'real-code', errMsg: 'login:ok' }); return undefined; },
    getStorageSync(key) { return storage[key] === undefined ? '' : storage[key]; },
    setStorageSync(key, value) { storage[key] = value; },
    getAccountInfoSync() { return { miniProgram: { envVersion } }; },
  };
}
(async () => {
  const out = {};
  const dev = fakeWx('develop');
  const uninstall = shim.install({ wx: dev, persona: 'alice' });
  out.promise = await dev.login();
  out.callback = await new Promise((resolve) => dev.login({ success: resolve }));
  dev.setStorageSync(shim.STORAGE_KEY, 'bob');
  out.stored = (await dev.login()).code;
  dev.setStorageSync(shim.STORAGE_KEY, 'oMallory_wxmockDemoPersona03');
  out.openid = (await dev.login()).code;
  dev.setStorageSync(shim.STORAGE_KEY, 'off');
  await new Promise((resolve) => dev.login({ success: resolve }));
  out.offCallsReal = dev.realCalls;
  dev.setStorageSync(shim.STORAGE_KEY, 'bad persona!');
  out.badFails = await new Promise((resolve) => dev.login({ fail: (e) => resolve(e.errMsg), success: () => resolve('succeeded') }));
  uninstall();
  out.restored = dev.login === undefined ? 'missing' : (dev.login.name === 'login' && dev.realCalls >= 1 ? 'real' : 'shim');
  const release = fakeWx('release');
  shim.install({ wx: release, persona: 'alice' });
  await new Promise((resolve) => release.login({ success: resolve }));
  out.releaseCallsReal = release.realCalls;
  const forced = fakeWx('trial');
  shim.install({ wx: forced, persona: 'bob', anyEnv: true });
  out.anyEnv = (await forced.login()).code;
  try { shim.install({ wx: fakeWx('develop'), persona: 'a b' }); out.invalidInstall = 'accepted'; }
  catch (e) { out.invalidInstall = e.message; }
  out.codeFor = shim.codeFor('alice');
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"#;

fn run_shim(test: &str) -> Option<Value> {
    let dir = std::env::temp_dir().join(format!("wxmock-shim-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shim = dir.join("wxmock-login.js");
    std::fs::write(&shim, LOGIN_SHIM).unwrap();
    let output = match Command::new("node")
        .arg("-e")
        .arg(SCRIPT)
        .arg(&shim)
        .output()
    {
        Ok(output) => output,
        Err(error) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the wx.login shim test: node is not available ({error})");
            return None;
        }
        Err(error) => panic!("node is required in CI for the wx.login shim test: {error}"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[tokio::test]
async fn the_shim_resolves_wx_login_to_codes_the_fake_logs_in_as_that_persona() {
    let Some(out) = run_shim("codes") else {
        return;
    };
    assert_eq!(out["promise"]["code"], "wxmock-as-alice", "{out}");
    assert_eq!(out["promise"]["errMsg"], "login:ok");
    assert_eq!(out["callback"]["code"], "wxmock-as-alice");
    assert_eq!(out["stored"], "wxmock-as-bob", "the storage setting wins");
    assert_eq!(out["openid"], format!("wxmock-as-{MALLORY_OPENID}"));
    assert_eq!(out["codeFor"], "wxmock-as-alice");
    // Each code logs in the persona it names, on the fake itself.
    let fake = fake();
    for (code, openid) in [
        (out["promise"]["code"].as_str().unwrap(), ALICE_OPENID),
        (out["stored"].as_str().unwrap(), BOB_OPENID),
    ] {
        assert_eq!(fake.exchange(code).await.json()["openid"], openid, "{code}");
    }
    // Mallory's openid code reaches her, and WeChat refuses her as it would.
    assert_eq!(
        fake.exchange(out["openid"].as_str().unwrap()).await.json()["errcode"],
        40226
    );
}

#[test]
fn the_shim_stays_out_of_the_way_outside_development() {
    let Some(out) = run_shim("env") else {
        return;
    };
    assert_eq!(
        out["offCallsReal"], 1,
        "'off' calls the real wx.login: {out}"
    );
    assert_eq!(
        out["releaseCallsReal"], 1,
        "a release build keeps the real wx.login"
    );
    assert_eq!(out["anyEnv"], "wxmock-as-bob", "anyEnv lifts that");
    assert_eq!(out["restored"], "real", "uninstall puts the real one back");
    assert!(
        out["badFails"].as_str().unwrap().starts_with("login:fail"),
        "{out}"
    );
    assert!(
        out["invalidInstall"]
            .as_str()
            .unwrap()
            .contains("persona must be"),
        "{out}"
    );
}
