"""A Dask cluster with TLS, started as docs/distributed.md says: scheduler, worker and engine with certificates.

A test certificate authority and one certificate for 127.0.0.1 are made with the ``openssl`` command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.store import open_result

BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
SPEC = "kind: toy_decay\nname: tls\nsweep:\n  grid:\n    decay.rate: [1, 2, 3]\n"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder: Path) -> dict[str, str]:
    """A certificate authority and a certificate for 127.0.0.1 that it signed; the ``--tls-*`` files."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
             "-days", "1", "-subj", "/CN=specengine test CA", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "host.csr",
             "-subj", f"/CN={LOOPBACK}", cwd=folder)
    (folder / "san.cnf").write_text(f"subjectAltName=IP:{LOOPBACK}\n")
    _openssl("x509", "-req", "-in", "host.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
             "-out", "cert.pem", "-days", "1", "-extfile", "san.cnf", cwd=folder)
    return {name: str(folder / file) for name, file in (("ca", "ca.pem"), ("cert", "cert.pem"), ("key", "key.pem"))}


def _wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the TLS cluster did not start")
        time.sleep(0.2)


def test_a_sweep_runs_on_a_tls_cluster_and_a_client_without_certificate_is_refused(tmp_path):
    tls = _certificates(tmp_path)
    serve = ["--tls-ca-file", tls["ca"], "--tls-cert", tls["cert"], "--tls-key", tls["key"]]
    info = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", f"tls://{LOOPBACK}", "--port", "0",
                                       "--dashboard-address", f"{LOOPBACK}:0", *serve, "--scheduler-file", str(info)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_for(info.exists, 60)
        address = json.loads(info.read_text())["address"]
        assert address.startswith(f"tls://{LOOPBACK}:")
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", LOOPBACK, "--dashboard-address",
                                       f"{LOOPBACK}:0", "--nthreads", "1", "--no-nanny", *serve],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        spec = tmp_path / "tls.yaml"
        spec.write_text(SPEC)
        run = [str(BIN / "engine"), "run", str(spec), "--scheduler", address, "--quiet"]

        refused = subprocess.run([*run, "--outputs", str(tmp_path / "refused")], capture_output=True, text=True,
                                 timeout=120)
        assert refused.returncode == 2 and "a tls:// scheduler needs the client's certificate" in refused.stderr
        assert not (tmp_path / "refused").exists()

        client_env = {**os.environ, "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": tls["ca"],
                      "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": tls["cert"],
                      "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": tls["key"]}
        done = subprocess.run([*run, "--outputs", str(tmp_path / "out")], capture_output=True, text=True,
                              timeout=300, env=client_env)
        assert done.returncode == 0, done.stderr
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait()
    result = open_result(tmp_path / "out" / "tls" / "result.nc")
    rates = result["decay_rate"].values
    assert (result["run_status"] == "ok").all()
    np.testing.assert_allclose(result["y_end"].values, np.exp(-rates * 1.0), rtol=1e-12)  # y0 = 1, t_end = 1 s
