"""Faults: a worker killed mid-delivery, the mail server down, the database failing during checkout.

* A real ``manage.py qcluster`` (django-q2, ORM broker, one worker) runs on the
  test database. Its mail backend blocks on the letter email; the test kills
  that worker with SIGKILL, stops the cluster, starts a new one, and the letter
  is emailed exactly once after django-q2 presents the task again (``retry``
  lowered to 6 s for that cluster).
* With the SMTP server (aiosmtpd) stopped every email fails; django-q2's own
  broker, worker, monitor and scheduler code runs the queue in this process
  (retry lowered to 1 s), the SMTP server comes back, and every email arrives
  exactly once.
* The database fails in the middle of a checkout (an ``OperationalError`` from
  the driver while the order items are inserted, then while the authorization
  is recorded): no half-written order, the 503 page with ``Retry-After``, the
  cart as it was, and the retry succeeds.
"""

from __future__ import annotations

import email
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email import policy
from multiprocessing import Value
from pathlib import Path
from queue import Queue
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from consultations.models import Consultation, ConsultationEmail
from consultations.services import consultation_approve, consultation_claim
from consultations.tests.factories import ClinicianProfileFactory, LicenseFactory
from letters import services as letters
from letters.models import DeliveryStatus, Letter, LetterDelivery
from letters.tests.factories import HISTORY, JUSTIFICATION, PLAN, LetterRequestFeeFactory
from marketplace.models import Cart, CartItem, Eligibility
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory, make_gtin
from payments.models import CheckoutSession, Order, OrderItem, OrderStatus, Payment

from .world import APPROVED_CARD, complete_intake, make_staff, questionnaire_for

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_WAIT_SECONDS = 45


# --------------------------------------------------------------------------- a letter waiting for approval


def _letter_case(patient_email: str) -> tuple[Consultation, User]:
    """A paid letter request (tasks inline, as the suite runs them) and the Texas clinician who claimed it."""
    patient = UserFactory(email=patient_email, first_name="Ray", last_name="Retry")
    signer = make_staff("dr.fay.fault@example.test", Role.CLINICIAN, first="Fay", last="Fault")
    LicenseFactory(clinician=ClinicianProfileFactory(user=signer, legal_name="Fay Fault"), state="TX")
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    questionnaire_for(sleep)
    LetterRequestFeeFactory(category=sleep, amount_cents=3_900)
    letter_request = letters.letter_request_start(shopper=patient, category=sleep)
    complete_intake(letter_request.consultation)
    assert letters.letter_request_pay(letter_request=letter_request, actor=patient, card=APPROVED_CARD).outcome == (
        "authorized"
    )
    consultation = Consultation.objects.get(pk=letter_request.consultation_id)
    consultation_claim(consultation=consultation, clinician=signer)
    consultation.refresh_from_db()
    return consultation, signer


def _approve(consultation: Consultation, signer: User) -> Letter:
    letter: Letter = consultation_approve(
        consultation=consultation,
        clinician=signer,
        diagnosis="Chronic insomnia with early-morning awakening",
        icd10_code="G47.00",
        relevant_history=HISTORY,
        treatment_plan=[dict(item) for item in PLAN],
        justification=JUSTIFICATION,
    )
    return letter


