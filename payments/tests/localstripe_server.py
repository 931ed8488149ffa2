"""Run localstripe (a fake, stateful Stripe API) for the Stripe provider's tests.

``python payments/tests/localstripe_server.py PORT`` starts it on 127.0.0.1:PORT
with these patches, each for something real Stripe does that localstripe 1.15
does not:

* Stripe's decline test cards (``4000 0000 0000 0002`` generic decline,
  ``…9995`` insufficient funds) are declined when a PaymentIntent is
  confirmed, with Stripe's ``decline_code``; localstripe only declines them
  when attached to a customer.
* ``Idempotency-Key``: a POST repeated with the same key answers the first
  response again instead of doing the work twice
  (https://docs.stripe.com/api/idempotent_requests). ``GET /_config/stats``
  counts replays. The same key with other parameters is refused with
  ``idempotency_error``, as Stripe does.
* ``POST /v1/payment_intents/{id}/confirm`` takes a ``payment_method``
  (https://docs.stripe.com/api/payment_intents/confirm); localstripe answers
  "Not implemented".
* No shared ``/tmp/localstripe.pickle``: state lives in this process only.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from aiohttp import web
from localstripe import resources

DECLINES = {
    "4000000000000002": ("generic_decline", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
}

_original_charging_is_declined = resources.PaymentMethod._charging_is_declined


def _charging_is_declined(self: Any) -> bool:
    if self.type == "card" and self._card_number in DECLINES:
        return True
    return bool(_original_charging_is_declined(self))


def _set_auth_failure(self: Any) -> None:
    method = resources.PaymentMethod._api_retrieve(self.payment_method)
    code, message = DECLINES.get(getattr(method, "_card_number", ""), ("generic_decline", "Your card was declined."))
    self.status = "failed"
    self.failure_code = "card_declined"
    self.failure_message = message
    self._decline_code = code


def _raise_failure(self: Any) -> None:
    raise resources.UserError(
        402,
        self.failure_message,
        {"code": self.failure_code, "decline_code": getattr(self, "_decline_code", ""), "charge": self.id},
    )


resources.PaymentMethod._charging_is_declined = _charging_is_declined
resources.Charge._set_auth_failure = _set_auth_failure
resources.Charge._raise_failure = _raise_failure
resources.store.dump_to_disk = lambda: None

_original_confirm = resources.PaymentIntent._api_confirm


def _confirm_with_payment_method(id: Any, payment_method: Any = None, **kwargs: Any) -> Any:
    if payment_method is not None:
        intent = resources.PaymentIntent._api_retrieve(id)
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise resources.UserError(400, "This PaymentIntent's status does not allow confirmation.")
        resources.PaymentMethod._api_retrieve(payment_method)  # 404 for an unknown one
        intent.payment_method = payment_method
    return _original_confirm(id, **kwargs)


# The routes are built from extra_apis when localstripe.server is imported, so it is patched first.
resources.extra_apis[:] = [
    (method, url, _confirm_with_payment_method if url == "/v1/payment_intents/{id}/confirm" else func)
    for method, url, func in resources.extra_apis
]

from localstripe import server  # noqa: E402 (after the route patch above)

_idempotent: dict[tuple[str, str, str], tuple[bytes, int, bytes, str]] = {}
_in_flight: set[tuple[str, str, str]] = set()
_stats = {"replayed": 0, "posts": 0, "conflicts": 0}


def _idempotency_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"type": "idempotency_error", "message": message}}, status=status)


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    _stats["posts"] += 1
    cache_key = (request.headers.get("Authorization", ""), request.path, key)
    params = await request.read()
    if cache_key in _idempotent:
        first_params, status, body, content_type = _idempotent[cache_key]
        if params != first_params:
            return _idempotency_error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            )
        _stats["replayed"] += 1
        return web.Response(
            status=status, body=body, content_type=content_type, headers={"Idempotent-Replayed": "true"}
        )
    if cache_key in _in_flight:
        # Stripe refuses a request while another with the same key is running (the library retries a 409).
        _stats["conflicts"] += 1
        return _idempotency_error(409, "There is currently another in-progress request using this Idempotent Key.")
    _in_flight.add(cache_key)
    try:
        response = await handler(request)
    finally:
        _in_flight.discard(cache_key)
    if isinstance(response, web.Response) and response.body is not None and response.status < 500:
        body = response.body if isinstance(response.body, bytes) else bytes(response.body)
        _idempotent[cache_key] = (params, response.status, body, response.content_type)
    return response


async def stats(request: web.Request) -> web.Response:
    return web.json_response(_stats)


def main() -> None:
    port = int(sys.argv[1])
    # error_middleware turns errors into responses, so ours sits outside it and caches those too.
    server.app.middlewares.insert(0, idempotency_middleware)
    server.app.router.add_get("/_config/stats", stats)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
