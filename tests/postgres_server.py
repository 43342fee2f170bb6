"""A throwaway PostgreSQL server for tests: Debian's server binaries, initdb into a temporary directory.

``initdb`` and ``postgres`` refuse to run as root (CI runs as root), so as root the server runs as the
unprivileged ``postgres`` user that Debian's package creates; otherwise as the current user. It listens
on 127.0.0.1 only, with password (SCRAM) authentication, so tests exercise the same login an operator
configures. Where no server binaries exist, ``find_bin_dir`` returns None and the tests skip with one
line (``.ci/run`` installs Debian's ``postgresql`` so that they run in CI).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

UNPRIVILEGED_USER = "postgres"
SUPERUSER = "optout_test"


def find_bin_dir() -> Path | None:
    """Return the newest Debian PostgreSQL server bin directory (or $PG_BIN), or None."""
    override = os.environ.get("PG_BIN")
    candidates = [Path(override)] if override else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    for path in reversed(candidates):
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


def why_unavailable() -> str | None:
    """Say in one line why no test server can run here, or None when one can."""
    if find_bin_dir() is None:
        return "PostgreSQL server binaries not found (install Debian's postgresql, or set PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(UNPRIVILEGED_USER)
        except KeyError:
            return f"running as root and no '{UNPRIVILEGED_USER}' user to run initdb as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """One running cluster; ``url(dbname)`` is a DATABASE_URL for it."""

    bin_dir: Path
    root: Path
    port: int
    password: str

    @classmethod
    def start(cls, *, durable: bool = False) -> PostgresServer:
        """Start a server; ``durable`` keeps PostgreSQL's own fsync settings (for benchmarks), else
        they are off (a test server's data need not survive a power cut, and the suite is faster)."""
        bin_dir = find_bin_dir()
        assert bin_dir is not None, why_unavailable()
        # A test server's files in memory where there is a tmpfs: each test's CREATE DATABASE copies
        # about 7 MB, and deleting a few hundred such databases from disk at the end took half a
        # minute on a busy machine. A durable (benchmark) server stays on disk, as a deployment would.
        shm = Path("/dev/shm")
        where = shm if not durable and shm.is_dir() and os.access(shm, os.W_OK) else None
        root = Path(tempfile.mkdtemp(prefix="optout-pg-", dir=where))
        server = cls(bin_dir, root, _free_port(), secrets.token_urlsafe(16))
        try:
            server._init_and_start(durable)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    # As root, every server command runs as the unprivileged user, and the files must be theirs.
    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", UNPRIVILEGED_USER, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
        return result

    def _init_and_start(self, durable: bool) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            for path in (self.root, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.root / "data"), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
        )
        pwfile.unlink()
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-o", options, "-l", str(self.root / "log"), "-w",
                  "-t", "60", "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


async def new_database(server: PostgresServer) -> str:
    """Create an empty database on the test server; return its DATABASE_URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.url(name)
