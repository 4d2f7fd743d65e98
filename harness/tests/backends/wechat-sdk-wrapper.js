// A mini-program login backend built on a WeChat SDK wrapper in the wechat-api style, in plain
// Node (no dependencies): an `API` class keeps the access token in memory with its expiry,
// `ensureAccessToken()` fetches one when there is none, and `request(fn)` runs a call with the
// token and, on 40001/40014/42001, drops the token, fetches a new one and calls again. Logins
// trade the code with jscode2session and keep {openid, session_key} under a random token;
// `GET /api/session-check` asks checksession (with the access token) whether the session_key
// is still current. The clean version retries once and never needs a token to log in.
// DEFECT (comma-separated) reproduces real bugs:
//   retry-forever  `request` calls itself again on every refusal (after a 10 ms pause), with no
//                  retry counter: while WeChat refuses every token it fetches token after token
//                  and never answers (until the daily quota runs out, or, in the synchronous
//                  SDKs this copies, the stack)
//   token-first    every SDK call, code2Session included, goes through ensureAccessToken()
//                  first, so a failing /cgi-bin/token fails every login
//   fail-open      /api/session-check answers {"valid":true} whenever WeChat's answer is not
//                  87009, errors included ("don't log users out because WeChat is flaky")
//   prefetch       fetches the access token once at start-up to warm the cache (with
//                  token-first: logins only fail once that token is stale on the backend's clock)
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const defects = new Set((process.env.DEFECT || '').split(',').filter(Boolean));
const TOKEN_ERRORS = new Set([40001, 40014, 42001]);

function getJson(url, options) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, Object.assign({ timeout: 2000 }, options), (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`wechat answered HTTP ${res.statusCode}`));
        try { resolve(JSON.parse(text)); } catch (e) { reject(new Error('wechat answered no json')); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('wechat timed out')));
    req.on('error', reject);
    req.end();
  });
}

class API {
  constructor(appid, appsecret) {
    this.appid = appid;
    this.appsecret = appsecret;
    this.store = null; // { accessToken, expireTime }
  }

  async getAccessToken() {
    const q = new URLSearchParams({ grant_type: 'client_credential', appid: this.appid, secret: this.appsecret });
    const data = await getJson(`${base}/cgi-bin/token?${q}`);
    if (data.errcode) throw new Error(`get access token failed: ${data.errcode}`);
    this.store = { accessToken: data.access_token, expireTime: Date.now() + (data.expires_in - 10) * 1000 };
    return this.store.accessToken;
  }

  async ensureAccessToken() {
    if (this.store && Date.now() < this.store.expireTime) return this.store.accessToken;
    return this.getAccessToken();
  }

  async request(fn, retried) {
    const token = await this.ensureAccessToken();
    const data = await fn(token);
    if (TOKEN_ERRORS.has(data.errcode)) {
      this.store = null;
      if (defects.has('retry-forever')) {
        await new Promise((resolve) => setTimeout(resolve, 10)); // "let the new token settle"
        return this.request(fn, true);
      }
      if (!retried) return this.request(fn, true);
    }
    return data;
  }

  async code2Session(code) {
    if (defects.has('token-first')) await this.ensureAccessToken();
    const q = new URLSearchParams({ appid: this.appid, secret: this.appsecret, js_code: code, grant_type: 'authorization_code' });
    return getJson(`${base}/sns/jscode2session?${q}`);
  }

  checkSession(openid, sessionKey) {
    const signature = crypto.createHmac('sha256', sessionKey).update('').digest('hex');
    return this.request((token) => {
      const q = new URLSearchParams({ access_token: token, openid, signature, sig_method: 'hmac_sha256' });
      return getJson(`${base}/wxa/checksession?${q}`);
    });
  }
}

const api = new API(process.env.WX_APPID, process.env.WX_SECRET);
const sessions = new Map(); // token -> { openid, sessionKey }

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

function sessionOf(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  return m ? sessions.get(m[1]) : undefined;
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', async () => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/ready') return send(res, 200, { ok: true });
    if (url.pathname === '/api/login' && req.method === 'POST') {
      let code;
      try { code = JSON.parse(raw || '{}').code; } catch (e) { return send(res, 400, { error: 'bad json' }); }
      if (typeof code !== 'string' || code.trim() === '') return send(res, 400, { error: 'missing code' });
      let answer;
      try { answer = await api.code2Session(code); } catch (e) { return send(res, 502, { error: 'wechat unavailable' }); }
      if (!answer.openid || !answer.session_key) {
        return send(res, answer.errcode === -1 || answer.errcode === 45011 ? 503 : 400, { error: 'login failed' });
      }
      const token = crypto.randomBytes(24).toString('hex');
      sessions.set(token, { openid: answer.openid, sessionKey: answer.session_key });
      return send(res, 200, { token, openid: answer.openid });
    }
    const session = sessionOf(req);
    if (url.pathname === '/api/me' && req.method === 'GET') {
      if (!session) return send(res, 401, { error: 'unauthorized' });
      return send(res, 200, { openid: session.openid });
    }
    if (url.pathname === '/api/session-check' && req.method === 'GET') {
      if (!session) return send(res, 401, { error: 'unauthorized' });
      let data;
      try { data = await api.checkSession(session.openid, session.sessionKey); } catch (e) {
        return send(res, 502, { error: 'wechat unavailable' });
      }
      if (!data.errcode || (defects.has('fail-open') && data.errcode !== 87009)) return send(res, 200, { valid: true });
      if (data.errcode === 87009) return send(res, 200, { valid: false });
      return send(res, 502, { error: 'wechat refused the call' });
    }
    send(res, 404, { error: 'not found' });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => {
  if (defects.has('prefetch')) api.getAccessToken().catch(() => {});
  console.log('wechat sdk wrapper backend up');
});
