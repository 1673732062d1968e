"""EventBridge's input transformer: an ``InputTemplate`` filled from the ``InputPathsMap`` of an event.

moto pastes every value into the template as raw text, so ``{"who": <name>}`` with a string value
becomes invalid JSON. EventBridge inserts a value as JSON where the placeholder stands for a JSON
value (``"Ada"``, with quotes), and as text where it sits inside a string literal (``"hi <name>"``
becomes ``"hi Ada"``). This module does the same, with EventBridge's predefined variables
(``<aws.events.rule-arn>``, ``<aws.events.rule-name>``, ``<aws.events.event.ingestion-time>``,
``<aws.events.event>`` and ``<aws.events.event.json>``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonpath_ng.ext.parser import parse as parse_jsonpath

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def transform(
    transformer: dict[str, Any], event: dict[str, Any], *, rule_arn: str, ingestion_time: str
) -> Any:
    """The input a target with ``transformer`` receives for ``event``.

    Returns
    -------
    Any
        The filled template parsed as JSON, or the filled text when it is not JSON (as EventBridge
        then delivers a plain string).
    """
    values = {name: _first(path, event) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_arn.rsplit("/", 1)[-1],
            "aws.events.event.ingestion-time": ingestion_time,
            "aws.events.event": event,
            "aws.events.event.json": event,
        }
    )
    text = fill(transformer.get("InputTemplate", ""), values)
    try:
        return json.loads(text)
    except ValueError:
        return text


def fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with each known ``<name>`` replaced, JSON-encoded or as text by context."""
    out: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in values:
            continue
        out.append(template[position : match.start()])
        value = values[name]
        if _inside_string(template, match.start()):
            text = value if isinstance(value, str) else json.dumps(value)
            out.append(json.dumps(text)[1:-1])  # escaped for its place inside a JSON string
        else:
            out.append(json.dumps(value))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _first(path: str, event: dict[str, Any]) -> Any:
    matches = parse_jsonpath(path).find(event)
    return matches[0].value if matches else None


def _inside_string(template: str, index: int) -> bool:
    inside = escaped = False
    for character in template[:index]:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == '"':
            inside = not inside
    return inside
