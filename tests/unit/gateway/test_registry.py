"""Registry CSV: loading, and errors a site administrator can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import RegistryError
from gateway.registry import Registry, RegistryHolder, Terminal, load_registry

HEADER = "terminal_id,elder_name,district,town,village,phone\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminals.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_terminals_with_region_and_optional_phone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "T0001,王秀兰,示范区,城关街道,幸福社区,13800000001\n"
        "T0002, 李建国 ,示范区,新华镇,建设村,\n",
    )

    registry = load_registry(path)

    assert len(registry) == 2
    assert registry["T0001"] == Terminal(
        "T0001", "王秀兰", ("示范区", "城关街道", "幸福社区"), "13800000001"
    )
    assert registry["T0002"].elder_name == "李建国"  # stripped
    assert registry["T0002"].phone == ""
    assert "T0003" not in registry


def test_phone_column_is_optional(tmp_path: Path) -> None:
    path = write(tmp_path, "terminal_id,elder_name,district,town,village\nT1,A,D,T,V\n")

    assert load_registry(path)["T1"].phone == ""


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "terminal_id,elder_name,district,village\nT1,A,D,V\n")

    with pytest.raises(RegistryError, match="missing columns town"):
        load_registry(path)


def test_empty_file_misses_every_column(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="missing columns terminal_id, elder_name"):
        load_registry(write(tmp_path, ""))


@pytest.mark.parametrize("bad_id", ["", "T 1", "T/1", "T+1", "x" * 65, "Tö1"])
def test_invalid_terminal_id_is_named_with_its_line(tmp_path: Path, bad_id: str) -> None:
    path = write(tmp_path, HEADER + "T0001,A,D,T,V,\n" + f"{bad_id},B,D,T,V,\n")

    with pytest.raises(RegistryError, match=r"terminals\.csv:3: invalid terminal_id") as caught:
        load_registry(path)

    assert repr(bad_id) in str(caught.value)


def test_missing_region_part_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T0001,A,D,,V,\n")

    with pytest.raises(RegistryError, match=r"terminals\.csv:2: .*required"):
        load_registry(path)


def test_duplicate_terminal_id_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T0001,A,D,T,V,\nT0002,B,D,T,V,\nT0001,C,D,T,V,\n")

    with pytest.raises(
        RegistryError, match=r"terminals\.csv:4: duplicate terminal_id T0001 \(first on line 2\)"
    ):
        load_registry(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "T0001,A,D,T,V,\nT0002,B,D,T,V,1,extra\n", r":3: more fields"),
        (HEADER + 'T0001,A,D,T,V,\n"T0002,B,D,T,V,\n', r":3: .*terminal_id|:4: not valid CSV"),
        ("terminal_id,elder_name\nT0001,A\n", r":1: missing columns district, town, village"),
    ],
    ids=["extra-field", "open-quote", "short-header"],
)
def test_malformed_rows_are_named_with_their_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        load_registry(write(tmp_path, text))


def test_text_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "terminals.csv"
    path.write_bytes(HEADER.encode() + "T0001,王,D,T,V,\n".encode("gb18030"))

    with pytest.raises(RegistryError, match=r"terminals\.csv:2: not UTF-8"):
        load_registry(path)


def test_the_holder_reads_through_to_the_registry_in_force() -> None:
    first = Registry([Terminal("T1", "A", ("D", "T", "V1"))])
    second = Registry([Terminal("T1", "A", ("D", "T", "V2")), Terminal("T2", "B", ("D", "T", "V"))])
    holder = RegistryHolder(first)

    assert holder.swap(second) is first

    assert holder.current is second
    assert (len(holder), holder["T1"].region[2], "T2" in holder) == (2, "V2", True)
    assert ("D", "T", "V2") in holder.regions()


def test_unreadable_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "absent.csv")


def test_regions_lists_every_prefix_that_has_a_terminal() -> None:
    registry = Registry(
        [
            Terminal("T1", "A", ("D", "T1", "V1")),
            Terminal("T2", "B", ("D", "T1", "V2")),
            Terminal("T3", "C", ("D", "T2", "V1")),
        ]
    )

    assert registry.regions() == {
        ("D",), ("D", "T1"), ("D", "T2"), ("D", "T1", "V1"), ("D", "T1", "V2"), ("D", "T2", "V1"),
    }  # fmt: skip


def test_zone_column_is_optional_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.strip() + ",zone\nT1,A,D,T,V,,north\nT2,B,D,T,V,,\n")

    registry = load_registry(path)

    assert registry["T1"].zone == "north"
    assert registry["T2"].zone is None
    bad = write(tmp_path, HEADER.strip() + ",zone\nT1,A,D,T,V,,north/1\n")
    with pytest.raises(RegistryError, match=r"terminals\.csv:2: invalid zone 'north/1'"):
        load_registry(bad)


def test_the_sites_district_fills_empty_cells_and_refuses_another(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "T1,A,,T,V,\nT2,B,示范区,T,V,\n")

    registry = load_registry(path, site_district="示范区")

    assert registry["T1"].region == ("示范区", "T", "V")
    with pytest.raises(RegistryError, match="required"):
        load_registry(path)  # without a site district an empty cell is an error
    other = write(tmp_path, HEADER + "T1,A,示范区,T,V,\nT2,B,别的区,T,V,\n")
    with pytest.raises(RegistryError, match=r"csv:3: district '别的区' is not this site's"):
        load_registry(other, site_district="示范区")
