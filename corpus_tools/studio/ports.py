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
