"""nova's and placement's APIs of the in-process cloud on real sockets.

nova's functional fixtures serve their APIs through wsgi-intercept, which
only the test process itself can reach.  A DC-S started as a separate
process (to be SIGKILLed) needs them over HTTP: this serves the same WSGI
applications -- on the same databases and services -- on 127.0.0.1, each
in a thread of the test process.

Each server stands in for keystonemiddleware: a request must carry the
``X-Auth-Token`` it was given, and it is then passed on with the identity
headers nova's API fixture reads (an admin of the fixture's project); any
other token gets 401.  DC-S reaches it with ``auth_type = admin_token``.
"""

import socket
import socketserver
import threading
import time
import wsgiref.simple_server

from nova.api import wsgi as nova_wsgi
from placement import deploy


class _Server(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):  # the apps log what matters
        pass


def _with_token(app, token, headers):
    def checked(environ, start_response):
        if environ.get("HTTP_X_AUTH_TOKEN") != token:
            start_response("401 Unauthorized", [("Content-Length", "0")])
            return [b""]
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        return app(environ, start_response)

    return checked


class HTTPApp:
    """One WSGI application served on 127.0.0.1 in a thread."""

    def __init__(self, app, prefix: str) -> None:
        self.server = wsgiref.simple_server.make_server(
            "127.0.0.1", 0, app, _Server, _QuietHandler
        )
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d%s" % (self.port, prefix)
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True
        )

    def start(self, timeout: float = 10.0) -> "HTTPApp":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while True:  # ready: the socket answers
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    return self
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        "HTTP server on port %d not ready: %s"
                        % (self.port, exc)
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve_nova(test_case, token: str) -> HTTPApp:
    """nova's compute API (the fixture's pipeline) at ``.url`` + /v2.1."""
    app = nova_wsgi.Loader().load_app("osapi_compute")
    headers = {
        "X-Auth-User": "admin",
        "X-Auth-Project-Id": test_case.api_fixture.project_id,
        "X-Roles": "admin,member,reader",
    }
    served = HTTPApp(_with_token(app, token, headers), "/v2.1").start()
    test_case.addCleanup(served.stop)
    return served


def serve_placement(test_case) -> HTTPApp:
    """placement (noauth2: its token is the fixture's) at ``.url``."""
    fixture = test_case.placement.fixture
    app = deploy.loadapp(fixture.conf_fixture.conf)
    served = HTTPApp(app, "").start()
    test_case.addCleanup(served.stop)
    return served
