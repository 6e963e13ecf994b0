"""Fine-tunes a teacher encoder on the corpus and distils a 3-layer student from it.

    python Training/train.py --corpus ../shared/data/corpus --base .models/all-MiniLM-L6-v2 \
        --teacher-out .models/teacher --student-out Models/default/encoder

Teacher: every transformer layer of the base model, one sigmoid head per label on the mean-pooled,
L2-normalised output, masked loss for null labels, weak labels down-weighted; the epoch with the best
dev AUROC (annotated dev rows, mean over labels) is kept. Student: layers 1, 3, 5 of the teacher,
trained on the teacher's logits and pooled embeddings and on the true labels over the training
texts. Both keep the base model's embeddings frozen, so each export holds only transformer layers
and heads.
"""
import argparse
import glob
import gzip
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Annotations", "tools"))
import bert  # noqa: E402
from heldout import held_out_rows  # noqa: E402

LABELS = ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]


def log(message):
    print(message, flush=True)


def read_rows(path):
    with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_corpus(folder, weak_weight, held_out=frozenset(), max_rows=0, seed=17, annotated_weight=1.0, splits=None, whole=()):
    """Per split: texts, label matrix (NaN = null), weight matrix, and the annotated set's spans where a
    row has them (None elsewhere). Rows with no label at all (the keyword tweets' "ambiguous" class, for
    one) go to "<split>-unlabeled": only distillation reads them. Rows in `held_out` (the corpus rows
    behind the annotated test split, and those the annotated set relabels) are never read. With
    `max_rows`, each file but those in `whole` keeps at most that many train and dev rows (seeded): the
    large weak sets are subsampled so that training fits a CPU. Rows from the annotated set (they carry a `category`)
    weigh `annotated_weight`."""
    splits = {} if splits is None else splits
    paths = sorted(glob.glob(os.path.join(folder, "*.jsonl")) + glob.glob(os.path.join(folder, "*.jsonl.gz")))
    for path in paths:
        source = os.path.basename(path).removesuffix(".gz")
        # An annotated-set row (id "<corpus row>@<start>-<end>") counts as the corpus row it was cut from.
        rows = [r for r in read_rows(path) if r["id"] not in held_out and r["id"].split("@")[0] not in held_out]
        if max_rows and source not in whole:
            kept = []
            for split in ("train", "dev"):
                part = [r for r in rows if r["split"] == split]
                if len(part) > max_rows:
                    part = random.Random(f"{seed}:{source}:{split}").sample(part, max_rows)
                kept += part
            rows = kept
        for row in rows:
            labels = [row["labels"].get(name) for name in LABELS]
            split = row["split"] if any(v is not None for v in labels) else row["split"] + "-unlabeled"
            y = [math.nan if v is None else float(v) for v in labels]
            full = annotated_weight if "category" in row else 1.0
            w = [0.0 if v is None else (weak_weight if name in row.get("weak", []) else full)
                 for name, v in zip(LABELS, labels)]
            # Selection uses annotated rows only; weak ones are easy negatives from other sources.
            annotated = [v is not None and name not in row.get("weak", []) for name, v in zip(LABELS, labels)]
            part = splits.setdefault(split, {"text": [], "y": [], "w": [], "annotated": [], "source": [], "spans": []})
            part["text"].append(row["text"])
            part["y"].append(y)
            part["w"].append(w)
            part["annotated"].append(annotated)
            part["source"].append(source)
            part["spans"].append(row.get("spans") if "category" in row else None)
    return splits


def finish(splits):
    for part in splits.values():
        for key in ("y", "w", "annotated"):
            part[key] = np.array(part[key])
    return splits


def annotated_rows(folder):
    """The corpus row ids the annotated set relabels (any split): their own labels are superseded."""
    ids = set()
    for path in glob.glob(os.path.join(folder, "annotated_*.jsonl")):
        ids |= {r["corpus_row"] for r in read_rows(path) if "corpus_row" in r}
    return ids


def gloss(texts, discern, lexicon):
    """Each text as Discern's encoder reads it (emoji meanings appended), from Discern itself."""
    payload = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts).encode("utf-8")
    out = subprocess.run([discern, "gloss", "--lexicon", lexicon], input=payload, capture_output=True, check=True).stdout
    glossed = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert len(glossed) == len(texts), (len(glossed), len(texts))
    return glossed


