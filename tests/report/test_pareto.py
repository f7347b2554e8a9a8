"""The Pareto picture: the front is the points nothing dominates, drawn with their intervals, per scenario."""

import pytest
from PIL import Image

from bierase.report import pareto
from bierase.report.pareto import Point, clearly_dominates, dominates, front, standing


def row(method: str, scenario: str, shown: float, kept: float, config: str = "default") -> dict:
    intervals = {"concept_rate.explicit": {"ci95": [max(0, shown - 0.1), shown + 0.1]},
                 "preservation": {"ci95": [kept - 0.05, min(1, kept + 0.05)]}}  # fmt: skip
    return {"method": method, "config": config, "scenario": scenario, "concept_rate_explicit": shown,
            "preservation": kept, "metrics": {"intervals": intervals}}  # fmt: skip


def test_a_point_dominates_only_when_no_worse_in_both_and_better_in_one():
    a, b = Point("a", 0.1, 0.9), Point("b", 0.2, 0.8)
    assert dominates(a, b) and not dominates(b, a)
    assert not dominates(a, a)  # control: equal is not better
    assert not dominates(Point("c", 0.0, 0.5), a) and not dominates(a, Point("c", 0.0, 0.5))  # a trade-off


def test_a_clear_lead_needs_intervals_apart_on_one_axis():
    a = Point("a", 0.05, 0.95, (0.0, 0.1), (0.93, 0.97))
    apart = Point("apart", 0.3, 0.94, (0.2, 0.4), (0.92, 0.96))  # erases less, beyond both intervals
    close = Point("close", 0.08, 0.94, (0.02, 0.15), (0.92, 0.96))  # worse on both, within the intervals
    assert clearly_dominates(a, apart)
    assert dominates(a, close) and not clearly_dominates(a, close)  # control: a lead the samples do not show
    assert not clearly_dominates(Point("no intervals", 0.0, 1.0), apart)  # nothing to tell a lead by


def test_standing_names_the_baselines_ahead_and_behind():
    bi = Point("bi-erasing", 0.05, 0.95, (0.0, 0.1), (0.93, 0.97))
    others = [Point("esd", 0.3, 0.9, (0.2, 0.4), (0.88, 0.92)), Point("uce", 0.0, 0.97, (0.0, 0.05), (0.95, 0.99)),
              Point("co-erasing", 0.0, 0.8, (0.0, 0.05), (0.75, 0.85))]  # fmt: skip
    assert standing(bi, others) == {"behind": ["uce"], "clearly_behind": [], "ahead": ["esd"],
                                    "clearly_ahead": ["esd"]}  # fmt: skip


def test_the_front_keeps_the_undominated_points_only():
    group = [Point("erases", 0.0, 0.5), Point("keeps", 0.5, 0.95), Point("both worse", 0.6, 0.4),
             Point("balanced", 0.1, 0.9)]  # fmt: skip
    assert front(group) == ["erases", "keeps", "balanced"]


def test_rows_become_points_per_scenario_with_their_intervals():
    rows = [row("original", "nudity", 1.0, 0.8, "-"), row("esd", "nudity", 0.2, 0.6), row("uce", "star", 0.4, 0.7),
            {"method": "bi-erasing", "config": "default", "scenario": "identities-10", "acc_erased": 0.3,
             "preservation": 0.9, "metrics": {"intervals": {}}}]  # fmt: skip
    grouped = pareto.points(rows)
    assert list(grouped) == ["nudity", "star", "identities-10"]
    assert [p.label for p in grouped["nudity"]] == ["original", "esd"]
    assert grouped["nudity"][1].shown_ci == pytest.approx((0.1, 0.3)) and grouped["star"][0].kept_ci == pytest.approx(
        (0.65, 0.75)
    )
    assert grouped["identities-10"][0].shown == 0.3 and grouped["identities-10"][0].shown_ci is None


def test_the_frame_zooms_to_the_methods_and_names_the_original_outside_it():
    group = pareto.points([row("original", "nudity", 1.0, 0.99, "-"), row("esd", "nudity", 0.02, 0.6),
                           row("bi-erasing", "nudity", 0.05, 0.93)])["nudity"]  # fmt: skip
    f = pareto.frame(group)
    assert (f.shown_max, f.kept_min) == pytest.approx((0.2, 0.5))  # bars included: esd's 0.55, bi-erasing's 0.15
    assert "original at 100 %, 99 % (outside)" in pareto.svg("nudity", group)
    wide = pareto.frame([*group, pareto.Point("esd full", 0.95, 0.3)])  # control: a method far right widens it
    assert (wide.shown_max, wide.kept_min) == pytest.approx((1.0, 0.3))


def test_svg_and_png_draw_every_point_and_its_bars(tmp_path):
    group = pareto.points([row("original", "nudity", 1.0, 0.8, "-"), row("esd", "nudity", 0.2, 0.6),
                           row("bi-erasing", "nudity", 0.05, 0.78), row("uce", "nudity", 0.3, 0.85)])["nudity"]  # fmt: skip
    svg = pareto.svg("nudity", group)
    # the original is outside the methods' frame: drawn as a line of the title, not a point
    assert svg.count("<circle") == 3 and svg.count('stroke-opacity="0.5"') == 6
    assert svg.count(pareto.FRONT) == 2 * 3 and "3  uce" in svg  # bi-erasing and uce on the front, 2 bars each
    image = Image.open(pareto.png(tmp_path / "nudity.png", "nudity", group))
    assert image.size == (pareto.WIDTH, pareto.HEIGHT)
    f = pareto.frame(group)
    x, y = (round(v) for v in pareto._xy(0.05, 0.78, f))
    assert image.getpixel((x, y)) == (192, 57, 43)  # the front's red at the front point
    x, y = (round(v) for v in pareto._xy(0.2, 0.6, f))
    assert image.getpixel((x, y)) == (36, 113, 163)  # the dominated point is drawn in the other colour
