"""MkDocs hook: field tables generated from the code, so the docs cannot disagree with it.

A line holding only one of these markers is replaced:
- `<!-- params-table: SECTION -->`: the table of that `params.yaml` section, read from `pipeline.params` (each
  section's pydantic model: annotation, default, bounds and the attribute docstring);
- `<!-- params-sections -->`: the list of sections, each with its docstring and the stages that read it according to
  `dvc.yaml`;
- `<!-- fields-table: module.path.ClassName -->`: the table of a library dataclass's fields (annotation, default and
  attribute docstring), read statically with griffe, as mkdocstrings reads the API reference.

An unknown section or class fails the build.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

PARAMS_MARKER = re.compile(r"^<!--\s*params-table:\s*(\w+)\s*-->$", re.MULTILINE)
SECTIONS_MARKER = re.compile(r"^<!--\s*params-sections\s*-->$", re.MULTILINE)
FIELDS_MARKER = re.compile(r"^<!--\s*fields-table:\s*([\w.]+)\s*-->$", re.MULTILINE)
BOUNDS = {
    annotated_types.Gt: (">", "gt"),
    annotated_types.Ge: ("≥", "ge"),
    annotated_types.Lt: ("<", "lt"),
    annotated_types.Le: ("≤", "le"),
}


def on_config(config: Any) -> Any:
    """Make the repository root importable, so `pipeline.params` is this checkout's."""
    root = str(Path(config.config_file_path).resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Expand every params-table and fields-table marker on the page."""
    root = Path(config.config_file_path).resolve().parent
    markdown = SECTIONS_MARKER.sub(lambda match: params_sections(root), markdown)
    markdown = PARAMS_MARKER.sub(lambda match: params_table(match.group(1), page.file.src_path), markdown)
    return FIELDS_MARKER.sub(lambda match: fields_table(match.group(1), root, page.file.src_path), markdown)


def params_sections(root: Path) -> str:
    """The Markdown table of the `params.yaml` sections: what each is for and which `dvc.yaml` stages read it."""
    import yaml

    from pipeline.params import Params

    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    rows = ["| section | what it is | stages that read it |", "|---|---|---|"]
    for section, field in Params.model_fields.items():
        readers = [
            f"`{stage}`"
            for stage, spec in stages.items()
            if any(str(key).split(".", 1)[0] == section for key in spec.get("params", []))
        ]
        rows.append(f"| [`{section}`](#{section}) | {field.annotation.__doc__} | {', '.join(readers)} |")
    return "\n".join(rows)


def params_table(section: str, page_path: str) -> str:
    """The Markdown table of one `params.yaml` section: key, type, default, allowed values, meaning."""
    from pipeline.params import Params

    field = Params.model_fields.get(section)
    if field is None:
        known = ", ".join(Params.model_fields)
        raise ValueError(f"{page_path}: params-table '{section}' is not a params.yaml section; use one of: {known}")
    model: type[BaseModel] = field.annotation
    rows = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        cells = [f"`{section}.{name}`", type_name(info.annotation), default_text(info), bounds_text(info.metadata)]
        rows.append("| " + " | ".join(cells) + " | " + (info.description or "").replace("\n", " ") + " |")
    return "\n".join(rows)


def fields_table(qualified_name: str, root: Path, page_path: str) -> str:
    """The Markdown table of a dataclass's fields: name, type, default, meaning."""
    import griffe

    module_path, _, class_name = qualified_name.rpartition(".")
    module = griffe.load(module_path, search_paths=[str(root)])
    if class_name not in module.members or not module[class_name].is_class:
        raise ValueError(f"{page_path}: fields-table '{qualified_name}': no class {class_name} in {module_path}")
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, member in module[class_name].members.items():
        if member.is_attribute and "instance-attribute" in member.labels:
            default = "—" if member.value is None else f"`{member.value}`"
            meaning = " ".join((member.docstring.value if member.docstring else "").split())
            rows.append(f"| `{name}` | `{member.annotation}` | {default} | {meaning} |")
    return "\n".join(rows)


def type_name(annotation: Any) -> str:
    """A YAML reader's name for a field type: `int \\| null`, `"cosine" \\| "linear"`, `list[str]`."""
    origin = get_origin(annotation)
    if origin is Literal:
        return r" \| ".join(f'`"{value}"`' for value in get_args(annotation))
    if origin in (Union, types.UnionType):
        return r" \| ".join("`null`" if arg is type(None) else type_name(arg) for arg in get_args(annotation))
    if origin is not None:
        return f"`{origin.__name__}[{', '.join(arg.__name__ for arg in get_args(annotation))}]`"
    return f"`{annotation.__name__}`"


def default_text(info: Any) -> str:
    """The default as it would be written in `params.yaml`."""
    value = info.default_factory() if info.default is PydanticUndefined and info.default_factory else info.default
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return "<br>".join(f"`{item}`" for item in value)
    return f"`{value}`"


def bounds_text(metadata: list[Any]) -> str:
    """Numeric bounds and minimum lengths checked when the params are loaded."""
    parts = []
    for item in metadata:
        for kind, (symbol, attribute) in BOUNDS.items():
            if isinstance(item, kind):
                parts.append(f"{symbol} {getattr(item, attribute)}")
        if isinstance(item, annotated_types.MinLen):
            parts.append(f"at least {item.min_length} item(s)")
    return ", ".join(parts)
