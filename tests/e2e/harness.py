"""Real processes for the end-to-end tests: a Mosquitto broker and Home Assistant.

Everything listens on 127.0.0.1 only. Each process runs in its own process group and gets
SIGKILL if the test process dies (``PR_SET_PDEATHSIG``), so nothing outlives a test run,
even one killed by a timeout. Home Assistant is driven exactly as ``scripts/develop`` drives
it (onboarding, auth and config flows over its REST API); its helpers are imported from
``scripts/develop.py``, not copied.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import ctypes
from datetime import UTC, datetime, timedelta
import http.server
import importlib.util
import ipaddress
import json
import os
from pathlib import Path
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from types import ModuleType
from typing import Any
import urllib.error
import urllib.request

REPO = Path(__file__).resolve().parents[2]
PUBLISHER = Path(__file__).resolve().with_name("chirpstack_publish.py")


def _load_develop() -> ModuleType:
    """``scripts/develop.py`` as a module (scripts/ is not a package)."""
    name = "ange_develop"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "develop.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


develop = _load_develop()
Api = develop.Api
Failure = develop.Failure


def find_mosquitto() -> str | None:
    """The broker binary (``scripts/bootstrap --with-mosquitto`` installs it)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


try:  # loaded here, in the parent: the child after fork only makes the call
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process goes away (Linux only)."""
    if _LIBC is not None:
        with contextlib.suppress(AttributeError):
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal the process group ``proc`` leads (it was started with a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def port_open(port: int) -> bool:
    """Does something accept TCP connections on 127.0.0.1:port?"""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until[T](
    probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns something truthy; ``Failure`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# -- the broker ---------------------------------------------------------------------------

MOSQUITTO_CONF = """\
# Written by tests/e2e/harness.py for one test run.
listener {port} 127.0.0.1
allow_anonymous true
persistence false
user {user}
log_dest file {log}
log_type all
log_timestamp true
connection_messages true
"""

_SUBSCRIBE_RE = re.compile(r"^\d+: (\S+) [012] (\S+)$")
_UNSUBSCRIBE_RE = re.compile(r"^\d+: (\S+) (\S+)$")
_CONNECTED_RE = re.compile(r"^\d+: New client connected from \S+ as (\S+) ")
_GONE_RE = re.compile(
    r"^\d+: (?:Client (\S+) (?:disconnected|closed its connection|has exceeded timeout)"
    r"|Socket error on client (\S+),)"
)


class Mosquitto:
    """A private Mosquitto broker on 127.0.0.1; each start writes a fresh log file."""

    def __init__(self, workdir: Path, port: int) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise Failure(
                "the mosquitto broker is not installed; run scripts/bootstrap --with-mosquitto "
                "(apt-get install mosquitto as root)"
            )
        self.binary = binary
        self.workdir = workdir
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_file = workdir / "mosquitto-0.log"

    def start(self, timeout: float = 10) -> None:
        """Start on ``self.port``; returns once it accepts connections."""
        self.starts += 1
        self.log_file = self.workdir / f"mosquitto-{self.starts}.log"
        conf = self.workdir / f"mosquitto-{self.starts}.conf"
        conf.write_text(
            MOSQUITTO_CONF.format(
                port=self.port, user=pwd.getpwuid(os.getuid()).pw_name, log=self.log_file
            )
        )
        console = (self.workdir / f"mosquitto-{self.starts}.out").open("wb")
        with console:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (one prctl call, nothing else)
            )
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                out = (self.workdir / f"mosquitto-{self.starts}.out").read_text(errors="replace")
                raise Failure(f"mosquitto exited with {proc.returncode}: {out[-2000:]}")
            return port_open(self.port)

        wait_until(up, timeout, f"mosquitto on 127.0.0.1:{self.port}")

    def kill(self) -> None:
        """SIGKILL the broker (a crash, as far as its clients can tell) and reap it."""
        if self.proc is None:
            return
        kill_group(self.proc)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; idempotent."""
        if self.proc is None:
            return
        kill_group(self.proc, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_group(self.proc)
            self.proc.wait(timeout=10)
        self.proc = None

    def log(self) -> str:
        """The current broker's log."""
        try:
            return self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def subscriptions(self) -> dict[str, set[str]]:
        """Live subscriptions of the current broker per client id, from its log."""
        clients: dict[str, set[str]] = {}
        mode: str | None = None
        for line in self.log().splitlines():
            if " Received SUBSCRIBE from " in line:
                mode = "sub"
            elif " Received UNSUBSCRIBE from " in line:
                mode = "unsub"
            elif " Sending SUBACK to " in line or " Sending UNSUBACK to " in line:
                mode = None
            elif (m := _CONNECTED_RE.match(line)) is not None:
                clients[m.group(1)] = set()  # every client here uses a clean session
            elif (m := _GONE_RE.match(line)) is not None:
                clients.pop(m.group(1) or m.group(2), None)
            elif mode == "sub" and (m := _SUBSCRIBE_RE.match(line)) is not None:
                clients.setdefault(m.group(1), set()).add(m.group(2))
            elif mode == "unsub" and (m := _UNSUBSCRIBE_RE.match(line)) is not None:
                clients.get(m.group(1), set()).discard(m.group(2))
        return clients

    def subscribed(self, topic: str) -> bool:
        """Does any connected client hold a subscription to exactly ``topic``?"""
        return any(topic in topics for topics in self.subscriptions().values())


class Publisher:
    """``chirpstack_publish.py`` in its own process, playing ChirpStack (a context manager)."""

    def __init__(
        self, port: int, application_id: str, uplinks: list[dict[str, Any]], qos: int
    ) -> None:
        request = {"port": port, "qos": qos, "application_id": application_id}
        self.proc = subprocess.Popen(
            [sys.executable, str(PUBLISHER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({**request, "uplinks": uplinks}).encode())
        self.proc.stdin.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def results(self, timeout: float = 30) -> list[dict[str, Any]]:
        """Its report lines, once it has exited (``Failure`` unless it exited 0)."""
        out, err = self.proc.communicate(timeout=timeout)
        if self.proc.returncode != 0:
            raise Failure(f"publisher failed ({self.proc.returncode}): {err.decode()}")
        return [json.loads(line) for line in out.decode().splitlines() if line]


# -- Home Assistant -----------------------------------------------------------------------


class Hass:
    """A real ``hass`` on 127.0.0.1 with a config dir made by ``scripts/develop.py``."""

    def __init__(self, config_dir: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.config_dir = config_dir
        self.port = port
        # Python warnings shown (see develop.CHECKED_ENV), plus what the test adds.
        self.env = {**develop.CHECKED_ENV, **(env or {})}
        self.log_file = config_dir / "home-assistant.log"
        self.api = Api(f"http://127.0.0.1:{port}")
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds: list[float] = []
        self._launched = 0.0

    def start(self) -> float:
        """Start, onboard or log in; the seconds that took.

        HA serves its API (and config flows) while still bootstrapping; ``stop`` waits for
        the core to run, since ``homeassistant.stop`` is ignored until then.
        """
        self.launch()
        return self.connect()

    def launch(self) -> None:
        """Start the process only (``connect`` waits for it).

        Call it from the main thread: the process is killed when the thread that started it
        ends (``PR_SET_PDEATHSIG`` follows the parent thread), so ``connect`` may run in a
        worker thread, this may not.
        """
        develop.prepare_config(self.config_dir, self.port)
        self._launched = time.monotonic()
        self.proc = develop.start_hass(
            self.config_dir,
            self.log_file,
            quiet=True,
            new_session=True,
            preexec_fn=_die_with_parent,
            env=self.env,
        )
        self.api = Api(f"http://127.0.0.1:{self.port}")

    def connect(self) -> float:
        """Wait for the launched process's API, onboard or log in; seconds since ``launch``."""
        assert self.proc is not None
        develop.wait_for_http(self.api, self.proc, self.log_file)
        develop.authenticate(self.api)
        elapsed = time.monotonic() - self._launched
        self.start_seconds.append(elapsed)
        return elapsed

    def stop(self) -> int:
        """Stop through the ``homeassistant.stop`` service; returns the exit code."""
        assert self.proc is not None
        try:
            return int(develop.stop(self.proc, self.api))
        finally:
            kill_group(self.proc)
            self.proc = None

    def kill(self) -> None:
        """Last resort (teardown): SIGTERM, then SIGKILL the whole process group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            kill_group(self.proc, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)  # HA ignores SIGTERM until it has started
        kill_group(self.proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.proc = None

    # -- REST / websocket ------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> Any:
        return self.api.request(method, path, body)

    def ws(self, command: dict[str, Any]) -> Any:
        return develop.ws_command(self.api, command)

    def flow(self, kind: str, start: dict[str, Any], *steps: str | dict[str, Any]) -> Any:
        """Run a config (``kind="flow"``) or subentry (``"subentries/flow"``) flow.

        A ``str`` step picks a menu option, a ``dict`` fills the current form.
        """
        base = f"/api/config/config_entries/{kind}"
        result = self.request("POST", base, start)
        for step in steps:
            if result.get("errors"):
                raise Failure(f"{kind} {start}: form errors {result['errors']}")
            if isinstance(step, str):
                if result.get("type") != "menu":
                    raise Failure(f"{kind} {start}: expected a menu, got {result}")
                body: dict[str, Any] = {"next_step_id": step}
            else:
                if result.get("type") != "form":
                    raise Failure(f"{kind} {start}: expected a form, got {result}")
                body = step
            result = self.request("POST", f"{base}/{result['flow_id']}", body)
        if result.get("type") != "create_entry":
            raise Failure(f"{kind} {start} ended with {result}")
        return result

    def entry(self, entry_id: str) -> dict[str, Any]:
        """One config entry as the config entries API shows it."""
        entries = self.request("GET", "/api/config/config_entries/entry")
        return next(e for e in entries if e["entry_id"] == entry_id)

    def wait_loaded(self, entry_id: str, timeout: float = 60) -> None:
        """Wait until the entry is set up (``loaded``); fail fast on a setup error."""

        def loaded() -> bool:
            state = self.entry(entry_id)["state"]
            if state in ("setup_error", "migration_error", "failed_unload"):
                raise Failure(f"entry {entry_id} is {state}; see {self.log_file}")
            return state == "loaded"

        wait_until(loaded, timeout, f"entry {entry_id} to load", interval=0.2)

    def entity_ids(self, entry_id: str) -> dict[str, str]:
        """unique_id -> entity_id of one entry's entities (the entity registry)."""
        registry = self.ws({"type": "config/entity_registry/list"})
        return {
            e["unique_id"]: e["entity_id"] for e in registry if e["config_entry_id"] == entry_id
        }

    def state(self, entity_id: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self.request("GET", f"/api/states/{entity_id}")
        except Failure as err:
            if " answered 404" in str(err):
                return None
            raise
        return result

    def value(self, entity_id: str) -> str:
        """The entity's state string ("<missing>" if it has none)."""
        state = self.state(entity_id)
        return str(state["state"]) if state else "<missing>"

    def wait_states(
        self, checks: dict[str, Callable[[str], bool]], timeout: float
    ) -> dict[str, float]:
        """Poll until every entity's state passes its check; when each first did (time.time())."""
        seen: dict[str, float] = {}
        history: dict[str, list[str]] = {entity_id: [] for entity_id in checks}

        def probe() -> bool:
            for entity_id, check in checks.items():
                if entity_id in seen:
                    continue
                value = self.value(entity_id)
                if not history[entity_id] or history[entity_id][-1] != value:
                    history[entity_id].append(value)
                if check(value):
                    seen[entity_id] = time.time()
            return len(seen) == len(checks)

        try:
            wait_until(probe, timeout, f"states of {sorted(checks)}", interval=0.02)
        except Failure as err:
            missing = {e: h for e, h in history.items() if e not in seen}
            raise Failure(f"{err}; states seen (oldest first): {missing}") from None
        return seen

    def log_mark(self) -> tuple[int, int]:
        """Where the log ends now: (inode, size); see ``errors_since``."""
        try:
            stat = self.log_file.stat()
        except FileNotFoundError:
            return (0, 0)
        return (stat.st_ino, stat.st_size)

    def errors_since(self, mark: tuple[int, int]) -> list[str]:
        """Problem lines logged after ``mark``: ERRORs about this integration, Home Assistant
        reporting our use of a deprecated API, Python warnings from our code
        (``develop.integration_problems``).

        HA rotates its log at start (``home-assistant.log`` -> ``.log.1``): after a restart
        the rest of the rotated file is read too. ``(0, 0)`` reads the whole current log.
        """
        inode, offset = mark
        text = ""
        for path in (self.log_file.with_name(self.log_file.name + ".1"), self.log_file):
            with contextlib.suppress(FileNotFoundError), path.open("rb") as log:
                same = os.fstat(log.fileno()).st_ino == inode
                if path != self.log_file and not same:
                    continue
                log.seek(offset if same else 0)
                text += log.read().decode(errors="replace")
        return list(develop.integration_problems(text.splitlines()))


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST raw bytes (as a network server would); the HTTP status."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.read()
        return int(err.code)


# -- The Things Stack's storage integration -------------------------------------------------


def make_tls_files(workdir: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key) PEM files.

    Strict enough for Python's default client context (``VERIFY_X509_STRICT``): key usages,
    key identifiers and the address as a subject alternative name.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ånge e2e test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    signs_only = dict.fromkeys(
        ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
         "key_agreement", "encipher_only", "decipher_only"),
        False,
    )  # fmt: skip
    ca_usage = x509.KeyUsage(key_cert_sign=True, crl_sign=True, **signs_only)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ca_usage, critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = (workdir / "ca.pem", workdir / "server.pem", workdir / "server-key.pem")
    files[0].write_bytes(ca.public_bytes(pem))
    files[1].write_bytes(cert.public_bytes(pem))
    files[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


class TtsStorage:
    """The Things Stack's storage integration API on https://127.0.0.1 (stored uplinks).

    It holds no uplinks: it answers 200 with an empty stream to the API keys in ``keys`` and
    401 to any other, as The Things Stack does for a revoked key. Home Assistant trusts its
    certificate through ``REQUESTS_CA_BUNDLE`` (``ca_file``). ``requests`` records each
    request as (application id, API key).
    """

    def __init__(self, workdir: Path) -> None:
        self.ca_file, cert, key = make_tls_files(workdir)
        self.keys: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        storage = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api_key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                parts = self.path.split("/")  # /api/v3/as/applications/<app>/packages/...
                application = parts[5] if len(parts) > 5 else ""
                storage.requests.append((application, api_key))
                ok = api_key in storage.keys
                body = b"" if ok else b'{"code":16,"message":"error:pkg/auth:token"}'
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "text/event-stream" if ok else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def used(self, application: str, api_key: str) -> int:
        """How many requests came for ``application`` with ``api_key``."""
        return self.requests.count((application, api_key))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


# -- who listens where --------------------------------------------------------------------


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(FileNotFoundError, PermissionError):
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def _address(hex_addr: str) -> tuple[str, int]:
    host, port = hex_addr.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # /proc stores IPv6 as four little-endian 32-bit words
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        ip = socket.inet_ntop(socket.AF_INET6, words)
    return ip, int(port, 16)


def bound_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(protocol, ip, port) of every listening TCP socket and unconnected UDP socket of pid."""
    inodes = _socket_inodes(pid)
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        with contextlib.suppress(FileNotFoundError):
            lines = Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]
            for line in lines:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if inode not in inodes:
                    continue
                listening = state == "0A" if proto.startswith("tcp") else _address(remote)[1] == 0
                if listening:
                    ip, port = _address(local)
                    found.append((proto, ip, port))
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree
