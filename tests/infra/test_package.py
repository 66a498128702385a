"""scripts/package.py builds the same zip bytes from the same inputs."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.infra.terraform_config import REPO_ROOT


@pytest.fixture(scope="module")
def package() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_script", REPO_ROOT / "scripts" / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class is created.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_tree(root: Path, files: dict[str, str], mode: int, mtime: int) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
        os.utime(path, (mtime, mtime))


def copy_function_without_requirements(package: ModuleType, key: str, destination: Path) -> object:
    """Copy a function's package into destination, with no requirements.txt, so building it needs no pip."""
    function = package.load_functions()[key]
    shutil.copytree(function.package_dir, destination / function.package, ignore=shutil.ignore_patterns("__pycache__"))
    return package.FunctionSource(key=key, package=function.package, source_dir=destination, handler=function.handler)


def test_collect_files_excludes_bytecode_and_scripts(package: ModuleType, tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/app.py": "",
            "pkg/__pycache__/app.cpython-312.pyc": "",
            "pkg/stale.pyc": "",
            "bin/jp.py": "#!/usr/bin/python",
            "pkg/bin/data.txt": "",
        },
        0o644,
        1_700_000_000,
    )
    names = [name for name, _ in package.collect_files(tmp_path)]
    assert names == ["pkg/app.py", "pkg/bin/data.txt"]


def test_zip_ignores_times_modes_and_order(package: ModuleType, tmp_path: Path) -> None:
    files = {"b/module.py": "x = 1\n", "a.py": "import b\n", "b/__init__.py": ""}
    first, second = tmp_path / "first", tmp_path / "second"
    write_tree(first, files, 0o644, 1_600_000_000)
    write_tree(second, dict(reversed(list(files.items()))), 0o755, 1_700_000_000)
    package.write_reproducible_zip(package.collect_files(first), tmp_path / "first.zip")
    package.write_reproducible_zip(package.collect_files(second), tmp_path / "second.zip")
    assert sha256(tmp_path / "first.zip") == sha256(tmp_path / "second.zip")


def test_zip_entries_fixed_time_mode_and_order(package: ModuleType, tmp_path: Path) -> None:
    write_tree(tmp_path / "tree", {"z.py": "", "a/b.py": ""}, 0o700, 1_700_000_000)
    package.write_reproducible_zip(package.collect_files(tmp_path / "tree"), tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == ["a/b.py", "z.py"]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_stage_rejects_missing_handler_module(package: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "fn_pkg").mkdir()
    function = package.FunctionSource(key="fn", package="fn_pkg", source_dir=tmp_path, handler="fn_pkg.app.handler")
    with pytest.raises(package.PackagingError, match="fn_pkg/app.py"):
        package.stage_function(function, tmp_path / "staging")


def test_stage_rejects_missing_package_dir(package: ModuleType, tmp_path: Path) -> None:
    function = package.FunctionSource(key="fn", package="fn_pkg", source_dir=tmp_path, handler="fn_pkg.app.handler")
    with pytest.raises(package.PackagingError, match="package directory"):
        package.stage_function(function, tmp_path / "staging")


@pytest.mark.parametrize("key", ["frontend", "backend"])
def test_build_without_dependencies_reproducible(package: ModuleType, tmp_path: Path, key: str) -> None:
    function = copy_function_without_requirements(package, key, tmp_path / "source")
    first = package.build_function(function, tmp_path / "first")
    second = package.build_function(function, tmp_path / "second")
    assert sha256(first) == sha256(second)


@pytest.mark.parametrize("key", ["frontend", "backend"])
def test_build_contains_handler_and_no_bytecode(package: ModuleType, tmp_path: Path, key: str) -> None:
    function = copy_function_without_requirements(package, key, tmp_path / "source")
    with zipfile.ZipFile(package.build_function(function, tmp_path / "out")) as archive:
        names = archive.namelist()
    assert f"{function.package}/app.py" in names
    assert not [name for name in names if name.endswith(".pyc") or "__pycache__" in name]


def zip_entry_digests(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: info.CRC for info in archive.infolist()}


@pytest.fixture(scope="module")
def full_builds(package: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Build both functions twice with their PyPI dependencies (pip's cache makes the second build cheaper)."""
    if os.environ.get("SURVEY_SKIP_PACKAGE_DOWNLOADS") == "1":
        pytest.skip("SURVEY_SKIP_PACKAGE_DOWNLOADS=1: the full build installs the requirements from PyPI")
    first, second = tmp_path_factory.mktemp("first-build"), tmp_path_factory.mktemp("second-build")
    assert package.main(["--output-dir", str(first)]) == 0
    assert package.main(["--output-dir", str(second)]) == 0
    return first, second


@pytest.mark.parametrize("name", ["frontend_fn.zip", "backend_fn.zip"])
def test_full_build_reproducible(full_builds: tuple[Path, Path], name: str) -> None:
    first, second = (directory / name for directory in full_builds)
    first_entries, second_entries = zip_entry_digests(first), zip_entry_digests(second)
    differing = sorted(key for key in first_entries.keys() | second_entries.keys() if first_entries.get(key) != second_entries.get(key))
    assert not differing, f"entries differ between two builds (were the sources edited meanwhile?): {differing[:10]}"
    assert sha256(first) == sha256(second)


def test_full_build_has_linux_cryptography(full_builds: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(full_builds[0] / "frontend_fn.zip") as archive:
        names = archive.namelist()
    assert "cryptography/hazmat/bindings/_rust.abi3.so" in names
    assert "frontend_fn/app.py" in names
    assert not [name for name in names if name.startswith(("boto3/", "botocore/"))]


def test_unknown_function_rejected(package: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert package.main(["--output-dir", str(tmp_path), "--function", "nope"]) == 2
    assert "unknown function nope" in capsys.readouterr().err
