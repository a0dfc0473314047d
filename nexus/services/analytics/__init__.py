"""The admin's analytics over a period (month, quarter, year in Tunis time), one module per
concern: periods, revenue, subscriptions, sessions, credits, aria, assessments; exports turns
each section into CSV rows. Everything is aggregated in SQL and bounded by the period; the
month-additive aggregates (aggregates.py) are read per closed month from their rollups
(rollups.py, refreshed hourly), the current month live."""