# --------------------------------------------------------------------------- (a) a worker killed mid-delivery


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Cluster:
    """``manage.py qcluster`` on the test database with ``tests_security.cluster_settings``."""

    def __init__(self, workdir: Path) -> None:
        self.mail_dir = workdir / "mail"
        self.block = workdir / "block-letter-email"
        self.entered = workdir / "letter-email-entered"
        self.log = workdir / "qcluster.log"
        self.mail_dir.mkdir()
        (workdir / "media").mkdir()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests_security.cluster_settings",
            "DATABASE_URL": _database_url(),
            "FLEXLMN_MAIL_DIR": str(self.mail_dir),
            "FLEXLMN_MEDIA_ROOT": str(workdir / "media"),
            "FLEXLMN_MAIL_BLOCK": str(self.block),
            "FLEXLMN_MAIL_ENTERED": str(self.entered),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM to the cluster's process group, SIGKILL if it lingers (a killed worker can stall the graceful stop)."""
        if self.process is None:
            return
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        self.process = None

    def wait_for(self, condition: Callable[[], bool], what: str, seconds: float = CLUSTER_WAIT_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"Timed out waiting for {what}. qcluster log:\n{self.log.read_text()[-4000:]}")

    def letter_emails(self) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, email.message.EmailMessage)
            if any(part.get_content_type() == "application/pdf" for part in message.iter_attachments()):
                found.append(message)
        return found


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_sends_the_letter_exactly_once_after_the_retry(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    consultation, signer = _letter_case("ray.retry@example.test")
    # From here on, tasks go to the real queue (committed rows in the ORM broker), not inline.
    monkeypatch.setattr(Conf, "SYNC", False)
    cluster.block.touch()
    letter = _approve(consultation, signer)
    delivery = LetterDelivery.objects.get(letter=letter)
    assert OrmQ.objects.exists()

    cluster.start()
    cluster.wait_for(cluster.entered.exists, "the worker to start emailing the letter")
    worker_pid = int(cluster.entered.read_text())
    os.kill(worker_pid, signal.SIGKILL)  # mid-delivery: the email was never handed over

    # The killed attempt's transaction died with its connection: the delivery is still queued, nothing counted.
    def rolled_back() -> bool:
        delivery.refresh_from_db()
        return delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 0

    cluster.wait_for(rolled_back, "the killed attempt to roll back")
    assert cluster.letter_emails() == []

    cluster.stop()
    cluster.block.unlink()
    cluster.start()

    def delivered_and_acknowledged() -> bool:
        delivery.refresh_from_db()
        return delivery.status == DeliveryStatus.SENT and not OrmQ.objects.exists()

    cluster.wait_for(delivered_and_acknowledged, "django-q2 to present the task again and the letter to be sent")
    letter.refresh_from_db()
    [sent] = cluster.letter_emails()
    assert sent["To"] == "ray.retry@example.test"
    [attachment] = [p for p in sent.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert hashlib.sha256(attachment.get_content()).hexdigest() == letter.pdf_sha256
    assert delivery.attempts == 1


# --------------------------------------------------------------------------- (b) the mail server down


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(bytes(envelope.original_content), policy=policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keep_the_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster closes stale connections between tasks; here that connection holds the test's transaction."""
    from django_q import monitor as q_monitor
    from django_q import scheduler as q_scheduler
    from django_q import worker as q_worker

    for module in (q_worker, q_monitor, q_scheduler):
        monkeypatch.setattr(module, "close_old_django_connections", lambda: None)


def _run_queue(monkeypatch: pytest.MonkeyPatch) -> int:
    """What one pass of a qcluster does: the pusher dequeues, the worker runs, the monitor saves and acknowledges."""
    from django_q import monitor as q_monitor
    from django_q import worker as q_worker
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    _keep_the_test_connection(monkeypatch)
    broker = get_broker()
    tasks: Queue[Any] = Queue()
    results: Queue[Any] = Queue()
    count = 0
    while batch := broker.dequeue():
        for ack_id, payload in batch:
            task = SignedPackage.loads(payload)
            task["ack_id"] = ack_id
            tasks.put(task)
            count += 1
    tasks.put("STOP")
    q_worker.worker(tasks, results, Value("f", -1))  # type: ignore[arg-type]
    results.put("STOP")
    q_monitor.monitor(results, broker)  # type: ignore[arg-type]
    return count


@pytest.mark.slow
@pytest.mark.django_db
def test_with_the_mail_server_down_every_email_is_retried_and_none_is_lost(
    settings: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from django_q.brokers import get_broker
    from django_q.scheduler import scheduler

    inbox = Inbox()
    port = _free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.LETTERS_DELIVERY_RETRY_SECONDS = 1
    monkeypatch.setattr(Conf, "RETRY", 1)  # how long django-q2 waits before presenting an unfinished task again

    # Nothing listens on the port: the SMTP server is down for the whole review. Tasks go to the broker.
    monkeypatch.setattr(Conf, "SYNC", False)
    with django_capture_on_commit_callbacks(execute=True):
        consultation, signer = _letter_case("rita.resend@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        letter = _approve(consultation, signer)
    with django_capture_on_commit_callbacks(execute=True):
        queued = _run_queue(monkeypatch)
    # Received, under review, approved, order confirmed, and the letter itself.
    assert queued >= 5
    delivery = LetterDelivery.objects.get(letter=letter)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert delivery.last_error.startswith("ConnectionRefusedError")
    assert Schedule.objects.filter(name=f"letters.delivery.{delivery.pk}.1").exists()
    assert OrmQ.objects.count() == queued - 1  # failed tasks stay in the broker; the letter task ended cleanly
    assert not ConsultationEmail.objects.filter(consultation=consultation, kind="approved", sent_at__isnull=False)

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        time.sleep(1.1)  # past django-q2's retry and the letter's first retry delay
        with django_capture_on_commit_callbacks(execute=True):
            scheduler(broker=get_broker())  # what the cluster's guard runs: the letter's retry is due
            _run_queue(monkeypatch)
        # Another pass finds nothing left to do, and sends nothing twice.
        time.sleep(1.1)
        with django_capture_on_commit_callbacks(execute=True):
            scheduler(broker=get_broker())
            assert _run_queue(monkeypatch) == 0
    finally:
        controller.stop()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert not OrmQ.objects.exists()
    to_patient = [m for m in inbox.messages if m["To"] == "rita.resend@example.test"]
    subjects = sorted(str(m["Subject"]) for m in to_patient)
    assert len(subjects) == len(set(subjects)) == queued, subjects  # each email once, none lost
    assert sum(1 for m in to_patient for p in m.iter_attachments() if p.get_content_type() == "application/pdf") == 1
    assert ConsultationEmail.objects.get(consultation=consultation, kind="approved").sent_at is not None


# --------------------------------------------------------------------------- (c) the database fails during checkout


@pytest.fixture
def cart_of_two(shopper: User) -> list[Any]:
    merchant = MerchantFactory(name="Thermo Co", slug="thermo-co")
    category = CategoryFactory(name="Fitness & recovery", slug="fitness-recovery")
    products = [
        ProductFactory(
            merchant=merchant,
            category=category,
            name=name,
            slug=slug,
            price_cents=price,
            eligibility=Eligibility.AUTO_SUBSTANTIATION,
            gtin=make_gtin(n),
        )
        for n, (name, slug, price) in enumerate(
            [("Digital Thermometer", "digital-thermometer", 1_999), ("Heating Pad", "heating-pad", 3_499)]
        )
    ]
    cart = Cart.objects.create(user=shopper)
    CartItem.objects.create(cart=cart, product=products[0], quantity=2)
    CartItem.objects.create(cart=cart, product=products[1], quantity=1)
    return products


DETAILS = {
    "step": "details",
    "name": "Sam Shopper",
    "email": "sam.shopper@example.test",
    "phone": "555-010-0199",
    "line1": "12 Elm Street",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
}
CARD = {
    "step": "payment",
    "card_name": "Sam Shopper",
    "card_number": "4242 4242 4242 4242",
    "card_expiry": "12/35",
    "card_cvc": "123",
}


def _connection_lost_on(sql_fragment: str) -> Callable[..., Any]:
    """An execute wrapper: the statement containing ``sql_fragment`` fails as if the server went away."""

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql_fragment in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def _cart_lines(shopper: User) -> list[tuple[str, int]]:
    return sorted(CartItem.objects.filter(cart__user=shopper).values_list("product__slug", "quantity"))


def _friendly_error(response: Any) -> None:
    # A lost database connection is an outage, not a bug: 503 and when to retry (flexlmn/outage.py).
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "FlexLMN is briefly unavailable" in html and "Nothing you had already saved was lost" in html
    assert "Traceback" not in html and "OperationalError" not in html


@pytest.mark.django_db
def test_the_database_failing_while_the_order_is_written_leaves_no_half_order_and_the_cart(
    shopper: User, cart_of_two: list[Any]
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(shopper)
    cart_before = _cart_lines(shopper)
    start = client.post(reverse("payments:checkout"), {"action": "start"})
    session = CheckoutSession.objects.get(customer=shopper)
    pay_url = reverse("payments:pay", args=[session.pk])
    assert start["Location"] == pay_url

    with connection.execute_wrapper(_connection_lost_on('INSERT INTO "payments_orderitem"')):
        response = client.post(pay_url, DETAILS)
    _friendly_error(response)
    assert not Order.objects.exists() and not OrderItem.objects.exists()
    session.refresh_from_db()
    assert session.details_completed_at is None  # the details were saved in the same transaction: undone too
    assert _cart_lines(shopper) == cart_before
    cart_page = client.get(reverse("marketplace:cart")).content.decode()
    assert "Digital Thermometer" in cart_page and "Heating Pad" in cart_page

    # The shopper tries again and the order is whole.
    assert client.post(pay_url, DETAILS).status_code == 302
    order = Order.objects.get()
    assert sorted(order.items.values_list("name", "quantity")) == [("Digital Thermometer", 2), ("Heating Pad", 1)]
    assert order.total_cents == 2 * 1_999 + 3_499


@pytest.mark.django_db
def test_the_database_failing_while_the_payment_is_recorded_leaves_the_order_unpaid_and_the_cart(
    shopper: User, cart_of_two: list[Any]
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(shopper)
    cart_before = _cart_lines(shopper)
    client.post(reverse("payments:checkout"), {"action": "start"})
    session = CheckoutSession.objects.get(customer=shopper)
    pay_url = reverse("payments:pay", args=[session.pk])
    assert client.post(pay_url, DETAILS).status_code == 302
    order = Order.objects.get()

    # The card is authorized, then recording it fails.
    with connection.execute_wrapper(_connection_lost_on('UPDATE "payments_payment"')):
        response = client.post(pay_url, CARD)
    _friendly_error(response)
    order.refresh_from_db()
    session.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    # The attempt was committed before the provider was called: it is kept, unpaid and in flight.
    attempt = Payment.objects.get()
    assert (attempt.status, attempt.attempt_started_at is not None) == ("requires_authorization", True)
    assert session.status == "open"
    assert _cart_lines(shopper) == cart_before

    response = client.post(pay_url, CARD)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert Payment.objects.filter(order=order).count() == 1
    assert Payment.objects.get().pk == attempt.pk  # the retry reused the attempt (and its idempotency key)
    assert _cart_lines(shopper) == []  # what was bought leaves the cart, once it is really paid
