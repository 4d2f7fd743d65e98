"""A mini-program login backend in the "everything is HTTP 200" style common in Chinese tutorials,
in Python's standard library: the code comes in an `X-WX-Code` header, every answer is HTTP 200
with an envelope `{"code": 0, "msg": ..., "data": ...}`, the login's token is at /data/token, and
protected requests send it in an `X-Token` header. Without a valid token /user/info still answers
HTTP 200, with `{"code": 401, "msg": "请先登录"}`."""
import json
import os
import secrets
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = os.environ["WX_API_BASE"]
APPID = os.environ["WX_APPID"]
SECRET = os.environ["WX_SECRET"]
TOKENS = {}  # token -> openid
LOCK = threading.Lock()


def code2session(code):
    query = urllib.parse.urlencode({"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"})
    with urllib.request.urlopen(f"{BASE}/sns/jscode2session?{query}", timeout=2) as answer:
        return json.loads(answer.read().decode())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, body, status=200):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ready":
            return self.send({"code": 0, "msg": "ok"})
        if self.path.split("?")[0] == "/user/info":
            with LOCK:
                openid = TOKENS.get(self.headers.get("x-token") or "")
            if openid is None:
                return self.send({"code": 401, "msg": "请先登录"})
            return self.send({"code": 0, "msg": "ok", "data": {"openid": openid}})
        return self.send({"code": 404, "msg": "not found"}, 404)

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.split("?")[0] != "/wx/login":
            return self.send({"code": 404, "msg": "not found"}, 404)
        code = (self.headers.get("x-wx-code") or "").strip()
        if not code or len(code) > 512:
            return self.send({"code": 400, "msg": "code required"})
        try:
            answer = code2session(code)
        except (OSError, ValueError):
            return self.send({"code": 502, "msg": "WeChat unavailable"})
        if not isinstance(answer, dict) or not answer.get("openid"):
            return self.send({"code": 401, "msg": "login failed"})
        token = secrets.token_hex(24)
        with LOCK:
            TOKENS[token] = answer["openid"]
        self.send({"code": 0, "msg": "ok", "data": {"token": token}})


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("header-code-envelope backend up", flush=True)
server.serve_forever()
