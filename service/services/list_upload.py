"""An uploaded list file (CSV or XLSX) read as :func:`list_io.read_file` reads one, or refused
with a reason a person can act on: a type we do not read, a workbook that is not one, a CSV
not in UTF-8, a header without the columns an entry needs, no rows.

A baseline column left out would read as 0 kg/day and a missing credit-code column as an
empty code on every row, so the columns an entry cannot do without are required by name;
``name_en``, ``guaranteed_supply``, ``overrides`` and ``contact`` may be left out.
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import BinaryIO

from emission_list.catalog import Catalog
from emission_list.i18n import text
from emission_list.levels import LIST_POLLUTANTS
from service.errors import HazeError
from service.services.list_io import ReadResult, is_xlsx, read_file, read_header

log = logging.getLogger("haze.list_upload")

SUFFIXES = (".csv", ".xlsx")
REQUIRED_COLUMNS: tuple[str, ...] = (
    "enterprise_id",
    "name",
    "region",
    "industry",
    "grade",
    *(f"baseline_{p}" for p in LIST_POLLUTANTS),
)
#: The first bytes of every XLSX file (a ZIP archive).
ZIP_MAGIC = b"PK\x03\x04"
_SNIFF_BYTES = 4096


class ListFileError(HazeError):
    """A list file that cannot be read as a whole (422, a stable ``import.*`` code)."""

    def __init__(self, code: str, zh: str, en: str, details: Sequence[dict] = ()) -> None:
        super().__init__(422, code, text(zh, en), details)


def _type_error(name: str) -> ListFileError:
    return ListFileError(
        "import.file_type",
        f"无法读取文件 {name}：只接受 CSV（.csv）或 Excel 工作簿（.xlsx）",
        f"{name} cannot be read: only CSV (.csv) or Excel workbooks (.xlsx) are taken",
    )


def _check_kind(path: Path, name: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if is_xlsx(path) and not head.startswith(ZIP_MAGIC):
        raise ListFileError(
            "import.broken_xlsx",
            f"{name} 不是有效的 Excel 工作簿（文件已损坏，或只是改了扩展名）",
            f"{name} is not a valid Excel workbook (damaged, or only renamed to .xlsx)",
        )
    if not is_xlsx(path) and (head.startswith(ZIP_MAGIC) or b"\x00" in head):
        raise ListFileError(
            "import.not_text",
            f"{name} 不是文本格式的 CSV 文件（是否为改了扩展名的工作簿？）",
            f"{name} is not a text CSV file (a workbook renamed to .csv?)",
        )


def _read(
    path: Path,
    name: str,
    catalog: Catalog,
    leaves: Collection[str],
    regions: Collection[str],
    language: str,
) -> ReadResult:
    header = read_header(path)
    if not any(header):
        raise ListFileError("import.empty", f"{name} 是空文件", f"{name} is empty")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ListFileError(
            "import.columns",
            f"{name} 的首行缺少列：{', '.join(missing)}",
            f"The first row of {name} lacks the columns {', '.join(missing)}",
            [{"missing": missing}],
        )
    return read_file(path, catalog, leaves, regions, language=language)


def read_upload(
    source: BinaryIO,
    name: str,
    catalog: Catalog,
    leaf_regions: Collection[str],
    regions: Collection[str],
    *,
    language: str = "zh-CN",
) -> ReadResult:
    """Every entry and row problem of the uploaded file ``source`` named ``name`` (its
    suffix tells CSV from XLSX); :class:`ListFileError` when the file cannot be read at all.
    Blocking: run it in a worker thread."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise _type_error(name)
    with tempfile.TemporaryDirectory(prefix="haze-import-") as directory:
        path = Path(directory) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(source, out)
        _check_kind(path, name)
        try:
            return _read(path, name, catalog, leaf_regions, regions, language)
        except ListFileError:
            raise
        except UnicodeDecodeError as exc:
            raise ListFileError(
                "import.encoding",
                f"{name} 不是 UTF-8 编码；请在 Excel 中另存为“CSV UTF-8（逗号分隔）”",
                f"{name} is not UTF-8 text; in Excel, save it as 'CSV UTF-8 (comma delimited)'",
            ) from exc
        except csv.Error as exc:
            raise ListFileError(
                "import.unreadable", f"{name} 无法按 CSV 读取：{exc}", f"{name} is not CSV: {exc}"
            ) from exc
        except Exception as exc:  # openpyxl fails in many ways on a damaged workbook
            if not is_xlsx(path):
                raise
            log.info("unreadable workbook %s: %r", name, exc)
            raise ListFileError(
                "import.broken_xlsx",
                f"{name} 无法作为 Excel 工作簿读取（文件已损坏？）",
                f"{name} cannot be read as an Excel workbook (damaged?)",
            ) from exc
