"""Start at login: the files for systemd, launchd and Task Scheduler, and install /
uninstall / status into a temporary home with the system commands replaced by recording
stand-ins (the one place a stand-in is right: tests must not change the machine's services)."""

import codecs
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from seenpapers import service
from seenpapers.cli import cli

PYTHON = os.path.abspath(sys.executable)
TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# --- the files ---------------------------------------------------------------------------


def test_the_service_runs_this_interpreter_by_its_own_path():
    # A venv's python is a symlink to the base interpreter: resolving it would lose the venv.
    assert service.interpreter() == Path(PYTHON)
    command = service.service_command(service.interpreter(), "~/papers")
    assert command == [PYTHON, "-m", "seenpapers", "run", "--data-dir", os.path.expanduser("~/papers")]


def test_options_of_run_pass_through_with_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = service.service_command("/py", "data", inboxes=["~/Downloads/daily_papers*.json", "drops"],
                                      port=7400, datasette_port=7401)
    assert command[4:] == ["--data-dir", str(tmp_path / "data"),
                           "--inbox", os.path.expanduser("~/Downloads/daily_papers*.json"),
                           "--inbox", str(tmp_path / "drops"), "--port", "7400", "--datasette-port", "7401"]
    assert service.service_command("/py", "/d", no_datasette=True, datasette_port=7401)[-1] == "--no-datasette"


def test_systemd_unit():
    unit = service.systemd_unit(["/opt/my venv/bin/python", "-m", "seenpapers", "run", "--data-dir",
                                 "/home/a b/100% \"data\" $HOME \\x"])
    assert unit.splitlines()[1:] == [
        "[Unit]",
        "Description=seenpapers: remembers the papers you have seen (API and Datasette on localhost)",
        "",
        "[Service]",
        "Type=exec",
        'ExecStart="/opt/my venv/bin/python" -m seenpapers run --data-dir "/home/a b/100%% \\"data\\" $$HOME \\\\x"',
        "Environment=PYTHONUNBUFFERED=1",
        "Restart=on-failure",
        "RestartSec=5",
        "",
        "[Install]",
        "WantedBy=default.target",
    ]


def test_systemd_words_are_quoted_only_when_they_must_be():
    assert service.systemd_quote("/usr/bin/python3.12") == "/usr/bin/python3.12"
    assert service.systemd_quote("--data-dir") == "--data-dir"
    assert service.systemd_quote("") == '""'
    assert service.systemd_quote("a;b") == '"a;b"'
    assert service.systemd_quote("it's") == '"it\'s"'
    assert service.systemd_quote("50%") == "50%%"
    with pytest.raises(ValueError):
        service.systemd_quote("two\nlines")


def test_launchd_plist(tmp_path):
    data = tmp_path / "my data"
    argv = ["/Users/a b/.venv/bin/python", "-m", "seenpapers", "run", "--data-dir", str(data)]
    plan = service.plan("macos", argv, home=Path("/Users/a b"), uid=501)
    assert plan.path == Path("/Users/a b/Library/LaunchAgents/io.seenpapers.daemon.plist")
    content = next(s for s in plan.install if isinstance(s, service.Write)).content
    assert plistlib.loads(content) == {
        "Label": "io.seenpapers.daemon",
        "ProgramArguments": argv,  # a list: no quoting at all
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        "StandardOutPath": str(data / "logs" / "launchd.log"),
        "StandardErrorPath": str(data / "logs" / "launchd.log"),
    }
    assert b"<string>/Users/a b/.venv/bin/python</string>" in content


