"""Imported by Python at start-up in a job run with `just local --debug`, which puts this
folder on PYTHONPATH: the job's first Python process listens for a debugger (debugpy) on
127.0.0.1 and waits for one to attach before the job's own code runs, up to a time limit.
The processes it starts do not listen again. Not part of the job: nothing here is uploaded.
"""

import os
import signal
import sys
import threading

SETTING = "JUST_LOCAL_DEBUG"  # HOST:PORT:SECONDS, set by scripts/runner/debugging.py


def _wait_for_debugger(setting: str) -> None:
    host, port, seconds = setting.rsplit(":", 2)
    # Ctrl-C until a debugger attaches ends the job as a stopped one ends (130), at once:
    # raised as KeyboardInterrupt, it would surface in debugpy's code and abort start-up.
    previous = signal.signal(signal.SIGINT, _interrupted)
    import debugpy

    debugpy.listen((host, int(port)))
    print(
        f"waiting up to {seconds} s for a debugger to attach on {host}:{port} "
        "(VS Code: 'Attach to just local --debug')",
        file=sys.stderr,
        flush=True,
    )
    waiting = threading.Thread(target=debugpy.wait_for_client, daemon=True)
    waiting.start()
    waiting.join(float(seconds))
    signal.signal(signal.SIGINT, previous)
    if not debugpy.is_client_connected():
        print(
            f"no debugger attached within {seconds} s: the job was not run",
            file=sys.stderr,
            flush=True,
        )
        sys.stdout.flush()
        os._exit(1)  # site.py would report and swallow a SystemExit


def _interrupted(signum: int, frame: object) -> None:
    print("interrupted while waiting for a debugger: the job was not run", file=sys.stderr)
    os._exit(130)


_setting = os.environ.pop(SETTING, "")  # popped: the job's own child processes do not wait
if _setting:
    _wait_for_debugger(_setting)
