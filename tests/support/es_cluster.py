"""A three-node Elasticsearch cluster on loopback, for the failure drills (tests/test_drills.py).

It runs the distribution ``deploy/services.sh`` unpacked (found through the shared node ``ELASTICSEARCH_URL``
names: its home, its JDK and the unprivileged user owning it), each node as that user with its own config,
data and log folders under one state folder beside the distribution, on ports ending in 3 (HTTP 6n923,
transport 6n933 for node n), with a small heap. A node can be killed (SIGKILL: a crash, not a shutdown) and
started again on the same data; ``stop()`` ends every node and deletes the state folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HEAP = "384m"
START_TIMEOUT = 240.0  # seconds: three JVMs starting at once on a small, shared machine


def _get(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _java_home(version: str, jvm_dir: Path = Path("/usr/lib/jvm")) -> Path:
    """The JDK whose ``release`` file names ``version``: the one the shared node runs on."""
    for release in sorted(jvm_dir.glob("*/release")):
        if f'JAVA_VERSION="{version}"' in release.read_text():
            return release.parent.resolve()
    raise RuntimeError(f"no JDK {version} under {jvm_dir} (the one the shared Elasticsearch node runs on)")


@dataclass
class Node:
    name: str
    http_port: int
    transport_port: int
    folder: Path
    process: subprocess.Popen | None = None
    killed: bool = False  # by the drill: its exit is no failure

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid_file(self) -> Path:
        return self.folder / "node.pid"

    def server_pid(self) -> int | None:
        """The server JVM's pid (the launcher writes it once the node runs), while it is alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, characters: int = 3000) -> str:
        # The server's own log and the launcher's console; not the GC logs.
        logs = [log for log in sorted((self.folder / "logs").glob("*.log")) if "gc" not in log.name]
        logs.append(self.folder / "console.log")
        return "\n".join(f"--- {log}\n{log.read_text(errors='replace')[-characters:]}" for log in logs if log.exists())


