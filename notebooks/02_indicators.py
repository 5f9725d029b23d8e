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
# # Chỉ tiêu và thay đổi so với năm học trước / Indicators and their change from the previous year
#
# Các chỉ tiêu quốc gia mà biểu đầu năm cung cấp (`schemas/indicators/`: số trường, lớp, học sinh,
# học sinh bình quân một lớp, một giáo viên, tỷ lệ đi học…) của Sở trong năm học này và năm học
# trước, trên cùng một bản đồ đơn vị (của năm nay), cùng ngày số liệu (30/9); view `indicator_values`.
#
# The national indicators the start-of-year forms feed (`schemas/indicators/`: schools, classes,
# pupils, pupils per class and per teacher, enrolment rates…) of the Sở this school year and the
# previous one, on one unit map (this year's) and the same reference date (30/9); view `indicator_values`.

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

# %%
con = analysis.connect(WAREHOUSE)
years = analysis.school_years(con, PERIOD)
school_year = SCHOOL_YEAR or years[-1]
earlier = [y for y in years if y < school_year]
if not earlier:
    raise ValueError(f"không có năm học trước / no school year before {school_year} in {WAREHOUSE}")
previous_year = earlier[-1]
so = analysis.so_code(con, school_year, PERIOD)
change = analysis.indicator_change(con, school_year, previous_year, "so", PERIOD)
display(change[["indicator_id", "name_vi", "name_en", "previous", "current", "change", "change_pct"]])

# %% [markdown]
# ## Số liệu chính / key figure
# Thay đổi số học sinh tiểu học của Sở (chỉ tiêu 2105 = 02-TH-ĐN dòng 37, cột Tổng số) so với năm
# học trước. / Change in the Sở's primary pupils (indicator 2105 = 02-TH-ĐN row 37, total) from the
# previous school year.

# %%
pupils = change.set_index("indicator_id").loc["2105"]
analysis.key_figure(f"Thay đổi học sinh tiểu học của Sở {so}, {previous_year} → {school_year}",
                    f"change in primary pupils of the Sở {so}, {previous_year} → {school_year}",
                    int(pupils["change"]))  # fmt: skip

# %%
# Counts and ratios of the general-education levels; enrolment rates have their own chart below.
rates_ids = change["indicator_id"].str.contains("ger|ner|gpi|1106|1206", regex=True)
ratios = change[~rates_ids].dropna(subset=["change_pct"])
fig, ax = analysis.figure(9, 8)
colours = ["#c0504d" if v < 0 else "#4f81bd" for v in ratios["change_pct"]]
ax.barh(ratios["indicator_id"] + "  " + ratios["name_en"], ratios["change_pct"], color=colours)
ax.axvline(0, color="black", linewidth=0.8)
ax.invert_yaxis()
ax.set_xlabel("Thay đổi so với năm trước (%) / change from the previous year (%)")
ax.set_title(f"Chỉ tiêu của Sở / indicators of the Sở, {previous_year} → {school_year}")
display(Image(filename=analysis.save_chart(fig, CHARTS, "02_indicator_change")))

# %%
rates = change[change["indicator_id"].str.fullmatch(r"(TH|THCS|THPT)\.(ger|ner)")]
fig, ax = analysis.figure(8, 4)
positions = range(len(rates))
ax.bar([p - 0.2 for p in positions], rates["previous"], 0.4, label=previous_year, color="#9bbb59")
ax.bar([p + 0.2 for p in positions], rates["current"], 0.4, label=school_year, color="#4f81bd")
ax.set_xticks(list(positions), list(rates["indicator_id"]))
ax.set_ylabel("%")
ax.set_title("Tỷ lệ đi học chung và đúng tuổi / gross and net enrolment rates")
ax.legend()
display(Image(filename=analysis.save_chart(fig, CHARTS, "02_enrolment_rates")))
