"""Text from input (names, labels, paths, values) as it may appear in an error line: the one helper
of arcsim's Python side (the recorder and plots/plot_results.py, which loads this file by path).

shown(s)     a value from input: control characters (C0, DEL, C1: ESC of an ANSI sequence, CR, LF),
             bidi controls and other invisible format characters written as \\xNN / \\uNNNN, and
             capped at 200 characters + "..." so that one bad value cannot flood or forge a line.
one_line(s)  a whole error message: the same escaping, a larger cap; what every error exit prints.

No imports beyond the standard library: plots/ and the recorder both use it."""
import unicodedata

LIMIT = 200
LINE_LIMIT = 4000


def _escape_char(c):
    o = ord(c)
    if c == "\\":
        return c
    if o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0:
        return f"\\x{o:02x}"
    cat = unicodedata.category(c)
    # Cf: format characters (bidi embeddings/overrides/isolates U+202A-202E, U+2066-2069, LRM/RLM,
    # zero-width joiners, BOM); Zl/Zp: line and paragraph separators; Cs/Co/Cn: surrogates
    # (undecodable bytes), private use, unassigned.
    if cat in ("Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
        return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"
    return c


def escape(text):
    """Every character that would not show as itself on a terminal, as \\xNN / \\uNNNN."""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable() and s.isascii():
        return s
    return "".join(_escape_char(c) for c in s)


def shown(text, limit=LIMIT):
    """A value from input, for an error line: escaped (escape()) and capped at `limit` characters
    of the input + "..." (the cap counts input characters, so an escape is never cut in half)."""
    s = text if isinstance(text, str) else str(text)
    if len(s) > limit:
        return escape(s[:limit]) + "..."
    return escape(s)


def quoted(text, limit=LIMIT):
    """shown() between single quotes: 'value'."""
    return f"'{shown(text, limit)}'"


def one_line(message, limit=LINE_LIMIT):
    """A whole error message: escaped and capped, so it is exactly one line on the terminal."""
    return shown(message, limit)
