import io
import json
from datetime import UTC, date, datetime

import pytest

from redtrail.cli.progress import Progress
from redtrail.contracts.stack_outputs import OUTPUT_KEYS, StackResources
from redtrail.core.backfill import backfill, backfill_candidates, key_date
from redtrail.core.redrive import redrive
from redtrail.core.s3_events import TrailObject, notification_body, objects_in_message
from redtrail_devtools.deploy import apply_notification
from redtrail_devtools.poller import QueuePoller

KEY = "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_x y+z.json.gz"


class FakeQueue:
    def __init__(self, messages=()):
        self.messages = [
            {"MessageId": str(n), "ReceiptHandle": f"r{n}", "Body": body} for n, body in enumerate(messages)
        ]
        self.sent: list[str] = []
        self.deleted: list[str] = []
        self.released: list[tuple[str, int]] = []

    def send(self, bodies):
        self.sent.extend(bodies)
        return len(bodies)

    def receive(self, *, max_messages=10, wait_seconds=0):
        batch, self.messages = self.messages[:max_messages], self.messages[max_messages:]
        return batch

    def delete(self, messages):
        self.deleted.extend(message["MessageId"] for message in messages)

    def release(self, messages, *, after_seconds):
        self.released.extend((message["MessageId"], after_seconds) for message in messages)


def test_a_backfill_notification_reads_back_as_the_same_object():
    # Given an object whose key needs URL encoding
    trail_object = TrailObject("trail-bucket", KEY, size=10)
    # When its S3-shaped notification is built and read as the handler reads it
    body = notification_body(trail_object, region="us-east-1", event_time=datetime(2024, 5, 1, tzinfo=UTC))
    # Then the handler finds the same object, and the key is encoded as S3 encodes it
    assert objects_in_message(body) == [trail_object]
    record = json.loads(body)["Records"][0]
    assert record["s3"]["object"]["key"].endswith("x+y%2Bz.json.gz")
    assert record["eventName"] == "ObjectCreated:Put"


def test_key_dates_come_from_the_delivery_path_or_the_modification_time():
    # Given a trail key, and a key without a date path but with a modification time
    # When their delivery dates are read
    # Then the path wins, and the modification time is the fallback
    assert key_date(TrailObject("b", KEY)) == date(2024, 5, 1)
    modified = datetime(2023, 1, 2, 23, tzinfo=UTC)
    assert key_date(TrailObject("b", "exports/file.json", modified=modified)) == date(2023, 1, 2)
    assert key_date(TrailObject("b", "exports/file.json")) is None


def test_backfill_sends_only_trail_logs_since_the_date_ten_a_request():
    # Given 23 trail logs from two days, a digest and a non-log object
    objects = [
        TrailObject("b", KEY.replace("2024/05/01", f"2024/05/0{1 + n % 2}") + str(n) + ".json") for n in range(23)
    ]
    objects += [TrailObject("b", "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/05/02/d.json.gz")]
    objects += [TrailObject("b", "AWSLogs/1/CloudTrail/us-east-1/2024/05/02/readme.txt")]
    queue = FakeQueue()
    batches: list[int] = []
    # When they are backfilled since the second day
    sent = backfill(objects, queue.send, region="us-east-1", since=date(2024, 5, 2), on_sent=batches.append)
    # Then only that day's 11 logs are queued, in batches of at most 10
    assert sent == 11
    assert batches == [10, 1]
    assert all("2024/05/02" in objects_in_message(body)[0].key for body in queue.sent)
    assert len(list(backfill_candidates(objects, None))) == 23


def test_redrive_leaves_messages_that_arrive_while_it_runs():
    # Given two dead letters from before the redrive and one sent after it started (a file still bad)
    dead_letters = FakeQueue(["old-1", "old-2", "new"])
    for message, sent in zip(dead_letters.messages, (1_000, 2_000, 9_000), strict=True):
        message["Attributes"] = {"SentTimestamp": str(sent)}
    ingest = FakeQueue()
    # When they are redriven as of time 5,000
    moved = redrive(dead_letters, ingest, started_ms=5_000)
    # Then only the older two move; the newer one is made visible again in the dead-letter queue
    assert moved == 2
    assert ingest.sent == ["old-1", "old-2"]
    assert dead_letters.released == [("2", 0)]


