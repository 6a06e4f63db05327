"""Start at login: a systemd user unit (Linux), a launchd agent (macOS), a logon task (Windows).

Each system gets a *plan*: the one file ``install`` writes, the steps that install and
uninstall it, and the command that asks whether it runs. ``--dry-run`` prints a plan, the
real thing executes it. The files are rendered by pure functions, so every system's file
can be checked on any machine; the system commands all go through :func:`run_command`.
"""

from __future__ import annotations

import codecs
import getpass
import json
import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from . import config

SYSTEMS = ("linux", "macos", "windows")
UNIT = "seenpapers.service"  # systemd
LABEL = "io.seenpapers.daemon"  # launchd
TASK = "seenpapers"  # Task Scheduler


def current_system() -> str | None:
    if sys.platform.startswith("linux"):
        return "linux"
    return {"darwin": "macos", "win32": "windows"}.get(sys.platform)


# --- what the service runs -------------------------------------------------------------


def interpreter() -> Path:
    """This Python, by the path it was started as. Never resolved: a venv's python is a
    symlink to the base interpreter, and starting that one would lose the venv's packages."""
    return Path(os.path.abspath(sys.executable))


def service_command(python: Path | str, data_dir: Path | str, *, inboxes: Sequence[str] = (),
                    port: int | None = None, datasette_port: int | None = None,
                    no_datasette: bool = False) -> list[str]:
    """``python -m seenpapers run`` with every path made absolute now: the service starts
    in another directory, maybe with another environment, long after this one is gone."""
    argv = [str(python), "-m", "seenpapers", "run", "--data-dir", os.path.abspath(os.path.expanduser(data_dir))]
    for inbox in inboxes:  # a trailing name pattern ('daily_papers*.json') survives abspath
        argv += ["--inbox", os.path.abspath(os.path.expanduser(inbox))]
    if port is not None:
        argv += ["--port", str(port)]
    if no_datasette:
        argv.append("--no-datasette")
    elif datasette_port is not None:
        argv += ["--datasette-port", str(datasette_port)]
    return argv


def pythonw(python: str) -> str:
    """Windows: the interpreter's console-less sibling (python.exe -> pythonw.exe,
    python3.12.exe -> pythonw3.12.exe), so no console window opens at login."""
    return re.sub(r"python(?=[\d.]*(\.exe)?$)", "pythonw", python, flags=re.IGNORECASE)


# --- the files -------------------------------------------------------------------------


