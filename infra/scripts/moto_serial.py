"""The moto server (DynamoDB, SQS, SES v2 emulator), handling one request at a time.

moto rolls a cancelled TransactWriteItems back by restoring a copy of the whole table
taken when the transaction began. With moto_server's concurrent request threads, that
restore can erase a transaction that committed in between, so concurrent tests would see
lost writes that real DynamoDB (which isolates transactions) never produces. Serialising
the requests gives the local stack DynamoDB's isolation. Connections are still accepted
concurrently.

usage: python moto_serial.py HOST PORT
"""

import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            # Produce the whole body inside the lock: moto computes lazily.
            return list(app(environ, start_response))

    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
