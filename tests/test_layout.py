"""The import directions of DESIGN.md: jointops -> deconflict, calendars, auth; never back."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "deconflict": {
        "flask",
        "flask_sqlalchemy",
        "sqlalchemy",
        "ldap3",
        "jointops",
        "calendars",
        "auth",
    },
    "calendars": {
        "flask",
        "flask_sqlalchemy",
        "sqlalchemy",
        "ldap3",
        "jointops",
        "deconflict",
        "auth",
    },
    "auth": {"flask", "flask_sqlalchemy", "sqlalchemy", "jointops", "deconflict", "calendars"},
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_libraries_do_not_import_the_app_or_each_other(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_modules(f) & FORBIDDEN[package]) for f in files
    }
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_no_top_level_package_shadows_the_standard_library() -> None:
    import sys

    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages & set(sys.stdlib_module_names) == set()
