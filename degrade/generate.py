"""``degrade generate``: offline degraded datasets (GT/LQ pairs, parameter records, meta files).

::

    degrade generate --input HR_DIR_OR_META --output OUT --preset realesrgan_x4plus --seed 0 \\
        [--crop 256 --variants 4] [--workers 2 --batch-size 8 --device cuda] [--shard 0/4]

Layout of ``OUT``::

    gt/<stem>_v<k>.<ext>        ground truth: a crop (or the modcropped image), RGB 8-bit
    lq/<stem>_v<k>.<ext>        its degraded version, same file name
    params.jsonl                one record per pair (degrade.records.make_records), in plan order
    meta_info_basicsr.txt       BasicSR PairedImageDataset meta_info_file (dataroot_gt: OUT/gt,
                                dataroot_lq: OUT/lq)
    meta_info_realesrgan.txt    Real-ESRGAN RealESRGANPairedDataset meta_info (dataroot_gt and
                                dataroot_lq: OUT)
    pipeline.yaml               the resolved pipeline spec (load_pipeline(OUT/pipeline.yaml)
                                rebuilds the same recipe, same spec_hash)
    settings.json               everything that determines the outputs; a rerun must match it
    parts/shard-K-of-N.jsonl    journal: records of the pairs each shard has finished (and
                                failure lines of the pairs that failed)
    .merge.lock                 lock file of the final merge (shards sharing OUT)

**Plan.** Inputs are listed (a folder recursively, or a meta file; see :mod:`degrade.dataset_io`)
and each image gets ``--variants`` pairs. Pair ``(relpath, k)`` has the key
``derive_seed(0, relpath, k)``, so adding or removing an image never changes another image's
output; its crop corner is drawn from ``(seed, key, "crop")`` and its degradation from
``(seed, key, op path)``. Images smaller than ``--crop`` are first padded at the bottom and right
with reflect-101, as Real-ESRGAN's dataset does (the record's ``pad`` says by how much). Without
``--crop`` the whole image is used, modcropped (bottom/right) to a multiple of the scale. Gray
images are replicated to RGB and 16-bit images rounded to 8 bits, so the stored GT is exactly the
image that was degraded.

**USM.** When the preset's ``gt_usm`` is true, the LQ is made from ``usm_sharp(GT)`` rounded to
8 bits, whatever GT is stored (``--gt-usm`` stores that sharpened image; ``--no-gt-usm`` the plain
crop): replaying a record is ``pipeline.apply(round8(usm_sharp(gt)))``, or ``pipeline.apply(gt)``
when the stored GT is already sharpened (the record's ``gt_usm``), bit for bit with PNG output.

**Processes.** Worker processes (``--workers N``, spawned; 0 = none) read, pad and crop images
and encode and write the files; the main process degrades each batch on ``--device``. Every
draw depends on the pair's key alone and the pipeline's batched output equals its per-sample
output, so the files do not depend on ``--workers`` or ``--batch-size``. Whole images of
different sizes in one batch are degraded in groups of equal size.

**Resume.** A pair is finished when its record is in a journal (written after both of its
images were renamed into place) and both files exist. Files are written to a fixed temporary
name and renamed; a rerun of the same command after an interruption (even ``kill -9``) deletes
leftover temporary files of unfinished pairs, ignores a partial last journal line, redoes only
the unfinished pairs and ends with the same files as an uninterrupted run. Workers notice the
death of the main process within half a second and exit. ``params.jsonl`` and
the meta files are rewritten at the end of every run from all journals. A rerun with different
settings into the same ``OUT`` is an error.

**Shards.** ``--shard K/N`` (or ``RANK``/``WORLD_SIZE`` from the environment, as set by
``torchrun``, when ``--shard`` is absent) makes this run produce only the pairs whose key is ``K``
modulo ``N``. Shards share one ``OUT`` (on a shared filesystem): each keeps its own journal, and
each, when it ends, merges all journals into ``params.jsonl`` and the meta files under a file
lock, so the last shard to end leaves the same files as an unsharded run. With ``--device cuda``
and ``LOCAL_RANK`` set, shard ranks use ``cuda:<LOCAL_RANK>``.

**Failures.** An unreadable, unsupported, duplicated or too small input is reported on one line
with the reason; the others go on, a summary line counts the failures and the exit status is 1.

Testing hook: with ``DEGRADE_GENERATE_KILL_AFTER=K`` in the environment the process sends itself
SIGKILL after journaling K pairs (used by the resume tests).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import yaml
from tqdm import tqdm

from degrade.dataset_io import (
    BASICSR_META,
    REALESRGAN_META,
    Source,
    crop_origin,
    encode_image,
    list_sources,
    meta_lines,
    pad_to,
    temp_path,
    write_atomic,
)
from degrade.devices import device_argument
from degrade.functional.sharpen import usm_sharp
from degrade.io import ImageReadError, read_image, to_uint8_array
from degrade.presets import Pipeline, SpecError, load_pipeline
from degrade.records import make_records, read_jsonl
from degrade.seeding import derive_seed

FORMATS = {"png": ".png", "webp": ".webp", "jpg": ".jpg"}
SETTINGS_VERSION = 1
KILL_ENV = "DEGRADE_GENERATE_KILL_AFTER"


class GenerateError(ValueError):
    """The run cannot start (bad option, settings mismatch); the message is one line."""


@dataclass(frozen=True)
class GenerateSummary:
    """What one :func:`generate_dataset` run did.

    Attributes:
        output: the output folder.
        shard: ``(K, N)``.
        planned: pairs of this shard (including those that failed).
        generated: pairs written by this run.
        skipped: pairs already finished by an earlier run.
        failures: one ``"<relpath>: <reason>"`` line per failed input of this shard.
        complete: whether ``params.jsonl`` and the meta files now cover every planned pair of
            every shard that could be made.
        seconds: wall time of the run.
    """

    output: Path
    shard: tuple[int, int]
    planned: int
    generated: int
    skipped: int
    failures: tuple[str, ...]
    complete: bool
    seconds: float

    @property
    def failed(self) -> int:
        """Number of failed inputs."""
        return len(self.failures)


@dataclass(frozen=True)
class _Pair:
    index: int  # position in the full plan
    source: Source
    variant: int
    key: int

    @property
    def name(self) -> str:
        return f"{self.source.stem}_v{self.variant}"


@dataclass(frozen=True)
class _LoadJob:
    path: str
    key: int
    seed: int
    crop: int
    scale: int


@dataclass(frozen=True)
class _SaveJob:
    gt: np.ndarray
    lq: np.ndarray
    gt_path: str
    lq_path: str
    suffix: str
    flags: tuple[int, ...]


@dataclass
class _Loaded:
    pair: _Pair
    image: np.ndarray  # (h, w, 3) uint8 RGB: the GT before sharpening
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- #
# Worker functions (module level: pickled by name into spawned workers)
# --------------------------------------------------------------------------------------------- #


def _init_worker(parent: int) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    """End this worker soon after the main process dies (e.g. ``kill -9``): the pool's queues
    would otherwise keep it waiting forever."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _load(job: _LoadJob) -> tuple[np.ndarray | None, dict[str, Any], str | None]:
    """Read, convert to 8-bit RGB, then pad and crop (or modcrop) one image."""
    try:
        array = to_uint8_array(read_image(job.path))
    except (ImageReadError, ValueError) as exc:
        message = str(exc)
        prefix = f"{job.path}: "
        return None, {}, message[len(prefix) :] if message.startswith(prefix) else message
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    h, w = array.shape[:2]
    info: dict[str, Any] = {"source_size": [h, w]}
    if job.crop:
        array, pad = pad_to(array, job.crop)
        top, left = crop_origin(job.seed, job.key, array.shape[:2], job.crop)
        array = array[top : top + job.crop, left : left + job.crop]
        info.update(crop=[top, left], pad=list(pad))
    else:
        hh, ww = h - h % job.scale, w - w % job.scale
        if hh == 0 or ww == 0:
            return None, {}, f"image of {w}x{h} is smaller than the scale {job.scale}"
        array = array[:hh, :ww]
        info.update(crop=None, pad=[0, 0])
    return np.ascontiguousarray(array), info, None


