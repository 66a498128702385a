"""The stack's outputs, named as `terraform output -json` names them for the AWS deployment."""
from __future__ import annotations

from local.config import StackConfig
from local.names import StackNames


def stack_outputs(config: StackConfig, names: StackNames) -> dict[str, str]:
    """Return the outputs as a flat object of strings."""
    return {
        "api_url": config.api_url(names.api_stage),
        "website_url": config.website_url,
        "user_pool_id": config.user_pool_id,
        "user_pool_client_id": config.user_pool_client_id,
        "jwks_url": config.jwks_url,
        "token_issuer": config.token_issuer,
        "surveys_table": names.surveys_table,
        "responses_table": names.responses_table,
        "notifications_topic_arn": names.topic_arn,
        "public_bucket": names.public_bucket,
        "private_bucket": names.private_bucket,
        "aws_endpoint_url": config.edge_url,
        "region": config.region,
        "frontend_function_name": names.frontend_function_name,
        "backend_function_name": names.backend_function_name,
        "outbox_url": f"{config.edge_url}/_local/outbox",
    }
