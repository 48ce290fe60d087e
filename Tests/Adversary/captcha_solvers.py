"""The picture captcha against the strongest solvers we could write for it.

Starts `flashsale demo --captcha image`, takes fresh challenges from GET /api/captcha (each
for a new guest account, so the 2-per-second challenge rate never binds), lets each solver
answer and counts the passes POST /api/captcha/verify grants. Each solver must pass under
10 % of its challenges. The solvers know the generator's glyphs (it is open source):

- markup: reads the SVG's structure and numbers. Where pieces share endpoints exactly it is
  the script that read the earlier design 20 times out of 20 (pieces cut from each digit
  stroke shared endpoints, decoys never; chains fell into 36 px columns and the closest
  stroke template read each). Otherwise it joins pieces whose end runs on along another
  piece, drops chains wider than 100 px (the lines across), draws the rest and reads that
  with the rendering solver's templates: the picture less what the markup shows as clutter.
- raster: renders the SVG with rsvg-convert and matches every digit's glyphs, drawn at
  three sizes, three slants and two angles and blurred, against every position (normalised
  cross-correlation), then picks the best left-to-right sequence of five.

Controls, so that a low pass rate means the picture and not a broken harness: the server
must refuse a wrong answer, every guess must be five digits, and each solver must read
clean pictures of known codes (the same glyphs, no warp, no clutter).

Binaries: $FLASHSALE_BIN, else `swift build --show-bin-path`. CHALLENGES sets how many
challenges each solver gets (300: each solver passes about 4-6 %, and at 6 % a run of 300
crosses the 10 % line about once in 500, where a run of 120 did about once in 20). SAVE=<folder>
keeps the SVGs. Runs in about three minutes.
"""

import base64
import io
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Support"))
from demo_process import LOCAL, DemoProcess, bin_folder  # noqa: E402

SALE = "demo"
CHALLENGES = int(os.environ.get("CHALLENGES", "300"))
LIMIT = 0.10
DEADLINE_S = 420
WIDTH, HEIGHT = 200, 70


def request(url, body=None, cookie=None, timeout=10):
    """(status, JSON body, Set-Cookie) of a GET, or of a POST when `body` is given."""
    data = None if body is None else json.dumps(body).encode() if body else b""
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if body:
        req.add_header("Content-Type", "application/json")
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with LOCAL.open(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}"), response.headers.get("Set-Cookie")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), None


# ---- glyphs: the same strokes as Sources/Challenges/CaptchaGlyphs.swift ----


def arc(cx, cy, rx, ry, start, end, steps=10):
    return [(cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
             cy + ry * math.sin(math.radians(start + (end - start) * i / steps))) for i in range(steps + 1)]


GLYPHS = {
    "0": [[arc(1.3, 1.3, 1.3, 1.3, 180, 270, 4) + arc(2.7, 1.3, 1.3, 1.3, 270, 360, 4)
           + arc(2.7, 4.7, 1.3, 1.3, 0, 90, 4) + arc(1.3, 4.7, 1.3, 1.3, 90, 180, 4) + [(0, 1.3)]],
          [arc(2, 3, 2, 3, 0, 360, 16)]],
    "1": [[[(1, 1), (2.5, 0), (2.5, 6)], [(1, 6), (4, 6)]],
          [[(0.8, 1.4), (2.4, 0), (2.4, 6)]]],
    "2": [[[(0, 1), (1, 0), (3, 0), (4, 1), (4, 2.5), (0, 6), (4, 6)]],
          [arc(2, 1.8, 2, 1.8, 180, 390) + [(0, 6), (4, 6)]]],
    "3": [[[(0, 0), (4, 0), (2, 2.5), (4, 4), (3, 6), (0, 6)]],
          [arc(2, 1.5, 1.9, 1.5, 200, 450), arc(2, 4.5, 2, 1.5, 270, 520)]],
    "4": [[[(3, 6), (3, 0), (0, 4), (4, 4)]],
          [[(0.5, 0), (0, 3.6), (4, 3.6)], [(3, 1.4), (3, 6)]]],
    "5": [[[(4, 0), (0, 0), (0, 2.5), (3, 2.5), (4, 4), (3, 6), (0, 6)]],
          [[(3.8, 0), (0.4, 0), (0.1, 2.8)] + arc(1.8, 4.2, 2.1, 1.8, 225, 500)]],
    "6": [[[(3.4, 0), (0.3, 3.6)] + arc(2, 4.4, 1.9, 1.6, 200, 560, 14)],
          [[(3.6, 0.2), (2.2, 0), (0.9, 0.8), (0.2, 2.3), (0, 4.4)] + arc(2, 4.4, 2, 1.6, 180, 540, 14)]],
    "7": [[[(0, 0), (4, 0), (1.5, 6)], [(1, 3), (3.5, 3)]],
          [[(0, 0.2), (4, 0), (2.8, 2.5), (1.8, 6)]]],
    "8": [[arc(2, 1.3, 1.4, 1.3, 90, 450, 12), arc(2, 4.3, 2, 1.7, 270, 630, 14)],
          [arc(2, 1.4, 1.7, 1.4, 0, 360, 14), arc(2, 4.4, 2, 1.6, 0, 360, 14)]],
    "9": [[arc(2, 1.6, 2, 1.6, 30, 390, 14) + [(1, 6)]],
          [arc(2, 1.7, 2, 1.7, 0, 360, 14) + [(3.8, 4), (2.8, 5.6), (1.4, 6), (0.3, 5.5)]]],
}


