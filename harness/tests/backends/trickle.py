"""A backend that answers its first request (the harness's readiness probe) at once, and every
later one at one byte a second: each answer is well-formed but never arrives within a timeout.
Usage: python3 trickle.py PORT"""

import socket
import sys
import threading
import time

ANSWER = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n{"token":"slow1"}'

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(128)


def trickle(conn):
    try:
        conn.recv(65536)
        for i in range(len(ANSWER)):
            conn.sendall(ANSWER[i : i + 1])
            time.sleep(1)
    except OSError:
        pass
    finally:
        conn.close()


first, _ = listener.accept()
first.recv(65536)
first.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
first.close()
while True:
    conn, _ = listener.accept()
    threading.Thread(target=trickle, args=(conn,), daemon=True).start()
