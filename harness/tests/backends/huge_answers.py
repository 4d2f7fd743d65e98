"""A backend that answers every request with a huge body (50 MB by default, HUGE_BYTES to
change it), streamed so the backend itself stays small: the harness must read only what it
documents, keep its memory bounded and finish. Usage: python3 huge_answers.py PORT"""

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIZE = int(os.environ.get("HUGE_BYTES", str(50 * 1024 * 1024)))
# A JSON-looking start, so a reader that does not stop would try to keep and parse it all.
HEAD = b'{"token":"'
CHUNK = b"A" * (64 * 1024)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(SIZE))
        self.end_headers()
        try:
            self.wfile.write(HEAD)
            sent = len(HEAD)
            while sent < SIZE:
                part = CHUNK[: min(len(CHUNK), SIZE - sent)]
                self.wfile.write(part)
                sent += len(part)
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped reading, as it should past its limit.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
