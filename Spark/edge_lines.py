"""Authored input lines that are not plain JSONL, for the Spark check: each must come back from
`discern audit -` under Spark's pipe as the record (an error record or a decision) that one
single-machine audit writes for it. No corpus text; the messages are everyday sentences.

Not here on purpose: a line that is not valid UTF-8. Spark carries lines as Unicode text (Hadoop's
Text, then RDD.pipe encodes str as UTF-8), and Hadoop replaces invalid bytes with U+FFFD before the
line reaches discern, so such a line is decided where the single-machine audit writes
"invalid UTF-8 at byte N". The check reports it as a difference and names the cause (README,
"Batch audits on Spark").
"""

# Over `discern audit`'s --max-bytes default (100,000 bytes of text): an error record naming the limit.
OVER_SIZE_LIMIT = 120_000
# Over the longest line the audit holds (six times --max-bytes plus 4 KiB, room for escaped text):
# the line is counted as it streams past, never held, and becomes an error record.
OVER_LINE_LIMIT = 1_100_000


def edge_lines():
    """(name, bytes of one line without its line break), in file order."""
    return [
        ("plain", b'{"id": "edge-plain", "text": "see you at practice tomorrow"}'),
        ("carriage return between members (JSON whitespace)", b'{"id": "edge-cr-space",\r"text": "the bus was late again"}'),
        ("raw carriage return inside the text (a control character JSON forbids)", b'{"id": "edge-cr-text", "text": "first half\rsecond half"}'),
        ("escaped carriage return inside the text", b'{"id": "edge-cr-escaped", "text": "first half\\rsecond half"}'),
        ("line ending in CR LF", b'{"id": "edge-crlf", "text": "lunch at noon?"}\r'),
        ("carriage return alone", b"\r"),
        ("empty line", b""),
        ("not JSON", b"this line is not JSON"),
        ("a JSON array, not an object", b'["edge-array", "hello"]'),
        ("no text member", b'{"id": "edge-no-text", "body": "hello"}'),
        ("text not a string", b'{"id": "edge-text-number", "text": 42}'),
        ("numeric id", b'{"id": 1234, "text": "the game went to overtime"}'),
        ("no id", b'{"text": "a record without an id"}'),
        ("truncated object", b'{"id": "edge-truncated", "text": "cut off in the mid'),
        ("unicode line and paragraph separators", '{"id": "edge-separators", "text": "one\u2028two\u2029three"}'.encode()),
        ("emoji", '{"id": "edge-emoji", "text": "finally finished the essay \U0001F389"}'.encode()),
        ("text over the size limit", b'{"id": "edge-over-size", "text": "' + b"long day " * (OVER_SIZE_LIMIT // 9) + b'"}'),
        ("line over the line limit", b'{"id": "edge-over-line", "text": "' + b"x" * OVER_LINE_LIMIT + b'"}'),
        ("after the long lines", b'{"id": "edge-after", "text": "back to normal"}'),
    ]


def write_edge_file(path, copies):
    """Writes `copies` rounds of the edge lines (ids made unique per round), a UTF-8 byte order mark
    first and no line break after the last line, the two ends a file can differ at."""
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")
        lines = []
        for round_ in range(copies):
            for _, line in edge_lines():
                lines.append(line.replace(b'"edge-', f'"r{round_}-edge-'.encode()))
        f.write(b"\n".join(lines))
    return len(lines)
