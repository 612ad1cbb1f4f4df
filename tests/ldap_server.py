"""A real OpenLDAP slapd for the integration tests.

Starts Debian's ``/usr/sbin/slapd`` in the foreground on a free loopback port
with a generated slapd.conf in a temporary directory, loaded beforehand with
slapadd from an LDIF file (the demo directory's). Works as root: without
``-u``/``-g`` slapd simply keeps running as the invoking user, and every file
it touches lives in the temporary directory.

    with SlapdServer(LDIF) as server:
        ...server.url...
        server.stop()   # the directory goes away mid-test
        server.start()  # and comes back on the same port with the same data
        server.pause()  # or hangs: the port accepts connections, nothing answers
        server.resume()

With ``tls=True`` it also listens for LDAPS on a second port and accepts
StartTLS, with a throw-away CA made by the ``openssl`` command
(``server.ca_file``); the certificate names ``localhost`` and ``127.0.0.1``.
The URLs use the address, not ``localhost``: where ``localhost`` also
resolves to ``::1``, ldap3 leaks the socket of the address it failed to
connect to, which the tests would see as a ResourceWarning.

With ``member_of=True`` it loads slapd's ``memberof`` overlay, which keeps a
``memberOf`` attribute on every member of a ``groupOfNames`` (and, with
``memberof-refint``, drops a deleted entry from its groups). The overlay only
acts on changes made through LDAP, never on slapadd, so the groups of the
LDIF are left out of the slapadd and added over LDAP after the first start.
``memberOf`` is then an operational attribute: returned only when asked for.

``server.admin()`` is an ldap3 connection bound as the root DN, for tests
that change the directory under the app.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import ldap3
from ldap3.core.exceptions import LDAPException
from ldif import LDIFParser, LDIFWriter

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
MODULE_DIR = Path("/usr/lib/ldap")
GROUP_CLASS = "groupOfNames"  # the group class the memberof overlay maintains
START_TIMEOUT = 15.0  # seconds for slapd to answer on its port
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class SlapdServer:
    """One slapd process over one mdb database, startable and stoppable."""

    def __init__(
        self,
        ldif: Path,
        *,
        suffix: str = "dc=jointops,dc=test",
        root_password: str | None = None,
        tls: bool = False,
        member_of: bool = False,
    ) -> None:
        self.ldif = Path(ldif)
        self.suffix = suffix
        self.root_dn = f"cn=admin,{suffix}"
        self.root_password = root_password or secrets.token_urlsafe(16)
        self.tls = tls
        self.member_of = member_of
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None
        self._deferred: list[tuple[str, dict[str, list[str]]]] = []  # added over LDAP

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        if self.tls_port is None:
            raise RuntimeError("started without tls=True")
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def ca_file(self) -> str:
        if not self.tls or self.workdir is None:
            raise RuntimeError("started without tls=True")
        return str(self.workdir / "ca.pem")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- life cycle ----------------------------------------------------------

    def start(self) -> None:
        """Start slapd; the first start also writes the config and loads the LDIF."""
        if self.running:
            return
        if self.workdir is None:
            self._prepare()
        assert self.workdir is not None
        if port_answers(self.port):
            raise RuntimeError(f"port {self.port} is already taken")
        urls = [f"ldap://127.0.0.1:{self.port}/"]
        if self.tls_port is not None:
            urls.append(f"ldaps://127.0.0.1:{self.tls_port}/")
        self._log = (self.workdir / "slapd.log").open("ab")
        # `-d 0` keeps slapd in the foreground (so Popen owns it) without
        # debug output; it still logs fatal start-up errors to stderr.
        self._process = subprocess.Popen(
            [SLAPD, "-f", str(self.workdir / "slapd.conf"), "-h", " ".join(urls), "-d", "0"],
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not port_answers(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"slapd exited with {self._process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"slapd did not answer within {START_TIMEOUT} s:\n{self.log()}")
            time.sleep(0.05)
        if self._deferred:
            with self.admin() as conn:
                for dn, attributes in self._deferred:
                    conn.add(dn, attributes=attributes)
            self._deferred = []

    def pause(self) -> None:
        """Freeze slapd (SIGSTOP): connections are still accepted, never answered."""
        if self._process is None or not self.running:
            raise RuntimeError("slapd is not running")
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused slapd carry on (SIGCONT)."""
        if self._process is not None and self.running:
            self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop slapd (SIGTERM, then SIGKILL); the database stays for start()."""
        self.resume()  # a stopped process would not act on SIGTERM
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        """Stop slapd and remove the temporary directory."""
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    @contextmanager
    def admin(self) -> Iterator[Any]:
        """An ldap3 connection bound as the root DN (raising on errors), unbound on exit."""
        conn = ldap3.Connection(
            ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=5),
            user=self.root_dn,
            password=self.root_password,
            raise_exceptions=True,
            receive_timeout=10,
        )
        try:
            conn.open(read_server_info=False)
            conn.bind()
            yield conn
        finally:
            try:
                conn.unbind()
            except LDAPException:
                if conn.socket is not None:
                    conn.socket.close()

    def log(self) -> str:
        if self.workdir is None or not (self.workdir / "slapd.log").exists():
            return ""
        return (self.workdir / "slapd.log").read_text(errors="replace")[-4000:]

    def __enter__(self) -> SlapdServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- set-up --------------------------------------------------------------

    def _prepare(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="jointops-slapd-"))
        (self.workdir / "db").mkdir()
        if self.tls:
            self._make_certificates(self.workdir)
        (self.workdir / "slapd.conf").write_text(self._config())
        ldif = self.ldif.resolve()
        if self.member_of:
            ldif = self._split_groups(self.workdir / "without-groups.ldif")
        self._run([SLAPADD, "-q", "-f", "slapd.conf", "-l", str(ldif)])

    def _split_groups(self, path: Path) -> Path:
        """Write the LDIF without its groups to ``path``; keep the groups for after start."""
        with self.ldif.open("rb") as source, path.open("wb") as target:
            writer = LDIFWriter(target)
            for dn, attributes in LDIFParser(source).parse():
                assert dn is not None
                classes = {c.lower() for c in attributes.get("objectClass", [])}
                if GROUP_CLASS.lower() in classes:
                    self._deferred.append((dn, dict(attributes)))
                else:
                    writer.unparse(dn, attributes)
        return path

    def _config(self) -> str:
        assert self.workdir is not None
        lines = [f"include {SCHEMA_DIR / f'{name}.schema'}" for name in SCHEMAS]
        lines += [
            f"pidfile {self.workdir / 'slapd.pid'}",
            f"argsfile {self.workdir / 'slapd.args'}",
            f"modulepath {MODULE_DIR}",
            "moduleload back_mdb",
        ]
        if self.member_of:
            lines.append("moduleload memberof")
        if self.tls:
            lines += [
                f"TLSCACertificateFile {self.workdir / 'ca.pem'}",
                f"TLSCertificateFile {self.workdir / 'server.pem'}",
                f"TLSCertificateKeyFile {self.workdir / 'server.key'}",
            ]
        lines += [
            "database mdb",
            f'suffix "{self.suffix}"',
            f'rootdn "{self.root_dn}"',
            f"rootpw {self.root_password}",
            f"directory {self.workdir / 'db'}",
            "maxsize 33554432",
        ]
        if self.member_of:
            lines += [
                "overlay memberof",
                f"memberof-group-oc {GROUP_CLASS}",
                "memberof-member-ad member",
                "memberof-memberof-ad memberOf",
                "memberof-refint TRUE",
            ]
        lines += [
            # Passwords are only ever compared by a bind, never read.
            "access to attrs=userPassword by anonymous auth by * none",
            "access to * by * read",
        ]
        return "\n".join(lines) + "\n"

    def _make_certificates(self, workdir: Path) -> None:
        """A CA and a server certificate for localhost / 127.0.0.1, valid one day."""
        if shutil.which("openssl") is None:
            raise RuntimeError("tls=True needs the openssl command")
        (workdir / "server.ext").write_text(
            "basicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature, keyEncipherment\n"
            "extendedKeyUsage = serverAuth\n"
            "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
            "subjectKeyIdentifier = hash\n"
            "authorityKeyIdentifier = keyid, issuer\n"
        )
        common = ["-days", "1", "-sha256"]
        self._run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key"]
            + ["-out", "ca.pem", "-subj", "/CN=JointOps test CA", *common]
            + ["-addext", "basicConstraints=critical,CA:TRUE"]
            + ["-addext", "keyUsage=critical,keyCertSign,cRLSign"]
        )
        self._run(
            ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key"]
            + ["-out", "server.csr", "-subj", "/CN=localhost"]
        )
        self._run(
            ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key"]
            + ["-CAcreateserial", "-out", "server.pem", "-extfile", "server.ext", *common]
        )
        os.chmod(workdir / "server.key", 0o600)

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            command, cwd=self.workdir, capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
