"""The README stays a front door and every relative link of the README and the docs site resolves.

The site itself is built by `mkdocs build --strict` in CI (`.ci/run`), which also checks links between pages; these
tests cover what it does not see: the README (outside `docs/`), links to repository files, and the README's map of
where things are in the code.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def pages() -> list[Path]:
    """The README and every Markdown page of the site (fragments under docs/_incoming/ are not pages)."""
    return [README] + sorted(p for p in DOCS.rglob("*.md") if "_incoming" not in p.relative_to(DOCS).parts)


def relative_links(page: Path) -> list[str]:
    """Links of a page that point into the repository (not URLs, not mail), code blocks left out."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension (what MkDocs uses) gives a heading."""
    text = re.sub(r"[`*]", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    """Anchors of the headings of a Markdown page."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE)}


def test_readme_is_a_front_door():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail into docs/ (limit {MAX_README_LINES})"


def test_readme_keeps_the_setup_and_test_commands_ci_runs():
    readme = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]" && dvc repro' in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "pytest" in ci and "mkdocs build --strict" in ci


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path):
    broken = []
    for link in relative_links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link}: no file {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{link}: no heading with anchor #{anchor} in {path.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: broken links:\n" + "\n".join(broken)


def where_to_change_rows() -> list[tuple[str, list[str], list[str]]]:
    """(what, files, names) for each row of the README's "Where do I change X" table."""
    section = README.read_text(encoding="utf-8").split("## Where do I change X", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows.append((cells[0], re.findall(r"`([^`]+)`", cells[1]), re.findall(r"`([^`]+)`", cells[2])))
    return rows


def test_where_to_change_map_names_real_files_and_definitions():
    rows = where_to_change_rows()
    assert len(rows) >= 10
    missing = []
    for what, files, names in rows:
        sources = [ROOT / f for f in files]
        missing += [f"{what}: no file {f}" for f, p in zip(files, sources) if not p.is_file()]
        code = "\n".join(p.read_text(encoding="utf-8") for p in sources if p.is_file())
        for name in names:
            if not re.search(rf"^\s*(def {name}\(|class {name}[(:]|{name}\s*[:=])", code, re.MULTILINE):
                missing.append(f"{what}: {name} is not defined in {', '.join(files)}")
    assert not missing, "README's 'Where do I change X' map is out of date:\n" + "\n".join(missing)


def field_tables_hook():
    """The MkDocs hook that generates the field tables, loaded from its file as MkDocs loads it."""
    spec = importlib.util.spec_from_file_location("field_tables", DOCS / "hooks" / "field_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_params_tables_show_every_key_with_its_default_and_docstring():
    from pipeline.params import Params

    hook = field_tables_hook()
    for section, field in Params.model_fields.items():
        table = hook.params_table(section, "page.md")
        for key, info in field.annotation.model_fields.items():
            row = next(line for line in table.splitlines() if line.startswith(f"| `{section}.{key}` |"))
            assert info.description and info.description.replace("\n", " ") in row
    assert '| `train.lr_scheduler` | `"cosine"` \\| `"linear"` \\| `"constant"` | `cosine` |' in hook.params_table(
        "train", "page.md"
    )
    with pytest.raises(ValueError, match="'trian' is not a params.yaml section"):
        hook.params_table("trian", "page.md")


def test_fields_table_reads_a_dataclass_statically():
    table = field_tables_hook().fields_table("ailab.trainers.config.TrainingConfig", ROOT, "page.md")
    assert "| `warmup_steps` | `int` | `1000` | Steps of linear warmup" in table
    assert "| `output_dir` | `str` | — |" in table


API_PACKAGES = ("ailab/models", "ailab/tokenizers", "ailab/datasets", "ailab/trainers", "ailab/generation")


def test_every_library_module_has_its_api_reference():
    documented = set(re.findall(r"^::: ([\w.]+)", "\n".join(p.read_text() for p in (DOCS / "api").glob("*.md")), re.M))
    modules = [p for package in API_PACKAGES for p in (ROOT / package).glob("*.py") if p.name != "__init__.py"]
    expected = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in modules} | {
        "ailab.evaluation",
        "pipeline.params",
    }
    assert expected - documented == set(), "add a `::: module` line to a page of docs/api/ for each of these"


def test_params_sections_name_the_stages_that_read_them_in_dvc_yaml():
    table = field_tables_hook().params_sections(ROOT)
    assert "| [`corpus`](#corpus) | How the `prepare` stage packs tokens" in table
    assert table.splitlines()[4].endswith("| `prepare`, `dump_corpus` |")
