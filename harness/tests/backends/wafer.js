// A login backend in the style of Tencent's Wafer SDK (qcloud-weapp-server-sdk), plain Node:
// GET /weapp/login (GET only, as the SDK's route: another method is answered 405) carries the
// code AND the user's encrypted data in headers (X-WX-Code, X-WX-Encrypted-Data, X-WX-IV, all
// required); the backend decrypts it with the session_key jscode2session returns and answers a
// two-part session {id, skey}; protected requests carry X-WX-Id and X-WX-Skey, and /weapp/user
// shows the stored userInfo. Like Wafer, refusals are
// HTTP 200 with the magic id and an `error` field.
// SKEY_COOKIE=NAME: the skey travels as a cookie instead (the login sets it with Set-Cookie and
// the protected request carries it back), the id stays a header: a header + cookie credential.
// DEFECT=any-watermark: the watermark's appid is not checked (data of another mini-program passes).
// DEFECT=stack-trace: a decryption error answers with the exception's stack.
// DEFECT=id-only: the session is found by its id and the skey is never checked.
// DEFECT=skey-only: the session is found by the skey alone; the id is never checked.
// DEFECT=any-skey: the id must name a session and the skey must be some live session's skey,
//   not necessarily that one's (a set of valid keys instead of a per-session compare).
// DEFECT=crash-on-missing-part: a valid id without a skey throws (HTTP 500).
// DEFECT=no-expiry: a session is never checked against its lifetime (it works forever).
// A session lives 2 h from its login, as the SDK's wxLoginExpires (7200 s by default) checked
// against the last_visit_time the login stores, read on the process's own clock (Date.now, so
// libfaketime moves it).
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defect = process.env.DEFECT || '';
const skeyCookie = process.env.SKEY_COOKIE || '';
const MAGIC = 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';
const sessions = new Map(); // id -> {skey, openid, userInfo, lastVisit}
const LOGIN_EXPIRES_MS = 7200 * 1000;

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

function refuse(res, error, message) {
  send(res, 200, { [MAGIC]: 1, error, message });
}

function code2session(code) {
  const url = `${base}/sns/jscode2session?appid=${encodeURIComponent(appid)}&secret=${encodeURIComponent(secret)}` +
    `&js_code=${encodeURIComponent(code)}&grant_type=authorization_code`;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        try { resolve(JSON.parse(text)); } catch (e) { reject(new Error('not json')); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function decrypt(sessionKey, encryptedData, iv, openid) {
  const decipher = crypto.createDecipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(iv, 'base64'));
  decipher.setAutoPadding(true);
  const text = Buffer.concat([decipher.update(Buffer.from(encryptedData, 'base64')), decipher.final()]).toString('utf8');
  const data = JSON.parse(text);
  if (defect !== 'any-watermark' && (!data.watermark || data.watermark.appid !== appid)) {
    throw new Error('watermark mismatch');
  }
  if (data.openId && data.openId !== openid) throw new Error('data of another user');
  return data;
}

async function login(req, res) {
  const code = req.headers['x-wx-code'];
  const encryptedData = req.headers['x-wx-encrypted-data'];
  const iv = req.headers['x-wx-iv'];
  if (!code || !encryptedData || !iv) return refuse(res, 'ERR_HEADER_MISSED', 'X-WX-Code, X-WX-Encrypted-Data and X-WX-IV are required');
  let answer;
  try { answer = await code2session(code); } catch (e) { return refuse(res, 'ERR_LOGIN_FAILED', 'WeChat did not answer'); }
  if (!answer.openid || !answer.session_key) return refuse(res, 'ERR_LOGIN_FAILED', `WeChat said ${answer.errcode}`);
  let userInfo;
  try {
    userInfo = decrypt(answer.session_key, encryptedData, iv, answer.openid);
  } catch (e) {
    return refuse(res, 'ERR_LOGIN_FAILED', defect === 'stack-trace' ? e.stack : 'cannot decrypt the user data');
  }
  const id = crypto.randomUUID();
  const skey = crypto.randomBytes(20).toString('hex');
  sessions.set(id, { skey, openid: answer.openid, userInfo, lastVisit: Date.now() });
  if (skeyCookie) {
    res.setHeader('set-cookie', `${skeyCookie}=${skey}; Path=/; HttpOnly`);
    return send(res, 200, { [MAGIC]: 1, session: { id } });
  }
  send(res, 200, { [MAGIC]: 1, session: { id, skey } });
}

function cookie(req, name) {
  for (const pair of (req.headers.cookie || '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

function sameKey(given, stored) {
  return given.length === stored.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(stored));
}

// The session the request's id and skey name, or undefined (each defect a real-world slip).
function sessionOf(req) {
  const id = req.headers['x-wx-id'];
  const skey = skeyCookie ? cookie(req, skeyCookie) : req.headers['x-wx-skey'];
  if (defect === 'skey-only') return [...sessions.values()].find((s) => s.skey === skey);
  const s = sessions.get(id || '');
  if (!s) return undefined;
  if (defect === 'id-only') return s;
  if (defect === 'crash-on-missing-part') return sameKey(skey, s.skey) ? s : undefined; // throws on undefined
  if (defect === 'any-skey') return [...sessions.values()].some((o) => sameKey(skey || '', o.skey)) ? s : undefined;
  return sameKey(skey || '', s.skey) ? s : undefined;
}

function user(req, res) {
  let s;
  try {
    s = sessionOf(req);
  } catch (e) {
    res.statusCode = 500;
    return res.end('Internal Server Error');
  }
  if (!s) return refuse(res, 'ERR_INVALID_SESSION', 'login again');
  if (defect !== 'no-expiry' && Date.now() > s.lastVisit + LOGIN_EXPIRES_MS) {
    return refuse(res, 'ERR_INVALID_SESSION', 'the session expired, login again');
  }
  send(res, 200, { code: 0, data: { userInfo: s.userInfo } });
}

http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (path === '/ready') return send(res, 200, { ok: true });
    if (path === '/weapp/login' && req.method !== 'GET') return send(res, 405, { error: 'method not allowed' });
    if (path === '/weapp/login') return login(req, res).catch(() => refuse(res, 'ERR_LOGIN_FAILED', 'internal'));
    if (path === '/weapp/user') return user(req, res);
    send(res, 404, { error: 'not found' });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('wafer-style backend up'));
