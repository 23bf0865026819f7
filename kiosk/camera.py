"""Frame sources for the kiosk: image folders, video files, V4L2 and Pi cameras, in-memory replays."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".webp", ".tif", ".tiff"})
# A live camera that fails this many reads in a row has gone away (unplugged, driver reset).
MAX_FAILED_READS = 10


class SourceError(RuntimeError):
    """A frame source that cannot be opened or stopped delivering frames; the message says which and why."""


@dataclass(frozen=True)
class Frame:
    """One camera frame: its position in the source, BGR uint8 pixels and time in seconds."""

    index: int
    image: np.ndarray
    t: float


def as_bgr(image: np.ndarray, what: str = "image") -> np.ndarray:
    """The image as contiguous HxWx3 uint8 BGR (greyscale and BGRA are converted); SourceError otherwise."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise SourceError(f"{what}: expected a uint8 numpy array, got "
                          f"{type(image).__name__} {getattr(image, 'dtype', '')}".rstrip())
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise SourceError(f"{what}: expected HxW or HxWx3 pixels, got shape {image.shape}")


class Source:
    """An iterable of Frames that holds a device or file open until close(); also a context manager."""

    name = "source"

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file; safe to call more than once."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Pacer:
    """Sleeps so frames come out no faster than fps (replays that should look like a live camera)."""

    def __init__(self, fps: float | None) -> None:
        self.period = 1.0 / fps if fps else 0.0
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.period:
            return
        now = time.monotonic()
        if self.next_at is None:
            self.next_at = now
        elif now < self.next_at:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.period


class SequenceSource(Source):
    """Frames from an in-memory list of images (replays, tests); t = index / fps; realtime paces at fps."""

    def __init__(self, images: Sequence[np.ndarray], fps: float = 10.0, realtime: bool = False,
                 name: str = "sequence") -> None:
        if fps <= 0:
            raise SourceError(f"{name}: fps must be positive, got {fps}")
        self.images = [as_bgr(img, f"{name} image {i}") for i, img in enumerate(images)]
        self.fps = fps
        self.realtime = realtime
        self.name = name

    def frames(self) -> Iterator[Frame]:
        pacer = _Pacer(self.fps if self.realtime else None)
        for i, img in enumerate(self.images):
            pacer.wait()
            yield Frame(i, img, i / self.fps)