def test_windows_task_is_utf16_and_runs_pythonw_without_a_console():
    argv = ["C:\\Users\\A B\\.venv\\Scripts\\python.exe", "-m", "seenpapers", "run",
            "--data-dir", "C:\\Users\\A B\\AppData\\Local\\seen & papers\\", "--port", "7400"]
    plan = service.plan("windows", argv, home=Path("/home/x"),
                        env={"LOCALAPPDATA": "/tmp/local", "USERDOMAIN": "DESK", "USERNAME": "A B"})
    assert plan.path == Path("/tmp/local/seenpapers/seenpapers-task.xml")
    content = next(s for s in plan.install if isinstance(s, service.Write)).content
    # schtasks /Create /XML reads UTF-16 with its byte order mark (or ANSI), not UTF-8
    assert content.startswith(codecs.BOM_UTF16_LE)
    text = service.decode(content)
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.2"')
    task = ElementTree.fromstring(content)
    find = lambda path: task.findtext(path, namespaces=TASK_NS)  # noqa: E731
    assert find("t:Actions/t:Exec/t:Command") == "C:\\Users\\A B\\.venv\\Scripts\\pythonw.exe"
    # the C runtime's quoting: a trailing backslash inside quotes is doubled
    assert find("t:Actions/t:Exec/t:Arguments") == \
        '-m seenpapers run --data-dir "C:\\Users\\A B\\AppData\\Local\\seen & papers\\\\" --port 7400'
    assert find("t:Triggers/t:LogonTrigger/t:UserId") == "DESK\\A B"  # this user only: no admin needed
    assert find("t:Principals/t:Principal/t:UserId") == "DESK\\A B"
    assert find("t:Principals/t:Principal/t:LogonType") == "InteractiveToken"
    assert find("t:Principals/t:Principal/t:RunLevel") == "LeastPrivilege"
    assert find("t:Settings/t:ExecutionTimeLimit") == "PT0S"  # the default stops it after 3 days
    assert find("t:Settings/t:StopIfGoingOnBatteries") == "false"
    assert service.installed_command("windows", content) == [service.pythonw(argv[0]), *argv[1:]]


@pytest.mark.parametrize("python, expected", [
    ("C:\\Python312\\python.exe", "C:\\Python312\\pythonw.exe"),
    ("C:\\x\\.venv\\Scripts\\python.exe", "C:\\x\\.venv\\Scripts\\pythonw.exe"),
    ("C:\\Store\\python3.12.exe", "C:\\Store\\pythonw3.12.exe"),
    ("C:\\x\\pythonw.exe", "C:\\x\\pythonw.exe"),
    ("C:\\python\\PYTHON.EXE", "C:\\python\\pythonw.EXE"),
    ("/opt/venv/bin/python3", "/opt/venv/bin/pythonw3"),
])
def test_pythonw_is_the_sibling(python, expected):
    assert service.pythonw(python) == expected


# Paths are text without control characters (XML cannot hold most of them, and no one
# names a folder with them); everything else goes: spaces, quotes, backslashes, %, $, ;.
words = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)


@given(st.lists(words, min_size=1, max_size=6))
def test_every_file_gives_back_the_command_it_was_written_for(argv):
    argv = ["/the python", *argv]
    assert service.installed_command("linux", service.systemd_unit(argv).encode()) == argv
    assert service.installed_command("macos", service.launchd_plist(argv, Path("/log"))) == argv
    assert service.installed_command("windows", service.windows_task(argv, "me")) == argv


@given(st.lists(words | st.text(st.sampled_from('a \\"\t'), max_size=8), max_size=6))
def test_split_windows_reads_what_list2cmdline_writes(argv):
    assert service.split_windows(subprocess.list2cmdline(argv)) == argv


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_unit(tmp_path):
    # A real interpreter under a path with spaces: verify checks the ExecStart binary exists,
    # so this passes only if systemd reads the quoted path back whole.
    folder = tmp_path / "my venv" / "bin dir"
    folder.mkdir(parents=True)
    (folder / "python").symlink_to(sys.executable)
    argv = service.service_command(folder / "python", tmp_path / "data 100% $HOME")

    def verify(unit_text):
        unit = tmp_path / "seenpapers.service"
        unit.write_text(unit_text)
        # --user needs a user manager's runtime dir, which a CI box may lack; the system
        # manager parses units the same way.
        done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
        ours = [line for line in (done.stdout + done.stderr).splitlines() if "seenpapers" in line]
        return done.returncode, ours

    assert verify(service.systemd_unit(argv)) == (0, [])
    # and it would notice: the same path unquoted is split at its first space
    broken = service.systemd_unit(argv).replace(f'"{folder / "python"}"', str(folder / "python"))
    returncode, complaints = verify(broken)
    assert returncode != 0 and "is not executable" in " ".join(complaints)


