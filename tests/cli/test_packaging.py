"""Set-up that does only what is needed: the Makefile's stamps, the image, compose, systemd.

The tests start no Docker daemon: the Dockerfile is linted with hadolint (from the dev
extra), its stages, layers and health check are checked as text, and the two commands the
image runs (the health check and the qabot-service wrapper) are run for real. The image
itself was built and run by hand (docs/install.md, "The Docker image").
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import REPO

CAP = 120.0  # seconds: a guard against a hang, never a budget


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    assert found, "hadolint is missing: it comes with the dev extra (pip install -e '.[dev]')"
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=CAP,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _instructions() -> list[str]:
    """Return the Dockerfile's instructions, continuation lines joined."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _stages() -> list[list[str]]:
    """Return the Dockerfile's build stages, each a list of its instructions."""
    stages: list[list[str]] = []
    for step in _instructions():
        if step.startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(step)
    return stages


def test_dependencies_are_a_layer_built_from_pyproject_alone() -> None:
    build, image = _stages()
    copies = [i for i, step in enumerate(build) if step.startswith("COPY ")]
    installs = [
        i for i, step in enumerate(build) if step.startswith("RUN ") and "venv-install" in step
    ]
    assert build[copies[0]] == "COPY pyproject.toml ./"
    assert build[copies[1]] == "COPY scripts/venv-install ./scripts/"
    assert copies[1] < installs[0] < copies[2]
    assert "--requirement" in build[installs[0]]
    code = next(i for i, step in enumerate(build) if step.startswith("COPY bot"))
    assert installs[0] < code < installs[1]
    assert "--no-deps" in build[installs[1]]
    assert not any("[dev" in step or "dev]" in step for step in build + image)


def test_the_image_installs_as_make_repl_does_and_keeps_only_the_virtualenv() -> None:
    build, image = _stages()
    makefile = (REPO / "Makefile").read_text()
    assert "INSTALL := scripts/venv-install $(VENV) $(PYTHON)" in makefile
    assert not any("pip install" in step for step in build + image)
    # Bytecode compiled at build time: the image's user cannot write its site-packages.
    assert any(step.startswith("ENV ") and "UV_COMPILE_BYTECODE=1" in step for step in build)
    (venv,) = [step for step in image if step.startswith("COPY --from=")]
    assert venv == "COPY --from=build /opt/qabot/.venv /opt/qabot/.venv"
    assert not any(
        step.startswith("RUN ") and ("uv" in step.split() or "pip" in step) for step in image
    )
    assert "USER 10001:10001" in image


def test_the_build_context_holds_every_file_the_image_copies() -> None:
    allowed = [
        line[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    for step in _instructions():
        if not step.startswith("COPY ") or "--from=" in step:
            continue
        *sources, _ = [word for word in step.split()[1:] if not word.startswith("--")]
        for source in sources:
            assert (REPO / source).exists(), source
            assert any(source == a or source.startswith(a + "/") for a in allowed), source


def test_the_health_check_calls_doctor_quick() -> None:
    (check,) = [step for step in _instructions() if step.startswith("HEALTHCHECK")]
    assert check.endswith('CMD ["qabot", "doctor", "--quick"]')
    assert 'CMD ["qabot-service"]' in _instructions()


def test_compose_does_not_restart_after_exit_2() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    service = compose["services"]["qabot"]
    policy, _, cap = service["restart"].partition(":")
    assert policy == "on-failure" and 1 <= int(cap) <= 10
    assert "command" not in service  # the image's qabot-service maps exit 2 to a stop


def test_systemd_installs_the_runtime_only_and_stays_down_after_exit_2() -> None:
    unit = (REPO / "docs" / "systemd" / "qabot.service").read_text()
    assert "RestartPreventExitStatus=2" in unit
    assert "Restart=on-failure" in unit
    assert "StartLimitBurst=" in unit
    assert "`make venv`" in unit and "make bot" not in unit
    assert "ExecStart=/opt/qabot/.venv/bin/qabot run" in unit


def _make_dry_run(tmp_path: Path, target: str) -> str:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    # Under `make test` itself, MAKEFLAGS and MAKELEVEL would make this a sub-make.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CAP,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("target", ["repl", "bot", "venv"])
def test_make_repl_and_bot_install_the_runtime_only(tmp_path: Path, target: str) -> None:
    commands = _make_dry_run(tmp_path, target)
    # The runtime includes the embedding model (onnxruntime, no torch).
    assert any(line.endswith(" -e .") for line in commands.splitlines())
    assert "dev" not in commands.replace(".installed-runtime", "")
    assert "torch" not in commands


def test_make_test_adds_the_development_tools(tmp_path: Path) -> None:
    commands = _make_dry_run(tmp_path, "test").splitlines()
    runtime = commands.index(next(c for c in commands if c.endswith(" -e .")))
    dev = commands.index(next(c for c in commands if c.endswith('-e ".[dev]"')))
    assert runtime < dev
    assert commands[-1].endswith("-m pytest -q")


def test_the_wheel_holds_every_file_the_package_reads(tmp_path: Path) -> None:
    """A non-editable install (the Docker image) gets the data files too, not only modules."""
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, tmp_path / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "bot", tmp_path / "bot", ignore=ignore)
    code = (
        "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    )
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CAP,
    )
    assert result.returncode == 0, result.stderr
    wheel = out / result.stdout.split()[-1]
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    wanted = {
        path.relative_to(tmp_path).as_posix()
        for path in (tmp_path / "bot").rglob("*")
        if path.is_file() and path.suffix != ".py"
    }
    assert "bot/answer/answerability.json" in wanted
    assert wanted <= packed, sorted(wanted - packed)


def test_package_metadata_builds_without_a_warning(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "import tempfile; from setuptools import build_meta; "
        "build_meta.prepare_metadata_for_build_wheel(tempfile.mkdtemp())"
    )
    # -W error: setuptools' deprecation of a table-style project.license would fail here.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CAP,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Deprecat" not in result.stdout + result.stderr


FAKE_QABOT = """#!/bin/sh
# Stands in for qabot: records its arguments, exits with $FAKE_EXIT, or on SIGTERM with 0.
echo "$@" > "$FAKE_DIR/args"
trap 'echo term > "$FAKE_DIR/signal"; exit 0' TERM
touch "$FAKE_DIR/started"
if [ "$FAKE_EXIT" = wait ]; then
    while :; do sleep 0.1; done
fi
exit "$FAKE_EXIT"
"""


def _service(tmp_path: Path, exit_code: str) -> subprocess.Popen[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "qabot"
    fake.write_text(FAKE_QABOT)
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_EXIT": exit_code,
        "FAKE_DIR": str(tmp_path),
    }
    return subprocess.Popen(
        ["sh", str(REPO / "docker" / "qabot-service"), "--corpus", "/data/corpus"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("code", "expected"), [("0", 0), ("1", 1), ("2", 0), ("3", 3)])
def test_the_service_wrapper_turns_only_exit_2_into_a_stop(
    tmp_path: Path, code: str, expected: int
) -> None:
    process = _service(tmp_path, code)
    assert process.wait(timeout=CAP) == expected
    assert process.stderr is not None
    said = process.stderr.read()
    assert ("not restarting" in said) is (code == "2")
    assert (tmp_path / "args").read_text() == "run --corpus /data/corpus\n"


def test_the_service_wrapper_passes_sigterm_on(tmp_path: Path) -> None:
    process = _service(tmp_path, "wait")
    deadline = time.monotonic() + CAP
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=CAP) == 0
    assert (tmp_path / "signal").read_text() == "term\n"
