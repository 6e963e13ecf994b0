#!/usr/bin/env python3
"""A batch audit under Apache Spark: every partition of a JSONL file runs through `discern audit -`
with RDD.pipe (JSONL on stdin and stdout, one record per line, in order), and with --check the
records are held against one single-machine `discern audit` of the same file.

    python Spark/audit_on_spark.py --discern .build/release/discern INPUT.jsonl [--partitions 2]
        [--master local[2]] [--home DIR] [--out FOLDER] [--check] [--edge-lines] [--audit-args="…"]

Lines are split on "\\n" alone, as `discern audit` splits them (Spark's textFile would also split
at a lone "\\r"), so each partition's process reads exactly its lines. Each process numbers its
records from 1; the records' "line" is put back to the line in the whole file (the partition's
first line minus one is added), after checking each process wrote one record per line of its
partition, in order. With the "line" restored the records are the single-machine audit's byte for
byte; --check proves it: the same count, each partition's ids in its input's order, and every
record equal after sorting by id, else exit 1 naming the first differing id and both records.

--out FOLDER writes the records as Spark text files (part-00000, … in order); without --out or
--check they go to standard output, in order. On a cluster, see README "Batch audits on Spark".
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time


# An audit record starts with its id and its line (DecisionJSON's order): {"id":"…"|null,"line":N,
HEAD = re.compile(r'^\{"id":(?:null|"(?:[^"\\]|\\.)*"),"line":(\d+),')
# Rounds of the edge lines in the --edge-lines file: enough that every partition holds some.
EDGE_ROUNDS = 4


class OutOfStep(Exception):
    """A partition's process wrote records that do not pair one to one, in order, with its lines."""


def spark_context(master):
    from pyspark import SparkConf, SparkContext

    # Python workers run this interpreter (the venv's), not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    conf = SparkConf().setAppName("discern-audit").set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
    if master or not conf.contains("spark.master"):
        conf.setMaster(master or "local[2]")
    if conf.get("spark.master", "").startswith("local"):
        # A local run talks to itself over loopback only (and looks no address up for its hostname).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
    context = SparkContext(conf=conf)
    context.setLogLevel("ERROR")
    return context


