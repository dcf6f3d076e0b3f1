"""Print the event catalog as Markdown (docs/webhooks.md embeds it between markers), or check that
the docs are current with --check."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webhooks import catalog

BEGIN, END = "<!-- catalog:begin -->", "<!-- catalog:end -->"
DOC = Path(settings.ROOT_DIR) / "docs" / "webhooks.md"


def catalog_markdown() -> str:
    lines = ["| type | version | published by | when |", "| --- | --- | --- | --- |"]
    for event_type in sorted(catalog.CATALOG.values(), key=lambda e: e.name):
        lines.append(f"| `{event_type.name}` | {event_type.version} | `{event_type.emitted_by}` | "
                     f"{event_type.description} |")
    for event_type in sorted(catalog.CATALOG.values(), key=lambda e: e.name):
        sample = {"id": "evt_0f8c1d2e3a4b5c6d7e8f9a0b1c2d3e4f", "type": event_type.name,
                  "version": event_type.version, "sequence": 1042, "timestamp": "2026-11-27T09:30:00.123456Z",
                  "data": event_type.sample}
        lines += ["", f"### `{event_type.name}`", "", event_type.description, "", "```json",
                  json.dumps(sample, ensure_ascii=False, indent=2), "```"]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Write the event catalog into docs/webhooks.md (or --check that it is current)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check: bool, **options):
        text = DOC.read_text()
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        updated = f"{head}{BEGIN}\n{catalog_markdown()}\n{END}{tail}"
        if check:
            if updated != text:
                raise CommandError("docs/webhooks.md is out of date: run manage.py webhook_catalog")
            return
        DOC.write_text(updated)
        self.stdout.write(f"wrote {DOC}")
