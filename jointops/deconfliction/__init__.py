"""Deconfliction in the app: rows onto ``deconflict`` records, indexed candidates, alerts.

The rules live in ``deconflict/``; this package only asks them about the few
rows that can possibly match, found through indexes, never by reading a whole
table:

* an operation: other operations in the grid cells around its place whose start
  lies in the widened window (``ix_events_kind_cell_start``; no operation lasts
  longer than the form allows, which bounds the range), and those few with a
  radius wider than any kind's default, wherever they are;
* a target: other targets that share one of its blocking keys
  (``ix_target_keys_key_target``), not expired.

Items of one agency's one case never conflict. A hit is upserted as one alert
per pair (saving an item again updates that alert, never adds one); an alert
whose items no longer match is closed. Everything runs after the item's own
transaction has committed, in a write transaction of its own, so that saving
is never held up by, nor rolled back with, deconfliction.
"""
