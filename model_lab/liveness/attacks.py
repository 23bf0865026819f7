"""Attack simulator: render print and screen-replay presentation attacks (stills and planar tracks) from live images."""

import cv2
import numpy as np


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def halftone(image: np.ndarray, period: float = 3.0, angle_deg: float = 15.0) -> np.ndarray:
    """Ink dots on a rotated grid (one screen per channel at its own angle), as a printer lays them down."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    out = np.empty_like(image, dtype=np.float32)
    for c in range(3):
        a = np.radians(angle_deg + 30.0 * c)
        u, v = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
        screen = (np.cos(2 * np.pi * u / period) * np.cos(2 * np.pi * v / period) + 1.0) / 2.0  # 0..1
        ink = 1.0 - image[..., c].astype(np.float32) / 255.0
        out[..., c] = np.where(ink > screen * 0.98 + 0.01, 0.0, 1.0)  # dot where ink exceeds the screen level
    soft = cv2.GaussianBlur(out, (0, 0), period * 0.25)
    return np.clip(soft * 255.0, 0, 255).astype(np.uint8)


def print_look(image: np.ndarray, rng: int | np.random.Generator = 0, dots: bool = True) -> np.ndarray:
    """A photo printed on paper and seen again by a camera: smaller gamut, lifted blacks, paper grain, halftone."""
    rng = _rng(rng)
    img = image
    if dots:
        scale = float(rng.uniform(1.5, 2.5))  # print at a finer pitch than the photo, then view it back
        big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        big = halftone(big, period=float(rng.uniform(2.6, 3.6)), angle_deg=float(rng.uniform(0, 45)))
        img = cv2.resize(big, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    f = img.astype(np.float32)
    paper = np.array([rng.uniform(225, 245), rng.uniform(230, 248), rng.uniform(232, 250)], np.float32)
    ink_black = float(rng.uniform(30, 55))
    f = ink_black + (paper - ink_black) * (f / 255.0)  # ink never gets black, paper never gets white
    grey = f.mean(axis=2, keepdims=True)
    f = grey + (f - grey) * float(rng.uniform(0.6, 0.85))  # printer gamut: duller colours
    grain = cv2.GaussianBlur(rng.normal(0, 1, image.shape[:2]).astype(np.float32), (0, 0), 1.5)
    f += (grain * float(rng.uniform(4, 8)))[..., None]
    f = cv2.GaussianBlur(f, (0, 0), float(rng.uniform(0.6, 1.1)))  # refocus: the camera sees it again
    return np.clip(f, 0, 255).astype(np.uint8)


def screen_look(image: np.ndarray, rng: int | np.random.Generator = 0) -> np.ndarray:
    """A photo or video shown on a phone and seen by a camera: screen gamma, colour cast, RGB sub-pixel grid
    (which aliases into moiré when resampled), a reflection."""
    rng = _rng(rng)
    h, w = image.shape[:2]
    pitch = 3
    scale = float(rng.uniform(2.2, 3.2))
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    bh, bw = big.shape[:2]
    stripes = np.zeros((bh, bw, 3), np.float32)
    cols = np.arange(bw) % pitch
    for c, phase in enumerate((2, 1, 0)):  # BGR planes: R, G, B sub-pixels side by side
        stripes[:, cols == phase, c] = 1.0
    rows_gap = (np.arange(bh) % pitch == pitch - 1)
    stripes[rows_gap] *= 0.35  # the black matrix between pixel rows
    lit = big * (0.55 + 0.45 * stripes) * 1.25
    # The camera is never square to the screen: a slight rotation and scale make the grid beat (moiré).
    m = cv2.getRotationMatrix2D((bw / 2, bh / 2), float(rng.uniform(-4, 4)), 1.0)
    lit = cv2.warpAffine(lit, m, (bw, bh), borderMode=cv2.BORDER_REFLECT)
    small = cv2.resize(lit, (w, h), interpolation=cv2.INTER_LINEAR)
    gamma = float(rng.uniform(0.7, 0.85))
    f = 255.0 * (np.clip(small, 0, 255) / 255.0) ** gamma
    cast = np.array([rng.uniform(1.05, 1.2), rng.uniform(0.95, 1.05), rng.uniform(0.8, 0.92)], np.float32)
    f = f * cast  # cool white point of a phone panel
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    gx, gy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.1, 0.5) * h
    glare = np.exp(-(((xx - gx) / (0.25 * w)) ** 2 + ((yy - gy) / (0.15 * h)) ** 2))
    f += (glare * float(rng.uniform(30, 70)))[..., None]
    return np.clip(f, 0, 255).astype(np.uint8)


def background(size: tuple[int, int], rng: int | np.random.Generator = 0) -> np.ndarray:
    """A plain room-ish backdrop (wall gradient and noise), height x width."""
    rng = _rng(rng)
    h, w = size
    base = np.array(rng.uniform(70, 170, 3), np.float32)
    grad = np.linspace(0.8, 1.15, w, dtype=np.float32)[None, :, None]
    f = base * grad * np.ones((h, 1, 1), np.float32) + rng.normal(0, 4, (h, w, 3)).astype(np.float32)
    return np.clip(f, 0, 255).astype(np.uint8)


def _frame_it(picture: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """The attack medium around the picture: a white paper margin, or a black phone bezel."""
    h, w = picture.shape[:2]
    m = int(0.06 * max(h, w)) + 2
    colour = (235, 238, 240) if kind == "print" else (12, 12, 14)
    return cv2.copyMakeBorder(picture, m, m, m, m, cv2.BORDER_CONSTANT, value=colour)


def present(picture: np.ndarray, kind: str, frame_size: tuple[int, int] = (480, 640),
            rng: int | np.random.Generator = 0, homography: np.ndarray | None = None,
            hand: bool = True) -> np.ndarray:
    """The framed attack medium held in front of the camera: warped by `homography` (default: a small
    random tilt) onto a background, with a hand's thumb over one edge."""
    rng = _rng(rng)
    framed = _frame_it(picture, kind, rng)
    fh, fw = framed.shape[:2]
    H, W = frame_size
    if homography is None:
        homography = planar_pose(framed.shape[:2], frame_size, rng, t=0.5)
    out = background(frame_size, rng)
    warped = cv2.warpPerspective(framed, homography, (W, H), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((fh, fw), 255, np.uint8), homography, (W, H)) > 127
    out[mask] = warped[mask]
    if hand:
        corners = cv2.perspectiveTransform(np.float32([[[0, fh]], [[fw, fh]]]), homography).reshape(2, 2)
        cx, cy = corners.mean(axis=0)
        skin = (int(rng.uniform(60, 110)), int(rng.uniform(110, 150)), int(rng.uniform(170, 210)))
        cv2.ellipse(out, (int(cx), int(cy)), (int(0.08 * W), int(0.05 * H)), 0, 0, 360, skin, -1)
    return out