def _save(job: _SaveJob) -> None:
    """Encode and write the LQ, then the GT (each atomically)."""
    flags = list(job.flags)
    write_atomic(Path(job.lq_path), encode_image(job.lq, job.suffix, flags))
    write_atomic(Path(job.gt_path), encode_image(job.gt, job.suffix, flags))


class _Inline:
    """A stand-in executor that runs each call at once in this process (``--workers 0``)."""

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(arg))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


# --------------------------------------------------------------------------------------------- #
# Settings, plan and merge
# --------------------------------------------------------------------------------------------- #


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"K/N"`` into ``(K, N)`` with ``0 <= K < N``.

    Example:
        >>> parse_shard("1/4")
        (1, 4)
    """
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise GenerateError(f"--shard must look like K/N (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= k < n:
        raise GenerateError(f"--shard {text}: need 0 <= K < N")
    return k, n


def _env_shard() -> tuple[int, int]:
    world = os.environ.get("WORLD_SIZE")
    rank = os.environ.get("RANK")
    if world is None or rank is None:
        return 0, 1
    return parse_shard(f"{rank}/{world}")


def _shard_of(key: int, count: int) -> int:
    return key % count


def _read_journals(out: Path) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """Records of finished pairs by key, and the keys of pairs whose last attempt failed."""
    records: dict[int, dict[str, Any]] = {}
    failed: set[int] = set()
    folder = out / "parts"
    if not folder.is_dir():
        return records, failed
    for journal in sorted(folder.glob("shard-*.jsonl")):
        for record in read_jsonl(journal):
            if record.get("failed"):
                failed.add(int(record["key"]))
            else:
                records.setdefault(int(record["key"]), record)
    return records, failed


def _repair_journal(journal: Path) -> None:
    """Cut a partial last line (an append interrupted by a kill) off this shard's journal."""
    if not journal.is_file():
        return
    data = journal.read_bytes()
    if data and not data.endswith(b"\n"):
        with journal.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def _append_journal(journal: Path, records: Sequence[dict[str, Any]]) -> None:
    if not records:
        return
    journal.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    with journal.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no concurrent shards on one folder
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _finished(record: dict[str, Any] | None, pair: _Pair, out: Path, suffix: str) -> bool:
    if record is None:
        return False
    names = (f"gt/{pair.name}{suffix}", f"lq/{pair.name}{suffix}")
    return (record.get("gt"), record.get("lq")) == names and all((out / n).is_file() for n in names)


