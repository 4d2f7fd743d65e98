"""A mini-program login backend in Python's standard library: JSON login, HS256 JWTs with an
expiry sent as `Authorization: Bearer`, 401 for anything it cannot verify.
DEFECT=die-on-garbage reproduces a real crash: when WeChat's answer is not JSON (an HTML 502
page, garbage, an empty body) the process dies, as a Node backend does when JSON.parse throws
in a callback nobody catches."""

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
KEY = os.environ["JWT_SECRET"].encode()
DEFECT = os.environ.get("DEFECT", "")
LIFETIME = 3600


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def verify(token):
    """The claims of a valid, unexpired token signed with KEY; None otherwise."""
    try:
        head, body, mac = token.split(".")
        if json.loads(unb64(head)).get("alg") != "HS256":
            return None
        want = hmac.new(KEY, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, unb64(mac)):
            return None
        claims = json.loads(unb64(body))
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), (int, float)):
            return None
        return claims if claims["exp"] > time.time() else None
    except (ValueError, AttributeError, TypeError):
        return None


def code2session(code):
    query = urllib.parse.urlencode({"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"})
    with urllib.request.urlopen(f"{BASE}/sns/jscode2session?{query}", timeout=2) as answer:
        text = answer.read().decode(errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        if DEFECT == "die-on-garbage":
            print(f"fatal: unexpected WeChat answer {text[:40]!r}, giving up", flush=True)
            os._exit(70)
        raise


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
        auth = self.headers.get("authorization") or ""
        claims = verify(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None
        if claims is None:
            return self.send(401, {"error": "unauthorized"})
        if self.path == "/api/me":
            return self.send(200, {"openid": claims.get("sub")})
        self.send(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != "/api/login":
            return self.send(404, {"error": "not found"})
        try:
            code = json.loads(raw or b"{}").get("code")
        except (ValueError, AttributeError):
            code = None
        if not isinstance(code, str) or not code.strip() or len(code) > 512:
            return self.send(400, {"error": "missing code"})
        try:
            answer = code2session(code)
        except (OSError, ValueError):
            return self.send(502, {"error": "upstream error"})
        if not isinstance(answer, dict) or not answer.get("openid"):
            errcode = answer.get("errcode") if isinstance(answer, dict) else None
            return self.send(503 if errcode in (-1, 45011) else 401, {"error": "login failed"})
        now = int(time.time())
        token = sign({"sub": answer["openid"], "jti": secrets.token_hex(8), "iat": now, "exp": now + LIFETIME})
        self.send(200, {"token": token})


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("python backend up", flush=True)
server.serve_forever()