def planar_pose(medium: tuple[int, int], frame_size: tuple[int, int], rng: np.random.Generator,
                t: float) -> np.ndarray:
    """Homography placing a medium (h, w) in the frame at time t in [0, 1]: it approaches (grows), drifts and
    tilts in 3D about both axes, as a hand-held sheet or phone does."""
    h, w = medium
    H, W = frame_size
    size = (0.8 + 0.5 * t) * min(H, W)  # held close: the face is kiosk-sized
    s = size / max(h, w)
    yaw = np.radians(rng.uniform(-1, 1) * 4 + 22 * (t - 0.5))  # turning through ~20 degrees over the track
    pitch = np.radians(rng.uniform(-1, 1) * 4 + 10 * (t - 0.5))
    cx, cy = W / 2 + (t - 0.5) * 0.2 * W, H / 2
    f = 1.2 * W  # camera focal length in pixels
    z = f / s  # depth at which one medium pixel is s frame pixels
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    r = rx @ ry
    k = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])
    # A medium point (u, v) sits at (u - w/2, v - h/2, 0) on the plane, plane centre at depth z.
    m = np.column_stack([r[:, 0], r[:, 1], np.array([0, 0, z]) - r[:, 0] * w / 2 - r[:, 1] * h / 2])
    homography = k @ m
    return homography / homography[2, 2]


def attack_still(image: np.ndarray, kind: str, rng: int | np.random.Generator = 0,
                 frame_size: tuple[int, int] = (480, 640)) -> np.ndarray:
    """One frame of a print ("print") or screen ("replay") attack made from a live photo."""
    rng = _rng(rng)
    picture = print_look(image, rng) if kind == "print" else screen_look(image, rng)
    return present(picture, kind, frame_size, rng)


def attack_track(image: np.ndarray, kind: str, n: int = 8, seed: int = 0,
                 frame_size: tuple[int, int] = (480, 640)) -> list[np.ndarray]:
    """A walk-past-length sequence of one attack medium moving as a plane (approach, drift, 3D tilt)."""
    rng = np.random.default_rng(seed)
    picture = print_look(image, rng) if kind == "print" else screen_look(image, rng)
    framed_shape = _frame_it(picture, kind, rng).shape[:2]
    pose_rng = np.random.default_rng(seed + 1)
    bg_seed = int(rng.integers(1 << 30))
    frames = []
    for i in range(n):
        homography = planar_pose(framed_shape, frame_size, np.random.default_rng(pose_rng.integers(1 << 30)),
                                 t=i / max(n - 1, 1))
        frames.append(present(picture, kind, frame_size, np.random.default_rng(bg_seed), homography))
    return frames


def main(argv: list[str] | None = None) -> int:
    """`python -m model_lab.liveness.attacks --src DIR --out DIR --kind print|replay [--limit N]`: one simulated
    attack frame per source image (for the eval CLI and benchmarks; the output holds faces: keep it private)."""
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m model_lab.liveness.attacks", description=main.__doc__)
    ap.add_argument("--src", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--kind", choices=("print", "replay"), required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    files = sorted(p for p in args.src.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    files = files[: args.limit] if args.limit else files
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for i, path in enumerate(files):
        image = cv2.imread(str(path))
        if image is None:
            continue
        cv2.imwrite(str(args.out / f"{args.kind}_{i:05d}.jpg"), attack_still(image, args.kind, args.seed + i))
        written += 1
    print(f'{{"written": {written}, "kind": "{args.kind}"}}')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
