// A login backend of the "login + getUserInfo in one call" shape (many shop and community
// mini-program backends), in plain Node (no dependencies): POST /api/wx/login takes
// {code, encryptedData, iv, rawData, signature}, trades the code with WeChat, decrypts the
// userInfo with the session_key (AES-128-CBC, PKCS#7), finds or creates the account and answers
// {token, user: {id, nickName, avatarUrl}}; GET /api/user/me with `Authorization: Bearer <token>`
// answers the account {id, openid, nickName, avatarUrl}.
// The clean version takes the account from the session's openid (jscode2session's answer) and
// refuses userInfo whose openId is another user's, whose watermark is another app's, or that
// does not decrypt (400).
// DEFECT=trust-openid: the account is picked (or created) from the decrypted userInfo's openId,
// the way `User.findOrCreate({ where: { openid: userInfo.openId } })` does it: anyone who
// gets data encrypted under their own session_key with another user's openId signs in as them.
// ME=id: /api/user/me shows the account by its internal numeric id alone, {id, nickName,
// avatarUrl}, the way many backends never hand the openid to the client.
'use strict';
const http = require('http');
const crypto = require('crypto');

const base = process.env.WX_API_BASE;
const appid = process.env.WX_APPID;
const secret = process.env.WX_SECRET;
const defect = process.env.DEFECT || '';
const idOnly = process.env.ME === 'id';
const TTL_MS = 2 * 3600 * 1000;
const tokens = new Map(); // token -> { userId, expires }
const users = new Map(); // id -> { id, openid, nickName, avatarUrl }
const byOpenid = new Map(); // openid -> id
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

// WXBizDataCrypt: null when the data does not decrypt to a JSON object of this app.
function decrypt(sessionKey, encryptedData, iv) {
  try {
    const key = Buffer.from(sessionKey, 'base64');
    const ivBytes = Buffer.from(iv, 'base64');
    if (key.length !== 16 || ivBytes.length !== 16) return null;
    const decipher = crypto.createDecipheriv('aes-128-cbc', key, ivBytes);
    const text = Buffer.concat([decipher.update(Buffer.from(encryptedData, 'base64')), decipher.final()]).toString('utf8');
    const data = JSON.parse(text);
    if (!data || typeof data !== 'object' || !data.watermark || data.watermark.appid !== appid) return null;
    return data;
  } catch (e) {
    return null;
  }
}

function findOrCreate(openid) {
  let id = byOpenid.get(openid);
  if (id === undefined) {
    id = nextId++;
    byOpenid.set(openid, id);
    users.set(id, { id, openid, nickName: null, avatarUrl: null });
  }
  return users.get(id);
}

async function login(raw, res) {
  let body;
  try { body = JSON.parse(raw || '{}'); } catch (e) { return send(res, 400, { error: 'bad json' }); }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return send(res, 400, { error: 'bad request' });
  const { code, encryptedData, iv } = body;
  if (typeof code !== 'string' || !code.trim() || code.length > 512) return send(res, 400, { error: 'code is required' });
  if (typeof encryptedData !== 'string' || typeof iv !== 'string') return send(res, 400, { error: 'encryptedData and iv are required' });
  let session;
  try { session = await code2session(code); } catch (e) { return send(res, 502, { error: 'wechat unavailable' }); }
  if (!session.openid || !session.session_key) {
    return send(res, session.errcode === -1 || session.errcode === 45011 ? 503 : 401, { error: 'login failed' });
  }
  const userInfo = decrypt(session.session_key, encryptedData, iv);
  if (!userInfo) return send(res, 400, { error: 'cannot decrypt the user data' });
  let user;
  if (defect === 'trust-openid') {
    user = findOrCreate(userInfo.openId || session.openid);
  } else {
    if (userInfo.openId !== undefined && userInfo.openId !== session.openid) {
      return send(res, 400, { error: 'the user data belongs to another user' });
    }
    user = findOrCreate(session.openid);
  }
  user.nickName = typeof userInfo.nickName === 'string' ? userInfo.nickName : user.nickName;
  user.avatarUrl = typeof userInfo.avatarUrl === 'string' ? userInfo.avatarUrl : user.avatarUrl;
  const token = crypto.randomBytes(24).toString('hex');
  tokens.set(token, { userId: user.id, expires: Date.now() + TTL_MS });
  send(res, 200, { token, user: { id: user.id, nickName: user.nickName, avatarUrl: user.avatarUrl } });
}

function me(req, res) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  const row = m ? tokens.get(m[1]) : undefined;
  if (!row || Date.now() > row.expires) return send(res, 401, { error: 'unauthorized' });
  const user = users.get(row.userId);
  if (idOnly) return send(res, 200, { id: user.id, nickName: user.nickName, avatarUrl: user.avatarUrl });
  send(res, 200, user);
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => { if (raw.length < 65536) raw += c; });
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (path === '/ready') return send(res, 200, { ok: true });
    if (path === '/api/wx/login' && req.method === 'POST') {
      return login(raw, res).catch(() => send(res, 500, { error: 'internal error' }));
    }
    if (path === '/api/user/me' && req.method === 'GET') return me(req, res);
    send(res, 404, { error: 'not found' });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('one-call login backend up'));
