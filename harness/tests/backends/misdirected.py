"""A login backend that is not talking to the WeChat it was given, the most common first-run
mistake. MODE=other-appid calls the fake with an appid and secret of its own (a team's real AppID
left in its config); MODE=real-wechat never reaches the fake (it still calls the real WeChat,
which this machine cannot reach) and answers 502. Login only: `POST /api/login {"code"}`."""

import json
import os
import secrets
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = os.environ["WX_API_BASE"]
MODE = os.environ.get("MODE", "other-appid")
OWN_APPID = "wx00000000000000ff"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ready":
            self.answer(200, {"ok": True})
        else:
            self.answer(401, {"error": "unauthorized"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            code = json.loads(self.rfile.read(length) or b"{}").get("code")
        except (ValueError, AttributeError):
            code = None
        if not isinstance(code, str) or not code.strip():
            return self.answer(400, {"error": "code required"})
        if MODE == "real-wechat":
            return self.answer(502, {"error": "wechat unreachable"})
        query = urllib.parse.urlencode(
            {"appid": OWN_APPID, "secret": "its-own-secret", "js_code": code,
             "grant_type": "authorization_code"})
        with urllib.request.urlopen(f"{BASE}/sns/jscode2session?{query}", timeout=5) as r:
            session = json.loads(r.read())
        if "openid" not in session:
            return self.answer(401, {"error": "login failed"})
        self.answer(200, {"token": secrets.token_hex(16)})


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
