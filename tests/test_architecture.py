"""The project's structure, read from its source: public library APIs only, and imports that run
one way (the Dagster wiring -> assets -> the domain code, stage by stage)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scorecard.paths import PROJECT_ROOT

PACKAGES = ("pipelines", "assets", "expectations", "scorecard", "bench", "tests")
# Libraries whose private names (a leading underscore) the project must never use.
GUARDED_LIBRARIES = ("dagster", "dagster_duckdb", "kaleido", "choreographer", "plotly", "great_expectations")


def project_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def library_aliases(tree: ast.Module) -> dict[str, str]:
    """Local names bound to a guarded library or something in it: {local name: library}."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in GUARDED_LIBRARIES:
                    aliases[alias.asname or root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            if root in GUARDED_LIBRARIES:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = root
    return aliases


def root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def private_uses(path: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """Every use of a guarded library's private name in one file, as 'file:line: what'."""
    tree = parsed(path)
    aliases = library_aliases(tree)
    where = path.relative_to(root)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [f"{node.module}.{alias.name}" for alias in node.names] if node.module and node.level == 0
                       else [])
            for module in modules:
                parts = module.split(".")
                if parts[0] in GUARDED_LIBRARIES and any(is_private(part) for part in parts):
                    found.append(f"{where}:{node.lineno}: imports {module}")
        elif isinstance(node, ast.Attribute) and is_private(node.attr) and root_name(node.value) in aliases:
            found.append(f"{where}:{node.lineno}: uses {aliases[root_name(node.value)]}'s .{node.attr}")
        elif isinstance(node, ast.Call) and root_name(node.func) in aliases:
            found += [f"{where}:{node.lineno}: passes {keyword.arg}= to {aliases[root_name(node.func)]}"
                      for keyword in node.keywords if keyword.arg and is_private(keyword.arg)]
        elif isinstance(node, ast.ClassDef) and any(root_name(base) in aliases for base in node.bases):
            found += [f"{where}:{item.lineno}: overrides {item.name} of a {aliases[root_name(node.bases[0])]} class"
                      for item in node.body
                      if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_private(item.name)]
    return found


def test_no_private_name_of_dagster_kaleido_choreographer_plotly_or_great_expectations_is_used():
    uses = [use for path in project_files() for use in private_uses(path)]
    assert uses == []


def test_the_private_name_check_finds_each_kind_of_use(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import kaleido\n"
        "import plotly.graph_objects as go\n"
        "from dagster._core.storage.base_storage import DagsterStorage\n"
        "class Quick(kaleido.Kaleido):\n"
        "    async def _return_kaleido_tab(self, tab): ...\n"
        "go.Scatter(_validate=False)\n"
        "kaleido._private_helper()\n", encoding="utf-8")
    uses = sorted(private_uses(sample, root=tmp_path), key=lambda use: int(use.split(":")[1]))
    assert [use.split(": ", 1)[1] for use in uses] == [
        "imports dagster._core.storage.base_storage.DagsterStorage",
        "overrides _return_kaleido_tab of a kaleido class",
        "passes _validate= to plotly",
        "uses kaleido's ._private_helper",
    ]


def test_no_garbage_collector_tricks_and_no_early_start_module():
    offenders = [str(path.relative_to(PROJECT_ROOT)) for path in project_files()
                 if any(isinstance(node, ast.Import) and any(alias.name == "gc" for alias in node.names)
                        for node in ast.walk(parsed(path)))]
    assert offenders == []
    assert not (PROJECT_ROOT / "pipelines" / "early_start.py").exists()


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


# Each part of the domain code, and what it may import of the project: the stages before it on
# a file's route from disk to the marts (ingest -> load -> transform -> publish), and the model
# every stage shares. Nothing imports a stage after it, the assets or the Dagster wiring.
MAY_IMPORT = {
    "scorecard.model": {"scorecard.model", "scorecard.paths"},
    "expectations": {"expectations", "scorecard.model", "scorecard.paths"},
    "scorecard.ingest": {"scorecard.ingest", "scorecard.model", "scorecard.paths", "expectations"},
    "scorecard.load": {"scorecard.load", "scorecard.ingest", "scorecard.model", "scorecard.paths", "expectations"},
    "scorecard.transform": {"scorecard.transform", "scorecard.load", "scorecard.model", "scorecard.paths"},
    "scorecard.publish": {"scorecard.publish", "scorecard.model", "scorecard.paths"},
    "scorecard.sample": {"scorecard.sample", "scorecard.sample_local", "scorecard.ingest", "scorecard.model",
                         "scorecard.paths", "expectations"},
    "scorecard.docs": {"scorecard.docs", "scorecard.model", "scorecard.paths", "expectations"},
    "scorecard.sample_cin": {"scorecard.sample_cin", "scorecard.model", "scorecard.paths"},
    "scorecard.sample_local": {"scorecard.sample_local", "scorecard.sample", "scorecard.ingest", "scorecard.model",
                               "scorecard.paths", "expectations"},
}
PROJECT_PACKAGES = ("pipelines", "assets", "expectations", "scorecard")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")


@pytest.mark.parametrize("part", sorted(MAY_IMPORT))
def test_the_domain_code_imports_only_the_stages_before_it(part):
    allowed = MAY_IMPORT[part]
    files = [path for path in project_files() if module_name(path) == part or module_name(path).startswith(part + ".")]
    assert files
    climbing = sorted(
        f"{module_name(path)} imports {module}" for path in files for module in imported_modules(path)
        if module.split(".")[0] in PROJECT_PACKAGES and not any(module == a or module.startswith(a + ".")
                                                                  for a in allowed))
    assert climbing == []


def test_assets_are_wiring_over_the_domain_code():
    """Assets never import the CLI or the definitions (which import them)."""
    climbing = sorted(f"{module_name(path)} imports {module}"
                      for path in (PROJECT_ROOT / "assets").rglob("*.py") for module in imported_modules(path)
                      if module in {"pipelines.definitions", "pipelines.cli", "pipelines.jobs"})
    assert climbing == []
