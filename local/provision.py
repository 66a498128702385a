"""Create the stack's AWS resources with the names and keys of infra/stack.json.

Every step is idempotent: running it against a stack that has the resources
already changes nothing but the uploaded files, which it writes again.
"""
from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.names import StackNames

ClientFactory = Callable[[str], Any]
Progress = Callable[[str], None]

# Types that Python's mimetypes table lacks or gets wrong on some systems. Without them the
# objects would get binary/octet-stream, and browsers reject scripts of that type.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}

LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@dataclass
class WebsiteSettings:
    """Values of the web app's config.json."""

    api_url: str
    user_pool_client_id: str
    signup_requires_code: bool

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "api_url": self.api_url,
                "user_pool_client_id": self.user_pool_client_id,
                "signup_requires_code": self.signup_requires_code,
            },
            indent=2,
        ).encode()


@dataclass
class ProvisionResult:
    """Counts of what the run created or uploaded, for the progress output and tests."""

    tables_created: list[str] = field(default_factory=list)
    buckets_created: list[str] = field(default_factory=list)
    templates_uploaded: list[str] = field(default_factory=list)
    web_files_uploaded: list[str] = field(default_factory=list)
    roles_created: list[str] = field(default_factory=list)


def content_type_for(path: Path) -> str:
    """Return the Content-Type to store with a web app file."""
    suffix = path.suffix.lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def provision(
    clients: ClientFactory,
    names: StackNames,
    *,
    website: WebsiteSettings,
    notification_email: str,
    web_dir: Path,
    templates_dir: Path,
    progress: Progress = lambda line: None,
) -> ProvisionResult:
    """Create tables, buckets, uploads, the topic and its subscription, and the function roles."""
    result = ProvisionResult()
    dynamodb = clients("dynamodb")
    s3 = clients("s3")

    for key in names.table_keys():
        if create_table(dynamodb, names.create_table_arguments(key)):
            result.tables_created.append(names.table_name(key))
    progress(f"DynamoDB tables: {', '.join(names.table_name(key) for key in names.table_keys())}")

    if create_public_bucket(s3, names.public_bucket, names.region):
        result.buckets_created.append(names.public_bucket)
    result.web_files_uploaded = upload_website(s3, names.public_bucket, web_dir, website)
    progress(f"Website bucket {names.public_bucket}: {len(result.web_files_uploaded)} files")

    if create_private_bucket(s3, names.private_bucket, names.region):
        result.buckets_created.append(names.private_bucket)
    result.templates_uploaded = upload_templates(s3, names.private_bucket, templates_dir, names.templates_prefix)
    progress(f"Private bucket {names.private_bucket}: {len(result.templates_uploaded)} templates")

    create_topic(clients("sns"), names.topic_name, notification_email)
    progress(f"SNS topic {names.topic_name}: email subscription for {notification_email}")

    iam = clients("iam")
    for spec in names.functions.values():
        if create_role(iam, spec.role_name):
            result.roles_created.append(spec.role_name)
    progress(f"IAM roles: {', '.join(spec.role_name for spec in names.functions.values())}")
    return result


def create_table(dynamodb: Any, arguments: dict[str, Any]) -> bool:
    """Create a table unless it exists, and return whether it was created."""
    try:
        dynamodb.create_table(**arguments)
    except ClientError as error:
        if _error_code(error) == "ResourceInUseException":
            return False
        raise
    dynamodb.get_waiter("table_exists").wait(TableName=arguments["TableName"], WaiterConfig={"Delay": 1})
    return True


def create_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create a bucket unless this account owns it already, and return whether it was created."""
    if _bucket_exists(s3, bucket):
        return False
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        # us-east-1 rejects a LocationConstraint of its own name, and every other region requires one.
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**arguments)
    except ClientError as error:
        if _error_code(error) == "BucketAlreadyOwnedByYou":
            return False
        raise
    return True


def create_public_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create the website bucket: index document, public access allowed, public read policy."""
    created = create_bucket(s3, bucket, region)
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadForWebsite",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return created


def create_private_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create the private bucket: all public access blocked, SSE-S3 encryption, versioning."""
    created = create_bucket(s3, bucket, region)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return created


def upload_website(s3: Any, bucket: str, web_dir: Path, website: WebsiteSettings) -> list[str]:
    """Upload every file under `web_dir`, then the generated config.json, and return the keys.

    A config.json in `web_dir` is replaced by the generated one, which names this stack's API.
    """
    keys: list[str] = []
    if web_dir.is_dir():
        for path in sorted(web_dir.rglob("*")):
            if not path.is_file() or _is_hidden(path.relative_to(web_dir)):
                continue
            key = path.relative_to(web_dir).as_posix()
            if key == "config.json":
                continue
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type_for(path))
            keys.append(key)
    s3.put_object(Bucket=bucket, Key="config.json", Body=website.as_json(), ContentType="application/json")
    keys.append("config.json")
    return keys


def upload_templates(s3: Any, bucket: str, templates_dir: Path, prefix: str) -> list[str]:
    """Upload every `*.json` in `templates_dir` as `<prefix><name>.json`, and return the keys."""
    keys: list[str] = []
    if not templates_dir.is_dir():
        return keys
    for path in sorted(templates_dir.glob("*.json")):
        key = f"{prefix}{path.name}"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType="application/json")
        keys.append(key)
    return keys


def create_topic(sns: Any, topic_name: str, email: str) -> str:
    """Create the topic, subscribe `email` to it and return the topic ARN. Both calls are idempotent in SNS."""
    topic_arn = sns.create_topic(Name=topic_name)["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=email)
    return topic_arn


def create_role(iam: Any, role_name: str) -> bool:
    """Create a role that Lambda may assume, and return whether it was created.

    NOTE: the roles carry no permission policies because the offline runtime checks no permissions.
    They exist so that IAM calls against the stack find the functions' roles.
    """
    try:
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY))
    except ClientError as error:
        if _error_code(error) == "EntityAlreadyExists":
            return False
        raise
    return True


def _bucket_exists(s3: Any, bucket: str) -> bool:
    # CreateBucket alone cannot tell: in us-east-1 it succeeds again for a bucket you own.
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if _error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")
