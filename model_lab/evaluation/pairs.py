"""Verification pair lists: LFW's pairs.txt (folds) or a CSV image_a,image_b,same; errors name the line."""

import csv
from dataclasses import dataclass
from pathlib import Path


class PairsFormatError(ValueError):
    """A pairs file that cannot be read as LFW pairs.txt or as image_a,image_b,same CSV; says which line."""


@dataclass(frozen=True)
class Pair:
    """Two photos (paths relative to the data root), whether they show the same person, and the LFW fold."""

    image_a: str
    image_b: str
    same: bool
    fold: int | None  # None for CSV pairs (no published folds)


def lfw_image(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def _int(token: str, path: Path, lineno: int, line: str) -> int:
    try:
        value = int(token)
    except ValueError:
        raise PairsFormatError(f"{path}:{lineno}: {token!r} is not an image number in {line!r}") from None
    if value < 1:
        raise PairsFormatError(f"{path}:{lineno}: image number {value} must be >= 1 in {line!r}")
    return value


def parse_lfw_pairs(path: Path, lines: list[str], skipped: int = 0) -> list[Pair]:
    """LFW pairs.txt: `folds n` (or just `n`: one fold), then per fold n lines `name i j` (same person)
    followed by n lines `name1 i name2 j` (different people)."""
    head = lines[0].split()
    try:
        folds, per_fold = (1, int(head[0])) if len(head) == 1 else (int(head[0]), int(head[1]))
    except (ValueError, IndexError):
        raise PairsFormatError(f"{path}:{skipped + 1}: first line must be '<folds> <pairs per fold>' "
                               f"(e.g. '10 300'), got {lines[0]!r}") from None
    if len(head) > 2 or folds < 1 or per_fold < 1:
        raise PairsFormatError(f"{path}:{skipped + 1}: first line must be two positive numbers, "
                               f"got {lines[0]!r}")
    body = [(skipped + i + 2, line) for i, line in enumerate(lines[1:]) if line.strip()]
    if len(body) != folds * 2 * per_fold:
        raise PairsFormatError(f"{path}: header says {folds} folds x (2 x {per_fold}) = "
                               f"{folds * 2 * per_fold} pair lines, the file has {len(body)}")
    pairs = []
    for k, (lineno, line) in enumerate(body):
        fold, same = k // (2 * per_fold), (k % (2 * per_fold)) < per_fold
        tokens = line.split()
        if same and len(tokens) == 3:
            name, i, j = tokens
            pairs.append(Pair(lfw_image(name, str(_int(i, path, lineno, line))),
                              lfw_image(name, str(_int(j, path, lineno, line))), True, fold))
        elif not same and len(tokens) == 4:
            a, i, b, j = tokens
            pairs.append(Pair(lfw_image(a, str(_int(i, path, lineno, line))),
                              lfw_image(b, str(_int(j, path, lineno, line))), False, fold))
        else:
            kind = "same-person line 'name i j'" if same else "different-person line 'name1 i name2 j'"
            raise PairsFormatError(f"{path}:{lineno}: expected a {kind} (fold {fold + 1}), got {line!r}")
    return pairs


def parse_csv_pairs(path: Path, text: str, skipped: int = 0) -> list[Pair]:
    """CSV with a header naming image_a, image_b, same (1/0, true/false, yes/no)."""
    reader = csv.DictReader(text.splitlines())
    missing = {"image_a", "image_b", "same"} - set(reader.fieldnames or [])
    if missing:
        raise PairsFormatError(f"{path}:{skipped + 1}: CSV header needs image_a,image_b,same; "
                               f"missing {sorted(missing)}")
    truth = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False}
    pairs = []
    for row in reader:
        lineno = skipped + reader.line_num
        a, b, same = (row.get(k) for k in ("image_a", "image_b", "same"))
        if not a or not b or same is None:
            raise PairsFormatError(f"{path}:{lineno}: empty image_a, image_b or same in {row}")
        if same.strip().lower() not in truth:
            raise PairsFormatError(f"{path}:{lineno}: same must be 1/0 (or true/false), got {same!r}")
        pairs.append(Pair(a.strip(), b.strip(), truth[same.strip().lower()], None))
    if not pairs:
        raise PairsFormatError(f"{path}: no pairs after the header")
    return pairs


def read_pairs(path: Path | str) -> list[Pair]:
    """Pairs from an LFW pairs.txt or an image_a,image_b,same CSV (told apart by the first line)."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise PairsFormatError(f"{path}: cannot read pairs file: {e}") from e
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise PairsFormatError(f"{path}: empty pairs file")
    skipped = lines.index(first)  # blank lines before the header: error messages keep real line numbers
    lines = lines[skipped:]
    if "," in first:
        return parse_csv_pairs(path, "\n".join(lines), skipped)
    if first.split()[0].isdigit():
        return parse_lfw_pairs(path, lines, skipped)
    raise PairsFormatError(f"{path}:{skipped + 1}: neither LFW pairs.txt (first line '10 300') nor a CSV "
                           f"with header image_a,image_b,same; got {first!r}")
