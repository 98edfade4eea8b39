"""Loopback ports for the processes the tool starts: Label Studio, its
PostgreSQL cluster and the ML backend."""

from __future__ import annotations

import socket


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing accepts connections on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def free_port(host: str) -> int:
    """A port the system has no listener on now (it may be taken before it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def can_listen(host: str, port: int) -> OSError | None:
    """None if a server could listen on `host:port` now, else why not (taken,
    privileged, an address not of this machine). Binding, not connecting, is the
    test: a port may refuse connections and still be held."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.create_server((host, port), family=family):
            return None
    except OSError as error:
        return error
