"""A small threaded TCP proxy that can stall or refuse, for fault tests.

Put it in front of a real database server: clients connect to
``proxy.port`` and the proxy forwards bytes both ways.  Modes:

* :meth:`TCPProxy.forward` (the start mode): bytes flow.
* :meth:`TCPProxy.stall`: the proxy keeps accepting connections and keeps
  existing ones open but forwards nothing, like a database host that hangs
  or a network that drops packets silently.
* :meth:`TCPProxy.refuse`: every connection is closed and new ones are
  closed as soon as they are accepted, like a stopped server.

Bytes that arrive while stalled are held back, not dropped, and flow on
when forwarding resumes (a stall, not corruption).
"""

import socket
import threading

FORWARD, STALL, REFUSE = "forward", "stall", "refuse"


class TCPProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._mode = FORWARD
        self._cond = threading.Condition()
        self._conns: list[socket.socket] = []
        self._closed = False
        #: Connections accepted so far (tests read it).
        self.accepted = 0
        self._thread = threading.Thread(
            target=self._accept_loop, name="tcpproxy-accept", daemon=True
        )
        self._thread.start()

    # -- modes -------------------------------------------------------------

    def forward(self) -> None:
        self._set(FORWARD)

    def stall(self) -> None:
        self._set(STALL)

    def refuse(self) -> None:
        self._set(REFUSE)
        self._drop_all()

    def _set(self, mode: str) -> None:
        with self._cond:
            self._mode = mode
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._mode = REFUSE
            self._cond.notify_all()
        self._listener.close()
        self._drop_all()

    def _drop_all(self) -> None:
        with self._cond:
            conns, self._conns = self._conns, []
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    # -- plumbing ----------------------------------------------------------

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._cond:
                self.accepted += 1
                refuse = self._mode == REFUSE or self._closed
            if refuse:
                client.close()
                continue
            threading.Thread(
                target=self._connect, args=(client,), daemon=True
            ).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._cond:
            self._conns.extend((client, upstream))
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(
                target=self._pump, args=(src, dst), daemon=True
            ).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._cond:
                    # Hold the bytes while stalled; give up when refused.
                    while self._mode == STALL:
                        self._cond.wait()
                    if self._mode == REFUSE:
                        break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
