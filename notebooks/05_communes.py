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
# # Các xã, phường trên bản đồ 2025 / Communes on the 2025 map
#
# Từ 1/7/2025 không còn cấp huyện: UBND cấp xã quản lý trường mầm non, tiểu học, THCS công lập
# (Nghị định 142/2025). Sổ tay này đọc, cho từng xã, phường, đặc khu của Sở: số trường, lớp, học sinh,
# giáo viên theo cấp học xã quản lý; học sinh bình quân một lớp, một giáo viên và tỷ trọng học sinh
# của xã trong tỉnh (kèm tử số, mẫu số); xếp hạng các xã; và các xã không có trường của một cấp học.
# Số liệu là các ô cấp trường của biểu đầu năm (view `form_cells`) cộng theo xã của mỗi trường trên
# bản đồ 2025 (view `unit_hierarchy`), nên đọc được cả kỳ tổng hợp theo địa giới 2024.
#
# Since 1/7/2025 there are no districts: commune People's Committees manage public preschools,
# primary and lower-secondary schools (Decree 142/2025). This notebook reads, for each commune of
# the Sở: schools, classes, learners and teachers of each level a commune manages; pupils per class,
# per teacher and the commune's share of the province's learners (with numerator and denominator);
# the communes ranked; and the communes with no school of a level. The figures are the school cells
# of the start-of-year forms (view `form_cells`) summed by each school's commune on the 2025 map
# (view `unit_hierarchy`), so a period aggregated on the 2024 boundaries reads per commune too.

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
LEVEL = "primary"  # preschool, primary or lower_secondary (schemas/analysis.yaml, communes)
INDICATOR = "pupils_per_class"  # one of analysis.COMMUNE_INDICATORS

# %%
con = analysis.connect(WAREHOUSE)
school_year = SCHOOL_YEAR or analysis.school_years(con, PERIOD)[-1]
profile = analysis.commune_profile(con, school_year, PERIOD)
served = profile[profile["schools_teaching"] > 0]
communes, with_school = profile["commune_code"].nunique(), served["commune_code"].nunique()
print(f"{communes} xã / communes; {with_school} có trường / with a school")
figures = ["schools", "schools_teaching", "classes", "learners", "teachers"]
display(served.groupby("level", sort=False)[figures].sum())

# %% [markdown]
# ## Học sinh theo xã và cấp học / Learners by commune and level
# Mỗi trường tính một lần (ở biểu của cấp học cao nhất: cột schools); trường nhiều cấp học có lớp
# của cấp học tính thêm ở schools_teaching. Lớp, học sinh, giáo viên tính theo cấp học.
#
# Each school counts once (in the form of its highest level: column schools); a multi-level school
# with classes of the level also counts in schools_teaching. Classes, learners, teachers per level.

# %%
learners = served.pivot_table(index=["commune_code", "commune_name"], columns="level", values="learners",
                              fill_value=0, sort=False)  # fmt: skip
display(learners.sort_values(LEVEL, ascending=False).head(15))

# %% [markdown]
# ## Chỉ tiêu theo xã / Indicators per commune
# Tử số và mẫu số của mỗi chỉ tiêu là các ô ghi trong schemas/analysis.yaml (communes); dòng của Sở
# gồm cả các trường báo cáo thẳng lên Sở. / Each indicator's numerator and denominator are the cells
# named in schemas/analysis.yaml (communes); the Sở's row includes the schools reporting straight to it.

# %%
indicators = analysis.commune_indicators(con, school_year, PERIOD)
display(indicators[(indicators["level"] == LEVEL) & (indicators["unit_level"] == "so")])
ranked = analysis.commune_ranking(con, INDICATOR, school_year, LEVEL, PERIOD)
display(ranked.head(15))

# %%
name_vi, name_en = analysis.COMMUNE_INDICATORS[INDICATOR][:2]
so_value = float(ranked["value"].iloc[0] - ranked["vs_so"].iloc[0])
fig, ax = analysis.figure(9, 0.8 + 0.25 * len(ranked))
labels = ranked["rank"].astype(str) + ". " + ranked["commune_name"]
colours = ["#4f81bd" if v >= so_value else "#9bbb59" for v in ranked["value"]]
ax.barh(labels, ranked["value"], color=colours)
ax.axvline(so_value, color="#c0504d", linewidth=1.5, label=f"Sở: {so_value:.2f}")
ax.invert_yaxis()
ax.tick_params(axis="y", labelsize=7)
ax.set_xlabel(f"{name_vi} / {name_en} ({LEVEL})")
ax.set_title(f"Xếp hạng xã / communes ranked, {school_year}")
ax.legend(loc="lower right")
display(Image(filename=analysis.save_chart(fig, CHARTS, f"05_communes_{LEVEL}_{INDICATOR}")))

# %% [markdown]
# ## Xã không có trường của một cấp học / Communes with no school of a level
# Xã không có trường nào dạy cấp học đó (kể cả trường nhiều cấp học). Trường của xã bị chia tách
# đang chờ rà soát báo cáo thẳng lên Sở (registry.commune_split), nên chưa tính cho xã nào.
#
# Communes with no school teaching the level (multi-level schools included). A school of a split
# commune awaiting review reports straight to the Sở (registry.commune_split), in no commune yet.

# %%
without = analysis.communes_without_school(con, school_year, PERIOD)
display(without.groupby("level", sort=False).size().rename("communes"))
display(without[without["level"] == LEVEL].head(20))
unplaced = analysis.communes_unplaced(con, school_year, PERIOD)  # counted in no commune yet
display(unplaced)

# %% [markdown]
# ## Số liệu chính / key figure
# Số xã, phường, đặc khu của Sở không có trường nào dạy cấp học (mặc định: tiểu học). / The communes
# of the Sở with no school teaching the level (by default: primary).

# %%
missing = without[without["level"] == LEVEL]
analysis.key_figure(
    f"Số xã không có trường ({LEVEL}) trên {communes} xã, {school_year}",
    f"communes with no {LEVEL} school, of {communes}, {school_year}",
    len(missing),
)
