"""SNS email deliveries into the outbox.

moto 5.2.5 stores email subscriptions but delivers nothing to them: its
`Subscription.publish` handles only sqs, http(s) and lambda. This module wraps
that method for the whole process, so every publish to a topic adds one outbox
message per confirmed `email` or `email-json` subscription.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from moto.sns.models import Subscription

from local.outbox import Outbox, utc_timestamp

logger = logging.getLogger(__name__)

EMAIL_PROTOCOLS = ("email", "email-json")
# The subject SNS gives email deliveries of a message published without one.
DEFAULT_EMAIL_SUBJECT = "AWS Notification Message"

_install_lock = threading.Lock()


def install_email_delivery(
    outbox: Outbox, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
) -> Callable[[], None]:
    """Deliver SNS email messages into `outbox` from now on, and return a function that undoes it."""
    with _install_lock:
        original_publish = Subscription.publish

        def publish(self: Subscription, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
            original_publish(self, message, message_id, *args, **kwargs)
            if self.protocol in EMAIL_PROTOCOLS:
                _deliver(self, outbox, clock, message, message_id, *args, **kwargs)

        Subscription.publish = publish  # type: ignore[method-assign]

    def uninstall() -> None:
        with _install_lock:
            if Subscription.publish is publish:
                Subscription.publish = original_publish  # type: ignore[method-assign]

    return uninstall


def _deliver(
    subscription: Subscription,
    outbox: Outbox,
    clock: Callable[[], datetime],
    message: str,
    message_id: str,
    subject: str | None = None,
    message_attributes: dict[str, Any] | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
    message_structure: str | None = None,
) -> None:
    if _is_pending_confirmation(subscription):
        return
    # The filter policy and the per-protocol message are moto 5.2.5 internals, which moto's
    # own publish applies the same way for the protocols it delivers.
    matcher = subscription._filter_policy_matcher
    if matcher is not None and not matcher.matches(message_attributes, message):
        return
    if message_structure == "json":
        message = subscription._parse_message_structure(message, subscription.protocol)

    if subscription.protocol == "email":
        # AWS appends an unsubscribe footer to the body, but the outbox keeps the message as published.
        body = message
    else:
        body = json.dumps(_notification_envelope(subscription, message, message_id, subject, clock()), indent=2)
    outbox.add(
        to=subscription.endpoint,
        subject=subject or DEFAULT_EMAIL_SUBJECT,
        body=body,
        source="sns",
    )
    logger.info("SNS %s delivery of message %s to the outbox (%s)", subscription.protocol, message_id, subscription.topic_arn)


def _is_pending_confirmation(subscription: Subscription) -> bool:
    # moto confirms every subscription on Subscribe (PendingConfirmation false), as an email
    # recipient would by clicking the link. A pending subscription gets nothing, as on AWS.
    return str(subscription.attributes.get("PendingConfirmation", False)).lower() == "true"


def _notification_envelope(
    subscription: Subscription, message: str, message_id: str, subject: str | None, now: datetime
) -> dict[str, Any]:
    # AWS signs this envelope (Signature, SigningCertURL), but the offline stack does not.
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": subscription.topic_arn,
        "Message": message,
        "Timestamp": utc_timestamp(now),
    }
    if subject:
        envelope["Subject"] = subject
    return envelope
