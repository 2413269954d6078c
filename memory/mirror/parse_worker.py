"""Child process of a large ingest: parses lines into prepared rows beside the SQLite writer.
A process, not a thread: a busy parse thread holds the GIL, and the writer, which gives it up
for every row SQLite indexes, then waits for it row after row (a convoy), so the two barely
overlapped. Protocol: pickles on stdout, ("rows", batch, lines so far) per batch, then
("end", lines, good, filtered, bad counts, bad locations, (CPU s, peak RSS MB)) or
("error", one line)."""

from __future__ import annotations

import gc
import json
import os
import pickle
import resource
import sys
import traceback
from pathlib import Path

from memory.mirror.ingest import Filters, IngestReport, parse_batches


def main(argv: list[str]) -> int:
    options = json.loads(argv[0])
    paths = [Path(p) for p in argv[1:]]
    out = os.fdopen(os.dup(1), "wb", buffering=1 << 20)
    os.dup2(2, 1)  # a stray print goes to stderr, never into the pickle stream
    gc.disable()  # only acyclic rows are built here
    report = IngestReport()
    filters = Filters(categories=tuple(options["categories"]), since=options["since"])
    try:
        for batch in parse_batches(paths, filters, report, options["batch"]):
            pickle.dump(("rows", batch, report.lines), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        use = resource.getrusage(resource.RUSAGE_SELF)
        usage = (use.ru_utime + use.ru_stime, use.ru_maxrss / 1024)
        end = ("end", report.lines, report.good, report.filtered, dict(report.bad))
        pickle.dump((*end, report.bad_locations, usage), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
    except BrokenPipeError:  # the writer stopped first; it reports why
        return 1
    except Exception as exc:
        traceback.print_exc()
        pickle.dump(("error", f"{type(exc).__name__}: {exc}"), out)
        out.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
