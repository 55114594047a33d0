import json
from pathlib import Path
from typing import Any

import pytest

from tiktok_virality.defs.scraping.exports import (
    ExportError,
    check_tiktok_export,
    read_export,
    write_export_json,
)

JSON_FIXTURE = "profile_items_2025.json"
CSV_FIXTURE = "profile_export_2024.csv"


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items if "id" in item}


def _all_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for child in value.values() for leaf in _all_values(child)]
    if isinstance(value, list):
        return [leaf for child in value for leaf in _all_values(child)]
    return [value]


# --- real exports


def test_json_array_export_is_read_as_is(apify_fixtures: Path) -> None:
    items = read_export(apify_fixtures / JSON_FIXTURE)

    assert items == json.loads((apify_fixtures / JSON_FIXTURE).read_text(encoding="utf-8"))
    assert len(items) == 10
    assert items[0]["id"] == "7524354452762037512"
    assert items[0]["authorMeta"]["fans"] == 149800


def test_csv_export_is_unflattened_into_nested_items(apify_fixtures: Path) -> None:
    items = read_export(apify_fixtures / CSV_FIXTURE)

    assert len(items) == 69
    video = _by_id(items)["7397388276279102726"]
    # BOM stripped from the first column name, nested paths rebuilt, cells kept as strings.
    assert video["authorMeta"]["avatar"].startswith("https://p16-sign-sg.tiktokcdn.com/")
    assert video["authorMeta"]["fans"] == "12800"
    assert video["authorMeta"]["commerceUserInfo"] == {"commerceUser": "false"}
    assert video["authorMeta"]["signature"] == (
        "Calon Walikota Banjarbaru 2024\n#HarapanBaruBanjarbaru"
    )
    assert video["collectCount"] == "244"
    assert video["isPinned"] == "true"
    assert video["createTime"] == "1722338679"
    # Index order, not text order: hashtags/10 comes after hashtags/9, not after hashtags/1.
    assert video["hashtags"] == [
        {"name": name}
        for name in [
            "hjernalisahalaby",
            "hjlisahalaby",
            "ernalisahalaby",
            "walikotabanjarbaru",
            "kalimantanselatan",
            "harapanbarubanjarbaru",
            "konserbanjarbaru",
            "ungu",
            "unguband",
            "pashaungu",
            "fypシ゚viral",
        ]
    ]
    assert video["mediaUrls"] == [video["videoMeta"]["downloadAddr"]]
    assert [link["language"] for link in video["videoMeta"]["subtitleLinks"]] == [
        "jpn-JP",
        "ind-ID",
        "vie-VN",
        "eng-US",
        "cmn-Hans-CN",
    ]
    # Empty cells are absent keys: no slideshow images, no music album, no isMuted.
    assert "slideshowImageLinks" not in video
    assert "musicAlbum" not in video["musicMeta"]
    assert "isMuted" not in video


def test_csv_export_slideshow_keeps_its_image_links(apify_fixtures: Path) -> None:
    slideshow = _by_id(read_export(apify_fixtures / CSV_FIXTURE))["7393647281003810054"]

    assert slideshow["isSlideshow"] == "true"
    assert len(slideshow["slideshowImageLinks"]) == 11
    assert set(slideshow["slideshowImageLinks"][10]) == {"downloadLink", "tiktokLink"}
    assert "mediaUrls" not in slideshow
    assert slideshow["videoMeta"]["duration"] == "0"


def test_csv_export_error_row_keeps_only_its_filled_cells(apify_fixtures: Path) -> None:
    items = read_export(apify_fixtures / CSV_FIXTURE)

    assert items[0] == {
        "error": "This profile/hashtag does not exist.",
        "input": "halabywartono",
        "url": "https://www.tiktok.com/tag/halabywartono",
    }
    assert "" not in [value for item in items for value in _all_values(item)]


def test_format_is_detected_from_content_not_extension(
    apify_fixtures: Path, tmp_path: Path
) -> None:
    json_named_csv = tmp_path / "export.csv"
    json_named_csv.write_bytes((apify_fixtures / JSON_FIXTURE).read_bytes())
    csv_named_json = tmp_path / "export.json"
    csv_named_json.write_bytes((apify_fixtures / CSV_FIXTURE).read_bytes())

    assert read_export(json_named_csv) == read_export(apify_fixtures / JSON_FIXTURE)
    assert read_export(csv_named_json) == read_export(apify_fixtures / CSV_FIXTURE)


# --- JSON Lines and writing


def test_jsonl_round_trip(apify_fixtures: Path, tmp_path: Path) -> None:
    items = read_export(apify_fixtures / JSON_FIXTURE)
    items[1] = {**items[1], "text": "line\u2028separator inside a string"}
    jsonl = tmp_path / "items.txt"
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    jsonl.write_text("\r\n".join(lines[:5]) + "\r\n\n" + "\n".join(lines[5:]), encoding="utf-8")

    assert read_export(jsonl) == items


