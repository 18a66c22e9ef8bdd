"""medstation.notes.aci_bench: the one reader of aci-bench / MTS-Dialog CSV files."""

from __future__ import annotations

import pytest

from medstation.errors import UserFacingError
from medstation.notes.aci_bench import iter_dialogue_rows, read_dialogue_rows


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_aci_bench_columns_with_a_byte_order_mark(tmp_path):
    path = _write(tmp_path / "valid.csv", "dataset,encounter_id,dialogue,note\n"
                  'virtscribe,D2N001,"[doctor] hi, how are you\n[patient] tired",HPI: tired\n'
                  "virtscribe,D2N002,,\n", "utf-8-sig")
    rows = read_dialogue_rows(path)
    assert [(r.encounter_id, r.dataset, r.note) for r in rows] == [("D2N001", "virtscribe", "HPI: tired"),
                                                                   ("D2N002", "virtscribe", "")]
    assert rows[0].dialogue.startswith("[doctor] hi") and rows[0].complete and not rows[1].complete
    assert [r.encounter_id for r in read_dialogue_rows(path, complete_only=True)] == ["D2N001"]


def test_mts_dialog_columns_and_row_numbers_when_there_is_no_id(tmp_path):
    mts = _write(tmp_path / "mts.csv", "ID,section_header,section_text,dialogue\n7,GENHX,Pain.,Doctor: pain?\n")
    assert [(r.encounter_id, r.note) for r in read_dialogue_rows(mts)] == [("7", "Pain.")]
    bare = _write(tmp_path / "bare.csv", " dialogue , note \na: b,c\nd: e,f\ng: h,i\n")
    assert [r.encounter_id for r in read_dialogue_rows(bare, limit=2)] == ["0", "1"]


@pytest.mark.parametrize("text, encoding, message", [
    ("dialogue,summary\nx,y\n", "utf-8", "needs a 'dialogue' column"),
    ("dialogue,note\ncaf\u00e9,y\n", "latin-1", "not UTF-8"),
])
def test_bad_files_say_what_is_wrong(tmp_path, text, encoding, message):
    path = _write(tmp_path / "bad.csv", text, encoding)
    with pytest.raises(UserFacingError, match=message):
        read_dialogue_rows(path)


def test_missing_file_and_cancellation(tmp_path):
    with pytest.raises(UserFacingError, match="Cannot read"):
        read_dialogue_rows(tmp_path / "absent.csv")

    class Stop(Exception):
        pass

    class Ctx:
        def check(self):
            raise Stop()

    path = _write(tmp_path / "one.csv", "dialogue,note\na,b\n")
    with pytest.raises(Stop):
        list(iter_dialogue_rows(path, Ctx()))
