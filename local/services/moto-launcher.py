"""
How the project runs moto (npm test, npm start, the drill): moto's own WSGI
application with one fix to moto and a few speed-ups (below), and, with
--state, its state kept across a restart (the drill restarts the emulator).

moto keeps everything in memory. moto 5.x has no persistence of its own, and
its recorder (MOTO_ENABLE_RECORDING, /moto-api/recorder/*) replays requests,
not state: a replayed SendMessage makes a new message, a replayed
DeleteMessage carries a receipt handle the new process never issued, and
receives, DLQ moves and visibility timers depend on timing. So a restored
queue would hold every message ever sent again, DLQs would be empty and
secrets would get new ARNs. Checked with moto 5.2.5: a recorded session (a
secret, a lane queue with a DLQ, 10 sent, 6 deleted, 4 moved to the DLQ)
replayed into a new moto_server came back with 10 in the lane, 0 in the DLQ
and the secret's old ARN unknown (the check was drill/moto-recorder-check.py,
commit 19958f3; Python is kept to the emulator's launcher).

This launcher runs moto's own WSGI application (the one moto_server runs)
and, on SIGTERM with --state, stops like a durable service would:

  1. new requests are refused with HTTP 503 and `Connection: close` (the AWS
     SDK treats 503 as transient and retries; the pipeline's HTTP ingress
     answers 503 to the sender, who retries);
  2. requests already being handled run to the end, so every request that
     was answered took effect (bounded by --drain-seconds);
  3. the state of the services it serves (SQS, S3, DynamoDB, Secrets
     Manager by default) is pickled to --state, atomically;
  4. the process exits 0.

Started with --state naming an existing file, it loads that state before it
listens. A SIGKILL skips all of this: what was in memory is gone, as when an
AWS region loses its data. The drill restarts moto with SIGTERM.

One fix to moto 5.2.5 itself: Queue.delete_message builds a new message
list and assigns it without the lock add_message appends under, so a message
sent while a DeleteMessage runs on the queue can vanish after SendMessage
answered 200. In-process, three threads deleting 1,500 received messages while two
sent 600 lost 187-234 of the 600 with moto's code and 0 with the lock
(drill/moto-delete-race.py, commit 19958f3). Before this fix a
10,000-webhook drill lost one acknowledged webhook that never reached the
router. Here delete_message holds that lock. Without --state and
--cache-counts (npm test, npm start) this fix and the speed-ups that change
no answer are all that differ from moto_server.

Changes to how fast moto serves, none to what it answers (moto's costs
grow with the messages in a queue, so a backlog of thousands in the
catch-all queue slowed the drill to ~20 webhooks/s):
  - a message's `visible` and `delayed` read the clock with time.time()
    instead of building datetimes: every SendMessage computes the queue's
    attributes, which counts the queue's messages (three passes);
  - with --cache-counts (the drill), the three message counts of a queue
    are reused for 50 ms (they are "approximate" in SQS too; tests that read
    a queue's depth right after sending want them exact);
  - each message a ReceiveMessage returns had its retention period read
    through get_queue_attributes, i.e. the three counts again, per message:
    it is read from the queue directly;
  - a long-polling ReceiveMessage waits for a new message (or 50 ms) between
    scans of the queue; moto's own loop returns at once while any message is
    visible, even one it cannot deliver (a FIFO group with a message in
    flight), so a long poll spins for its whole wait holding the GIL and the
    emulator slows to a crawl under a drill's load;
  - requests are not logged one line each.

    python moto-launcher.py --port 5000 [--state /tmp/moto.pickle] [--cache-counts] [--services sqs,s3,dynamodb,secretsmanager]
"""
import argparse
import copyreg
import os
import pickle
import signal
import sys
import threading
import time

from werkzeug.serving import make_server

import moto.backends as backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.sqs.models import Message, Queue, SQSBackend

# Locks and conditions cannot be pickled; a restored model gets fresh, unlocked ones.
copyreg.pickle(type(threading.Condition()), lambda _c: (threading.Condition, ()))
copyreg.pickle(type(threading.Lock()), lambda _l: (threading.Lock, ()))
copyreg.pickle(type(threading.RLock()), lambda _l: (threading.RLock, ()))


def _wait_for_messages(self, timeout):
    # Woken by add_message's notify_all; visibility timeouts end without one, hence the 50 ms bound.
    with self._messages_lock:
        self._messages_lock.wait(timeout=min(timeout, 0.05))


Queue.wait_for_messages = _wait_for_messages
# The same comparisons as moto's (unix_time_millis() is the epoch time in ms), without datetime arithmetic.
Message.visible = property(lambda self: time.time() * 1000.0 > self.visible_at)
Message.delayed = property(lambda self: time.time() * 1000.0 < self.delayed_until)