def systemd_quote(arg: str) -> str:
    """One ExecStart word. systemd splits on spaces, reads C escapes inside double quotes,
    and expands ``%`` specifiers and ``$VARIABLES`` even there, so those are doubled."""
    if "\n" in arg or "\r" in arg:
        raise ValueError(f"a line break cannot go into a systemd unit: {arg!r}")
    arg = arg.replace("%", "%%").replace("$", "$$")
    if arg and re.fullmatch(r"[\w./:=+,@%$-]+", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit(argv: Sequence[str]) -> str:
    """A user unit: started with the user's session, restarted when it fails, logging to
    the journal (``journalctl --user -u seenpapers``)."""
    return f"""\
# Written by `seenpapers service install`; `seenpapers service uninstall` removes it.
[Unit]
Description=seenpapers: remembers the papers you have seen (API and Datasette on localhost)

[Service]
Type=exec
ExecStart={" ".join(systemd_quote(a) for a in argv)}
Environment=PYTHONUNBUFFERED=1
Restart=on-failure
RestartSec=5

[Install]
WantedBy=default.target
"""


def launchd_plist(argv: Sequence[str], log_file: Path) -> bytes:
    return plistlib.dumps({
        "Label": LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        # Restarted when it crashes, not when it was stopped on purpose (it exits 0 then).
        "KeepAlive": {"SuccessfulExit": False},
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        # The daemon keeps its own log in the data dir; this catches what comes before it.
        "StandardOutPath": str(log_file),
        "StandardErrorPath": str(log_file),
    })


def windows_task(argv: Sequence[str], user: str) -> bytes:
    """Task Scheduler XML for ``schtasks /Create /XML``: at this user's logon, as this user
    (which needs no administrator), no time limit, not stopped on battery. schtasks reads
    only UTF-16 (with its byte order mark) or ANSI files, so it is UTF-16."""
    command, arguments = escape(argv[0]), escape(subprocess.list2cmdline(argv[1:]))
    user = escape(user)
    text = f"""\
<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>seenpapers: remembers the papers you have seen. Written by `seenpapers service install`.</Description>
    <URI>\\{TASK}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>false</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>3</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{command}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"""
    return codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le")


def decode(content: bytes) -> str:
    """A file install wrote, as text (the Windows task is UTF-16)."""
    if content.startswith(codecs.BOM_UTF16_LE):
        return content[2:].decode("utf-16-le")
    return content.decode("utf-8")


# --- and back: the command an installed file runs ---------------------------------------


def installed_command(system: str, content: bytes) -> list[str] | None:
    """The argv a file written by install runs (None when it is not one of ours)."""
    try:
        if system == "linux":
            line = re.search(r"^ExecStart=(.*)$", decode(content), re.MULTILINE).group(1)
            # Our words are plain, or double-quoted with \\ and \" inside: shlex reads both.
            return [w.replace("%%", "%").replace("$$", "$") for w in shlex.split(line)]
        if system == "macos":
            return list(plistlib.loads(content)["ProgramArguments"])
        if system == "windows":
            task = ElementTree.fromstring(content)
            ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
            command = task.findtext("t:Actions/t:Exec/t:Command", namespaces=ns)
            arguments = task.findtext("t:Actions/t:Exec/t:Arguments", default="", namespaces=ns)
            return [command, *split_windows(arguments)] if command else None
    except (AttributeError, ValueError, KeyError, ElementTree.ParseError, plistlib.InvalidFileException):
        return None
    raise ValueError(f"unknown system {system!r}")


def split_windows(line: str) -> list[str]:
    """Split arguments as a Windows program's C runtime does: backslashes are literal except
    before a quote. The inverse of ``subprocess.list2cmdline``."""
    words, word, in_word, quoted, i = [], "", False, False, 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            n = len(line) - i - len(line[i:].lstrip("\\"))
            i += n
            if line[i:i + 1] == '"':  # 2n backslashes and a quote: n and a quote mark
                word += "\\" * (n // 2)
                if n % 2:  # 2n+1: n and a literal quote
                    word += '"'
                    i += 1
            else:
                word += "\\" * n
            in_word = True
        elif c == '"':
            if quoted and line[i + 1:i + 2] == '"':  # "" inside quotes: a literal quote
                word += '"'
                i += 1
            else:
                quoted = not quoted
            in_word = True
            i += 1
        elif c in " \t" and not quoted:
            if in_word:
                words.append(word)
            word, in_word = "", False
            i += 1
        else:
            word += c
            in_word = True
            i += 1
    if in_word:
        words.append(word)
    return words


def option(argv: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` in argv."""
    for i, word in enumerate(argv[:-1]):
        if word == name:
            return argv[i + 1]
    return None


# --- plans -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A system command. on_error: "stop" the plan, "warn" and go on, or "ignore" (a stop
    of something that may not be running)."""
    argv: tuple[str, ...]
    on_error: str = "stop"


@dataclass(frozen=True)
class Write:
    path: Path
    content: bytes


@dataclass(frozen=True)
class Remove:
    path: Path


@dataclass(frozen=True)
class MakeFolder:
    path: Path


@dataclass(frozen=True)
class RemoveFolderIfEmpty:
    """A folder install made; it stays if the service wrote into it (its logs)."""
    path: Path


Step = Run | Write | Remove | MakeFolder | RemoveFolderIfEmpty


@dataclass(frozen=True)
class Plan:
    system: str
    kind: str  # what it is called on that system
    path: Path  # the one file install writes and uninstall removes
    install: tuple[Step, ...]
    uninstall: tuple[Step, ...]
    running: Run  # asks the system whether it runs
    logs: str  # where to look when it does not answer


def plan(system: str, argv: Sequence[str], *, home: Path | None = None, env: Mapping[str, str] | None = None,
         uid: int | None = None) -> Plan:
    """What installing ``argv`` as a login service means on ``system``.

    ``home`` and ``env`` are where the per-user folders are found (``Path.home()`` and
    ``os.environ`` by default), so a plan for any system can be made and run anywhere."""
    home = Path(home) if home is not None else Path.home()
    env = os.environ if env is None else env
    data_dir = Path(option(argv, "--data-dir"))
    if system == "linux":
        return _systemd_plan(argv, Path(env.get("XDG_CONFIG_HOME") or home / ".config"))
    if system == "macos":
        uid = uid if uid is not None else getattr(os, "getuid", lambda: 501)()  # 501: a dry run on Windows
        return _launchd_plan(argv, home, data_dir, uid)
    if system == "windows":
        return _windows_plan(argv, home, data_dir, env)
    raise ValueError(f"unknown system {system!r}: one of {', '.join(SYSTEMS)}")


def installed(system: str, default: Sequence[str], **where) -> tuple[Plan, list[str] | None]:
    """The plan of what is installed, and the command its file runs: uninstall and status
    follow the data dir and port it was installed with, not today's defaults. ``default``
    is the command to plan with when nothing (readable) is installed."""
    first = plan(system, default, **where)
    if not first.path.exists():
        return first, None
    command = installed_command(system, first.path.read_bytes())
    if not command or option(command, "--data-dir") is None:
        return first, None
    return plan(system, command, **where), command


def _systemd_plan(argv, config_home: Path) -> Plan:
    path = config_home / "systemd" / "user" / UNIT
    systemctl = ("systemctl", "--user")
    return Plan(
        "linux", "systemd user unit", path,
        install=(
            Write(path, systemd_unit(argv).encode()),
            Run((*systemctl, "daemon-reload")),
            Run((*systemctl, "enable", UNIT)),
            # restart, not start: a reinstall with other options replaces the running one
            Run((*systemctl, "restart", UNIT)),
        ),
        uninstall=(
            Run((*systemctl, "disable", "--now", UNIT)),
            Remove(path),
            Run((*systemctl, "daemon-reload")),
        ),
        running=Run((*systemctl, "is-active", UNIT)),
        logs=f"journalctl --user -u {UNIT}",
    )


def _launchd_plan(argv, home: Path, data_dir: Path, uid: int) -> Plan:
    path = home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    log_folder = data_dir / "logs"
    log_file = log_folder / "launchd.log"
    domain = f"gui/{uid}"
    return Plan(
        "macos", "launchd agent", path,
        install=(
            MakeFolder(log_folder),  # launchd opens the log itself, and makes no folders
            Write(path, launchd_plist(argv, log_file)),
            Run(("launchctl", "bootout", f"{domain}/{LABEL}"), on_error="ignore"),  # a reinstall
            Run(("launchctl", "bootstrap", domain, str(path))),
        ),
        uninstall=(
            Run(("launchctl", "bootout", f"{domain}/{LABEL}"), on_error="warn"),
            Remove(path),
            RemoveFolderIfEmpty(log_folder),
        ),
        running=Run(("launchctl", "print", f"{domain}/{LABEL}")),
        logs=f"{log_file} and {data_dir / 'seenpapers.log'}",
    )


def _windows_plan(argv, home: Path, data_dir: Path, env: Mapping[str, str]) -> Plan:
    local = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    path = local / "seenpapers" / "seenpapers-task.xml"
    user = env.get("USERNAME") or getpass.getuser()
    if env.get("USERDOMAIN"):
        user = f"{env['USERDOMAIN']}\\{user}"
    argv = [pythonw(argv[0]), *argv[1:]]
    return Plan(
        "windows", "Task Scheduler logon task", path,
        install=(
            Write(path, windows_task(argv, user)),
            Run(("schtasks", "/End", "/TN", TASK), on_error="ignore"),  # a reinstall
            Run(("schtasks", "/Create", "/TN", TASK, "/XML", str(path), "/F")),
            Run(("schtasks", "/Run", "/TN", TASK)),
        ),
        uninstall=(
            Run(("schtasks", "/End", "/TN", TASK), on_error="ignore"),
            Run(("schtasks", "/Delete", "/TN", TASK, "/F"), on_error="warn"),
            Remove(path),
        ),
        # schtasks prints the state in the system's language; PowerShell's enum is English.
        running=Run(("powershell", "-NoProfile", "-NonInteractive", "-Command",
                     f"(Get-ScheduledTask -TaskName '{TASK}' -ErrorAction Stop).State")),
        logs=str(data_dir / "seenpapers.log"),
    )


# --- doing it --------------------------------------------------------------------------


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess:
    """Run a system command found on PATH, capturing its output. The one place the
    machine's services are touched: tests put recording stand-ins first on PATH."""
    program = shutil.which(argv[0])
    if program is None:
        return subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: command not found")
    return subprocess.run([program, *argv[1:]], capture_output=True, text=True, errors="replace", timeout=60)


def command_line(argv: Sequence[str], system: str) -> str:
    """A command as one would type it on that system."""
    return subprocess.list2cmdline(argv) if system == "windows" else shlex.join(argv)


def describe(plan: Plan, steps: Sequence[Step]) -> list[str]:
    """The steps as text: each file with its content, each command."""
    lines = []
    for step in steps:
        if isinstance(step, Write):
            lines.append(f"write {step.path}:")
            lines += ["    " + line for line in decode(step.content).splitlines()]
        elif isinstance(step, Run):
            note = {"stop": "", "warn": "   (a failure is reported)", "ignore": "   (may fail: nothing to stop)"}
            lines.append(f"run   {command_line(step.argv, plan.system)}{note[step.on_error]}")
        elif isinstance(step, Remove):
            lines.append(f"remove {step.path}")
        elif isinstance(step, MakeFolder):
            lines.append(f"make folder {step.path} (if missing)")
        elif isinstance(step, RemoveFolderIfEmpty):
            lines.append(f"remove folder {step.path} (if empty)")
    return lines


class ServiceError(Exception):
    pass


def execute(plan: Plan, steps: Sequence[Step], *, echo: Callable[[str], None] = print,
            run: Callable = run_command) -> None:
    """Do the steps in order; a command that must succeed and fails stops here."""
    for step in steps:
        try:
            _execute(plan, step, echo, run)
        except OSError as e:  # a file that cannot be written or removed
            raise ServiceError(str(e)) from e


def _execute(plan: Plan, step: Step, echo, run) -> None:
    if isinstance(step, Write):
        step.path.parent.mkdir(parents=True, exist_ok=True)
        step.path.write_bytes(step.content)
        echo(f"wrote {step.path}")
    elif isinstance(step, Remove):
        step.path.unlink(missing_ok=True)
        echo(f"removed {step.path}")
    elif isinstance(step, MakeFolder):
        step.path.mkdir(parents=True, exist_ok=True)
    elif isinstance(step, RemoveFolderIfEmpty):
        try:
            step.path.rmdir()
        except OSError:  # missing, or holds the service's logs
            pass
    elif isinstance(step, Run):
        shown = command_line(step.argv, plan.system)
        done = run(step.argv)
        output = (done.stdout + done.stderr).strip()
        if done.returncode == 0:
            echo("\n      ".join([f"ran   {shown}", *output.splitlines()]))
        elif step.on_error == "stop":
            raise ServiceError(f"{shown} failed (exit status {done.returncode}): {output or 'no output'}")
        elif step.on_error == "warn":
            echo(f"ran   {shown}: failed (exit status {done.returncode}), going on: {output or 'no output'}")


# --- status ----------------------------------------------------------------------------


@dataclass
class Status:
    installed: bool
    command: list[str] | None  # what the installed file runs
    running: bool | None  # None: the system could not be asked
    running_detail: str
    port: int
    health: dict | None  # the answer of /api/v1/health, None when nothing answers
    health_detail: str

    @property
    def answering(self) -> bool:
        return self.health is not None


def is_running(plan: Plan, done: subprocess.CompletedProcess) -> tuple[bool | None, str]:
    """What the system's answer says, and in a few words why; None when it could not answer."""
    asked = command_line(plan.running.argv, plan.system)
    out, err = done.stdout.strip(), done.stderr.strip()
    if done.returncode == 127 and "command not found" in err:
        return None, err
    if plan.system == "linux":  # is-active prints a state (and exits 0 only for "active")
        if not out:
            return None, f"{asked}: {err or f'exit status {done.returncode}'}"
        return done.returncode == 0 and out == "active", f"{asked}: {out}"
    if plan.system == "macos":  # `launchctl print` knows loaded agents, running or not
        state = re.search(r"^\s*state = (\S+)", out, re.MULTILINE)
        if done.returncode != 0 or not state:
            return False, f"{asked}: not loaded"
        return state.group(1) == "running", f"{asked}: {state.group(1)}"
    if done.returncode != 0:  # windows
        return False, f"{asked}: no such task"
    return out == "Running", f"{asked}: {out}"


def health(port: int, host: str = config.DEFAULT_HOST, timeout: float = 2.0) -> tuple[dict | None, str]:
    url = f"http://{host}:{port}/api/v1/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response), url
    except urllib.error.HTTPError as e:
        return None, f"{url}: HTTP {e.code}"
    except (OSError, ValueError) as e:
        return None, f"{url}: {getattr(e, 'reason', None) or e}"


def service_port(command: Sequence[str] | None) -> int:
    return int(option(command or [], "--port") or config.DEFAULT_PORT)


def status(plan: Plan, command: Sequence[str] | None, *, port: int | None = None,
           run: Callable = run_command) -> Status:
    """Installed (its file is there), running (the system says so), answering (health, on
    the port the installed command listens on)."""
    port = port or service_port(command)
    running, running_detail = is_running(plan, run(plan.running.argv))
    answer, health_detail = health(port)
    return Status(plan.path.exists(), list(command) if command else None, running, running_detail,
                  port, answer, health_detail)
