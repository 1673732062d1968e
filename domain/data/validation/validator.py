"""``validate_dataset``: one upload, its contract, and a verdict with a report, a profile and a snapshot.

The pass over the data is single and streaming whenever the file is good. Extra passes happen only
on the way to a rejection, to say precisely what is wrong: a diagnostic pass that names every value
that does not convert, or a scan that locates bytes that are not UTF-8. ``open_source`` is called
again for each extra pass (the stream is not seekable).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO

from domain.data.contract import DatasetContract
from domain.data.profile_checks import compare_with_previous
from domain.data.validation.checks import describer
from domain.data.validation.csv_reader import (
    BLOCK_SIZE,
    MAX_BLOCK_SIZE,
    ConversionFailedError,
    CsvOutcome,
    RowTooLongError,
    UnparsableError,
    scan_csv,
)
from domain.data.validation.encoding import locate_encoding_errors
from domain.data.validation.findings import Finding, ValueIssues
from domain.data.validation.messages import (
    binary,
    empty,
    gzip_failed,
    record_problem,
    row_too_long,
    snapshot_too_large,
    too_few_rows,
    too_large,
    too_large_expanded,
    unparsable,
)
from domain.data.validation.parquet_reader import scan_parquet
from domain.data.validation.profile import build_profile
from domain.data.validation.records import RecordProblem, find_record_problem
from domain.data.validation.report import ValidationResult, build_result
from domain.data.validation.scratch import SPOOL, ScratchFile
from domain.data.validation.snapshot import SnapshotWriter
from domain.data.validation.stream import (
    EncodingError,
    FileTooLargeError,
    GunzipReader,
    GzipError,
    HashingReader,
    PrefixedReader,
    Readable,
    Utf8CheckingReader,
    looks_binary,
    read_exactly,
    sniff,
    spool,
)

OpenSource = Callable[[], BinaryIO]
Scan = tuple[CsvOutcome | None, ValueIssues, SnapshotWriter | None]


class _Run:
    """State of one validation: the contract, the source and what has been found so far."""

    def __init__(self, open_source: OpenSource, contract: DatasetContract, sink: BinaryIO | None) -> None:
        self.open_source = open_source
        self.contract = contract
        self.sink = sink
        self.format = "unknown"
        self.raw: HashingReader | None = None
        self.findings: list[Finding] = []
        self.snapshot: SnapshotWriter | None = None

    def reopen(self) -> HashingReader:
        self.close()
        self.raw = HashingReader(self.open_source(), self.contract.limits.max_file_bytes)
        return self.raw

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()

    def end(self) -> None:
        """Close the upload, and give up a snapshot that was not finished (the sink is left empty)."""
        self.close()
        if self.snapshot is not None and not self.snapshot.finished:
            self.snapshot.discard()

    def _writer(self) -> SnapshotWriter | None:
        if self.sink is not None:
            self.snapshot = SnapshotWriter(self.contract, self.sink)
        return self.snapshot

    def _text(self, raw: Readable, gz: bool) -> Readable:
        return GunzipReader(raw, self.contract.limits.max_file_bytes) if gz else raw

    def locate(self, gz: bool, max_record_bytes: int = sys.maxsize) -> RecordProblem | None:
        """Read the file again to find where its records break (then hash the rest of it)."""
        raw = self.reopen()
        dialect = self.contract.csv
        try:
            problem = find_record_problem(
                self._text(raw, gz),
                quote_char=dialect.quote_char,
                delimiter=dialect.delimiter,
                max_record_bytes=max_record_bytes,
            )
        except GzipError as broken:  # the first pass stopped before the gzip data did: say that too
            self.findings.append(gzip_failed(broken))
            problem = None
        raw.drain()
        return problem

    # -- formats ---------------------------------------------------------------------------------
    def csv(self, raw: HashingReader, head: bytes, gz: bool) -> Scan:
        """Scan a CSV, starting over when a pass has to (diagnostic pass, larger blocks)."""
        self.format = "csv+gzip" if gz else "csv"
        as_text, block_size = False, BLOCK_SIZE
        while True:
            text = self._text(PrefixedReader(head, raw), gz)
            issues = ValueIssues()
            writer = None if as_text else self._writer()  # a diagnostic pass ends in a rejection
            try:
                sample = read_exactly(text, 8192)
                if looks_binary(sample):
                    self.findings.append(binary())
                    raw.drain()
                    return None, issues, writer
                checked = Utf8CheckingReader(PrefixedReader(sample, text))
                on_batch = writer.write if writer else None
                outcome = scan_csv(
                    checked, self.contract, issues, as_text=as_text, block_size=block_size, on_batch=on_batch
                )
                raw.drain()  # the header may have stopped the scan early: hash all of the upload anyway
                if outcome.odd_quotes:  # the reader reads an unclosed quote to the end: did it?
                    unclosed = self.locate(gz)
                    if unclosed is not None:
                        self.findings.append(record_problem(unclosed, MAX_BLOCK_SIZE))
                return outcome, issues, writer
            except ConversionFailedError:
                as_text = True  # say which rows: read the declared columns as text this time
            except RowTooLongError as stopped:
                if block_size >= MAX_BLOCK_SIZE:
                    found = self.locate(gz, MAX_BLOCK_SIZE)
                    return self._stop(
                        record_problem(found, MAX_BLOCK_SIZE)
                        if found
                        else row_too_long(MAX_BLOCK_SIZE, stopped.rows),
                        issues,
                        writer,
                    )
                block_size *= 8
            except UnparsableError as stopped:
                found = self.locate(gz, MAX_BLOCK_SIZE)
                fallback = unparsable(stopped.rows, self.contract.csv.delimiter)
                return self._stop(
                    record_problem(found, MAX_BLOCK_SIZE) if found else fallback, issues, writer
                )
            except EncodingError:
                raw = self.reopen()
                self.findings.append(locate_encoding_errors(self._text(raw, gz)))
                return None, issues, writer
            except GzipError as problem:
                return self._stop(gzip_failed(problem), issues, writer)
            if writer is not None:
                writer.discard()
            raw, head = self.reopen(), b""

    def _stop(self, finding: Finding, issues: ValueIssues, writer: SnapshotWriter | None) -> Scan:
        self.findings.append(finding)
        assert self.raw is not None
        self.raw.drain()
        return None, issues, writer

    def parquet(self, raw: HashingReader, head: bytes) -> Scan:
        """Spool a Parquet upload (hashing it on the way) and scan it."""
        self.format = "parquet"
        issues, writer = ValueIssues(), self._writer()
        with tempfile.TemporaryFile() as spooled:
            spool(PrefixedReader(head, raw), ScratchFile(spooled, SPOOL))
            spooled.seek(0)
            outcome = scan_parquet(spooled, self.contract, issues, on_batch=writer.write if writer else None)
        return outcome, issues, writer

    # -- verdict ---------------------------------------------------------------------------------
    def run(self, previous_profile: dict[str, Any] | None) -> ValidationResult:
        raw = self.reopen()
        head = read_exactly(raw, 4)
        if not head:
            self.findings.append(empty())
            return self.result((None, ValueIssues(), None), None)
        kind = sniff(head)
        scan = self.parquet(raw, head) if kind == "parquet" else self.csv(raw, head, gz=kind == "gzip")
        return self.result(scan, previous_profile)

    def result(self, scan: Scan, previous_profile: dict[str, Any] | None) -> ValidationResult:
        outcome, issues, writer = scan
        contract = self.contract
        findings = list(self.findings)
        profile, rows, header = None, 0, None
        if outcome is not None:
            findings += outcome.findings + issues.findings(describer(contract))
            header = outcome.header
            if outcome.processor is not None and outcome.parsed:
                rows = outcome.processor.rows
                profile = build_profile(rows, outcome.processor.profiles())
                if rows < contract.limits.min_rows:
                    findings.append(too_few_rows(rows, contract.limits.min_rows))
                if previous_profile is not None:
                    findings += compare_with_previous(previous_profile, profile, contract)
        if writer is not None:
            if writer.complete:
                writer.finish()  # before the verdict: the footer, too, must fit within the limit
            if writer.too_large:
                findings.append(snapshot_too_large(writer.limit))
        raw = self.raw
        result = build_result(
            contract,
            fmt=self.format,
            size_bytes=raw.bytes_read if raw else 0,
            sha256=raw.sha256 if raw is not None and raw.at_eof else None,
            rows=rows,
            header=header,
            findings=findings,
            profile=profile,
        )
        if writer is not None and not result.accepted:
            writer.discard()
        return result


def validate_dataset(
    open_source: OpenSource,
    contract: DatasetContract,
    *,
    size: int | None = None,
    previous_profile: dict[str, Any] | None = None,
    snapshot_sink: BinaryIO | None = None,
) -> ValidationResult:
    """Validate one uploaded file against its contract, in one streaming pass when the file is good.

    Parameters
    ----------
    open_source : callable
        Returns a fresh binary stream of the upload from its start (it need not be seekable; it is
        called again for diagnostic passes).
    contract : DatasetContract
        The dataset's contract.
    size : int, optional
        The upload's size if known (e.g. from S3): a file over the limit is rejected without reading.
    previous_profile : dict, optional
        The profile of the previous accepted version, for the statistical checks.
    snapshot_sink : BinaryIO, optional
        Receives the normalized data as zstd Parquet (contract column order and types, undeclared
        columns dropped) when, and only when, the file is accepted; it is written as the data is read,
        so it must be seekable and truncatable (it is emptied otherwise, and positioned at the end of
        the snapshot on acceptance).

    Returns
    -------
    ValidationResult
        The verdict, the report (every problem as a finding with examples) and the profile.

    Raises
    ------
    Exception
        What ``open_source()`` or its stream raise (an I/O failure says nothing about the data),
        :class:`~domain.data.validation.scratch.StorageFullError` when the function's ephemeral storage
        fills up, and an error of the validator itself (a bug). Every problem with the data is a
        finding: whatever the bytes, the result is a verdict.
    """
    limit = contract.limits.max_file_bytes
    if size is not None and size > limit:
        return build_result(
            contract,
            fmt="unknown",
            size_bytes=size,
            sha256=None,
            rows=0,
            header=None,
            findings=[too_large(limit, announced=size)],
            profile=None,
        )
    run = _Run(open_source, contract, snapshot_sink)
    try:
        return run.run(previous_profile)
    except FileTooLargeError as stopped:
        read = run.raw.bytes_read if run.raw is not None else stopped.bytes_read
        return build_result(
            contract,
            fmt=run.format,
            size_bytes=read,
            sha256=None,
            rows=0,
            header=None,
            findings=[
                too_large_expanded(limit, stopped_at=stopped.bytes_read)
                if stopped.expanded
                else too_large(limit, read=read)
            ],
            profile=None,
        )
    finally:
        run.end()
