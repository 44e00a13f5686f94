"""The tree shows the pipeline: imports point only to earlier stages and the shared modules,
and docs/architecture.md names every module of the package."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "wijkkompas"
STAGES = ["fetch", "indicatoren", "kompas", "output", "vlekkenkaart"]
#: The places that run the stages in order and may import every stage: the command line
#: and the order of a run (pipeline.py).
ORCHESTRATION = {"cli", "pipeline"}
#: Modules any stage may use; they import no stage themselves.
SHARED = {"errors", "settings", "tomlfile", "storage", "manifest", "gebied", "tabular", "schema",
          "data", "processed", "web", "catalogue"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def _imported(path: Path) -> set[str]:
    """The first part below ``wijkkompas`` of every wijkkompas module ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "wijkkompas" and len(parts) > 1:
                found.add(parts[1])
    return found


def _place(path: Path) -> str:
    """The stage folder of a module, or its own name for a top-level module."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_imports_point_only_to_earlier_stages_and_shared_modules():
    wrong = []
    for path in _modules():
        place = _place(path)
        if place in ORCHESTRATION:
            continue
        for target in _imported(path):
            if place in SHARED:
                allowed = target in SHARED
            else:
                assert place in STAGES, f"{path}: onbekende plek {place}"
                allowed = target in SHARED or (
                    target in STAGES and STAGES.index(target) <= STAGES.index(place))
            if not allowed:
                wrong.append(f"{path.relative_to(ROOT)} -> wijkkompas.{target}")
    assert wrong == []


def test_every_stage_has_a_stage_module_with_its_run_function():
    for stage in STAGES:
        # The output stage's command is the export; its other modules serve the notebooks.
        module = PACKAGE / stage / ("export.py" if stage == "output" else "stage.py")
        tree = ast.parse(module.read_text(encoding="utf-8"))
        runs = [n.name for n in tree.body
                if isinstance(n, ast.FunctionDef) and n.name.startswith("run_")]
        assert runs, f"{module} heeft geen run_-functie"


def _tree_entries(text: str) -> set[str]:
    """The modules the tree on docs/architecture.md names, as paths below wijkkompas/."""
    tree = text.split("## The tree", 1)[1].split("```", 2)[1]
    entries, folder = set(), ""
    for line in tree.splitlines():
        name = line.strip().split(" ", 1)[0] if line.strip() else ""
        if line.startswith("  ") and not line.startswith("   ") and name:
            folder = name if name.endswith("/") else ""
            if name.endswith(".py"):
                entries.add(name)
            else:
                entries.update(n for n in line.split() if n.endswith(".py"))
        elif line.startswith("    ") and not line.startswith("     ") and name.endswith(".py"):
            entries.add(folder + name)
    return entries


def test_architecture_page_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = _tree_entries(text)
    actual = {str(p.relative_to(PACKAGE)) for p in _modules()}
    assert actual - named == set(), "niet in docs/architecture.md"
    assert named - actual == set(), "in docs/architecture.md maar niet in het pakket"


def test_no_module_imports_another_modules_private_name():
    wrong = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wijkkompas"):
                wrong += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}"
                          for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert wrong == []


def test_no_package_folder_is_named_like_build_output():
    """Folders named build/ are skipped by pytest and ignored by common .gitignore
    templates; no folder of the package or the tests may carry such a name."""
    generated = {"build", "dist", "out", "output_files"}
    folders = [p for root in (PACKAGE, ROOT / "tests") for p in root.rglob("*") if p.is_dir()]
    assert [str(p) for p in folders if p.name in generated] == []


def test_every_pattern_with_digit_or_word_classes_is_ascii():
    r"""``\d`` and ``\w`` match Arabic-Indic digits and other scripts unless ``re.ASCII`` is
    given, and ``int()`` reads such digits: a code or year checked by such a pattern lets
    '٢٠٢١' through. Every such pattern of the package says ``re.ASCII``."""
    funcs = {"compile", "match", "fullmatch", "search", "sub", "findall", "split", "finditer"}
    wrong = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in funcs and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            if "\\d" in node.args[0].value or "\\w" in node.args[0].value:
                call = ast.get_source_segment(text, node) or ""
                if "re.ASCII" not in call:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []


def test_only_storage_writes_beside_and_replaces():
    """"Write beside, then replace" has one implementation (``storage.atomic_paths``); a
    second loop of temporary file and rename elsewhere is a copy to keep in step (#27)."""
    wrong = []
    for path in _modules():
        if path.name == "storage.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and (node.value.id, node.attr) in {("tempfile", "mkstemp"),
                                                      ("tempfile", "NamedTemporaryFile")}):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []
