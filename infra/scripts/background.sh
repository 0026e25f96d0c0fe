#!/usr/bin/env bash
# Background servers of the local stack (moto, DynamoDB Local, the OpenID provider): start one in its own
# process group, wait until it answers, and stop exactly the process that was started.
#
#   source infra/scripts/background.sh
#   bg_start NAME READY_FN PORT LOG PID_FILE TIMEOUT -- COMMAND...
#   bg_stop NAME PID_FILE
#   bg_cleanup_guard            (first line of an EXIT-trap cleanup, after `local rc=$?`)
#   bg_free_port                (a free TCP port on 127.0.0.1)
#   bg_free_ports N             (N distinct free TCP ports on 127.0.0.1, one per line:
#                                ports chosen by separate bg_free_port calls before any
#                                server binds them can repeat, as the OS hands a port just
#                                released out again)

# bg_start NAME READY_FN PORT LOG PID_FILE TIMEOUT -- COMMAND...
# READY_FN PORT must succeed once the server answers. Refuses to start when something
# already answers on PORT.
bg_start() {
  local name="$1" ready="$2" port="$3" log="$4" pidfile="$5" timeout="$6"
  shift 6
  [[ "${1:-}" == "--" ]] && shift
  if "$ready" "$port"; then
    echo "$name: something already answers on 127.0.0.1:$port; refusing to start a second one (stop it or choose another port)" >&2
    return 1
  fi
  mkdir -p "$(dirname "$log")" "$(dirname "$pidfile")"
  # Own session/process group so Ctrl-C in the caller's terminal is handled by its trap only.
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" </dev/null >"$log" 2>&1 &
  else
    "$@" </dev/null >"$log" 2>&1 &
  fi
  local pid=$!
  echo "$pid" >"$pidfile"
  local deadline=$((SECONDS + timeout))
  until "$ready" "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name: exited during startup (port $port). Last log lines from $log:" >&2
      tail -n 20 "$log" >&2 || true
      rm -f "$pidfile"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "$name: not ready on 127.0.0.1:$port after ${timeout}s; see $log" >&2
      kill "$pid" 2>/dev/null || true
      rm -f "$pidfile"
      return 1
    fi
    sleep 0.2
  done
  echo "$name: ready at http://127.0.0.1:$port (pid $pid, log $log)" >&2
}

# bg_stop NAME PID_FILE -- stops only the process whose pid was recorded (TERM, then KILL
# after 5 s).
bg_stop() {
  local name="$1" pidfile="$2"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  rm -f "$pidfile"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    echo "$name: stopped (pid $pid)" >&2
  fi
}

# bg_cleanup_guard -- makes an EXIT-trap cleanup run to the end. Further INT/TERM/HUP are
# ignored (make forwards its own TERM to us, which would otherwise end the script before it
# stops what it started), and so are PIPE and errexit: when the output goes through a pipe
# (`make dev | tee log`), Ctrl-C has already ended the reader, and a message written while
# cleaning up must not end the cleanup.
bg_cleanup_guard() {
  set +e
  trap "" INT TERM HUP PIPE
  trap - EXIT
}

# Print a free TCP port on 127.0.0.1.
bg_free_port() {
  bg_free_ports 1
}

bg_free_ports() {
  # Every socket stays bound until all are chosen, so the ports differ.
  python3 -c '
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print("\n".join(str(s.getsockname()[1]) for s in held))
for s in held:
    s.close()
' "$1"
}
