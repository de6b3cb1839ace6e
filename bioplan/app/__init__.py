"""The dashboard's UI-agnostic logic (no Streamlit here), one module per job.

This package sits at the top of the layer order: it imports bioplan's public API and nothing in
``bioplan`` imports it. The Streamlit pages in ``dashboards/`` are thin glue over it.

- :mod:`~bioplan.app.fields`: the scenario schema as form metadata (labels, units, bounds);
- :mod:`~bioplan.app.tables`, :mod:`~bioplan.app.editing`: the scenario as editable tables and back;
- :mod:`~bioplan.app.problems`: validation errors by field;
- :mod:`~bioplan.app.files`: uploads and downloads;
- :mod:`~bioplan.app.job`, :mod:`~bioplan.app.solving`: the background solve process;
- :mod:`~bioplan.app.compare`, :mod:`~bioplan.app.overview`: KPIs of one plan and of several;
- :mod:`~bioplan.app.biology`: yield-card settings and unit economics;
- :mod:`~bioplan.app.stored`: runs from the run store.
"""
