// A login backend in the database-token style (Django REST framework's TokenAuthentication,
// ported to plain Node): POST /api/login {code} gives an opaque random key, protected requests
// send it raw in a `Token` header. POST /api/profile takes the user's encrypted data in the
// body, decrypts and stores it, and only acknowledges ({"id": N}); GET /api/profile reads the
// stored profile back.
// DEFECT=any-watermark: the watermark's appid is not checked.
// DEFECT=truncate-nickname: the stored nickName is cut to 20 characters (a VARCHAR(20) column).
// DEFECT=trust-openid: the profile goes to the account of the decrypted openId, found or created,
// and the token is moved to that account (`user, _ = User.objects.get_or_create(openid=data['openId'])`
// then `token.user = user`): data encrypted under one's own session_key with another user's
// openId signs the token in as them.
// DEFECT=no-expiry: stock TokenAuthentication, whose token rows have no expiry: a key works
// forever.
// ME=id: GET /api/me shows the account by its numeric id alone ({"id": N}, no openid).
// A key lives 2 h from its creation (the usual ExpiringTokenAuthentication: `token.created` plus
// a timedelta), read on the process's own clock (Date.now, so libfaketime moves it).
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defect = process.env.DEFECT || '';
const idOnly = process.env.ME === 'id';
const tokens = new Map(); // key -> {user: id, created}
const TOKEN_LIFETIME_MS = 2 * 3600 * 1000;
const users = new Map(); // id -> {openid, session_key, profile}
const byOpenid = new Map();
let nextId = 1;

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
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

function caller(req) {
  const row = tokens.get(req.headers.token || '');
  if (row === undefined) return null;
  if (defect !== 'no-expiry' && Date.now() > row.created + TOKEN_LIFETIME_MS) return null;
  return users.get(row.user);
}

function findOrCreate(openid) {
  let id = byOpenid.get(openid);
  if (id === undefined) {
    id = nextId++;
    byOpenid.set(openid, id);
    users.set(id, { id, openid, profile: null });
  }
  return users.get(id);
}

async function login(body, res) {
  const code = body && body.code;
  if (typeof code !== 'string' || !code.trim() || code.length > 512) return send(res, 400, { detail: 'code is required' });
  let answer;
  try { answer = await code2session(code); } catch (e) { return send(res, 502, { detail: 'WeChat is unavailable' }); }
  if (!answer.openid) {
    return send(res, answer.errcode === -1 || answer.errcode === 45011 ? 503 : 401, { detail: 'login failed' });
  }
  const user = findOrCreate(answer.openid);
  user.session_key = answer.session_key;
  const key = crypto.randomBytes(20).toString('hex');
  tokens.set(key, { user: user.id, created: Date.now() });
  send(res, 200, { token: key });
}

function saveProfile(u, key, body, res) {
  if (!body || typeof body.encryptedData !== 'string' || typeof body.iv !== 'string') {
    return send(res, 400, { detail: 'encryptedData and iv are required' });
  }
  let data;
  try {
    const decipher = crypto.createDecipheriv('aes-128-cbc', Buffer.from(u.session_key, 'base64'), Buffer.from(body.iv, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(body.encryptedData, 'base64')), decipher.final()]).toString('utf8');
    data = JSON.parse(text);
  } catch (e) {
    return send(res, 400, { detail: 'cannot decrypt' });
  }
  if (defect !== 'any-watermark' && (!data.watermark || data.watermark.appid !== appid)) {
    return send(res, 400, { detail: 'wrong watermark' });
  }
  if (defect === 'trust-openid' && typeof data.openId === 'string') {
    u = findOrCreate(data.openId);
    tokens.get(key).user = u.id;
  } else if (data.openId && data.openId !== u.openid) {
    return send(res, 400, { detail: 'not your data' });
  }
  if (defect === 'truncate-nickname' && typeof data.nickName === 'string') {
    data.nickName = Array.from(data.nickName).slice(0, 20).join('');
  }
  u.profile = data;
  send(res, 200, { id: u.id });
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (path === '/ready') return send(res, 200, { ok: true });
    let body = null;
    try { body = raw ? JSON.parse(raw) : {}; } catch (e) { return send(res, 400, { detail: 'bad JSON' }); }
    if (path === '/api/login' && req.method === 'POST') return login(body, res).catch(() => send(res, 500, { detail: 'error' }));
    const u = caller(req);
    if (!u) return send(res, 401, { detail: 'Invalid token.' });
    if (path === '/api/me') return send(res, 200, idOnly ? { id: u.id } : { id: u.id, openid: u.openid });
    if (path === '/api/profile' && req.method === 'POST') return saveProfile(u, req.headers.token, body, res);
    if (path === '/api/profile') return send(res, 200, u.profile || {});
    send(res, 404, { detail: 'not found' });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('opaque-token backend up'));
