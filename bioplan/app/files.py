"""Uploads and downloads: a scenario from the browser's files, a plan's files in memory."""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.results import Plan
    from bioplan.scenario import Scenario


def _extract_zip(filename: str, data: bytes, root: Path) -> Path:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                target = (root / member).resolve()
                if not target.is_relative_to(root.resolve()):
                    msg = "zip member escapes the archive"
                    raise InputError(msg, file=filename,
                                     field=member, fix="zip the scenario folder itself")
            zf.extractall(root)
    except zipfile.BadZipFile:
        msg = "not a valid zip archive"
        raise InputError(msg, file=filename,
                         fix="upload a .yaml file or a .zip of the scenario folder") from None
    yamls = sorted(p for p in root.rglob("*.y*ml") if "__MACOSX" not in p.parts)
    if len(yamls) != 1:
        msg = f"the zip holds {len(yamls)} YAML files, expected exactly one"
        raise InputError(msg,
                         file=filename,
                         fix="zip one scenario YAML together with the CSV tables it references")
    return yamls[0]


def _table_references(text: str) -> list[tuple[str, str]]:
    """``(field, path)`` of the CSV tables a scenario YAML references."""
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        return []  # load_scenario reports the syntax error with its line
    if not isinstance(raw, dict):
        return []
    refs = []
    demand = raw.get("demand")
    if isinstance(demand, dict) and demand.get("file") and not demand.get("records"):
        refs.append(("demand.file", str(demand["file"])))
    for i, src in enumerate(raw.get("recipes") or []):
        if isinstance(src, dict) and src.get("table") and not src.get("rows"):
            refs.append((f"recipes.{i}.table", str(src["table"])))
    return refs


def _place_tables(filename: str, text: str, root: Path, extra: dict[str, bytes]) -> None:
    """Write the uploaded CSVs where the YAML looks for them (matched by file name)."""
    by_name = {Path(name).name: data for name, data in extra.items()}
    for field, ref in _table_references(text):
        target = (root / ref).resolve()
        data = by_name.get(Path(ref).name)
        if data is None or not target.is_relative_to(root.resolve()):
            msg = f"{Path(ref).name!r} is referenced but was not uploaded"
            raise InputError(
                msg, file=filename, field=field,
                fix=f"select {filename} together with {Path(ref).name} in the upload (or upload a zip "
                    "of the scenario folder)")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def load_upload(filename: str, data: bytes,
                extra: dict[str, bytes] | None = None) -> tuple[Scenario, str]:
    """Validate an uploaded scenario: a YAML file (with ``extra`` uploaded files: the CSV tables it
    references, matched by file name), or a zip of one YAML plus its CSV tables. Returns the
    scenario and the YAML's text.

    Raises :class:`InputError` naming the uploaded file (and the member inside a zip).
    """
    from bioplan.scenario import load_scenario

    with tempfile.TemporaryDirectory(prefix="bioplan-upload-") as tmp:
        root = Path(tmp)
        if filename.lower().endswith(".zip"):
            path = _extract_zip(filename, data, root)
        elif filename.lower().endswith((".yaml", ".yml")):
            path = root / Path(filename).name
            path.write_bytes(data)
            _place_tables(filename, data.decode("utf-8", errors="replace"), root, extra or {})
        else:
            msg = "unsupported file type"
            raise InputError(msg, file=filename,
                             fix="upload a scenario .yaml (with its CSV files) or a .zip of them")
        try:
            scenario = load_scenario(path)
        except InputError as err:
            err.file = _upload_name(err.file, root, filename)
            raise InputError(err.message, file=err.file, field=err.field, fix=err.fix) from None
        text = path.read_text(encoding="utf-8")
    return scenario, text


def _upload_name(file: str | None, root: Path, filename: str) -> str:
    """Report paths inside the temporary upload folder by the name the user knows."""
    if not file:
        return filename
    try:
        rel = Path(file).resolve().relative_to(root.resolve())
    except ValueError:
        return file
    return f"{filename}:{rel}" if filename.lower().endswith(".zip") else filename


def scenario_yaml(scenario: Scenario) -> bytes:
    """A self-contained YAML document of the scenario (re-uploadable)."""
    from bioplan.scenario import scenario_to_yaml

    return scenario_to_yaml(scenario).encode("utf-8")


@dataclass(frozen=True)
class PlanFiles:
    """The downloadable outputs of a plan, in memory."""

    xlsx: bytes
    summary_json: bytes
    csv_zip: bytes


def plan_files(plan: Plan) -> PlanFiles:
    """Excel workbook, ``summary.json`` and a zip of every CSV table, via ``Plan.write``."""
    from bioplan.results.export import SUMMARY, WORKBOOK

    with tempfile.TemporaryDirectory(prefix="bioplan-plan-") as tmp:
        out = Path(tmp)
        plan.write(out)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for csv in sorted(out.rglob("*.csv")):
                zf.write(csv, csv.relative_to(out).as_posix())
        return PlanFiles(xlsx=(out / WORKBOOK).read_bytes(),
                         summary_json=(out / SUMMARY).read_bytes(), csv_zip=buf.getvalue())
