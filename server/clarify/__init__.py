"""Clarifying-question capture and scoring: pure domain logic (no I/O).

``matcher`` proposes which hidden constraint a question is about, ``ledger`` records how and
when each constraint was discovered, ``scoring`` turns a ledger, check results and ratings
into a scorecard.
"""
