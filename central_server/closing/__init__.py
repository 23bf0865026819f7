"""Month close: the office head (DDO) closes a site's month, its report is frozen and signed, and later changes
to its days become adjustments carried into the next open month.

Modules: month_close (exceptions, close, status, frozen files), adjustments (the change log after a close and
its review), signing (the signature file and its check), files (the report's bytes), schemas (the API bodies).
Nothing is imported here: the day rules import closing.adjustments, and month_close imports the reports, which
import the day rules."""