def polylines(svg):
    """Every subpath of every <path d="…"> as a list of (x, y), in markup order."""
    import re

    lines = []
    for d in re.findall(r'\sd="([^"]*)"', svg):
        for part in re.findall(r"M[^M]*", d):
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", part)]
            lines.append(list(zip(numbers[0::2], numbers[1::2])))
    return [line for line in lines if len(line) >= 2]


def glyph_points(digit, style, spacing=0.25):
    """Points along a glyph's strokes, every `spacing` grid units."""
    points = []
    for stroke in GLYPHS[digit][style]:
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / spacing))
            points += [(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(steps)]
    return np.array(points)


TEMPLATE_POINTS = {(d, s): glyph_points(d, s) for d in GLYPHS for s in range(len(GLYPHS[d]))}


def fit_digit(points):
    """The digit whose strokes lie closest to `points` (symmetric mean nearest distance), over
    slants and angles, after scaling both to the glyph box."""
    if len(points) < 3:
        return "1", math.inf
    best = ("1", math.inf)
    centre = points.mean(axis=0)
    for angle in (-0.3, -0.15, 0, 0.15, 0.3):
        c, s = math.cos(angle), math.sin(angle)
        turned = (points - centre) @ np.array([[c, -s], [s, c]])
        low, high = turned.min(axis=0), turned.max(axis=0)
        span = np.maximum(high - low, 1e-6)
        for (digit, style), template in TEMPLATE_POINTS.items():
            t_low, t_high = template.min(axis=0), template.max(axis=0)
            scaled = (turned - low) / span * (t_high - t_low) + t_low
            if span[0] < 0.3 * span[1]:  # a thin column: only a one fits the box
                scaled[:, 0] = (turned[:, 0] - low[0]) / span[1] * 6 + 2
            distances = np.hypot(*(scaled[:, None, :] - template[None, :, :]).transpose(2, 0, 1))
            score = distances.min(axis=1).mean() + distances.min(axis=0).mean()
            if score < best[1]:
                best = (digit, score)
    return best


def densify(line, step=1.5):
    points = []
    for (x0, y0), (x1, y1) in zip(line, line[1:]):
        steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        points += [(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(steps)]
    points.append(line[-1])
    return points


class Joined:
    """Union-find over pieces 0..<count: which pieces a solver has joined into one stroke."""

    def __init__(self, count):
        self.parent = list(range(count))

    def root(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i, j):
        self.parent[self.root(i)] = self.root(j)

    def groups(self):
        groups = {}
        for i in range(len(self.parent)):
            groups.setdefault(self.root(i), []).append(i)
        return list(groups.values())


def chains(lines, tolerance):
    """Groups of pieces joined end to end: exactly (tolerance 0) or within `tolerance` px."""
    joined = Joined(len(lines))

    ends = [(line[0], i) for i, line in enumerate(lines)] + [(line[-1], i) for i, line in enumerate(lines)]
    cell = max(tolerance, 0.05) * 2
    grid = {}
    for (x, y), i in ends:
        grid.setdefault((int(x // cell), int(y // cell)), []).append(((x, y), i))
    for (x, y), i in ends:
        gx, gy = int(x // cell), int(y // cell)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for (ox, oy), j in grid.get((gx + dx, gy + dy), []):
                    if j != i and math.hypot(ox - x, oy - y) <= tolerance:
                        joined.join(i, j)
    return joined.groups()


def solve_markup_columns(svg):
    """The issue's solver: pieces that share endpoints exactly are digit strokes, lone pieces
    decoys; strokes go to 36 px columns from x = 14, and each column gets the closest digit."""
    lines = polylines(svg)
    columns = [[] for _ in range(5)]
    for group in chains(lines, 0):
        if len(group) < 2:
            continue
        points = [p for i in group for p in densify(lines[i])]
        column = int((np.mean([p[0] for p in points]) - 14) // 36)
        columns[min(max(column, 0), 4)] += points
    return "".join(fit_digit(np.array(c))[0] if c else "1" for c in columns)


def chains_along(lines, tolerance=1.0, turn=0.2):
    """Groups of pieces joined where an end of one lies within `tolerance` px of another's
    line and runs the same way (within `turn` radians): a stroke's pieces, not a crossing."""
    starts, stops, owner = [], [], []
    for i, line in enumerate(lines):
        for a, b in zip(line, line[1:]):
            starts.append(a)
            stops.append(b)
            owner.append(i)
    a, b, owner = np.array(starts), np.array(stops), np.array(owner)
    ab = b - a
    length2 = np.maximum((ab ** 2).sum(axis=1), 1e-9)
    heading = np.arctan2(ab[:, 1], ab[:, 0])
    joined = Joined(len(lines))

    for i, line in enumerate(lines):
        for end, inner in ((line[0], line[1]), (line[-1], line[-2])):
            end = np.array(end)
            own = math.atan2(end[1] - inner[1], end[0] - inner[0])
            t = np.clip(((end - a) * ab).sum(axis=1) / length2, 0, 1)
            distance = np.hypot(*(a + t[:, None] * ab - end).T)
            bend = np.abs(np.angle(np.exp(2j * (heading - own)))) / 2  # either direction
            for j in set(owner[(distance <= tolerance) & (bend <= turn) & (owner != i)].tolist()):
                joined.join(i, j)
    return joined.groups()


def stroke_width(svg):
    import re

    match = re.search(r'stroke-width="([\d.]+)"', svg)
    return float(match.group(1)) if match else 2.3


def solve_markup_strokes(svg):
    """Joins pieces into strokes where one's end runs on along another, drops strokes wider
    than two digits (the line across), draws the rest and reads that with the rendering
    solver's templates: the picture without what the markup shows to be clutter."""
    lines = polylines(svg)
    kept = []
    for group in chains_along(lines):
        xs = [p[0] for i in group for p in lines[i]]
        if max(xs) - min(xs) <= 100:
            kept += [lines[i] for i in group]
    return read_ink(draw(kept, (HEIGHT, WIDTH), stroke_width(svg)))


def solve_markup(svg):
    """The issue's exact reading where pieces share endpoints, else the stroke reading."""
    lines = polylines(svg)
    if sum(len(g) >= 2 for g in chains(lines, 0)) >= 5:
        return solve_markup_columns(svg)
    return solve_markup_strokes(svg)


# ---- the server ----


class Demo(DemoProcess):
    """`flashsale demo --captcha image`, open now, with a way to ask and answer challenges."""

    def __init__(self, folder):
        super().__init__(bin_folder(), Path(folder) / "var", Path(folder) / "demo.log",
                         "--starts-in", 0, "--captcha", "image")

    def challenge(self):
        """(svg, challenge token, cookie) for a new guest account."""
        status, body, set_cookie = request(f"{self.base}/api/guest", body={})
        assert status == 200 and set_cookie, f"POST /api/guest: {status} {body}"
        cookie = set_cookie.split(";", 1)[0]
        status, body, _ = request(f"{self.base}/api/captcha?sale={SALE}", cookie=cookie)
        assert status == 200, f"GET /api/captcha: {status} {body}"
        prefix = "data:image/svg+xml;base64,"
        assert body["image"].startswith(prefix), body["image"][:40]
        return base64.b64decode(body["image"][len(prefix):]).decode(), body["challenge"], cookie

    def verify(self, challenge, cookie, answer):
        """True when the server grants a pass for `answer`; False on 403 captcha_failed."""
        status, body, _ = request(f"{self.base}/api/captcha/verify",
                                  body={"challenge": challenge, "answer": answer}, cookie=cookie)
        assert status in (200, 403), f"POST /api/captcha/verify: {status} {body}"
        return status == 200 and "pass" in body


# ---- the rendering solver ----


def render(svg):
    """The picture as ink in [0, 1] (rsvg-convert, as a browser would draw it)."""
    png = subprocess.run(["rsvg-convert", "--format", "png"], input=svg.encode(), capture_output=True,
                         check=True, timeout=10).stdout
    gray = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64) / 255
    return 1 - gray / max(gray.max(), 1e-6)


def draw(strokes, shape, width):
    """Strokes (lists of (x, y) in pixels) drawn `width` wide, antialiased, into a new array."""
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    distance = np.full(shape, np.inf)
    for stroke in strokes:
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
            distance = np.minimum(distance, np.hypot(xs - x0 - t * dx, ys - y0 - t * dy))
    return np.clip(width / 2 + 0.5 - distance, 0, 1)


def placed(strokes, unit_x, unit_y, slant, angle):
    """A glyph's strokes scaled, slanted and turned about its centre, as in the generator."""
    c, s = math.cos(angle), math.sin(angle)
    out = []
    for stroke in strokes:
        line = []
        for x, y in stroke:
            lx, ly = (x - 2) * unit_x, (y - 3) * unit_y
            lx -= slant * ly
            line.append((lx * c - ly * s, lx * s + ly * c))
        out.append(line)
    return out


def templates(width=2.3):
    """Every glyph at three sizes, three slants and two angles: (digit, image) with the glyph's
    centre at the image's centre."""
    made = []
    for digit, styles in GLYPHS.items():
        for strokes in styles:
            for unit_y in (7.3, 7.9, 8.5):
                for slant in (-0.2, 0, 0.2):
                    for angle in (-0.12, 0.12):
                        lines = placed(strokes, unit_y * 0.85, unit_y, slant, angle)
                        half = (30, 24)
                        shifted = [[(x + half[1], y + half[0]) for x, y in line] for line in lines]
                        made.append((digit, draw(shifted, (2 * half[0], 2 * half[1]), width)))
    return made


TEMPLATES = None
KERNEL = np.exp(-np.arange(-4, 5) ** 2 / (2 * 1.5 ** 2))
KERNEL /= KERNEL.sum()


def blur(image):
    """A Gaussian blur (sigma 1.5 px): it matches strokes that a warp moved a little."""
    rows = np.apply_along_axis(lambda r: np.convolve(r, KERNEL, mode="same"), 1, image)
    return np.apply_along_axis(lambda c: np.convolve(c, KERNEL, mode="same"), 0, rows)
SHAPE = (128, 256)


def correlations(ink):
    """digit → best normalised correlation of its templates centred at each column x (max over rows)."""
    global TEMPLATES
    if TEMPLATES is None:
        TEMPLATES = [(digit, image) for digit, image in templates()]
    padded = np.zeros(SHAPE)
    padded[:ink.shape[0], :ink.shape[1]] = blur(ink)
    image_f = np.fft.rfft2(padded)
    square_f = np.fft.rfft2(padded ** 2)
    best = {digit: np.full(WIDTH, -1.0) for digit in GLYPHS}
    cache = {}
    for digit, template in TEMPLATES:
        h, w = template.shape
        if (h, w) not in cache:
            box = np.zeros(SHAPE)
            box[:h, :w] = 1
            box_f = np.conj(np.fft.rfft2(box))
            total = np.fft.irfft2(image_f * box_f, SHAPE)
            energy = np.fft.irfft2(square_f * box_f, SHAPE)
            cache[(h, w)] = (total, np.sqrt(np.maximum(energy - total ** 2 / (h * w), 1e-6)))
        total, spread = cache[(h, w)]
        centred = blur(template)
        centred -= centred.mean()
        kernel = np.zeros(SHAPE)
        kernel[:h, :w] = centred
        score = np.fft.irfft2(image_f * np.conj(np.fft.rfft2(kernel)), SHAPE) / (spread * np.linalg.norm(centred))
        # score[y, x]: the template's top left at (x, y); keep tops within the picture's rows.
        rows = score[:max(1, HEIGHT - h // 2), :]
        by_x = rows.max(axis=0)
        columns = np.arange(WIDTH) - w // 2
        valid = (columns >= -w // 2) & (columns < SHAPE[1])
        values = np.where(valid, by_x[np.mod(columns, SHAPE[1])], -1)
        best[digit] = np.maximum(best[digit], values)
    return best


def solve_raster(svg):
    """The rendered picture, read by template matching."""
    return read_ink(render(svg))


def read_ink(ink, length=5, closest=17, farthest=40):
    """The best left-to-right sequence of `length` digit positions, each `closest` to
    `farthest` px after the one before, by the sum of their correlations."""
    best = correlations(ink)
    digits = list(best)
    scores = np.stack([best[d] for d in digits])
    top, which = scores.max(axis=0), scores.argmax(axis=0)
    total = np.full((length, WIDTH), -np.inf)
    back = np.zeros((length, WIDTH), dtype=int)
    total[0] = top
    for k in range(1, length):
        for x in range(WIDTH):
            lo, hi = max(0, x - farthest), x - closest
            if hi < lo:
                continue
            window = total[k - 1, lo:hi + 1]
            j = int(window.argmax())
            total[k, x] = window[j] + top[x]
            back[k, x] = lo + j
    x = int(total[length - 1].argmax())
    positions = [x]
    for k in range(length - 1, 0, -1):
        x = back[k, x]
        positions.append(x)
    return "".join(digits[which[x]] for x in reversed(positions))


def clean_svg(code, rng):
    """`code` in the generator's glyphs, sizes, slants and spacing, without warp or clutter:
    the control that both solvers read."""
    lines, left = [], 12 + rng.uniform(-4, 4)
    for digit in code:
        unit_y = rng.uniform(7.2, 8.6)
        unit_x = unit_y * rng.uniform(0.75, 0.95)
        strokes = placed(rng.choice(GLYPHS[digit]), unit_x, unit_y, rng.uniform(-0.2, 0.2), rng.uniform(-0.15, 0.15))
        centre = (left + 2 * unit_x, HEIGHT / 2 + rng.uniform(-3, 3))
        lines += [[(x + centre[0], y + centre[1]) for x, y in stroke] for stroke in strokes]
        left += 4 * unit_x * rng.uniform(0.95, 1.1)
    d = "".join("M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in line) for line in lines)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f4f4f8"/><path d="{d}" fill="none" '
            'stroke="#1a1a2e" stroke-width="2.3" stroke-linecap="round" stroke-linejoin="round"/></svg>')


# ---- the test ----


class CaptchaSolversTest(unittest.TestCase):
    def setUp(self):
        self.started = time.monotonic()
        work = tempfile.TemporaryDirectory(prefix="flashsale-captcha-")
        self.addCleanup(work.cleanup)
        self.demo = Demo(work.name)
        self.addCleanup(self.demo.stop)
        self.save = os.environ.get("SAVE")

    def within_deadline(self):
        self.assertLess(time.monotonic() - self.started, DEADLINE_S, "the solvers took too long")

    def test_the_raster_solver_reads_clean_renderings(self):
        rng = random.Random(15)
        codes = ["".join(rng.choice("0123456789") for _ in range(5)) for _ in range(10)]
        read = sum(solve_raster(clean_svg(code, rng)) == code for code in codes)
        self.assertGreaterEqual(read, 6, "the rendering solver cannot read the glyphs without clutter")

    def test_the_markup_solver_reads_clean_markup(self):
        rng = random.Random(16)
        codes = ["".join(rng.choice("0123456789") for _ in range(5)) for _ in range(10)]
        read = sum(solve_markup(clean_svg(code, rng)) == code for code in codes)
        self.assertGreaterEqual(read, 6, "the markup solver cannot read the glyphs without clutter")

    def test_the_server_refuses_a_wrong_answer(self):
        svg, challenge, cookie = self.demo.challenge()
        self.assertFalse(self.demo.verify(challenge, cookie, "12345x"))

    def test_each_solver_passes_under_a_tenth_of_fresh_challenges(self):
        for name, solver in (("markup", solve_markup), ("raster", solve_raster)):
            passes = 0
            for index in range(CHALLENGES):
                self.within_deadline()
                svg, challenge, cookie = self.demo.challenge()
                if self.save:
                    Path(self.save).mkdir(parents=True, exist_ok=True)
                    (Path(self.save) / f"{name}-{index}.svg").write_text(svg)
                guess = solver(svg)
                self.assertRegex(guess, r"^\d{5}$")
                passes += self.demo.verify(challenge, cookie, guess)
            print(f"{name} solver: {passes} of {CHALLENGES} challenges passed", file=sys.stderr)
            self.assertLess(passes, LIMIT * CHALLENGES, f"the {name} solver reads the picture")


if __name__ == "__main__":
    unittest.main(verbosity=2)
