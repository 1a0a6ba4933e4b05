"""
Why the drill does not restore moto with its recorder: a check anyone can run.

    ~/.cache/webhook-pipeline/moto-venv/bin/python drill/moto-recorder-check.py
    (or <repo>/.cache/moto-venv/bin/python ...)

It records a small session against moto_server (MOTO_ENABLE_RECORDING=1):
a secret, a lane queue with a DLQ (maxReceiveCount 1), 10 messages sent,
6 received and deleted, 4 received twice and moved to the DLQ. Then it kills
moto, starts a new moto_server and replays the recording
(POST /moto-api/recorder/replay-recording), and prints what came back.

moto 5.2.5 prints:
  {"recorded_requests": 25, "before_restart": {"lane": 0, "dlq": 4},
   "after_replay": {"lane": 10, "dlq": 0}, "secret": "old ARN fails: ResourceNotFoundException", ...}

The recorder replays requests, not state: SendMessage makes the messages
again, DeleteMessage carries receipt handles the new process never issued,
DLQ moves happen inside receives, and CreateSecret draws a new random ARN
suffix. The router, which reads its secret by ARN, would quarantine every
webhook as no-secret after such a restore. drill/moto-with-state.py keeps
the state itself instead.
"""
import json
import os
import sys
import socket
import subprocess
import tempfile
import time

import boto3
import requests

MOTO = os.path.join(os.path.dirname(sys.executable), "moto_server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port, env):
    p = subprocess.Popen([MOTO, "-p", str(port)], env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return p
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("moto did not start")


def main():
    port = free_port()
    recording = os.path.join(tempfile.mkdtemp(), "recording.jsonl")
    endpoint = f"http://127.0.0.1:{port}"
    first = start(port, {"MOTO_ENABLE_RECORDING": "1", "MOTO_RECORDER_FILEPATH": recording})
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    sqs, sm = boto3.client("sqs", **kw), boto3.client("secretsmanager", **kw)
    arn = sm.create_secret(Name="p/github/signing-secret", SecretString='{"secrets":["x"]}')["ARN"]
    dlq = sqs.create_queue(QueueName="lane-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lane = sqs.create_queue(QueueName="lane", Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}), "VisibilityTimeout": "1"})["QueueUrl"]
    for i in range(10):
        sqs.send_message(QueueUrl=lane, MessageBody=f"m{i}")
    received = sqs.receive_message(QueueUrl=lane, MaxNumberOfMessages=10)["Messages"]
    for m in received[:6]:
        sqs.delete_message(QueueUrl=lane, ReceiptHandle=m["ReceiptHandle"])
    time.sleep(1.2)
    sqs.receive_message(QueueUrl=lane, MaxNumberOfMessages=10, WaitTimeSeconds=1)

    def depth(url):
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])

    before = {"lane": depth(lane), "dlq": depth(dlq)}
    first.kill()
    first.wait()
    recorded = len(open(recording).read().splitlines())
    second = start(port, {"MOTO_RECORDER_FILEPATH": recording})
    started = time.time()
    replay = requests.post(f"{endpoint}/moto-api/recorder/replay-recording")
    after = {"lane": depth(lane), "dlq": depth(dlq)}
    try:
        sm.get_secret_value(SecretId=arn)
        secret = "same ARN resolves"
    except Exception as err:  # noqa: BLE001 - the error's name is the finding
        secret = f"old ARN fails: {type(err).__name__}"
    second.kill()
    print(json.dumps({"recorded_requests": recorded, "replay_status": replay.status_code, "replay_s": round(time.time() - started, 2), "before_restart": before, "after_replay": after, "secret": secret}))


if __name__ == "__main__":
    main()
