"""Code root and environment variables of a worker process."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

# Variables passed on from the stack's own environment. SYSTEMROOT is needed for
# Python to start on Windows. PYTHONPATH and the rest stay out, so a function gets
# only the variables its configuration sets, as on AWS.
PASSED_THROUGH_VARIABLES = ("PATH", "HOME", "LANG", "SYSTEMROOT")


def create_code_root(source_dir: Path, package: str, parent_dir: Path | None = None) -> Path:
    """Create a folder that contains only a symlink `<package>` to `source_dir/<package>`.

    The worker puts this folder first on sys.path, so the function can import its own
    package and the venv's site-packages but nothing else in `source_dir` or the repo.
    """
    package_dir = (source_dir / package).resolve()
    if not package_dir.is_dir():
        raise FileNotFoundError(
            f"Package folder {package_dir} does not exist. Check the function's source_dir and package."
        )
    code_root = Path(tempfile.mkdtemp(prefix=f"lambda-{package}-", dir=parent_dir))
    # NOTE: creating symlinks on Windows needs developer mode or administrator rights.
    (code_root / package).symlink_to(package_dir, target_is_directory=True)
    return code_root


def worker_environment(
    *,
    function_name: str,
    handler: str,
    memory_mb: int,
    runtime: str,
    region: str,
    code_root: Path,
    log_stream_name: str,
    function_environment: Mapping[str, str],
    parent_environment: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """Build a worker's environment: passed-through variables, the function's, then Lambda's."""
    environment = {name: parent_environment[name] for name in PASSED_THROUGH_VARIABLES if name in parent_environment}
    # Dummy credentials unless the function sets its own, so boto3 in the function never
    # falls back to the developer's real credentials in ~/.aws (HOME is passed through).
    environment["AWS_ACCESS_KEY_ID"] = "test"
    environment["AWS_SECRET_ACCESS_KEY"] = "test"
    environment.update(function_environment)
    # Lambda's reserved variables win over the function's configuration, as on AWS.
    environment.update(
        {
            "_HANDLER": handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "LAMBDA_TASK_ROOT": str(code_root),
            "TZ": ":UTC",
        }
    )
    return environment