def _merge(out: Path, plan: Sequence[_Pair], suffix: str) -> bool:
    """Write params.jsonl and the meta files from every journal.

    Returns:
        True when every planned pair is either finished or failed in its last attempt.
    """
    with _locked(out / ".merge.lock"):
        records, failed = _read_journals(out)
        done = [records[p.key] for p in plan if _finished(records.get(p.key), p, out, suffix)]
        failed_count = sum(1 for p in plan if p.key in failed and p.key not in records)
        params_text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in done)
        write_atomic(out / "params.jsonl", params_text.encode())
        basicsr, realesrgan = meta_lines(
            (r["gt"][len("gt/") :], (r["gt_size"][0], r["gt_size"][1])) for r in done
        )
        write_atomic(out / BASICSR_META, basicsr.encode())
        write_atomic(out / REALESRGAN_META, realesrgan.encode())
    return len(done) + failed_count == len(plan)


def _check_settings(out: Path, settings: dict[str, Any]) -> None:
    path = out / "settings.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise GenerateError(f"{path}: unreadable ({exc})") from None
        if stored != settings:
            keys = sorted(
                k for k in set(stored) | set(settings) if stored.get(k) != settings.get(k)
            )
            diffs = ", ".join(f"{k}: {stored.get(k)!r} -> {settings.get(k)!r}" for k in keys)
            raise GenerateError(
                f"{out} was generated with different settings ({diffs}); "
                "rerun with the same options or choose another --output"
            )
        return
    write_atomic(path, (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode())


# --------------------------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------------------------- #


def _round8(x: torch.Tensor) -> torch.Tensor:
    return torch.round(x.clamp(0, 1) * 255.0) / 255.0


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(
        torch.round(x.clamp(0, 1) * 255.0).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    )


class _Runner:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        seed: int,
        device: torch.device,
        store_usm: bool,
        suffix: str,
    ) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.device = device
        self.store_usm = store_usm
        self.suffix = suffix

    def degrade(
        self, items: list[_Loaded]
    ) -> tuple[
        list[tuple[_Loaded, np.ndarray, np.ndarray, dict[str, Any]]], list[tuple[_Pair, str]]
    ]:
        """Degrade loaded items in groups of equal size; a failing group is retried one by one."""
        groups: dict[tuple[int, ...], list[_Loaded]] = {}
        for item in items:
            groups.setdefault(item.image.shape, []).append(item)
        done: list[tuple[_Loaded, np.ndarray, np.ndarray, dict[str, Any]]] = []
        failed: list[tuple[_Pair, str]] = []
        for group in groups.values():
            try:
                done += self._degrade_group(group)
            except Exception as exc:
                if len(group) == 1:
                    failed.append((group[0].pair, f"degradation failed ({exc})"))
                    continue
                for item in group:
                    try:
                        done += self._degrade_group([item])
                    except Exception as exc_one:
                        failed.append((item.pair, f"degradation failed ({exc_one})"))
        return done, failed

    @torch.no_grad()
    def _degrade_group(
        self, group: list[_Loaded]
    ) -> list[tuple[_Loaded, np.ndarray, np.ndarray, dict[str, Any]]]:
        keys = torch.tensor([g.pair.key for g in group], dtype=torch.int64, device=self.device)
        stacked = torch.from_numpy(np.stack([g.image for g in group])).to(self.device)
        hr = stacked.permute(0, 3, 1, 2).float() / 255.0
        source = _round8(usm_sharp(hr)) if self.pipeline.gt_usm else hr
        params = self.pipeline.sample(keys, seed=self.seed, device=self.device)
        lq = _to_uint8(self.pipeline.apply(source, params))
        gt = _to_uint8(source) if self.store_usm else np.stack([g.image for g in group])
        extra = []
        for g in group:
            extra.append(
                {
                    "source": g.pair.source.relpath,
                    "variant": g.pair.variant,
                    **g.info,
                    "gt_size": list(g.image.shape[:2]),
                    "gt": f"gt/{g.pair.name}{self.suffix}",
                    "lq": f"lq/{g.pair.name}{self.suffix}",
                    "gt_usm": self.store_usm,
                    "lq_from_usm": self.pipeline.gt_usm,
                }
            )
        records = make_records(self.pipeline, params, keys=keys, seed=self.seed, extra=extra)
        return [(g, gt[i], lq[i], records[i]) for i, g in enumerate(group)]