def test_redrive_moves_every_dead_letter_back():
    # Given 12 messages in a dead-letter queue
    dead_letters = FakeQueue([f"body-{n}" for n in range(12)])
    ingest = FakeQueue()
    # When they are redriven
    moved = redrive(dead_letters, ingest)
    # Then each body is sent to the ingest queue and then deleted from the dead-letter queue
    assert moved == 12
    assert ingest.sent == [f"body-{n}" for n in range(12)]
    assert len(dead_letters.deleted) == 12


@pytest.mark.parametrize(
    ("response", "deleted", "released"),
    [
        pytest.param({"batchItemFailures": []}, ["0", "1"], [], id="all-succeed"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": "1"}]}, ["0"], [("1", 1)], id="partial"),
        pytest.param(RuntimeError("crash"), [], [("0", 1), ("1", 1)], id="invocation-error"),
    ],
)
def test_the_poller_honours_partial_batch_responses(response, deleted, released):
    # Given two messages and a handler that answers with the response (or raises)
    queue = FakeQueue(["a", "b"])
    events = []

    def handler(event, context):
        events.append(event)
        if isinstance(response, Exception):
            raise response
        return response

    poller = QueuePoller(queue, queue_arn="arn:q", region="us-east-1", handler=handler, context=lambda: None)
    # When it polls once
    batch = poller.poll_once(wait_seconds=0)
    # Then the handler got a Lambda-shaped SQS event, successes are deleted, failures left to SQS to retry
    assert [record["eventSource"] for record in events[0]["Records"]] == ["aws:sqs", "aws:sqs"]
    assert events[0]["Records"][0]["eventSourceARN"] == "arn:q"
    assert queue.deleted == deleted
    assert queue.released == released
    assert (batch.received, batch.succeeded, batch.failed) == (2, len(deleted), len(released))


def test_the_notification_stand_in_keeps_existing_notifications():
    # Given a bucket that already notifies a topic
    existing = {"TopicConfigurations": [{"TopicArn": "arn:t", "Events": ["s3:ObjectCreated:*"]}]}

    class FakeS3:
        written = None

        def get_bucket_notification_configuration(self, Bucket):
            return {**json.loads(json.dumps(existing)), "ResponseMetadata": {}}

        def put_bucket_notification_configuration(self, Bucket, NotificationConfiguration):
            FakeS3.written = NotificationConfiguration

    wanted = {"QueueConfigurations": [{"QueueArn": "arn:q", "Events": ["s3:ObjectCreated:Put"]}]}
    # When the stack's notification is applied
    apply_notification(FakeS3(), "bucket", wanted)
    # Then both notifications are configured
    assert FakeS3.written == {**existing, **wanted}


def test_stack_resources_need_the_core_outputs():
    # Given outputs without the table
    outputs = {key: f"value-{key}" for key in OUTPUT_KEYS if key != "TableName"}
    # When resources are read from them
    # Then the missing output is named
    with pytest.raises(KeyError, match="TableName"):
        StackResources.from_outputs("Redtrail", outputs)
    resources = StackResources.from_outputs("Redtrail", {**outputs, "TableName": "t"})
    assert resources.as_json()["deadLetterQueue"] == "value-DeadLetterQueueUrl"


def test_progress_draws_only_on_a_terminal():
    # Given a progress bar on a terminal and one on a pipe
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, pipe = Terminal(), io.StringIO()
    on_terminal, on_pipe = Progress("files", total=4, stream=terminal), Progress("files", stream=pipe)
    # When both advance to the end
    for _ in range(4):
        on_terminal.advance(note="2 events kept")
        on_pipe.advance()
    on_terminal.close()
    on_pipe.close()
    # Then the terminal shows a full bar and the pipe stays clean
    assert "[####################] 4/4 files" in terminal.getvalue()
    assert "2 events kept" in terminal.getvalue()
    assert pipe.getvalue() == ""
