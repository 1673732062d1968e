"""The least-privilege report's documents: merged across the end-to-end tests' local clouds, saved, read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localcloud.access_report import latest_saved, merge, read, save, save_into


def _role(
    suffix: str, used: list[str], unused: list[str], *, stack: str | None = "mlops-data"
) -> dict[str, Any]:
    return {
        "role": f"arn:aws:iam::123456789012:role/Handler-{suffix}",
        "name": f"Handler-{suffix}",
        "stack": stack,
        "logical_id": "HandlerRole" if stack else None,
        "used": [{"action": a, "resource": "*"} for a in used],
        "unused": [{"policy": "Default", "statement": s, "actions": [s], "resources": ["*"]} for s in unused],
    }


def _document(started: float, taken: float, *roles: dict[str, Any]) -> dict[str, Any]:
    return {
        "taken_at": taken,
        "started_at": started,
        "endpoint_url": "x",
        "enforced": True,
        "roles": list(roles),
    }


def test_merge_unites_what_a_role_used_and_keeps_only_statements_unused_in_both() -> None:
    # Given the same template role in two local clouds (names differ by their random suffix)
    earlier = _document(10, 20, _role("AAA", ["s3:GetObject"], ["sqs:SendMessage", "sns:Publish"]))
    later = _document(30, 40, _role("BBB", ["s3:PutObject"], ["sns:Publish", "kms:Decrypt"]))

    # When their reports are merged
    merged = merge(earlier, later)

    # Then it is one role, with both uses, and only the statement neither cloud used
    (role,) = merged["roles"]
    assert [u["action"] for u in role["used"]] == ["s3:GetObject", "s3:PutObject"]
    assert [u["statement"] for u in role["unused"]] == ["sns:Publish"]
    assert (merged["started_at"], merged["taken_at"]) == (10, 40)


def test_merge_keeps_roles_seen_once_and_tells_untagged_roles_apart_by_name() -> None:
    # Given two untagged roles of different names
    earlier = _document(10, 20, _role("one", ["s3:GetObject"], [], stack=None))
    later = _document(30, 40, _role("two", [], ["sns:Publish"], stack=None))

    # When merged, Then both are there as they were
    assert sorted(r["name"] for r in merge(earlier, later)["roles"]) == ["Handler-one", "Handler-two"]


def test_save_into_merges_only_within_one_session(tmp_path: Path) -> None:
    # Given a report saved by one session
    path = tmp_path / "access-report.json"
    save_into(_document(10, 20, _role("AAA", ["s3:GetObject"], [])), path, session="first")

    # When the same session saves another, Then both are in the file
    save_into(_document(30, 40, _role("BBB", ["s3:PutObject"], [])), path, session="first")
    saved = read(path)
    assert saved is not None
    assert [u["action"] for u in saved["roles"][0]["used"]] == ["s3:GetObject", "s3:PutObject"]

    # When another session saves, Then its report replaces the old one
    save_into(_document(50, 60, _role("CCC", ["kms:Decrypt"], [])), path, session="second")
    saved = read(path)
    assert saved is not None
    assert [u["action"] for u in saved["roles"][0]["used"]] == ["kms:Decrypt"]


def test_the_latest_saved_report_is_the_last_taken_and_broken_files_are_skipped(tmp_path: Path) -> None:
    # Given an old report, a newer one and a file that is not a report
    old, new, broken = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "broken.json"
    save(_document(1, 2), old)
    save(_document(3, 4), new)
    broken.write_text("{not json")

    # When the latest is asked for, Then it is the newer one, saying where it was saved
    latest = latest_saved([old, broken, new, tmp_path / "missing.json"])
    assert latest is not None and latest["taken_at"] == 4 and latest["saved_to"] == str(new)
    assert latest_saved([broken]) is None
