# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Xếp hạng đơn vị theo một chỉ tiêu / Ranking of units on an indicator
#
# Các Phòng GDĐT xếp theo một chỉ tiêu (mặc định: học sinh bình quân một lớp tiểu học, 2106.2), với
# tử số, mẫu số và khoảng cách so với toàn Sở (view `indicator_values`). Không cần bản đồ: một biểu
# đồ thanh có đường của Sở.
#
# The Phòng GDĐT ranked on one indicator (by default: pupils per primary class, 2106.2), with
# numerator, denominator and the gap to the whole Sở (view `indicator_values`). No map needed: a bar
# chart with the Sở's line.

# %%
import os
from pathlib import Path

from IPython.display import Image, display

from pipelines.analyst import analysis
from pipelines.settings import DATA_DIR

# %% tags=["parameters"]
# The warehouse (or a release.duckdb) and the folder for the charts: the demo's by default.
WAREHOUSE = Path(os.environ.get("EDUSTAT_WAREHOUSE", DATA_DIR / "demo" / "warehouse.duckdb"))
CHARTS = Path(os.environ.get("EDUSTAT_CHARTS", WAREHOUSE.parent / "output" / "charts"))
SCHOOL_YEAR = os.environ.get("EDUSTAT_SCHOOL_YEAR")  # None: the latest school year in the warehouse
PERIOD = "DN"
INDICATOR = os.environ.get("EDUSTAT_INDICATOR", "2106.2")
LEVEL = "phong"

# %%
con = analysis.connect(WAREHOUSE)
school_year = SCHOOL_YEAR or analysis.school_years(con, PERIOD)[-1]
name_vi, name_en = analysis.indicator_name(con, INDICATOR)
ranked = analysis.ranking(con, INDICATOR, school_year, LEVEL, PERIOD)
display(ranked)

# %% [markdown]
# ## Số liệu chính / key figure
# Giá trị cao nhất của chỉ tiêu trong các Phòng. / The highest value of the indicator among the Phòng.

# %%
top = ranked.iloc[0]
analysis.key_figure(
    f"{name_vi} cao nhất ({top['unit_name']}), {school_year}",
    f"highest {name_en} (Phòng {top['unit_code']}), {school_year}",
    float(top["value"]),
)

# %%
so_value = float(top["value"] - top["vs_so"])
fig, ax = analysis.figure(9, 0.8 + 0.32 * len(ranked))
labels = ranked["rank"].astype(str) + ". " + ranked["unit_name"].str.replace("Phòng Giáo dục và Đào tạo ", "")
colours = ["#4f81bd" if v >= so_value else "#9bbb59" for v in ranked["value"]]
ax.barh(labels, ranked["value"], color=colours)
ax.axvline(so_value, color="#c0504d", linewidth=1.5, label=f"Sở: {so_value:.2f}")
for i, v in enumerate(ranked["value"]):
    ax.text(v, i, f" {v:.2f}", va="center", fontsize=8)
ax.invert_yaxis()
ax.set_xlabel(f"{name_vi} / {name_en}")
ax.set_title(f"Xếp hạng Phòng / Phòng ranked, {INDICATOR}, {school_year}")
ax.legend(loc="lower right")
display(Image(filename=analysis.save_chart(fig, CHARTS, f"04_ranking_{INDICATOR}")))
