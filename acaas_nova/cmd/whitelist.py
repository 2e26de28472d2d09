"""``acaas-manage whitelist``: import, inspect and generate white-lists.

The document format and its strict validation belong to
:mod:`acaas_nova.attestation.whitelist`.  A document's ``version`` is a
string (e.g. ``2026.11``); the newest version of a name is the one imported
last.
"""

import json

from acaas_nova import exception
from acaas_nova.attestation import whitelist as wl_format
from acaas_nova.cmd import base
from acaas_nova.db import whitelists as whitelists_db

_COLUMNS = [
    ("Name", "name"),
    ("Version", "version"),
    ("Description", "description"),
    ("Digest", "short_digest"),
    ("Imported", "created_at"),
]
_FIELDS = [
    ("Name", "name"),
    ("Version", "version"),
    ("Description", "description"),
    ("Files", "files"),
    ("Excludes", "excludes"),
    ("Boot aggregates", "boot_aggregates"),
    ("Boot configurations", "boot_configs"),
    ("Digest", "digest"),
    ("Imported", "created_at"),
]


#: Largest IMA log and PCR file ``whitelist generate`` reads (bytes); a
#: white-list file is capped at the document limit of its format.
MAX_IMA_LOG = 256 << 20
MAX_PCR_FILE = 1 << 20


def _view(record) -> dict:
    return {
        "name": record.name,
        "version": record.version,
        "description": record.description,
        "digest": record.digest,
        "short_digest": record.digest[:12],
        "created_at": record.created_at,
    }


def _pcr_values(path: str) -> dict:
    """{bank: {pcr: bytes}} from a JSON file {bank: {"0": hex, ...}}."""
    try:
        document = json.loads(base.read_file(path, "PCR file", MAX_PCR_FILE))
        return {
            bank: {int(i): bytes.fromhex(v) for i, v in pcrs.items()}
            for bank, pcrs in document.items()
        }
    except (ValueError, TypeError, AttributeError) as exc:
        raise exception.Invalid(
            reason="PCR file %s must be JSON {bank: {index: hex}}: %s"
            % (path, exc)
        ) from None


class WhitelistCommands(base.Commands):
    """White-lists: named, versioned sets of known-good measurements."""

    help = "white-lists (import, list, show, delete, generate)"

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(
            actions, cls, "import_", "import a white-list file", name="import"
        )
        p.add_argument("file", metavar="FILE")
        base.action(actions, cls, "list", "list every stored version")
        for method, text in (
            ("show", "show a white-list (default: newest version)"),
            ("delete", "delete one version (default: every version)"),
        ):
            p = base.action(actions, cls, method, text)
            p.add_argument("name", metavar="NAME")
            p.add_argument("--version", help="the document's version")
        p = base.action(
            actions,
            cls,
            "generate",
            "build a white-list from a known-good platform's IMA log and "
            "PCR values",
            needs=base.NEEDS_NOTHING,
        )
        p.add_argument("--name", required=True)
        p.add_argument("--version", required=True)
        p.add_argument("--description", default="")
        p.add_argument(
            "--log",
            required=True,
            metavar="IMA_LOG_FILE",
            help="ASCII IMA measurement list",
        )
        p.add_argument(
            "--pcrs",
            required=True,
            metavar="PCR_JSON_FILE",
            help='JSON {"sha256": {"0": "<hex>", ..., "10": "<hex>"}}',
        )
        p.add_argument(
            "--exclude", action="append", default=[], metavar="PATTERN"
        )
        p.add_argument("-o", "--output", metavar="OUT")

    def import_(self, args) -> None:
        parsed = wl_format.load(
            base.read_file(
                args.file, "white-list file", wl_format.MAX_DOCUMENT
            )
        )
        record = whitelists_db.whitelist_create(
            self.context,
            parsed.name,
            parsed.version,
            wl_format.dump(parsed),
            description=parsed.description or None,
        )
        self.out.done(
            "Imported white-list %s version %s"
            % (parsed.name, parsed.version),
            _view(record),
        )

    def list(self, args) -> None:
        self.out.rows(
            _COLUMNS,
            [_view(r) for r in whitelists_db.whitelist_list(self.context)],
        )

    def show(self, args) -> None:
        record = whitelists_db.whitelist_get(
            self.context, args.name, args.version
        )
        document = json.loads(record.content)
        view = _view(record)
        view.update(
            files=len(document.get("digests", {})),
            excludes=document.get("excludes", []),
            boot_aggregates=len(document.get("boot_aggregates", [])),
            boot_configs=len(document.get("boot_configs", [])),
        )
        if self.out.fmt == "json":
            view["document"] = document
        self.out.show(_FIELDS, view)

    def delete(self, args) -> None:
        whitelists_db.whitelist_delete(self.context, args.name, args.version)
        label = args.name
        if args.version is not None:
            label += " version %s" % args.version
        self.out.done(
            "Deleted white-list %s" % label,
            {"deleted": args.name, "version": args.version},
        )

    def generate(self, args) -> None:
        log = base.read_file(args.log, "IMA log", MAX_IMA_LOG)
        pcrs = _pcr_values(args.pcrs)
        try:
            generated = wl_format.generate(
                args.name,
                args.version,
                log,
                pcrs,
                description=args.description,
                excludes=args.exclude,
            )
        except exception.AttestationError as exc:
            # Evidence that does not verify is the caller's bad input here.
            raise exception.Invalid(reason=str(exc)) from exc
        text = wl_format.dump(generated)
        if args.output is None:
            return self.out.text(text)
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError as exc:
            raise exception.Invalid(
                reason="cannot write %s: %s" % (args.output, exc.strerror)
            ) from None
        self.out.done(
            "Wrote white-list %s version %s to %s"
            % (generated.name, generated.version, args.output),
            {
                "name": generated.name,
                "version": generated.version,
                "output": args.output,
            },
        )
