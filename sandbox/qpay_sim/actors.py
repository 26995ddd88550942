"""The processes of one seed: storefront, shoppers, Checkout's webhook sender, Lambda's event sources,
the schedules, the merchant's refunds and the Dashboard. Each runs the product's real handlers or
service functions; none of them decides an outcome the product should decide."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cko_sim import DEFAULT_RETRY_SCHEDULE, PaymentStatus, SimulatorError, sign
from cko_sim.webhooks import WebhookEvent
from qpay_sim.lambdas import Context, http_event
from qpay_sim.world import MERCHANT_API_KEY, REGION, TABLE, WEBHOOK_SIGNING_KEY, Answer, World

SWEEP_EVERY_S = 15 * 60  # template.yaml SweepFunction: ScheduleExpression rate(15 minutes)
RECONCILE_AT_S = 3 * 3600 + 15 * 60  # template.yaml ReconcileFunction: cron(15 3 * * ? *)
STREAM_POLL_S = 1  # Lambda polls a stream shard about once per second (without a batching window)
STREAM_RETRY_S = 10
MAX_RETRY_ATTEMPTS = {"expiry": 5, "outbox": 20}  # template.yaml: the event source mappings' MaximumRetryAttempts
#: DynamoDB deletes expired items "within a few days" (docs: howitworks-ttl): here 0-6 h after the TTL.
TTL_LAG_MAX_S = 6 * 3600
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
#: Checkout's delivery schedule after a failed attempt: 5 m, 10 m, 15 m, 30 m, 1 h, 4 h, 12 h, 12 h
#: (../shared/reviews/fidelity.md S7; cko_sim.config.DEFAULT_RETRY_SCHEDULE).
RETRY_SCHEDULE = DEFAULT_RETRY_SCHEDULE


def _ids_in(record: dict[str, Any]) -> set[str]:
    import re  # noqa: PLC0415

    return set(re.findall(r"qpp_[a-z2-7]{26}", json.dumps(record.get("dynamodb", {}).get("Keys", {}))))


@dataclass
class Order:
    reference: str
    amount: int
    behaviour: str  # pay / decline / cancel / vanish
    payment_ids: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


class Actors:
    def __init__(self, w: World) -> None:
        self.w = w
        self.rng = random.Random(f"{w.seed}/actors")
        self.webhook_cursor = 0
        self.stream_arn: str | None = None
        self.last_sequence: str | None = None
        self.shard_id = ""
        self.stream_backlog: dict[str, list[dict[str, Any]]] = {"expiry": [], "outbox": []}
        self.stream_attempts = {"expiry": 0, "outbox": 0}
        self.draining = {"expiry": False, "outbox": False}
        self.poll_pending = False
        self.ttl_deleted: set[tuple[str, str]] = set()
        self.ttl_known: set[tuple[str, str]] = set()
        self.open_payments: dict[str, int] = {}
        self.open_refunds: dict[str, int] = {}
        self.sweeps_skipped = 0
        self.orders: dict[str, Order] = {}
        self.webhook_fates: dict[str, str] = {}

    # ------------------------------------------------------------------ storefront
    def create(self, order: Order, key: str, attempt: int = 1) -> None:
        from qpay.handlers import create_payment  # noqa: PLC0415

        body = {
            "reference": order.reference, "amount": order.amount, "currency": "QAR",
            "description": f"Order {order.reference}", "language": "en", "quantity": 1,
            "national_id": "28700000000",  # synthetic, the shape of a Qatar ID
        }  # fmt: skip
        headers = {"authorization": f"Bearer {MERCHANT_API_KEY}", "idempotency-key": key}
        event = http_event("POST", "/payments", now=self.w.clock.now(), body=json.dumps(body).encode(), headers=headers)
        answer = create_payment.handler(event, Context())
        status = int(answer["statusCode"])
        doc = json.loads(answer.get("body") or "{}")
        pid = str(doc.get("id", ""))
        if pid and pid not in order.payment_ids:
            order.payment_ids.append(pid)
        self.w.recorder.answers.append(Answer(self.w.clock.now(), "create", order.reference, status, doc))
        told = f"answered {status} {doc.get('status') or doc.get('code', '')} {pid}".rstrip()
        self.w.note(
            told + (f" redirect_url={doc['redirect_url']}" if doc.get("redirect_url") else ""), (order.reference, pid)
        )
        self.w.touched.add(order.reference)
        if (
            status in (201, 200)
            and doc.get("status") in ("Expired", "Canceled", "Declined")
            and order.behaviour == "pay"
        ):
            # told the order's payment ended: the storefront starts a new one for the same order
            again = Order(order.reference, order.amount, "pay", order.payment_ids, order.keys)
            self.start_create(again, f"{key}-again", 1, delay=60)
        if status in (201, 200) and doc.get("redirect_url") and order.behaviour != "vanish":
            self._schedule_shopper(order, pid)
        elif status in (409, 429, 500, 502, 503) and attempt < 4:
            if status == 409 and "different request" in json.dumps(doc):
                return
            self._retry_create(order, key, attempt)

    def create_killed(self, order: Order, key: str, attempt: int, *, late: bool = False) -> None:
        """The storefront saw no answer (the invocation died): it retries with the same key."""
        if attempt < 4:
            self._retry_create(order, key, attempt, late=late)

    def _retry_create(self, order: Order, key: str, attempt: int, *, late: bool = False) -> None:
        if not late and self.rng.random() < 0.5:
            delay = self.rng.choice([1, 5, 30, 120])
        else:
            # a retry long after (a queue, a shopper coming back): past the lease, the deadline and the
            # sweep's grace, and landing inside a sweep run half of the time. After an invocation that died
            # in its POST (``late``, correctness F4's setting): 25-30 min after, so mostly in the first sweep
            # run that finds the dead intent due (its 20 min window + the sweep's 5 min grace), 1 s after
            # that run started, while its Checkout calls are on the wire: buggify-style, on purpose
            later = self.w.clock.now() + (self.rng.randint(1500, 1800) if late else self.rng.randint(1500, 3600))
            if late or self.rng.random() < 0.5:
                later = later - later % SWEEP_EVERY_S + SWEEP_EVERY_S
                later += 1 if late else self.rng.randint(0, 20)
            delay = later - self.w.clock.now()
        self.start_create(order, key, attempt + 1, delay=delay)

    def start_create(self, order: Order, key: str, attempt: int, *, delay: int, die_in_post: bool = False) -> None:
        """``die_in_post``: this invocation dies inside its Checkout POST (before it reaches Checkout) and
        the storefront retries with the same key long after, as a sweep runs (correctness F4's setting)."""

        def run() -> None:
            self.create(order, key, attempt)

        def killed() -> None:
            self.create_killed(order, key, attempt, late=die_in_post)

        self.w.sched.after(
            delay, f"create {order.reference} key={key} try={attempt}", run, subjects=(order.reference,),
            killable=True, on_killed=killed, kill_at="checkout POST /payments" if die_in_post else None,
        )  # fmt: skip

    # ------------------------------------------------------------------ shoppers
    def _schedule_shopper(self, order: Order, payment_id: str) -> None:
        delay = self.rng.choice([self.rng.randint(10, 300), self.rng.randint(300, 840), self.rng.randint(900, 5400)])

        def run() -> None:
            self.shopper(order, payment_id)

        self.w.sched.after(
            delay, f"shopper {order.behaviour} {order.reference}", run, subjects=(order.reference, payment_id)
        )

    def shopper(self, order: Order, payment_id: str) -> None:
        payment = self.w.sim.resolve(payment_id, prefer=frozenset({PaymentStatus.PENDING}))
        if payment is None or payment.status != PaymentStatus.PENDING:
            return
        try:
            if order.behaviour == "pay":
                url = self.w.sim.pay(payment.id)
            elif order.behaviour == "decline":
                url = self.w.sim.pay(payment.id, pin="000000")
            else:
                url = self.w.sim.cancel(payment.id)
        except SimulatorError:
            return
        self.w.changed = True
        self.w.touched.update({payment.id, payment_id})
        if self.rng.random() < 0.8:  # the browser follows the redirect back (or the tab was closed)
            self.w.sched.after(self.rng.randint(1, 20), f"return {order.reference}", lambda: self.ret(url),
                               subjects=(order.reference, payment_id))  # fmt: skip

    def ret(self, url: str) -> None:
        from qpay.handlers import payment_return  # noqa: PLC0415

        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        event = http_event("GET", parts.path, now=self.w.clock.now(), query=query, body=None)
        payment_return.handler(event, Context())

    # ------------------------------------------------------------------ webhooks (Checkout's sender)
    def collect_webhooks(self) -> None:
        events = self.w.sim.webhooks.events
        while self.webhook_cursor < len(events):
            event = events[self.webhook_cursor]
            self.webhook_cursor += 1
            roll = self.rng.random()
            if roll < 0.03:
                self.webhook_fates[event.id] = "never"
                continue  # never arrives (every attempt lost)
            first = self.rng.choice([self.rng.randint(0, 10), self.rng.randint(0, 10), self.rng.randint(10, 600)])
            self._deliver_later(event, 1, first)
            if roll > 0.95:
                self._deliver_later(event, 1, self.rng.randint(0, 900))  # a duplicate, overlapping or not

    def _deliver_later(self, event: WebhookEvent, attempt: int, delay: int) -> None:
        def run() -> None:
            self.deliver(event, attempt)

        self.w.sched.after(delay, f"webhook {event.type} #{attempt}", run, subjects=(event.payment_id,))

    def deliver(self, event: WebhookEvent, attempt: int) -> None:
        from qpay.handlers import webhook  # noqa: PLC0415

        lost = self.rng.random()
        status = 0
        if lost >= 0.04:  # 4 %: the request never reaches us
            headers = {"cko-signature": sign(event.body, WEBHOOK_SIGNING_KEY)}
            result = webhook.handler(
                http_event("POST", "/webhooks/checkout", now=self.w.clock.now(), body=event.body, headers=headers),
                Context(),
            )
            status = int(result["statusCode"])
            if lost < 0.07:
                status = 0  # processed, but the answer is lost: Checkout delivers it again
        if 200 <= status < 300:
            return
        if attempt <= len(RETRY_SCHEDULE):
            self._deliver_later(event, attempt + 1, int(RETRY_SCHEDULE[attempt - 1]))

    # ------------------------------------------------------------------ the table's stream (Lambda's ESM)
    def want_poll(self) -> None:
        if not self.poll_pending:
            self.poll_pending = True
            self.w.sched.after(STREAM_POLL_S, "stream poll", self.poll_stream)

    def _iterator(self) -> str:
        """A fresh iterator after the last record read. (moto replaces the table, stream shard included,
        with a deep copy when a transaction is cancelled, so an old iterator would read a dead shard.)"""
        if self.stream_arn is None:
            self.stream_arn = self.w.ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
            shards = self.w.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
            self.shard_id = str(shards[0]["ShardId"])
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
        if self.last_sequence is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self.last_sequence)
        return str(self.w.streams.get_shard_iterator(**kwargs)["ShardIterator"])

    def poll_stream(self) -> None:
        self.poll_pending = False
        self.read_stream()
        self.drain("expiry")
        self.drain("outbox")

    def read_stream(self) -> None:
        from qpay.ops.stream_records import to_lambda_record  # noqa: PLC0415

        if not self.w.stream_dirty:
            return  # nothing written since the last read: no moto round trips
        self.w.stream_dirty = False

        while True:
            page = self.w.streams.get_records(ShardIterator=self._iterator(), Limit=1000)
            records = page.get("Records", [])
            if not records:
                break
            self.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
            for raw in records:
                record = to_lambda_record(raw, stream_arn=str(self.stream_arn), region=REGION)
                keys = raw["dynamodb"].get("Keys", {})
                sk = keys.get("sk", {}).get("S", "")
                name = raw["eventName"]
                # template.yaml's FilterCriteria: expiry gets REMOVE of sk=TIMER, outbox MODIFY of PAYMENT/REFUND#
                self._mirror(name, keys, sk, raw["dynamodb"].get("NewImage", {}))
                if sk == "TIMER" and name in ("INSERT", "MODIFY"):
                    self._ttl_seen(keys, raw["dynamodb"].get("NewImage", {}))
                if name == "REMOVE" and sk == "TIMER":
                    mark = (keys.get("pk", {}).get("S", ""), raw["dynamodb"].get("OldImage", {})
                            .get(self.w.ttl_attribute, {}).get("N", ""))  # fmt: skip
                    if mark in self.ttl_deleted:
                        self.ttl_deleted.discard(mark)
                        record["userIdentity"] = dict(TTL_IDENTITY)
                    self.stream_backlog["expiry"].append(record)
                elif name == "MODIFY" and (sk == "PAYMENT" or sk.startswith("REFUND#")):
                    self.stream_backlog["outbox"].append(record)
            self._trim_stream()

    def _trim_stream(self) -> None:
        """Forget the records already read, keeping moto's sequence numbers: moto deep-copies every table
        (its stream included) on each transaction, so a month of records would make each write O(n).
        (The real stream keeps records 24 h; nothing here reads a record twice.)"""
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415

        if self.last_sequence is None:
            return
        shard = dynamodb_backends["123456789012"][REGION].tables[TABLE].stream_shard
        if shard is None:
            return
        done = int(self.last_sequence) + 1 - shard.starting_sequence_number
        if done > 0:
            del shard.items[:done]
            shard.starting_sequence_number += done

    def drain(self, consumer: str) -> None:
        """One record per invocation, in order. A failure (reported, or the whole batch raising, as
        Powertools does when every record failed) blocks the consumer; after MaximumRetryAttempts the
        record goes to the on-failure queue and the consumer moves on (template.yaml: expiry 5, outbox 20)."""

        if self.draining[consumer]:
            return  # one invocation at a time per shard: the one running takes what was added
        self.draining[consumer] = True
        try:
            self._drain(consumer)
        finally:
            self.draining[consumer] = False

    def _drain(self, consumer: str) -> None:
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError  # noqa: PLC0415

        from qpay.handlers import expiry, outbox  # noqa: PLC0415

        fn = expiry.handler if consumer == "expiry" else outbox.handler
        backlog = self.stream_backlog[consumer]
        while backlog:
            record = backlog[0]
            self.w._touch(json.dumps(record.get("dynamodb", {}).get("Keys", {})))
            try:
                failed = bool(fn({"Records": [record]}, Context()).get("batchItemFailures"))
            except BatchProcessingError as exc:
                failed, why = True, repr(exc.child_exceptions[0][1]) if exc.child_exceptions else repr(exc)
            else:
                why = "reported failed"
            if not failed:
                self.stream_attempts[consumer] = 0
                backlog.pop(0)
                continue
            self.stream_attempts[consumer] += 1
            if self.stream_attempts[consumer] > MAX_RETRY_ATTEMPTS[consumer]:
                self.w.recorder.parked.append((self.w.clock.now(), consumer, record, why))
                self.w.note(f"{consumer} record parked on its on-failure queue: {why}", tuple(_ids_in(record)))
                self.stream_attempts[consumer] = 0
                backlog.pop(0)
                continue
            self.w.note(f"{consumer} record failed ({why}): retried", tuple(_ids_in(record)))
            self.w.sched.after(STREAM_RETRY_S, f"stream retry {consumer}", lambda: self.drain(consumer))
            return

    # ------------------------------------------------------------------ DynamoDB TTL
    def schedule_reap(self, payment_id: str, at: int) -> None:
        lag = self.rng.randint(0, TTL_LAG_MAX_S)
        self.w.sched.at(at + lag, f"ttl {payment_id}", lambda: self.reap(payment_id), subjects=(payment_id,))

    def _mirror(self, name: str, keys: dict[str, Any], sk: str, image: dict[str, Any]) -> None:
        """What the sweep's indexes hold, from the stream's images: open payments by deadline, open
        refunds by request time (only to skip sweep runs whose queries would find nothing)."""
        pk = keys.get("pk", {}).get("S", "")
        for index, attr in (("pending-by-deadline", "pending_pk"), ("open-refunds", "open_refund_pk")):
            shards = self.w.index_mirror[index]
            for members in shards.values():
                members.discard(pk + "|" + sk)
            value = image.get(attr, {}).get("S") if name != "REMOVE" else None
            if value:
                shards.setdefault(value, set()).add(pk + "|" + sk)
        if sk == "PAYMENT":
            stage = image.get("stage", {}).get("S")
            if name != "REMOVE" and stage in ("Pending", "Capture Pending"):
                self.open_payments[pk] = int(image.get("deadline", {}).get("N", "0"))
            else:
                self.open_payments.pop(pk, None)
        elif sk.startswith("REFUND#"):
            state = image.get("state", {}).get("S")
            if name != "REMOVE" and state in ("Requested", "Pending"):
                self.open_refunds[pk + sk] = int(image.get("created_at", {}).get("N", "0"))
            else:
                self.open_refunds.pop(pk + sk, None)

    def sweep_has_work(self, now: int, *, grace_s: int, refund_after_s: int) -> bool:
        return any(d <= now - grace_s for d in self.open_payments.values()) or any(
            c <= now - refund_after_s for c in self.open_refunds.values()
        )

    def _ttl_seen(self, keys: dict[str, Any], image: dict[str, Any]) -> None:
        """DynamoDB's TTL process learns of a timer item (written or re-armed)."""
        raw = image.get(self.w.ttl_attribute, {}).get("N")
        pk = keys.get("pk", {}).get("S", "")
        if raw is None or (pk, raw) in self.ttl_known or not pk.startswith("PAYMENT#"):
            return
        self.ttl_known.add((pk, raw))
        self.schedule_reap(pk.removeprefix("PAYMENT#"), int(raw))

    def reap(self, payment_id: str) -> None:
        """DynamoDB's TTL on this payment's timer: delete it if its time has passed (condition: the value
        we saw), then look again later (the expiry service re-arms it)."""
        key = {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "TIMER"}}
        item = self.w.ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
        if item is None or "N" not in item.get(self.w.ttl_attribute, {}):
            return
        ttl = int(item[self.w.ttl_attribute]["N"])
        if ttl > self.w.clock.now():
            return  # re-armed meanwhile: its new value was seen on the stream and has its own reap
        self.ttl_deleted.add((key["pk"]["S"], str(ttl)))
        try:
            self.w.ddb.delete_item(
                TableName=TABLE, Key=key, ConditionExpression="#t = :v",
                ExpressionAttributeNames={"#t": self.w.ttl_attribute}, ExpressionAttributeValues={":v": {"N": str(ttl)}},
            )  # fmt: skip
        except self.w.ddb.exceptions.ConditionalCheckFailedException:
            self.ttl_deleted.discard((key["pk"]["S"], str(ttl)))
            return
        self.w.wrote = self.w.stream_dirty = True

    # ------------------------------------------------------------------ schedules
    def sweep(self) -> None:
        from qpay.handlers import sweep  # noqa: PLC0415
        from qpay.settings import get_settings  # noqa: PLC0415

        now = self.w.clock.now()
        self.read_stream()  # the mirror is as fresh as the table
        if not self.sweep_has_work(now, grace_s=sweep.GRACE_S, refund_after_s=get_settings().refund_sweep_after_s):
            # 64 index queries that would find nothing: ~0.4 s of moto per run, 2,880 runs a month
            self.sweeps_skipped += 1
            return
        sweep.sweep(now=now)
        sweep.sweep_refunds(now=now)

    def reconcile(self) -> None:
        from qpay.handlers import reconcile  # noqa: PLC0415
        from qpay.service.reconcile import run  # noqa: PLC0415

        now = self.w.clock.now()
        report = run(now=now, ports=reconcile.ports(), concurrency=1)
        reconcile.record(report, now=now)

    # ------------------------------------------------------------------ merchant and Dashboard refunds
    def refund(self, payment_id: str, amount: int | None, key: str, attempt: int = 1) -> None:
        from qpay import deps  # noqa: PLC0415
        from qpay.domain.errors import DomainError  # noqa: PLC0415
        from qpay.service.refunds import RefundPorts, request_refund  # noqa: PLC0415
        from qpay.settings import get_settings  # noqa: PLC0415

        ports = RefundPorts(store=deps.store(), settings=get_settings(), checkout=self.w.checkout,
                            stepfunctions=self.w.sfn)  # fmt: skip
        try:
            refund, created = request_refund(
                payment_id, amount=amount, reference=None, reason="simulated return", principal="sim-merchant",
                idempotency_key=key, now=self.w.clock.now(), ports=ports,
            )  # fmt: skip
        except DomainError as exc:
            self.w.recorder.answers.append(
                Answer(self.w.clock.now(), "refund", payment_id, exc.status, {"error": type(exc).__name__})
            )
            if exc.status >= 500 and attempt < 3:
                self.w.sched.after(60, f"refund retry {payment_id}",
                                   lambda: self.refund(payment_id, amount, key, attempt + 1),
                                   subjects=(payment_id,))  # fmt: skip
            return
        self.w.touched.add(refund.id)
        self.w.recorder.answers.append(
            Answer(self.w.clock.now(), "refund", payment_id, 202 if created else 200,
                   {"id": refund.id, "amount": refund.amount, "state": refund.state.value})
        )  # fmt: skip

    def dashboard_refund(self, payment_id: str, fraction: float) -> None:
        payment = self.w.sim.resolve(payment_id, prefer=frozenset({PaymentStatus.CAPTURED}))
        if payment is None:
            return
        available = payment.available_to_refund
        amount = max(1, int(available * fraction))
        if available <= 0 or payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
            return
        self.w.touched.update({payment.id, payment_id})
        self.w.changed = True
        self.w.sim.dashboard_refund(payment.id, amount)

    def dump(self) -> dict[str, Any]:
        return {"orders": len(self.orders)}