class ImageFolderSource(Source):
    """Image files of a folder in name order; undecodable files are skipped, logged and counted in bad_frames.

    Frame.index is the file's position in the sorted listing, so a skipped file leaves a gap and indices
    still line up with a truth file written next to the frames.
    """

    def __init__(self, folder: Path | str, fps: float = 10.0, realtime: bool = False) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"image folder {self.folder} does not exist or is not a folder")
        if fps <= 0:
            raise SourceError(f"image folder {self.folder}: fps must be positive, got {fps}")
        self.files = sorted(p for p in self.folder.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        self.fps = fps
        self.realtime = realtime
        self.bad_frames = 0
        self.name = f"folder:{self.folder}"

    def frames(self) -> Iterator[Frame]:
        pacer = _Pacer(self.fps if self.realtime else None)
        for i, path in enumerate(self.files):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self.bad_frames += 1
                log.warning("skipping %s: not a decodable image (%d bad so far)", path, self.bad_frames)
                continue
            pacer.wait()
            yield Frame(i, image, i / self.fps)


class VideoFileSource(Source):
    """Frames of a video file through OpenCV; t = frame index / the file's fps."""

    DEFAULT_FPS = 25.0

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist")
        self.cap = cv2.VideoCapture(str(self.path))
        if not self.cap.isOpened():
            self.cap.release()
            raise SourceError(f"video file {self.path} cannot be opened (not a video OpenCV can decode)")
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        if not fps or not np.isfinite(fps) or fps <= 0:
            log.warning("video %s does not state its fps; assuming %.0f", self.path, self.DEFAULT_FPS)
            fps = self.DEFAULT_FPS
        self.fps = float(fps)
        self.name = f"video:{self.path}"

    def frames(self) -> Iterator[Frame]:
        index = 0
        while self.cap.isOpened():
            ok, image = self.cap.read()
            if not ok or image is None:
                break
            yield Frame(index, as_bgr(image, self.name), index / self.fps)
            index += 1

    def close(self) -> None:
        self.cap.release()


class _LiveSource(Source):
    """Shared loop of live cameras: t is seconds since the source opened; repeated failed reads raise."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def _read(self) -> np.ndarray | None:
        raise NotImplementedError

    def frames(self) -> Iterator[Frame]:
        index = failed = 0
        while True:
            image = self._read()
            if image is None:
                failed += 1
                if failed >= MAX_FAILED_READS:
                    raise SourceError(f"{self.name}: {failed} reads in a row failed; the camera stopped "
                                      "delivering frames (unplugged or in use by another process?)")
                continue
            failed = 0
            yield Frame(index, as_bgr(image, self.name), time.monotonic() - self.started)
            index += 1


class V4L2Source(_LiveSource):
    """A USB or CSI camera through Video4Linux (cv2.CAP_V4L2) at the requested size."""

    def __init__(self, device: int | str = 0, size: tuple[int, int] = (640, 480), fps: float | None = None) -> None:
        super().__init__()
        self.name = f"v4l2:{device}"
        self.cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not self.cap.isOpened():
            self.cap.release()
            where = f"/dev/video{device}" if isinstance(device, int) else device
            raise SourceError(f"camera {where} cannot be opened through V4L2 "
                              "(missing, in use, or no permission: is the user in the 'video' group?)")
        self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        if fps:
            self.cap.set(cv2.CAP_PROP_FPS, fps)
        got = (int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if got != tuple(size):
            log.warning("%s: asked for %dx%d, the driver gave %dx%d", self.name, *size, *got)
        self.size = got

    def _read(self) -> np.ndarray | None:
        ok, image = self.cap.read()
        return image if ok else None

    def close(self) -> None:
        self.cap.release()


class PiCamera2Source(_LiveSource):
    """The Raspberry Pi camera through libcamera's picamera2 (imported only when this source is used)."""

    def __init__(self, size: tuple[int, int] = (640, 480)) -> None:
        super().__init__()
        self.name = "picamera2"
        try:
            from picamera2 import Picamera2  # only present on a Pi
        except ImportError as e:
            raise SourceError("picamera2 is not installed: on Raspberry Pi OS run "
                              "'sudo apt install python3-picamera2' and create the venv with "
                              "--system-site-packages (or use a v4l2: source)") from e
        try:
            self.cam = Picamera2()
            # "RGB888" in libcamera's naming is B,G,R byte order: what OpenCV expects.
            self.cam.configure(self.cam.create_video_configuration(main={"size": tuple(size), "format": "RGB888"}))
            self.cam.start()
        except Exception as e:  # picamera2 raises plain RuntimeError/IndexError when no camera is attached
            raise SourceError(f"picamera2: cannot start the camera: {e}") from e
        self.size = tuple(size)

    def _read(self) -> np.ndarray | None:
        try:
            return self.cam.capture_array("main")
        except Exception as e:
            log.warning("picamera2 capture failed: %s", e)
            return None

    def close(self) -> None:
        cam, self.cam = getattr(self, "cam", None), None
        if cam is not None:
            cam.stop()
            cam.close()


SCHEMES = ("folder:/path", "video:/path", "v4l2:<index or /dev/videoN>", "picamera2")


def open_source(spec: str, size: tuple[int, int] = (640, 480), fps: float = 10.0) -> Source:
    """Open a source from a spec such as "folder:/frames", "video:/clip.mp4", "v4l2:0" or "picamera2".

    size applies to cameras; fps is the nominal rate of folder replays (their Frame.t).
    """
    scheme, sep, rest = spec.strip().partition(":")
    scheme = scheme.lower()
    if scheme == "picamera2":
        if rest:
            raise SourceError(f"source {spec!r}: picamera2 takes no argument")
        return PiCamera2Source(size)
    if scheme not in ("folder", "video", "v4l2") or not sep:
        raise SourceError(f"source {spec!r}: unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if not rest:
        raise SourceError(f"source {spec!r}: missing the {'device' if scheme == 'v4l2' else 'path'} "
                          f"after '{scheme}:'")
    if scheme == "folder":
        return ImageFolderSource(rest, fps=fps)
    if scheme == "video":
        return VideoFileSource(rest)
    device: int | str = int(rest) if rest.isdigit() else rest
    if isinstance(device, str) and not device.startswith("/dev/"):
        raise SourceError(f"source {spec!r}: v4l2 wants a camera index (0) or a device path (/dev/video0)")
    return V4L2Source(device, size=size)
