"""What an alert may say, as SNS takes it: a subject and a message that any dataset or file name fits in.

SNS refuses a ``Subject`` of 100 characters or more, or one with a line break or a control character,
and a ``Message`` over 256 KiB (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). Names
come from uploads (any UTF-8 key S3 accepts, up to 1,024 bytes), so every alert goes through these
functions: a subject is printable ASCII (email clients show it as it is), shortened in the middle so that
both ends of a long file name stay readable; a message is cut at a character boundary with a note.
"""

from __future__ import annotations

import unicodedata

__all__ = ["MAX_MESSAGE_BYTES", "MAX_SUBJECT", "alert_message", "alert_subject", "subject_problem"]

MAX_SUBJECT = 99  # "less than 100 characters long"
MAX_MESSAGE_BYTES = 256 * 1024  # a topic's default MaximumMessageSize
_GAP = "..."
_CUT_NOTE = "\n[cut: the alert was longer than SNS takes]"


def _ascii(text: str) -> str:
    """``text`` as printable ASCII: accents dropped, runs of whitespace one space, the rest ``?``."""
    decomposed = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        shown = " " if char.isspace() or not char.isprintable() else char if " " <= char <= "~" else "?"
        if shown == " " and (not out or out[-1] == " "):
            continue
        out.append(shown)
    return "".join(out).strip()


def _middle_cut(text: str, room: int) -> str:
    """``text`` in at most ``room`` characters: its start and end, ``...`` between."""
    if len(text) <= room:
        return text
    if room <= len(_GAP):
        return text[:room]
    tail = (room - len(_GAP)) // 2
    return text[: room - len(_GAP) - tail] + _GAP + text[len(text) - tail :]


def alert_subject(lead: str, name: str | None = None) -> str:
    """An SNS subject: ``lead`` (and ``: name``), printable ASCII, fewer than 100 characters.

    Parameters
    ----------
    lead : str
        What happened ("Dataset upload rejected"); kept whole when it fits.
    name : str, optional
        What it happened to (a dataset, a file name); shortened in the middle to fit.

    Returns
    -------
    str
        A subject SNS accepts, whatever ``lead`` and ``name`` hold ("Alert" if nothing printable is left).
    """
    head = _ascii(lead)
    if name is not None and (tail := _ascii(name)):
        room = MAX_SUBJECT - len(head) - 2
        if room > len(_GAP):
            return f"{head}: {_middle_cut(tail, room)}" if head else _middle_cut(tail, MAX_SUBJECT)
        head = f"{head}: {tail}"
    return _middle_cut(head, MAX_SUBJECT) or "Alert"


def subject_problem(subject: str) -> str | None:
    """Why SNS (or the platform's readers) would not take ``subject`` as it is, or None.

    Parameters
    ----------
    subject : str

    Returns
    -------
    str or None
        The problem in words, for a check at synth or in a test.
    """
    if not subject:
        return "it is empty"
    if len(subject) > MAX_SUBJECT:
        return f"it has {len(subject)} characters (SNS takes fewer than 100)"
    odd = sorted({char for char in subject if not " " <= char <= "~"})
    if odd:
        return f"it holds characters other than printable ASCII: {', '.join(map(repr, odd))}"
    return None


def alert_message(text: str) -> str:
    """``text`` within SNS's message size (256 KiB of UTF-8), cut at a character boundary with a note."""
    encoded = text.encode()
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return text
    room = MAX_MESSAGE_BYTES - len(_CUT_NOTE.encode())
    return encoded[:room].decode(errors="ignore") + _CUT_NOTE
