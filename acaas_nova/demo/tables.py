"""Plain-text output of the demo: progress lines and aligned tables."""

import sys
import time

from acaas_nova.demo import nodes as nodes_mod

WIDTH = 78
KEYS = (
    "nodes",
    "servers",
    "placed_ok",
    "untrusted_after_s",
    "moved",
    "left_on_bad",
)


class Screen:
    """Writes the demo's progress and tables to a stream."""

    def __init__(self, stream=None, total_steps: int = 7) -> None:
        self.stream = stream or sys.stdout
        self.total = total_steps
        self.step_no = 0
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def write(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def step(self, title: str) -> None:
        """A progress line opening the next phase."""
        self.step_no += 1
        self.write()
        line = "[%d/%d %5.1fs] %s " % (
            self.step_no,
            self.total,
            self.elapsed(),
            title,
        )
        self.write(line + "=" * max(3, WIDTH - len(line)))

    def note(self, text: str) -> None:
        self.write("  " + text)

    def command(self, argv, base=None) -> None:
        """An acaas-manage command line; files below ``base`` are shown
        relative to the demo's folder ($DEMO)."""
        text = " ".join(argv)
        if base is not None:
            text = text.replace(str(base), "$DEMO")
        self.write("  $ acaas-manage " + text)

    def table(self, headers, rows) -> None:
        rows = [["-" if c is None else str(c) for c in row] for row in rows]
        widths = [len(h) for h in headers]
        for row in rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))

        def line(cells):
            return "  " + "  ".join(
                c.ljust(w) for c, w in zip(cells, widths, strict=True)
            )

        self.write(line(headers).rstrip())
        self.write(line(["-" * w for w in widths]).rstrip())
        for row in rows:
            self.write(line(row).rstrip())


def public_url(url: str) -> str:
    """A transport URL without its credentials."""
    scheme, _sep, rest = url.partition("://")
    return "%s://%s" % (scheme, rest.rpartition("@")[2])


def location_label(domain: str) -> str:
    location, source = nodes_mod.DOMAINS[domain]
    return location if source == "local" else "%s, %s" % (location, source)


def result_line(result: dict, seconds: float) -> str:
    values = ["%s=%s" % (k, result.get(k, "-")) for k in KEYS]
    return "RESULT %s seconds=%.1f" % (" ".join(values), seconds)
