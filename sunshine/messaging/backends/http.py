"""A small keep-alive HTTP client for the gateways (standard library only).

One connection per thread and endpoint, reused across calls and across gateway instances,
so a send loop does not pay a TCP (or TLS) handshake per batch.
"""

import http.client
import threading
from urllib.parse import urlsplit


class GatewayUnavailable(ConnectionError):
    """The whole call failed: refused, reset, timed out or unreadable. The provider may or
    may not have taken the messages (OutId lets the receipts tell)."""


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class KeepAliveClient:
    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"网关地址“{url}”无效：应以 http:// 或 https:// 开头。")
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        """Send one request on this thread's connection; return (status, body).

        A connection the server closed while idle is detected on first use and the request is
        sent once more on a fresh one (what urllib3 does too). Anything else raises
        GatewayUnavailable."""
        target = self.base_path + path
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._local.conn = self._connect()
            try:
                conn.request(method, target, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
            except _STALE as exc:
                self.close()
                if reused and attempt == 1:
                    continue
                raise GatewayUnavailable(f"短信网关 {self.url} 断开连接：{exc!r}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise GatewayUnavailable(f"短信网关 {self.url} 无法访问：{exc!r}") from exc
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")


_clients: dict[tuple[str, float], KeepAliveClient] = {}
_clients_lock = threading.Lock()


def client_for(url: str, timeout: float) -> KeepAliveClient:
    """The shared client for an endpoint (its connections are per thread)."""
    key = (url, float(timeout))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = KeepAliveClient(url, timeout)
        return client