def read_lines(context, path, partitions):
    """The file's lines as an RDD of str, split on "\\n" only, in about `partitions` contiguous splits
    (a local file is cut by size; any other URI keeps Hadoop's block splits)."""
    conf = {"textinputformat.record.delimiter": "\n"}
    if "://" not in path:
        size = os.path.getsize(path)
        conf["mapreduce.input.fileinputformat.split.maxsize"] = str(max(1, -(-size // partitions)))
        path = "file://" + os.path.abspath(path)
    return context.newAPIHadoopFile(
        path, "org.apache.hadoop.mapreduce.lib.input.TextInputFormat",
        "org.apache.hadoop.io.LongWritable", "org.apache.hadoop.io.Text", conf=conf).values()


def renumbered(starts, counts):
    """A mapPartitionsWithIndex function: partition p's records with their line in the whole file,
    after checking its process wrote record k for its line k and one record per line."""
    def renumber(partition, records):
        written = 0
        for written, record in enumerate(records, 1):
            head = HEAD.match(record)
            if head is None:
                raise OutOfStep(f"partition {partition}: record {written} is not an audit record: {record[:200]!r}")
            if int(head.group(1)) != written:
                raise OutOfStep(f"partition {partition}: record {written} says line {head.group(1)}: out of step with its input")
            yield record[:head.start(1)] + str(starts[partition] + written) + record[head.end(1):]
        if written != counts[partition]:
            raise OutOfStep(f"partition {partition}: {written} records for {counts[partition]} input lines")
    return renumber


def worker_binary(context, discern):
    """`discern` as the pipe names it: a path that exists here made absolute; in local mode, a
    relative path into an archive shipped with --archives, found where Spark unpacked it (on a
    cluster it is unpacked in each executor's working directory, where the relative path resolves)."""
    if os.path.exists(discern):
        return os.path.abspath(discern)
    if context.master.startswith("local") and not os.path.isabs(discern):
        from pyspark import SparkFiles

        shipped = os.path.join(SparkFiles.getRootDirectory(), discern)
        if os.path.exists(shipped):
            return shipped
    return discern


def spark_audit(context, discern, path, partitions, audit_args, home):
    """The records RDD (cached) and each partition's line count."""
    lines = read_lines(context, path, partitions)
    counts = lines.mapPartitions(lambda part: [sum(1 for _ in part)]).collect()
    starts = [sum(counts[:p]) for p in range(len(counts))]
    # RDD.pipe starts the process with this environment alone (an empty one by default), so the
    # binary is named by its full path and DISCERN_HOME is passed on when there is one.
    command = shlex.join([worker_binary(context, discern), "audit", "-", *audit_args])
    records = lines.pipe(command, env={"DISCERN_HOME": home} if home else {}, checkCode=True)
    return records.mapPartitionsWithIndex(renumbered(starts, counts)).cache(), counts


def single_machine_audit(discern, path, audit_args, home):
    environment = dict(os.environ)
    environment.pop("DISCERN_HOME", None)
    if home:
        environment["DISCERN_HOME"] = home
    result = subprocess.run([discern, "audit", path, *audit_args], env=environment, capture_output=True)
    if result.returncode != 0:
        sys.exit(f"error: the single-machine audit of '{path}' exited {result.returncode}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode().split("\n")[:-1]


def record_id(record):
    return json.loads(record).get("id")


def shown(record, limit=2000):
    return record if len(record) <= limit else record[:limit] + f"… ({len(record) - limit} more characters)"


def both(ours, theirs):
    """The fields two records differ in, both records, and the cause when it is a known one."""
    a, b = json.loads(ours), json.loads(theirs)
    fields = ", ".join(key for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key))
    why = ""
    if str(b.get("error", "")).startswith("invalid UTF-8"):
        why = ("\n  why: the line is not valid UTF-8; Spark carries lines as Unicode text and Hadoop put "
               "U+FFFD in place of the bad bytes, so discern read a different line")
    return f"fields {fields} differ:\n  spark:          {shown(ours)}\n  single machine: {shown(theirs)}{why}"


def difference(parts, single, starts):
    """None when the Spark records equal the single-machine ones, else what differs first."""
    spark = [record for part in parts for record in part]
    if len(spark) != len(single):
        return f"the Spark audit wrote {len(spark)} records, the single-machine audit {len(single)}"
    for partition, part in enumerate(parts):
        # Each partition's ids in its input's order: the input's ids as the single-machine audit
        # read them (discern's own reading of each line, not a second parser here).
        theirs = single[starts[partition]:starts[partition] + len(part)]
        for k, (a, b) in enumerate(zip(part, theirs)):
            if record_id(a) != record_id(b):
                return (f"partition {partition}'s record {k + 1} (line {starts[partition] + k + 1}) has id {record_id(a)!r}, "
                        f"the single-machine record of that line {record_id(b)!r}; {both(a, b)}")
    by_id = lambda record: (record_id(record) is None, record_id(record) or "", json.loads(record)["line"])
    for ours, theirs in zip(sorted(spark, key=by_id), sorted(single, key=by_id)):
        if ours != theirs:
            return f"first differing id {record_id(ours)!r} (line {json.loads(theirs)['line']}), {both(ours, theirs)}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="*", help="JSONL files (a local path, or any URI Hadoop reads)")
    parser.add_argument("--discern", default=".build/release/discern", help="the discern binary, as each worker sees it")
    parser.add_argument("--home", default=os.environ.get("DISCERN_HOME"),
                        help="DISCERN_HOME for every discern process (default: $DISCERN_HOME; unset: the binary's install prefix or checkout)")
    parser.add_argument("--partitions", type=int, default=2, help="splits of a local file (about this many)")
    parser.add_argument("--master", help="Spark master (default: spark-submit's, else local[2])")
    parser.add_argument("--audit-args", default="", help="options for every `discern audit`, as one shell-quoted string")
    parser.add_argument("--out", help="write the records here as Spark text files (one input only)")
    parser.add_argument("--check", action="store_true", help="also run one single-machine audit and require equal records")
    parser.add_argument("--edge-lines", action="store_true", help="also audit the authored edge lines (Spark/edge_lines.py)")
    args = parser.parse_args()
    if args.partitions < 1:
        parser.error(f"--partitions must be 1 or more; got {args.partitions}")
    if args.out and len(args.inputs) + args.edge_lines != 1:
        parser.error("--out takes the records of one input; give one file without --edge-lines")
    audit_args = shlex.split(args.audit_args)

    with tempfile.TemporaryDirectory() as work:
        inputs = list(args.inputs)
        if args.edge_lines:
            # Imported here: on a cluster the script travels alone (spark-submit ships the main file).
            from edge_lines import write_edge_file

            inputs.append(os.path.join(work, "edge-lines.jsonl"))
            write_edge_file(inputs[-1], EDGE_ROUNDS)
        if not inputs:
            parser.error("give a JSONL file, or --edge-lines")
        started = time.perf_counter()
        context = spark_context(args.master)
        master = context.master
        print(f"Spark {context.version} on {master}: started in {time.perf_counter() - started:.1f} s", flush=True)
        failed = False
        try:
            for path in inputs:
                try:
                    failed |= not audit_one(context, path, args, audit_args)
                except Exception as error:
                    # Py4J wraps the worker's Python error in pages of JVM frames: show its own line.
                    lines = [line.strip() for line in str(error).splitlines()]
                    cause = next((line for line in lines if re.match(r"^[\w.]*(Error|OutOfStep)\b.*:", line)), lines[0] if lines else "")
                    print(f"error: the Spark audit of {display_name(path, args)} failed: {cause}", file=sys.stderr)
                    failed = True
        finally:
            context.stop()
    sys.exit(1 if failed else 0)


def display_name(path, args):
    return "the edge lines" if path.endswith("edge-lines.jsonl") and args.edge_lines else os.path.basename(path)


def audit_one(context, path, args, audit_args):
    name = display_name(path, args)
    started = time.perf_counter()
    records, counts = spark_audit(context, args.discern, path, args.partitions, audit_args, args.home)
    if args.out:
        records.saveAsTextFile(args.out)
    if args.check:
        parts = records.glom().collect()
    elif not args.out:
        for record in records.toLocalIterator():
            print(record)
    seconds = time.perf_counter() - started
    total = sum(counts)
    sizes = ", ".join(str(count) for count in counts)
    print(f"{name}: {total} records in {len(counts)} partitions ({sizes}), {seconds:.1f} s on Spark", flush=True)
    if not args.check:
        return True
    started = time.perf_counter()
    single = single_machine_audit(args.discern, path, audit_args, args.home)
    print(f"{name}: {len(single)} records, {time.perf_counter() - started:.1f} s in one single-machine audit", flush=True)
    starts = [sum(counts[:p]) for p in range(len(counts))]
    different = difference(parts, single, starts)
    if different:
        print(f"error: {name}: the Spark records differ from the single-machine audit's: {different}", file=sys.stderr)
        return False
    errors = sum(1 for record in single if '"error":' in record and "error" in json.loads(record))
    print(f"{name}: equal: {total} records byte for byte after sorting by id ({errors} error records), "
          f"each partition's ids in its input's order", flush=True)
    return True


if __name__ == "__main__":
    main()
