"""The session's small batch run (scale 0.05, 57 % of all cells primary) against the disclosure
audit: what it published passes the attacker's LP over all relations with 0 exposed cells."""

import json

from analyse.cube import build as cube_build
from analyse.publish import audit


def test_the_small_batch_run_passes_the_attackers_lp_with_no_exposed_cell(
    small_run, small_processed
):
    processed = small_processed.processed
    record = small_processed.manifest["protection"]
    # The session build ran the linked protection (not the tests' stub) ...
    assert not record.get("skipped") and record["primary"] > 100_000
    assert record["hidden_by_linked_protection"] > 0 and record["exposed"] == 0
    # ... and the batch attacked what it published, without findings.
    assert small_run.ok, small_run.leaks
    kept = json.loads(
        (processed / cube_build.INTERNAL_DIR / audit.AUDIT_CACHE).read_text(encoding="utf-8")
    )
    (family,) = kept["families"]
    assert family == {
        "family": "all",
        "relations": record["relations"],
        "targets": record["primary"],
        "exposed": 0,
    }
    # The run folder (briefs' exports) and the tables again, with the batch's kept verdict.
    report = audit.audit(small_run.out, processed=processed, families=False, attack="auto")
    assert report.ok and report.exposed == 0, report.text()
