"""A login backend in the Flask + PyJWT style, in Python's standard library: a login answers an
HS256 JWT {sub, iat, exp} living two hours, and protected routes read `Authorization: Bearer
<token>` and call `decode`, which follows PyJWT's `jwt.decode(token, key, algorithms=["HS256"],
leeway=..., options=...)`: HS256 only, then expired when `exp <= now - leeway`, and immature
when `iat > now + leeway` (seconds on the process's wall clock). The key is random and never given
to the harness: expiry can only be judged by moving this process's clock (libfaketime).
DEFECT reproduces real bugs:
  leeway-day   `leeway=timedelta(days=1)`, added to quiet "Signature has expired" reports from
               phones with a wrong clock: every token works for a day past its exp
  no-verify-exp  `options={"verify_exp": False}`, copied from a debugging answer: exp never checked
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = os.environ["WX_API_BASE"]
APPID = os.environ["WX_APPID"]
SECRET = os.environ["WX_SECRET"]
DEFECT = os.environ.get("DEFECT", "")
KEY = secrets.token_bytes(32)
TTL_SECS = 2 * 3600
LEEWAY = 86400 if DEFECT == "leeway-day" else 0
VERIFY_EXP = DEFECT != "no-verify-exp"


class InvalidToken(Exception):
    pass


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(payload):
    head = b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def decode(token, leeway=0, verify_exp=True):
    """PyJWT's decode, as far as HS256, exp and iat go: raises InvalidToken on any problem."""
    try:
        head, body, mac = token.split(".")
        if json.loads(unb64(head)).get("alg") != "HS256":
            raise InvalidToken("invalid algorithm")
        want = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, unb64(mac)):
            raise InvalidToken("signature verification failed")
        payload = json.loads(unb64(body))
    except (ValueError, AttributeError, TypeError) as e:
        raise InvalidToken("not enough segments") from e
    now = time.time()
    if isinstance(payload.get("iat"), int) and payload["iat"] > now + leeway:
        raise InvalidToken("the token is not yet valid (iat)")
    if verify_exp and "exp" in payload and payload["exp"] <= now - leeway:
        raise InvalidToken("signature has expired")
    return payload


def code2session(code):
    query = urllib.parse.urlencode({"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"})
    with urllib.request.urlopen(f"{BASE}/sns/jscode2session?{query}", timeout=2) as answer:
        return json.loads(answer.read().decode())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ready":
            return self.send(200, {"ok": True})
        if self.path != "/api/me":
            return self.send(404, {"message": "not found"})
        auth = self.headers.get("authorization") or ""
        try:
            payload = decode(auth.removeprefix("Bearer "), leeway=LEEWAY, verify_exp=VERIFY_EXP)
        except InvalidToken:
            return self.send(401, {"message": "invalid token"})
        self.send(200, {"openid": payload.get("sub")})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != "/api/login":
            return self.send(404, {"message": "not found"})
        try:
            code = json.loads(raw or b"{}").get("code")
        except (ValueError, AttributeError):
            code = None
        if not isinstance(code, str) or not code.strip() or len(code) > 512:
            return self.send(400, {"message": "code required"})
        try:
            answer = code2session(code)
        except (OSError, ValueError):
            return self.send(502, {"message": "WeChat unavailable"})
        if not isinstance(answer, dict) or not answer.get("openid"):
            errcode = answer.get("errcode") if isinstance(answer, dict) else None
            return self.send(503 if errcode in (-1, 45011) else 401, {"message": "login failed"})
        iat = int(time.time())
        self.send(200, {"token": encode({"sub": answer["openid"], "iat": iat, "exp": iat + TTL_SECS})})


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("flask-pyjwt-style backend up", flush=True)
server.serve_forever()
