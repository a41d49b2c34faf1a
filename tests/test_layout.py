"""The house rules of DESIGN.md, checked: every folder imports only the folders below it,
each folder says in its __init__ what lives there, and no module outgrows one job."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "booking"

#: Highest first: a module may import its own folder and anything later in this list.
LAYERS = [
    "cli",
    "history",
    "render",
    "comparison",
    "schedules",
    "simulation",
    "judge",
    "engine",
    "scenarios",
    "strategies",
    "stores",
    "servers",
    "ground",
]
GROUND = {"errors", "files", "sqlite_files", "waits", "faults", "words", "memory", "seating"}
MAX_LINES = 400


def layer_of(module: str) -> str:
    """`booking.judge.checker` -> `judge`; the ground-floor modules share one layer."""
    parts = module.split(".")
    if parts[0] != "booking" or len(parts) == 1:
        return "api"
    return "ground" if parts[1] in GROUND else parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def booking_imports(path: Path) -> set[str]:
    """Every booking module this file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("booking"))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.startswith("booking")
        ):
            found.add(node.module)
            if node.module == "booking":  # `from booking import faults`: a module each
                found.update(
                    f"booking.{alias.name}"
                    for alias in node.names
                    if (PACKAGE / f"{alias.name}.py").exists() or (PACKAGE / alias.name).is_dir()
                )
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def upward(module: str, imports: set[str]) -> list[str]:
    """The imports of `module` that reach a folder above its own."""
    own = layer_of(module)
    if own == "api":
        return []  # booking/__init__.py: the public API re-exports from anywhere, lazily
    return sorted(
        imported
        for imported in imports
        if layer_of(imported) != "api"  # `import booking` for __version__
        and LAYERS.index(layer_of(imported)) < LAYERS.index(own)
    )


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_a_module_imports_only_folders_below_its_own(path: Path) -> None:
    found = upward(module_name(path), booking_imports(path))
    assert found == [], f"{module_name(path)} imports upward: {found}"


def test_the_layer_check_sees_names_imported_from_the_package(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from booking import simulation, faults\n")
    assert booking_imports(module) >= {"booking.simulation", "booking.faults"}


def test_the_layer_check_would_catch_an_upward_import() -> None:
    # The engine never imports the judge; the judge may read the engine's frames.
    assert upward("booking.engine.runner", {"booking.judge.checker"}) == ["booking.judge.checker"]
    assert upward("booking.judge.checker", {"booking.engine.frames", "booking.faults"}) == []
    assert upward("booking.stores.json_store", {"booking.words", "booking"}) == []
    assert layer_of("booking.faults") == "ground"


FOLDERS = sorted(p.parent for p in PACKAGE.glob("*/__init__.py"))


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_each_folder_says_what_lives_there(folder: Path) -> None:
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
    assert docstring and len(docstring.split()) >= 20, f"{folder.name}/__init__.py"
    assert "import" in docstring, f"{folder.name}/__init__.py should say what it may import"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_module_outgrows_one_job(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines"


def test_tests_mirror_the_folders() -> None:
    tests = Path(__file__).resolve().parent
    for folder in FOLDERS:
        assert (tests / folder.name).is_dir(), f"tests/{folder.name}/ is missing"
