"""Where X and Mastodon may link a URL in a text: one linear-time scan.

The rules are those of the pattern that `render` used before (kept as `LINK_PATTERN` so a
test can hold the scan to it): a URL as twitter-text would link it, in a strict ASCII subset
of what it accepts, not preceded by letters, digits, ``@ $ #`` or directional marks:
``[scheme] label. ... label. tld [:port] [/path]``; any other run starting with a scheme is
"loose". As a backtracking regular expression that costs quadratic time on runs such as
``a.a.a.a…`` (every ``a`` starts a host whose labels reach the end of the run): 9 s for a
5,000-character body to X. The scan below finds the same links in one pass: it remembers,
for every label start, where the best host from there ends, so no run is walked twice.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import regex as _regex_untyped  # type: ignore[import-untyped,unused-ignore]

_rx: Any = _regex_untyped

#: The pattern the scan implements (linear only in the scan; quadratic as a regex).
LINK_PATTERN = (
    r"(?<![A-Za-z0-9@＠$#＃\u202a-\u202e])(?:"
    r"(?P<scheme>https?://)?"
    r"(?P<host>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24}))"
    r"(?![A-Za-z0-9-])"
    r"(?::[0-9]{1,5})?"
    r"(?:[/?#](?:[A-Za-z0-9\-._~/?#=&%+]*[A-Za-z0-9=_#/-])?)?"
    r"|(?P<loose>https?://\S+))"
)

# [A-Za-z] matched case-insensitively also takes these four (İ ı ſ and the Kelvin sign).
_LETTERS = frozenset(string.ascii_letters + "\u0130\u0131\u017f\u212a")
_ALNUM = _LETTERS | frozenset(string.digits)
_LABEL = _ALNUM | {"-"}
_PATH_END = _ALNUM | frozenset("=_#/-")
_MAX_LABEL, _MIN_TLD, _MAX_TLD, _MAX_PORT = 63, 2, 24, 5

_STARTS = _rx.compile(r"(?<![A-Za-z0-9@＠$#＃\u202a-\u202e])[A-Za-z0-9]", _rx.IGNORECASE)
_LABEL_RUNS = _rx.compile(r"[A-Za-z0-9-]+", _rx.IGNORECASE)
_LETTER_RUNS = _rx.compile(r"[A-Za-z]+", _rx.IGNORECASE)
_PATH_RUNS = _rx.compile(r"[A-Za-z0-9\-._~/?#=&%+]+", _rx.IGNORECASE)
_SCHEME = _rx.compile(r"https?://", _rx.IGNORECASE)
_NON_SPACE_RUN = _rx.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Link:
    """A run the platform may link: text[start:end]."""

    start: int
    end: int
    scheme: bool
    #: The top-level domain; empty for a loose run (a scheme followed by no valid host).
    tld: str

    @property
    def loose(self) -> bool:
        return not self.tld


def _run_ends(text: str, pattern: Any) -> list[int]:
    """ends[i]: where the run of `pattern` characters that holds position i ends (i when
    text[i] is not one)."""
    ends = list(range(len(text) + 1))
    for match in pattern.finditer(text):
        ends[match.start() : match.end()] = [match.end()] * (match.end() - match.start())
    return ends


class _Scan:
    def __init__(self, text: str) -> None:
        self.text = text
        self.label_end = _run_ends(text, _LABEL_RUNS)
        self.letter_end = _run_ends(text, _LETTER_RUNS)
        self.path_end = _run_ends(text, _PATH_RUNS)
        self._tld_from: dict[int, int | None] = {}

    def _next_label(self, at: int) -> int | None:
        """Where the label after the one starting at `at` starts (None: no label here)."""
        text, end = self.text, self.label_end[at]
        if (
            at < end < len(text)
            and text[end] == "."
            and end - at <= _MAX_LABEL
            and text[at] in _ALNUM
            and text[end - 1] in _ALNUM
        ):
            return end + 1
        return None

    def _tld_here(self, at: int) -> bool:
        end = self.letter_end[at]
        return _MIN_TLD <= end - at <= _MAX_TLD and (
            end == len(self.text) or self.text[end] not in _LABEL
        )

    def host_tld(self, start: int) -> int | None:
        """Where the top-level domain of the longest host starting at `start` begins."""
        first = self._next_label(start)
        if first is None:
            return None
        chain = []
        at: int | None = first
        while at is not None and at not in self._tld_from:
            chain.append(at)
            at = self._next_label(at) if at < len(self.text) else None
        best = self._tld_from.get(at) if at is not None else None
        for position in reversed(chain):  # the most labels that still end in a TLD win
            if best is None and self._tld_here(position):
                best = position
            self._tld_from[position] = best
        return best

    def tail_end(self, host_end: int) -> int:
        """The end of the optional port and path after a host."""
        text, end = self.text, host_end
        if end + 1 < len(text) and text[end] == ":" and text[end + 1] in string.digits:
            end += 1
            while end < len(text) and end - host_end <= _MAX_PORT and text[end] in string.digits:
                end += 1
        if end < len(text) and text[end] in "/?#":
            end += 1
            last = self.path_end[end]
            while last > end and text[last - 1] not in _PATH_END:
                last -= 1
            end = last
        return end

    def link_at(self, start: int) -> Link | None:
        scheme = _SCHEME.match(self.text, start)
        host = scheme.end() if scheme else start
        tld = self.host_tld(host)
        if tld is not None:
            tld_end = self.letter_end[tld]
            return Link(start, self.tail_end(tld_end), bool(scheme), self.text[tld:tld_end])
        if scheme is None:
            return None
        rest = _NON_SPACE_RUN.match(self.text, host)
        if rest is None:
            return None
        end = rest.end()
        return Link(start, end, True, "")


def find_links(text: str) -> Iterator[Link]:
    """Every run of `text` that the platform may link, left to right, none overlapping."""
    scan = _Scan(text)
    end = 0
    for start in _STARTS.finditer(text):
        if start.start() < end:
            continue
        link = scan.link_at(start.start())
        if link is not None:
            yield link
            end = link.end