def token_tags(encoding, text_length, spans):
    """BIO class per word piece (bert.TOKEN_TAGS) from the annotated spans (Unicode-scalar offsets,
    which are Python's string offsets); -100 (ignored) for special tokens, tokens of the appended
    emoji gloss, and every token of a row without span annotation."""
    tags = np.full(len(encoding.ids), -100, dtype=np.int64)
    if spans is None:
        return tags
    previous = None
    for i, (start, end) in enumerate(encoding.offsets):
        if end <= start or start >= text_length:
            continue
        tag = 0
        for span in spans:
            if start < span["end"] and end > span["start"]:
                kind = span["type"]
                begin = previous is None or previous != (kind, span["start"])
                tag = bert.TOKEN_TAGS.index(("B-" if begin else "I-") + kind)
                previous = (kind, span["start"])
                break
        else:
            previous = None
        tags[i] = tag
    return tags


def tokenize_part(tokenizer, part, max_length):
    """ids and BIO tags for a split's (glossed) texts; the tags cover the message's own tokens only."""
    tokenizer.enable_truncation(max_length)
    tokenizer.no_padding()
    encodings = tokenizer.encode_batch(part["input"])
    part["ids"] = [np.array(e.ids, dtype=np.int64) for e in encodings]
    part["tags"] = [token_tags(e, len(text), spans) for e, text, spans in zip(encodings, part["text"], part["spans"])]
    part["lengths"] = [len(x) for x in part["ids"]]


def batches(lengths, batch_size, rng, shuffle):
    """Index batches of similar length (less padding): shuffled, then sorted within pools of 50 batches."""
    order = list(range(len(lengths)))
    if shuffle:
        rng.shuffle(order)
    pool = batch_size * 50
    out = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: lengths[i])
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    if shuffle:
        rng.shuffle(out)
    return out


def collate(ids, index, device):
    longest = max(len(ids[i]) for i in index)
    batch = np.zeros((len(index), longest), dtype=np.int64)
    mask = np.zeros((len(index), longest), dtype=bool)
    for row, i in enumerate(index):
        batch[row, :len(ids[i])] = ids[i]
        mask[row, :len(ids[i])] = True
    return torch.from_numpy(batch).to(device), torch.from_numpy(mask).to(device)


def collate_tags(tags, index, width, device):
    batch = np.full((len(index), width), -100, dtype=np.int64)
    for row, i in enumerate(index):
        batch[row, :len(tags[i])] = tags[i]
    return torch.from_numpy(batch).to(device)


def span_loss(model, tags, index, width, device, class_weight=1.0):
    """Cross-entropy of the span tagger over the tokens that carry a BIO tag (annotated rows only).
    Span tokens are a small minority of the tagged tokens; `class_weight` makes each B/I token count
    that many O tokens, so that the tagger does not learn to say O everywhere."""
    target = collate_tags(tags, index, width, device)
    if not (target >= 0).any():
        return torch.zeros((), device=device)
    logits = model.token_logits()
    weight = torch.full((logits.shape[-1],), float(class_weight), device=device)
    weight[bert.TOKEN_TAGS.index("O")] = 1.0
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), weight=weight, ignore_index=-100)


@torch.no_grad()
def predict(model, ids, device, batch_size=128, tags=None):
    """Label logits and pooled embeddings; with `tags`, also the tagger's token-level F1 per span type
    on the tagged tokens (a token counts as the type when its tag is B- or I- of it)."""
    model.eval()
    logits, pooled = np.zeros((len(ids), len(model.labels)), np.float32), np.zeros((len(ids), model.config["hidden_size"]), np.float32)
    counts = {kind: [0, 0, 0] for kind in ("casual_mention", "serious_intent")}  # true positive, predicted, gold
    for index in batches([len(x) for x in ids], batch_size, None, shuffle=False):
        x, m = collate(ids, index, device)
        out, pool = model(x, m)
        logits[index] = out.float().cpu().numpy()
        pooled[index] = pool.float().cpu().numpy()
        if tags is not None:
            gold = collate_tags(tags, index, x.shape[1], device)
            guess = model.token_logits().argmax(-1)
            keep = gold >= 0
            for kind in counts:
                ids_of = [bert.TOKEN_TAGS.index("B-" + kind), bert.TOKEN_TAGS.index("I-" + kind)]
                g = keep & ((gold == ids_of[0]) | (gold == ids_of[1]))
                p = keep & ((guess == ids_of[0]) | (guess == ids_of[1]))
                counts[kind][0] += int((g & p).sum())
                counts[kind][1] += int(p.sum())
                counts[kind][2] += int(g.sum())
    if tags is None:
        return logits, pooled
    f1 = {kind: round(2 * tp / max(1, pr + go), 4) for kind, (tp, pr, go) in counts.items()}
    return logits, pooled, f1


