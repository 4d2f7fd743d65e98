// A mini-program login backend in plain Node (no dependencies) that hard-codes WeChat's URL, as
// real ones do: there is no setting for the API's address. The harness tests it unchanged by
// impersonating api.weixin.qq.com (the Node preload takes its https.get and fetch calls).
// Opaque random bearer tokens; phone numbers and checksession through a cached access token,
// refreshed when WeChat calls it invalid or expired.
// DEFECT=token-on-errcode reproduces a real bug: a token is issued whatever WeChat answered.
'use strict';
const http = require('http');
const https = require('https');
const crypto = require('crypto');

const WECHAT = 'https://api.weixin.qq.com';
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defect = process.env.DEFECT || '';
const sessions = new Map(); // token -> { openid, sessionKey }
let accessToken = null; // { value, expiresAt }

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

// GET with https.get, bounded in time; resolves to the parsed JSON answer.
function getJson(path) {
  return new Promise((resolve, reject) => {
    const req = https.get(WECHAT + path, { timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        try { resolve(JSON.parse(text)); } catch (e) { reject(new Error('not json')); }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// POST with fetch, bounded in time.
async function postJson(path, body) {
  const res = await fetch(WECHAT + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(2000),
  });
  return JSON.parse(await res.text());
}

const q = encodeURIComponent;

async function token() {
  if (accessToken && accessToken.expiresAt > Date.now()) return accessToken.value;
  const answer = await getJson(`/cgi-bin/token?grant_type=client_credential&appid=${q(appid)}&secret=${q(secret)}`);
  if (!answer.access_token) throw new Error('no access token');
  accessToken = { value: answer.access_token, expiresAt: Date.now() + ((answer.expires_in || 7200) - 300) * 1000 };
  return accessToken.value;
}

// Calls `op(token)`; once more with a new token when WeChat says the old one is invalid/expired.
async function withToken(op) {
  let answer = await op(await token());
  if ([40001, 40014, 42001].includes(answer.errcode)) {
    accessToken = null;
    answer = await op(await token());
  }
  return answer;
}

function caller(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  return m ? sessions.get(m[1]) : undefined;
}

async function route(req, res, raw) {
  if (req.url === '/ready') return send(res, 200, { ok: true });
  if (req.url === '/api/login' && req.method === 'POST') {
    let code;
    try { code = JSON.parse(raw || '{}').code; } catch (e) { return send(res, 400, { error: 'bad json' }); }
    if (typeof code !== 'string' || code.trim() === '') return send(res, 400, { error: 'missing code' });
    const answer = await getJson(`/sns/jscode2session?appid=${q(appid)}&secret=${q(secret)}&js_code=${q(code)}&grant_type=authorization_code`);
    if (!answer.openid && defect !== 'token-on-errcode') {
      return send(res, answer.errcode === -1 || answer.errcode === 45011 ? 503 : 401, { error: 'login failed' });
    }
    const t = crypto.randomBytes(24).toString('hex');
    sessions.set(t, { openid: answer.openid || '', sessionKey: answer.session_key || '' });
    return send(res, 200, { token: t });
  }
  const who = caller(req);
  if (req.url.startsWith('/api/') && !who) return send(res, 401, { error: 'unauthorized' });
  if (req.url === '/api/me' && req.method === 'GET') return send(res, 200, { openid: who.openid });
  if (req.url === '/api/phone' && req.method === 'POST') {
    let code;
    try { code = JSON.parse(raw || '{}').code; } catch (e) { return send(res, 400, { error: 'bad json' }); }
    if (typeof code !== 'string' || code.trim() === '') return send(res, 400, { error: 'missing code' });
    const answer = await withToken((t) => postJson(`/wxa/business/getuserphonenumber?access_token=${q(t)}`, { code }));
    if (!answer.phone_info) return send(res, answer.errcode === 40029 ? 400 : 502, { error: 'phone failed' });
    return send(res, 200, { phoneNumber: answer.phone_info.phoneNumber });
  }
  if (req.url === '/api/session-check' && req.method === 'GET') {
    const signature = crypto.createHmac('sha256', who.sessionKey).update('').digest('hex');
    const answer = await withToken((t) => getJson(`/wxa/checksession?access_token=${q(t)}&openid=${q(who.openid)}&signature=${signature}&sig_method=hmac_sha256`));
    if (!answer.errcode) return send(res, 200, { valid: true });
    if (answer.errcode === 87009) return send(res, 200, { valid: false });
    return send(res, 502, { error: 'upstream error' });
  }
  send(res, 404, { error: 'not found' });
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    route(req, res, raw).catch(() => send(res, 502, { error: 'upstream error' }));
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('hard-coded WeChat backend (node) up'));