def test_the_installed_command_runs_the_daemon_without_the_venv_activated(tmp_path):
    # What the service manager starts: no activated venv, a bare PATH, another directory.
    data = tmp_path / "my data"
    argv = service.service_command(service.interpreter(), data, port=0, no_datasette=True)
    command = service.installed_command("linux", service.systemd_unit(argv).encode())
    assert command == argv
    with open(tmp_path / "stderr.log", "w") as stderr:
        proc = subprocess.Popen(command, cwd="/", stdout=subprocess.PIPE, stderr=stderr, text=True,
                                env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"})
        try:
            line = proc.stdout.readline()
            assert line.startswith("listening on http://127.0.0.1:"), (tmp_path / "stderr.log").read_text()
            port = int(line.rsplit(":", 1)[1])
            assert service.health(port)[0]["status"] == "ok"
        finally:
            proc.terminate()  # what systemctl stop and launchctl bootout send
            proc.wait(timeout=30)
            proc.stdout.close()
    # a stop on purpose exits 0: launchd's KeepAlive (SuccessfulExit false) leaves it stopped
    assert proc.returncode == 0
    assert (data / "seenpapers.db").exists()


# --- install, uninstall, status, with recording stand-ins -------------------------------

STANDIN = """#!{python}
import json, sys
from pathlib import Path
here = Path(__file__).resolve().parent
argv = [Path(sys.argv[0]).name, *sys.argv[1:]]
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps(argv) + "\\n")
answers = here / "answers.json"
answer = json.loads(answers.read_text()).get(" ".join(argv), {{}}) if answers.exists() else {{}}
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("code", 0))
"""


class StandIns:
    """systemctl, launchctl, schtasks and powershell first on PATH: each records its argv
    and answers what the test told it to (exit status 0 and no output by default)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir()
        for name in ("systemctl", "launchctl", "schtasks", "powershell"):
            path = folder / name
            path.write_text(STANDIN.format(python=sys.executable))
            path.chmod(0o755)

    def answer(self, command: str, stdout="", code=0, stderr=""):
        answers = self.folder / "answers.json"
        known = json.loads(answers.read_text()) if answers.exists() else {}
        known[command] = {"stdout": stdout, "code": code, "stderr": stderr}
        answers.write_text(json.dumps(known))

    def calls(self) -> list[str]:
        log = self.folder / "calls.jsonl"
        calls = [" ".join(json.loads(line)) for line in log.read_text().splitlines()] if log.exists() else []
        log.unlink(missing_ok=True)
        return calls


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh home (with a space in its name) and stand-ins for the system commands."""
    path = tmp_path / "home dir"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    for name in ("XDG_CONFIG_HOME", "LOCALAPPDATA", "USERDOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("USERNAME", "reader")
    standins = StandIns(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{standins.folder}{os.pathsep}{os.environ['PATH']}")
    return path, standins


def listing(*folders: Path) -> set[str]:
    return {str(p) for folder in folders for p in folder.rglob("*") if not p.is_dir()}


UID = getattr(os, "getuid", lambda: 501)()
EXPECTED = {
    "linux": {
        "file": ".config/systemd/user/seenpapers.service",
        "install": ["systemctl --user daemon-reload", "systemctl --user enable seenpapers.service",
                    "systemctl --user restart seenpapers.service"],
        "uninstall": ["systemctl --user disable --now seenpapers.service", "systemctl --user daemon-reload"],
    },
    "macos": {
        "file": "Library/LaunchAgents/io.seenpapers.daemon.plist",
        "install": [f"launchctl bootout gui/{UID}/io.seenpapers.daemon",
                    f"launchctl bootstrap gui/{UID} {{home}}/Library/LaunchAgents/io.seenpapers.daemon.plist"],
        "uninstall": [f"launchctl bootout gui/{UID}/io.seenpapers.daemon"],
    },
    "windows": {
        "file": "AppData/Local/seenpapers/seenpapers-task.xml",
        "install": ["schtasks /End /TN seenpapers",
                    "schtasks /Create /TN seenpapers /XML {home}/AppData/Local/seenpapers/seenpapers-task.xml /F",
                    "schtasks /Run /TN seenpapers"],
        "uninstall": ["schtasks /End /TN seenpapers", "schtasks /Delete /TN seenpapers /F"],
    },
}


@pytest.mark.parametrize("system", service.SYSTEMS)
def test_install_then_uninstall_leaves_the_home_as_it_was(system, home, tmp_path):
    home, standins = home
    data = tmp_path / "my data"
    data.mkdir()
    (data / "seenpapers.db").write_bytes(b"the user's papers")
    before = listing(home, data)
    expected = {k: [c.format(home=home) for c in v] if isinstance(v, list) else v
                for k, v in EXPECTED[system].items()}

    result = run("service", "install", "--system", system, "--data-dir", data)
    assert result.exit_code == 0, result.output
    assert standins.calls() == expected["install"]
    written = home / expected["file"]
    assert listing(home, data) == before | {str(written)}
    assert service.installed_command(system, written.read_bytes()) == [
        service.pythonw(PYTHON) if system == "windows" else PYTHON,
        "-m", "seenpapers", "run", "--data-dir", str(data)]
    assert "now starts at login" in result.output

    result = run("service", "uninstall", "--system", system)
    assert result.exit_code == 0, result.output
    assert standins.calls() == expected["uninstall"]
    assert listing(home, data) == before
    assert (data / "seenpapers.db").read_bytes() == b"the user's papers"
    if system == "macos":  # the log folder install made goes too, while launchd wrote nothing into it
        assert not (data / "logs").exists()


def test_uninstall_keeps_the_logs_launchd_wrote(home, tmp_path):
    home, standins = home
    data = tmp_path / "data"
    run("service", "install", "--system", "macos", "--data-dir", data)
    (data / "logs" / "launchd.log").write_text("Traceback …")
    run("service", "uninstall", "--system", "macos")
    assert (data / "logs" / "launchd.log").exists()
    assert not (home / "Library/LaunchAgents/io.seenpapers.daemon.plist").exists()


@pytest.mark.parametrize("system", service.SYSTEMS)
def test_dry_run_prints_the_file_and_the_commands_and_changes_nothing(system, home, tmp_path):
    home, standins = home
    result = run("service", "install", "--dry-run", "--system", system, "--data-dir", tmp_path / "my data", "--port", 7400)
    assert result.exit_code == 0
    assert listing(home) == set() and not (tmp_path / "my data").exists()
    assert standins.calls() == []
    assert "nothing is changed" in result.output
    assert f"write {home / EXPECTED[system]['file']}:" in result.output
    for command in EXPECTED[system]["install"]:  # quoted as one would type them there
        shown = service.command_line([word.format(home=home) for word in command.split(" ")], system)
        assert f"run   {shown}" in result.output
    assert "--port" in result.output and "7400" in result.output
    expected_line = {"linux": f'ExecStart={PYTHON} -m seenpapers run --data-dir "{tmp_path}/my data" --port 7400',
                     "macos": f"<string>{tmp_path}/my data</string>",
                     "windows": f'<Arguments>-m seenpapers run --data-dir "{tmp_path}/my data" --port 7400</Arguments>'}
    assert expected_line[system] in result.output


def test_uninstall_when_nothing_is_installed_does_nothing(home):
    home, standins = home
    result = run("service", "uninstall", "--system", "linux")
    assert result.exit_code == 0 and "not installed" in result.output
    assert standins.calls() == []


def test_a_failing_system_command_stops_install_with_its_message(home, tmp_path):
    home, standins = home
    standins.answer("systemctl --user enable seenpapers.service", code=1, stderr="Failed to connect to bus: No medium found")
    result = CliRunner().invoke(cli, ["service", "install", "--system", "linux", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "systemctl --user enable seenpapers.service failed (exit status 1): Failed to connect to bus" in result.output
    assert standins.calls() == ["systemctl --user daemon-reload", "systemctl --user enable seenpapers.service"]


def test_reinstall_replaces_the_options(home, tmp_path):
    home, standins = home
    run("service", "install", "--system", "linux", "--data-dir", tmp_path / "d")
    run("service", "install", "--system", "linux", "--data-dir", tmp_path / "d", "--port", 7400)
    unit = (home / EXPECTED["linux"]["file"]).read_text()
    assert unit.count("ExecStart=") == 1 and unit.rstrip().endswith("WantedBy=default.target")
    assert "--port 7400" in unit


def status(system, *args):
    return CliRunner().invoke(cli, ["service", "status", "--system", system, *map(str, args)])


def test_status_when_nothing_is_installed(home, tmp_path):
    home, standins = home
    standins.answer("systemctl --user is-active seenpapers.service", stdout="inactive\n", code=3)
    result = status("linux", "--port", _free_port())
    assert result.exit_code == 1
    assert re.search(r"installed\s+no\s", result.output)
    assert "running    no   systemctl --user is-active seenpapers.service: inactive" in result.output
    assert re.search(r"answering\s+no\s+http://127\.0\.0\.1:\d+/api/v1/health", result.output)


RUNNING = {
    "linux": ("systemctl --user is-active seenpapers.service", "active\n"),
    "macos": (f"launchctl print gui/{UID}/io.seenpapers.daemon",
              "gui/501/io.seenpapers.daemon = {\n\tactive count = 1\n\tstate = running\n\tpid = 4242\n}\n"),
    "windows": ("powershell -NoProfile -NonInteractive -Command "
                "(Get-ScheduledTask -TaskName 'seenpapers' -ErrorAction Stop).State", "Running\r\n"),
}


@pytest.mark.parametrize("system", service.SYSTEMS)
def test_status_of_an_installed_running_answering_service(system, home, daemon):
    # The daemon is real (a `seenpapers run` on a free port); only the system's
    # "is it running?" answer comes from a stand-in.
    home, standins = home
    assert run("service", "install", "--system", system, "--data-dir", daemon.data_dir, "--port", daemon.port).exit_code == 0
    standins.calls()
    standins.answer(*RUNNING[system])
    result = status(system)  # the port is read from the installed file
    assert result.exit_code == 0, result.output
    assert standins.calls() == [RUNNING[system][0]]
    assert re.search(r"installed\s+yes\s+" + re.escape(str(home / EXPECTED[system]["file"])), result.output)
    assert f"--data-dir {daemon.data_dir}" in result.output.replace('"', "")
    assert re.search(r"running\s+yes\s", result.output)
    assert f"answering  yes  http://127.0.0.1:{daemon.port}/api/v1/health: version 0.1.0, 0 papers" in result.output


@pytest.mark.parametrize("system", service.SYSTEMS)
def test_status_of_an_installed_service_that_is_down(system, home, tmp_path):
    home, standins = home
    port = _free_port()
    run("service", "install", "--system", system, "--data-dir", tmp_path / "d", "--port", port)
    standins.answer(RUNNING[system][0], code={"linux": 3, "macos": 113, "windows": 1}[system],
                    stdout="failed\n" if system == "linux" else "")
    result = status(system)
    assert result.exit_code == 1
    assert re.search(r"running\s+no\s", result.output)
    assert f"answering  no   http://127.0.0.1:{port}/api/v1/health" in result.output
    assert "logs" in result.output


def test_status_says_when_the_system_cannot_be_asked(home):
    home, standins = home
    standins.answer("systemctl --user is-active seenpapers.service", code=1, stderr="Failed to connect to bus: No medium found")
    result = status("linux", "--port", _free_port())
    assert "running    ?    systemctl --user is-active seenpapers.service: Failed to connect to bus" in result.output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_uninstall_and_status_dry_runs_change_nothing(home, tmp_path):
    home, standins = home
    run("service", "install", "--system", "macos", "--data-dir", tmp_path / "my data", "--port", 7400)
    standins.calls()
    before = listing(home, tmp_path / "my data")
    result = run("service", "uninstall", "--dry-run", "--system", "macos")
    assert result.output.splitlines()[1:] == [
        f"  run   launchctl bootout gui/{UID}/io.seenpapers.daemon   (a failure is reported)",
        f"  remove {home}/Library/LaunchAgents/io.seenpapers.daemon.plist",
        f"  remove folder {tmp_path}/my data/logs (if empty)",  # the data dir it was installed with
    ]
    result = run("service", "status", "--dry-run", "--system", "macos")
    assert "http://127.0.0.1:7400/api/v1/health" in result.output
    assert listing(home, tmp_path / "my data") == before and standins.calls() == []
