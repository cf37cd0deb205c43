"""Who owns a 'running' run, and whether that owner is still alive.

A run row records its owning process when it is created (``owner_host``, ``owner_pid``,
``owner_started``: the process start time, so that a pid reused by another process is
not mistaken for the owner) and a heartbeat (``heartbeat_unix``, unix seconds) that a
daemon thread of the owner refreshes every ``HEARTBEAT_SECONDS`` while the run trains.

Any later recscope process (``sweep``, called when the CLI opens a store) marks a
'running' run 'failed' with the reason "interrupted ..." when its owner is gone:

- same host: the pid is not alive, or it is alive with another start time (reused pid);
- another host (we cannot see its processes): the heartbeat is older than
  ``HEARTBEAT_TIMEOUT`` seconds (``RECSCOPE_HEARTBEAT_TIMEOUT``, default 600);
- a row without an owner (written before these columns existed): created more than
  ``HEARTBEAT_TIMEOUT`` seconds ago.

Process start times are read from ``/proc/<pid>/stat`` (field 22, clock ticks since
boot) by hand: psutil would do it portably but is not a dependency; where /proc is
absent the start time is None and only "pid alive" is checked.
"""

from __future__ import annotations

import os
import socket
import threading
import time

HEARTBEAT_SECONDS = 30.0
HEARTBEAT_TIMEOUT = float(os.environ.get("RECSCOPE_HEARTBEAT_TIMEOUT", "600"))


def process_started(pid: int) -> str | None:
    """The start time of process ``pid`` as text (clock ticks since boot), or None."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: split after it
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except (OSError, ValueError, OverflowError):
        return False
    return True


def this_owner() -> dict:
    pid = os.getpid()
    return {"owner_host": socket.gethostname(), "owner_pid": pid,
            "owner_started": process_started(pid), "heartbeat_unix": time.time()}


def owner_gone(row: dict, now: float | None = None, host: str | None = None) -> bool:
    """Whether the owner of a 'running' run row (with the owner columns) is gone."""
    now = time.time() if now is None else now
    host = socket.gethostname() if host is None else host
    pid = row.get("owner_pid")
    if pid is None or pid != pid:  # no owner recorded (older store): judge by age
        created = row.get("created_unix")
        return created is not None and created == created and now - created > HEARTBEAT_TIMEOUT
    pid = int(pid)
    if row.get("owner_host") == host:
        if pid == os.getpid():
            return False
        if not pid_alive(pid):
            return True
        started = row.get("owner_started")
        return bool(started) and process_started(pid) not in (None, started)
    beat = row.get("heartbeat_unix")
    return beat is None or beat != beat or now - float(beat) > HEARTBEAT_TIMEOUT


# --------------------------------------------------------------------------- heartbeat

_beating: dict[int, object] = {}  # run_id -> store
_lock = threading.Lock()
_thread: threading.Thread | None = None
_wake = threading.Event()


def start_heartbeat(store, run_id: int) -> None:
    """Refresh ``run_id``'s heartbeat every HEARTBEAT_SECONDS until ``stop_heartbeat``."""
    global _thread
    with _lock:
        _beating[int(run_id)] = store
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_beat_loop, name="recscope-heartbeat", daemon=True)
            _thread.start()


def stop_heartbeat(run_id: int) -> None:
    with _lock:
        _beating.pop(int(run_id), None)


def _beat_loop() -> None:
    from engine.store.runs import beat_runs

    while True:
        _wake.wait(HEARTBEAT_SECONDS)  # an Event, so a test can beat at once
        _wake.clear()
        with _lock:
            items = list(_beating.items())
        if not items:
            continue
        by_store: dict[str, tuple] = {}
        for run_id, store in items:
            by_store.setdefault(str(store.path), (store, []))[1].append(run_id)
        for store, ids in by_store.values():
            try:
                beat_runs(store, ids, time.time())
            except Exception:  # a busy store: the next beat tries again
                pass


def sweep(store) -> list[int]:
    """Mark every 'running' run whose owner is gone as failed ("interrupted"); their ids."""
    from engine.store.runs import mark_interrupted, running_owners

    rows = running_owners(store)
    if not rows:
        return []
    now, host = time.time(), socket.gethostname()
    gone = [int(r["run_id"]) for r in rows if owner_gone(r, now, host)]
    if gone:
        mark_interrupted(store, gone, "interrupted: the process that trained it stopped "
                                      "before it finished.")
    return gone