def test_written_json_export_reads_back_identically(apify_fixtures: Path, tmp_path: Path) -> None:
    items = read_export(apify_fixtures / CSV_FIXTURE)
    target = tmp_path / "sample" / "items.json"

    write_export_json(items, target)

    assert read_export(target) == items
    text = target.read_text(encoding="utf-8")
    assert text.startswith("[")
    assert "fypシ゚viral" in text  # non-ASCII written as is, not \u-escaped
    assert [path.name for path in target.parent.iterdir()] == ["items.json"]


def test_utf8_bom_is_accepted_in_json(apify_fixtures: Path, tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + (apify_fixtures / JSON_FIXTURE).read_bytes())

    assert read_export(with_bom) == read_export(apify_fixtures / JSON_FIXTURE)


# --- CSV unflattening rules


def test_csv_numeric_segments_become_lists_in_index_order_without_gaps(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "id,hashtags/0/name,hashtags/1/name,hashtags/2/name,mediaUrls/0,authorMeta/fans\n"
        "7000000000000000001,a,,c,,\n"
        "7000000000000000002,,,,https://example.com/v.mp4,0\n"
        ",,,,,\n",
        encoding="utf-8",
    )

    assert read_export(export) == [
        {"id": "7000000000000000001", "hashtags": [{"name": "a"}, {"name": "c"}]},
        {
            "id": "7000000000000000002",
            "mediaUrls": ["https://example.com/v.mp4"],
            "authorMeta": {"fans": "0"},
        },
    ]


