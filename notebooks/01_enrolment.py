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
# # Học sinh tiểu học theo Phòng, lớp và giới tính / Primary pupils by Phòng, grade and sex
#
# Số học sinh tiểu học đầu năm (biểu 02-TH-ĐN, dòng 40-44: học sinh lớp 1-5; cột Tổng số và Nữ) của
# từng Phòng GDĐT, đọc từ view `form_cells` của kho dữ liệu. Số nam = tổng số − nữ.
#
# Primary pupils at the start of the year (form 02-TH-ĐN, rows 40-44: pupils of grades 1-5; columns
# total and female) of each Phòng GDĐT, read from the warehouse's view `form_cells`. Boys = all − girls.

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
school_year = SCHOOL_YEAR or analysis.school_years(con, PERIOD)[-1]
so = analysis.so_code(con, school_year, PERIOD)
enrolment = analysis.enrolment_by_phong_grade_sex(con, school_year, PERIOD)
display(enrolment.head(10))

# %% [markdown]
# ## Số liệu chính / key figure
# Tổng số học sinh tiểu học của Sở (02-TH-ĐN dòng 37, cột Tổng số) — bằng tổng các lớp 1-5 của
# các Phòng cộng học sinh các trường do Sở quản lý trực tiếp (nếu có).
#
# All primary pupils of the Sở (02-TH-ĐN row 37, column total): the sum of grades 1-5 over the
# Phòng, plus pupils of schools the Sở runs directly (if any).

# %%
spec = analysis.enrolment_cells()  # the form, its total and its grade rows: schemas/analysis.yaml
pupils = analysis.cell_value(con, school_year, spec.form, "so", so, spec.total_row, spec.total_column, PERIOD)
analysis.key_figure(
    f"Học sinh tiểu học của Sở {so}, {school_year}", f"primary pupils of the Sở {so}, {school_year}", pupils
)
assert enrolment["pupils"].sum() <= pupils  # the Phòng hold all pupils but those of schools the Sở runs

# %%
by_phong = enrolment.groupby(["phong_code", "phong_name"], sort=False)[["female", "male"]].sum().reset_index()
fig, ax = analysis.figure(9, 5)
labels = by_phong["phong_name"].str.replace("Phòng Giáo dục và Đào tạo ", "", regex=False)
ax.barh(labels, by_phong["female"], label="Nữ / girls", color="#c0504d")
ax.barh(labels, by_phong["male"], left=by_phong["female"], label="Nam / boys", color="#4f81bd")
ax.invert_yaxis()
ax.set_xlabel("Học sinh / pupils")
ax.set_title(f"Học sinh tiểu học theo Phòng / primary pupils by Phòng, {school_year}")
ax.legend(loc="lower right")
display(Image(filename=analysis.save_chart(fig, CHARTS, "01_enrolment_by_phong")))

# %%
by_grade = enrolment.groupby("grade")[["female", "male"]].sum()
fig, ax = analysis.figure(7, 4)
width = 0.4
ax.bar(by_grade.index - width / 2, by_grade["female"], width, label="Nữ / girls", color="#c0504d")
ax.bar(by_grade.index + width / 2, by_grade["male"], width, label="Nam / boys", color="#4f81bd")
ax.set_xticks(list(by_grade.index), [f"Lớp / grade {g}" for g in by_grade.index])
ax.set_ylabel("Học sinh / pupils")
ax.set_title(f"Học sinh tiểu học theo lớp và giới tính / by grade and sex, {school_year}")
ax.legend()
display(Image(filename=analysis.save_chart(fig, CHARTS, "01_enrolment_by_grade_sex")))

# %%
display(
    by_grade.assign(girls_pct=(100 * by_grade["female"] / (by_grade["female"] + by_grade["male"])).round(1))
)
