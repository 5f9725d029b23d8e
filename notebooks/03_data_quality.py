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
# # Chất lượng dữ liệu trong kỳ báo cáo / Data quality through the reporting window
#
# Các tệp của trường đến theo từng ngày (mỗi phiên bản là một lần nộp), số trường đã nộp so với số
# trường phải nộp theo danh sách trường, hạn nộp của trường; và các lỗi, cảnh báo của mỗi lượt chạy
# theo quy tắc (`edustat rules`: danh mục quy tắc). Views `submission_log`, `unit_hierarchy`, `validation_problems`.
#
# Schools' files arriving day by day (each version is one submission), schools received against
# those the registry expects, the school deadline; and the errors and warnings of every run by rule
# (`edustat rules`: the rule catalogue). Views `submission_log`, `unit_hierarchy`, `validation_problems`.

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
days = analysis.submissions_per_day(con, school_year, PERIOD)
display(days)

# %% [markdown]
# ## Số liệu chính / key figure
# Số trường nộp đúng hạn: tệp đầu tiên đến trước hoặc trong ngày hạn của trường.
# Schools on time: their first file arrived by the school deadline.

# %%
deadline = days["deadline"].iloc[0]
on_time = int(days[days["day"] <= deadline]["new_schools"].sum())
analysis.key_figure(f"Trường nộp đúng hạn, {school_year}", f"schools on time, {school_year}", on_time)

# %%
fig, ax = analysis.figure(9, 4.5)
ax.bar(days["day"].dt.strftime("%d/%m"), days["files"], color="#4f81bd", label="Tệp đến / files arrived")
ax.set_ylabel("Tệp / files")
share = ax.twinx()
share.plot(days["day"].dt.strftime("%d/%m"), days["share_received"], color="#c0504d", marker="o",
           label="Trường đã nộp (%) / schools received (%)")  # fmt: skip
share.set_ylim(0, 105)
share.set_ylabel("% trường phải nộp / % of schools expected")
due = days.index[days["day"] <= deadline]
if len(due):
    ax.axvline(due[-1] + 0.5, color="black", linestyle="--", linewidth=1)
    ax.text(due[-1] + 0.6, ax.get_ylim()[1] * 0.95, f"hạn / deadline {deadline:%d/%m}", va="top")
ax.set_title(f"Tệp nộp theo ngày / submissions per day, {school_year} {PERIOD}")
fig.legend(loc="upper left", bbox_to_anchor=(0.08, 0.9))
display(Image(filename=analysis.save_chart(fig, CHARTS, "03_submissions_per_day")))

# %%
problems = analysis.problems_per_run(con, PERIOD)
# Runs by school year and order (not by id), so the chart is the same for the same data.
problems["run"] = problems["school_year"] + " · lượt / run " + problems["run_no"].astype(str)
display(problems)

# %%
table = problems.pivot_table(index=["rule_id", "severity"], columns="run", values="problems",
                             aggfunc="sum", fill_value=0)  # fmt: skip
fig, ax = analysis.figure(9, 0.5 + 0.45 * max(len(table), 2))
severities = {"error": "lỗi / error", "warning": "cảnh báo / warning"}
labels = [f"{rule} ({severities.get(sev, sev)})" for rule, sev in table.index]
height = 0.8 / max(len(table.columns), 1)
for k, run in enumerate(table.columns):
    ax.barh([i + k * height for i in range(len(table))], table[run], height, label=run)
ax.set_yticks([i + height * (len(table.columns) - 1) / 2 for i in range(len(table))], labels)
ax.invert_yaxis()
ax.set_xlabel("Vấn đề / problems")
ax.set_title("Vấn đề theo quy tắc / problems by rule")
ax.legend(title="Lượt chạy / run", fontsize=8)
display(Image(filename=analysis.save_chart(fig, CHARTS, "03_problems_by_rule")))
