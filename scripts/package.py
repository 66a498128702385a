"""Build the Lambda zips build/frontend_fn.zip and build/backend_fn.zip.

Each zip contains the function's package at its root plus the dependencies from
services/<fn>/requirements.txt, installed as Linux x86_64 wheels for CPython
3.12 (the Lambda runtime), so a build on macOS or Windows still ships working
binary wheels such as cryptography. boto3 comes from the Lambda runtime.

The same sources and requirements give the same zip bytes on one machine:
entries are sorted, timestamps and permissions are fixed, and no bytecode or
console scripts go in. Usage: python scripts/package.py [--output-dir DIR]
[--function frontend|backend ...].
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = REPO_ROOT / "infra" / "stack.json"
DEFAULT_OUTPUT_DIR = REPO_ROOT / "build"

# The earliest date a zip entry can hold (MS-DOS time starts in 1980).
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
UNIX_SYSTEM = 3  # zip "version made by" host system, so readers apply the Unix mode bits

# pip's target for wheels that run on Lambda's python3.12 runtime on x86_64.
PIP_PLATFORM_ARGUMENTS = (
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    "3.12",
    "--only-binary=:all:",
)

# Bytecode is compiled for the build machine's Python, not 3.12, and the
# console scripts pip writes to bin/ carry the build machine's interpreter
# path in their shebang.
EXCLUDED_DIR_NAMES = frozenset({"__pycache__"})
EXCLUDED_TOP_LEVEL_DIRS = frozenset({"bin"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


class PackagingError(Exception):
    """Failure to package a function. The message names the function and the cause."""


@dataclass(frozen=True)
class FunctionSource:
    """One function's sources as infra/stack.json declares them."""

    key: str
    package: str
    source_dir: Path
    handler: str

    @property
    def package_dir(self) -> Path:
        return self.source_dir / self.package

    @property
    def requirements_file(self) -> Path:
        return self.source_dir / "requirements.txt"

    @property
    def handler_module_file(self) -> Path:
        module_path = self.handler.rsplit(".", 1)[0].replace(".", "/")
        return self.source_dir / f"{module_path}.py"


def load_functions(stack_file: Path = STACK_FILE, repo_root: Path = REPO_ROOT) -> dict[str, FunctionSource]:
    """Read the functions of infra/stack.json."""
    with stack_file.open(encoding="utf-8") as stream:
        stack = json.load(stream)
    return {
        key: FunctionSource(
            key=key,
            package=spec["package"],
            source_dir=repo_root / spec["source_dir"],
            handler=spec["handler"],
        )
        for key, spec in stack["functions"].items()
    }


def is_excluded(relative_path: Path) -> bool:
    """Return whether a file under a staging directory stays out of the zip."""
    directories = relative_path.parts[:-1]
    if directories and directories[0] in EXCLUDED_TOP_LEVEL_DIRS:
        return True
    if any(part in EXCLUDED_DIR_NAMES for part in directories):
        return True
    return relative_path.name.endswith(EXCLUDED_SUFFIXES)


def collect_files(root: Path) -> list[tuple[str, Path]]:
    """List (archive name, path) of every file under root that goes in the zip, sorted by name."""
    entries = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative_path = path.relative_to(root)
        if is_excluded(relative_path):
            continue
        entries.append((relative_path.as_posix(), path))
    return sorted(entries)


def write_reproducible_zip(entries: Iterable[tuple[str, Path]], output: Path) -> int:
    """Write the entries with fixed timestamps and permissions and return the number of files."""
    count = 0
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = UNIX_SYSTEM
            info.external_attr = (0o100000 | FILE_MODE) << 16  # regular file, rw-r--r--
            archive.writestr(info, path.read_bytes(), compresslevel=9)
            count += 1
    return count


def install_dependencies(requirements_file: Path, target: Path, python: str = sys.executable) -> None:
    """Install the requirements as Linux x86_64 CPython 3.12 wheels into target."""
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
        "--target",
        str(target),
        *PIP_PLATFORM_ARGUMENTS,
        "--requirement",
        str(requirements_file),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(
            f"pip install of {requirements_file} failed with exit code {result.returncode}:\n{result.stderr.strip()}"
        )


def stage_function(function: FunctionSource, staging_dir: Path) -> None:
    """Copy the function's package and install its dependencies into staging_dir."""
    if not function.package_dir.is_dir():
        raise PackagingError(f"Function {function.key}: package directory {function.package_dir} not found.")
    if not function.handler_module_file.is_file():
        raise PackagingError(
            f"Function {function.key}: handler {function.handler} needs {function.handler_module_file}, which is missing."
        )
    if function.requirements_file.is_file():
        install_dependencies(function.requirements_file, staging_dir)
    shutil.copytree(
        function.package_dir,
        staging_dir / function.package,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
    )


def build_function(function: FunctionSource, output_dir: Path) -> Path:
    """Build <output_dir>/<package>.zip for one function and return its path."""
    output = output_dir / f"{function.package}.zip"
    with tempfile.TemporaryDirectory(prefix=f"package-{function.key}-") as staging:
        staging_dir = Path(staging)
        stage_function(function, staging_dir)
        count = write_reproducible_zip(collect_files(staging_dir), output)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    size_mib = output.stat().st_size / (1024 * 1024)
    print(f"Built {output}: {count} files, {size_mib:.1f} MiB, sha256 {digest}")
    return output


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the Lambda zips from infra/stack.json's functions.")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help="directory for the zips (default: build/ in the repository)",
    )
    parser.add_argument(
        "--function",
        action="append",
        dest="functions",
        metavar="KEY",
        help="function key from infra/stack.json to build, repeatable (default: all)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    functions = load_functions()
    selected = arguments.functions or sorted(functions)
    unknown = [key for key in selected if key not in functions]
    if unknown:
        print(f"error: unknown function {', '.join(unknown)}; infra/stack.json has {', '.join(sorted(functions))}.", file=sys.stderr)
        return 2

    try:
        for key in selected:
            print(f"Packaging {key} from {functions[key].source_dir.relative_to(REPO_ROOT)}")
            build_function(functions[key], arguments.output_dir)
    except PackagingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