def test_csv_with_a_header_only_has_no_items(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("id,text,authorMeta/name\n", encoding="utf-8")

    assert read_export(export) == []


# --- errors


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", b"", r"empty\.json: the file is empty"),
        ("blank.csv", "  \n\n", r"blank\.csv: the file is empty"),
        ("latin1.csv", "id,text\n7000000000000000001,caf\xe9\n".encode("latin-1"), r"line 2"),
        ("utf16.json", '[{"id": "1"}]'.encode("utf-16"), r"not UTF-8"),
        ("truncated.json", '[\n  {"id": "7000000000000000001"},\n  {"id": "70', r"line 3"),
        ("string.json", '"items"', r"expected a JSON array of items, got a string"),
        ("null.json", "null", r"got null"),
        ("numbers.json", "[1, 2]", r"item 1 of the array is a number, not an object"),
        ("mixed.json", '[{"id": "1"}, ["x"]]', r"item 2 of the array is an array"),
        (
            "object.json",
            '{\n  "data": {"items": []}\n}\n',
            r"got one JSON object spanning several lines",
        ),
        ("truncated.jsonl", '{"id": "1"}\n{"id": "2"}\n{"id": "3", "te', r"line 3"),
        ("array_line.jsonl", '{"id": "1"}\n["id", "2"]\n', r"line 2: .*got an array"),
        ("wide.csv", "id,text\n1,a\n2,b,c\n", r"line 3: 3 cells but the header has 2"),
        ("short.csv", "id,text\n1,a\n2\n3,c\n", r"line 3: 1 cell but the header has 2"),
        ("cut_row.csv", '"id","text"\n"1","a"\n"2"', r"line 3: 1 cell but .*truncated"),
        ("open_quote.csv", '"id","text"\n"1","a"\n"2","b', r"line 3: .*ends inside a quoted"),
        ("open_quote_over_lines.csv", 'id,text\n1,"a\nb\n', r"line 2: .*ends inside a quoted"),
        ("stray_quote.csv", 'id,text\n1,"a"b\n', r"line 2: invalid CSV"),
        ("duplicate.csv", "id,text,id\n1,a,1\n", r"'id' appears twice"),
        ("conflict.csv", "videoMeta,videoMeta/duration\nx,3\n", r"conflict"),
    ],
)
def test_unreadable_exports_raise_export_error_naming_file_and_place(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = _write(tmp_path, name, content)

    with pytest.raises(ExportError, match=message) as raised:
        read_export(path)

    assert str(path) in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_non_utf8_error_says_where(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "latin1.csv", "id,text\n7000000000000000001,caf\xe9\n".encode("latin-1")
    )

    with pytest.raises(ExportError, match=r"not UTF-8 text \(byte 0xe9 at line 2, offset 31\)"):
        read_export(path)


def test_truncated_real_json_export_is_an_error_not_a_partial_list(
    apify_fixtures: Path, tmp_path: Path
) -> None:
    content = (apify_fixtures / JSON_FIXTURE).read_text(encoding="utf-8")
    path = _write(tmp_path, "truncated.json", content[: len(content) // 2])

    with pytest.raises(ExportError, match=r"invalid or truncated JSON at line \d+, column \d+"):
        read_export(path)


@pytest.mark.parametrize("cut_bytes", [30, 2])
def test_csv_export_cut_inside_its_last_cell_is_an_error(
    apify_fixtures: Path, tmp_path: Path, cut_bytes: int
) -> None:
    content = (apify_fixtures / CSV_FIXTURE).read_bytes()
    path = _write(tmp_path, "truncated.csv", content[:-cut_bytes])

    with pytest.raises(ExportError, match=r"line 137: the file ends inside a quoted cell; it is "):
        read_export(path)


def test_truncated_real_csv_export_is_an_error_not_a_partial_list(
    apify_fixtures: Path, tmp_path: Path
) -> None:
    content = (apify_fixtures / CSV_FIXTURE).read_bytes()
    half = content[: len(content) // 2]
    # The same half cut right after a cell, where the last row is only missing cells.
    between_cells = half[: half.rindex(b'",') + 2]

    with pytest.raises(ExportError, match="truncated"):
        read_export(_write(tmp_path, "half.csv", half))
    with pytest.raises(ExportError, match=r"cells but the header has \d+ columns; .* truncated"):
        read_export(_write(tmp_path, "between_cells.csv", between_cells))


def test_csv_export_without_its_final_newline_is_complete(
    apify_fixtures: Path, tmp_path: Path
) -> None:
    content = (apify_fixtures / CSV_FIXTURE).read_bytes()
    assert content.endswith(b'"\n')

    items = read_export(_write(tmp_path, "no_final_newline.csv", content[:-1]))

    assert items == read_export(apify_fixtures / CSV_FIXTURE)
    assert len(items) == 69


def test_csv_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path, "blank_lines.csv", 'id,text\n\n"1","a"\r\n\r\n')

    assert read_export(path) == [{"id": "1", "text": "a"}]


def test_csv_without_header_is_an_error(apify_fixtures: Path, tmp_path: Path) -> None:
    lines = (apify_fixtures / CSV_FIXTURE).read_text(encoding="utf-8-sig").splitlines(True)
    path = _write(tmp_path, "no_header.csv", "".join(lines[1:]))

    with pytest.raises(ExportError, match=r"line 1 is not a CSV header .*column 1 is ''"):
        read_export(path)


def test_csv_whose_first_row_is_data_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "data_first.csv", "7000000000000000001,@someone,12800\n")

    with pytest.raises(ExportError, match=r"column 1 is '7000000000000000001'"):
        read_export(path)


def test_a_missing_file_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such file"):
        read_export(tmp_path / "missing.json")


# --- is it an Apify TikTok export at all


@pytest.mark.parametrize("fixture", [JSON_FIXTURE, CSV_FIXTURE])
def test_real_exports_are_tiktok_exports(apify_fixtures: Path, fixture: str) -> None:
    check_tiktok_export(read_export(apify_fixtures / fixture), apify_fixtures / fixture)


@pytest.mark.parametrize(
    "items",
    [
        # Every account missing: only Apify's error items.
        [{"error": "This profile/hashtag does not exist.", "input": "ghost"}],
        # Videos with an odd item among them: the odd one is refused on its own, later.
        [{"id": "7000000000000000001", "playCount": "5"}, {"title": "mug"}],
    ],
)
def test_exports_with_a_video_or_an_apify_error_item_are_tiktok_exports(
    items: list[dict[str, Any]], tmp_path: Path
) -> None:
    check_tiktok_export(items, tmp_path / "export.json")


@pytest.mark.parametrize(
    ("items", "fields"),
    [
        ([{"name": "ann", "age": "3"}], "'name', 'age'."),
        # An id alone is not TikTok's, nor an error without the account it is about.
        ([{"id": "1", "title": "mug"}, {"error": "sold out"}], "'id', 'title', 'error'."),
        # The first 8 fields, and that there are more.
        (
            [{f"column{n}": n for n in range(12)}],
            ", ".join(f"'column{n}'" for n in range(8)) + ", ….",
        ),
        ([{}], "none."),
    ],
)
def test_items_without_any_tiktok_video_are_no_tiktok_export(
    items: list[dict[str, Any]], fields: str, tmp_path: Path
) -> None:
    path = tmp_path / "other.json"

    with pytest.raises(ExportError) as refused:
        check_tiktok_export(items, path)

    message = str(refused.value)
    assert message.startswith(f"{path}: this does not look like an Apify TikTok export: ")
    assert f"the file's items have the fields {fields}" in message


def test_an_empty_export_is_left_to_say_it_holds_no_items(tmp_path: Path) -> None:
    check_tiktok_export([], tmp_path / "empty.csv")
