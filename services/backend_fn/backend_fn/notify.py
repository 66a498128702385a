"""Deletion notifications published to the notifications SNS topic."""
from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

# SNS rejects subjects longer than 100 characters or with line breaks and
# control characters.
SUBJECT_MAX_LENGTH = 100
PUBLISH_ATTEMPTS = 3


@dataclass(frozen=True)
class Notification:
    """One SNS message about a survey, ready to publish."""

    survey_id: str
    subject: str
    message: str


def deletion_notification(survey: dict[str, Any], deleted_at: str) -> Notification:
    return Notification(
        survey_id=survey["survey_id"],
        subject=deletion_subject(survey["title"]),
        message=deletion_message(survey, deleted_at),
    )


def deletion_subject(title: str) -> str:
    printable = "".join(character if character.isprintable() else " " for character in title)
    return f"Survey deleted: {printable}"[:SUBJECT_MAX_LENGTH]


def deletion_message(survey: dict[str, Any], deleted_at: str) -> str:
    return json.dumps(
        {
            "event": "survey.deleted",
            "survey_id": survey["survey_id"],
            "title": survey["title"],
            "owner_sub": survey["owner_sub"],
            "response_count": int(survey.get("response_count", 0)),
            "deleted_at": deleted_at,
        },
        ensure_ascii=False,
    )


class Notifier:
    """Publishes deletion notifications, retrying a few times before giving up."""

    def __init__(
        self,
        sns: Any,
        topic_arn: str,
        sleep: Callable[[float], None],
        rng: random.Random | None = None,
    ) -> None:
        self.sns = sns
        self.topic_arn = topic_arn
        self.sleep = sleep
        self.rng = rng or random.Random()

    def publish_deletion(self, survey: dict[str, Any], deleted_at: str) -> bool:
        """Publish the deletion notification of a survey and return whether SNS accepted it."""
        return self.publish(deletion_notification(survey, deleted_at))

    def publish(self, notification: Notification, attempts: int = PUBLISH_ATTEMPTS) -> bool:
        """Publish a notification, with up to `attempts` tries, and return whether SNS accepted it.

        A failure is logged and not raised, because the survey is already
        deleted and the owner's request must still succeed.
        """
        for attempt in range(1, attempts + 1):
            try:
                self.sns.publish(TopicArn=self.topic_arn, Subject=notification.subject, Message=notification.message)
                return True
            except (ClientError, BotoCoreError) as exc:
                if attempt == attempts:
                    logger.error(
                        "Publishing the deletion notification of survey %s failed after %d attempts",
                        notification.survey_id,
                        attempt,
                        exc_info=exc,
                    )
                    return False
                delay = self.rng.uniform(0, 0.1 * 2**attempt)
                logger.warning(
                    "Publishing the deletion notification of survey %s failed (%s), retrying in %.3f s",
                    notification.survey_id,
                    type(exc).__name__,
                    delay,
                )
                self.sleep(delay)
        return False
