"""Wall time and peak RSS of one child process, and the small helpers accuracy.py and int8.py share.

Peak RSS is read with GNU time (`/usr/bin/time`, Debian package `time`), which forks the
command from its own ~2 MB process: Linux carries a parent's RSS high-water mark into a
child's ru_maxrss across fork and exec, so a harness holding the 30 MB Fashion-MNIST test set
and numpy would otherwise inflate a 25 MB `fulcrum calibrate` to 100+ MB. Without GNU time
the harness falls back to wait4() on its own child (runner.py's way) and says the figure
includes its floor.
"""
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from runner import _wait, floor_rss_mb  # noqa: E402  (runner.py's wait4-with-timeout)

GNU_TIME = "/usr/bin/time"


@dataclass
class Measured:
    ok: bool
    wall_s: float
    rss_mb: float
    error: str = ""


def _tail(path, lines=5):
    try:
        return " | ".join(Path(path).read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def measure(cmd, log_path, timeout=3600.0):
    """Runs `cmd` (stdout and stderr to `log_path`); never raises for a failing child."""
    cmd = [str(c) for c in cmd]
    log_path = Path(log_path)
    stats = log_path.with_suffix(".time")
    use_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-f", "%e %M", "-o", str(stats), *cmd] if use_time else cmd
    start = time.monotonic()
    try:
        with open(log_path, "w") as log:
            log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
            log.flush()
            proc = subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            rss, timed_out = _wait(proc, timeout)
    except OSError as e:
        return Measured(False, 0.0, 0.0, f"cannot start {cmd[0]}: {e}")
    wall = time.monotonic() - start
    if use_time and stats.exists():
        # GNU time writes "Command exited with non-zero status N" before the format line on failure.
        last = stats.read_text().strip().splitlines()[-1].split()
        wall, rss = float(last[0]), float(last[1]) / 1024  # KiB
    if timed_out:
        return Measured(False, wall, rss, f"timed out after {timeout:.0f} s")
    if proc.returncode != 0:
        return Measured(False, wall, rss, f"exit {proc.returncode}: {_tail(log_path)}")
    return Measured(True, wall, rss)


def rss_note():
    """One sentence for a report saying how peak RSS was measured here."""
    if os.access(GNU_TIME, os.X_OK):
        return ("Peak RSS is the child's ru_maxrss as GNU time reports it (the command forked "
                "from /usr/bin/time, so the harness's own memory does not count).")
    return (f"Peak RSS is the child's ru_maxrss from wait4(); GNU time was not installed, so each "
            f"figure includes the harness's own high-water mark (a child doing nothing reports "
            f"{floor_rss_mb():.0f} MB here).")


def load_text():
    """`uptime`-style load average, for reports made on a shared machine."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def fulcrum_version(binary):
    try:
        v = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
        return v.stdout.strip() or "fulcrum (unknown version)"
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"fulcrum (not runnable: {e})"


def replace_section(path, begin, end, body):
    """Writes `body` between the marker lines `begin` and `end` of `path`, appending the
    markers when the file has none, and leaving everything outside them as it was."""
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    if begin in text and end in text and text.index(begin) < text.index(end):
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block
    path.write_text(text)