class ElasticsearchCluster:
    def __init__(self, shared_url: str, nodes: int = 3) -> None:
        info = next(iter(_get(f"{shared_url}/_nodes/_local/jvm,settings")["nodes"].values()))
        self.home = Path(info["settings"]["path"]["home"])
        self.java_home = _java_home(info["jvm"]["version"])
        stat = self.home.stat()
        self.uid, self.gid = stat.st_uid, stat.st_gid
        # Beside the distribution: services.sh made that folder reachable for the unprivileged user.
        self.folder = Path(tempfile.mkdtemp(prefix="drill-", dir=self.home.parent))
        os.chown(self.folder, self.uid, self.gid)
        self.nodes = [
            Node(f"drill-{n}", 60923 + 1000 * n, 60933 + 1000 * n, self.folder / f"drill-{n}") for n in (1, 2, 3)
        ][:nodes]
        for node in self.nodes:
            self._configure(node)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def _configure(self, node: Node) -> None:
        config = node.folder / "config"
        shutil.copytree(self.home / "config", config, ignore=shutil.ignore_patterns("elasticsearch.yml", "*.keystore"))
        settings = {
            "cluster.name": f"sanxiang-{self.folder.name}",
            "node.name": node.name,
            "network.host": "127.0.0.1",
            "http.port": node.http_port,
            "transport.port": node.transport_port,
            "discovery.seed_hosts": [f"127.0.0.1:{other.transport_port}" for other in self.nodes],
            "cluster.initial_master_nodes": [other.name for other in self.nodes],
            "path.data": str(node.folder / "data"),
            "path.logs": str(node.folder / "logs"),
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
        }
        if (self.home / "modules" / "x-pack-security").is_dir():  # the setting exists only with the module
            settings["xpack.security.enabled"] = False
        # JSON is YAML: no YAML writer needed.
        (config / "elasticsearch.yml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in settings.items()))
        (config / "jvm.options.d" / "heap.options").write_text(f"-Xms{HEAP}\n-Xmx{HEAP}\n")
        for folder in ("data", "logs", "tmp"):
            (node.folder / folder).mkdir(parents=True, exist_ok=True)
        for path in [node.folder, *node.folder.rglob("*")]:
            os.chown(path, self.uid, self.gid)

    def start(self, node: Node) -> None:
        """Start ``node`` (on its data as it was left); returns at once, see ``wait_for``."""
        if node.running():
            raise RuntimeError(f"{node.name} is already running")
        node.pid_file.unlink(missing_ok=True)
        node.killed = False
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": str(self.java_home),
            "ES_PATH_CONF": str(node.folder / "config"),
            "ES_TMPDIR": str(node.folder / "tmp"),
            "CLI_JAVA_OPTS": f"-Djava.io.tmpdir={node.folder / 'tmp'}",
        }
        with open(node.folder / "console.log", "ab") as console:
            node.process = subprocess.Popen(
                [str(self.home / "bin" / "elasticsearch"), "-p", str(node.pid_file)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                user=self.uid,
                group=self.gid,
                extra_groups=[],
                start_new_session=True,
            )

    def start_all(self) -> None:
        for node in self.nodes:
            for port in (node.http_port, node.transport_port):
                if _listening(port):
                    raise RuntimeError(f"port {port} for {node.name} is taken by another process")
        for node in self.nodes:
            self.start(node)
        for node in self.nodes:  # each answering: a node's HTTP opens only after it has joined
            self.wait_for("green", nodes=len(self.nodes), via=node)
        self._wait_for_voting_configuration()

    def _wait_for_voting_configuration(self, timeout: float = 60.0) -> None:
        """Until every node votes. The cluster bootstraps with the first nodes to meet and a placeholder for the
        last, and takes it in a moment later: a node killed before then can leave the others without a quorum."""
        via = self.nodes[0].url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ids = set(_get(f"{via}/_nodes")["nodes"])
            state = _get(f"{via}/_cluster/state/metadata?filter_path=metadata.cluster_coordination")
            coordination = state["metadata"]["cluster_coordination"]
            if set(coordination["last_committed_config"]) == set(coordination["last_accepted_config"]) == ids:
                return
            time.sleep(0.5)
        raise RuntimeError(f"not every node of the cluster votes after {timeout}s: {coordination}")

    def kill(self, node: Node) -> None:
        """SIGKILL the node's server: a crash, nothing flushed or handed over."""
        pid = node.server_pid()
        if pid is None:
            raise RuntimeError(f"{node.name} has no running server")
        node.killed = True
        os.kill(pid, signal.SIGKILL)
        node.process.wait(30)  # the launcher exits with its server

    def health(self, via: Node | None = None, **params: str) -> dict:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        nodes = [via] if via else [node for node in self.nodes if node.running()]
        error: Exception | None = None
        for node in nodes:
            try:
                return _get(f"{node.url}/_cluster/health?{query}", timeout=40)
            except (OSError, ValueError) as exc:
                error = exc
        raise RuntimeError(f"no node answered: {error}")

    def wait_for(self, status: str, nodes: int, via: Node | None = None, timeout: float = START_TIMEOUT) -> float:
        """Seconds until the cluster is ``status`` with ``nodes`` nodes, as ``via`` sees it (a node started
        again: it answers once it has joined; any node otherwise); RuntimeError (with the logs) if not."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            for node in self.nodes:
                if node.process is not None and not node.running() and not node.killed:
                    raise RuntimeError(f"{node.name} exited with {node.process.returncode}:\n{node.log_tail()}")
            try:
                health = self.health(via, wait_for_status=status, wait_for_nodes=str(nodes), timeout="10s")
                if not health.get("timed_out") and health["status"] in _AT_LEAST[status]:
                    return time.monotonic() - started
            except (RuntimeError, urllib.error.HTTPError):
                pass
            time.sleep(1)
        raise RuntimeError(
            f"cluster not {status} with {nodes} nodes after {timeout}s:\n"
            + "\n".join(node.log_tail() for node in self.nodes)
        )

    def master(self) -> Node:
        via = next(node for node in self.nodes if node.running())
        (answer,) = _get(f"{via.url}/_cat/master?format=json")
        return next(node for node in self.nodes if node.name == answer["node"])

    def stop(self) -> None:
        """End every node (TERM, then KILL) and delete the state folder."""
        for node in self.nodes:
            if node.running():
                pid = node.server_pid()
                os.kill(pid if pid else node.process.pid, signal.SIGTERM)
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


_AT_LEAST = {"green": ("green",), "yellow": ("green", "yellow")}


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
