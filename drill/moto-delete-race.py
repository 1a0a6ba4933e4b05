"""
moto 5.2.5 loses messages when SendMessage and DeleteMessage run at once on
one queue: a check anyone can run, in-process (no server, no network).

    ~/.cache/webhook-pipeline/moto-venv/bin/python drill/moto-delete-race.py [--locked]

Queue.delete_message builds a new message list from the current one and then
assigns it, without the lock Queue.add_message appends under. When two deletes
overlap, the one that started first can assign its list after a send appended
to the list of the one that finished first: the sent message is gone, though
SendMessage answered with its MessageId. The HTTP server runs each request in
a thread, so the router deleting batches while the ingress sends hits this.
`--locked` applies the fix drill/moto-with-state.py applies (delete under the
lock). Three threads delete 1,500 received messages while two send 600:

    {'sent': 600, 'lost': 224, 'locked': False}     (187-234 over runs)
    {'sent': 600, 'lost': 0, 'locked': True}

Thread switches are forced to be frequent here so the interleaving shows in
seconds; under a real load it is rare but real (the drill lost 1 of 10,000).
"""
import sys
import threading
import time

from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import Message, Queue, sqs_backends

sys.setswitchinterval(1e-6)  # switch threads often, so the interleaving shows in seconds
# Speed only (as in moto-with-state.py): moto's clock reads build datetimes, and each send counts the queue.
Message.visible = property(lambda self: time.time() * 1000.0 > self.visible_at)
Message.delayed = property(lambda self: time.time() * 1000.0 < self.delayed_until)

if "--locked" in sys.argv:
    _delete = Queue.delete_message

    def _locked(self, receipt_handle):
        with self._messages_lock:
            return _delete(self, receipt_handle)

    Queue.delete_message = _locked


def main():
    with mock_aws():
        backend = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        backend.create_queue("race")
        for i in range(2000):
            backend.send_message("race", f"backlog-{i}")
        batches = [[m.receipt_handle for m in backend.receive_message("race", 10, 0, 600)] for _ in range(150)]
        sent = []

        def sender(n):
            for i in range(300):
                sent.append(backend.send_message("race", f"sent-{n}-{i}").id)

        def deleter(part):
            for batch in part:
                for handle in batch:
                    backend.delete_message("race", handle)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(2)]
        threads += [threading.Thread(target=deleter, args=(batches[k::3],)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        present = {m.id for m in backend.get_queue("race")._messages}
        lost = [i for i in sent if i not in present]
        print({"sent": len(sent), "lost": len(lost), "locked": "--locked" in sys.argv})


if __name__ == "__main__":
    main()