def generate_dataset(
    input_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    preset: str | os.PathLike[str] = "realesrgan_x4plus",
    seed: int = 0,
    scale: int | None = None,
    crop: int = 0,
    variants: int = 1,
    input_root: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 8,
    workers: int = 0,
    shard: tuple[int, int] | None = None,
    image_format: str = "png",
    quality: int = 95,
    gt_usm: bool | None = None,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> GenerateSummary:
    """Generate (or resume) a degraded GT/LQ dataset in ``output``.

    Args:
        input_path: a folder of HR images (walked recursively) or a meta file.
        output: the output folder (see the module docstring for its layout).
        preset: a preset name or a pipeline YAML file.
        seed: the base seed of every draw.
        scale: must equal the preset's scale when given.
        crop: GT crop size (a multiple of the scale); 0 for whole modcropped images.
        variants: pairs per image, each with its own key (and crop and degradation).
        input_root: the folder a meta file's paths are relative to (default: its folder).
        device: where the degradation runs.
        batch_size: pairs degraded together.
        workers: worker processes for reading, cropping and encoding (0: none).
        shard: ``(K, N)``: make only the pairs whose key is K modulo N (default: ``RANK`` /
            ``WORLD_SIZE`` from the environment, else ``(0, 1)``).
        image_format: ``png``, ``webp`` or ``jpg`` for both GT and LQ.
        quality: quality of lossy formats (1..100; WebP above 100 is lossless).
        gt_usm: whether the stored GT is USM-sharpened (default: the preset's ``gt_usm``).
        progress: show a tqdm bar (rate and ETA) on stderr.
        report: receives one line per failed input (default: printed to stderr).

    Returns:
        A :class:`GenerateSummary`.

    Raises:
        GenerateError: a bad option, an unusable input path, or an ``output`` made with other
            settings (one-line message).
    """
    start = time.perf_counter()
    out = Path(output)
    if image_format not in FORMATS:
        raise GenerateError(f"--format must be one of {', '.join(FORMATS)}, got {image_format!r}")
    if crop < 0 or variants < 1 or batch_size < 1 or workers < 0:
        raise GenerateError(
            "--crop must be >= 0, --variants and --batch-size >= 1 and --workers >= 0"
        )
    if not 1 <= quality <= 101:
        raise GenerateError(f"--quality must be in 1..101, got {quality}")
    try:
        pipeline = load_pipeline(preset)
    except (SpecError, OSError, yaml.YAMLError) as exc:
        raise GenerateError(f"--preset {preset}: {exc}") from None
    preset_scale = pipeline.scale
    if float(preset_scale) != int(preset_scale):
        raise GenerateError(f"preset {pipeline.name!r} has a non-integer scale {preset_scale}")
    if scale is not None and scale != preset_scale:
        raise GenerateError(
            f"--scale {scale} does not match the scale {preset_scale:g} of preset {pipeline.name!r}"
        )
    scale_int = int(preset_scale)
    if crop % scale_int:
        raise GenerateError(f"--crop {crop} is not a multiple of the scale {scale_int}")
    store_usm = pipeline.gt_usm if gt_usm is None else bool(gt_usm)
    k, n = shard if shard is not None else _env_shard()
    if not 0 <= k < n:
        raise GenerateError(f"shard {k}/{n}: need 0 <= K < N")
    torch_device = torch.device(device)
    if torch_device.type == "cuda" and torch_device.index is None and n > 1:
        local_rank = os.environ.get("LOCAL_RANK")
        if local_rank is not None:
            torch_device = torch.device("cuda", int(local_rank))
    suffix = FORMATS[image_format]
    flags: tuple[int, ...] = ()
    if image_format == "jpg":
        flags = (cv2.IMWRITE_JPEG_QUALITY, quality)
    elif image_format == "webp":
        flags = (cv2.IMWRITE_WEBP_QUALITY, quality)
    say = report or (lambda line: tqdm.write(line, file=sys.stderr))

    try:
        sources = list_sources(input_path, input_root=input_root, exclude=out)
    except ValueError as exc:
        raise GenerateError(str(exc)) from None
    settings = {
        "settings_version": SETTINGS_VERSION,
        "input": str(Path(input_path).resolve()),
        "input_root": str(Path(input_root).resolve()) if input_root is not None else None,
        "preset": pipeline.name,
        "preset_hash": pipeline.spec_hash,
        "scale": scale_int,
        "crop": crop,
        "variants": variants,
        "seed": seed,
        "format": image_format,
        "quality": quality if image_format != "png" else None,
        "gt_usm": store_usm,
        "device": torch_device.type,
    }
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, settings)
    spec_text = yaml.safe_dump(pipeline.to_spec(), sort_keys=False)
    if not (out / "pipeline.yaml").is_file() or (out / "pipeline.yaml").read_text() != spec_text:
        write_atomic(out / "pipeline.yaml", spec_text.encode())

    plan: list[_Pair] = []
    failures: list[str] = []
    for source in sources:
        if source.error is not None:
            if _shard_of(derive_seed(0, source.relpath, 0), n) == k:
                failures.append(f"{source.relpath}: {source.error}")
            continue
        for variant in range(variants):
            key = derive_seed(0, source.relpath, variant)
            plan.append(_Pair(len(plan), source, variant, key))
    for line in failures:
        say(f"degrade generate: skipped {line}")
    mine = [p for p in plan if _shard_of(p.key, n) == k]
    journal = out / "parts" / f"shard-{k}-of-{n}.jsonl"
    _repair_journal(journal)
    existing, _ = _read_journals(out)
    todo = [p for p in mine if not _finished(existing.get(p.key), p, out, suffix)]
    for p in todo:
        for folder in ("gt", "lq"):
            temp_path(out / folder / f"{p.name}{suffix}").unlink(missing_ok=True)
    skipped = len(mine) - len(todo)

    runner = _Runner(pipeline, seed=seed, device=torch_device, store_usm=store_usm, suffix=suffix)
    kill_after = int(os.environ.get(KILL_ENV, "0") or 0)
    generated = 0
    failed_sources: set[str] = set()
    failed_keys: list[dict[str, Any]] = []

    def fail(pair: _Pair, reason: str) -> None:
        failed_keys.append(
            {"failed": True, "key": pair.key, "source": pair.source.relpath, "reason": reason}
        )
        if pair.source.relpath not in failed_sources:  # one line per input, not per variant
            failures.append(f"{pair.source.relpath}: {reason}")
            say(f"degrade generate: failed {pair.source.relpath}: {reason}")
        failed_sources.add(pair.source.relpath)

    executor: Any
    if workers:
        executor = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
    else:
        executor = _Inline()
    bar = tqdm(
        total=len(mine),
        initial=skipped,
        unit="pair",
        desc=f"generate {k}/{n}" if n > 1 else "generate",
        disable=not progress,
        dynamic_ncols=True,
        file=sys.stderr,
    )
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    ahead = max(2, 2 * workers)
    loads: deque[tuple[list[_Pair], list[cf.Future[Any]]]] = deque()
    saves: deque[tuple[_Pair, dict[str, Any], cf.Future[Any]]] = deque()

    def submit_load(batch: list[_Pair]) -> None:
        futures = [
            executor.submit(_load, _LoadJob(str(p.source.path), p.key, seed, crop, scale_int))
            for p in batch
        ]
        loads.append((batch, futures))

    def drain(limit: int) -> None:
        nonlocal generated
        finished: list[dict[str, Any]] = []
        while saves and (len(saves) > limit or saves[0][2].done()):
            pair, record, future = saves.popleft()
            try:
                future.result()
            except Exception as exc:
                fail(pair, f"cannot write its outputs ({exc})")
                continue
            finished.append(record)
        _append_journal(journal, failed_keys + finished)
        failed_keys.clear()
        generated += len(finished)
        bar.update(len(finished))
        if kill_after and generated >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    try:
        pending = iter(batches)
        for batch in pending:
            submit_load(batch)
            if len(loads) >= ahead:
                break
        while loads:
            batch, futures = loads.popleft()
            for more in pending:
                submit_load(more)
                break
            loaded: list[_Loaded] = []
            for pair, future in zip(batch, futures, strict=True):
                try:
                    image, info, error = future.result()
                except Exception as exc:
                    image, info, error = None, {}, f"cannot be read ({exc})"
                if error is not None or image is None:
                    fail(pair, error or "cannot be read")
                else:
                    loaded.append(_Loaded(pair, image, info))
            done, failed = runner.degrade(loaded)
            for pair, reason in failed:
                fail(pair, reason)
            for item, gt, lq, record in done:
                job = _SaveJob(
                    gt,
                    lq,
                    str(out / record["gt"]),
                    str(out / record["lq"]),
                    suffix,
                    flags,
                )
                saves.append((item.pair, record, executor.submit(_save, job)))
            drain(limit=ahead * batch_size)
        drain(limit=0)
    finally:
        bar.close()
        executor.shutdown(wait=True, cancel_futures=True)

    complete = _merge(out, plan, suffix)
    return GenerateSummary(
        output=out,
        shard=(k, n),
        planned=len(mine),
        generated=generated,
        skipped=skipped,
        failures=tuple(failures),
        complete=complete,
        seconds=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------------------------- #


def _run(args: argparse.Namespace) -> int:
    try:
        summary = generate_dataset(
            args.input,
            args.output,
            preset=args.preset,
            seed=args.seed,
            scale=args.scale,
            crop=args.crop or 0,
            variants=args.variants,
            input_root=args.input_root,
            device=args.device,
            batch_size=args.batch_size,
            workers=args.workers,
            shard=parse_shard(args.shard) if args.shard else None,
            image_format=args.format,
            quality=args.quality,
            gt_usm=args.gt_usm,
            progress=not args.quiet,
        )
    except GenerateError as exc:
        print(f"degrade generate: {exc}", file=sys.stderr)
        return 2
    k, n = summary.shard
    where = f" (shard {k}/{n})" if n > 1 else ""
    rate = summary.generated / summary.seconds if summary.seconds > 0 else 0.0
    print(
        f"degrade generate{where}: {summary.generated} pairs written, {summary.skipped} already "
        f"done, {summary.failed} inputs failed, {summary.planned} planned; "
        f"{summary.seconds:.1f} s ({rate:.2f} pairs/s) -> {summary.output}",
        file=sys.stderr,
    )
    if not summary.complete and n > 1:
        print(
            "degrade generate: params.jsonl and meta files will be complete once every shard ends",
            file=sys.stderr,
        )
    if summary.failed:
        print(f"degrade generate: {summary.failed} inputs failed (see above)", file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    """Add ``degrade generate`` to the command's subparsers."""
    parser = sub.add_parser(
        "generate",
        help="generate a degraded GT/LQ dataset offline",
        description="Generate a degraded GT/LQ dataset offline (resumable, shardable).",
    )
    parser.add_argument(
        "--input",
        required=True,
        help="folder of HR images (walked recursively) or a BasicSR-style meta file",
    )
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument(
        "--input-root", default=None, help="folder a meta file's paths are relative to"
    )
    parser.add_argument("--preset", default="realesrgan_x4plus", help="preset name or YAML file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=None, help="must match the preset's scale")
    parser.add_argument(
        "--crop", type=int, default=0, help="GT crop size (multiple of the scale); 0: whole images"
    )
    parser.add_argument("--variants", type=int, default=1, help="pairs per image")
    parser.add_argument(
        "--device", type=device_argument, default="cpu", help="cpu, cuda, cuda:1, ..."
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=0, help="worker processes for I/O and encoding (0: none)"
    )
    parser.add_argument(
        "--shard", default=None, help="K/N: make only this shard (default: RANK/WORLD_SIZE)"
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="png")
    parser.add_argument("--quality", type=int, default=95, help="quality of jpg/webp output")
    parser.add_argument(
        "--gt-usm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="store the USM-sharpened GT (default: the preset's gt_usm)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=_run)


__all__ = ["GenerateError", "GenerateSummary", "generate_dataset", "parse_shard", "register"]