def _counted_for(name):
    count = getattr(Queue, name).fget

    def cached(self):
        cache = self.__dict__.setdefault("_drill_counts", {})
        now = time.time()
        hit = cache.get(name)
        if hit is not None and 0 <= now - hit[0] < 0.05:
            return hit[1]
        value = count(self)
        cache[name] = (now, value)
        return value

    return property(cached)


def cache_counts():
    for name in ("approximate_number_of_messages", "approximate_number_of_messages_delayed", "approximate_number_of_messages_not_visible"):
        setattr(Queue, name, _counted_for(name))


def _retained(self, queue_name, message):
    queue = self.get_queue(queue_name)
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > time.time()


SQSBackend.is_message_valid_based_on_retention_period = _retained

_delete_message = Queue.delete_message


def _delete_message_locked(self, receipt_handle):
    with self._messages_lock:
        return _delete_message(self, receipt_handle)


Queue.delete_message = _delete_message_locked


class QuietRequestHandler(MotoRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def log(message):
    sys.stdout.write(f"moto-launcher: {message}\n")
    sys.stdout.flush()


def snapshot(services):
    """{service: {account: {region: backend}}} of the backends in use."""
    state = {}
    for name in services:
        backend_dict = backends.get_backend(name)
        state[name] = {account: dict(dict.items(per_account)) for account, per_account in dict.items(backend_dict)}
    return state


def restore(state):
    """Put pickled backends into the live BackendDicts the request handlers read."""
    for name, accounts in state.items():
        backend_dict = backends.get_backend(name)
        for account, regions in accounts.items():
            per_account = backend_dict[account]  # creates the account's container
            for region, backend in regions.items():
                dict.__setitem__(per_account, region, backend)


class Gate:
    """Counts requests in flight; refuses new ones once closed."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Condition()
        self.in_flight = 0
        self.closed = False

    def __call__(self, environ, start_response):
        with self.lock:
            if self.closed:
                refuse = True
            else:
                refuse = False
                self.in_flight += 1
        if refuse:
            body = b'{"__type":"ServiceUnavailable","message":"the emulator is restarting"}'
            start_response("503 Service Unavailable", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body))), ("Connection", "close")])
            return [body]
        try:
            # The body is produced here, so the request has taken effect when this returns.
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.in_flight -= 1
                self.lock.notify_all()

    def close_and_drain(self, seconds):
        with self.lock:
            self.closed = True
            deadline = time.time() + seconds
            while self.in_flight > 0 and time.time() < deadline:
                self.lock.wait(deadline - time.time())
            return self.in_flight


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--state", help="pickle file: loaded at start if it exists, written on SIGTERM; without it SIGTERM just exits")
    parser.add_argument("--services", default="sqs,s3,dynamodb,secretsmanager")
    parser.add_argument("--cache-counts", action="store_true", help="reuse a queue's message counts for 50 ms")
    parser.add_argument("--drain-seconds", type=float, default=25.0, help="longest wait for requests in flight when stopping")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    if args.cache_counts:
        cache_counts()

    if args.state and os.path.exists(args.state):
        started = time.time()
        with open(args.state, "rb") as f:
            restore(pickle.load(f))
        log(f"restored {os.path.getsize(args.state)} bytes of {','.join(services)} state from {args.state} in {time.time() - started:.2f} s")

    app = DomainDispatcherApplication(create_backend_app)
    gate = Gate(app)
    server = make_server(args.host, args.port, gate, threaded=True, request_handler=QuietRequestHandler)

    def stop(_signum, _frame):
        if not args.state:
            os._exit(0)

        def run():
            try:
                started = time.time()
                left = gate.close_and_drain(args.drain_seconds)
                if left:
                    log(f"{left} request(s) still running after {args.drain_seconds} s; saving without them")
                data = pickle.dumps(snapshot(services), protocol=pickle.HIGHEST_PROTOCOL)
                tmp = f"{args.state}.tmp"
                # The state holds the emulator's secrets: readable by this user only.
                with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, args.state)
                log(f"saved {len(data)} bytes of state to {args.state} in {time.time() - started:.2f} s; exiting")
                os._exit(0)
            except BaseException as err:  # a failed save must end the process, not leave it answering 503
                log(f"saving the state failed: {type(err).__name__}: {err}; exiting without it")
                os._exit(1)

        threading.Thread(target=run, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"ready on http://{args.host}:{args.port}")
    server.serve_forever()


if __name__ == "__main__":
    main()