def auroc(scores, truth):
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    positives = truth == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    if n_pos == 0 or n_neg == 0:
        return math.nan
    return (ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def dev_report(logits, part):
    """Per label AUROC on annotated dev rows (weak rows where a label has no annotated ones)."""
    report = {}
    for k, name in enumerate(LABELS):
        has = ~np.isnan(part["y"][:, k])
        rows = has & part["annotated"][:, k]
        if len(set(part["y"][rows, k])) < 2:
            rows = has
        if len(set(part["y"][rows, k])) < 2:
            continue
        report[name] = round(float(auroc(logits[rows, k], part["y"][rows, k])), 4)
    return report


def masked_bce(logits, y, w, pos_weight):
    target = torch.nan_to_num(y, nan=0.0)
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none", pos_weight=pos_weight)
    return (loss * w).sum() / w.sum().clamp(min=1e-6)


def schedule(optimizer, total, warmup):
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))))


def fit(model, train, dev, args, device, rng, loss_fn, epochs, name):
    """AdamW with warm-up and linear decay; keeps the epoch with the best mean dev AUROC."""
    layer_params = [p for p in model.layers.parameters()]
    optimizer = torch.optim.AdamW(
        [{"params": layer_params, "lr": args.lr},
         {"params": list(model.heads.parameters()) + list(model.tokens.parameters()), "lr": args.head_lr}],
        weight_decay=0.01)
    steps_per_epoch = len(batches(train["lengths"], args.batch_size, random.Random(0), True))
    scheduler = schedule(optimizer, steps_per_epoch * epochs, max(1, steps_per_epoch // 10))
    best = (-1.0, None, None)
    for epoch in range(epochs):
        model.train()
        started, seen, total_loss = time.time(), 0, 0.0
        plan = batches(train["lengths"], args.batch_size, rng, shuffle=True)
        for step, index in enumerate(plan):
            x, m = collate(train["ids"], index, device)
            logits, pooled = model(x, m)
            loss = loss_fn(logits, pooled, index, x, m)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            seen += len(index)
            total_loss += loss.item()
            if step % 200 == 0 or step + 1 == len(plan):
                rate = seen / max(time.time() - started, 1e-6)
                log(f"  {name} epoch {epoch + 1}/{epochs} step {step + 1}/{len(plan)}  loss {total_loss / (step + 1):.4f}  {rate:.0f} rows/s")
        logits, _, spans = predict(model, dev["ids"], device, tags=dev["tags"])
        report = dev_report(logits, dev)
        score = float(np.mean(list(report.values())))
        log(f"  {name} epoch {epoch + 1}: dev AUROC {report} (mean {score:.4f}); span tokens F1 {spans}")
        report = {**report, "span_token_f1": spans}
        if score > best[0]:
            best = (score, {k: v.detach().clone() for k, v in model.state_dict().items()}, report)
    model.load_state_dict(best[1])
    return best[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--annotations", default=os.path.join("Annotations", "real.jsonl"),
                        help="stand-off file whose test split's corpus rows are left out of training and selection")
    parser.add_argument("--annotated", default=os.path.join("Annotations", "build"),
                        help="the joined annotated set (make annotations): its train rows are learned from, its dev rows select")
    parser.add_argument("--annotated-weight", type=float, default=2.0, help="how much an annotated-set row counts next to a corpus row")
    parser.add_argument("--span-loss", type=float, default=1.0, help="weight of the span tagger's loss (BIO over word pieces)")
    parser.add_argument("--span-class-weight", type=float, default=3.0,
                        help="how much a span token (B-/I-) counts next to an O token in the tagger's loss")
    parser.add_argument("--focus-epochs", type=int, default=1,
                        help="teacher epochs after the first stage in which annotated-set rows weigh --focus-weight")
    parser.add_argument("--focus-weight", type=float, default=5.0,
                        help="an annotated-set row's weight in the focus stage and in the student's label loss")
    parser.add_argument("--max-corpus-rows", type=int, default=1500,
                        help="train and dev rows kept per corpus file (seeded sample; 0 keeps all): the large weak sets are subsampled")
    parser.add_argument("--whole", default="suicidal_keyword_tweets.jsonl",
                        help="corpus files kept whole, comma-separated (the headline self-harm set is not subsampled)")
    parser.add_argument("--discern", default=os.path.join(".build", "release", "discern"),
                        help="the discern binary whose `gloss` builds the encoder's input (emoji meanings appended)")
    parser.add_argument("--lexicon", default=os.path.join("Lexicons", "cesm.yaml"))
    parser.add_argument("--no-gloss", action="store_true", help="train on the bare texts (the emoji-gloss ablation)")
    parser.add_argument("--base", required=True, help="the base encoder folder (config.json, model.safetensors, tokenizer.json)")
    parser.add_argument("--base-name", default="all-MiniLM-L6-v2")
    parser.add_argument("--base-fingerprint", help="the base model's Discern fingerprint, when --base is a copy "
                        "(e.g. widened from F16 for a GPU machine); computed from --base otherwise")
    parser.add_argument("--teacher-out", required=True)
    parser.add_argument("--student-out", required=True)
    parser.add_argument("--student-layers", default="1,3,5")
    parser.add_argument("--teacher-epochs", type=int, default=2)
    parser.add_argument("--student-epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head-lr", type=float, default=2e-3)
    parser.add_argument("--weak-weight", type=float, default=0.1)
    parser.add_argument("--embedding-loss", type=float, default=1.0, help="weight of the student's pooled-embedding loss")
    parser.add_argument("--label-loss", type=float, default=1.0, help="weight of the student's loss on the true labels")
    parser.add_argument("--hidden-loss", type=float, default=0.0,
                        help="weight of the loss between each student layer's output and its teacher layer's")
    parser.add_argument("--distil-unlabeled", action="store_true",
                        help="also distil over training texts with no label (the teacher's logits are their only target)")
    parser.add_argument("--teacher-in", help="load a teacher written earlier (its folder) instead of training its "
                        "first stage; the focus stage (--focus-epochs) still runs on it")
    parser.add_argument("--teacher-only", action="store_true", help="stop after the teacher (ablations compare teachers' dev figures)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per message; Discern's encoder uses 128")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N rows only (a smoke test)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rng = random.Random(args.seed)
    started = time.time()

    if not glob.glob(os.path.join(args.corpus, "*.jsonl")) + glob.glob(os.path.join(args.corpus, "*.jsonl.gz")):
        sys.exit(f"train.py: no corpus files (*.jsonl, *.jsonl.gz) in {args.corpus}; pass the corpus folder, e.g. --corpus ../shared/data/corpus")
    held_out = held_out_rows(args.annotations)
    relabelled = annotated_rows(args.annotated) if os.path.isdir(args.annotated) else set()
    log(f"leaving out {len(held_out)} corpus rows behind the annotated test split and {len(relabelled - held_out)} more "
        f"the annotated set relabels")
    splits = read_corpus(args.corpus, args.weak_weight, held_out | relabelled, args.max_corpus_rows, args.seed,
                         whole=set(filter(None, args.whole.split(","))))
    if relabelled:
        splits = read_corpus(args.annotated, args.weak_weight, held_out, annotated_weight=args.annotated_weight, splits=splits)
    splits = finish(splits)
    train, dev = splits["train"], splits["dev"]  # test is never read here
    if args.limit:
        def sample(part):
            pick = sorted(random.Random(args.seed).sample(range(len(part["text"])), min(args.limit, len(part["text"]))))
            return {k: ([v[i] for i in pick] if isinstance(v, list) else v[pick]) for k, v in part.items()}
        train, dev = sample(train), sample(dev)
    tokenizer = Tokenizer.from_file(os.path.join(args.base, "tokenizer.json"))
    for part in (train, dev):
        part["input"] = part["text"] if args.no_gloss else gloss(part["text"], args.discern, args.lexicon)
        tokenize_part(tokenizer, part, args.max_length)
    log(f"encoder input: {'bare texts' if args.no_gloss else 'texts with emoji glosses (discern gloss)'}; "
        f"span-tagged train rows: {sum(sp is not None for sp in train['spans'])}")
    log(f"corpus: {len(train['text'])} train rows, {len(dev['text'])} dev rows; device {device}, "
        f"{torch.get_num_threads()} threads, seed {args.seed}")

    config, state = bert.load_base(args.base)
    fingerprint = args.base_fingerprint or bert.base_fingerprint(args.base)
    embeddings = {k: v for k, v in state.items() if k.startswith("embeddings.")}
    trained_labels = [label for label, weight in zip(LABELS, train["w"].sum(0)) if weight > 0]
    log(f"labels with training rows: {trained_labels}")
    y = torch.from_numpy(train["y"]).float().to(device)

    def weighted(matrix):
        # Each label's positives weigh as much as its negatives (by weighted count), as Discern's heads do.
        positives = (np.nan_to_num(train["y"]) * matrix).sum(0)
        negatives = ((1 - np.nan_to_num(train["y"], nan=1.0)) * matrix).sum(0)
        balance = np.where(positives > 0, negatives / np.maximum(positives, 1e-6), 1.0)
        return torch.from_numpy(matrix).float().to(device), torch.tensor(balance, dtype=torch.float32, device=device)

    w, pos_weight = weighted(train["w"])
    log(f"positive weights per label: {dict(zip(LABELS, np.round(pos_weight.cpu().numpy(), 3).tolist()))}")
    # The focus stage: the guide's distinctions (casual, negated, past, recovered) live in the annotated
    # rows; the keyword-labelled corpus outnumbers them and teaches "a harm word means harm".
    from_annotated = np.array([source.startswith("annotated_") for source in train["source"]])
    focus_w, focus_pos_weight = weighted(np.where(from_annotated[:, None], train["w"] * (args.focus_weight / args.annotated_weight), train["w"]))

    # What both exported configs record of how they were trained.
    recipe = {"gloss": "none" if args.no_gloss else f"discern gloss --lexicon {args.lexicon}",
              "annotated_weight": args.annotated_weight, "span_loss": args.span_loss,
              "span_class_weight": args.span_class_weight, "focus_epochs": args.focus_epochs, "focus_weight": args.focus_weight,
              "max_corpus_rows": args.max_corpus_rows, "whole": args.whole, "train_rows": len(train["text"])}

    # Teacher: every layer of the base model.
    teacher = bert.Encoder(config, embeddings, config["num_hidden_layers"], LABELS).to(device)
    if args.teacher_in:
        with open(f"{args.teacher_in}/config.json") as f:
            teacher_dev = json.load(f)["dev_auroc"]
        weights = {k: v.float().to(device) for k, v in load_file(f"{args.teacher_in}/model.safetensors").items()}
        teacher.load_layers(weights, range(config["num_hidden_layers"]))
        rows = [LABELS.index(label) for label in trained_labels]
        teacher.heads.weight.data[rows] = weights["heads.weight"]
        teacher.heads.bias.data[rows] = weights["heads.bias"]
        if "tokens.weight" in weights:
            teacher.tokens.weight.data.copy_(weights["tokens.weight"])
            teacher.tokens.bias.data.copy_(weights["tokens.bias"])
        log(f"teacher: loaded from {args.teacher_in} (dev AUROC {teacher_dev})")
    else:
        teacher.load_layers(state, range(config["num_hidden_layers"]))
        log(f"teacher: {config['num_hidden_layers']} layers, {args.teacher_epochs} epochs")
        teacher_dev = fit(
            teacher, train, dev, args, device, rng,
            lambda logits, pooled, index, x, m: masked_bce(logits, y[index], w[index], pos_weight)
            + args.span_loss * span_loss(teacher, train["tags"], index, x.shape[1], device, args.span_class_weight),
            args.teacher_epochs, "teacher")
    if args.focus_epochs:
        log(f"teacher focus stage: {args.focus_epochs} epoch(s), annotated-set rows weigh {args.focus_weight}")
        teacher_dev = fit(
            teacher, train, dev, args, device, random.Random(args.seed + 2),
            lambda logits, pooled, index, x, m: masked_bce(logits, y[index], focus_w[index], focus_pos_weight)
            + args.span_loss * span_loss(teacher, train["tags"], index, x.shape[1], device, args.span_class_weight),
            args.focus_epochs, "teacher focus")
    if args.focus_epochs or not args.teacher_in:
        bert.export(teacher, args.teacher_out, fingerprint, args.base_name, trained_labels, {
            "role": "teacher", "layers_from_base": list(range(config["num_hidden_layers"])), "seed": args.seed,
            "dev_auroc": teacher_dev, "epochs": args.teacher_epochs, **recipe})
        log(f"wrote {args.teacher_out}/model.safetensors and config.json")

    if args.teacher_only:
        log(f"teacher only: done in {(time.time() - started) / 60:.1f} min")
        return

    # The student's texts: the training rows, and with --distil-unlabeled the unlabeled training texts
    # too (ambiguous tweets sit at the decision boundary, where matching the teacher matters most).
    distil = {"ids": train["ids"], "lengths": train["lengths"], "tags": train["tags"]}
    unlabeled = splits.get("train-unlabeled")
    if args.distil_unlabeled and unlabeled and not args.limit:
        unlabeled["input"] = unlabeled["text"] if args.no_gloss else gloss(unlabeled["text"], args.discern, args.lexicon)
        unlabeled["spans"] = [None] * len(unlabeled["text"])
        tokenize_part(tokenizer, unlabeled, args.max_length)
        distil = {"ids": train["ids"] + unlabeled["ids"], "lengths": train["lengths"] + unlabeled["lengths"],
                  "tags": train["tags"] + unlabeled["tags"]}
        log(f"distilling over {len(train['ids'])} training rows and {len(unlabeled['ids'])} unlabeled training texts")
    # The student's label loss weighs rows as the teacher's last stage did.
    label_w, label_pos_weight = (focus_w, focus_pos_weight) if args.focus_epochs else (w, pos_weight)
    y_distil = torch.cat([y, torch.full((len(distil["ids"]) - len(train["ids"]), y.shape[1]), math.nan, device=device)])
    w_distil = torch.cat([label_w, torch.zeros((len(distil["ids"]) - len(train["ids"]), w.shape[1]), device=device)])

    # The teacher's targets over the student's texts, computed once (no dropout).
    target_logits, target_pooled = (torch.from_numpy(a).to(device) for a in predict(teacher, distil["ids"], device))

    chosen = [int(i) for i in args.student_layers.split(",")]
    student = bert.Encoder(config, embeddings, len(chosen), LABELS).to(device)
    student.load_layers(teacher.layer_tensors(torch.float32), chosen)
    student.heads.load_state_dict(teacher.heads.state_dict())
    student.tokens.load_state_dict(teacher.tokens.state_dict())
    if args.hidden_loss:
        teacher.eval()
    else:
        del teacher
    log(f"student: teacher layers {chosen}, {args.student_epochs} epochs on the teacher's logits and embeddings")

    def hidden_loss(x, m):
        # Each student layer's tokens against the teacher layer it was initialised from.
        with torch.no_grad():
            teacher.pooled(x, m)
            targets = [teacher.hidden[i] for i in chosen]
        keep = m.unsqueeze(-1).to(targets[0].dtype)
        total = sum(((s - t) ** 2 * keep).sum() for s, t in zip(student.hidden, targets))
        return total / (keep.sum() * targets[0].shape[-1] * len(targets))

    # Logits for every label the teacher learned (a label with no training rows gives no signal).
    trained = w.sum(0) > 0

    def distillation(logits, pooled, index, x, m):
        logit_loss = F.mse_loss(logits[:, trained], target_logits[index][:, trained])
        embedding_loss = (1 - (pooled * target_pooled[index]).sum(-1)).mean()
        label_loss = masked_bce(logits, y_distil[index], w_distil[index], label_pos_weight) if args.label_loss else 0.0
        extra = args.hidden_loss * hidden_loss(x, m) if args.hidden_loss else 0.0
        spans = args.span_loss * span_loss(student, distil["tags"], index, x.shape[1], device, args.span_class_weight)
        return logit_loss + args.embedding_loss * embedding_loss + args.label_loss * label_loss + extra + spans

    # Its own random stream, so a student distilled from a loaded teacher (--teacher-in) is the one the
    # whole pipeline would give.
    student_dev = fit(student, distil, dev, args, device, random.Random(args.seed + 1), distillation, args.student_epochs, "student")
    bert.export(student, args.student_out, fingerprint, args.base_name, trained_labels, {
        "role": "student", "layers_from_teacher": chosen, "seed": args.seed, "dev_auroc": student_dev,
        "teacher_dev_auroc": teacher_dev, "epochs": args.student_epochs, "label_loss": args.label_loss,
        "embedding_loss": args.embedding_loss, "hidden_loss": args.hidden_loss,
        "distilled_rows": len(distil["ids"]), **recipe})
    size = os.path.getsize(os.path.join(args.student_out, "model.safetensors"))
    log(f"wrote {args.student_out}/model.safetensors ({size / 1e6:.1f} MB) and config.json")
    log(f"done in {(time.time() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
